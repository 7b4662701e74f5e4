"""SPEC section 6 at the core: idempotency records, reuse, keys in flight, 24 h expiry."""

from __future__ import annotations

import threading

import pytest

from pytest_paysim.core.clock import Clock
from pytest_paysim.core.idempotency import (
    KEY_TTL_SECONDS,
    Answer,
    Claim,
    IdempotencyKeys,
    fingerprint,
    scope_digest,
    validate_key,
)
from pytest_paysim.core.models import IdempotencyRecord
from pytest_paysim.core.store import MemoryStore
from pytest_paysim.errors import IdempotencyKeyInUse, IdempotencyKeyInvalid, IdempotencyKeyReused

SCOPE = "sk_test_scope"
FP = fingerprint("POST", "/v1/payments", {"amount": 100, "currency": "usd"})


@pytest.fixture
def clock() -> Clock:
    clock = Clock()
    clock.freeze(1_800_000_000.0)
    return clock


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def keys(clock: Clock) -> IdempotencyKeys:
    return IdempotencyKeys(clock)


def test_ttl_is_24_hours() -> None:
    assert KEY_TTL_SECONDS == 24 * 3600


def _claim(key: str, fp: str = FP, scope: str = SCOPE) -> Claim:
    return Claim.of(scope=scope, key=key, fingerprint=fp)


def _record(store: MemoryStore, key: str, scope: str = SCOPE) -> IdempotencyRecord | None:
    return store.get_idempotency(scope_digest(scope), key)


def test_begin_finish_replay(keys: IdempotencyKeys, store: MemoryStore) -> None:
    claim = _claim("k1")
    assert keys.begin(store, claim) is None
    keys.store(store, claim, Answer(201, b'{"id":"pay_1"}'))
    keys.release(claim)
    for _ in range(2):
        answer = keys.begin(store, _claim("k1"))
        assert answer is not None
        assert (answer.status, answer.body, answer.replayed) == (201, b'{"id":"pay_1"}', True)
        record = _record(store, "k1")
        assert record is not None
        assert record.fingerprint == FP
        assert record.created_at == 1_800_000_000.0
    # A replay reserves nothing: a third request replays too.
    assert keys.begin(store, _claim("k1")) is not None


def test_reuse_with_another_fingerprint(keys: IdempotencyKeys, store: MemoryStore) -> None:
    claim = _claim("k1")
    keys.begin(store, claim)
    keys.store(store, claim, Answer(201, b"{}"))
    keys.release(claim)
    other = fingerprint("POST", "/v1/payments", {"amount": 101, "currency": "usd"})
    with pytest.raises(IdempotencyKeyReused) as info:
        keys.begin(store, _claim("k1", other))
    error = info.value
    assert (error.status_code, error.type, error.code) == (
        422,
        "idempotency_error",
        "idempotency_key_reused",
    )
    # The stored answer is still there for the original request.
    answer = keys.begin(store, _claim("k1"))
    assert answer is not None
    assert answer.status == 201


def test_duplicate_in_flight(keys: IdempotencyKeys, store: MemoryStore) -> None:
    claim = _claim("k1")
    assert keys.begin(store, claim) is None
    with pytest.raises(IdempotencyKeyInUse) as info:
        keys.begin(store, _claim("k1"))
    assert (info.value.status_code, info.value.type, info.value.code) == (
        409,
        "idempotency_error",
        "idempotency_key_in_use",
    )
    # Another key, or the same key under another API key, is independent.
    assert keys.begin(store, _claim("k2")) is None
    assert keys.begin(store, _claim("k1", scope="sk_test_other")) is None
    # Released without an answer (a validation failure): the key is free again.
    keys.release(claim)
    assert keys.begin(store, _claim("k1")) is None
    assert _record(store, "k1") is None


def test_clear_forgets_reservations(keys: IdempotencyKeys, store: MemoryStore) -> None:
    keys.begin(store, _claim("k1"))
    keys.clear()
    assert keys.begin(store, _claim("k1")) is None


def test_concurrent_duplicates_reserve_once(keys: IdempotencyKeys, store: MemoryStore) -> None:
    barrier = threading.Barrier(16)
    results: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait(timeout=5)
        try:
            outcome = "reserved" if keys.begin(store, _claim("k")) is None else "replayed"
        except IdempotencyKeyInUse:
            outcome = "in_use"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(results) == ["in_use"] * 15 + ["reserved"]


def test_expiry_after_24_hours(clock: Clock, keys: IdempotencyKeys, store: MemoryStore) -> None:
    claim = _claim("k1")
    keys.begin(store, claim)
    keys.store(store, claim, Answer(200, b"{}"))
    keys.release(claim)
    clock.advance(KEY_TTL_SECONDS - 1)
    assert keys.begin(store, _claim("k1")) is not None
    other = fingerprint("POST", "/v1/payments/pay_1/refund", {})
    with pytest.raises(IdempotencyKeyReused):
        keys.begin(store, _claim("k1", other))
    clock.advance(1)
    # Expired: forgotten, so the key may serve a new request (even a different one).
    second = _claim("k1", other)
    assert keys.begin(store, second) is None
    assert _record(store, "k1") is None
    keys.store(store, second, Answer(201, b"{}"))
    keys.release(second)
    assert keys.begin(store, _claim("k1", other)) is not None
    record = _record(store, "k1")
    assert record is not None
    assert record.created_at == clock.now()


def test_expiry_with_unfrozen_clock(store: MemoryStore) -> None:
    clock = Clock()
    keys = IdempotencyKeys(clock)
    claim = _claim("k1")
    keys.begin(store, claim)
    keys.store(store, claim, Answer(200, b"{}"))
    keys.release(claim)
    clock.advance(KEY_TTL_SECONDS + 1)
    assert keys.begin(store, _claim("k1")) is None


def test_fingerprint_ignores_key_order_only() -> None:
    a = fingerprint(
        "POST", "/v1/payments", {"amount": 1, "currency": "usd", "metadata": {"a": "1", "b": "2"}}
    )
    b = fingerprint(
        "POST", "/v1/payments", {"metadata": {"b": "2", "a": "1"}, "currency": "usd", "amount": 1}
    )
    assert a == b
    assert a != fingerprint("POST", "/v1/payments/x", {"amount": 1, "currency": "usd"})
    base = fingerprint("POST", "/v1/payments", {"amount": 1})
    assert base != fingerprint("PUT", "/v1/payments", {"amount": 1})
    assert base != fingerprint("POST", "/v1/payments", {"amount": 2})
    assert base != fingerprint("POST", "/v1/payments", {"amount": "1"})
    assert base != fingerprint("POST", "/v1/payments", {"amount": 1, "description": None})
    assert fingerprint("POST", "/v1/x", {}) != fingerprint("POST", "/v1/x", [])


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("a", id="one-char"),
        pytest.param("x" * 255, id="255-chars"),
        pytest.param(" !~", id="printable-edges"),
        pytest.param("6f1b8e0c-4a0b-4c8e-9b1a-2a7e5e6c9d10", id="uuid"),
    ],
)
def test_validate_key_accepts(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("x" * 256, id="256-chars"),
        pytest.param("abc\tdef", id="tab"),
        pytest.param("abc\n", id="newline"),
        pytest.param("abc\x7f", id="del"),
        pytest.param("abc\x00", id="nul"),
        pytest.param("clé", id="non-ascii"),
    ],
)
def test_validate_key_rejects(key: str) -> None:
    with pytest.raises(IdempotencyKeyInvalid) as info:
        validate_key(key)
    error = info.value
    assert (error.status_code, error.code, error.param) == (
        400,
        "idempotency_key_invalid",
        "Idempotency-Key",
    )

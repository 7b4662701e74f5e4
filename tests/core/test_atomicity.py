"""All or nothing: an operation that raises half-way leaves no trace, in either store.

Each test makes a store method fail on purpose in the middle of an operation (after the
operation already changed something), then checks that the store, the seeded generators,
the forced outcomes and the webhook log are exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_paysim.core.idempotency import Answer, Claim
from pytest_paysim.core.simulator import Simulator, SimulatorConfig
from pytest_paysim.core.sqlite_store import SqliteStore
from pytest_paysim.core.store import MemoryStore, Store


class Planted(Exception):
    """The failure a test plants inside an operation."""


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "p.db")
    yield made
    made.close()


@pytest.fixture
def sim(store: Store) -> Simulator:
    simulator = Simulator(SimulatorConfig(seed=99), store=store)
    simulator.clock.freeze(1_772_366_400.0)
    return simulator


def everything(sim: Simulator) -> dict[str, Any]:
    payments, _ = sim.payments(limit=1000)
    events, _ = sim.events(limit=1000)
    return {
        "payments": [payment.to_dict() for payment in payments],
        "events": [event.to_dict() for event in events],
        "deliveries": [attempt.to_dict() for attempt in sim.deliveries()],
        "pending": [attempt.to_dict() for attempt in sim.pending_deliveries()],
        "endpoints": [endpoint.to_dict(with_secret=True) for endpoint in sim.endpoints()],
        "outcomes": sim.outcomes(),
        "log": [attempt.id for attempt in sim.attempts()],
        "secret": sim.webhook_secret,
    }


def fail_on(monkeypatch: pytest.MonkeyPatch, store: Store, method: str, *, after: int = 0) -> None:
    """Make ``store.<method>`` raise on its call number ``after`` + 1 (the earlier ones run)."""
    real: Callable[..., Any] = getattr(store, method)
    calls = {"n": 0}

    def planted(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > after:
            raise Planted(f"{method} failed on purpose")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, method, planted)


def test_a_failing_operation_leaves_no_trace(
    sim: Simulator, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.create_endpoint(url="http://127.0.0.1:9/hook", enabled_events=["*"])
    paid = sim.create_payment(amount=1000, currency="usd", capture_method="manual")
    sim.pay(paid.id, outcome="succeed")
    fresh = sim.create_payment(amount=700, currency="usd")
    sim.force_outcome("fail", payment_id=fresh.id, times=1)
    sim.force_refund_outcome("fail", times=1)
    cases: dict[str, Callable[[], object]] = {
        "create": lambda: sim.create_payment(amount=5, currency="eur"),
        "pay": lambda: sim.pay(fresh.id, outcome="succeed"),
        "capture": lambda: sim.capture(paid.id, amount=400),
        "cancel": lambda: sim.cancel(fresh.id),
        "refund": lambda: sim.refund(paid.id),
        "auto": lambda: sim.create_payment(amount=5, currency="eur", simulate="auto"),
    }
    sim.capture(paid.id, amount=900)  # refundable now; capture below fails on a fresh one
    manual = sim.create_payment(amount=300, currency="usd", capture_method="manual")
    sim.pay(manual.id, outcome="succeed")
    cases["capture"] = lambda: sim.capture(manual.id, amount=100)
    for name, method in [
        ("create", "add_event"),
        ("pay", "save_delivery"),
        ("refund", "add_event"),
        ("cancel", "add_event"),
        ("capture", "save_delivery"),
        ("auto", "save_payment"),
    ]:
        before = everything(sim)
        with monkeypatch.context() as patch:
            fail_on(patch, store, method, after=1 if name == "auto" else 0)
            with pytest.raises(Planted):
                cases[name]()
        assert everything(sim) == before, name
    # The generators were put back too: the next id is the one a clean run draws.
    twin = Simulator(SimulatorConfig(seed=99))
    twin.clock.freeze(1_772_366_400.0)
    twin.create_endpoint(url="http://127.0.0.1:9/hook", enabled_events=["*"])
    twin_paid = twin.create_payment(amount=1000, currency="usd", capture_method="manual")
    twin.pay(twin_paid.id, outcome="succeed")
    twin.create_payment(amount=700, currency="usd")
    twin.capture(twin_paid.id, amount=900)
    twin_manual = twin.create_payment(amount=300, currency="usd", capture_method="manual")
    twin.pay(twin_manual.id, outcome="succeed")
    assert (
        sim.create_payment(amount=1, currency="usd").id
        == twin.create_payment(amount=1, currency="usd").id
    )


def test_forced_outcomes_are_used_only_by_attempts_that_happened(
    sim: Simulator, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment = sim.create_payment(amount=1000, currency="usd")
    sim.force_outcome("fail", decline_code="lost_card", times=1)
    with monkeypatch.context() as patch:
        fail_on(patch, store, "add_event")
        with pytest.raises(Planted):
            sim.pay(payment.id, outcome="succeed")
    assert sim.outcomes()["outcomes"][0]["times"] == 1
    failed = sim.pay(payment.id, outcome="succeed")
    assert (failed.status, failed.decline_code) == ("failed", "lost_card")
    assert sim.outcomes()["outcomes"] == []


def test_a_rotation_that_fails_keeps_the_secret(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = sim.webhook_secret

    def broken(*args: Any, **kwargs: Any) -> str:
        raise Planted("rotation failed on purpose")

    with monkeypatch.context() as patch:
        patch.setattr(type(sim._secrets), "rotate", broken)
        with pytest.raises(Planted):
            sim.rotate_webhook_secret()
    assert sim.webhook_secret == secret
    assert sim.rotate_webhook_secret() != secret


def test_an_idempotent_request_that_fails_stores_no_answer_and_frees_its_key(
    sim: Simulator, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    claim = Claim.of(scope="sk_test_x", key="order-1", fingerprint="f")

    def create() -> Answer:
        payment = sim.create_payment(amount=100, currency="usd")
        return Answer(201, payment.id.encode())

    with monkeypatch.context() as patch:
        fail_on(patch, store, "save_idempotency")
        with pytest.raises(Planted):
            sim.execute(create, claim=claim)
    assert sim.payments()[0] == []
    answer = sim.execute(create, claim=claim)
    assert answer.status == 201
    assert not answer.replayed
    replay = sim.execute(create, claim=claim)
    assert replay.replayed
    assert replay.body == answer.body
    assert len(sim.payments()[0]) == 1


def test_the_idempotency_record_keeps_a_digest_of_the_scope(sim: Simulator, store: Store) -> None:
    claim = Claim.of(scope="sk_test_secretvalue", key="k", fingerprint="f")
    sim.execute(lambda: Answer(200, b"{}"), claim=claim)
    assert store.get_idempotency(claim.scope, "k") is not None
    assert "sk_test_secretvalue" not in claim.scope


def test_a_rolled_back_create_leaves_no_empty_containers(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStore()
    sim = Simulator(SimulatorConfig(seed=4), store=store)
    before = (dict(store._events_by_payment), dict(store._deliveries_by_event))
    with monkeypatch.context() as patch:
        fail_on(patch, store, "save_delivery")
        with pytest.raises(Planted):
            sim.create_payment(amount=5, currency="usd")
    assert (store._events_by_payment, store._deliveries_by_event) == before

"""Idempotency keys: replay a stored answer, refuse reuse, refuse a duplicate in flight.

The simulator owns this table: a front end hands :meth:`Simulator.execute
<pytest_paysim.core.simulator.Simulator.execute>` a :class:`Claim` (who asks, the key, and
what makes two requests the same) and gets an :class:`Answer` back, executed or replayed. A
key is reserved while its first request executes (a duplicate then gets 409
``idempotency_key_in_use``), and its answer is stored in the same store transaction as the
operation's own changes. Keys live 24 hours on the simulator clock. Records keep a digest of
the scope (the API key), never the key itself::

    claim = Claim.of(scope=api_key, key="order-42", fingerprint=fingerprint("POST", path, body))
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from pytest_paysim.core.clock import Clock
from pytest_paysim.core.models import IdempotencyRecord
from pytest_paysim.core.store import Store
from pytest_paysim.errors import IdempotencyKeyInUse, IdempotencyKeyInvalid, IdempotencyKeyReused

__all__ = [
    "KEY_TTL_SECONDS",
    "Answer",
    "Claim",
    "IdempotencyKeys",
    "fingerprint",
    "scope_digest",
    "validate_key",
]

KEY_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class Answer:
    """What an operation answered: a status and the body bytes (``replayed`` when stored)."""

    status: int
    body: bytes
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Claim:
    """An idempotent request: the digest of who asks, the key, and the request's fingerprint."""

    scope: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, *, scope: str, key: str, fingerprint: str) -> Claim:
        """A claim for ``key`` (checked: 400 ``idempotency_key_invalid``) made by ``scope``."""
        return cls(scope_digest(scope), validate_key(key), fingerprint)


def validate_key(key: str) -> str:
    """Raise 400 ``idempotency_key_invalid`` unless 1 to 255 printable ASCII characters.

    A comma is refused too: HTTP joins repeated headers with commas, so a key holding one is
    (or cannot be told from) two ``Idempotency-Key`` headers.
    """
    if not 1 <= len(key) <= 255 or not all(" " <= char <= "~" for char in key):
        raise IdempotencyKeyInvalid(
            "`Idempotency-Key` must be 1 to 255 printable ASCII characters, such as a UUID.",
            param="Idempotency-Key",
        )
    if "," in key:
        raise IdempotencyKeyInvalid(
            "Send one `Idempotency-Key` header, without commas; repeated headers arrive "
            "joined by commas and cannot name one request.",
            param="Idempotency-Key",
        )
    return key


def fingerprint(method: str, path: str, body: Any) -> str:
    """What makes two requests "the same": method, path and the parsed body (key order aside)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{method} {path} {canonical}".encode()).hexdigest()[:32]


def scope_digest(scope: str) -> str:
    """A digest that tells scopes apart without keeping them (the scope is an API key)."""
    return hashlib.sha256(scope.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class IdempotencyKeys:
    """Reservations of keys in flight, over the records a store keeps (the simulator's own)."""

    def __init__(self, clock: Clock, ttl: float = KEY_TTL_SECONDS) -> None:
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._in_flight: dict[tuple[str, str], Claim] = {}
        """Reserved keys, each with the claim that holds it (only that claim releases it)."""

    def begin(self, store: Store, claim: Claim) -> Answer | None:
        """The stored answer to replay, or None after reserving the key for this request."""
        with self._lock:
            record = store.get_idempotency(claim.scope, claim.key)
            if record is not None and self._clock.now() - record.created_at >= self._ttl:
                store.delete_idempotency(claim.scope, claim.key)
                record = None
            if record is not None:
                if record.fingerprint != claim.fingerprint:
                    raise IdempotencyKeyReused(
                        f"Idempotency-Key {claim.key!r} was used for a different request "
                        "(method, path or body); use a new key for a new request.",
                        param="Idempotency-Key",
                    )
                return Answer(record.status, record.body, replayed=True)
            if (claim.scope, claim.key) in self._in_flight:
                raise IdempotencyKeyInUse(
                    f"A request with Idempotency-Key {claim.key!r} is still being processed; "
                    "retry after it has finished.",
                    param="Idempotency-Key",
                )
            self._in_flight[(claim.scope, claim.key)] = claim
            return None

    def store(self, store: Store, claim: Claim, answer: Answer) -> None:
        """Keep ``answer`` under the claim (call inside the operation's transaction)."""
        store.save_idempotency(
            IdempotencyRecord(
                claim.scope,
                claim.key,
                claim.fingerprint,
                answer.status,
                answer.body,
                self._clock.now(),
            )
        )

    def release(self, claim: Claim) -> None:
        """Release the reservation (the answer is stored, or nothing is)."""
        with self._lock:
            if self._in_flight.get((claim.scope, claim.key)) is claim:
                del self._in_flight[(claim.scope, claim.key)]

    def clear(self) -> None:
        """Forget every reservation (records live in the store)."""
        with self._lock:
            self._in_flight.clear()

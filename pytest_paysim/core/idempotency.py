"""Idempotency keys: replay a stored answer, refuse reuse, refuse a duplicate in flight.

A key is reserved while its first request executes (a duplicate then gets 409
``idempotency_key_in_use``), and its answer is stored in the same store transaction as the
operation's own changes. Keys live 24 hours on the simulator clock::

    record = keys.begin(store, scope, key, fingerprint)   # None: go ahead and execute
    ...
    keys.finish(store, scope, key, fingerprint, status, body)
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from pytest_paysim.core.clock import Clock
from pytest_paysim.core.compact import pack
from pytest_paysim.core.models import IdempotencyRecord
from pytest_paysim.core.store import Store
from pytest_paysim.errors import IdempotencyKeyInUse, IdempotencyKeyInvalid, IdempotencyKeyReused

__all__ = ["KEY_TTL_SECONDS", "IdempotencyKeys", "fingerprint", "validate_key"]

KEY_TTL_SECONDS = 24 * 3600


def validate_key(key: str) -> str:
    """Raise 400 ``idempotency_key_invalid`` unless 1 to 255 printable ASCII characters."""
    if not 1 <= len(key) <= 255 or not all(" " <= char <= "~" for char in key):
        raise IdempotencyKeyInvalid(
            "`Idempotency-Key` must be 1 to 255 printable ASCII characters, such as a UUID.",
            param="Idempotency-Key",
        )
    return key


def fingerprint(method: str, path: str, body: Any) -> str:
    """What makes two requests "the same": method, path and the parsed body (key order aside)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    # 128 bits of the digest tell requests apart as well as 256 and cost half the memory.
    return hashlib.sha256(f"{method} {path} {canonical}".encode()).hexdigest()[:32]


class IdempotencyKeys:
    """Reservations of keys in flight, over the records a store keeps."""

    def __init__(self, clock: Clock, ttl: float = KEY_TTL_SECONDS) -> None:
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._in_flight: set[tuple[str, str]] = set()

    def begin(
        self, store: Store, scope: str, key: str, request_fingerprint: str
    ) -> IdempotencyRecord | None:
        """The stored answer to replay, or None after reserving the key for this request."""
        with self._lock:
            record = store.get_idempotency(scope, key)
            if record is not None and self._clock.now() - record.created_at >= self._ttl:
                store.delete_idempotency(scope, key)
                record = None
            if record is not None:
                if record.fingerprint != request_fingerprint:
                    raise IdempotencyKeyReused(
                        f"Idempotency-Key {key!r} was used for a different request (method, "
                        "path or body); use a new key for a new request.",
                        param="Idempotency-Key",
                    )
                return record
            if (scope, key) in self._in_flight:
                raise IdempotencyKeyInUse(
                    f"A request with Idempotency-Key {key!r} is still being processed; "
                    "retry after it has finished.",
                    param="Idempotency-Key",
                )
            self._in_flight.add((scope, key))
            return None

    def finish(
        self,
        store: Store,
        scope: str,
        key: str,
        request_fingerprint: str,
        status: int,
        body: bytes,
    ) -> None:
        """Store the answer (call inside the operation's transaction) and release the key."""
        store.save_idempotency(
            IdempotencyRecord(
                scope, key, request_fingerprint, status, pack(body), self._clock.now()
            )
        )
        self.release(scope, key)

    def release(self, scope: str, key: str) -> None:
        """Release a reservation without storing an answer."""
        with self._lock:
            self._in_flight.discard((scope, key))

    def clear(self) -> None:
        """Forget every reservation (records live in the store)."""
        with self._lock:
            self._in_flight.clear()

"""Where the simulator keeps its records: the store interface and the in-memory store.

The simulator calls a store only inside ``store.transaction()`` and under its own lock, so
a store needs no locking of its own; a store that persists (``sqlite_store``) makes each
transaction atomic. Lists are newest first and cost O(limit), not O(stored records)::

    store = MemoryStore()
    with store.transaction():
        store.save_payment(payment)
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

from pytest_paysim.core.models import (
    DeliveryAttempt,
    Event,
    IdempotencyRecord,
    Payment,
    Refund,
    WebhookEndpoint,
)
from pytest_paysim.errors import unknown_starting_after

__all__ = ["MemoryStore", "Page", "Store"]

Page = tuple[list[Any], bool]


class Store(Protocol):
    """What the simulator needs from a store."""

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Group the changes made inside into one atomic unit."""

    def clear(self) -> None:
        """Remove every record (settings stay)."""

    def close(self) -> None:
        """Release what the store holds open."""

    def get_payment(self, payment_id: str) -> Payment | None: ...
    def save_payment(self, payment: Payment) -> None: ...
    def list_payments(
        self, *, limit: int, starting_after: str | None, status: str | None
    ) -> tuple[list[Payment], bool]: ...
    def count_payments(self) -> int: ...

    def get_refund(self, refund_id: str) -> Refund | None: ...
    def save_refund(self, refund: Refund) -> None: ...

    def get_event(self, event_id: str) -> Event | None: ...
    def add_event(self, event: Event) -> None: ...
    def list_events(
        self,
        *,
        limit: int,
        starting_after: str | None,
        type: str | None,
        payment_id: str | None,
    ) -> tuple[list[Event], bool]: ...
    def events_of(self, payment_id: str) -> list[Event]: ...

    def get_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None: ...
    def save_idempotency(self, record: IdempotencyRecord) -> None: ...
    def delete_idempotency(self, scope: str, key: str) -> None: ...

    def get_endpoint(self, endpoint_id: str) -> WebhookEndpoint | None: ...
    def save_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    def delete_endpoint(self, endpoint_id: str) -> None: ...
    def list_endpoints(self) -> list[WebhookEndpoint]: ...

    def save_delivery(self, attempt: DeliveryAttempt) -> None: ...
    def list_deliveries(
        self,
        *,
        event_id: str | None,
        type: str | None,
        payment_id: str | None,
        limit: int | None = None,
    ) -> list[DeliveryAttempt]:
        """Attempts made (not the planned ones), newest first."""

    def pending_deliveries(self) -> list[DeliveryAttempt]: ...

    def get_setting(self, name: str) -> str | None: ...
    def set_setting(self, name: str, value: str) -> None: ...


class _Index:
    """Records in insertion order with O(1) lookup and newest-first pages."""

    __slots__ = ("by_id", "order", "position")

    def __init__(self) -> None:
        self.by_id: dict[str, object] = {}
        self.order: list[str] = []
        self.position: dict[str, int] = {}

    def add(self, record_id: str, record: object) -> None:
        if record_id not in self.by_id:
            self.position[record_id] = len(self.order)
            self.order.append(record_id)
        self.by_id[record_id] = record

    def page(
        self, limit: int, starting_after: str | None, keep: object = None
    ) -> tuple[list[object], bool]:
        if starting_after is None:
            index = len(self.order) - 1
        else:
            position = self.position.get(starting_after)
            if position is None:
                raise unknown_starting_after(starting_after)
            index = position - 1
        result: list[object] = []
        by_id, order = self.by_id, self.order
        while index >= 0:
            record = by_id[order[index]]
            index -= 1
            if keep is not None and not keep(record):  # type: ignore[operator]
                continue
            if len(result) == limit:
                return result, True
            result.append(record)
        return result, False


_NO_TRANSACTION: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
"""Memory changes need no grouping: the simulator's lock already makes them atomic."""


class MemoryStore:
    """The default store: dicts in memory, rebuilt on ``clear``."""

    def __init__(self) -> None:
        self._settings: dict[str, str] = {}
        self.clear()

    def clear(self) -> None:
        self._payments = _Index()
        self._refunds: dict[str, Refund] = {}
        self._events = _Index()
        self._events_by_payment: dict[str, list[Event]] = {}
        self._idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self._endpoints: dict[str, WebhookEndpoint] = {}
        self._deliveries: dict[str, DeliveryAttempt] = {}
        self._deliveries_by_event: dict[str, list[DeliveryAttempt]] = {}

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        return _NO_TRANSACTION

    def close(self) -> None:
        pass

    def get_payment(self, payment_id: str) -> Payment | None:
        return self._payments.by_id.get(payment_id)  # type: ignore[return-value]

    def save_payment(self, payment: Payment) -> None:
        self._payments.add(payment.id, payment)

    def list_payments(
        self, *, limit: int, starting_after: str | None, status: str | None
    ) -> tuple[list[Payment], bool]:
        keep = None if status is None else (lambda payment: payment.status == status)
        return self._payments.page(limit, starting_after, keep)  # type: ignore[return-value]

    def count_payments(self) -> int:
        return len(self._payments.order)

    def get_refund(self, refund_id: str) -> Refund | None:
        return self._refunds.get(refund_id)

    def save_refund(self, refund: Refund) -> None:
        self._refunds[refund.id] = refund

    def get_event(self, event_id: str) -> Event | None:
        return self._events.by_id.get(event_id)  # type: ignore[return-value]

    def add_event(self, event: Event) -> None:
        self._events.add(event.id, event)
        self._events_by_payment.setdefault(event.payment_id, []).append(event)

    def list_events(
        self,
        *,
        limit: int,
        starting_after: str | None,
        type: str | None,
        payment_id: str | None,
    ) -> tuple[list[Event], bool]:
        if type is None and payment_id is None:
            keep = None
        else:

            def keep(event: Event) -> bool:
                return (type is None or event.type == type) and (
                    payment_id is None or event.payment_id == payment_id
                )

        return self._events.page(limit, starting_after, keep)  # type: ignore[return-value]

    def events_of(self, payment_id: str) -> list[Event]:
        return list(self._events_by_payment.get(payment_id, ()))

    def get_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self._idempotency.get((scope, key))

    def save_idempotency(self, record: IdempotencyRecord) -> None:
        self._idempotency[(record.scope, record.key)] = record

    def delete_idempotency(self, scope: str, key: str) -> None:
        self._idempotency.pop((scope, key), None)

    def get_endpoint(self, endpoint_id: str) -> WebhookEndpoint | None:
        return self._endpoints.get(endpoint_id)

    def save_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._endpoints[endpoint.id] = endpoint

    def delete_endpoint(self, endpoint_id: str) -> None:
        self._endpoints.pop(endpoint_id, None)

    def list_endpoints(self) -> list[WebhookEndpoint]:
        return list(self._endpoints.values())

    def save_delivery(self, attempt: DeliveryAttempt) -> None:
        if attempt.id not in self._deliveries:
            self._deliveries[attempt.id] = attempt
            self._deliveries_by_event.setdefault(attempt.event_id, []).append(attempt)

    def list_deliveries(
        self,
        *,
        event_id: str | None,
        type: str | None,
        payment_id: str | None,
        limit: int | None = None,
    ) -> list[DeliveryAttempt]:
        if event_id is not None:
            source: list[DeliveryAttempt] = self._deliveries_by_event.get(event_id, [])
        else:
            source = list(self._deliveries.values())
        result = []
        for attempt in reversed(source):
            if attempt.pending:
                continue
            if type is not None and attempt.type != type:
                continue
            if payment_id is not None and attempt.payment_id != payment_id:
                continue
            result.append(attempt)
            if limit is not None and len(result) >= limit:
                break
        return result

    def pending_deliveries(self) -> list[DeliveryAttempt]:
        return [attempt for attempt in self._deliveries.values() if attempt.pending]

    def get_setting(self, name: str) -> str | None:
        return self._settings.get(name)

    def set_setting(self, name: str, value: str) -> None:
        self._settings[name] = value

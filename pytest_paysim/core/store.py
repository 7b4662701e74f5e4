"""Where the simulator keeps its records: the store interface and the in-memory store.

The simulator calls a store under its own lock, and every change inside ``transaction()``:
all the changes of one operation are kept together, or, when the operation raises, none of
them. Both stores give that guarantee; ``tests/persistence/test_store_contract.py`` checks it
for each. Stored records are never changed in place (see ``models``): an operation reads a
record, changes a copy and saves the copy. Lists are newest first and cost O(limit), not
O(stored records)::

    store = MemoryStore()
    with store.transaction():
        store.save_payment(payment)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

from pytest_paysim.core.models import (
    Charge,
    Customer,
    DeliveryAttempt,
    Event,
    IdempotencyRecord,
    Payment,
    PaymentMethod,
    Refund,
    WebhookEndpoint,
)
from pytest_paysim.errors import unknown_starting_after

__all__ = ["MemoryStore", "Store"]


class Store(Protocol):
    """What the simulator needs from a store."""

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Group the changes made inside into one unit: all kept, or all undone on an error.

        Nested calls join the outer transaction.
        """

    def clear(self) -> None:
        """Remove every record (settings stay)."""

    def close(self) -> None:
        """Release what the store holds open."""

    def get_payment(self, payment_id: str) -> Payment | None: ...
    def save_payment(self, payment: Payment) -> None: ...
    def list_payments(
        self,
        *,
        limit: int,
        starting_after: str | None,
        status: str | None,
        dialect: str | None = None,
    ) -> tuple[list[Payment], bool]: ...
    def count_payments(self) -> int: ...

    def get_refund(self, refund_id: str) -> Refund | None: ...
    def save_refund(self, refund: Refund) -> None: ...
    def list_refunds(
        self,
        *,
        limit: int,
        starting_after: str | None,
        payment_id: str | None,
        charge_id: str | None,
        dialect: str | None = None,
    ) -> tuple[list[Refund], bool]:
        """Refunds (of the payments of ``dialect``, if given), newest first."""

    def get_charge(self, charge_id: str) -> Charge | None: ...
    def save_charge(self, charge: Charge) -> None: ...

    def get_customer(self, customer_id: str) -> Customer | None: ...
    def save_customer(self, customer: Customer) -> None: ...
    def list_customers(
        self,
        *,
        limit: int,
        starting_after: str | None,
        email: str | None,
        dialect: str | None = None,
    ) -> tuple[list[Customer], bool]:
        """Customers not deleted, newest first."""

    def get_payment_method(self, payment_method_id: str) -> PaymentMethod | None: ...
    def save_payment_method(self, payment_method: PaymentMethod) -> None: ...
    def list_payment_methods(
        self, *, limit: int, starting_after: str | None, customer: str | None
    ) -> tuple[list[PaymentMethod], bool]:
        """Payment methods (attached to ``customer``, if given), newest first."""

    def get_event(self, event_id: str) -> Event | None: ...
    def add_event(self, event: Event) -> None: ...
    def list_events(
        self,
        *,
        limit: int,
        starting_after: str | None,
        type: str | None,
        payment_id: str | None,
        dialect: str | None = None,
    ) -> tuple[list[Event], bool]: ...
    def events_of(self, payment_id: str) -> list[Event]: ...

    def get_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None: ...
    def save_idempotency(self, record: IdempotencyRecord) -> None: ...
    def delete_idempotency(self, scope: str, key: str) -> None: ...

    def get_endpoint(self, endpoint_id: str) -> WebhookEndpoint | None: ...
    def save_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    def delete_endpoint(self, endpoint_id: str) -> None: ...
    def list_endpoints(self) -> list[WebhookEndpoint]: ...

    def save_delivery(self, attempt: DeliveryAttempt) -> None:
        """Insert, or replace the stored attempt with the same id."""

    def list_deliveries(
        self,
        *,
        event_id: str | None,
        type: str | None,
        payment_id: str | None,
        limit: int | None = None,
    ) -> list[DeliveryAttempt]:
        """Attempts made (not the planned ones), newest first."""

    def pending_deliveries(self) -> list[DeliveryAttempt]:
        """The outbox: planned attempts not made yet, oldest first."""

    def get_setting(self, name: str) -> str | None: ...
    def set_setting(self, name: str, value: str) -> None: ...


_T = TypeVar("_T")
_C = TypeVar("_C", list[Event], dict[str, DeliveryAttempt])
_MISSING = object()


class _Index(dict[str, _T]):
    """Records by id, in insertion order, with newest-first pages.

    A ``dict`` keeps insertion order; ``order`` adds positions so that ``starting_after``
    finds its place at once. Removing a record is rare (undoing an insert), and always of the
    newest one.
    """

    __slots__ = ("order", "position")

    def __init__(self) -> None:
        super().__init__()
        self.order: list[str] = []
        self.position: dict[str, int] = {}

    def put(self, record_id: str, record: _T) -> None:
        if record_id not in self:
            self.position[record_id] = len(self.order)
            self.order.append(record_id)
        self[record_id] = record

    def remove(self, record_id: str) -> None:
        if self.pop(record_id, _MISSING) is _MISSING:
            return
        position = self.position.pop(record_id)
        del self.order[position]
        for later in self.order[position:]:
            self.position[later] -= 1

    def page(
        self, limit: int, starting_after: str | None, keep: Callable[[_T], bool] | None = None
    ) -> tuple[list[_T], bool]:
        if starting_after is None:
            index = len(self.order) - 1
        else:
            position = self.position.get(starting_after)
            if position is None:
                raise unknown_starting_after(starting_after)
            index = position - 1
        result: list[_T] = []
        order = self.order
        while index >= 0:
            record = self[order[index]]
            index -= 1
            if keep is not None and not keep(record):
                continue
            if len(result) == limit:
                return result, True
            result.append(record)
        return result, False


class MemoryStore:
    """The default store: dicts in memory, rebuilt on ``clear``.

    A transaction keeps an undo log: each change records how to take it back, and an error
    inside the transaction runs the log backwards. Records are never changed in place, so
    putting the old object back restores the old record whole.
    """

    def __init__(self) -> None:
        self._settings: dict[str, str] = {}
        self._undo: list[Callable[[], object]] | None = None
        self._reset_records()

    def _reset_records(self) -> None:
        self._payments: _Index[Payment] = _Index()
        self._refunds: _Index[Refund] = _Index()
        self._charges: dict[str, Charge] = {}
        self._customers: _Index[Customer] = _Index()
        self._payment_methods: _Index[PaymentMethod] = _Index()
        self._events: _Index[Event] = _Index()
        self._events_by_payment: dict[str, list[Event]] = {}
        self._idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self._endpoints: dict[str, WebhookEndpoint] = {}
        self._deliveries: dict[str, DeliveryAttempt] = {}
        self._deliveries_by_event: dict[str, dict[str, DeliveryAttempt]] = {}
        self._pending: dict[str, DeliveryAttempt] = {}

    # -- transactions ------------------------------------------------------------------------

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        return self._transaction()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._undo is not None:
            yield  # joins the outer transaction
            return
        undo: list[Callable[[], object]] = []
        self._undo = undo
        try:
            yield
        except BaseException:
            for step in reversed(undo):
                step()
            raise
        finally:
            self._undo = None

    def _remember(self, step: Callable[[], object]) -> None:
        if self._undo is not None:
            self._undo.append(step)

    def _container(self, table: dict[str, _C], key: str, make: Callable[[], _C]) -> _C:
        """``table.setdefault(key, make())``; a container made here goes again on rollback."""
        found = table.get(key)
        if found is None:
            found = table[key] = make()
            self._remember(lambda: table.pop(key, None))
        return found

    def clear(self) -> None:
        old = self.__dict__.copy()
        self._reset_records()
        self._remember(lambda: self.__dict__.update(old))

    def close(self) -> None:
        pass

    # -- payments and refunds ----------------------------------------------------------------

    def get_payment(self, payment_id: str) -> Payment | None:
        return self._payments.get(payment_id)

    def save_payment(self, payment: Payment) -> None:
        self._put(self._payments, payment.id, payment)

    def _put(self, index: _Index[_T], record_id: str, record: _T) -> None:
        if record_id in index:
            old = index[record_id]
            self._remember(lambda: index.put(record_id, old))
        else:
            self._remember(lambda: index.remove(record_id))
        index.put(record_id, record)

    def list_payments(
        self,
        *,
        limit: int,
        starting_after: str | None,
        status: str | None,
        dialect: str | None = None,
    ) -> tuple[list[Payment], bool]:
        keep: Callable[[Payment], bool] | None = None
        if status is not None or dialect is not None:

            def keep(payment: Payment) -> bool:
                return (status is None or payment.status == status) and (
                    dialect is None or payment.dialect == dialect
                )

        return self._payments.page(limit, starting_after, keep)

    def count_payments(self) -> int:
        return len(self._payments)

    def get_refund(self, refund_id: str) -> Refund | None:
        return self._refunds.get(refund_id)

    def save_refund(self, refund: Refund) -> None:
        self._put(self._refunds, refund.id, refund)

    def list_refunds(
        self,
        *,
        limit: int,
        starting_after: str | None,
        payment_id: str | None,
        charge_id: str | None,
        dialect: str | None = None,
    ) -> tuple[list[Refund], bool]:
        payments = self._payments

        def keep(refund: Refund) -> bool:
            return (
                (payment_id is None or refund.payment_id == payment_id)
                and (charge_id is None or refund.charge_id == charge_id)
                and (dialect is None or payments[refund.payment_id].dialect == dialect)
            )

        return self._refunds.page(limit, starting_after, keep)

    def get_charge(self, charge_id: str) -> Charge | None:
        return self._charges.get(charge_id)

    def save_charge(self, charge: Charge) -> None:
        _set(self, self._charges, charge.id, charge)

    # -- customers and payment methods -------------------------------------------------------

    def get_customer(self, customer_id: str) -> Customer | None:
        return self._customers.get(customer_id)

    def save_customer(self, customer: Customer) -> None:
        self._put(self._customers, customer.id, customer)

    def list_customers(
        self,
        *,
        limit: int,
        starting_after: str | None,
        email: str | None,
        dialect: str | None = None,
    ) -> tuple[list[Customer], bool]:
        def keep(customer: Customer) -> bool:
            return (
                not customer.deleted
                and (email is None or customer.email == email)
                and (dialect is None or customer.dialect == dialect)
            )

        return self._customers.page(limit, starting_after, keep)

    def get_payment_method(self, payment_method_id: str) -> PaymentMethod | None:
        return self._payment_methods.get(payment_method_id)

    def save_payment_method(self, payment_method: PaymentMethod) -> None:
        self._put(self._payment_methods, payment_method.id, payment_method)

    def list_payment_methods(
        self, *, limit: int, starting_after: str | None, customer: str | None
    ) -> tuple[list[PaymentMethod], bool]:
        keep: Callable[[PaymentMethod], bool] | None = None
        if customer is not None:

            def keep(payment_method: PaymentMethod) -> bool:
                return payment_method.customer == customer

        return self._payment_methods.page(limit, starting_after, keep)

    # -- events ------------------------------------------------------------------------------

    def get_event(self, event_id: str) -> Event | None:
        return self._events.get(event_id)

    def add_event(self, event: Event) -> None:
        self._put(self._events, event.id, event)
        of_payment = self._container(self._events_by_payment, event.payment_id, list)
        of_payment.append(event)
        self._remember(of_payment.pop)

    def list_events(
        self,
        *,
        limit: int,
        starting_after: str | None,
        type: str | None,
        payment_id: str | None,
        dialect: str | None = None,
    ) -> tuple[list[Event], bool]:
        keep: Callable[[Event], bool] | None = None
        if type is not None or payment_id is not None or dialect is not None:

            def keep(event: Event) -> bool:
                return (
                    (type is None or event.type == type)
                    and (payment_id is None or event.payment_id == payment_id)
                    and (dialect is None or event.dialect == dialect)
                )

        return self._events.page(limit, starting_after, keep)

    def events_of(self, payment_id: str) -> list[Event]:
        return list(self._events_by_payment.get(payment_id, ()))

    # -- idempotency records -----------------------------------------------------------------

    def get_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self._idempotency.get((scope, key))

    def save_idempotency(self, record: IdempotencyRecord) -> None:
        _set(self, self._idempotency, (record.scope, record.key), record)

    def delete_idempotency(self, scope: str, key: str) -> None:
        _delete(self, self._idempotency, (scope, key))

    # -- webhook endpoints -------------------------------------------------------------------

    def get_endpoint(self, endpoint_id: str) -> WebhookEndpoint | None:
        return self._endpoints.get(endpoint_id)

    def save_endpoint(self, endpoint: WebhookEndpoint) -> None:
        _set(self, self._endpoints, endpoint.id, endpoint)

    def delete_endpoint(self, endpoint_id: str) -> None:
        _delete(self, self._endpoints, endpoint_id)

    def list_endpoints(self) -> list[WebhookEndpoint]:
        return list(self._endpoints.values())

    # -- delivery attempts (made and planned) ------------------------------------------------

    def save_delivery(self, attempt: DeliveryAttempt) -> None:
        _set(self, self._deliveries, attempt.id, attempt)
        _set(
            self,
            self._container(self._deliveries_by_event, attempt.event_id, dict),
            attempt.id,
            attempt,
        )
        if attempt.pending:
            _set(self, self._pending, attempt.id, attempt)
        else:
            _delete(self, self._pending, attempt.id)

    def list_deliveries(
        self,
        *,
        event_id: str | None,
        type: str | None,
        payment_id: str | None,
        limit: int | None = None,
    ) -> list[DeliveryAttempt]:
        if event_id is not None:
            source = list(self._deliveries_by_event.get(event_id, {}).values())
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
        return list(self._pending.values())

    # -- settings ----------------------------------------------------------------------------

    def get_setting(self, name: str) -> str | None:
        return self._settings.get(name)

    def set_setting(self, name: str, value: str) -> None:
        _set(self, self._settings, name, value)


_K = TypeVar("_K")
_V = TypeVar("_V")


def _set(store: MemoryStore, table: dict[_K, _V], key: _K, value: _V) -> None:
    """``table[key] = value``, undone in ``store``'s transaction."""
    if key in table:
        old = table[key]
        store._remember(lambda: table.__setitem__(key, old))
    else:
        store._remember(lambda: table.pop(key, None))
    table[key] = value


def _delete(store: MemoryStore, table: dict[_K, _V], key: _K) -> None:
    """``del table[key]`` if present, undone in ``store``'s transaction."""
    if key in table:
        old = table.pop(key)
        store._remember(lambda: table.__setitem__(key, old))

"""The shop's orders, in memory: a dict behind a lock (a database, in a real shop).

An order is ``pending`` until Stripe's webhooks say otherwise: ``authenticating`` (3-D Secure),
``failed`` (the customer may try another card), ``paid``, then ``refunded`` once everything
is refunded (a partial refund leaves it ``paid`` with ``amount_refunded`` set);
``payment_error`` when Stripe could not be asked to create its payment intent. Each webhook
event is applied at most once, by its id, and a late event never moves an order backwards.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Order", "OrderStore", "PaymentNews"]


@dataclass
class Order:
    """One order and what Stripe told us about its payment."""

    id: str
    amount: int
    currency: str
    status: str = "pending"
    payment_intent_id: str | None = None
    #: Why the last attempt failed: the card's decline code, or the error code (say
    #: ``payment_intent_authentication_failure``) when there is none.
    decline_code: str | None = None
    amount_refunded: int = 0
    #: When Stripe says the payment succeeded (the event's ``created``, Unix seconds).
    paid_at: int | None = None
    #: ``(event id, event type)`` of every webhook event applied to this order, in order.
    events: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["events"] = [{"id": event_id, "type": type_} for event_id, type_ in self.events]
        return data


@dataclass(frozen=True)
class PaymentNews:
    """What one Stripe event says about an order's payment (see ``app.news_of``)."""

    event_id: str
    event_type: str
    order_id: str | None
    payment_intent_id: str
    #: The order status the event implies; None: no change of status.
    status: str | None
    decline_code: str | None = None
    amount_refunded: int | None = None
    created: int | None = None


# "authenticating" ranks with "failed": 3-D Secure can follow a decline and precede one.
_RANK = {
    "payment_error": 0,
    "pending": 0,
    "authenticating": 1,
    "failed": 1,
    "paid": 2,
    "refunded": 3,
}


class OrderStore:
    """Orders by id, and the ids of the webhook events already applied."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._orders: dict[str, Order] = {}
        self._applied_events: set[str] = set()

    def create(self, *, amount: int, currency: str) -> Order:
        order = Order(id=f"ord_{uuid.uuid4().hex[:16]}", amount=amount, currency=currency)
        with self.lock:
            self._orders[order.id] = order
        return order

    def get(self, order_id: str) -> Order | None:
        with self.lock:
            return self._orders.get(order_id)

    def update(self, order_id: str, **changes: Any) -> Order:
        with self.lock:
            order = self._orders[order_id]
            for name, value in changes.items():
                setattr(order, name, value)
            return order

    def apply(self, news: PaymentNews) -> str:
        """Apply an event once: ``applied``, ``duplicate`` or ``ignored`` (not one of ours)."""
        with self.lock:
            if news.event_id in self._applied_events:
                return "duplicate"
            order = self._orders.get(news.order_id) if news.order_id else None
            if order is None or order.payment_intent_id not in (None, news.payment_intent_id):
                return "ignored"
            self._applied_events.add(news.event_id)
            order.events.append((news.event_id, news.event_type))
            if news.amount_refunded is not None:
                order.amount_refunded = max(order.amount_refunded, news.amount_refunded)
            if news.status is not None and _RANK[news.status] >= _RANK[order.status]:
                order.status = news.status
                if news.status == "paid":
                    order.paid_at, order.decline_code = news.created, None
                elif news.status == "failed":
                    order.decline_code = news.decline_code
            return "applied"

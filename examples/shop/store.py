"""The shop's orders, in memory: a dict behind a lock.

An order moves ``pending`` → ``paid`` | ``failed`` (a failed order can still be paid: the
customer tries another card) → ``refunded``. ``payment_error`` means the gateway could not be
reached to create the payment. Webhook events are applied at most once each, by event id.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Order", "OrderStore"]


@dataclass
class Order:
    """One order and what the gateway told us about its payment."""

    id: str
    amount: int
    currency: str
    items: list[dict[str, Any]]
    status: str = "pending"
    payment_id: str | None = None
    payment_url: str | None = None
    decline_code: str | None = None
    amount_refunded: int = 0
    paid_at: str | None = None
    #: ``(event id, event type)`` of every webhook event applied to this order, in order.
    events: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["events"] = [{"id": event_id, "type": type_} for event_id, type_ in self.events]
        return data


_STATUS_AFTER = {
    "payment.requires_action": "authenticating",
    "payment.succeeded": "paid",
    "payment.failed": "failed",
    "payment.refunded": "refunded",
}
# A later event never moves an order back: a late ``payment.failed`` (from an earlier attempt,
# retried) does not undo ``paid``, nor a late ``payment.succeeded`` undo ``refunded``.
# 3-D Secure can follow a decline and be followed by one: "authenticating" ranks with "failed".
_RANK = {
    "payment_error": 0,
    "pending": 0,
    "failed": 1,
    "authenticating": 1,
    "paid": 2,
    "refunded": 3,
}


class OrderStore:
    """Orders by id, and the ids of the webhook events already applied."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._orders: dict[str, Order] = {}
        self._applied_events: set[str] = set()

    def create(self, *, amount: int, currency: str, items: list[dict[str, Any]]) -> Order:
        order = Order(
            id=f"ord_{uuid.uuid4().hex[:16]}", amount=amount, currency=currency, items=items
        )
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

    def apply_event(self, event: dict[str, Any]) -> str:
        """Apply a verified webhook event once: ``applied``, ``duplicate`` or ``ignored``."""
        payment = event["data"]["object"]
        order_id = payment.get("metadata", {}).get("order_id")
        with self.lock:
            if event["id"] in self._applied_events:
                return "duplicate"
            order = self._orders.get(order_id) if order_id else None
            if order is None or order.payment_id not in (None, payment["id"]):
                return "ignored"  # not ours; acknowledge so the gateway stops retrying
            self._applied_events.add(event["id"])
            order.events.append((event["id"], event["type"]))
            if event["type"] == "payment.refunded":
                order.amount_refunded = max(order.amount_refunded, payment["amount_refunded"])
            new_status = _STATUS_AFTER.get(event["type"])
            if event["type"] == "payment.refunded" and payment["status"] != "refunded":
                new_status = None  # a partial refund: still paid
            if new_status is not None and _RANK[new_status] >= _RANK[order.status]:
                order.status = new_status
                if new_status == "paid":
                    order.paid_at = event["created_at"]
                    order.decline_code = None
                elif new_status == "failed":
                    # A card decline has a decline code; a failed 3-D Secure check has only
                    # its failure code (authentication_failed).
                    order.decline_code = payment.get("decline_code") or payment.get("failure_code")
            return "applied"

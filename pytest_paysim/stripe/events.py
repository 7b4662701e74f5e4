"""The Stripe dialect's events: what each core transition of a payment intent emits, and each
change of a customer.

The core calls :class:`StripeEvents` (registered with ``Simulator.register_dialect``) for
every transition of a ``pi_`` payment and every change of a ``cus_`` customer; it answers
Stripe's events in Stripe's order, each a full Event object (``evt_`` id, ``api_version``,
integer ``created``, ``data.object``, ``data.previous_attributes`` on updates, ``request``).
Deliveries carry ``Stripe-Signature: t=...,v1=...``, which ``stripe.Webhook.construct_event``
accepts. The renderer reads the records an object shows (a charge's payment method) from the
simulator::

    simulator.register_dialect("stripe", StripeEvents(simulator))

The request an event comes from (its ``Request-Id`` and ``Idempotency-Key``) is noted by the
front end with :func:`requesting` around the operation; events made elsewhere (the fixture,
the hosted pages) have ``request.id`` None, as Stripe's dashboard-made events do.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from pytest_paysim._version import __version__
from pytest_paysim.core import event_types as known_types
from pytest_paysim.core import transitions as tx
from pytest_paysim.core.events import CustomerChange, Occurrence, RenderedEvent
from pytest_paysim.core.models import dump_json
from pytest_paysim.core.signing import PAYSIM_SIGNATURE_HEADER, sign
from pytest_paysim.stripe import objects, views

__all__ = [
    "API_VERSION",
    "EVENT_TYPES",
    "SIGNATURE_HEADER",
    "StripeEvents",
    "event_types",
    "requesting",
]

API_VERSION = "2025-09-30.clover"
"""The ``api_version`` events carry (the API version of the SDK this dialect is tested with)."""
SIGNATURE_HEADER = "Stripe-Signature"

_REQUEST: contextvars.ContextVar[tuple[str | None, str | None]] = contextvars.ContextVar(
    "paysim_stripe_request", default=(None, None)
)

EVENT_TYPES: tuple[str, ...] = (
    "payment_intent.created",
    "payment_intent.requires_action",
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.succeeded",
    "charge.failed",
    "charge.captured",
    "charge.refunded",
    "refund.created",
    "refund.failed",
    "customer.created",
    "customer.updated",
    "customer.deleted",
)
"""Every event type the dialect sends (registered with the webhook log's checks)."""
known_types.register("stripe", EVENT_TYPES)

_CREATIONS = {
    "payment_intent.created",
    "charge.succeeded",
    "charge.failed",
    "refund.created",
    "customer.created",
    "customer.deleted",
}
"""Events of a new object (or of one that is gone); every other event is an update and shows
``data.previous_attributes`` (the changed top-level fields, as they were before)."""


@contextlib.contextmanager
def requesting(request_id: str, idempotency_key: str | None) -> Iterator[None]:
    """Events made inside name this request (``request.id``, ``request.idempotency_key``)."""
    token = _REQUEST.set((request_id, idempotency_key))
    try:
        yield
    finally:
        _REQUEST.reset(token)


def event_types(occurrence: Occurrence) -> list[tuple[str, str]]:
    """``(type, object kind)`` of each event of a transition, in Stripe's order."""
    row = occurrence.row
    if row is tx.CREATE:
        return [("payment_intent.created", "intent")]
    if row in (tx.PAY_SUCCEED_AUTOMATIC, tx.AUTHENTICATE_SUCCEED_AUTOMATIC):
        return [("charge.succeeded", "charge"), ("payment_intent.succeeded", "intent")]
    if row in (tx.PAY_SUCCEED_MANUAL, tx.AUTHENTICATE_SUCCEED_MANUAL):
        return [
            ("charge.succeeded", "charge"),
            ("payment_intent.amount_capturable_updated", "intent"),
        ]
    if row in (tx.PAY_FAIL, tx.AUTHENTICATE_DECLINED):
        return [("charge.failed", "charge"), ("payment_intent.payment_failed", "intent")]
    if row is tx.AUTHENTICATE_FAIL:
        return [("payment_intent.payment_failed", "intent")]
    if row is tx.PAY_REQUIRES_ACTION:
        return [("payment_intent.requires_action", "intent")]
    if row in (tx.CAPTURE_AUTHORIZED, tx.CAPTURE_SUCCEEDED):
        if occurrence.charge is None:
            return [("payment_intent.succeeded", "intent")]
        return [("charge.captured", "charge"), ("payment_intent.succeeded", "intent")]
    if row is tx.CANCEL:
        return [("payment_intent.canceled", "intent")]
    if row in (tx.REFUND_PART, tx.REFUND_ALL):
        return [("refund.created", "refund"), ("charge.refunded", "charge")]
    if row is tx.REFUND_FAILED:
        return [("refund.created", "refund"), ("refund.failed", "refund")]
    return []  # abandon: nothing happens at Stripe


class StripeEvents:
    """The renderer of the Stripe dialect's events (``core.events.EventRenderer``).

    ``records`` (the simulator it is registered with) gives the records an object shows
    beyond the one it is about, read inside the operation that emits the events.
    """

    def __init__(self, records: views.Records) -> None:
        self.records = records

    def render(self, occurrence: Occurrence, new_id: Callable[[], str]) -> Sequence[RenderedEvent]:
        rendered = []
        for type, kind in event_types(occurrence):
            data_object, before = self._objects(occurrence, kind, type)
            rendered.append(
                _event(
                    new_id(),
                    type,
                    occurrence.at,
                    data_object,
                    before,
                    pending_webhooks=occurrence.targets(type),
                )
            )
        return rendered

    def render_customer(
        self, change: CustomerChange, new_id: Callable[[], str]
    ) -> Sequence[RenderedEvent]:
        """``customer.created``, ``customer.updated`` (with ``previous_attributes``) or
        ``customer.deleted`` (the customer as it was)."""
        before = None if change.before is None else views.customer(change.before)
        if change.action == "deleted":
            assert before is not None
            data_object, before = before, None
        else:
            data_object = views.customer(change.customer)
        type = f"customer.{change.action}"
        return [
            _event(
                new_id(),
                type,
                change.at,
                data_object,
                before,
                pending_webhooks=change.targets(type),
            )
        ]

    def _objects(
        self, occurrence: Occurrence, kind: str, type: str
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The event's object, and the same object before the transition (None: new)."""
        payment, before, records = occurrence.payment, occurrence.before, self.records
        if kind == "intent":
            return views.payment_intent(payment, records), (
                None if before is None else views.payment_intent(before, records)
            )
        if kind == "refund":
            refund = occurrence.refund
            assert refund is not None
            shown = views.refund(refund, payment, records)
            if refund.status != "failed":
                return shown, None
            # A refund that fails is created pending, then fails (refund.failed), as at Stripe.
            pending = views.refund(replace(refund, status="pending"), payment, records)
            return (shown, pending) if type == "refund.failed" else (pending, None)
        charge = occurrence.charge or payment.latest_charge
        assert charge is not None
        old = None
        if before is not None:
            old = next((item for item in before.charges if item.id == charge.id), None)
        return views.charge(charge, payment, records), (
            None if old is None else views.charge(old, before, records)  # type: ignore[arg-type]
        )

    def signature_headers(
        self, body: bytes, secrets: Sequence[str], timestamp: int
    ) -> dict[str, str]:
        """Stripe's headers: ``Stripe-Signature: t=...,v1=...`` (one ``v1`` per secret)."""
        signature = sign(body, list(secrets), scheme="paysim", timestamp=timestamp)
        return {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"Stripe/1.0 (+https://stripe.com/docs/webhooks) paysim/{__version__}",
            SIGNATURE_HEADER: signature[PAYSIM_SIGNATURE_HEADER],
        }


def _event(
    event_id: str,
    type: str,
    at: float,
    data_object: Mapping[str, Any],
    before: Mapping[str, Any] | None,
    *,
    pending_webhooks: int,
) -> RenderedEvent:
    """One event, naming the request it comes from; ``data.previous_attributes`` on an update
    (what changed since ``before``)."""
    request_id, idempotency_key = _REQUEST.get()
    previous = None
    if type not in _CREATIONS and before is not None:
        previous = _changed(before, data_object)
    event = objects.event(
        id=event_id,
        type=type,
        created=int(at),
        data_object=data_object,
        previous_attributes=previous,
        api_version=API_VERSION,
        pending_webhooks=pending_webhooks,
        request_id=request_id,
        idempotency_key=idempotency_key,
    )
    return RenderedEvent(event_id, type, dump_json(event))


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in before.items() if after.get(key) != value}

"""Core records seen as Stripe objects: a payment is a PaymentIntent, and so on.

The core keeps payments, charges, refunds, customers and payment methods; this module is the
one place that turns them into the dicts :mod:`~pytest_paysim.stripe.objects` builds, so the
answers of the routes and the bodies of the events always agree. A view that shows another
record (a charge's card, an expanded customer) reads it from ``records`` (the simulator);
``expand`` names the fields to show as objects::

    intent = payment_intent(payment, simulator, expand={"latest_charge", "customer"})
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

from pytest_paysim.core.models import Charge, Customer, Payment, PaymentMethod, Refund
from pytest_paysim.errors import ResourceMissing as NativeResourceMissing
from pytest_paysim.stripe import objects
from pytest_paysim.stripe.cards import (
    DECLINE_MESSAGES,
    TEST_PAYMENT_METHODS,
    Card,
    card_of_number,
    decline_error_code,
)
from pytest_paysim.stripe.errors import ResourceMissing

__all__ = [
    "AUTHENTICATION_FAILURE",
    "Records",
    "card_of",
    "charge",
    "customer",
    "last_payment_error",
    "payment_intent",
    "payment_method",
    "payment_method_of",
    "refund",
    "status_of",
    "stored_method",
]


class Records(Protocol):
    """What a view reads beyond the records it is given (the simulator is one)."""

    def get_payment_method(self, payment_method_id: str) -> PaymentMethod:
        """The created payment method; the core's 404 when there is none."""

    def get_customer(self, customer_id: str) -> Customer:
        """The customer, deleted or not; the core's 404 when there is none."""


AUTHENTICATION_FAILURE = "payment_intent_authentication_failure"
_AUTHENTICATION_MESSAGE = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
    "or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
)


def stored_method(
    records: Records, payment_method_id: str, *, param: str = "id", in_body: bool = False
) -> PaymentMethod:
    """A created payment method, or Stripe's ``resource_missing`` naming ``param``."""
    try:
        return records.get_payment_method(payment_method_id)
    except NativeResourceMissing:
        raise ResourceMissing(
            "PaymentMethod", payment_method_id, param=param, in_body=in_body
        ) from None


def card_of(records: Records, payment_method_id: str, *, param: str = "payment_method") -> Card:
    """The card of a payment method: a test id's (``pm_card_visa``) or a created one's; 400
    ``resource_missing`` naming ``param`` for an id that is neither."""
    card = TEST_PAYMENT_METHODS.get(payment_method_id)
    if card is not None:
        return card
    return _card(stored_method(records, payment_method_id, param=param, in_body=True))


def _card(record: PaymentMethod) -> Card:
    return card_of_number(record.card_number, exp_month=record.exp_month, exp_year=record.exp_year)


def status_of(payment: Payment) -> str:
    """The intent's Stripe ``status``."""
    has_method = payment.payment_method is not None
    return objects.intent_status(payment.status, has_payment_method=has_method)


def payment_method(record: PaymentMethod) -> dict[str, Any]:
    """The PaymentMethod of a created payment method."""
    return objects.payment_method(
        id=record.id, created=int(record.created_at), card=_card(record), customer=record.customer
    )


def payment_method_of(records: Records, payment_method_id: str, *, created: int) -> dict[str, Any]:
    """The PaymentMethod of an id: a created one, or a test id (shown as made at ``created``,
    as it exists without being created)."""
    card = TEST_PAYMENT_METHODS.get(payment_method_id)
    if card is not None:
        return objects.payment_method(id=payment_method_id, created=created, card=card)
    return payment_method(stored_method(records, payment_method_id))


def customer(record: Customer) -> dict[str, Any]:
    """The Customer; a deleted one is ``{"id", "object", "deleted": true}``, as at Stripe."""
    if record.deleted:
        return objects.deleted("customer", record.id)
    return objects.customer(
        id=record.id,
        created=int(record.created_at),
        email=record.email,
        name=record.name,
        description=record.description,
        phone=record.phone,
        metadata=record.metadata,
    )


def _customer_of(records: Records, customer_id: str) -> objects.Expandable:
    try:
        return customer(records.get_customer(customer_id))
    except NativeResourceMissing:
        return customer_id  # set before customers were checked: shown as it was given


def last_payment_error(payment: Payment, records: Records) -> dict[str, Any] | None:
    """The error of the last failed attempt, while the intent awaits a new payment method."""
    if payment.status != "failed" or payment.failure_code is None:
        return None
    method_id = payment.attributes.get("last_payment_method")
    method = (
        payment_method_of(records, method_id, created=int(payment.created_at))
        if method_id
        else None
    )
    if payment.failure_code == "authentication_failed":
        return objects.last_payment_error(
            code=AUTHENTICATION_FAILURE,
            message=_AUTHENTICATION_MESSAGE,
            payment_method=method,
            type="invalid_request_error",
        )
    decline_code = payment.decline_code or "generic_decline"
    latest = payment.latest_charge
    return objects.last_payment_error(
        code=_code(decline_code),
        message=DECLINE_MESSAGES.get(decline_code, "Your card was declined."),
        payment_method=method,
        decline_code=decline_code,
        charge=latest.id if latest is not None and latest.status == "failed" else None,
    )


def _code(decline_code: str) -> str:
    return decline_error_code(decline_code)


def payment_intent(
    payment: Payment, records: Records, *, expand: Collection[str] = ()
) -> dict[str, Any]:
    """The PaymentIntent of a payment."""
    created = int(payment.created_at)
    latest = payment.latest_charge
    latest_charge: objects.Expandable = None
    if latest is not None:
        latest_charge = charge(latest, payment, records) if "latest_charge" in expand else latest.id
    method: objects.Expandable = payment.payment_method
    if payment.payment_method is not None and "payment_method" in expand:
        method = payment_method_of(records, payment.payment_method, created=created)
    owner: objects.Expandable = payment.customer
    if payment.customer is not None and "customer" in expand:
        owner = _customer_of(records, payment.customer)
    paid = payment.status in ("succeeded", "captured", "refunded")
    received = payment.amount_captured if paid else 0
    attributes = payment.attributes
    return objects.payment_intent(
        id=payment.id,
        amount=payment.amount,
        currency=payment.currency,
        created=created,
        core_status=payment.status,
        client_secret=payment.client_secret,
        capture_method=attributes.get("capture_method", payment.capture_method),
        description=payment.description,
        metadata=payment.metadata,
        customer=owner,
        payment_method=method,
        latest_charge=latest_charge,
        receipt_email=attributes.get("receipt_email"),
        amount_capturable=payment.amount_capturable,
        amount_received=received,
        canceled_at=None if payment.canceled_at is None else int(payment.canceled_at),
        cancellation_reason=payment.cancellation_reason,
        last_payment_error=last_payment_error(payment, records),
        authentication_url=payment.authentication_url,
        return_url=payment.return_url,
        payment_method_types=attributes.get("payment_method_types", ["card"]),
    )


def charge(
    record: Charge, payment: Payment, records: Records, *, expand: Collection[str] = ()
) -> dict[str, Any]:
    """The Charge of a confirmation attempt (``payment``: its intent)."""
    # No method: an attempt made by calling the simulator directly (the hosted pay page does
    # not serve intents): shown as null, not as an invented card.
    method = record.payment_method
    refunds = [
        refund(item, payment, records)
        for item in reversed(payment.refunds)
        if item.charge_id == record.id
    ]
    intent: objects.Expandable = payment.id
    if "payment_intent" in expand:
        intent = payment_intent(payment, records)
    return objects.charge(
        id=record.id,
        amount=record.amount,
        currency=record.currency,
        created=int(record.created_at),
        status=record.status,
        card=None if method is None else card_of(records, method),
        payment_method=method,
        payment_intent=intent,
        amount_captured=record.amount_captured,
        amount_refunded=record.amount_refunded,
        captured=record.captured,
        customer=payment.customer,
        description=payment.description,
        metadata=payment.metadata,
        failure_code=(None if record.decline_code is None else _code(record.decline_code)),
        failure_message=record.failure_message,
        decline_code=record.decline_code,
        receipt_email=payment.attributes.get("receipt_email"),
        refunds=refunds,
        three_d_secure=record.three_d_secure,
    )


def refund(
    record: Refund, payment: Payment, records: Records, *, expand: Collection[str] = ()
) -> dict[str, Any]:
    """The Refund of a core refund (``payment``: its intent)."""
    charge_value: objects.Expandable = record.charge_id
    if "charge" in expand and record.charge_id is not None:
        found = next((item for item in payment.charges if item.id == record.charge_id), None)
        if found is not None:
            charge_value = charge(found, payment, records)
    intent: objects.Expandable = payment.id
    if "payment_intent" in expand:
        intent = payment_intent(payment, records)
    return objects.refund(
        id=record.id,
        amount=record.amount,
        currency=record.currency,
        created=int(record.created_at),
        status=record.status,
        charge=charge_value,
        payment_intent=intent,
        payment_method=next(
            (item.payment_method for item in payment.charges if item.id == record.charge_id),
            None,
        ),
        customer=payment.customer,
        reason=record.reason,
        metadata=record.metadata,
    )

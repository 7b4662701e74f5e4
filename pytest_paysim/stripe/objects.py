"""What each Stripe object looks like: one builder per resource, and the intent status table.

Each builder returns a dict with every top-level key of Stripe's own fixture of that object
(``shared/stripe/fixtures.json``) — ``None``, ``False``, ``{}`` or ``[]`` where the simulator
has nothing to say — because the SDK's objects raise ``AttributeError`` on a missing key.
Every key is one line of one dict literal, so adding a field is adding a line. Inputs are
keyword arguments, not core records (:mod:`~pytest_paysim.stripe.views` turns those into
these): a builder takes exactly what it shows (ids, integer Unix times, amounts, a
:class:`~pytest_paysim.stripe.cards.Card`), and a field that may be expanded (``customer``,
``payment_method``, ``latest_charge``, ``charge``, ``payment_intent``) takes an id or the
expanded object.

    >>> from pytest_paysim.stripe.cards import TEST_PAYMENT_METHODS
    >>> pm = payment_method(id="pm_1", created=1_700_000_000,
    ...                     card=TEST_PAYMENT_METHODS["pm_card_visa"])
    >>> pm["card"]["last4"], pm["livemode"]
    ('4242', False)
    >>> intent_status("failed", has_payment_method=False)
    'requires_payment_method'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

from pytest_paysim.stripe.cards import Card

__all__ = [
    "INTENT_STATUSES",
    "Expandable",
    "charge",
    "customer",
    "deleted",
    "event",
    "intent_status",
    "last_payment_error",
    "list_object",
    "next_action",
    "payment_intent",
    "payment_method",
    "refund",
    "webhook_endpoint",
]

Expandable: TypeAlias = "str | Mapping[str, Any] | None"
"""An id, or the object itself when the request expanded it."""

INTENT_STATUSES: dict[tuple[str, bool], str] = {
    # (core status, has a payment method)      Stripe status
    ("requires_payment_method", False): "requires_payment_method",
    ("requires_payment_method", True): "requires_confirmation",
    ("failed", False): "requires_payment_method",  # with last_payment_error
    ("failed", True): "requires_confirmation",  # a new method attached after the decline
    ("requires_action", False): "requires_action",
    ("requires_action", True): "requires_action",
    ("authorized", False): "requires_capture",
    ("authorized", True): "requires_capture",
    ("succeeded", False): "succeeded",
    ("succeeded", True): "succeeded",
    ("captured", False): "succeeded",
    ("captured", True): "succeeded",
    ("refunded", False): "succeeded",
    ("refunded", True): "succeeded",
    ("canceled", False): "canceled",
    ("canceled", True): "canceled",
}
"""SPEC section 14 "States": a payment intent is a core payment seen through this table.

After a declined confirmation Stripe detaches the payment method from the intent (it stays in
``last_payment_error.payment_method``), so a ``failed`` payment shows
``requires_payment_method`` until a new method is attached.
"""

_NULL_ADDRESS: dict[str, None] = dict.fromkeys(
    ("city", "country", "line1", "line2", "postal_code", "state")
)


def intent_status(core_status: str, *, has_payment_method: bool) -> str:
    """The Stripe status of a core payment status (ValueError for one the table lacks)."""
    try:
        return INTENT_STATUSES[core_status, has_payment_method]
    except KeyError:
        raise ValueError(f"no Stripe status for core status {core_status!r}") from None


def next_action(url: str, return_url: str | None = None) -> dict[str, Any]:
    """``next_action`` of an intent in ``requires_action``: go to the authentication page."""
    return {"type": "redirect_to_url", "redirect_to_url": {"url": url, "return_url": return_url}}


def last_payment_error(
    *,
    code: str,
    message: str,
    payment_method: Mapping[str, Any] | None,
    decline_code: str | None = None,
    charge: str | None = None,
    type: str = "card_error",
) -> dict[str, Any]:
    """An intent's ``last_payment_error``: the 402's error, without the intent itself."""
    error: dict[str, Any] = {
        "charge": charge,
        "code": code,
        "decline_code": decline_code,
        "doc_url": "https://stripe.com/docs/error-codes/" + code.replace("_", "-"),
        "message": message,
        "payment_method": payment_method,
        "type": type,
    }
    return {key: value for key, value in error.items() if value is not None}


def payment_intent(
    *,
    id: str,
    amount: int,
    currency: str,
    created: int,
    core_status: str,
    client_secret: str,
    capture_method: str = "automatic",
    confirmation_method: str = "automatic",
    description: str | None = None,
    metadata: Mapping[str, str] | None = None,
    customer: Expandable = None,
    payment_method: Expandable = None,
    latest_charge: Expandable = None,
    receipt_email: str | None = None,
    amount_capturable: int = 0,
    amount_received: int = 0,
    canceled_at: int | None = None,
    cancellation_reason: str | None = None,
    last_payment_error: Mapping[str, Any] | None = None,
    authentication_url: str | None = None,
    return_url: str | None = None,
    payment_method_types: Sequence[str] = ("card",),
) -> dict[str, Any]:
    """A PaymentIntent. ``status`` comes from :data:`INTENT_STATUSES`; in ``requires_action``,
    ``authentication_url`` (the hosted authentication page) is required for ``next_action``.
    """
    status = intent_status(core_status, has_payment_method=payment_method is not None)
    if status == "requires_action":
        if authentication_url is None:
            raise ValueError("an intent in requires_action needs its authentication_url")
        action: dict[str, Any] | None = next_action(authentication_url, return_url)
    else:
        action = None
    return {
        "id": id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": amount_capturable,
        "amount_details": {"tip": {}},
        "amount_received": amount_received,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": canceled_at,
        "cancellation_reason": cancellation_reason,
        "capture_method": capture_method,
        "client_secret": client_secret,
        "confirmation_method": confirmation_method,
        "created": created,
        "currency": currency,
        "customer": _expandable(customer),
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "last_payment_error": _copy(last_payment_error),
        "latest_charge": _expandable(latest_charge),
        "livemode": False,
        "managed_payments": None,
        "metadata": dict(metadata or {}),
        "next_action": action,
        "on_behalf_of": None,
        "payment_method": _expandable(payment_method),
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": list(payment_method_types),
        "processing": None,
        "receipt_email": receipt_email,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


def charge(
    *,
    id: str,
    amount: int,
    currency: str,
    created: int,
    status: str,
    card: Card | None,
    payment_method: str | None,
    payment_intent: Expandable = None,
    amount_captured: int = 0,
    amount_refunded: int = 0,
    captured: bool = False,
    customer: Expandable = None,
    description: str | None = None,
    metadata: Mapping[str, str] | None = None,
    failure_code: str | None = None,
    failure_message: str | None = None,
    decline_code: str | None = None,
    receipt_email: str | None = None,
    refunds: Sequence[Mapping[str, Any]] = (),
    three_d_secure: bool = False,
) -> dict[str, Any]:
    """A Charge: one per confirmation attempt. ``status`` is ``succeeded``, ``failed`` or
    ``pending``; ``refunds`` are its refund objects, newest first (shown as a list object).
    Without a ``card`` (an attempt with no payment method: the simulator called directly),
    ``payment_method_details`` is ``null``.
    """
    paid = status == "succeeded"
    details = None
    if card is not None:
        details = {
            "card": _charge_card(card, amount if paid else None, three_d_secure),
            "type": "card",
        }
    return {
        "id": id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount_captured,
        "amount_refunded": amount_refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": _billing_details(),
        "calculated_statement_descriptor": None,
        "captured": captured,
        "created": created,
        "currency": currency,
        "customer": _expandable(customer),
        "description": description,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": failure_code,
        "failure_message": failure_message,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(metadata or {}),
        "on_behalf_of": None,
        "outcome": _outcome(status, decline_code),
        "paid": paid,
        "payment_intent": _expandable(payment_intent),
        "payment_method": payment_method,
        "payment_method_details": details,
        "receipt_email": receipt_email,
        "receipt_number": None,
        "receipt_url": None,
        "refunded": amount_captured > 0 and amount_refunded >= amount_captured,
        "refunds": list_object(refunds, url=f"/v1/charges/{id}/refunds"),
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


def refund(
    *,
    id: str,
    amount: int,
    currency: str,
    created: int,
    status: str,
    charge: Expandable,
    payment_intent: Expandable = None,
    payment_method: str | None = None,
    customer: str | None = None,
    reason: str | None = None,
    metadata: Mapping[str, str] | None = None,
    failure_reason: str = "unknown",
) -> dict[str, Any]:
    """A Refund (``succeeded``, ``pending`` or ``failed``); ``failure_reason`` is shown only
    on a failed one, as at Stripe.
    """
    result: dict[str, Any] = {
        "id": id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": None,
        "charge": _expandable(charge),
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "destination_details": {
            "card": {
                "reference": None,
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": dict(metadata or {}),
        "payment_intent": _expandable(payment_intent),
        "payment_method": payment_method,
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }
    if status == "failed":
        result["failure_reason"] = failure_reason
    return result


def payment_method(
    *,
    id: str,
    created: int,
    card: Card,
    customer: Expandable = None,
    metadata: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A PaymentMethod of type ``card``."""
    return {
        "id": id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": _billing_details(),
        "card": {
            "brand": card.brand,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "unchecked",
            },
            "country": card.country,
            "display_brand": card.display_brand,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "fingerprint": card.fingerprint,
            "funding": card.funding,
            "generated_from": None,
            "last4": card.last4,
            "networks": {"available": [card.network], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": created,
        "customer": _expandable(customer),
        "customer_account": None,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "type": "card",
    }


def customer(
    *,
    id: str,
    created: int,
    email: str | None = None,
    name: str | None = None,
    description: str | None = None,
    phone: str | None = None,
    metadata: Mapping[str, str] | None = None,
    default_payment_method: str | None = None,
) -> dict[str, Any]:
    """A Customer. ``invoice_prefix`` is derived from the id, so it is stable."""
    return {
        "id": id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": description,
        "discount": None,
        "email": email,
        "invoice_prefix": hashlib.sha256(id.encode()).hexdigest()[:8].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": default_payment_method,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": dict(metadata or {}),
        "name": name,
        "next_invoice_sequence": 1,
        "phone": phone,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def deleted(object_name: str, id: str) -> dict[str, Any]:
    """The answer to a DELETE: ``{"id", "object", "deleted": true}``."""
    return {"id": id, "object": object_name, "deleted": True}


def event(
    *,
    id: str,
    type: str,
    created: int,
    data_object: Mapping[str, Any],
    previous_attributes: Mapping[str, Any] | None = None,
    api_version: str | None = None,
    pending_webhooks: int = 0,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """An Event; ``data.previous_attributes`` is there only for updates, as at Stripe."""
    data: dict[str, Any] = {"object": dict(data_object)}
    if previous_attributes is not None:
        data["previous_attributes"] = dict(previous_attributes)
    return {
        "id": id,
        "object": "event",
        "api_version": api_version,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": type,
    }


def webhook_endpoint(
    *,
    id: str,
    created: int,
    url: str,
    enabled_events: Sequence[str] = ("*",),
    description: str | None = None,
    metadata: Mapping[str, str] | None = None,
    status: str = "enabled",
    api_version: str | None = None,
    secret: str | None = None,
) -> dict[str, Any]:
    """A WebhookEndpoint; pass ``secret`` only for the answer to its creation."""
    result: dict[str, Any] = {
        "id": id,
        "object": "webhook_endpoint",
        "api_version": api_version,
        "application": None,
        "created": created,
        "description": description,
        "enabled_events": list(enabled_events),
        "livemode": False,
        "metadata": dict(metadata or {}),
        "status": status,
        "url": url,
    }
    if secret is not None:
        result["secret"] = secret
    return result


def list_object(
    data: Iterable[Mapping[str, Any]], *, url: str, has_more: bool = False
) -> dict[str, Any]:
    """A list page, ``{"object": "list", "data", "has_more", "url"}`` (``url``: its path)."""
    return {
        "object": "list",
        "data": [dict(item) for item in data],
        "has_more": has_more,
        "url": url,
    }


def _expandable(value: Expandable) -> str | dict[str, Any] | None:
    return value if value is None or isinstance(value, str) else dict(value)


def _copy(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else dict(value)


def _billing_details() -> dict[str, Any]:
    return {
        "address": dict(_NULL_ADDRESS),
        "email": None,
        "name": None,
        "phone": None,
        "tax_id": None,
    }


def _outcome(status: str, decline_code: str | None) -> dict[str, Any] | None:
    if status == "pending":
        return None
    outcome: dict[str, Any] = {
        "advice_code": None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "approved_by_network",
        "reason": None,
        "risk_level": "normal",
        "seller_message": "Payment complete.",
        "type": "authorized",
    }
    if status == "failed" and decline_code == "fraudulent":
        outcome.update(
            network_status="not_sent_to_network",
            reason="highest_risk_level",
            risk_level="highest",
            seller_message="Stripe blocked this payment as too risky.",
            type="blocked",
        )
    elif status == "failed":
        outcome.update(
            network_status="declined_by_network",
            reason=decline_code,
            seller_message="The bank did not return any further details with this decline.",
            type="issuer_declined",
        )
    return outcome


def _charge_card(card: Card, amount_authorized: int | None, three_d_secure: bool) -> dict[str, Any]:
    return {
        "amount_authorized": amount_authorized,
        "authorization_code": None,
        "brand": card.brand,
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": None,
        },
        "country": card.country,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "extended_authorization": {"status": "disabled"},
        "fingerprint": card.fingerprint,
        "funding": card.funding,
        "incremental_authorization": {"status": "unavailable"},
        "installments": None,
        "last4": card.last4,
        "mandate": None,
        "multicapture": {"status": "unavailable"},
        "network": card.network,
        "network_token": {"used": False},
        "network_transaction_id": None,
        "overcapture": {
            "maximum_amount_capturable": amount_authorized or 0,
            "status": "unavailable",
        },
        "regulated_status": "unregulated",
        "three_d_secure": (
            {
                "authentication_flow": "challenge",
                "electronic_commerce_indicator": "05",
                "exemption_indicator": None,
                "result": "authenticated",
                "result_reason": None,
                "transaction_id": None,
                "version": "2.2.0",
            }
            if three_d_secure
            else None
        ),
        "wallet": None,
    }

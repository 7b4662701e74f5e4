"""Payment intents: create, retrieve, update, list, confirm, capture, cancel, and the 3-D Secure
test helper. A declined confirmation is an answer, not an error: the failed charge and the
intent's new state are kept, and the 402 body is stored under the idempotency key like any
answer. An intent's ``customer`` is a customer that exists; its payment method is a test id
(``pm_card_visa``) or a created one, which pays as its card does and, once attached to a
customer, only for that customer's intents.
"""

from __future__ import annotations

from typing import Any

from pytest_paysim.core.models import Payment
from pytest_paysim.core.outcomes import AUTHENTICATION_OUTCOMES
from pytest_paysim.core.simulator import Simulator
from pytest_paysim.errors import AmountTooLarge, ParameterInvalid
from pytest_paysim.stripe import forms, views
from pytest_paysim.stripe.cards import TEST_PAYMENT_METHODS, decline_error
from pytest_paysim.stripe.errors import (
    PaymentIntentUnexpectedState,
    StripeError,
    render_error,
    unexpected_state,
)
from pytest_paysim.stripe.forms import FormValue
from pytest_paysim.stripe.resources import common
from pytest_paysim.stripe.resources.common import Answer, Request

__all__ = [
    "INTENT_EXPANDS",
    "MAX_DESCRIPTION",
    "authenticate_intent",
    "cancel_intent",
    "capture_intent",
    "confirm_intent",
    "create_intent",
    "list_intents",
    "retrieve_intent",
    "update_intent",
]

_CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
_CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
INTENT_EXPANDS = ("latest_charge", "payment_method", "customer")
MAX_DESCRIPTION = 1000
"""The longest ``description`` of a payment intent (Stripe's ``maxLength``)."""
_PAYMENT_METHOD_TYPES = ("card",)


def create_intent(request: Request) -> Answer:
    """``POST /v1/payment_intents`` (``confirm=true`` confirms at once)."""
    params = request.params
    forms.reject_unknown(
        params,
        (
            "amount",
            "currency",
            "description",
            "metadata",
            "payment_method",
            "customer",
            "capture_method",
            "confirm",
            "return_url",
            "receipt_email",
            "payment_method_types",
            "expand",
        ),
    )
    expand = common.expand(params, INTENT_EXPANDS)
    amount = forms.to_integer(
        forms.require(params, "amount"), "amount", minimum=1, maximum=common.MAX_AMOUNT
    )
    forms.require(params, "currency")
    currency = common.supported_currency(params)
    assert currency is not None
    capture_method = "automatic"
    if "capture_method" in params:
        capture_method = forms.to_enum(params["capture_method"], "capture_method", _CAPTURE_METHODS)
    confirm = forms.to_boolean(params["confirm"], "confirm") if "confirm" in params else False
    attributes: dict[str, Any] = {"capture_method": capture_method}
    if "receipt_email" in params:
        attributes["receipt_email"] = common.email(params, "receipt_email", unsettable=True)
    if "payment_method_types" in params:
        attributes["payment_method_types"] = _payment_method_types(params["payment_method_types"])
    description = _description(params)
    metadata = common.metadata(params)
    return_url = _return_url(params)
    sim = request.sim
    method = common.payment_method(sim, params)
    customer = common.customer_param(sim, params)
    _check_owner(sim, method, customer)
    payment = sim.create_payment(
        amount=amount,
        currency=currency,
        description=description,
        metadata=metadata,
        capture_method="manual" if capture_method == "manual" else "automatic",
        return_url=return_url,
        dialect="stripe",
        payment_method=method,
        customer=customer,
        attributes=attributes,
    )
    if confirm:
        return _confirm(sim, payment, None, expand)
    return common.intent_answer(sim, payment, expand)


def retrieve_intent(request: Request) -> Answer:
    """``GET /v1/payment_intents/{id}``."""
    forms.reject_unknown(request.params, ("expand", "client_secret"))
    expand = common.expand(request.params, INTENT_EXPANDS)
    sim = request.sim
    return common.intent_answer(sim, common.intent(sim, request.args["id"]), expand)


def update_intent(request: Request) -> Answer:
    """``POST /v1/payment_intents/{id}``: changes before confirmation only."""
    params = request.params
    forms.reject_unknown(
        params,
        (
            "amount",
            "currency",
            "description",
            "metadata",
            "payment_method",
            "customer",
            "receipt_email",
            "expand",
        ),
    )
    expand = common.expand(params, INTENT_EXPANDS)
    sim = request.sim
    payment = common.intent(sim, request.args["id"])
    status = views.status_of(payment)
    allowed = ("requires_payment_method", "requires_confirmation")
    if status not in allowed:
        raise unexpected_state(
            "updated", status, allowed, payment_intent=views.payment_intent(payment, sim)
        )
    changes: dict[str, Any] = {}
    if "amount" in params:
        changes["amount"] = common.amount(params, "amount")
    if "currency" in params:
        changes["currency"] = common.supported_currency(params)
    if "description" in params:
        changes["description"] = _description(params)
    if "metadata" in params:
        changes["metadata"] = common.metadata(params, payment.metadata)
    if "payment_method" in params:
        changes["payment_method"] = common.payment_method(sim, params)
    if "customer" in params:
        changes["customer"] = common.customer_param(sim, params, unsettable=True)
    if "receipt_email" in params:
        changes["attributes"] = {
            "receipt_email": common.email(params, "receipt_email", unsettable=True)
        }
    _check_owner(
        sim,
        changes.get("payment_method", payment.payment_method),
        changes.get("customer", payment.customer),
    )
    payment = sim.update_payment(payment.id, **changes)
    return common.intent_answer(sim, payment, expand)


def list_intents(request: Request) -> Answer:
    """``GET /v1/payment_intents``, newest first (``customer`` filters; ``expand[]`` takes
    ``data.`` and a field of an intent)."""
    params = request.params
    forms.reject_unknown(params, ("limit", "starting_after", "ending_before", "customer", "expand"))
    expand = common.list_expand(params, INTENT_EXPANDS)
    customer = common.string(params, "customer")
    items = [
        views.payment_intent(payment, request.sim, expand=expand)
        for payment in common.stripe_payments(request.sim)
        if customer is None or payment.customer == customer
    ]
    return 200, common.page(items, params, "/v1/payment_intents")


def confirm_intent(request: Request) -> Answer:
    """``POST /v1/payment_intents/{id}/confirm``: a payment attempt; a decline is a 402 answer."""
    params = request.params
    # client_secret: checked by the app before the handler (the publishable key's way in).
    forms.reject_unknown(params, ("payment_method", "return_url", "expand", "client_secret"))
    expand = common.expand(params, INTENT_EXPANDS)
    sim = request.sim
    payment = common.intent(sim, request.args["id"])
    method = common.payment_method(sim, params)
    return_url = _return_url(params)
    return _confirm(sim, payment, method, expand, return_url=return_url)


def _confirm(
    sim: Simulator,
    payment: Payment,
    method: str | None,
    expand: set[str],
    *,
    return_url: str | None = None,
) -> Answer:
    status = views.status_of(payment)
    allowed = ("requires_payment_method", "requires_confirmation")
    if status not in allowed:
        raise unexpected_state(
            "confirmed", status, allowed, payment_intent=views.payment_intent(payment, sim)
        )
    method = method or payment.payment_method
    if method is None:
        raise PaymentIntentUnexpectedState(
            "You cannot confirm this PaymentIntent because it's missing a payment method. To "
            "confirm it, attach a payment method or pass one as `payment_method`.",
            payment_intent=views.payment_intent(payment, sim),
        )
    _check_owner(sim, method, payment.customer)
    changes: dict[str, Any] = {"payment_method": method}
    if return_url is not None:
        changes["return_url"] = return_url
    sim.update_payment(payment.id, **changes)
    payment = sim.pay(payment.id, card_number=views.card_of(sim, method).number)
    if payment.status == "failed":
        return _declined(sim, payment)
    return common.intent_answer(sim, payment, expand)


def _description(params: dict[str, FormValue]) -> str | None:
    """``description``: at most :data:`MAX_DESCRIPTION` characters; ``""`` unsets it."""
    return common.string(params, "description", max_length=MAX_DESCRIPTION, unsettable=True)


def _return_url(params: dict[str, FormValue]) -> str | None:
    """``return_url``, where the authentication page sends the customer back to: an absolute
    http(s) URL with a host and port a browser can use."""
    if "return_url" not in params:
        return None
    return common.http_url(params["return_url"], "return_url")


def _payment_method_types(value: FormValue) -> list[str]:
    """``payment_method_types[]``: ``card``, the only type the simulator pays with."""
    types = forms.to_string_list(value, "payment_method_types")
    if not types:
        raise ParameterInvalid(
            "Invalid payment_method_types: give at least one type (card).",
            param="payment_method_types",
        )
    for index, type in enumerate(types):
        if type not in _PAYMENT_METHOD_TYPES:
            raise ParameterInvalid(
                f"The payment method type {type[:100]!r} is invalid: the simulator pays with "
                "cards only; use card.",
                param=forms.child("payment_method_types", index),
            )
    return list(dict.fromkeys(types))


def _check_owner(sim: Simulator, method: str | None, customer: str | None) -> None:
    """Stripe's refusal of a payment method attached to a customer other than the intent's."""
    if method is None or method in TEST_PAYMENT_METHODS:
        return
    owner = views.stored_method(sim, method, param="payment_method", in_body=True).customer
    if owner is None or owner == customer:
        return
    if customer is None:
        message = (
            f"The `payment_method` parameter supplied {method} belongs to the Customer "
            f"{owner}. Please include the Customer in the `customer` parameter on the "
            "PaymentIntent."
        )
    else:
        message = (
            f"The customer does not have a payment method with the ID {method}. The payment "
            "method must be attached to the customer."
        )
    raise StripeError(message, param="payment_method")


def _declined(sim: Simulator, payment: Payment) -> Answer:
    """The 402 of a declined confirmation, as an answer (the attempt's changes are kept)."""
    intent = views.payment_intent(payment, sim)
    error = intent["last_payment_error"] or {}
    if error.get("code") == views.AUTHENTICATION_FAILURE:
        rendered = render_error(
            PaymentIntentUnexpectedState(error["message"], payment_intent=intent)
        )
        rendered.body["error"]["code"] = views.AUTHENTICATION_FAILURE
        return rendered.status, rendered.body
    declined = decline_error(
        error.get("decline_code", "generic_decline"),
        charge=error.get("charge"),
        payment_intent=intent,
        payment_method=error.get("payment_method"),
    )
    rendered = render_error(declined)
    return rendered.status, rendered.body


def capture_intent(request: Request) -> Answer:
    """``POST /v1/payment_intents/{id}/capture``, from ``requires_capture`` only."""
    params = request.params
    forms.reject_unknown(params, ("amount_to_capture", "expand"))
    expand = common.expand(params, INTENT_EXPANDS)
    sim = request.sim
    payment = common.intent(sim, request.args["id"])
    status = views.status_of(payment)
    if status != "requires_capture":
        raise unexpected_state(
            "captured",
            status,
            ("requires_capture",),
            payment_intent=views.payment_intent(payment, sim),
        )
    amount = common.amount(params, "amount_to_capture")
    if amount is not None and amount > payment.amount_capturable:
        raise AmountTooLarge(
            f"The amount to capture ({amount}) is greater than the amount capturable "
            f"({payment.amount_capturable}).",
            param="amount_to_capture",
        )
    return common.intent_answer(sim, sim.capture(payment.id, amount=amount), expand)


def cancel_intent(request: Request) -> Answer:
    """``POST /v1/payment_intents/{id}/cancel``."""
    params = request.params
    forms.reject_unknown(params, ("cancellation_reason", "expand"))
    expand = common.expand(params, INTENT_EXPANDS)
    sim = request.sim
    payment = common.intent(sim, request.args["id"])
    reason = None
    if "cancellation_reason" in params:
        reason = forms.to_enum(
            params["cancellation_reason"], "cancellation_reason", _CANCELLATION_REASONS
        )
    status = views.status_of(payment)
    allowed = (
        "requires_payment_method",
        "requires_capture",
        "requires_confirmation",
        "requires_action",
    )
    if status not in allowed:
        raise unexpected_state(
            "canceled", status, allowed, payment_intent=views.payment_intent(payment, sim)
        )
    return common.intent_answer(sim, sim.cancel(payment.id, cancellation_reason=reason), expand)


def authenticate_intent(request: Request) -> Answer:
    """paysim's test helper: complete (``outcome=succeed``) or fail 3-D Secure of an intent in
    ``requires_action``, as its hosted page does (what ``paysim.authenticate`` calls); the
    intent comes back, a failed authentication too."""
    params = request.params
    forms.reject_unknown(params, ("outcome", "expand"))
    expand = common.expand(params, INTENT_EXPANDS)
    sim = request.sim
    payment = common.intent(sim, request.args["id"])
    outcome = "succeed"
    if "outcome" in params:
        outcome = forms.to_enum(params["outcome"], "outcome", AUTHENTICATION_OUTCOMES)
    status = views.status_of(payment)
    if status != "requires_action":
        raise unexpected_state(
            "authenticated",
            status,
            ("requires_action",),
            payment_intent=views.payment_intent(payment, sim),
        )
    # The intent, failed or not (200): the customer acted, the helper did not confirm.
    return common.intent_answer(sim, sim.authenticate(payment.id, outcome=outcome), expand)

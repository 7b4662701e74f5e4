"""Payment methods: card creation, retrieve, attach to a customer, detach, and list.

A created method is any card number of SPEC section 9 (Stripe's checks of the number, expiry
and CVC apply: 402 ``incorrect_number``, ...); confirming an intent with it pays as that card
does (declines, 3-D Secure). The test ids (``pm_card_visa``, ...) exist without being created;
attaching one makes a new ``pm_`` method of its card, as at Stripe.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from pytest_paysim.core.simulator import Simulator
from pytest_paysim.stripe import cards, forms, views
from pytest_paysim.stripe.errors import StripeError
from pytest_paysim.stripe.resources import common
from pytest_paysim.stripe.resources.common import Answer, Request

__all__ = [
    "attach_payment_method",
    "create_payment_method",
    "detach_payment_method",
    "list_payment_methods",
    "retrieve_payment_method",
]

_TYPES = ("card",)
_NOT_ATTACHED = (
    "The payment method you provided is not attached to a customer so detachment is impossible."
)
_ATTACHED_ELSEWHERE = (
    "The payment method you provided has already been attached to a customer. Detach it "
    "first to attach it to another one."
)


def create_payment_method(request: Request) -> Answer:
    """``POST /v1/payment_methods`` (``type=card``, ``card[number]``, ``card[exp_month]``,
    ``card[exp_year]``, ``card[cvc]``)."""
    params = request.params
    forms.reject_unknown(params, ("type", "card", "expand"))
    common.expand(params, ())
    forms.to_enum(forms.require(params, "type"), "type", _TYPES)
    card = forms.as_mapping(forms.require(params, "card"), "card")
    forms.reject_unknown(card, ("number", "exp_month", "exp_year", "cvc"), prefix="card")
    number = forms.to_string(forms.require(card, "number", prefix="card"), "card[number]")
    exp_month = forms.to_integer(forms.require(card, "exp_month", prefix="card"), "card[exp_month]")
    exp_year = forms.to_integer(forms.require(card, "exp_year", prefix="card"), "card[exp_year]")
    cvc = forms.to_string(card["cvc"], "card[cvc]") if "cvc" in card else None
    sim = request.sim
    checked = cards.card_for_number(
        number or "", exp_month=exp_month, exp_year=exp_year, today=_today(sim), cvc=cvc
    )
    method = sim.create_payment_method(
        card_number=checked.number, exp_month=checked.exp_month, exp_year=checked.exp_year
    )
    return 200, views.payment_method(method)


def retrieve_payment_method(request: Request) -> Answer:
    """``GET /v1/payment_methods/{id}``: a created method, or a test id."""
    forms.reject_unknown(request.params, ("expand",))
    common.expand(request.params, ())
    sim = request.sim
    created = int(sim.clock.now())  # a test id exists without being created: made "now"
    return 200, views.payment_method_of(sim, request.args["id"], created=created)


def attach_payment_method(request: Request) -> Answer:
    """``POST /v1/payment_methods/{id}/attach`` (``customer``)."""
    params = request.params
    forms.reject_unknown(params, ("customer", "expand"))
    common.expand(params, ())
    sim = request.sim
    method_id = request.args["id"]
    test_card = cards.TEST_PAYMENT_METHODS.get(method_id)
    record = None if test_card is not None else views.stored_method(sim, method_id)
    customer_value = forms.require(params, "customer")
    customer_id = forms.to_string(customer_value, "customer") or ""
    common.customer(sim, customer_id, param="customer", in_body=True)
    if test_card is not None:
        # As at Stripe, a test id is a token: each use makes a new method of its card.
        record = sim.create_payment_method(
            card_number=test_card.number,
            exp_month=test_card.exp_month,
            exp_year=test_card.exp_year,
        )
    assert record is not None
    if record.customer not in (None, customer_id):
        raise StripeError(_ATTACHED_ELSEWHERE, param="customer")
    return 200, views.payment_method(sim.attach_payment_method(record.id, customer_id))


def detach_payment_method(request: Request) -> Answer:
    """``POST /v1/payment_methods/{id}/detach``: a method attached to a customer."""
    forms.reject_unknown(request.params, ("expand",))
    common.expand(request.params, ())
    sim = request.sim
    method_id = request.args["id"]
    if method_id in cards.TEST_PAYMENT_METHODS:
        raise StripeError(_NOT_ATTACHED)
    if views.stored_method(sim, method_id).customer is None:
        raise StripeError(_NOT_ATTACHED)
    return 200, views.payment_method(sim.detach_payment_method(method_id))


def list_payment_methods(request: Request) -> Answer:
    """``GET /v1/payment_methods``, newest first: a customer's (``customer``), or every created
    one; ``type`` is ``card``, the only type there is."""
    params = request.params
    forms.reject_unknown(
        params, ("customer", "type", "limit", "starting_after", "ending_before", "expand")
    )
    common.expand(params, ())
    if "type" in params:
        forms.to_enum(params["type"], "type", _TYPES)
    sim = request.sim
    customer_id = common.string(params, "customer")
    if customer_id is not None:
        common.customer(sim, customer_id, param="customer", in_body=True)
    methods = common.scan(
        lambda limit, after: sim.payment_methods(
            customer=customer_id, limit=limit, starting_after=after
        )
    )
    items = [views.payment_method(method) for method in methods]
    return 200, common.page(items, params, "/v1/payment_methods")


def _today(sim: Simulator) -> date:
    """The simulator clock's date (UTC): what a card's expiry is checked against."""
    return datetime.fromtimestamp(sim.clock.now(), tz=timezone.utc).date()

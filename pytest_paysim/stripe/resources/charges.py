"""Charges: one per confirmation attempt of a payment intent; retrieve and list."""

from __future__ import annotations

from pytest_paysim.errors import ResourceMissing as NativeResourceMissing
from pytest_paysim.stripe import forms, views
from pytest_paysim.stripe.errors import ResourceMissing
from pytest_paysim.stripe.resources import common
from pytest_paysim.stripe.resources.common import Answer, Request

__all__ = ["list_charges", "retrieve_charge"]

_CHARGE_EXPANDS = ("payment_intent",)


def retrieve_charge(request: Request) -> Answer:
    """``GET /v1/charges/{id}``."""
    forms.reject_unknown(request.params, ("expand",))
    expand = common.expand(request.params, _CHARGE_EXPANDS)
    charge_id = request.args["id"]
    try:
        record = request.sim.get_charge(charge_id)
    except NativeResourceMissing:
        raise ResourceMissing("charge", charge_id) from None
    payment = request.sim.get_payment(record.payment_id)
    return 200, views.charge(record, payment, request.sim, expand=expand)


def list_charges(request: Request) -> Answer:
    """``GET /v1/charges``, newest first (``payment_intent``, ``customer``; ``expand[]`` takes
    ``data.payment_intent``)."""
    params = request.params
    forms.reject_unknown(
        params, ("payment_intent", "customer", "limit", "starting_after", "ending_before", "expand")
    )
    expand = common.list_expand(params, _CHARGE_EXPANDS)
    intent_id = common.string(params, "payment_intent")
    customer = common.string(params, "customer")
    if intent_id is not None:
        payments = [common.intent(request.sim, intent_id, param="payment_intent", in_body=True)]
    else:
        payments = common.stripe_payments(request.sim)
    items = [
        views.charge(charge, payment, request.sim, expand=expand)
        for payment in payments
        if customer is None or payment.customer == customer
        for charge in reversed(payment.charges)
    ]
    items.sort(key=lambda item: item["created"], reverse=True)  # stable: ties keep their order
    return 200, common.page(items, params, "/v1/charges")

"""Refunds of a payment intent's captured charge: create, retrieve and list (newest first)."""

from __future__ import annotations

from pytest_paysim.core.models import Payment
from pytest_paysim.core.simulator import Simulator
from pytest_paysim.errors import AmountTooLarge, ParameterInvalid, ParameterMissing
from pytest_paysim.errors import ResourceMissing as NativeResourceMissing
from pytest_paysim.stripe import forms, views
from pytest_paysim.stripe.errors import (
    ChargeAlreadyRefunded,
    PaymentIntentUnexpectedState,
    ResourceMissing,
)
from pytest_paysim.stripe.resources import common
from pytest_paysim.stripe.resources.common import Answer, Request

__all__ = ["create_refund", "list_refunds", "retrieve_refund"]

_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_REFUND_EXPANDS = ("charge", "payment_intent")


def create_refund(request: Request) -> Answer:
    """``POST /v1/refunds`` of a payment intent's (or its charge's) captured amount."""
    params = request.params
    forms.reject_unknown(
        params, ("payment_intent", "charge", "amount", "reason", "metadata", "expand")
    )
    expand = common.expand(params, _REFUND_EXPANDS)
    sim = request.sim
    intent_id = common.string(params, "payment_intent")
    charge_id = common.string(params, "charge")
    if intent_id is None and charge_id is None:
        raise ParameterMissing(
            "One of the following params should be provided for this request: payment_intent "
            "or charge.",
            param="payment_intent",
        )
    if intent_id is not None:
        payment = common.intent(sim, intent_id, param="payment_intent", in_body=True)
    else:
        assert charge_id is not None
        payment = _charge_payment(sim, charge_id)
        if intent_id is not None and payment.id != intent_id:
            raise ParameterInvalid("The charge is not of this PaymentIntent.", param="charge")
    captured = next(
        (charge for charge in reversed(payment.charges) if charge.status == "succeeded"), None
    )
    if payment.status not in ("succeeded", "captured", "refunded") or captured is None:
        raise PaymentIntentUnexpectedState(
            f"This PaymentIntent ({payment.id}) does not have a successful charge to refund.",
            payment_intent=views.payment_intent(payment, sim),
        )
    if charge_id is not None and charge_id != captured.id:
        raise ParameterInvalid(f"Charge {charge_id} has no money to refund.", param="charge")
    left = payment.amount_captured - payment.amount_refunded
    if left <= 0:
        raise ChargeAlreadyRefunded(captured.id)
    amount = common.amount(params, "amount")
    if amount is not None and amount > left:
        raise AmountTooLarge(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
            param="amount",
        )
    reason = None
    if "reason" in params:
        reason = forms.to_enum(params["reason"], "reason", _REFUND_REASONS)
    metadata = forms.merge_metadata({}, params["metadata"]) if "metadata" in params else None
    refund = sim.refund(payment.id, amount=amount, reason=reason, metadata=metadata)
    payment = sim.get_payment(payment.id)
    return 200, views.refund(refund, payment, sim, expand=expand)


def retrieve_refund(request: Request) -> Answer:
    """``GET /v1/refunds/{id}``."""
    forms.reject_unknown(request.params, ("expand",))
    expand = common.expand(request.params, _REFUND_EXPANDS)
    refund_id = request.args["id"]
    try:
        refund = request.sim.get_refund(refund_id)
        payment = request.sim.get_payment(refund.payment_id)
    except NativeResourceMissing:
        raise ResourceMissing("refund", refund_id) from None
    if payment.dialect != "stripe":
        raise ResourceMissing("refund", refund_id)
    return 200, views.refund(refund, payment, request.sim, expand=expand)


def list_refunds(request: Request) -> Answer:
    """``GET /v1/refunds``, newest first (``payment_intent``, ``charge``); failed ones too."""
    params = request.params
    forms.reject_unknown(
        params, ("payment_intent", "charge", "limit", "starting_after", "ending_before", "expand")
    )
    expand = common.list_expand(params, _REFUND_EXPANDS)
    sim = request.sim
    intent_id = common.string(params, "payment_intent")
    if intent_id is not None:
        common.intent(sim, intent_id, param="payment_intent", in_body=True)
    charge_id = common.string(params, "charge")
    if charge_id is not None:
        _charge_payment(sim, charge_id)
    refunds = common.scan(
        lambda limit, after: sim.refunds(
            limit=limit,
            starting_after=after,
            payment_id=intent_id,
            charge_id=charge_id,
            dialect="stripe",
        )
    )
    payments: dict[str, Payment] = {}
    items = []
    for refund in refunds:
        payment = payments.get(refund.payment_id)
        if payment is None:
            payment = payments[refund.payment_id] = sim.get_payment(refund.payment_id)
        items.append(views.refund(refund, payment, sim, expand=expand))
    return 200, common.page(items, params, "/v1/refunds")


def _charge_payment(sim: Simulator, charge_id: str) -> Payment:
    """The payment intent of a charge named in the body, or 400 ``resource_missing``."""
    try:
        payment = sim.get_payment(sim.get_charge(charge_id).payment_id)
    except NativeResourceMissing:
        raise ResourceMissing("charge", charge_id, param="charge", in_body=True) from None
    if payment.dialect != "stripe":
        raise ResourceMissing("charge", charge_id, param="charge", in_body=True)
    return payment

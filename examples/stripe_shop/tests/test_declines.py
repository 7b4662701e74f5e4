"""Declines: Stripe's decline test cards, and declines forced with the plugin's tools."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from flask.testing import FlaskClient

from stripe_shop.tests.helpers import STRIPE_APIS, WAIT, acknowledged, order_of, place_order


def _pay(customer: FlaskClient, order_id: str, payment_method: str) -> Any:
    return customer.post(f"/orders/{order_id}/pay", json={"payment_method": payment_method})


def _settled(paysim_webhooks: Any, event_type: str, intent_id: str) -> Any:
    """The shop's acknowledged delivery of ``event_type`` for ``intent_id``."""
    return paysim_webhooks.wait_for(
        event_type, payment_id=intent_id, where=acknowledged, timeout=WAIT
    )


@pytest.mark.parametrize("stripe_api", STRIPE_APIS, indirect=True)
@pytest.mark.parametrize(
    ("payment_method", "code", "decline_code"),
    [
        pytest.param(
            "pm_card_chargeDeclinedInsufficientFunds",
            "card_declined",
            "insufficient_funds",
            id="insufficient-funds",
        ),
        pytest.param("pm_card_chargeDeclined", "card_declined", "generic_decline", id="generic"),
        pytest.param(
            "pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card", id="expired"
        ),
    ],
)
def test_a_declined_card(
    stripe_api: str,
    paysim: Any,
    paysim_webhooks: Any,
    customer: FlaskClient,
    payment_method: str,
    code: str,
    decline_code: str,
) -> None:
    order = place_order(customer, amount=4200)["order"]
    intent_id = order["payment_intent_id"]

    # The SDK raised stripe.CardError; the shop tells the customer.
    response = _pay(customer, order["id"], payment_method)
    assert response.status_code == 402
    error = response.get_json()["error"]
    assert (error["code"], error["decline_code"]) == (code, decline_code)
    assert error["message"]

    _settled(paysim_webhooks, "payment_intent.payment_failed", intent_id)
    failed = order_of(customer, order["id"])
    assert (failed["status"], failed["decline_code"]) == ("failed", decline_code)
    # A 402 is an answer, not an outage: the SDK did not retry it.
    [confirm] = paysim.assert_called("POST", "/stripe/v1/payment_intents/*/confirm", times=1)
    assert confirm.status == 402
    [charge] = stripe.Charge.list(payment_intent=intent_id).data
    assert (charge.status, charge.failure_code) == ("failed", code)
    paysim_webhooks.assert_not_received("payment_intent.succeeded", payment_id=intent_id)


def test_a_decline_forced_for_one_payment_intent(
    paysim: Any, paysim_webhooks: Any, customer: FlaskClient
) -> None:
    unlucky = place_order(customer)["order"]
    lucky = place_order(customer)["order"]
    paysim.force_outcome(
        "fail", payment_id=unlucky["payment_intent_id"], decline_code="stolen_card"
    )

    # The same good card: the rule decides for the one intent it names.
    declined = _pay(customer, unlucky["id"], "pm_card_visa")
    assert declined.status_code == 402
    assert declined.get_json()["error"]["decline_code"] == "stolen_card"
    assert _pay(customer, lucky["id"], "pm_card_visa").status_code == 200

    _settled(paysim_webhooks, "payment_intent.payment_failed", unlucky["payment_intent_id"])
    _settled(paysim_webhooks, "payment_intent.succeeded", lucky["payment_intent_id"])
    assert order_of(customer, unlucky["id"])["status"] == "failed"
    assert order_of(customer, unlucky["id"])["decline_code"] == "stolen_card"
    assert order_of(customer, lucky["id"])["status"] == "paid"


def test_every_payment_declined(paysim: Any, paysim_webhooks: Any, customer: FlaskClient) -> None:
    paysim.force_outcome("fail", times=None, decline_code="fraudulent")
    orders = [place_order(customer)["order"] for _ in range(3)]
    for order in orders:
        response = _pay(customer, order["id"], "pm_card_visa")
        assert response.status_code == 402
        assert response.get_json()["error"]["decline_code"] == "fraudulent"
    for order in orders:
        _settled(paysim_webhooks, "payment_intent.payment_failed", order["payment_intent_id"])
        assert order_of(customer, order["id"])["status"] == "failed"
    paysim_webhooks.assert_not_received("payment_intent.succeeded")


@pytest.mark.paysim(outcome="fail")
def test_the_marker_declines_the_whole_test(paysim_webhooks: Any, customer: FlaskClient) -> None:
    order = place_order(customer)["order"]
    response = _pay(customer, order["id"], "pm_card_visa")
    assert response.status_code == 402
    assert response.get_json()["error"]["decline_code"] == "generic_decline"
    _settled(paysim_webhooks, "payment_intent.payment_failed", order["payment_intent_id"])
    assert order_of(customer, order["id"])["status"] == "failed"


def test_a_decline_then_another_card(
    paysim: Any, paysim_webhooks: Any, customer: FlaskClient
) -> None:
    order = place_order(customer)["order"]
    intent_id = order["payment_intent_id"]
    declined = _pay(customer, order["id"], "pm_card_chargeDeclinedInsufficientFunds")
    assert declined.status_code == 402
    _settled(paysim_webhooks, "payment_intent.payment_failed", intent_id)
    assert order_of(customer, order["id"])["status"] == "failed"

    paid = _pay(customer, order["id"], "pm_card_visa")
    assert paid.status_code == 200
    assert paid.get_json()["payment"]["status"] == "succeeded"
    _settled(paysim_webhooks, "payment_intent.succeeded", intent_id)
    settled = order_of(customer, order["id"])
    assert (settled["status"], settled["decline_code"]) == ("paid", None)
    assert [event["type"] for event in settled["events"]] == [
        "payment_intent.payment_failed",
        "payment_intent.succeeded",
    ]
    charges = stripe.Charge.list(payment_intent=intent_id).data
    assert sorted(charge.status for charge in charges) == ["failed", "succeeded"]


def test_an_unknown_payment_method_is_refused(
    paysim: Any, paysim_webhooks: Any, customer: FlaskClient
) -> None:
    order = place_order(customer)["order"]
    response = _pay(customer, order["id"], "pm_does_not_exist")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "payment_rejected"
    assert order_of(customer, order["id"])["status"] == "pending"
    assert stripe.Charge.list(payment_intent=order["payment_intent_id"]).data == []

"""3-D Secure: the intent waits in ``requires_action`` until the customer's bank says yes or no."""

from __future__ import annotations

from typing import Any

import stripe
from flask.testing import FlaskClient

from stripe_shop.tests.helpers import SHOP_URL, WAIT, acknowledged, order_of, place_order


def _settled(paysim_webhooks: Any, event_type: str, intent_id: str) -> Any:
    return paysim_webhooks.wait_for(
        event_type, payment_id=intent_id, where=acknowledged, timeout=WAIT
    )


def _pay(customer: FlaskClient, order_id: str, payment_method: str) -> Any:
    return customer.post(f"/orders/{order_id}/pay", json={"payment_method": payment_method})


def test_authentication_required_then_completed(
    paysim: Any, paysim_webhooks: Any, customer: FlaskClient
) -> None:
    order = place_order(customer, amount=5000)["order"]
    intent_id = order["payment_intent_id"]

    response = _pay(customer, order["id"], "pm_card_authenticationRequired")
    assert response.status_code == 200, response.get_json()
    payment = response.get_json()["payment"]
    assert payment["status"] == "requires_action"
    # The shop sends the customer to their bank, with a way back to the shop.
    intent = stripe.PaymentIntent.retrieve(intent_id)
    assert intent.next_action.type == "redirect_to_url"
    assert payment["redirect_url"] == intent.next_action.redirect_to_url.url
    assert (
        intent.next_action.redirect_to_url.return_url == f"{SHOP_URL}/orders/{order['id']}/return"
    )

    _settled(paysim_webhooks, "payment_intent.requires_action", intent_id)
    assert order_of(customer, order["id"])["status"] == "authenticating"
    waiting = customer.get(f"/orders/{order['id']}/return")
    assert waiting.get_json()["message"] == "Please confirm the payment with your bank."
    assert stripe.Charge.list(payment_intent=intent_id).data == []

    # The customer confirms with the bank.
    assert paysim.authenticate(intent_id)["status"] == "succeeded"
    _settled(paysim_webhooks, "payment_intent.succeeded", intent_id)
    paid = order_of(customer, order["id"])
    assert paid["status"] == "paid"
    assert [event["type"] for event in paid["events"]] == [
        "payment_intent.requires_action",
        "payment_intent.succeeded",
    ]
    assert customer.get(f"/orders/{order['id']}/return").get_json()["message"].startswith("Thank")
    paysim_webhooks.assert_sequence(
        [
            "payment_intent.created",
            "payment_intent.requires_action",
            "charge.succeeded",
            "payment_intent.succeeded",
        ],
        payment_id=intent_id,
    )
    [charge] = stripe.Charge.list(payment_intent=intent_id).data
    assert charge.status == "succeeded"


def test_authentication_failed_then_another_card(
    paysim: Any, paysim_webhooks: Any, customer: FlaskClient
) -> None:
    order = place_order(customer)["order"]
    intent_id = order["payment_intent_id"]
    assert _pay(customer, order["id"], "pm_card_authenticationRequired").status_code == 200
    _settled(paysim_webhooks, "payment_intent.requires_action", intent_id)

    assert paysim.authenticate(intent_id, outcome="fail")["status"] == "requires_payment_method"
    _settled(paysim_webhooks, "payment_intent.payment_failed", intent_id)
    failed = order_of(customer, order["id"])
    assert (failed["status"], failed["decline_code"]) == (
        "failed",
        "payment_intent_authentication_failure",
    )

    assert _pay(customer, order["id"], "pm_card_visa").status_code == 200
    _settled(paysim_webhooks, "payment_intent.succeeded", intent_id)
    assert order_of(customer, order["id"])["status"] == "paid"


def test_authenticated_and_then_declined(
    paysim: Any, paysim_webhooks: Any, customer: FlaskClient
) -> None:
    order = place_order(customer)["order"]
    intent_id = order["payment_intent_id"]
    # Any card goes to 3-D Secure, and the bank declines it once authenticated.
    paysim.force_outcome("requires_action", payment_id=intent_id, decline_code="insufficient_funds")
    response = _pay(customer, order["id"], "pm_card_visa")
    assert response.get_json()["payment"]["status"] == "requires_action"
    _settled(paysim_webhooks, "payment_intent.requires_action", intent_id)

    authenticated = paysim.authenticate(intent_id)
    assert authenticated["status"] == "requires_payment_method"
    assert authenticated["last_payment_error"]["decline_code"] == "insufficient_funds"
    _settled(paysim_webhooks, "payment_intent.payment_failed", intent_id)
    failed = order_of(customer, order["id"])
    assert (failed["status"], failed["decline_code"]) == ("failed", "insufficient_funds")

"""Checkout: an order, its payment intent at Stripe, and the webhook that settles it."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from flask.testing import FlaskClient

from stripe_shop.tests.helpers import (
    STRIPE_APIS,
    WAIT,
    WEBHOOK_URL,
    acknowledged,
    order_of,
    place_order,
)


@pytest.mark.parametrize("stripe_api", STRIPE_APIS, indirect=True)
def test_paid_order(
    stripe_api: str,
    paysim: Any,
    paysim_webhooks: Any,
    webhook_endpoint: Any,
    customer: FlaskClient,
) -> None:
    placed = place_order(customer, amount=3900, currency="EUR")
    order = placed["order"]
    assert order["status"] == "pending"
    intent_id = order["payment_intent_id"]
    assert intent_id.startswith("pi_")

    # What the shop asked of Stripe: one intent, made with the order's own idempotency key.
    intent = stripe.PaymentIntent.retrieve(intent_id)
    assert (intent.amount, intent.currency, intent.status) == (
        3900,
        "eur",
        "requires_payment_method",
    )
    assert intent.metadata["order_id"] == order["id"]
    assert placed["client_secret"] == intent.client_secret
    [create] = paysim.assert_called("POST", "/stripe/v1/payment_intents", times=1)
    assert create.idempotency_key == f"{order['id']}-payment-intent"
    assert create.request["metadata"] == {"order_id": order["id"]}

    response = customer.post(f"/orders/{order['id']}/pay", json={"payment_method": "pm_card_visa"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["payment"] == {"payment_intent": intent_id, "status": "succeeded"}
    # Paid at Stripe, but the shop waits for the webhook to say so.
    delivery = paysim_webhooks.wait_for(
        "payment_intent.succeeded", payment_id=intent_id, where=acknowledged, timeout=WAIT
    )
    assert delivery.url == WEBHOOK_URL
    event = stripe.Webhook.construct_event(
        delivery.body, delivery.headers["Stripe-Signature"], webhook_endpoint.secret
    )
    assert event.id == delivery.event_id

    paid = order_of(customer, order["id"])
    assert paid["status"] == "paid"
    assert paid["paid_at"] == event.created
    assert paid["events"] == [{"id": event.id, "type": "payment_intent.succeeded"}]
    [charge] = stripe.Charge.list(payment_intent=intent_id).data
    assert (charge.status, charge.amount, charge.payment_method) == (
        "succeeded",
        3900,
        "pm_card_visa",
    )
    paysim.assert_called("POST", "/stripe/v1/payment_intents/*/confirm", times=1)
    paysim_webhooks.assert_sequence(
        ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"],
        payment_id=intent_id,
    )
    # The endpoint got only the types it was registered for; the rest were only captured.
    assert {d.type for d in paysim_webhooks if d.url == WEBHOOK_URL} == {"payment_intent.succeeded"}


def test_the_browser_confirms_with_the_client_secret(
    paysim_server: Any, paysim_webhooks: Any, customer: FlaskClient
) -> None:
    placed = place_order(customer, amount=1250, currency="gbp")
    order = placed["order"]

    # What Stripe.js does in the customer's browser: the publishable key and the client secret.
    # The shop hears of the payment from the webhook alone.
    confirmed = stripe.PaymentIntent.confirm(
        order["payment_intent_id"],
        payment_method="pm_card_mastercard",
        client_secret=placed["client_secret"],
        api_key=paysim_server.publishable_key,
    )
    assert confirmed.status == "succeeded"

    paysim_webhooks.wait_for(
        "payment_intent.succeeded",
        payment_id=order["payment_intent_id"],
        where=acknowledged,
        timeout=WAIT,
    )
    assert order_of(customer, order["id"])["status"] == "paid"
    back = customer.get(f"/orders/{order['id']}/return")
    assert back.get_json()["message"].startswith("Thank you")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"amount": 0, "currency": "eur"}, id="zero-amount"),
        pytest.param({"amount": "12", "currency": "eur"}, id="text-amount"),
        pytest.param({"amount": 1200, "currency": "euro"}, id="bad-currency"),
        pytest.param({"amount": 1200}, id="no-currency"),
        pytest.param(["not", "an", "object"], id="not-an-object"),
    ],
)
def test_a_bad_order_never_reaches_stripe(paysim: Any, customer: FlaskClient, body: Any) -> None:
    response = customer.post("/orders", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_order"
    paysim.assert_called("POST", "/stripe/v1/payment_intents", times=0)


def test_a_paid_order_cannot_be_paid_again(
    paysim: Any, paysim_webhooks: Any, customer: FlaskClient
) -> None:
    order = place_order(customer)["order"]
    pay = {"payment_method": "pm_card_visa"}
    assert customer.post(f"/orders/{order['id']}/pay", json=pay).status_code == 200
    paysim_webhooks.wait_for(
        "payment_intent.succeeded",
        payment_id=order["payment_intent_id"],
        where=acknowledged,
        timeout=WAIT,
    )

    again = customer.post(f"/orders/{order['id']}/pay", json=pay)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "order_not_payable"
    paysim.assert_called("POST", "/stripe/v1/payment_intents/*/confirm", times=1)
    assert len(stripe.Charge.list(payment_intent=order["payment_intent_id"]).data) == 1
    assert customer.get("/orders/ord_nope").status_code == 404

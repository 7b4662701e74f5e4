"""Refunds through Stripe: the order shows them when ``charge.refunded`` says so."""

from __future__ import annotations

from typing import Any

import stripe
from flask.testing import FlaskClient

from stripe_shop.tests.helpers import WAIT, acknowledged, order_of, place_order


def _paid_order(customer: FlaskClient, paysim_webhooks: Any, amount: int = 2500) -> dict[str, Any]:
    order = place_order(customer, amount=amount)["order"]
    paid = customer.post(f"/orders/{order['id']}/pay", json={"payment_method": "pm_card_visa"})
    assert paid.status_code == 200, paid.get_json()
    paysim_webhooks.wait_for(
        "payment_intent.succeeded",
        payment_id=order["payment_intent_id"],
        where=acknowledged,
        timeout=WAIT,
    )
    return order


def _refunded(paysim_webhooks: Any, intent_id: str, count: int = 1) -> Any:
    return paysim_webhooks.wait_for(
        "charge.refunded", payment_id=intent_id, where=acknowledged, count=count, timeout=WAIT
    )


def test_a_full_refund(paysim: Any, paysim_webhooks: Any, customer: FlaskClient) -> None:
    order = _paid_order(customer, paysim_webhooks)
    intent_id = order["payment_intent_id"]

    response = customer.post(f"/orders/{order['id']}/refund")
    assert response.status_code == 200, response.get_json()
    refund = response.get_json()["refund"]
    assert (refund["amount"], refund["status"]) == (2500, "succeeded")

    delivery = _refunded(paysim_webhooks, intent_id)
    assert delivery.payment["refunded"] is True
    refunded = order_of(customer, order["id"])
    assert (refunded["status"], refunded["amount_refunded"]) == ("refunded", 2500)
    [call] = paysim.assert_called("POST", "/stripe/v1/refunds", times=1)
    assert call.request["payment_intent"] == intent_id
    assert call.request["metadata"] == {"order_id": order["id"]}
    [stored] = stripe.Refund.list(payment_intent=intent_id).data
    assert (stored.id, stored.reason) == (refund["id"], "requested_by_customer")

    # Nothing is left to refund.
    again = customer.post(f"/orders/{order['id']}/refund")
    assert again.status_code == 409
    paysim.assert_called("POST", "/stripe/v1/refunds", times=1)


def test_partial_refunds(paysim_webhooks: Any, customer: FlaskClient) -> None:
    order = _paid_order(customer, paysim_webhooks, amount=3000)
    intent_id = order["payment_intent_id"]

    part = customer.post(f"/orders/{order['id']}/refund", json={"amount": 1000})
    assert part.get_json()["refund"]["amount"] == 1000
    _refunded(paysim_webhooks, intent_id)
    partly = order_of(customer, order["id"])
    assert (partly["status"], partly["amount_refunded"]) == ("paid", 1000)

    rest = customer.post(f"/orders/{order['id']}/refund")
    assert rest.get_json()["refund"]["amount"] == 2000
    _refunded(paysim_webhooks, intent_id, count=2)
    refunded = order_of(customer, order["id"])
    assert (refunded["status"], refunded["amount_refunded"]) == ("refunded", 3000)
    assert [event["type"] for event in refunded["events"]] == [
        "payment_intent.succeeded",
        "charge.refunded",
        "charge.refunded",
    ]


def test_a_refund_stripe_refuses(paysim: Any, paysim_webhooks: Any, customer: FlaskClient) -> None:
    order = _paid_order(customer, paysim_webhooks, amount=1000)
    response = customer.post(f"/orders/{order['id']}/refund", json={"amount": 5000})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["param"]) == ("refund_rejected", "amount")
    assert "greater than" in error["message"]
    assert stripe.Refund.list(payment_intent=order["payment_intent_id"]).data == []
    assert order_of(customer, order["id"])["status"] == "paid"


def test_a_failed_refund(paysim: Any, paysim_webhooks: Any, customer: FlaskClient) -> None:
    order = _paid_order(customer, paysim_webhooks)
    paysim.force_refund_outcome("fail")

    response = customer.post(f"/orders/{order['id']}/refund")
    assert response.status_code == 502
    error = response.get_json()["error"]
    assert (error["code"], error["refund"]["status"]) == ("refund_failed", "failed")
    paysim_webhooks.wait_for("refund.failed", payment_id=order["payment_intent_id"], timeout=WAIT)
    paysim_webhooks.assert_not_received("charge.refunded")
    assert order_of(customer, order["id"])["status"] == "paid"


def test_an_unpaid_order_is_not_refunded(paysim: Any, customer: FlaskClient) -> None:
    order = place_order(customer)["order"]
    response = customer.post(f"/orders/{order['id']}/refund")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "order_not_refundable"
    paysim.assert_called("POST", "/stripe/v1/refunds", times=0)


def test_a_lost_refund_answer_refunds_once(
    paysim: Any, paysim_webhooks: Any, customer: FlaskClient
) -> None:
    order = _paid_order(customer, paysim_webhooks)
    intent_id = order["payment_intent_id"]
    paysim.inject_fault(method="POST", path="/stripe/v1/refunds", status=500, when="after")

    response = customer.post(f"/orders/{order['id']}/refund")
    assert response.status_code == 200, response.get_json()

    first, retry = paysim.assert_called("POST", "/stripe/v1/refunds", times=2)
    assert (first.status, retry.replayed) == (500, True)
    assert first.idempotency_key == retry.idempotency_key
    assert len(stripe.Refund.list(payment_intent=intent_id).data) == 1
    _refunded(paysim_webhooks, intent_id)
    assert order_of(customer, order["id"])["amount_refunded"] == 2500
    paysim_webhooks.assert_received("charge.refunded", payment_id=intent_id, count=1)

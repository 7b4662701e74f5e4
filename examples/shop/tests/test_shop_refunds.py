"""Refunds: through the gateway, settled by the ``payment.refunded`` webhook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.tests.helpers import GOOD_CARD, acknowledged, order_of


@pytest.fixture
def paid_order(
    paysim: Any, paysim_webhooks: Any, place_order: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    """An order of 25.00 EUR, paid, with the shop told so."""
    order: dict[str, Any] = place_order(amount=2500)["order"]
    paysim.pay(order["payment_id"], card_number=GOOD_CARD)
    paysim_webhooks.wait_for(
        "payment.succeeded", payment_id=order["payment_id"], where=acknowledged
    )
    return order


def test_full_refund_marks_the_order_refunded(
    paysim: Any, paysim_webhooks: Any, customer: FlaskClient, paid_order: dict[str, Any]
) -> None:
    response = customer.post(f"/orders/{paid_order['id']}/refund")
    assert response.status_code == 200, response.get_json()
    refund = response.get_json()["refund"]
    assert (refund["status"], refund["amount"]) == ("succeeded", 2500)
    assert refund["reason"] == "requested_by_customer"

    paysim_webhooks.wait_for(
        "payment.refunded", payment_id=paid_order["payment_id"], where=acknowledged
    )
    order = order_of(customer, paid_order["id"])
    assert (order["status"], order["amount_refunded"]) == ("refunded", 2500)
    assert paysim.get_payment(paid_order["payment_id"])["status"] == "refunded"


def test_partial_refunds_until_nothing_is_left(
    paysim_webhooks: Any, customer: FlaskClient, paid_order: dict[str, Any]
) -> None:
    payment_id = paid_order["payment_id"]
    assert (
        customer.post(f"/orders/{paid_order['id']}/refund", json={"amount": 1000}).status_code
        == 200
    )
    paysim_webhooks.wait_for("payment.refunded", payment_id=payment_id, where=acknowledged)
    order = order_of(customer, paid_order["id"])
    assert (order["status"], order["amount_refunded"]) == ("paid", 1000)

    assert customer.post(f"/orders/{paid_order['id']}/refund").status_code == 200
    paysim_webhooks.wait_for("payment.refunded", payment_id=payment_id, count=2, where=acknowledged)
    order = order_of(customer, paid_order["id"])
    assert (order["status"], order["amount_refunded"]) == ("refunded", 2500)


def test_unpaid_order_is_not_refundable(
    paysim: Any, customer: FlaskClient, place_order: Callable[..., dict[str, Any]]
) -> None:
    order = place_order()["order"]
    response = customer.post(f"/orders/{order['id']}/refund")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "order_not_refundable"
    assert paysim.get_payment(order["payment_id"])["refunds"] == []


def test_declined_refund_leaves_the_order_paid(
    paysim: Any, paysim_webhooks: Any, customer: FlaskClient, paid_order: dict[str, Any]
) -> None:
    paysim.force_refund_outcome("fail")
    response = customer.post(f"/orders/{paid_order['id']}/refund")
    assert response.status_code == 502
    assert response.get_json()["refund"]["status"] == "failed"

    paysim_webhooks.wait_for(
        "payment.refund_failed", payment_id=paid_order["payment_id"], where=acknowledged
    )
    assert order_of(customer, paid_order["id"])["status"] == "paid"


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"status": 503, "when": "before"}, id="503-before"),
        pytest.param({"status": 502, "when": "after"}, id="lost-response"),
        pytest.param({"drop_connection": True, "when": "after"}, id="dropped-after"),
    ],
)
def test_refund_retried_with_the_same_key_refunds_once(
    paysim: Any,
    paysim_webhooks: Any,
    shop_app: Flask,
    customer: FlaskClient,
    paid_order: dict[str, Any],
    fault: dict[str, Any],
) -> None:
    paysim.inject_fault(method="POST", path="/v1/payments/*/refund", **fault)

    response = customer.post(f"/orders/{paid_order['id']}/refund")
    assert response.status_code == 200, response.get_json()

    # Exactly one refund at the gateway, and the customer got back what they paid, once.
    payment = paysim.get_payment(paid_order["payment_id"])
    assert [refund["amount"] for refund in payment["refunds"]] == [2500]
    assert payment["amount_refunded"] == 2500
    paysim_webhooks.wait_for(
        "payment.refunded", payment_id=paid_order["payment_id"], where=acknowledged
    )
    paysim_webhooks.assert_received("payment.refunded", count=1)
    assert order_of(customer, paid_order["id"])["status"] == "refunded"

    calls = [call for call in shop_app.extensions["shop"].gateway.calls if "refund" in call.path]
    assert len(calls) == 2
    assert calls[0].idempotency_key == calls[1].idempotency_key
    # After a lost answer, the retry is a replay of the refund already made.
    assert calls[1].replayed is (fault["when"] == "after")

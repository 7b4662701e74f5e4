"""Checkout: an order, its payment at the gateway, and the webhook that settles it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from shop.tests.helpers import GOOD_CARD, SHOP_URL, WEBHOOK_URL, acknowledged, order_of


def test_paid_order(
    paysim: Any,
    paysim_webhooks: Any,
    customer: FlaskClient,
) -> None:
    response = customer.post(
        "/orders",
        json={
            "currency": "EUR",
            "items": [
                {"sku": "tee", "quantity": 2, "unit_amount": 1500},
                {"sku": "mug", "quantity": 1, "unit_amount": 900},
            ],
        },
    )
    assert response.status_code == 201, response.get_json()
    placed = response.get_json()
    order = placed["order"]
    assert order["status"] == "pending"
    assert order["amount"] == 3900

    # What the shop asked of the gateway.
    payment = paysim.get_payment(order["payment_id"])
    assert payment["amount"] == 3900
    assert payment["currency"] == "eur"
    assert payment["metadata"] == {"order_id": order["id"], "webhook_url": WEBHOOK_URL}
    assert placed["payment_url"] == payment["payment_url"]
    assert placed["payment_url"].startswith(paysim.url + "/pay/")

    # The customer pays on the hosted page; the webhook settles the order.
    paysim.pay(payment["id"], card_number=GOOD_CARD)
    delivery = paysim_webhooks.wait_for(
        "payment.succeeded", payment_id=payment["id"], where=acknowledged
    )
    assert delivery.url == WEBHOOK_URL
    assert delivery.status_code == 200
    assert delivery.verify()["data"]["object"]["status"] == "succeeded"

    paid = order_of(customer, order["id"])
    assert paid["status"] == "paid"
    assert paid["decline_code"] is None
    assert [event["type"] for event in paid["events"]] == ["payment.created", "payment.succeeded"]
    paysim_webhooks.assert_sequence(
        ["payment.created", "payment.succeeded"], payment_id=payment["id"]
    )
    paysim_webhooks.assert_all_signed()

    # Back from the hosted page: the shop shows what the webhook said.
    back = customer.get(f"/orders/{order['id']}/return?payment_id={payment['id']}")
    assert back.get_json()["message"].startswith("Thank you")


def test_decline_by_test_card(
    paysim: Any,
    paysim_webhooks: Any,
    customer: FlaskClient,
    place_order: Callable[..., dict[str, Any]],
) -> None:
    order = place_order(amount=4200)["order"]
    payment = paysim.pay(order["payment_id"], card_number="4000 0000 0000 9995")
    assert payment["status"] == "failed"

    paysim_webhooks.wait_for("payment.failed", payment_id=order["payment_id"], where=acknowledged)
    failed = order_of(customer, order["id"])
    assert failed["status"] == "failed"
    assert failed["decline_code"] == "insufficient_funds"
    paysim_webhooks.assert_not_received("payment.succeeded")


@pytest.mark.parametrize(
    ("force", "decline_code"),
    [
        pytest.param({"decline_code": "lost_card"}, "lost_card", id="force_outcome"),
        pytest.param(
            None, "generic_decline", id="marker", marks=pytest.mark.paysim(outcome="fail")
        ),
    ],
)
def test_forced_decline(
    paysim: Any,
    paysim_webhooks: Any,
    customer: FlaskClient,
    place_order: Callable[..., dict[str, Any]],
    force: dict[str, Any] | None,
    decline_code: str,
) -> None:
    order = place_order()["order"]
    if force is not None:
        paysim.force_outcome("fail", payment_id=order["payment_id"], **force)
    # The customer uses a good card; the forced outcome wins.
    paysim.pay(order["payment_id"], card_number=GOOD_CARD)

    paysim_webhooks.wait_for("payment.failed", payment_id=order["payment_id"], where=acknowledged)
    failed = order_of(customer, order["id"])
    assert failed["status"] == "failed"
    assert failed["decline_code"] == decline_code


def test_declined_then_paid_with_another_card(
    paysim: Any,
    paysim_webhooks: Any,
    customer: FlaskClient,
    place_order: Callable[..., dict[str, Any]],
) -> None:
    order = place_order()["order"]
    paysim.pay(order["payment_id"], card_number="4000000000000002")
    paysim_webhooks.wait_for("payment.failed", payment_id=order["payment_id"], where=acknowledged)
    assert order_of(customer, order["id"])["status"] == "failed"

    paysim.pay(order["payment_id"], card_number=GOOD_CARD)
    paysim_webhooks.wait_for(
        "payment.succeeded", payment_id=order["payment_id"], where=acknowledged
    )
    paid = order_of(customer, order["id"])
    assert paid["status"] == "paid"
    assert paid["decline_code"] is None
    assert [event["type"] for event in paid["events"]] == [
        "payment.created",
        "payment.failed",
        "payment.succeeded",
    ]


@pytest.mark.paysim(clock="2030-01-01T00:00:00Z")
def test_frozen_clock(
    paysim: Any,
    paysim_webhooks: Any,
    customer: FlaskClient,
    place_order: Callable[..., dict[str, Any]],
) -> None:
    order = place_order()["order"]
    payment = paysim.get_payment(order["payment_id"])
    assert payment["created_at"] == "2030-01-01T00:00:00.000Z"

    paysim.clock.advance(90)
    paysim.pay(payment["id"])
    delivery = paysim_webhooks.wait_for(
        "payment.succeeded", payment_id=payment["id"], where=acknowledged
    )
    assert delivery.event["created_at"] == "2030-01-01T00:01:30.000Z"
    # The shop records when the gateway says the payment happened.
    assert order_of(customer, order["id"])["paid_at"] == "2030-01-01T00:01:30.000Z"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({"currency": "eur"}, "amount", id="no-amount"),
        pytest.param({"amount": 0, "currency": "eur"}, "amount", id="zero-amount"),
        pytest.param({"amount": 100, "currency": "euro"}, "currency", id="bad-currency"),
        pytest.param(
            {"items": [{"sku": "tee", "quantity": 1, "unit_amount": 1.5}], "currency": "eur"},
            "unit_amount",
            id="float-price",
        ),
    ],
)
def test_bad_order_is_refused_before_the_gateway(
    paysim: Any,
    customer: FlaskClient,
    body: dict[str, Any],
    message: str,
) -> None:
    response = customer.post("/orders", json=body)
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]
    assert paysim.payments() == []


def test_gateway_refusal_is_a_clear_error_not_retried(
    paysim: Any,
    shop_app: Any,
    customer: FlaskClient,
) -> None:
    # "xyz" passes the shop's format check but is no ISO 4217 currency: the gateway says 400.
    response = customer.post("/orders", json={"amount": 500, "currency": "xyz"})
    assert response.status_code == 502
    error = response.get_json()["error"]
    assert "400 parameter_invalid" in error["message"]
    assert response.get_json()["order"]["status"] == "payment_error"
    calls = shop_app.extensions["shop"].gateway.calls
    assert [call.outcome for call in calls] == ["400 parameter_invalid"]
    assert paysim.payments() == []


def test_unknown_order_is_404(customer: FlaskClient) -> None:
    response = customer.get("/orders/ord_missing")
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "no order ord_missing"


def test_shop_url_is_routed_in_process(shop_app: Any) -> None:
    import requests

    # route_webhooks sends everything under the shop's URL into the Flask app, no socket.
    response = requests.get(SHOP_URL + "/orders/ord_missing", timeout=5)
    assert response.status_code == 404

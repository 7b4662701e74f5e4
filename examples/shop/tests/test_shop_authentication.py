"""Checkout with 3-D Secure: the payment waits for the customer's bank, then settles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from shop.tests.helpers import GOOD_CARD, acknowledged, order_of

THREE_D_SECURE_CARD = "4000 0027 6000 3184"


def test_checkout_that_needs_authentication(
    paysim: Any,
    paysim_webhooks: Any,
    customer: FlaskClient,
    place_order: Callable[..., dict[str, Any]],
) -> None:
    order = place_order(amount=5400)["order"]
    payment_id = order["payment_id"]

    waiting = paysim.pay(payment_id, card_number=THREE_D_SECURE_CARD)
    assert waiting["status"] == "requires_action"
    redirect = waiting["next_action"]["redirect_to_url"]
    assert redirect["url"].startswith(paysim.url + "/authenticate/")
    assert redirect["return_url"].endswith(f"/orders/{order['id']}/return")

    # Neither paid nor failed: the shop waits, and tells the customer so.
    paysim_webhooks.wait_for("payment.requires_action", payment_id=payment_id, where=acknowledged)
    assert order_of(customer, order["id"])["status"] == "authenticating"
    back = customer.get(f"/orders/{order['id']}/return?payment_id={payment_id}")
    assert back.get_json()["message"] == "Please confirm the payment with your bank."

    # The customer confirms with the bank; the webhook settles the order.
    assert paysim.authenticate(payment_id)["status"] == "succeeded"
    paysim_webhooks.wait_for("payment.succeeded", payment_id=payment_id, where=acknowledged)
    paid = order_of(customer, order["id"])
    assert paid["status"] == "paid"
    assert [event["type"] for event in paid["events"]] == [
        "payment.created",
        "payment.requires_action",
        "payment.succeeded",
    ]
    paysim_webhooks.assert_all_signed()


def test_failed_authentication_then_another_card(
    paysim: Any,
    paysim_webhooks: Any,
    customer: FlaskClient,
    place_order: Callable[..., dict[str, Any]],
) -> None:
    order = place_order(amount=1200)["order"]
    payment_id = order["payment_id"]
    paysim.force_outcome("requires_action", payment_id=payment_id)
    assert paysim.pay(payment_id, card_number=GOOD_CARD)["status"] == "requires_action"

    failed = paysim.authenticate(payment_id, outcome="fail")
    assert (failed["status"], failed["failure_code"]) == ("failed", "authentication_failed")
    paysim_webhooks.wait_for("payment.failed", payment_id=payment_id, where=acknowledged)
    shown = order_of(customer, order["id"])
    assert (shown["status"], shown["decline_code"]) == ("failed", "authentication_failed")

    # The customer tries again, and this time the card needs no authentication.
    assert paysim.pay(payment_id, card_number=GOOD_CARD)["status"] == "succeeded"
    paysim_webhooks.wait_for("payment.succeeded", payment_id=payment_id, where=acknowledged)
    assert order_of(customer, order["id"])["status"] == "paid"


def test_card_declined_after_authentication(
    paysim: Any,
    paysim_webhooks: Any,
    customer: FlaskClient,
    place_order: Callable[..., dict[str, Any]],
) -> None:
    order = place_order(amount=800)["order"]
    payment_id = order["payment_id"]
    paysim.pay(payment_id, card_number="4000 0082 6000 3178")
    declined = paysim.authenticate(payment_id)
    assert (declined["status"], declined["decline_code"]) == ("failed", "insufficient_funds")
    paysim_webhooks.wait_for("payment.failed", payment_id=payment_id, where=acknowledged)
    assert order_of(customer, order["id"])["decline_code"] == "insufficient_funds"

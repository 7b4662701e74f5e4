"""Lost answers and outages: the SDK's own retries, with its idempotency keys, charge once.

The shop sets ``stripe.max_network_retries`` (2, from ``STRIPE_MAX_NETWORK_RETRIES``). The SDK
sends an ``Idempotency-Key`` with every POST, the same on each retry; the shop gives the
intent's creation a key of the order's. A fault with ``when="after"`` lets Stripe act and then
loses its answer: the retry must get the stored answer back, not a second charge.
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from flask.testing import FlaskClient

from stripe_shop.tests.helpers import STRIPE_APIS, WAIT, acknowledged, order_of, place_order

CONFIRM = "/stripe/v1/payment_intents/*/confirm"


@pytest.mark.parametrize("stripe_api", STRIPE_APIS, indirect=True)
@pytest.mark.parametrize(
    "lost",
    [
        pytest.param({"status": 502}, id="502-after-the-charge"),
        pytest.param({"status": None, "drop_connection": True}, id="dropped-after-the-charge"),
    ],
)
def test_a_lost_confirmation_charges_once(
    stripe_api: str,
    paysim: Any,
    paysim_webhooks: Any,
    customer: FlaskClient,
    lost: dict[str, Any],
) -> None:
    order = place_order(customer)["order"]
    intent_id = order["payment_intent_id"]
    paysim.inject_fault(method="POST", path=CONFIRM, when="after", **lost)

    response = customer.post(f"/orders/{order['id']}/pay", json={"payment_method": "pm_card_visa"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["payment"]["status"] == "succeeded"

    first, retry = paysim.assert_called("POST", CONFIRM, times=2)
    assert first.fault is not None
    assert first.fault["when"] == "after"
    assert first.status == lost["status"]  # None: no answer at all
    assert (retry.status, retry.replayed, retry.fault) == (200, True, None)
    assert first.idempotency_key is not None
    assert retry.idempotency_key == first.idempotency_key  # the SDK's own key, reused
    assert len(stripe.Charge.list(payment_intent=intent_id).data) == 1

    paysim_webhooks.wait_for(
        "payment_intent.succeeded", payment_id=intent_id, where=acknowledged, timeout=WAIT
    )
    paid = order_of(customer, order["id"])
    assert paid["status"] == "paid"
    assert [event["type"] for event in paid["events"]] == ["payment_intent.succeeded"]
    paysim_webhooks.assert_received("payment_intent.succeeded", payment_id=intent_id, count=1)


def test_a_lost_creation_makes_one_payment_intent(paysim: Any, customer: FlaskClient) -> None:
    paysim.inject_fault(method="POST", path="/stripe/v1/payment_intents", status=503, when="after")

    order = place_order(customer, amount=1800)["order"]

    first, retry = paysim.assert_called("POST", "/stripe/v1/payment_intents", times=2)
    assert (first.status, retry.replayed) == (503, True)
    # The shop's key for the order, sent again by the SDK's retry.
    assert first.idempotency_key == retry.idempotency_key == f"{order['id']}-payment-intent"
    assert retry.response["id"] == order["payment_intent_id"]
    intents = stripe.PaymentIntent.list().data
    assert [intent.id for intent in intents] == [order["payment_intent_id"]]


@pytest.mark.parametrize(
    ("outage", "status", "code"),
    [
        pytest.param({"status": 503}, 502, "payment_provider_error", id="503"),
        pytest.param(
            {"status": None, "drop_connection": True},
            503,
            "payment_provider_unreachable",
            id="no-answer",
        ),
    ],
)
def test_stripe_down_is_retried_a_bounded_number_of_times(
    paysim: Any,
    paysim_webhooks: Any,
    customer: FlaskClient,
    outage: dict[str, Any],
    status: int,
    code: str,
) -> None:
    order = place_order(customer)["order"]
    intent_id = order["payment_intent_id"]
    paysim.inject_fault(method="POST", path=CONFIRM, times=None, **outage)

    pay = {"payment_method": "pm_card_visa"}
    response = customer.post(f"/orders/{order['id']}/pay", json=pay)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    # One attempt and max_network_retries (2) retries, all with one key; nothing charged.
    calls = paysim.assert_called("POST", CONFIRM, times=3)
    assert {call.status for call in calls} == {outage["status"]}
    assert len({call.idempotency_key for call in calls}) == 1
    assert stripe.Charge.list(payment_intent=intent_id).data == []
    assert order_of(customer, order["id"])["status"] == "pending"

    # Stripe is back; the customer tries again.
    paysim.clear_faults()
    assert customer.post(f"/orders/{order['id']}/pay", json=pay).status_code == 200
    paysim_webhooks.wait_for(
        "payment_intent.succeeded", payment_id=intent_id, where=acknowledged, timeout=WAIT
    )
    assert order_of(customer, order["id"])["status"] == "paid"
    assert len(stripe.Charge.list(payment_intent=intent_id).data) == 1


def test_without_retries_the_webhook_still_tells(
    paysim: Any, paysim_webhooks: Any, make_shop: Any
) -> None:
    customer = make_shop(STRIPE_MAX_NETWORK_RETRIES="0").test_client()
    order = place_order(customer)["order"]
    paysim.inject_fault(method="POST", path=CONFIRM, status=502, when="after")

    response = customer.post(f"/orders/{order['id']}/pay", json={"payment_method": "pm_card_visa"})
    # Without a retry the shop's answer cannot know that the charge went through...
    assert response.status_code == 502
    paysim.assert_called("POST", CONFIRM, times=1)
    assert len(stripe.Charge.list(payment_intent=order["payment_intent_id"]).data) == 1
    # ...but the webhook tells the order.
    paysim_webhooks.wait_for(
        "payment_intent.succeeded",
        payment_id=order["payment_intent_id"],
        where=acknowledged,
        timeout=WAIT,
    )
    assert order_of(customer, order["id"])["status"] == "paid"

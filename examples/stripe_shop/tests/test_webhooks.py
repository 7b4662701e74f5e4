"""The shop's webhook handler: signatures, redeliveries, an outage and Stripe's retries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient

from stripe_shop.app import WEBHOOK_PATH
from stripe_shop.tests.helpers import (
    WAIT,
    WEBHOOK_URL,
    FlakyOrderStore,
    acknowledged,
    order_of,
    place_order,
    stripe_signature,
    to_shop,
)


def _forge(delivery: Any, event_type: str = "payment_intent.succeeded") -> bytes:
    """A new event of ``event_type`` made from a genuine delivery's body."""
    event = delivery.json()
    event["id"] = "evt_forged00000000000000001"
    event["type"] = event_type
    event["data"]["object"]["status"] = "succeeded"
    return json.dumps(event).encode()


@pytest.mark.parametrize(
    "tamper", ["tampered-body", "wrong-secret", "stale-timestamp", "no-signature", "not-json"]
)
def test_a_bad_signature_is_rejected(
    paysim_webhooks: Any, webhook_endpoint: Any, customer: FlaskClient, tamper: str
) -> None:
    order = place_order(customer)["order"]
    customer.post(
        f"/orders/{order['id']}/pay", json={"payment_method": "pm_card_authenticationRequired"}
    )
    # A genuine delivery to the shop's endpoint, signed with the endpoint's secret.
    genuine = paysim_webhooks.wait_for(
        "payment_intent.requires_action",
        payment_id=order["payment_intent_id"],
        where=acknowledged,
        timeout=WAIT,
    )
    secret = webhook_endpoint.secret
    stripe.Webhook.construct_event(genuine.body, genuine.headers["Stripe-Signature"], secret)
    assert order_of(customer, order["id"])["status"] == "authenticating"
    body = _forge(genuine)
    if tamper == "tampered-body":
        # The genuine signature, on a body that now says "succeeded".
        headers = {"Stripe-Signature": genuine.headers["Stripe-Signature"]}
    elif tamper == "wrong-secret":
        headers = {"Stripe-Signature": stripe_signature(body, "whsec_" + "A" * 32)}
    elif tamper == "stale-timestamp":  # older than construct_event's 5-minute tolerance
        headers = {"Stripe-Signature": stripe_signature(body, secret, int(time.time()) - 3600)}
    elif tamper == "no-signature":
        headers = {}
    else:
        body = b"{not json"
        headers = {"Stripe-Signature": stripe_signature(body, secret)}

    response = customer.post(WEBHOOK_PATH, data=body, headers=headers)
    assert response.status_code == 400
    expected = "invalid_payload" if tamper == "not-json" else "bad_signature"
    assert response.get_json()["error"]["code"] == expected
    assert order_of(customer, order["id"])["status"] == "authenticating"

    # The same forged event, signed with the endpoint's secret, would have been applied: the
    # 400 above is the signature check's doing, nothing else.
    body = _forge(genuine)
    signed = customer.post(
        WEBHOOK_PATH, data=body, headers={"Stripe-Signature": stripe_signature(body, secret)}
    )
    assert signed.get_json() == {"received": True, "result": "applied"}
    assert order_of(customer, order["id"])["status"] == "paid"


def test_a_redelivered_event_is_not_applied_twice(
    paysim_webhooks: Any, customer: FlaskClient
) -> None:
    order = place_order(customer)["order"]
    customer.post(f"/orders/{order['id']}/pay", json={"payment_method": "pm_card_visa"})
    delivery = paysim_webhooks.wait_for(
        "payment_intent.succeeded",
        payment_id=order["payment_intent_id"],
        where=acknowledged,
        timeout=WAIT,
    )

    again = customer.post(WEBHOOK_PATH, data=delivery.body, headers=delivery.headers)
    assert again.status_code == 200
    assert again.get_json() == {"received": True, "result": "duplicate"}
    events = order_of(customer, order["id"])["events"]
    assert [event["id"] for event in events] == [delivery.event_id]


def test_a_late_failure_does_not_undo_a_payment(
    paysim_webhooks: Any, webhook_endpoint: Any, customer: FlaskClient
) -> None:
    order = place_order(customer)["order"]
    customer.post(f"/orders/{order['id']}/pay", json={"payment_method": "pm_card_visa"})
    paid = paysim_webhooks.wait_for(
        "payment_intent.succeeded",
        payment_id=order["payment_intent_id"],
        where=acknowledged,
        timeout=WAIT,
    )
    # A payment_intent.payment_failed of an earlier attempt, arriving late.
    body = _forge(paid, "payment_intent.payment_failed")
    headers = {"Stripe-Signature": stripe_signature(body, webhook_endpoint.secret)}
    late = customer.post(WEBHOOK_PATH, data=body, headers=headers)
    assert late.get_json() == {"received": True, "result": "applied"}
    assert order_of(customer, order["id"])["status"] == "paid"


def test_an_outage_in_the_handler_is_retried_by_stripe(
    paysim: Any,
    paysim_webhooks: Any,
    webhook_endpoint: Any,
    make_shop: Callable[..., Flask],
) -> None:
    store = FlakyOrderStore()
    customer = make_shop(store=store).test_client()
    # A frozen clock: Stripe's retry waits until the test moves time on.
    paysim.clock.freeze()
    order = place_order(customer)["order"]
    intent_id = order["payment_intent_id"]
    store.outages = 1  # the order database is down for the next write

    paid = customer.post(f"/orders/{order['id']}/pay", json={"payment_method": "pm_card_visa"})
    assert paid.status_code == 200
    first = paysim_webhooks.wait_for(
        "payment_intent.succeeded", payment_id=intent_id, where=to_shop, timeout=WAIT
    )
    assert (first.attempt, first.status_code, first.succeeded) == (1, 500, False)
    assert order_of(customer, order["id"])["status"] == "pending"
    # The retry is due 0.1 s later on the simulator's clock, which stands still.
    with pytest.raises(AssertionError, match="got 1"):
        paysim_webhooks.wait_for(
            "payment_intent.succeeded", payment_id=intent_id, where=to_shop, count=2, timeout=0.3
        )

    paysim.clock.advance(1)
    first, second = paysim_webhooks.wait_for(
        "payment_intent.succeeded", payment_id=intent_id, where=to_shop, count=2, timeout=WAIT
    )
    assert (second.attempt, second.status_code, second.succeeded) == (2, 200, True)
    assert (second.event_id, second.body) == (first.event_id, first.body)
    assert second.sent_at > first.sent_at  # on the simulator's clock
    # Signed again at send time, with the endpoint's secret.
    stripe.Webhook.construct_event(
        second.body, second.headers["Stripe-Signature"], webhook_endpoint.secret
    )

    settled = order_of(customer, order["id"])
    assert settled["status"] == "paid"
    assert [event["type"] for event in settled["events"]] == ["payment_intent.succeeded"]
    assert store.outages == 0
    # Answered with a 2xx at last: Stripe has nothing left to send.
    paysim_webhooks.drain(timeout=WAIT)
    assert len(paysim_webhooks.filter("payment_intent.succeeded", url=WEBHOOK_URL)) == 2


def test_events_for_other_payments_are_acknowledged(
    paysim_webhooks: Any, customer: FlaskClient
) -> None:
    # A payment made elsewhere in the Stripe account (no order of the shop's).
    intent = stripe.PaymentIntent.create(
        amount=700, currency="usd", payment_method="pm_card_visa", confirm=True
    )
    delivery = paysim_webhooks.wait_for(
        "payment_intent.succeeded", payment_id=intent.id, where=to_shop, timeout=WAIT
    )
    # 200, so that Stripe does not retry an event the shop has no use for.
    assert (delivery.status_code, delivery.attempt) == (200, 1)
    answer = customer.post(WEBHOOK_PATH, data=delivery.body, headers=delivery.headers)
    assert answer.get_json() == {"received": True, "result": "ignored"}

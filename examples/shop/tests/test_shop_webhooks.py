"""The shop's webhook receiver: signatures, redeliveries, outages and retries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pytest_paysim.webhooks import sign
from shop.tests.helpers import GOOD_CARD, acknowledged, order_of


def _scheme_of(headers: dict[str, str]) -> str:
    """The signature scheme a genuine delivery used (whatever --paysim-signature says)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if "paysim-signature" in lowered:
        return "paysim"
    return "ed25519" if lowered["webhook-signature"].startswith("v1a,") else "standard"


def _forge(
    delivery: Any,
    secret: str,
    *,
    type: str = "payment.succeeded",
    status: str = "succeeded",
    **sign_options: Any,
) -> tuple[bytes, dict[str, str]]:
    """An event of ``type`` made from a genuine delivery's, signed by hand with ``secret``."""
    event = delivery.json()
    event["id"] = "evt_forged000000000000000001"
    event["type"] = type
    event["data"]["object"]["status"] = status
    body = json.dumps(event).encode()
    headers = sign(body, secret, scheme=_scheme_of(delivery.headers), **sign_options)
    return body, {"Content-Type": "application/json", **headers}


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param("body", id="tampered-body"),
        pytest.param("secret", id="wrong-secret"),
        pytest.param("stale", id="stale-timestamp"),
        pytest.param("unsigned", id="no-signature"),
    ],
)
def test_bad_signature_is_rejected(
    paysim_server: Any,
    paysim_webhooks: Any,
    customer: FlaskClient,
    place_order: Callable[..., dict[str, Any]],
    tamper: str,
) -> None:
    order = place_order()["order"]
    created = paysim_webhooks.wait_for("payment.created", payment_id=order["payment_id"])
    secret = paysim_server.webhook_secret
    scheme = _scheme_of(created.headers)

    if tamper == "body":
        # The genuine signature of payment.created, on a body that now says "succeeded".
        body, _ = _forge(created, secret)
        headers = dict(created.headers)
    elif tamper == "secret":
        other = "whsk_" if scheme == "ed25519" else "whsec_"
        body, headers = _forge(created, other + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    elif tamper == "stale":
        body, headers = _forge(created, secret, timestamp=int(time.time()) - 3600)
    else:
        body, _ = _forge(created, secret)
        headers = {"Content-Type": "application/json"}

    response = customer.post("/webhooks/paysim", data=body, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert order_of(customer, order["id"])["status"] == "pending"

    # The same forged event, correctly signed, would have been accepted: the 400 above is
    # the signature check's doing, nothing else.
    body, headers = _forge(created, secret)
    assert customer.post("/webhooks/paysim", data=body, headers=headers).status_code == 200
    assert order_of(customer, order["id"])["status"] == "paid"


def test_redelivered_event_is_acknowledged_not_reapplied(
    paysim: Any,
    paysim_webhooks: Any,
    customer: FlaskClient,
    place_order: Callable[..., dict[str, Any]],
) -> None:
    order = place_order()["order"]
    paysim.pay(order["payment_id"], card_number=GOOD_CARD)
    delivery = paysim_webhooks.wait_for(
        "payment.succeeded", payment_id=order["payment_id"], where=acknowledged
    )
    assert delivery.json()["id"] == delivery.event_id

    again = customer.post("/webhooks/paysim", data=delivery.body, headers=delivery.headers)
    assert again.status_code == 200
    assert again.get_json() == {"received": True, "result": "duplicate"}
    events = order_of(customer, order["id"])["events"]
    assert [event["id"] for event in events].count(delivery.event_id) == 1


def test_late_failure_does_not_undo_a_payment(
    paysim: Any,
    paysim_server: Any,
    paysim_webhooks: Any,
    customer: FlaskClient,
    place_order: Callable[..., dict[str, Any]],
) -> None:
    order = place_order()["order"]
    paysim.pay(order["payment_id"], card_number=GOOD_CARD)
    paid = paysim_webhooks.wait_for(
        "payment.succeeded", payment_id=order["payment_id"], where=acknowledged
    )
    # A payment.failed from an earlier attempt, arriving late (say, after its retries).
    body, headers = _forge(
        paid, paysim_server.webhook_secret, type="payment.failed", status="failed"
    )
    response = customer.post("/webhooks/paysim", data=body, headers=headers)
    assert response.get_json() == {"received": True, "result": "applied"}
    assert order_of(customer, order["id"])["status"] == "paid"


def test_receiver_fails_once_then_succeeds_on_retry(
    paysim: Any,
    paysim_webhooks: Any,
    shop_app: Flask,
    customer: FlaskClient,
    place_order: Callable[..., dict[str, Any]],
) -> None:
    order = place_order()["order"]
    paysim_webhooks.wait_for("payment.created", payment_id=order["payment_id"], where=acknowledged)
    shop_app.extensions["shop"].webhook_fail_next = 1  # the next delivery hits an outage

    paysim.pay(order["payment_id"], card_number=GOOD_CARD)
    first, second = paysim_webhooks.wait_for(
        "payment.succeeded", payment_id=order["payment_id"], count=2
    )
    assert (first.attempt, first.status_code, first.succeeded) == (1, 500, False)
    assert (second.attempt, second.status_code, second.succeeded) == (2, 200, True)
    assert first.event_id == second.event_id
    assert first.body == second.body

    paid = order_of(customer, order["id"])
    assert paid["status"] == "paid"
    assert [event["type"] for event in paid["events"]].count("payment.succeeded") == 1
    paysim_webhooks.assert_received("payment.succeeded", count=1)


FROZEN_AT = datetime(2030, 1, 1, tzinfo=timezone.utc)


def _fail_payment_deliveries(
    paysim: Any, paysim_webhooks: Any, shop_app: Flask, place_order: Callable[..., Any], times: int
) -> tuple[str, str]:
    """A paid order whose ``payment.succeeded`` the shop answers with 500, ``times`` times."""
    order = place_order()["order"]
    paysim_webhooks.wait_for("payment.created", payment_id=order["payment_id"], where=acknowledged)
    shop_app.extensions["shop"].webhook_fail_next = times
    paysim.pay(order["payment_id"])
    first = paysim_webhooks.wait_for("payment.succeeded", payment_id=order["payment_id"])
    assert first.status_code == 500
    return order["id"], order["payment_id"]


@pytest.mark.paysim(clock="2030-01-01T00:00:00Z")
def test_retry_schedule_under_a_frozen_clock(
    paysim: Any,
    paysim_webhooks: Any,
    shop_app: Flask,
    customer: FlaskClient,
    place_order: Callable[..., dict[str, Any]],
) -> None:
    # Default schedule (ini paysim_webhook_retries): retries 0.1, 0.2 and 0.4 s after a failure.
    order_id, payment_id = _fail_payment_deliveries(
        paysim, paysim_webhooks, shop_app, place_order, times=3
    )
    # The clock stands still, so the retry due 0.1 s later (on it) waits however long we do.
    with pytest.raises(AssertionError, match="got 1"):
        paysim_webhooks.wait_for("payment.succeeded", payment_id=payment_id, count=2, timeout=0.3)
    assert order_of(customer, order_id)["status"] == "pending"

    # Walk through the schedule; each retry fires when the clock reaches its due time.
    for count, step in enumerate((0.1, 0.2, 0.4), start=2):
        paysim.clock.advance(step)
        paysim_webhooks.wait_for("payment.succeeded", payment_id=payment_id, count=count)

    attempts = paysim_webhooks.filter("payment.succeeded", payment_id=payment_id)
    assert [a.status_code for a in attempts] == [500, 500, 500, 200]
    assert [a.attempt for a in attempts] == [1, 2, 3, 4]
    assert [a.sent_at for a in attempts] == [
        FROZEN_AT + timedelta(seconds=seconds) for seconds in (0, 0.1, 0.3, 0.7)
    ]
    assert order_of(customer, order_id)["status"] == "paid"


@pytest.mark.paysim(clock="2030-01-01T00:00:00Z")
def test_whole_retry_schedule_with_one_advance(
    paysim: Any,
    paysim_webhooks: Any,
    shop_app: Flask,
    customer: FlaskClient,
    place_order: Callable[..., dict[str, Any]],
) -> None:
    order_id, payment_id = _fail_payment_deliveries(
        paysim, paysim_webhooks, shop_app, place_order, times=3
    )
    # An hour later, a real gateway would long since have made every retry.
    paysim.clock.advance(3600)
    attempts = paysim_webhooks.wait_for(
        "payment.succeeded", payment_id=payment_id, count=4, timeout=1.0
    )
    assert [a.status_code for a in attempts] == [500, 500, 500, 200]
    assert order_of(customer, order_id)["status"] == "paid"

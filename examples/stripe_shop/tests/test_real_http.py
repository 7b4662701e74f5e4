"""The whole loop over real sockets: customer → shop → Stripe (the dialect) → webhook → shop.

Every other test delivers webhooks into the shop in process; this one serves the shop on a real
werkzeug server (port 0, a daemon thread) and registers its endpoint at that address, so the
deliveries come over HTTP, and ``paysim_stripe`` sends the SDK's calls over loopback too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe
from werkzeug.serving import make_server

from stripe_shop.app import WEBHOOK_EVENTS, WEBHOOK_PATH, create_app
from stripe_shop.tests.helpers import WAIT


@pytest.fixture
def live_shop(
    paysim_stripe: Any, paysim_server: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Any]]:
    """The shop served on 127.0.0.1 (a free port): its base URL and its webhook endpoint."""
    saved = stripe.api_key, stripe.max_network_retries
    # The port comes first: the endpoint's URL names it, and the app needs the endpoint's secret.
    server = make_server("127.0.0.1", 0, None, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    endpoint = paysim_stripe.v1.webhook_endpoints.create(
        params={"url": url + WEBHOOK_PATH, "enabled_events": list(WEBHOOK_EVENTS)}
    )
    monkeypatch.setenv("STRIPE_SECRET_KEY", paysim_server.api_key)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", endpoint.secret)
    monkeypatch.setenv("STRIPE_SHOP_PUBLIC_URL", url)
    server.app = create_app()  # what the server's request handler calls
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield url, endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        stripe.api_key, stripe.max_network_retries = saved


def test_paid_and_refunded_over_real_http(
    paysim: Any, paysim_server: Any, paysim_webhooks: Any, live_shop: tuple[str, Any]
) -> None:
    url, endpoint = live_shop
    with requests.Session() as customer:
        placed = customer.post(
            f"{url}/orders", json={"amount": 990, "currency": "usd"}, timeout=WAIT
        )
        assert placed.status_code == 201, placed.text
        order = placed.json()["order"]
        intent_id = order["payment_intent_id"]

        paid = customer.post(
            f"{url}/orders/{order['id']}/pay", json={"payment_method": "pm_card_visa"}, timeout=WAIT
        )
        assert paid.json()["payment"]["status"] == "succeeded"
        delivery = paysim_webhooks.wait_for(
            "payment_intent.succeeded",
            payment_id=intent_id,
            where=lambda d: d.succeeded,
            timeout=WAIT,
        )
        assert (delivery.url, delivery.status_code) == (url + WEBHOOK_PATH, 200)
        assert delivery.verify(endpoint.secret)["id"] == delivery.event_id
        assert (
            customer.get(f"{url}/orders/{order['id']}", timeout=WAIT).json()["order"]["status"]
            == "paid"
        )

        refunded = customer.post(f"{url}/orders/{order['id']}/refund", timeout=WAIT)
        assert refunded.status_code == 200, refunded.text
        paysim_webhooks.wait_for(
            "charge.refunded", payment_id=intent_id, where=lambda d: d.succeeded, timeout=WAIT
        )
        final = customer.get(f"{url}/orders/{order['id']}", timeout=WAIT).json()["order"]
        assert (final["status"], final["amount_refunded"]) == ("refunded", 990)

        # A forged copy over the same socket: the signature check holds outside the test client.
        forged = customer.post(
            url + WEBHOOK_PATH,
            data=delivery.body,
            headers={"Stripe-Signature": "t=1,v1=" + "0" * 64},
            timeout=WAIT,
        )
        assert forged.status_code == 400
    # The shop's calls reached the dialect over HTTP, at the base paysim_stripe set.
    assert stripe.api_base == paysim_server.stripe_url
    paysim.assert_called("POST", "/stripe/v1/payment_intents/*/confirm", times=1)

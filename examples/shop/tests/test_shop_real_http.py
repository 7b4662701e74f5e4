"""The whole loop over real sockets: customer → shop → gateway → webhook → shop.

Every other test delivers webhooks into the shop in process; this one serves the shop on a real
werkzeug server (port 0, a daemon thread), so the gateway's deliveries come over HTTP, as they
would in production.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from shop.tests.helpers import GOOD_CARD, acknowledged


@pytest.fixture
def live_shop(paysim: Any) -> Iterator[str]:
    """The shop served on 127.0.0.1 (a free port); its base URL."""
    from shop.app import create_app, get_shop

    app = create_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    # The shop's public URL (for its webhook and return URLs) is known once the port is.
    get_shop(app).public_url = url
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_paid_over_real_http(paysim: Any, paysim_webhooks: Any, live_shop: str) -> None:
    with requests.Session() as customer:
        response = customer.post(
            f"{live_shop}/orders", json={"amount": 1250, "currency": "gbp"}, timeout=10
        )
        assert response.status_code == 201, response.text
        order = response.json()["order"]

        paysim.pay(order["payment_id"], card_number=GOOD_CARD)
        delivery = paysim_webhooks.wait_for(
            "payment.succeeded", payment_id=order["payment_id"], where=acknowledged
        )
        assert delivery.url == f"{live_shop}/webhooks/paysim"
        assert delivery.status_code == 200

        # A forged copy over the same socket: the signature check holds outside the test client.
        event = delivery.json()
        event["data"]["object"]["amount"] = 1
        tampered = json.dumps(event).encode()
        rejected = customer.post(
            f"{live_shop}/webhooks/paysim", data=tampered, headers=delivery.headers, timeout=10
        )
        assert rejected.status_code == 400

        shown = customer.get(f"{live_shop}/orders/{order['id']}", timeout=10).json()["order"]
        assert shown["status"] == "paid"
        assert shown["amount"] == 1250

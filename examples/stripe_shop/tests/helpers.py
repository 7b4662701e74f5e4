"""Small helpers shared by the Stripe shop's tests."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from typing import Any

from flask.testing import FlaskClient

from stripe_shop.app import WEBHOOK_PATH
from stripe_shop.store import OrderStore, PaymentNews

SHOP_URL = "http://stripe-shop.test"
WEBHOOK_URL = SHOP_URL + WEBHOOK_PATH
#: Every wait on the webhook log gives up after this many seconds (and fails the test).
WAIT = 10.0
#: The ways the shop's Stripe calls reach the simulator (the ``stripe_api`` fixture).
STRIPE_APIS = ("intercept_stripe", "paysim_stripe")


def place_order(customer: FlaskClient, amount: int = 2500, currency: str = "eur") -> dict[str, Any]:
    """Place an order through the shop's API; the answer (``order``, ``client_secret``)."""
    response = customer.post("/orders", json={"amount": amount, "currency": currency})
    assert response.status_code == 201, response.get_json()
    placed: dict[str, Any] = response.get_json()
    return placed


def order_of(customer: FlaskClient, order_id: str) -> dict[str, Any]:
    """The order as the shop shows it."""
    response = customer.get(f"/orders/{order_id}")
    assert response.status_code == 200
    order: dict[str, Any] = response.get_json()["order"]
    return order


def acknowledged(delivery: Any) -> bool:
    """For ``wait_for(where=...)``: a delivery to the shop that it answered with a 2xx."""
    return delivery.url == WEBHOOK_URL and bool(delivery.succeeded)


def to_shop(delivery: Any) -> bool:
    """For ``wait_for(where=...)``: a delivery attempt to the shop, whatever it answered."""
    return bool(delivery.url == WEBHOOK_URL)


def stripe_signature(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header for ``body``, made by hand as Stripe makes it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class FlakyOrderStore(OrderStore):
    """An order store whose database is down for its next ``outages`` writes of events."""

    def __init__(self, outages: int = 0) -> None:
        super().__init__()
        self.outages = outages
        self._outage_lock = threading.Lock()

    def apply(self, news: PaymentNews) -> str:
        with self._outage_lock:
            if self.outages > 0:
                self.outages -= 1
                raise ConnectionError("the order database is unavailable")
        return super().apply(news)

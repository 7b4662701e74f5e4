"""Small helpers shared by the shop's tests."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

SHOP_URL = "http://shop.test"
WEBHOOK_URL = SHOP_URL + "/webhooks/paysim"
GOOD_CARD = "4242424242424242"


def order_of(customer: FlaskClient, order_id: str) -> dict[str, Any]:
    """The order as the shop shows it."""
    response = customer.get(f"/orders/{order_id}")
    assert response.status_code == 200
    order: dict[str, Any] = response.get_json()["order"]
    return order


def acknowledged(delivery: Any) -> bool:
    """For ``wait_for(where=...)``: the shop answered this attempt with a 2xx."""
    return bool(delivery.succeeded)

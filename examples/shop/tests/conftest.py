"""Fixtures of the shop's tests: a fresh shop per test, wired to the paysim simulator.

The shop calls the gateway over real HTTP (``PAYSIM_URL``); the gateway's webhooks to the shop
are delivered into the Flask app in process with ``paysim.route_webhooks`` (no socket). One test
(``test_shop_real_http.py``) serves the shop on a real port instead.

The shop's modules are imported inside the fixtures, not at the top: without ``--paysim`` the
environment it reads is not set, and its tests are skipped rather than failing to import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.tests.helpers import SHOP_URL


@pytest.fixture
def make_shop(paysim: Any) -> Callable[..., Flask]:
    """Build the shop; keyword arguments tune its gateway client (``timeout=0.2``, ...).

    The shop receives this test's webhooks in process, at ``SHOP_URL``.
    """
    from shop import settings
    from shop.app import create_app
    from shop.gateway import GatewayClient

    def make(**gateway_options: Any) -> Flask:
        gateway = None  # create_app then builds it from shop.settings, as in production
        if gateway_options:
            options = {
                "max_attempts": settings.GATEWAY_MAX_ATTEMPTS,
                "backoff": settings.GATEWAY_BACKOFF,
                "timeout": settings.GATEWAY_TIMEOUT,
                **gateway_options,
            }
            gateway = GatewayClient(settings.GATEWAY_URL, settings.GATEWAY_API_KEY, **options)
        app = create_app(public_url=SHOP_URL, gateway=gateway)
        app.config["TESTING"] = True
        paysim.route_webhooks(SHOP_URL, app)
        return app

    return make


@pytest.fixture
def shop_app(make_shop: Callable[..., Flask]) -> Flask:
    """A new shop (empty order store), its gateway configured from the environment."""
    return make_shop()


@pytest.fixture
def customer(shop_app: Flask) -> FlaskClient:
    """The shop's customer (the Flask test client)."""
    return shop_app.test_client()


@pytest.fixture
def place_order(customer: FlaskClient) -> Callable[..., dict[str, Any]]:
    """Place an order through the shop's API; the answer's JSON (``order``, ``payment_url``)."""

    def place(amount: int = 2500, currency: str = "eur", **body: Any) -> dict[str, Any]:
        response = customer.post("/orders", json={"amount": amount, "currency": currency, **body})
        assert response.status_code == 201, response.get_json()
        result: dict[str, Any] = response.get_json()
        return result

    return place

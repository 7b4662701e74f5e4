"""Fixtures of the Stripe shop's tests: a fresh shop per test, its Stripe the simulator's dialect.

The shop is configured as in production (``STRIPE_SECRET_KEY`` and ``STRIPE_WEBHOOK_SECRET``
in the environment) and never learns where Stripe is. Its SDK calls reach the simulator in one
of two ways (``stripe_api``):

- ``intercept_stripe`` (the default): ``paysim.intercept_stripe()`` routes the SDK's default
  base, ``https://api.stripe.com``, into the dialect in process;
- ``paysim_stripe``: the fixture sets the module-level ``stripe.api_base`` (and ``api_key``)
  to the dialect's URL for the test, so the calls go over loopback HTTP.

A test picks one with ``@pytest.mark.parametrize("stripe_api", [...], indirect=True)``.

The shop's webhook endpoint is registered through the SDK, as one registers it at Stripe, and
its ``secret`` becomes the shop's ``STRIPE_WEBHOOK_SECRET``. ``paysim.route_webhooks`` then
delivers the endpoint's events into the Flask app in process (``test_real_http.py`` serves the
shop on a real port instead).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient

from stripe_shop.app import WEBHOOK_EVENTS, create_app
from stripe_shop.store import OrderStore
from stripe_shop.tests.helpers import SHOP_URL, STRIPE_APIS, WEBHOOK_URL


@pytest.fixture
def stripe_api(request: pytest.FixtureRequest, paysim: Any) -> Iterator[str]:
    """How this test's Stripe calls reach the simulator: ``intercept_stripe`` (default) or
    ``paysim_stripe``. The SDK's module-level settings the shop sets are put back after it."""
    way = getattr(request, "param", "intercept_stripe")
    if way == "intercept_stripe":
        assert stripe.api_base == "https://api.stripe.com", "the shop keeps Stripe's own base"
        paysim.intercept_stripe()
    elif way == "paysim_stripe":
        request.getfixturevalue("paysim_stripe")
    else:
        raise ValueError(f"stripe_api is one of {STRIPE_APIS}, not {way!r}")
    saved = stripe.api_key, stripe.max_network_retries
    try:
        yield way
    finally:
        stripe.api_key, stripe.max_network_retries = saved


@pytest.fixture
def webhook_endpoint(stripe_api: str, paysim_server: Any) -> Any:
    """The shop's webhook endpoint, registered at "Stripe" through the SDK; its ``secret`` is
    the shop's ``STRIPE_WEBHOOK_SECRET``."""
    endpoint = stripe.WebhookEndpoint.create(
        url=WEBHOOK_URL, enabled_events=list(WEBHOOK_EVENTS), api_key=paysim_server.api_key
    )
    assert endpoint.secret.startswith("whsec_")
    return endpoint


@pytest.fixture
def make_shop(
    paysim: Any,
    paysim_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    webhook_endpoint: Any,
) -> Callable[..., Flask]:
    """Build the shop from its environment; ``store=`` replaces its order store, keyword
    ``environment`` entries its environment variables. It receives this test's webhooks."""

    def make(store: OrderStore | None = None, **environment: str) -> Flask:
        settings = {
            "STRIPE_SECRET_KEY": paysim_server.api_key,
            "STRIPE_WEBHOOK_SECRET": webhook_endpoint.secret,
            "STRIPE_SHOP_PUBLIC_URL": SHOP_URL,
            **environment,
        }
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        app = create_app(store=store)
        paysim.route_webhooks(SHOP_URL, app)
        return app

    return make


@pytest.fixture
def shop_app(make_shop: Callable[..., Flask]) -> Flask:
    """A new shop (empty order store), configured from the environment."""
    return make_shop()


@pytest.fixture
def customer(shop_app: Flask) -> FlaskClient:
    """The shop's customer (the Flask test client)."""
    return shop_app.test_client()

"""Helpers of the Stripe dialect's server tests (``conftest`` names collide across folders)."""

from __future__ import annotations

import stripe

from pytest_paysim.server import PaysimServer


def make_client(server: PaysimServer, *, retries: int = 0) -> stripe.StripeClient:
    """A ``StripeClient`` on the dialect (``retries``: the SDK's ``max_network_retries``)."""
    return stripe.StripeClient(
        server.api_key,
        base_addresses={"api": server.stripe_url},
        max_network_retries=retries,
    )

"""Fixtures of the Stripe dialect's tests: one real server on loopback, the official SDK.

``server`` is a :class:`PaysimServer` for the whole module; ``handle`` resets it before each
test (a fresh ``Paysim`` handle, as the plugin gives a test) and owns the webhook log;
``client`` is a ``stripe.StripeClient`` bound to ``server.stripe_url`` that never retries
(tests that want the SDK's retries make their own).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from dialect_support import make_client

from pytest_paysim.backends import LocalBackend
from pytest_paysim.core.simulator import Simulator
from pytest_paysim.handle import Paysim, TestSettings
from pytest_paysim.server import PaysimServer


@pytest.fixture(scope="module")
def server() -> Iterator[PaysimServer]:
    with PaysimServer(seed=14, webhook_retries=(0.05, 0.05)) as running:
        yield running


@pytest.fixture
def handle(server: PaysimServer) -> Iterator[Paysim]:
    handle = Paysim(LocalBackend(server), TestSettings(seed=14))
    yield handle
    handle.close()
    assert server.simulator is not None
    errors = server.simulator.unexpected_errors()
    assert errors == [], "\n".join(errors)


@pytest.fixture
def sim(server: PaysimServer, handle: Paysim) -> Simulator:
    assert server.simulator is not None
    return server.simulator


@pytest.fixture
def client(server: PaysimServer, handle: Paysim) -> stripe.StripeClient:
    return make_client(server)

"""pytest-paysim: a stateful payment-gateway simulator for tests.

    with PaysimServer(seed=1) as server:
        payment = server.client.post("/v1/payments", json={"amount": 500, "currency": "eur"})
"""

from __future__ import annotations

from pytest_paysim._version import __version__
from pytest_paysim.errors import (
    ApiError,
    ConfigurationError,
    PaysimError,
    WebhookVerificationError,
)
from pytest_paysim.server import PaysimClient, PaysimServer

__all__ = [
    "ApiError",
    "ConfigurationError",
    "PaysimClient",
    "PaysimError",
    "PaysimServer",
    "WebhookVerificationError",
    "__version__",
]

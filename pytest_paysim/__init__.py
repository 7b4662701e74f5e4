"""pytest-paysim: a stateful payment-gateway simulator for tests.

    with PaysimServer(seed=1) as server:
        payment = server.client.post("/v1/payments", json={"amount": 500, "currency": "eur"})

Under pytest, ``pytest --paysim`` starts the server and gives each test the ``paysim``,
``paysim_server`` and ``paysim_webhooks`` fixtures (see ``docs/usage.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_paysim._version import __version__
from pytest_paysim.core.calls import Call
from pytest_paysim.core.signing import sign, verify
from pytest_paysim.errors import (
    ApiError,
    ConfigurationError,
    PaysimError,
    WebhookVerificationError,
)
from pytest_paysim.server import PaysimClient, PaysimServer

if TYPE_CHECKING:
    from pytest_paysim.handle import Paysim
    from pytest_paysim.webhooks.log import Delivery, WebhookLog

__all__ = [
    "ApiError",
    "Call",
    "ConfigurationError",
    "Delivery",
    "Paysim",
    "PaysimClient",
    "PaysimError",
    "PaysimServer",
    "WebhookLog",
    "WebhookVerificationError",
    "__version__",
    "sign",
    "verify",
]

# Imported on first use: the pytest plugin registers these modules for assertion rewriting,
# which only works if nothing imported them before.
_LAZY = {
    "Delivery": "pytest_paysim.webhooks.log",
    "WebhookLog": "pytest_paysim.webhooks.log",
    "Paysim": "pytest_paysim.handle",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'pytest_paysim' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)

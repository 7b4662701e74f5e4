"""The shop's configuration, read from the environment when the app is built.

STRIPE_SECRET_KEY            the secret API key (``sk_live_...`` / ``sk_test_...``); required
STRIPE_WEBHOOK_SECRET        the webhook endpoint's signing secret (``whsec_...``); required
STRIPE_MAX_NETWORK_RETRIES   how often the SDK retries a failed request (default 2)
STRIPE_SHOP_PUBLIC_URL       where customers reach the shop (3-D Secure returns there)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["ConfigurationError", "from_environment"]

DEFAULT_PUBLIC_URL = "http://localhost:5000"


class ConfigurationError(Exception):
    """A required setting is missing or malformed."""


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The shop's settings from ``environ`` (default ``os.environ``), as Flask config keys."""
    environ = os.environ if environ is None else environ
    missing = [
        name for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET") if not environ.get(name)
    ]
    if missing:
        raise ConfigurationError(f"set {' and '.join(missing)} in the environment")
    retries = environ.get("STRIPE_MAX_NETWORK_RETRIES", "2")
    if not retries.isdigit():
        raise ConfigurationError("STRIPE_MAX_NETWORK_RETRIES must be a whole number")
    return {
        "STRIPE_SECRET_KEY": environ["STRIPE_SECRET_KEY"],
        "STRIPE_WEBHOOK_SECRET": environ["STRIPE_WEBHOOK_SECRET"],
        "STRIPE_MAX_NETWORK_RETRIES": int(retries),
        "PUBLIC_URL": environ.get("STRIPE_SHOP_PUBLIC_URL", DEFAULT_PUBLIC_URL).rstrip("/"),
    }

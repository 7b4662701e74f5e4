"""The shop's settings, read once from the environment when this module is imported.

This is how a real app reads its configuration, and why pytest-paysim sets ``PAYSIM_URL``,
``PAYSIM_API_KEY`` and ``PAYSIM_WEBHOOK_SECRET`` before test collection: by the time anything
imports this module, they point at the session's simulator.
"""

from __future__ import annotations

import os

#: Base URL of the payment gateway's API.
GATEWAY_URL = os.environ["PAYSIM_URL"].rstrip("/")
#: Secret API key (``sk_test_...``) sent as ``Authorization: Bearer``.
GATEWAY_API_KEY = os.environ["PAYSIM_API_KEY"]
#: The key that verifies webhook signatures: the ``whsec_`` secret, or under the ed25519
#: scheme the ``whpk_`` public key.
WEBHOOK_SECRET = os.environ.get("PAYSIM_WEBHOOK_PUBLIC_KEY") or os.environ["PAYSIM_WEBHOOK_SECRET"]
#: Where customers and the gateway reach this shop (webhook and return URLs are built on it).
PUBLIC_URL = os.environ.get("SHOP_PUBLIC_URL", "http://shop.test").rstrip("/")
#: Gateway calls: attempts per operation, first backoff (doubling), seconds per attempt.
GATEWAY_MAX_ATTEMPTS = int(os.environ.get("SHOP_GATEWAY_MAX_ATTEMPTS", "5"))
GATEWAY_BACKOFF = float(os.environ.get("SHOP_GATEWAY_BACKOFF", "0.05"))
GATEWAY_TIMEOUT = float(os.environ.get("SHOP_GATEWAY_TIMEOUT", "5.0"))

"""Webhooks: the wire format (``sign``/``verify``), delivery, and the test's log.

from pytest_paysim.webhooks import verify
event = verify(request.get_data(), request.headers, secret)
"""

from __future__ import annotations

from pytest_paysim.core.signing import SCHEMES, sign, verify
from pytest_paysim.errors import WebhookVerificationError

__all__ = ["SCHEMES", "WebhookVerificationError", "sign", "verify"]

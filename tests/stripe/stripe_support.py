"""Helpers of the Stripe dialect's tests: an offline HTTP client for the official SDK.

:class:`ScriptedClient` stands in for the SDK's HTTP client: it records each request and gives
a fixed answer, so a test sees exactly what the SDK sends and what it makes of an answer,
without a server or a network.
"""

from __future__ import annotations

import json
from typing import Any

import stripe


class ScriptedClient(stripe.HTTPClient):
    """Records requests as ``(method, url, body)`` and answers ``body`` with ``status``."""

    name = "scripted"

    def __init__(
        self,
        body: dict[str, Any],
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.body = body
        self.status = status
        self.headers = {"Request-Id": "req_test", **(headers or {})}
        self.requests: list[tuple[str, str, str | None]] = []

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None
    ) -> tuple[str, int, dict[str, str]]:
        self.requests.append((method, url, post_data))
        return json.dumps(self.body), self.status, self.headers

    def close(self) -> None:
        pass


def sdk(client: ScriptedClient) -> stripe.StripeClient:
    """A ``StripeClient`` that talks to ``client`` only, and never retries."""
    return stripe.StripeClient("sk_test_x", http_client=client, max_network_retries=0)

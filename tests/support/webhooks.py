"""The webhook tests' toolkit: a simulator bundle, a tamperer, third-party verifiers.

:class:`Env` is a running :class:`PaysimServer` with the ``paysim`` handle and webhook log a
test uses (``tests/webhooks/conftest.py`` makes it and shuts it down). The verifiers are the
third-party ones a real receiver would use (``stripe``, ``standardwebhooks``, ``cryptography``).
The receivers themselves are in :mod:`tests.support.receivers`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import standardwebhooks.webhooks
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import stripe
from pytest_paysim.backends import LocalBackend
from pytest_paysim.core.simulator import Simulator
from pytest_paysim.handle import Paysim
from pytest_paysim.server import PaysimServer
from pytest_paysim.webhooks.log import WebhookLog

FAST_RETRIES = (0.05, 0.05)
"""A short schedule: three attempts within ~0.1 s."""


@dataclass
class Env:
    """A running simulator with the ``paysim`` handle and webhook log a test uses."""

    server: PaysimServer
    backend: LocalBackend
    paysim: Paysim

    @property
    def sim(self) -> Simulator:
        assert self.server.simulator is not None
        return self.server.simulator

    @property
    def webhooks(self) -> WebhookLog:
        return self.paysim.webhooks

    def payment(self, url: str | None = None, **params: Any) -> dict[str, Any]:
        """Create a payment over HTTP (its webhooks go to ``url``, if given)."""
        if url is not None:
            params["metadata"] = {**params.get("metadata", {}), "webhook_url": url}
        params.setdefault("amount", 1999)
        params.setdefault("currency", "usd")
        return self.paysim.create_payment(**params)

    def api_deliveries(self, **query: str) -> list[dict[str, Any]]:
        """``GET /v1/webhook_deliveries`` (newest first)."""
        response = self.server.client.get(
            "/v1/webhook_deliveries", params={"limit": "100", **query}
        )
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data


def tamper(body: bytes) -> bytes:
    """The same event with its amount changed: what an attacker would send."""
    event = json.loads(body)
    event["data"]["object"]["amount"] += 1
    tampered = json.dumps(event, separators=(",", ":")).encode()
    assert tampered != body
    return tampered


# -- third-party verifiers ---------------------------------------------------------------------


def stripe_verify(body: bytes, headers: Mapping[str, str], secret: str) -> Any:
    """Both of Stripe's entry points on a ``paysim`` delivery; the constructed event."""
    header = _get(headers, "Paysim-Signature")
    assert stripe.WebhookSignature.verify_header(body.decode("utf-8"), header, secret, 300)
    return stripe.Webhook.construct_event(body, header, secret, tolerance=300)


def standard_verify(body: bytes, headers: Mapping[str, str], secret: str) -> Any:
    """The ``standardwebhooks`` reference verifier on a ``standard`` delivery."""
    return standardwebhooks.webhooks.Webhook(secret).verify(body, dict(headers))


def ed25519_verify(body: bytes, headers: Mapping[str, str], public_key: str) -> None:
    """``cryptography``'s Ed25519 check on an ``ed25519`` delivery (raises InvalidSignature)."""
    assert public_key.startswith("whpk_")
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key[len("whpk_") :]))
    msg_id = _get(headers, "webhook-id")
    timestamp = _get(headers, "webhook-timestamp")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    entries = _get(headers, "webhook-signature").split()
    assert entries, "empty webhook-signature header"
    assert all(entry.startswith("v1a,") for entry in entries), entries
    errors = []
    for entry in entries:
        try:
            key.verify(base64.b64decode(entry[len("v1a,") :]), signed)
            return
        except Exception as error:  # InvalidSignature: try the next one
            errors.append(error)
    raise errors[0]


def _get(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    raise AssertionError(f"no {name} header in {sorted(headers)}")

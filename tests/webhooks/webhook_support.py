"""Helpers of the webhook tests: a real receiver over loopback, a simulator bundle, verifiers.

:class:`Receiver` is a small threaded werkzeug server on port 0 (daemon threads) that records
every request (headers, raw body, arrival time) as it arrives and answers from a scripted list
of statuses, optionally after hanging or while dribbling its body. :class:`Env` is a running
:class:`PaysimServer` with the ``paysim`` handle and webhook log a test uses. The fixtures in
``conftest.py`` make both and shut them down. The verifiers are the third-party ones a real
receiver would use (``stripe``, ``standardwebhooks``, ``cryptography``).
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import standardwebhooks.webhooks
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

import stripe
from pytest_paysim.backends import LocalBackend
from pytest_paysim.core.simulator import Simulator
from pytest_paysim.handle import Paysim
from pytest_paysim.server import PaysimServer
from pytest_paysim.webhooks.log import WebhookLog

FAST_RETRIES = (0.05, 0.05)
"""A short schedule: three attempts within ~0.1 s."""
EVENT_ID_RE = re.compile(r"^evt_[0-9A-Za-z]{24}$")
DELIVERY_ID_RE = re.compile(r"^whd_[0-9A-Za-z]{24}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        pass


@dataclass
class Received:
    """One request as a receiver saw it, recorded when it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float
    """``time.perf_counter()`` when the request reached the app."""
    wall: float
    """``time.time()`` at the same moment."""
    status: int
    """What the receiver answers (after its hang, if any)."""

    @property
    def attempt(self) -> int:
        return int(self.headers["Paysim-Delivery-Attempt"])

    @property
    def event_id(self) -> str:
        return self.headers["Paysim-Event-Id"]

    def event(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


@dataclass
class Receiver:
    """A webhook receiver: answers ``statuses`` in turn, then ``default``.

    ``hang``: each request waits that long before it is answered; ``dribble``: the answer's
    body is sent one byte every ``dribble`` seconds until the receiver stops. Both are cut
    short when the receiver closes.
    """

    statuses: list[int] = field(default_factory=list)
    default: int = 200
    hang: float = 0.0
    dribble: float = 0.0
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=_QuietHandler
        )
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self.url = self.base_url + "/hooks"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="test-webhook-receiver",
            daemon=True,
        )
        self._thread.start()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        arrived, wall = time.perf_counter(), time.time()
        request = Request(environ)
        body = request.get_data()
        with self._lock:
            status = self.statuses.pop(0) if self.statuses else self.default
            self.received.append(
                Received(
                    method=request.method,
                    path=request.path,
                    headers=dict(request.headers),
                    body=body,
                    arrived=arrived,
                    wall=wall,
                    status=status,
                )
            )
            self._lock.notify_all()
        if self.hang:
            self._stopping.wait(self.hang)
        if self.dribble:
            return Response(self._drip(), status=status)(environ, start_response)
        return Response(f"answered {status}", status=status)(environ, start_response)

    def _drip(self) -> Iterator[bytes]:
        while not self._stopping.wait(self.dribble):
            yield b"."

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Block until ``count`` requests arrived; the first ``count``."""
        with self._lock:
            done = self._lock.wait_for(lambda: len(self.received) >= count, timeout)
            got = list(self.received)
        if not done:
            raise AssertionError(
                f"receiver {self.url} expected {count} requests within {timeout}s, got "
                f"{len(got)}: {[(r.event_id, r.attempt) for r in got]}"
            )
        return got[:count]

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def close(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(2.0)


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


def closed_port_url(path: str = "/hooks") -> str:
    """An http URL on a loopback port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


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

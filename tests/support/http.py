"""The HTTP tests' toolkit: a checking client, error assertions, state snapshots, raw requests.

Every response that goes through :class:`Http` is checked for leaked secrets: an error body
never contains the API key or a client secret (SPEC section 7).
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Mapping
from typing import Any

import requests

from pytest_paysim.server import PaysimServer

SECRET_PATTERNS = (
    re.compile(r"sk_test_[0-9A-Za-z]{6,}"),
    re.compile(r"pay_[0-9A-Za-z]{24}_secret_[0-9A-Za-z]{6,}"),
)

ERROR_TYPES = {
    "parameter_missing": "invalid_request_error",
    "parameter_unknown": "invalid_request_error",
    "parameter_invalid": "invalid_request_error",
    "amount_too_large": "invalid_request_error",
    "invalid_json": "invalid_request_error",
    "idempotency_key_invalid": "invalid_request_error",
    "api_key_missing": "authentication_error",
    "api_key_invalid": "authentication_error",
    "client_secret_invalid": "permission_error",
    "resource_missing": "invalid_request_error",
    "route_missing": "invalid_request_error",
    "method_not_allowed": "invalid_request_error",
    "payment_unexpected_state": "invalid_request_error",
    "idempotency_key_in_use": "idempotency_error",
    "body_too_large": "invalid_request_error",
    "content_type_unsupported": "invalid_request_error",
    "idempotency_key_reused": "idempotency_error",
    "simulator_reset": "invalid_request_error",
}
ERROR_STATUSES = {
    "parameter_missing": 400,
    "parameter_unknown": 400,
    "parameter_invalid": 400,
    "amount_too_large": 400,
    "invalid_json": 400,
    "idempotency_key_invalid": 400,
    "api_key_missing": 401,
    "api_key_invalid": 401,
    "client_secret_invalid": 403,
    "resource_missing": 404,
    "route_missing": 404,
    "method_not_allowed": 405,
    "payment_unexpected_state": 409,
    "idempotency_key_in_use": 409,
    "body_too_large": 413,
    "content_type_unsupported": 415,
    "idempotency_key_reused": 422,
    "simulator_reset": 409,
}
PAYMENT_FIELDS = {
    "id",
    "object",
    "amount",
    "currency",
    "status",
    "capture_method",
    "description",
    "metadata",
    "client_secret",
    "payment_url",
    "return_url",
    "amount_capturable",
    "amount_captured",
    "amount_refunded",
    "failure_code",
    "decline_code",
    "failure_message",
    "cancellation_reason",
    "refunds",
    "created_at",
    "updated_at",
    "next_action",
}
REFUND_FIELDS = {
    "id",
    "object",
    "payment_id",
    "amount",
    "currency",
    "reason",
    "status",
    "created_at",
}
DELIVERY_FIELDS = {
    "id",
    "object",
    "event_id",
    "type",
    "payment_id",
    "url",
    "attempt",
    "status_code",
    "error",
    "succeeded",
    "sent_at",
    "next_attempt_at",
}

_UNSET: Any = object()


def check_no_secrets(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """A ``requests`` response hook: error bodies never show a key or a client secret."""
    if response.status_code >= 400:
        for pattern in SECRET_PATTERNS:
            match = pattern.search(response.text)
            assert match is None, f"secret {match.group(0)!r} leaked in {response.text[:300]}"


class Http:
    """A ``requests`` session against one server; with ``key``, it sends the API key."""

    def __init__(self, server: PaysimServer, key: str | None = None) -> None:
        self.server = server
        self.base_url = server.url
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.hooks["response"].append(check_no_secrets)
        if key is not None:
            self.session.headers["Authorization"] = f"Bearer {key}"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = _UNSET,
        timeout: float = 10,
        **kwargs: Any,
    ) -> requests.Response:
        if json is not _UNSET:
            kwargs["json"] = json
        return self.session.request(method, self.base_url + path, timeout=timeout, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = _UNSET, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- shortcuts that assert success ----------------------------------------------------

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json()

    def create_payment(self, **params: Any) -> dict[str, Any]:
        body = {"amount": 2000, "currency": "usd", **params}
        result: dict[str, Any] = self.ok("POST", "/v1/payments", 201, json=body)
        return result

    def pay(self, payment_id: str, **body: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.ok(
            "POST", f"/v1/payments/{payment_id}/pay", json=body or {"outcome": "succeed"}
        )
        return result

    def payment_in(self, status: str, **params: Any) -> dict[str, Any]:
        """A new payment brought to ``status`` through the API."""
        if status in ("authorized", "captured"):
            params.setdefault("capture_method", "manual")
        payment = self.create_payment(**params)
        pid = payment["id"]
        if status == "requires_payment_method":
            return payment
        if status == "failed":
            return self.pay(pid, outcome="fail")
        payment = self.pay(pid)
        if status == "captured":
            payment = self.ok("POST", f"/v1/payments/{pid}/capture", json={})
        elif status == "refunded":
            self.ok("POST", f"/v1/payments/{pid}/refund", 201, json={})
            payment = self.ok("GET", f"/v1/payments/{pid}")
        elif status == "canceled":
            raise ValueError("use cancel on a fresh payment")
        assert payment["status"] == status, payment
        return payment


def assert_error(
    response: requests.Response,
    code: str,
    *,
    status: int | None = None,
    type: str | None = None,
    param: Any = _UNSET,
) -> dict[str, Any]:
    """Assert the section 5 error shape with this code; returns the ``error`` object."""
    expected_status = status if status is not None else ERROR_STATUSES[code]
    assert response.status_code == expected_status, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert (
        {"type", "code", "message", "param"}
        <= set(error)
        <= {
            "type",
            "code",
            "message",
            "param",
            "payment_id",
        }
    ), error
    assert error["code"] == code, error
    assert error["type"] == (type or ERROR_TYPES[code]), error
    assert isinstance(error["message"], str), error
    assert error["message"], error
    assert "Traceback" not in error["message"]
    if param is not _UNSET:
        assert error["param"] == param, error
    return error


def assert_json_error_shape(response: requests.Response) -> None:
    """Any 4xx of section 5: JSON, the error object, a known code."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    body = response.json()
    error = body["error"]
    assert set(body) == {"error"}
    assert error["code"] in ERROR_TYPES, error
    assert error["type"] == ERROR_TYPES[error["code"]]
    assert response.status_code == ERROR_STATUSES[error["code"]]
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["param"] is None or isinstance(error["param"], str)


def state_of(server: PaysimServer) -> dict[str, Any]:
    """Everything the simulator holds, read in process (fast); equal means nothing changed."""
    sim = server.simulator
    assert sim is not None
    payments, _ = sim.payments(limit=100_000)
    events, _ = sim.events(limit=100_000)
    return {
        "payments": [payment.to_dict() for payment in payments],
        "events": [event.to_dict() for event in events],
        "endpoints": [e.to_dict(with_secret=True) for e in sim.endpoints(dialect=None)],
        "deliveries": [delivery.to_dict() for delivery in sim.deliveries()],
        "pending": [delivery.to_dict() for delivery in sim.pending_deliveries()],
        "faults": sim.faults(),
        "forced": sim.outcomes(),
        "clock": (sim.clock.now(), sim.clock.frozen),
        "generation": sim.generation,
        "settings": sim.settings,
        "secrets": (sim.webhook_secret, sim.webhook_public_key),
    }


def raw_request(server: PaysimServer, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send exact bytes (for header values ``requests`` would refuse); status and body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + b"\r\n\r\n" + body)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    header, _, payload = data.partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1])
    return status, payload


def raw_post(
    server: PaysimServer, path: str, body: bytes, headers: Mapping[str, bytes]
) -> tuple[int, dict[str, Any]]:
    """A POST with raw header bytes; the JSON answer (checked for leaked secrets)."""
    lines = [f"POST {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close"]
    lines += [name.encode() + b": " + value for name, value in headers.items()]
    lines.append(b"Content-Length: %d" % len(body))
    status, payload = raw_request(server, b"\r\n".join(lines), body)
    text = payload.decode("utf-8")
    if status >= 400:
        for pattern in SECRET_PATTERNS:
            assert pattern.search(text) is None, text
    return status, json.loads(text)

"""The shop's client of the payment gateway: JSON over HTTP with ``requests``, with retries.

Every mutating call carries an ``Idempotency-Key`` made once per logical operation and sent
unchanged on every retry, so a retry after a lost answer replays the gateway's stored result
instead of charging or refunding twice::

    gateway = GatewayClient("http://127.0.0.1:8700", "sk_test_...")
    payment = gateway.create_payment(amount=1999, currency="usd", metadata={"order_id": "o1"})

Retried (with a short doubling backoff, at most ``max_attempts`` attempts): connection errors,
timeouts, ``409 idempotency_key_in_use`` (the first attempt is still running), 429 and 5xx.
Anything else raises :class:`GatewayError` at once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

import requests

__all__ = ["GatewayCall", "GatewayClient", "GatewayError", "GatewayUnavailable"]


class GatewayError(Exception):
    """The gateway refused the operation (``status``, ``code`` and ``message`` say why)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        body: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.body = body
        self.idempotency_key = idempotency_key


class GatewayUnavailable(GatewayError):
    """Every attempt failed with a retryable error; the operation's outcome is unknown."""


@dataclass(frozen=True)
class GatewayCall:
    """One HTTP attempt, kept for observability (logs, metrics, tests)."""

    method: str
    path: str
    attempt: int
    idempotency_key: str | None
    outcome: str  # "ok", "503 injected_fault", "timeout", "connection error", ...
    replayed: bool = False


def new_idempotency_key() -> str:
    """A fresh key for one logical operation."""
    return f"shop-{uuid.uuid4().hex}"


class GatewayClient:
    """Calls the gateway's ``/v1`` API with authentication, idempotency keys and retries."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        max_attempts: int = 5,
        backoff: float = 0.05,
        max_backoff: float = 1.0,
        timeout: float = 5.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        #: The latest attempts, oldest first (bounded: this is a log, not a store).
        self.calls: deque[GatewayCall] = deque(maxlen=1000)
        self._api_key = api_key
        self._local = threading.local()

    # -- operations -----------------------------------------------------------------------

    def create_payment(
        self,
        *,
        amount: int,
        currency: str,
        description: str | None = None,
        metadata: dict[str, str] | None = None,
        return_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """``POST /v1/payments``: the new payment (with its ``payment_url``)."""
        body: dict[str, Any] = {"amount": amount, "currency": currency}
        if description is not None:
            body["description"] = description
        if metadata:
            body["metadata"] = metadata
        if return_url is not None:
            body["return_url"] = return_url
        return self.request("POST", "/v1/payments", body, idempotency_key=idempotency_key)

    def refund(
        self,
        payment_id: str,
        *,
        amount: int | None = None,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """``POST /v1/payments/{id}/refund``: the refund (``status`` may be ``failed``)."""
        body: dict[str, Any] = {}
        if amount is not None:
            body["amount"] = amount
        if reason is not None:
            body["reason"] = reason
        return self.request(
            "POST", f"/v1/payments/{payment_id}/refund", body, idempotency_key=idempotency_key
        )

    def get_payment(self, payment_id: str) -> dict[str, Any]:
        """``GET /v1/payments/{id}``."""
        return self.request("GET", f"/v1/payments/{payment_id}")

    # -- the transport --------------------------------------------------------------------

    @property
    def _session(self) -> requests.Session:
        # One session per thread: requests sessions are not documented as thread-safe.
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self._api_key}"
        return session

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Make the call, retrying what is safe to retry; the decoded JSON answer."""
        headers: dict[str, str] = {}
        if method != "GET":
            # Made once for the whole operation: every retry below sends the same key.
            idempotency_key = idempotency_key or new_idempotency_key()
            headers["Idempotency-Key"] = idempotency_key
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._session.request(
                    method,
                    self.base_url + path,
                    json=body if method != "GET" else None,
                    headers=headers,
                    timeout=self.timeout,
                )
            except requests.Timeout:
                last = "timeout"
            except requests.ConnectionError:
                last = "connection error"
            else:
                replayed = response.headers.get("Idempotent-Replayed") == "true"
                if response.status_code < 400:
                    self._record(method, path, attempt, idempotency_key, "ok", replayed)
                    result: dict[str, Any] = response.json()
                    return result
                error = _error_of(response)
                code = error.get("code")
                last = f"{response.status_code} {code or 'error'}"
                if not _retryable(response.status_code, code):
                    self._record(method, path, attempt, idempotency_key, last, replayed)
                    raise GatewayError(
                        f"{method} {path}: the gateway answered {response.status_code} "
                        f"{code}: {error.get('message', response.text[:200])}",
                        status=response.status_code,
                        code=code,
                        body=error,
                        idempotency_key=idempotency_key,
                    )
            self._record(method, path, attempt, idempotency_key, last, False)
            if attempt < self.max_attempts:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), self.max_backoff))
        raise GatewayUnavailable(
            f"{method} {path}: no answer after {self.max_attempts} attempts (last: {last}); "
            "whether it happened is unknown: retry later with the same idempotency key",
            code="unavailable",
            idempotency_key=idempotency_key,
        )

    def _record(
        self,
        method: str,
        path: str,
        attempt: int,
        key: str | None,
        outcome: str,
        replayed: bool,
    ) -> None:
        self.calls.append(GatewayCall(method, path, attempt, key, outcome, replayed))


def _retryable(status: int, code: str | None) -> bool:
    return status == 429 or status >= 500 or (status == 409 and code == "idempotency_key_in_use")


def _error_of(response: requests.Response) -> dict[str, Any]:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return {"message": response.text[:200]}
    return error if isinstance(error, dict) else {"message": str(error)}

"""The page tests' toolkit: the merchant stand-in, `Pages` and API shortcuts."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests
from werkzeug.wrappers import Request, Response

from pytest_paysim.server import PaysimServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ACTION_TIMEOUT_MS = 5_000
HTTP_TIMEOUT = 5


@dataclass
class Shop:
    """The merchant's site: where ``return_url`` leads and webhooks arrive."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        attempt = request.headers.get("Paysim-Delivery-Attempt")
        with self.lock:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "args": request.args.to_dict(flat=False),
                    "attempt": attempt,
                }
            )
        if request.method == "POST" and request.path == "/hooks/flaky" and attempt == "1":
            return Response("first attempts fail", status=500)(environ, start_response)
        if request.method == "POST":
            return Response("ok")(environ, start_response)
        page = '<!doctype html><html lang="en"><title>Shop</title><h1>Thank you</h1></html>'
        return Response(page, content_type="text/html; charset=utf-8")(environ, start_response)

    def visits(self, path: str) -> list[dict[str, Any]]:
        """The GET requests to ``path`` so far."""
        with self.lock:
            return [r for r in self.requests if r["method"] == "GET" and r["path"] == path]


def create_payment(server: PaysimServer, **params: Any) -> dict[str, Any]:
    """A payment made through the API (USD 19.99 unless told otherwise)."""
    body = {"amount": 1999, "currency": "usd", **params}
    response = server.client.post("/v1/payments", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def get_payment(server: PaysimServer, payment_id: str) -> dict[str, Any]:
    """The payment as the API shows it now."""
    response = server.client.get(f"/v1/payments/{payment_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of the page's form."""
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)
    }


def page_form(http: requests.Session, url: str) -> dict[str, str]:
    """GET a payment or 3-D Secure page: the hidden fields its form posts back."""
    response = http.get(url, timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    fields = hidden_fields(response.text)
    assert set(fields) == {"client_secret", "token"}
    return fields


def post_form(
    http: requests.Session, url: str, fields: dict[str, str], **form: str
) -> requests.Response:
    """POST a page's form (its hidden ``fields`` plus ``form``), not following the redirect."""
    return http.post(url, data={**fields, **form}, allow_redirects=False, timeout=HTTP_TIMEOUT)


def wait_for_deliveries(
    server: PaysimServer, payment_id: str, predicate: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """Poll ``GET /v1/webhook_deliveries`` until ``predicate`` holds (5 s at most)."""
    deadline = time.monotonic() + 5.0
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        response = server.client.get(
            "/v1/webhook_deliveries", params={"payment_id": payment_id, "limit": 100}
        )
        assert response.status_code == 200, response.text
        items = response.json()["data"]
        if predicate(items):
            return items
        time.sleep(0.05)
    raise AssertionError(f"deliveries never matched; got {items}")


@dataclass
class Pages:
    """The pages a test opened, and every dialog any of them raised."""

    browser: Browser
    opened: list[Page] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def new(self, **context_options: Any) -> Page:
        context = self.browser.new_context(**context_options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        page = context.new_page()
        page.on("dialog", self._dialog)
        self.opened.append(page)
        return page

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

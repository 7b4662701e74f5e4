"""In-process routing of ``requests`` calls into WSGI apps, with no socket.

Used by ``paysim.intercept(base_url)`` (an app's calls to a fixed gateway URL reach the
simulator) and ``paysim.route_webhooks(base_url, wsgi_app)`` (webhooks reach a Flask or Django
app). It uses one *private* ``responses.RequestsMock`` that passes every other request
through, never the global one, so a test's own ``responses`` mocks are left alone::

    router = InProcessRouter()
    router.route("https://api.gateway.example", simulator_app)
    ...
    router.stop()
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import responses
from requests.adapters import HTTPAdapter
from werkzeug.test import EnvironBuilder, run_wsgi_app

from pytest_paysim.http.app import ConnectionDropped

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["InProcessRouter"]

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class InProcessRouter:
    """Routes of base URL → WSGI app, active from the first ``route`` until ``stop``."""

    def __init__(self) -> None:
        self._mock: responses.RequestsMock | None = None
        self._installed: Any = None
        self.routes: dict[str, WSGIApplication] = {}

    def route(self, base_url: str, app: WSGIApplication) -> None:
        """Send every ``requests`` call under ``base_url`` to ``app``."""
        base = base_url.rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be an absolute http(s) URL, not {base_url!r}")
        if self._mock is None:
            # Other requests go on to whatever sends them now: the network, or a mock the
            # test started before (its own ``responses``), which keeps working.
            self._mock = responses.RequestsMock(
                assert_all_requests_are_fired=False, real_adapter_send=HTTPAdapter.send
            )
            self._mock.add_passthru(re.compile(r".*"))
            self._mock.start()
            self._installed = HTTPAdapter.send
        pattern = re.compile(re.escape(base) + r"(?:[/?#].*)?$")
        callback = _callback(app, parts.path)
        for method in _METHODS:
            self._mock.add_callback(method, pattern, callback=callback, content_type=None)
        self.routes[base] = app

    def stop(self) -> None:
        """Undo the patching."""
        if self._mock is not None:
            current = HTTPAdapter.send
            self._mock.stop(allow_assert=False)
            self._mock.reset()
            self._mock = None
            if current is not self._installed:
                # Someone patched over us and has already undone it (a test's own
                # ``responses`` that ended first): keep what they restored.
                HTTPAdapter.send = current  # type: ignore[method-assign]
        self.routes.clear()


def _callback(
    app: WSGIApplication, script_name: str
) -> Callable[[requests.PreparedRequest], tuple[int, dict[str, str], bytes]]:
    def call(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(request.url or "")
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        path = parts.path[len(script_name) :] if script_name else parts.path
        builder = EnvironBuilder(
            path=path or "/",
            base_url=f"{parts.scheme}://{parts.netloc}{script_name}",
            method=request.method or "GET",
            headers=[(name, value) for name, value in request.headers.items()],
            data=body or b"",
            query_string=parts.query,
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        try:
            app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
        except ConnectionDropped:
            raise requests.ConnectionError("connection dropped by an injected fault") from None
        try:
            data = b"".join(app_iter)
        finally:
            close: Any = getattr(app_iter, "close", None)
            if close is not None:
                close()
        header_map = {name: value for name, value in headers.items() if name != "Content-Length"}
        return int(status.split(" ", 1)[0]), header_map, data

    return call

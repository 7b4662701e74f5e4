"""In-process routing of HTTP calls into WSGI or ASGI apps, with no socket.

Used by ``paysim.intercept(base_url)`` (an app's calls to a fixed gateway URL reach the
simulator, from ``requests`` and from ``httpx``) and ``paysim.route_webhooks(base_url, app)``
(webhooks reach a Flask, Django, FastAPI or Starlette app). ``requests`` calls go through one
*private* ``responses.RequestsMock`` that passes every other request through, never the global
one, so a test's own ``responses`` mocks are left alone; ``httpx`` calls through a respx
router of its own (``_httpx_routes``) that leaves other requests to the test's own respx
routers. An ASGI app is run through a2wsgi's ``ASGIMiddleware``, on one event loop in a daemon
thread that the whole process shares (started on first use, never stopped: a delivery still
running into an app when its test ends finishes instead of hanging its sender)::

    router = InProcessRouter()
    router.route("https://api.gateway.example", simulator_app, httpx=True)
    ...
    router.stop()
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import requests
import responses
from requests.adapters import HTTPAdapter
from werkzeug.test import EnvironBuilder, run_wsgi_app

from pytest_paysim.errors import ConfigurationError

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from pytest_paysim._httpx_routes import HttpxRoutes

__all__ = ["InProcessRouter", "call_wsgi", "is_asgi"]

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class InProcessRouter:
    """Routes of base URL → app, active from the first ``route`` until ``stop``."""

    def __init__(self) -> None:
        self._mock: responses.RequestsMock | None = None
        self._installed: Any = None
        self._httpx: HttpxRoutes | None = None
        self.routes: dict[str, WSGIApplication] = {}

    def route(self, base_url: str, app: Any, *, httpx: bool = False) -> None:
        """Send every ``requests`` call under ``base_url`` to ``app`` (WSGI or ASGI), and with
        ``httpx=True`` every ``httpx`` call too (when httpx is installed)."""
        base = base_url.rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be an absolute http(s) URL, not {base_url!r}")
        routes = self._httpx_routes() if httpx else None  # before anything is patched
        wsgi_app = self._as_wsgi(app)
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
        callback = _callback(wsgi_app, parts.path)
        for method in _METHODS:
            self._mock.add_callback(method, pattern, callback=callback, content_type=None)
        if routes is not None:
            routes.send_to(pattern, wsgi_app, parts.path, call_wsgi)
        self.routes[base] = wsgi_app

    def _httpx_routes(self) -> HttpxRoutes | None:
        """The respx router of httpx calls (started on first use); None without httpx."""
        if self._httpx is not None:
            return self._httpx
        if importlib.util.find_spec("httpx") is None:
            return None  # nothing can send httpx calls
        if importlib.util.find_spec("respx") is None:
            raise ConfigurationError(
                "intercept routes httpx calls too, and httpx is installed but respx, which "
                "does it, is not: pip install 'pytest-paysim[httpx]'"
            )
        from pytest_paysim._httpx_routes import HttpxRoutes

        self._httpx = HttpxRoutes()
        self._httpx.start()
        return self._httpx

    def _as_wsgi(self, app: Any) -> WSGIApplication:
        """``app`` itself when it is a WSGI app; an ASGI app, adapted to run on the shared
        event loop."""
        if not is_asgi(app):
            wsgi_app: WSGIApplication = app
            return wsgi_app
        try:
            from a2wsgi import ASGIMiddleware
        except ImportError:
            raise ConfigurationError(
                f"{app!r} is an ASGI app; delivering into it needs a2wsgi: "
                "pip install 'pytest-paysim[asgi]'"
            ) from None
        wrapped: Any = ASGIMiddleware(app, loop=_asgi_loop())  # its spelling of WSGI types
        return cast("WSGIApplication", wrapped)

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
        if self._httpx is not None:
            self._httpx.stop(quiet=True)
            self._httpx = None
        self.routes.clear()


_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _asgi_loop() -> asyncio.AbstractEventLoop:
    """The event loop ASGI apps run on: one per process, in a daemon thread."""
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="paysim-asgi", daemon=True).start()
        return _loop


def is_asgi(app: Any) -> bool:
    """Whether ``app`` is an ASGI app: a coroutine function, or an object whose
    ``__call__`` is one (FastAPI, Starlette, Django's ASGI handler). WSGI apps are plain
    callables."""
    call = getattr(app, "__call__", None)  # noqa: B004 - its kind, not whether it is callable
    return inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(call)


def call_wsgi(
    app: WSGIApplication,
    script_name: str,
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request into a WSGI app mounted at ``script_name``: status, headers and body.

    Raises ``ConnectionResetError`` (``ConnectionDropped``) when the app dropped the
    connection (an injected fault).
    """
    parts = urlsplit(url)
    path = parts.path[len(script_name) :] if script_name else parts.path
    builder = EnvironBuilder(
        path=path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}{script_name}",
        method=method,
        headers=headers,
        data=body,
        query_string=parts.query,
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    app_iter, status, answer_headers = run_wsgi_app(app, environ, buffered=True)
    try:
        data = b"".join(app_iter)
    finally:
        close: Any = getattr(app_iter, "close", None)
        if close is not None:
            close()
    return int(status.split(" ", 1)[0]), list(answer_headers.items()), data


def _callback(
    app: WSGIApplication, script_name: str
) -> Callable[[requests.PreparedRequest], tuple[int, dict[str, str], bytes]]:
    def call(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        try:
            status, headers, data = call_wsgi(
                app,
                script_name,
                request.method or "GET",
                request.url or "",
                list(request.headers.items()),
                body or b"",
            )
        except ConnectionResetError:
            raise requests.ConnectionError("connection dropped by an injected fault") from None
        header_map = {name: value for name, value in headers if name != "Content-Length"}
        return status, header_map, data

    return call

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
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from io import BytesIO
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlsplit

import requests
import responses
from requests.adapters import HTTPAdapter
from requests.exceptions import RetryError
from requests.sessions import merge_setting
from urllib3 import HTTPHeaderDict, HTTPResponse
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from pytest_paysim.errors import ConfigurationError

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from pytest_paysim._httpx_routes import HttpxRoutes

__all__ = ["InProcessRouter", "call_wsgi", "is_asgi"]

_merge_setting = cast("Callable[[Any, Any], Any]", merge_setting)  # requests has no hints


class InProcessRouter:
    """Routes of base URL → app, active from the first ``route`` until ``stop``."""

    def __init__(self) -> None:
        self._mock: _RoutingMock | None = None
        self._installed: Any = None
        self._environment_merge: Any = None
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
            self._mock = _RoutingMock(real_adapter_send=HTTPAdapter.send)
            self._mock.start()
            self._installed = HTTPAdapter.send
            self._skip_environment_for_targets(self._mock)
        pattern = re.compile(re.escape(base) + r"(?:[/?#].*)?$")
        self._mock.targets.append((pattern, wsgi_app, parts.path))
        if routes is not None:
            routes.send_to(pattern, wsgi_app, parts.path, call_wsgi)
        self.routes[base] = wsgi_app

    def _skip_environment_for_targets(self, mock: _RoutingMock) -> None:
        """Let a ``requests.Session`` skip the environment for a routed URL.

        With ``trust_env`` (the default) a session reads the proxy and CA-bundle variables
        for every request, walking all of ``os.environ`` twice: 40 % of a routed call's
        time. A routed call never opens a socket, so proxies and CA bundles change nothing
        for it; every other URL is merged as ``requests`` does. ``.netrc`` credentials,
        which do show in a routed request, are still added by ``prepare_request``.
        """
        original = requests.Session.merge_environment_settings

        def merge_environment_settings(
            session: requests.Session,
            url: str | bytes | None,
            proxies: Any,
            stream: Any,
            verify: Any,
            cert: Any,
        ) -> Any:
            if isinstance(url, str) and mock.routes_url(url):
                return {
                    "proxies": _merge_setting(proxies, session.proxies),
                    "stream": _merge_setting(stream, session.stream),
                    "verify": _merge_setting(verify, session.verify),
                    "cert": _merge_setting(cert, session.cert),
                }
            return original(session, url, proxies, stream, verify, cert)

        requests.Session.merge_environment_settings = merge_environment_settings  # type: ignore[assignment,method-assign]
        self._environment_merge = (original, merge_environment_settings)

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
        """Undo the patching.

        A patch that another one was put over (a second router, a test's own ``responses``)
        cannot be taken out from under it; emptied of its routes first, it stays in the chain
        and passes every request on, so nothing is routed or skipped once stopped, whatever
        order the patches are undone in.
        """
        if self._mock is not None:
            self._mock.targets.clear()
            current = HTTPAdapter.send
            self._mock.stop(allow_assert=False)
            self._mock.reset()
            self._mock = None
            if current is not self._installed:
                # Someone patched over us and has already undone it (a test's own
                # ``responses`` that ended first): keep what they restored.
                HTTPAdapter.send = current  # type: ignore[method-assign]
        if self._environment_merge is not None:
            if requests.Session.merge_environment_settings is self._environment_merge[1]:
                requests.Session.merge_environment_settings = self._environment_merge[0]  # type: ignore[method-assign]
            self._environment_merge = None
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

    The environ is the one ``werkzeug.test.EnvironBuilder`` builds for the same request,
    put together directly. Raises ``ConnectionResetError`` (``ConnectionDropped``) when the
    app dropped the connection (an injected fault).
    """
    scheme, netloc, path, query, _ = urlsplit(url)
    request_uri = f"{path or '/'}?{query}" if query else path or "/"
    if script_name and path.startswith(script_name):
        path = path[len(script_name) :]
    host, _, port = netloc.partition(":")  # as werkzeug's EnvironBuilder reads them
    if not port.isdigit():
        port = "443" if scheme == "https" else "80"
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": _wsgi_str(unquote(script_name)),
        "PATH_INFO": _wsgi_str(unquote(path or "/")),
        "QUERY_STRING": _wsgi_str(query),
        "REQUEST_URI": _wsgi_str(request_uri),
        "SERVER_NAME": host,
        "SERVER_PORT": port,
        "HTTP_HOST": netloc,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    environ["RAW_URI"] = environ["REQUEST_URI"]
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ[key] = value
        elif key == "CONTENT_LENGTH":
            environ.setdefault(key, value)
        else:
            key = "HTTP_" + key
            environ[key] = (
                f"{environ[key]}, {value}" if key in environ and key != "HTTP_HOST" else value
            )
    return _run(app, environ)


def _wsgi_str(text: str) -> str:
    """``text`` as a WSGI native string (its UTF-8 bytes read as latin-1)."""
    return text if text.isascii() else text.encode().decode("latin1")


def _run(app: WSGIApplication, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run ``app`` and read its whole answer."""
    answer: list[Any] = []
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None and answer:
            raise exc_info[1].with_traceback(exc_info[2])
        answer[:] = [status, headers]
        return written.append

    app_iter = app(environ, start_response)
    try:
        written.extend(app_iter)
    finally:
        close: Any = getattr(app_iter, "close", None)
        if close is not None:
            close()
    if not answer:
        raise RuntimeError(f"the WSGI app {app!r} answered without calling start_response")
    status, answer_headers = answer
    return int(status.split(" ", 1)[0]), list(answer_headers), b"".join(written)


_Target = tuple["re.Pattern[str]", "WSGIApplication", str]


class _RoutingMock(responses.RequestsMock):
    """A private ``responses`` mock that answers requests under its targets' base URLs from
    their apps and sends every other request on (``real_adapter_send``).

    It matches by URL alone, whatever the method, and hands ``requests`` the answer without
    going through responses' registry, its calls log or its response objects; retries
    configured on the adapter apply as they do to responses' own answers.
    """

    def __init__(self, real_adapter_send: Any) -> None:
        super().__init__(assert_all_requests_are_fired=False, real_adapter_send=real_adapter_send)
        self.targets: list[_Target] = []

    def _on_request(
        self,
        adapter: HTTPAdapter,
        request: requests.PreparedRequest,
        *,
        retries: Retry | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        url = request.url or ""
        target = self._target(url)
        if target is None:
            sent: requests.Response = self._real_send(adapter, request, **kwargs)  # type: ignore[call-arg]
            return sent
        app, script_name = target
        request.body = body = _body_bytes(request.body)
        method = request.method or "GET"
        try:
            status, headers, data = call_wsgi(
                app, script_name, method, url, list(request.headers.items()), body
            )
        except ConnectionResetError:
            raise requests.ConnectionError(
                "connection dropped by an injected fault", request=request
            ) from None
        kept = HTTPHeaderDict()
        for name, value in headers:
            if name.lower() != "content-length":
                kept.add(name, value)
        if method == "HEAD" or status in _BODYLESS_STATUSES:
            data = b""  # what a WSGI server sends, whatever the app gave (Django gives one)
        taken = not kwargs.get("stream") and "Content-Encoding" not in kept
        # A body with nothing to decode, for a session that reads it at once, is taken as it
        # is (reading it back through urllib3 was a third of the mock's own time); the raw is
        # then left empty, as a session leaves the one it has read.
        raw = _raw(status, kept, b"" if taken else data, method)
        response = adapter.build_response(request, raw)
        if taken:
            response._content = data
            response._content_consumed = True  # type: ignore[attr-defined]
        retries = retries or adapter.max_retries
        if retries.is_retry(
            method=method, status_code=status, has_retry_after="Retry-After" in kept
        ):
            try:
                retries = retries.increment(method=method, url=url, response=response.raw)
            except MaxRetryError as error:
                if retries.raise_on_status:
                    raise RetryError(error, request=request) from None
                return response
            return self._on_request(adapter, request, retries=retries, **kwargs)
        return response

    def routes_url(self, url: str) -> bool:
        """Whether ``url`` is answered in process."""
        return self._target(url) is not None

    def _target(self, url: str) -> tuple[WSGIApplication, str] | None:
        for pattern, app, script_name in self.targets:
            if pattern.match(url):
                return app, script_name
        return None


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    if hasattr(body, "read"):
        return _body_bytes(body.read())
    return b"".join(chunk.encode() if isinstance(chunk, str) else chunk for chunk in body)


def _raw(status: int, headers: HTTPHeaderDict, body: bytes, method: str) -> HTTPResponse:
    """The urllib3 response ``requests`` builds its ``Response`` from, as ``responses``
    forms it (the original response's ``msg`` carries the headers for cookies)."""
    closed = BytesIO()
    closed.close()
    original = HTTPResponse(body=closed, msg=headers, preload_content=False)  # type: ignore[arg-type]
    return HTTPResponse(
        status=status,
        reason=HTTPStatus(status).phrase if status in _PHRASES else None,
        body=BytesIO(body),
        headers=headers,
        original_response=original,  # type: ignore[arg-type]
        preload_content=False,
        request_method=method,
    )


_PHRASES = {status.value for status in HTTPStatus}
_BODYLESS_STATUSES = frozenset({*range(100, 200), 204, 304})

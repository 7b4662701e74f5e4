"""In-process routing of ``httpx`` calls (sync and async clients) into WSGI apps, over respx.

Imported only when ``httpx`` is installed (the ``[httpx]`` extra brings respx with it).
:class:`HttpxRoutes` is a respx router of its own, never the global ``respx.mock``: it
answers requests under its base URLs, and for any other request it stands aside, so the
routers a test started itself (``respx.mock``, the ``respx_mock`` fixture) answer them as if
it were not there; when it is the only router, other requests go to the network::

    routes = HttpxRoutes()
    routes.send_to("https://api.gateway.example", simulator_app, send)
    routes.start()
    ...
    routes.stop()
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

import anyio.to_thread
import httpx
import respx
from respx.models import AllMockedAssertionError, PassThrough

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["HttpxRoutes", "Send"]

Send = Callable[
    ["WSGIApplication", str, str, str, list[tuple[str, str]], bytes],
    tuple[int, list[tuple[str, str]], bytes],
]
"""Calls a WSGI app (app, script name, method, URL, headers, body) → status, headers, body;
raises ``ConnectionResetError`` when the app dropped the connection."""

_LEFT_OUT = {"content-length", "transfer-encoding"}


class HttpxRoutes(respx.MockRouter):
    """Base URL → WSGI app, for every ``httpx.Client`` and ``httpx.AsyncClient``."""

    def __init__(self) -> None:
        super().__init__(assert_all_called=False, assert_all_mocked=True)
        self._targets: list[tuple[re.Pattern[str], WSGIApplication, str, Send]] = []

    def send_to(
        self, pattern: re.Pattern[str], app: WSGIApplication, script_name: str, send: Send
    ) -> None:
        """Answer requests whose URL matches ``pattern`` with ``app``."""
        self._targets.append((pattern, app, script_name, send))

    def handler(self, request: httpx.Request) -> httpx.Response:
        target = self._target(request)
        if target is None:
            self._stand_aside(request)
        return _answer(request, *target)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        target = self._target(request)
        if target is None:
            self._stand_aside(request)
        # In a worker thread: an injected delay must not stop the test's event loop.
        return await anyio.to_thread.run_sync(_answer, request, *target)

    def _target(self, request: httpx.Request) -> tuple[WSGIApplication, str, Send] | None:
        url = str(request.url)
        for pattern, app, script_name, send in self._targets:
            if pattern.match(url):
                return app, script_name, send
        return None

    def _stand_aside(self, request: httpx.Request) -> NoReturn:
        """Leave ``request`` to the test's own routers, or to the network without any."""
        routers = self.Mocker.routers if self.Mocker is not None else []
        if any(router is not self for router in routers):
            # respx asks the next router; if none takes it, it fails as it would without us.
            raise AllMockedAssertionError(f"RESPX: {request!r} not mocked!")
        raise PassThrough(
            "not routed by paysim",
            request=request,
            origin=None,  # type: ignore[arg-type]
        )


def _answer(
    request: httpx.Request, app: WSGIApplication, script_name: str, send: Send
) -> httpx.Response:
    try:
        status, headers, body = send(
            app,
            script_name,
            request.method,
            str(request.url),
            list(request.headers.multi_items()),
            request.content,
        )
    except ConnectionResetError:
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response (an injected fault).",
            request=request,
        ) from None
    kept = [(name, value) for name, value in headers if name.lower() not in _LEFT_OUT]
    return httpx.Response(status, headers=kept, content=body, request=request)

"""Webhook receivers on real loopback sockets, for the tests that watch deliveries arrive.

:class:`Receiver` is a small threaded werkzeug server on port 0 (daemon threads, no request
log) that records every request (path, headers, raw body, arrival time) as it arrives and
answers from a scripted list of statuses (or by path), optionally after hanging or while
dribbling its body; with ``listening=False`` its port is reserved but refuses connections until
:meth:`Receiver.activate`. :func:`serve_wsgi` runs any other WSGI app the same way (the page
tests' merchant). Fixtures make them and close them at teardown.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


class QuietHandler(WSGIRequestHandler):
    """A request handler that logs nothing (no line a request on stderr)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        pass


class LoopbackServer:
    """A threaded werkzeug server for ``app`` on a free loopback port.

    With ``listening=False`` the port is bound (so it stays reserved) but connections are
    refused until :meth:`activate`.
    """

    def __init__(self, app: Any, *, listening: bool = True, name: str = "test-wsgi") -> None:
        reserved: socket.socket | None = None
        if not listening:
            reserved = socket.socket()
            reserved.bind(("127.0.0.1", 0))
        self.server: BaseWSGIServer = make_server(
            "127.0.0.1",
            0,
            app,
            threaded=True,
            request_handler=QuietHandler,
            fd=None if reserved is None else reserved.fileno(),
        )
        if reserved is not None:
            reserved.close()  # werkzeug holds its own duplicate of the bound socket
        self.server.daemon_threads = True  # type: ignore[attr-defined]
        self.port: int = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._name = name
        self._thread: threading.Thread | None = None
        if listening:
            self._serve()

    def activate(self) -> None:
        """Start listening (for a server made with ``listening=False``)."""
        assert self._thread is None, "already listening"
        self.server.server_activate()
        self._serve()

    def _serve(self) -> None:
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=self._name,
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(2.0)
        self.server.server_close()


def serve_wsgi(app: Any) -> LoopbackServer:
    """Run ``app`` on a free loopback port (``.url``, ``.close()``)."""
    return LoopbackServer(app)


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
    """A webhook receiver: answers ``statuses`` in turn, then ``by_path[path]`` or ``default``.

    ``hang``: each request waits that long before it is answered; ``dribble``: the answer's
    body is sent one byte every ``dribble`` seconds until the receiver stops. Both are cut
    short when the receiver closes. ``listening=False``: the port is reserved but refuses
    connections until :meth:`activate`.
    """

    statuses: list[int] = field(default_factory=list)
    default: int = 200
    by_path: Mapping[str, int] = field(default_factory=dict)
    hang: float = 0.0
    dribble: float = 0.0
    listening: bool = True
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._server = LoopbackServer(
            self._app, listening=self.listening, name="test-webhook-receiver"
        )
        self.base_url = self._server.url
        self.url = self.base_url + "/hooks"

    def activate(self) -> None:
        """Start accepting connections (for a receiver made with ``listening=False``)."""
        self._server.activate()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        arrived, wall = time.perf_counter(), time.time()
        request = Request(environ)
        body = request.get_data()
        with self._lock:
            if self.statuses:
                status = self.statuses.pop(0)
            else:
                status = self.by_path.get(request.path, self.default)
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

    def wait_for(
        self, count: int, timeout: float = 5.0, *, path: str | None = None
    ) -> list[Received]:
        """Block until ``count`` requests arrived (to ``path``, if given); the first ``count``."""

        def matching() -> list[Received]:
            return [r for r in self.received if path is None or r.path == path]

        with self._lock:
            done = self._lock.wait_for(lambda: len(matching()) >= count, timeout)
            got = matching()
        if not done:
            seen = [(r.path, r.headers.get("Paysim-Event-Id"), r.status) for r in got]
            raise AssertionError(
                f"receiver {self.base_url}{path or ''} expected {count} requests within "
                f"{timeout}s, got {len(got)}: {seen}"
            )
        return got[:count]

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def close(self) -> None:
        self._stopping.set()
        self._server.close()


def closed_port_url(path: str = "/hooks") -> str:
    """An http URL on a loopback port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"

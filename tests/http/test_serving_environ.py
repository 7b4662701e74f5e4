"""The keep-alive server's own ``make_environ`` gives what werkzeug's gives, for requests on
its short path and for those it hands to werkzeug, over a real socket."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from werkzeug.serving import WSGIRequestHandler

from pytest_paysim.serving import KeepAliveHandler, KeepAliveWSGIServer

TIMEOUT = 5.0
COMPARED_OUT = ("wsgi.input", "wsgi.errors", "werkzeug.socket", "REMOTE_PORT")
"""Objects (compared by identity elsewhere) and the client's port, the same for both anyway."""


class Recording(KeepAliveHandler):
    """Builds each environ both ways and keeps the pair."""

    pairs: ClassVar[list[tuple[dict[str, Any], dict[str, Any]]]] = []

    def make_environ(self) -> Any:
        fast = super().make_environ()
        werkzeugs = WSGIRequestHandler.make_environ(self)
        Recording.pairs.append((dict(fast), dict(werkzeugs)))
        return fast


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    environ["wsgi.input"].read()
    start_response("204 No Content", [])
    return []


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = KeepAliveWSGIServer("127.0.0.1", 0, app, handler=Recording)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(TIMEOUT)


def send(port: int, head: str, body: bytes = b"") -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(head.encode("latin-1") + body)
        answer = sock.makefile("rb").readline()
    assert answer.startswith(b"HTTP/1.1 204"), answer


@pytest.mark.parametrize(
    "target",
    [
        "/v1/payments",
        "/v1/payments?limit=3&status=succeeded",
        "/v1/payments?",
        "/",
        "/a#frag",
        "/a#x?y=1",
        "/a?b=1#c",
        "/stripe/v1/payment_intents?expand[]=latest_charge",
        "/p%C3%A9/x?q=%20",  # werkzeug's path: escapes
        "//double/slash",  # werkzeug's path: a netloc-looking start
        "http://example.test/abs?x=1",  # werkzeug's path: an absolute URL
        "/caf\xe9",  # werkzeug's path: not ASCII
    ],
)
def test_each_request_target_gives_werkzeugs_environ(port: int, target: str) -> None:
    Recording.pairs.clear()
    head = (
        f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 2\r\nX-Repeated: a\r\nX-Repeated: b\r\nWith_Underscore: dropped\r\n"
        "Authorization: Bearer k\r\nConnection: close\r\n\r\n"
    )
    send(port, head, b"{}")
    ((fast, werkzeugs),) = Recording.pairs
    for key in COMPARED_OUT:
        fast.pop(key), werkzeugs.pop(key)
    assert fast == werkzeugs
    assert fast["HTTP_X_REPEATED"] == "a,b"


def test_a_chunked_request_goes_to_werkzeug(port: int) -> None:
    Recording.pairs.clear()
    head = (
        "POST /v1/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n"
    )
    send(port, head, b"2\r\n{}\r\n0\r\n\r\n")
    ((fast, werkzeugs),) = Recording.pairs
    assert fast.keys() == werkzeugs.keys()
    assert fast["wsgi.input_terminated"] is True

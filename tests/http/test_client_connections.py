"""``ConnectionPool``, the keep-alive transport of ``PaysimClient``'s short path.

Against the simulator's own server (one connection reused, closed with the client, many
threads at once) and against a small ``http.server`` that misbehaves on purpose: it closes a
kept-alive connection behind the client's back, repeats header fields, sets cookies and
compresses its answers.
"""

from __future__ import annotations

import gzip
import http.server
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from pytest_paysim.connections import MAX_IDLE, ConnectionPool
from pytest_paysim.server import PaysimClient, PaysimServer
from pytest_paysim.serving import KeepAliveWSGIServer

TIMEOUT = 10.0


def _serving(server: PaysimServer) -> KeepAliveWSGIServer:
    serving = server._server
    assert isinstance(serving, KeepAliveWSGIServer)
    return serving


def test_calls_share_one_connection_until_the_client_closes(server: PaysimServer) -> None:
    client = type(server.client)(server.url, server.api_key)
    before = _serving(server).open_connections
    created = client.post("/v1/payments", json={"amount": 300, "currency": "usd"})
    paid = client.post(f"/v1/payments/{created.json()['id']}/pay", json={"outcome": "succeed"})
    listed = client.get("/v1/payments")
    assert [created.status_code, paid.status_code, listed.status_code] == [201, 200, 200]
    assert _serving(server).open_connections == before + 1
    client.close()
    _wait_until(lambda: _serving(server).open_connections == before)


def test_threads_send_at_once_and_the_pool_keeps_at_most_its_limit(server: PaysimServer) -> None:
    client = type(server.client)(server.url, server.api_key)

    def create(number: int) -> int:
        body = {"amount": 100 + number, "currency": "usd"}
        response = client.post("/v1/payments", json=body)
        assert response.json()["amount"] == 100 + number
        return response.status_code

    with ThreadPoolExecutor(max_workers=16) as workers:
        statuses = list(workers.map(create, range(64)))
    assert statuses == [201] * 64
    assert 1 <= len(client._pool._idle) <= MAX_IDLE
    client.close()
    assert client._pool._idle == []


def test_a_refused_connection_is_requests_connection_error() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    pool = ConnectionPool(f"http://127.0.0.1:{port}")
    with pytest.raises(requests.ConnectionError, match="cannot connect"):
        pool.send(_get(f"http://127.0.0.1:{port}/x"), timeout=TIMEOUT)


def test_a_base_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="absolute http"):
        ConnectionPool("ftp://127.0.0.1:21")


# -- a server that misbehaves on purpose --------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: list[int]

    def do_GET(self) -> None:
        self.connections.append(self.client_address[1])
        body = b'{"ok": true}'
        if self.path == "/gzip":
            body = gzip.compress(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Repeated", "one")
        self.send_header("X-Repeated", "two")
        if self.path == "/gzip":
            self.send_header("Content-Encoding", "gzip")
        if self.path.endswith("/cookie"):
            self.send_header("Set-Cookie", "session=abc; Path=/")
        if self.path == "/close":
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        if self.path == "/drop-after":
            # Answered as kept alive, then closed: what an idle timeout does.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def odd_server() -> Iterator[tuple[str, list[int]]]:
    connections: list[int] = []
    handler = type("Handler", (_Handler,), {"connections": connections})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", connections
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


def _get(url: str) -> requests.PreparedRequest:
    return requests.Request("GET", url).prepare()


def test_a_connection_the_server_closed_while_idle_is_replaced(
    odd_server: tuple[str, list[int]],
) -> None:
    base, connections = odd_server
    pool = ConnectionPool(base)
    first = pool.send(_get(base + "/drop-after"), timeout=TIMEOUT)
    _wait_until(lambda: pool._idle and _closed_by_peer(pool._idle[0].sock))
    second = pool.send(_get(base + "/x"), timeout=TIMEOUT)
    third = pool.send(_get(base + "/x"), timeout=TIMEOUT)
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 200]
    assert connections[0] != connections[1] == connections[2]
    pool.close()


def test_an_answer_that_closes_is_not_reused(odd_server: tuple[str, list[int]]) -> None:
    base, connections = odd_server
    pool = ConnectionPool(base)
    pool.send(_get(base + "/close"), timeout=TIMEOUT)
    assert pool._idle == []
    pool.send(_get(base + "/x"), timeout=TIMEOUT)
    assert connections[0] != connections[1]
    pool.close()


def test_the_answer_reads_as_a_sessions_does(odd_server: tuple[str, list[int]]) -> None:
    base, _ = odd_server
    pool = ConnectionPool(base)
    jar = requests.cookies.RequestsCookieJar()
    ours = pool.send(_get(base + "/cookie"), timeout=TIMEOUT, cookies=jar)
    theirs = requests.Session().get(base + "/cookie", timeout=TIMEOUT)
    assert ours.headers == theirs.headers
    assert ours.headers["x-repeated"] == "one, two"
    assert (ours.status_code, ours.reason, ours.url) == (200, "OK", base + "/cookie")
    assert ours.json() == theirs.json() == {"ok": True}
    assert ours.encoding == theirs.encoding
    assert ours.cookies.get_dict() == theirs.cookies.get_dict() == {"session": "abc"}
    assert jar.get_dict() == {"session": "abc"}
    assert ours.elapsed.total_seconds() > 0
    compressed = pool.send(_get(base + "/gzip"), timeout=TIMEOUT)
    assert compressed.json() == {"ok": True}
    assert list(compressed.iter_content(4)) == [b'{"ok', b'": t', b"rue}"]
    pool.close()


def test_a_client_whose_session_got_a_cookie_leaves_the_short_path(
    odd_server: tuple[str, list[int]],
) -> None:
    client = PaysimClient(odd_server[0], "sk_test_unused")
    assert client._short_path(client.url_for("/v1/cookie"), None)
    assert client.get("/v1/cookie").json() == {"ok": True}  # the short path, setting a cookie
    assert client.session.cookies.get_dict() == {"session": "abc"}
    assert not client._short_path(client.url_for("/v1/x"), None)
    assert client.get("/v1/x").request.headers["Cookie"] == "session=abc"  # the session's path
    client.close()


def _closed_by_peer(sock: socket.socket | None) -> bool:
    if sock is None:
        return False
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    finally:
        sock.setblocking(True)


def _wait_until(condition: Any, timeout: float = TIMEOUT) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)

"""Keep-alive serving (``pytest_paysim.serving``) against a real ``PaysimServer`` on loopback.

Connections are reused by ``requests`` sessions; a body the app never read doesn't spoil the
next request; half-sent and stalled bodies, idle connections, too many connections, an
over-long body and stopping with idle connections open all end in bounded time. Raw sockets
carry the requests ``requests`` would not send; every read has a timeout.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from pytest_paysim import serving
from pytest_paysim.http.app import MAX_BODY_BYTES
from pytest_paysim.server import PaysimServer
from pytest_paysim.serving import KeepAliveWSGIServer

TIMEOUT = 5.0
CREATE = b'{"amount": 1999, "currency": "usd"}'

StartServer = Callable[..., PaysimServer]


class Raw:
    """One client connection speaking HTTP/1.1 by hand; every read times out."""

    def __init__(self, port: int, timeout: float = TIMEOUT) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        """Send a request; ``Content-Length`` is the body's unless ``headers`` give one."""
        fields = {"Host": "127.0.0.1", **(headers or {})}
        framed = {name.lower() for name in fields} & {"content-length", "transfer-encoding"}
        if body and not framed:
            fields["Content-Length"] = str(len(body))
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
        self.send(head.encode("latin-1") + b"\r\n" + body)

    def response(self, *, skip_continue: bool = True) -> tuple[int, dict[str, str], bytes]:
        """The next answer: status, headers (lower-case names) and its body."""
        while True:
            line = self.file.readline()
            assert line.startswith(b"HTTP/1."), f"no status line: {line!r}"
            status = int(line.split()[1])
            headers: dict[str, str] = {}
            while True:
                field = self.file.readline()
                assert field, "the connection closed inside the headers"
                if field in (b"\r\n", b"\n"):
                    break
                name, _, value = field.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            if status == 100 and skip_continue:
                continue
            length = int(headers.get("content-length", "0"))
            body = self.file.read(length) if length else b""
            assert len(body) == length, "the connection closed inside the body"
            return status, headers, body

    def closed_by_server(self) -> bool:
        """True once the server closed (EOF or reset) within the timeout; False if it
        was still open when the timeout ran out."""
        try:
            return self.file.read(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def keep_alive_server(paysim: PaysimServer) -> KeepAliveWSGIServer:
    server = paysim._server
    assert isinstance(server, KeepAliveWSGIServer)
    return server


def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


@pytest.fixture
def start_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[StartServer]:
    """Start a server of its own with some serving defaults changed (module constants)."""
    started: list[PaysimServer] = []

    def start(**defaults: float) -> PaysimServer:
        for name, value in defaults.items():
            monkeypatch.setattr(serving, name, value)
        paysim = PaysimServer(seed=7).start()
        started.append(paysim)
        return paysim

    yield start
    for paysim in started:
        paysim.stop()
        assert paysim.simulator is not None
        assert paysim.simulator.unexpected_errors() == []


@pytest.fixture
def raws() -> Iterator[list[Raw]]:
    opened: list[Raw] = []
    yield opened
    for raw in opened:
        raw.close()


def payment_count(paysim: PaysimServer) -> int:
    assert paysim.simulator is not None
    return paysim.simulator.count_payments()


# -- reuse ---------------------------------------------------------------------------------


def test_the_client_and_an_apps_session_each_use_one_connection(
    start_server: StartServer,
) -> None:
    paysim = start_server()
    server = keep_alive_server(paysim)

    for index in range(20):
        answer = paysim.client.post("/v1/payments", json={"amount": 100 + index, "currency": "usd"})
        assert answer.status_code == 201, answer.text
        assert answer.headers.get("Connection") is None
    assert server.accepted == 1

    with requests.Session() as session:  # an app's own session
        session.trust_env = False
        session.headers["Authorization"] = f"Bearer {paysim.api_key}"
        for _ in range(10):
            assert session.get(paysim.url + "/v1/payments", timeout=TIMEOUT).status_code == 200
            assert session.get(paysim.url + "/health", timeout=TIMEOUT).status_code == 200
    assert server.accepted == 2
    assert payment_count(paysim) == 20


def test_concurrent_sessions_keep_one_connection_each(start_server: StartServer) -> None:
    paysim = start_server()
    server = keep_alive_server(paysim)
    failures: list[BaseException] = []

    def client() -> None:
        try:
            with requests.Session() as session:
                session.trust_env = False
                session.headers["Authorization"] = f"Bearer {paysim.api_key}"
                for _ in range(15):
                    answer = session.post(
                        paysim.url + "/v1/payments",
                        data=CREATE,
                        headers={"Content-Type": "application/json"},
                        timeout=TIMEOUT,
                    )
                    assert answer.status_code == 201, answer.text
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert server.accepted == 8
    assert payment_count(paysim) == 8 * 15


def test_clients_that_close_every_time_never_fill_the_bound(start_server: StartServer) -> None:
    # Threads done with their connection used to queue on the lock the accept loop held while
    # starting the next thread: 8 reconnecting clients reached the bound of 64 on a busy machine.
    paysim = start_server()
    server = keep_alive_server(paysim)
    failures: list[BaseException] = []

    def client() -> None:
        try:
            with requests.Session() as session:
                session.trust_env = False
                session.headers["Authorization"] = f"Bearer {paysim.api_key}"
                session.headers["Connection"] = "close"
                for _ in range(40):
                    answer = session.get(paysim.url + "/v1/payments", timeout=TIMEOUT)
                    assert answer.status_code == 200, answer.text
                    assert answer.headers["Connection"] == "close"
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert (server.accepted, server.refused) == (8 * 40, 0)


def test_an_unread_body_does_not_spoil_the_next_request(
    server: PaysimServer, raws: list[Raw]
) -> None:
    raw = Raw(server.port)
    raws.append(raw)
    junk = b"x" * 50_000  # never read by the app: the route refuses first
    for method, path, status in (
        ("POST", "/health", 405),
        ("POST", "/nowhere", 404),
        ("GET", "/health", 200),  # a GET with a body
        ("POST", "/v1/payments", 401),  # no credentials
    ):
        raw.request(method, path, junk, {"Content-Type": "application/json"})
        got, headers, body = raw.response()
        assert got == status, body
        assert "connection" not in headers
        raw.request("GET", "/health")
        got, _, body = raw.response()
        assert (got, json.loads(body)["status"]) == (200, "ok")


def test_pipelined_requests_are_answered_in_order(server: PaysimServer, raws: list[Raw]) -> None:
    raw = Raw(server.port)
    raws.append(raw)
    auth = f"Authorization: Bearer {server.api_key}\r\n"
    post = (
        f"POST /v1/payments HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n"
        f"Content-Length: {len(CREATE)}\r\n\r\n"
    ).encode() + CREATE
    get = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    raw.send(post + b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + get)
    assert raw.response()[0] == 201
    assert raw.response()[0] == 404
    assert raw.response()[0] == 200


# -- bodies that don't arrive ---------------------------------------------------------------


def test_a_half_sent_body_is_400_and_changes_nothing(server: PaysimServer, raws: list[Raw]) -> None:
    raw = Raw(server.port)
    raws.append(raw)
    raw.request(
        "POST",
        "/v1/payments",
        CREATE[:10],
        {
            "Authorization": f"Bearer {server.api_key}",
            "Content-Type": "application/json",
            "Content-Length": str(len(CREATE)),
        },
    )
    raw.sock.shutdown(socket.SHUT_WR)  # the client gives up sending
    status, headers, body = raw.response()
    assert status == 400
    error = json.loads(body)["error"]
    assert error["code"] == "request_malformed"
    assert "ended after 10 of the 35 bytes" in error["message"]
    assert headers["connection"] == "close"
    assert raw.closed_by_server()
    assert payment_count(server) == 0


def test_a_stalled_body_times_out_with_400(start_server: StartServer, raws: list[Raw]) -> None:
    paysim = start_server(IO_TIMEOUT_SECONDS=0.3)
    raw = Raw(paysim.port)
    raws.append(raw)
    began = time.monotonic()
    raw.request(
        "POST",
        "/v1/payments",
        CREATE[:10],
        {
            "Authorization": f"Bearer {paysim.api_key}",
            "Content-Type": "application/json",
            "Content-Length": str(len(CREATE)),
        },
    )
    status, headers, body = raw.response()  # the client still waits; the server doesn't
    assert time.monotonic() - began < 3.0
    assert (status, json.loads(body)["error"]["code"]) == (400, "request_malformed")
    assert headers["connection"] == "close"
    assert raw.closed_by_server()
    assert payment_count(paysim) == 0


def test_a_slow_but_steady_body_is_read(start_server: StartServer, raws: list[Raw]) -> None:
    paysim = start_server(IO_TIMEOUT_SECONDS=0.5)
    raw = Raw(paysim.port)
    raws.append(raw)
    raw.request(
        "POST",
        "/v1/payments",
        b"",
        {
            "Authorization": f"Bearer {paysim.api_key}",
            "Content-Type": "application/json",
            "Content-Length": str(len(CREATE)),
        },
    )
    for index in range(0, len(CREATE), 8):  # 5 pieces, 0.1 s apart: 0.4 s in all
        time.sleep(0.1)
        raw.send(CREATE[index : index + 8])
    status, headers, _ = raw.response()
    assert status == 201
    assert "connection" not in headers
    raw.request("GET", "/health")
    assert raw.response()[0] == 200


def test_a_body_over_the_deadline_is_cut_off(start_server: StartServer, raws: list[Raw]) -> None:
    paysim = start_server(IO_TIMEOUT_SECONDS=1.0, BODY_TIMEOUT_SECONDS=0.4)
    raw = Raw(paysim.port)
    raws.append(raw)
    raw.request(
        "POST",
        "/v1/payments",
        b"",
        {
            "Authorization": f"Bearer {paysim.api_key}",
            "Content-Type": "application/json",
            "Content-Length": str(len(CREATE)),
        },
    )
    began = time.monotonic()
    for byte in CREATE:  # a byte every 0.1 s: 3.5 s in all, past the deadline
        if select.select([raw.sock], [], [], 0.1)[0]:
            break  # answered already
        raw.send(bytes([byte]))
    status, _, body = raw.response()
    assert time.monotonic() - began < 2.0
    assert (status, json.loads(body)["error"]["code"]) == (400, "request_malformed")
    assert payment_count(paysim) == 0


# -- an over-long body ----------------------------------------------------------------------


@pytest.mark.parametrize("sent", [0, 16_384], ids=["headers-only", "some-of-the-body"])
def test_413_closes_without_reading_the_rest(
    server: PaysimServer, raws: list[Raw], sent: int
) -> None:
    # werkzeug drained the body with a blocking read, so this client waited forever.
    raw = Raw(server.port)
    raws.append(raw)
    raw.request(
        "POST",
        "/v1/payments",
        b"{" * sent,
        {
            "Authorization": f"Bearer {server.api_key}",
            "Content-Type": "application/json",
            "Content-Length": str(10 * MAX_BODY_BYTES),
        },
    )
    began = time.monotonic()
    status, headers, body = raw.response()
    assert status == 413
    assert json.loads(body)["error"]["code"] == "body_too_large"
    assert headers["connection"] == "close"
    assert raw.closed_by_server()
    assert time.monotonic() - began < 2.0
    assert payment_count(server) == 0


def test_no_100_continue_for_a_body_over_the_limit(server: PaysimServer, raws: list[Raw]) -> None:
    auth = {"Authorization": f"Bearer {server.api_key}", "Content-Type": "application/json"}
    small, big = Raw(server.port), Raw(server.port)
    raws += [small, big]
    small.request(
        "POST",
        "/v1/payments",
        b"",
        {**auth, "Expect": "100-continue", "Content-Length": str(len(CREATE))},
    )
    assert small.response(skip_continue=False)[0] == 100
    small.send(CREATE)
    assert small.response()[0] == 201

    big.request(
        "POST",
        "/v1/payments",
        b"",
        {**auth, "Expect": "100-continue", "Content-Length": str(MAX_BODY_BYTES + 1)},
    )
    status, headers, _ = big.response(skip_continue=False)
    assert (status, headers["connection"]) == (413, "close")
    assert big.closed_by_server()


# -- framing --------------------------------------------------------------------------------


def chunked(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%b\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def test_a_chunked_body_is_read_and_the_connection_kept(
    server: PaysimServer, raws: list[Raw]
) -> None:
    raw = Raw(server.port)
    raws.append(raw)
    auth = {"Authorization": f"Bearer {server.api_key}", "Content-Type": "application/json"}
    raw.request(
        "POST",
        "/v1/payments",
        chunked(CREATE[:7], CREATE[7:]),
        {**auth, "Transfer-Encoding": "chunked"},
    )
    status, headers, body = raw.response()
    assert status == 201, body
    assert json.loads(body)["amount"] == 1999
    assert "connection" not in headers
    raw.request("GET", "/health")
    assert raw.response()[0] == 200


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        pytest.param(
            b"zz\r\n" + CREATE + b"\r\n0\r\n\r\n", {}, 400, "request_malformed", id="bad-size"
        ),
        pytest.param(b"40\r\n" + CREATE, {}, 400, "request_malformed", id="cut-short"),
        pytest.param(chunked(*[b" " * 65536] * 17), {}, 413, "body_too_large", id="over-the-limit"),
        pytest.param(chunked(CREATE), {"Content-Length": "3"}, 201, None, id="and-a-length"),
        pytest.param(
            chunked(CREATE),
            {"Transfer-Encoding": "gzip, chunked"},
            400,
            "request_malformed",
            id="gzip",
        ),
    ],
)
def test_a_doubtful_chunked_body_is_answered_and_the_connection_closed(
    server: PaysimServer,
    raws: list[Raw],
    body: bytes,
    headers: dict[str, str],
    status: int,
    code: str | None,
) -> None:
    raw = Raw(server.port)
    raws.append(raw)
    fields = {
        "Authorization": f"Bearer {server.api_key}",
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
        **headers,
    }
    raw.request("POST", "/v1/payments", body, fields)
    if len(body) < 100:
        raw.sock.shutdown(socket.SHUT_WR)  # the cut-short body ends here
    got, answer_headers, answer = raw.response()
    assert got == status, answer
    if code is not None:
        assert json.loads(answer)["error"]["code"] == code
    assert answer_headers["connection"] == "close"
    assert raw.closed_by_server()
    assert payment_count(server) == (1 if status == 201 else 0)


@pytest.mark.parametrize("length", ["abc", "-1", "5, 6", "+5", "0x5"])
def test_a_malformed_content_length_is_400_and_closes(
    server: PaysimServer, raws: list[Raw], length: str
) -> None:
    raw = Raw(server.port)
    raws.append(raw)
    raw.request("POST", "/nowhere", b"hello", {"Content-Length": length})
    status, headers, body = raw.response()
    assert (status, json.loads(body)["error"]["code"]) == (400, "request_malformed")
    assert headers["connection"] == "close"
    assert raw.closed_by_server()


def test_a_repeated_equal_content_length_is_fine(server: PaysimServer, raws: list[Raw]) -> None:
    raw = Raw(server.port)
    raws.append(raw)
    raw.send(b"POST /nowhere HTTP/1.1\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello")
    status, headers, _ = raw.response()
    assert status == 404
    assert "connection" not in headers
    raw.request("GET", "/health")
    assert raw.response()[0] == 200
    raw.send(
        f"POST /v1/payments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(CREATE)}, {len(CREATE)}"
        "\r\n\r\n".encode()
        + CREATE
    )
    status, _, body = raw.response()
    assert status == 201, body
    assert json.loads(body)["amount"] == 1999


def test_http_1_0_keeps_alive_only_when_asked(server: PaysimServer, raws: list[Raw]) -> None:
    asked, plain = Raw(server.port), Raw(server.port)
    raws += [asked, plain]
    for _ in range(2):
        asked.send(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        status, headers, _ = asked.response()
        assert (status, headers["connection"]) == (200, "keep-alive")
    plain.send(b"GET /health HTTP/1.0\r\n\r\n")
    status, headers, _ = plain.response()
    assert (status, headers["connection"]) == (200, "close")
    assert plain.closed_by_server()


def test_errors_before_the_app_are_json_and_close(server: PaysimServer, raws: list[Raw]) -> None:
    for request, status in (
        (b"GET /health HTTP/x.y\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    ):
        raw = Raw(server.port)
        raws.append(raw)
        raw.send(request)
        got, headers, body = raw.response()
        assert got == status
        assert headers["content-type"] == "application/json"
        assert json.loads(body)["error"]["code"] == "request_malformed"
        assert raw.closed_by_server()


def test_header_fields_are_read_as_http_server_reads_them(
    server: PaysimServer, raws: list[Raw]
) -> None:
    raw = Raw(server.port)
    raws.append(raw)
    key = server.api_key
    raw.send(
        b"GET /v1/payments HTTP/1.1\r\nHost: x\r\nAuthorization:\tBearer\r\n "
        + key.encode()
        + b"  \r\nX-Empty:\r\n\r\n"
    )
    status, headers, body = raw.response()  # a folded line continues the field before it
    assert status == 200, body
    assert "connection" not in headers

    for request, status in (
        (b"GET /health HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\nno colon\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\n folded-first: x\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n", 431),
        (b"GET /health HTTP/2.0\r\n\r\n", 505),
    ):
        bad = Raw(server.port)
        raws.append(bad)
        bad.send(request)
        got, headers, body = bad.response()
        assert got == status, request[:40]
        assert json.loads(body)["error"]["code"] == "request_malformed"
        assert headers["connection"] == "close"
        assert bad.closed_by_server()
    raw.send(b"GET /health HTTP/1.1\r\n" + b"X-A: 1\r\n" * 100 + b"\r\n")
    assert raw.response()[0] == 200


# -- idle time, the bound, stopping -------------------------------------------------------


def test_an_idle_connection_is_closed(start_server: StartServer, raws: list[Raw]) -> None:
    paysim = start_server(IDLE_TIMEOUT_SECONDS=0.3)
    server = keep_alive_server(paysim)
    used, silent = Raw(paysim.port), Raw(paysim.port)
    raws += [used, silent]
    used.request("GET", "/health")
    assert used.response()[0] == 200
    began = time.monotonic()
    assert used.closed_by_server()
    assert silent.closed_by_server()  # never sent anything
    assert time.monotonic() - began < 3.0
    wait_until(lambda: server.open_connections == 0)

    # A session notices the closed connection and opens another.
    client = paysim.client
    assert client.get("/health").status_code == 200
    time.sleep(0.6)
    assert client.get("/health").status_code == 200
    assert server.accepted == 4


def test_connections_beyond_the_bound_get_503(start_server: StartServer, raws: list[Raw]) -> None:
    paysim = start_server(MAX_CONNECTIONS=4)
    server = keep_alive_server(paysim)
    held = [Raw(paysim.port) for _ in range(4)]
    raws += held
    for raw in held:
        raw.request("GET", "/health")
        assert raw.response()[0] == 200
    assert server.open_connections == 4

    extra = Raw(paysim.port)
    raws.append(extra)
    try:
        extra.request("GET", "/health")
        status, headers, body = extra.response()
    except ConnectionResetError:
        pytest.fail("the extra connection was reset before its 503 could be read")
    assert status == 503
    assert headers["connection"] == "close"
    assert json.loads(body)["error"]["code"] == "too_many_connections"
    assert extra.closed_by_server()
    assert server.refused == 1

    held[0].close()  # a slot frees up
    wait_until(lambda: server.open_connections == 3)
    again = Raw(paysim.port)
    raws.append(again)
    again.request("GET", "/health")
    assert again.response()[0] == 200


def test_stop_is_quick_with_idle_connections_and_leaves_no_thread(
    start_server: StartServer, raws: list[Raw]
) -> None:
    before = set(threading.enumerate())
    paysim = start_server()
    server = keep_alive_server(paysim)
    idle = [Raw(paysim.port) for _ in range(10)]
    raws += idle
    for raw in idle:
        raw.request("GET", "/health")
        assert raw.response()[0] == 200
    stalled = Raw(paysim.port)  # blocked reading a body that never comes
    raws.append(stalled)
    stalled.request("POST", "/v1/payments", b"{", {"Content-Length": "100"})
    assert paysim.client.get("/health").status_code == 200  # and a session's connection
    wait_until(lambda: server.open_connections == 12)
    handler_threads = [
        t for t in threading.enumerate() if t.name.startswith(f"paysim-http-{paysim.port}-")
    ]
    assert len(handler_threads) == 12

    began = time.monotonic()
    paysim.stop()
    assert time.monotonic() - began < 1.0

    left = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert left == []
    assert not any(t.is_alive() for t in handler_threads)
    for raw in idle:
        assert raw.closed_by_server()


def test_a_request_in_flight_is_answered_before_stop_ends(start_server: StartServer) -> None:
    paysim = start_server()
    server = keep_alive_server(paysim)
    paysim.client.post("/_paysim/faults", json={"path": "/v1/payments", "delay": 0.15})
    answers: list[requests.Response | BaseException] = []

    def create() -> None:
        try:
            answers.append(
                paysim.client.post("/v1/payments", json={"amount": 1, "currency": "usd"})
            )
        except BaseException as error:
            answers.append(error)

    thread = threading.Thread(target=create, daemon=True)
    thread.start()
    wait_until(lambda: server.open_connections == 1 and not server._waiting)
    began = time.monotonic()
    paysim.stop()
    assert time.monotonic() - began < 1.0
    thread.join(TIMEOUT)
    [answer] = answers
    assert isinstance(answer, requests.Response), answer
    assert answer.status_code == 201

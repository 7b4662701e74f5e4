"""``PaysimClient``'s short path (``ConnectionPool``) against a plain ``requests.Session``
making the same call: the same answer, the same exception class, the same request on the
wire; over ``https`` the client is the session (TLS stays ``requests``'), and a mock of
``requests``' adapter sees every call. Written as a review's experiments, kept as tests."""

from __future__ import annotations

import gzip
import http.server
import socket
import threading
import time
import warnings
import zlib
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
import requests
import responses

from pytest_paysim.http.app import MAX_BODY_BYTES
from pytest_paysim.server import PaysimClient, PaysimServer

TIMEOUT = 10.0


# -- an http.server whose answers each test chooses -----------------------------------------


_BROKEN_BODIES = {
    "/truncated": ("Content-Length", "100", b"only part"),
    "/bad-chunked": ("Transfer-Encoding", "chunked", b"5\r\nhello\r\n"),
}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path, dict(self.headers), received))  # type: ignore[attr-defined]
        path = self.path.split("?")[0].removeprefix("/v1")
        broken = _BROKEN_BODIES.get(path)
        if broken is not None:  # a body that ends before its framing says, then the close
            field, value, sent = broken
            self.send_response(200)
            self.send_header(field, value)
            self.end_headers()
            self.wfile.write(sent)
            self.wfile.flush()
            self.close_connection = True
            return
        body = b'{"ok": true}'
        headers = [("Content-Type", "application/json")]
        if path == "/gzip2":  # two gzip members, as some servers stream
            body = gzip.compress(b'{"ok": ') + gzip.compress(b"true}")
            headers.append(("Content-Encoding", "gzip"))
        if path == "/badgzip":
            body = b"not gzip at all"
            headers.append(("Content-Encoding", "gzip"))
        if path == "/xgzip":
            body = gzip.compress(body)
            headers.append(("Content-Encoding", "x-gzip"))
        if path == "/gzip-deflate":  # two codings, applied in order
            body = zlib.compress(gzip.compress(body))
            headers.append(("Content-Encoding", "gzip, deflate"))
        self.send_response(200)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def odd() -> Iterator[tuple[str, list[Any]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.seen = []  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.seen  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


def _outcome(call: Any) -> Any:
    try:
        response = call()
    except Exception as error:
        return ("raised", type(error).__mro__[:3])
    return ("answered", response.status_code, response.content)


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


# -- 1. bodies cut short (the exception class) and content codings requests undoes -----------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/truncated",
        "/v1/bad-chunked",
        "/v1/gzip2",
        "/v1/xgzip",
        "/v1/gzip-deflate",
        "/v1/badgzip",
    ],
)
def test_an_odd_body_reads_as_requests_reads_it(odd: tuple[str, list[Any]], path: str) -> None:
    base, _ = odd
    client = PaysimClient(base, "sk_test_x")
    ours = _outcome(lambda: client.get(path))
    theirs = _outcome(lambda: _session().get(base + path, timeout=TIMEOUT))
    client.close()
    assert ours == theirs


# -- 2. what goes on the wire ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("GET", {}),
        ("HEAD", {}),
        ("DELETE", {}),
        ("POST", {"data": "caf\u00e9 \u20ac"}),
        ("POST", {"json": {"name": "caf\u00e9"}}),
        ("POST", {"data": b""}),
        ("GET", {"headers": {"X-Bytes": b"raw"}}),
        ("POST", {"data": b"x", "headers": {"Expect": "100-continue"}}),
    ],
)
def test_the_request_on_the_wire_is_what_requests_sends(
    odd: tuple[str, list[Any]], method: str, kwargs: dict[str, Any]
) -> None:
    base, seen = odd
    client = PaysimClient(base, "sk_test_x")
    path = "/v1/caf\u00e9/x?q=1&r=caf\u00e9"
    ours = client.request(method, path, **kwargs)
    session = _session()
    session.headers["Authorization"] = "Bearer sk_test_x"
    theirs = session.request(method, base + path, timeout=TIMEOUT, **kwargs)
    client.close()
    assert (ours.status_code, ours.content) == (theirs.status_code, theirs.content)
    (m1, p1, h1, b1), (m2, p2, h2, b2) = seen
    assert (m1, p1, b1) == (m2, p2, b2)
    assert {k.lower(): v for k, v in h1.items()} == {k.lower(): v for k, v in h2.items()}


# -- 3. TLS: the session's, verify as requests reads it ----------------------------------------


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaysimServer]:
    with PaysimServer(https=True, cert_dir=tmp_path_factory.mktemp("certs")) as server:
        yield server


def test_an_https_client_is_its_session(tls_server: PaysimServer) -> None:
    client = PaysimClient(tls_server.url, tls_server.api_key, verify=tls_server.ca_file or True)
    assert client._pool is None
    assert not client._short_path(client.url_for("/v1/payments"), None)
    assert client.get("/v1/payments").status_code == 200
    client.close()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # on purpose
def test_verify_true_after_a_trusted_call_still_checks(tls_server: PaysimServer) -> None:
    """A connection made under verify=False (or a CA bundle) must not carry a later
    verify=True call: requests keys its pools by the TLS settings and raises SSLError."""
    client = PaysimClient(tls_server.url, tls_server.api_key, verify=False)
    assert client.get("/v1/payments").status_code == 200
    client.session.verify = True
    session = _session()
    theirs = _outcome(
        lambda: (
            session.get(tls_server.url + "/v1/payments", verify=False),
            session.get(tls_server.url + "/v1/payments", verify=True),
        )[1]
    )
    ours = _outcome(lambda: client.get("/v1/payments"))
    client.close()
    session.close()
    assert theirs[0] == "raised"
    assert ours == theirs


def test_verify_true_is_certifis_bundle_as_in_requests(
    tls_server: PaysimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests' verify=True is certifi's bundle, not OpenSSL's default paths."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.ca_file))
    client = PaysimClient(tls_server.url, tls_server.api_key)  # verify=True
    ours = _outcome(lambda: client.get("/v1/payments"))
    theirs = _outcome(lambda: _session().get(tls_server.url + "/v1/payments", timeout=TIMEOUT))
    client.close()
    assert ours == theirs


def test_verify_false_warns_as_requests_does(tls_server: PaysimServer) -> None:
    client = PaysimClient(tls_server.url, tls_server.api_key, verify=False)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        client.get("/v1/payments")
    session = _session()
    session.headers["Authorization"] = f"Bearer {tls_server.api_key}"
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        session.get(tls_server.url + "/v1/payments", verify=False, timeout=TIMEOUT)
    client.close()
    session.close()
    assert [type(w.message) for w in ours] == [type(w.message) for w in theirs]


# -- 4. stop and restart ------------------------------------------------------------------------


def test_a_client_outlives_a_restart_on_the_same_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = PaysimServer(seed=1, port=port)
    server.start()
    client = PaysimClient(server.url, server.api_key)
    assert client.get("/v1/payments").status_code == 200
    server.stop()
    with pytest.raises(requests.ConnectionError):
        client.get("/v1/payments")
    again = PaysimServer(seed=1, port=port)
    again.start()
    try:
        client.session.headers["Authorization"] = f"Bearer {again.api_key}"
        assert client.get("/v1/payments").status_code == 200
    finally:
        client.close()
        again.stop()


# -- 5. timeouts ---------------------------------------------------------------------------------


class _Silent(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        time.sleep(1.5)
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.parametrize("timeout", [0.3, (5, 0.3), (None, 0.3)])
def test_a_slow_answer_is_a_read_timeout(timeout: Any) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Silent)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        client = PaysimClient(base, "sk_test_x")
        ours = _outcome(lambda: client.get("/v1/x", timeout=timeout))
        theirs = _outcome(lambda: _session().get(base + "/v1/x", timeout=timeout))
        client.close()
        assert ours == theirs
        assert ours[1][0] is requests.ReadTimeout
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


# -- 6. against paysim's own server ---------------------------------------------------------------


def _open(server: PaysimServer) -> int:
    return server._server.open_connections  # type: ignore[union-attr]


def test_a_restarted_servers_client_keeps_its_connection_alive() -> None:
    """server.client is closed by stop() and kept; after start() it keeps its connection
    again, as a closed requests.Session pools again."""
    server = PaysimServer(seed=1)
    server.start()
    assert server.client.get("/v1/payments").status_code == 200
    server.stop()
    server.start()
    try:
        before = _open(server)
        for _ in range(3):
            assert server.client.get("/v1/payments").status_code == 200
        assert server.client._pool._idle != []
        assert _open(server) == before + 1
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("HEAD", {}),
        ("POST", {"json": {"amount": 1, "currency": "usd"}, "headers": {"Expect": "100-continue"}}),
        ("GET", {"headers": {"Connection": "close"}}),
        ("GET", {"timeout": None}),
        ("GET", {"timeout": (3, None)}),
    ],
)
def test_paysim_answers_the_short_path_as_a_session(method: str, kwargs: dict[str, Any]) -> None:
    with PaysimServer(seed=1) as server:
        client = PaysimClient(server.url, server.api_key)
        ours = client.request(method, "/v1/payments", **kwargs)
        again = client.get("/v1/payments")
        session = _session()
        session.headers["Authorization"] = f"Bearer {server.api_key}"
        kwargs.setdefault("timeout", TIMEOUT)
        theirs = session.request(method, server.url + "/v1/payments", **kwargs)
        client.close()
        session.close()
        assert ours.status_code == theirs.status_code
        assert again.status_code == 200
        if method != "POST":
            assert ours.content == theirs.content
        assert {k for k in ours.headers} == {k for k in theirs.headers}


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # on purpose
def test_a_ca_bundle_set_after_an_unchecked_call_is_checked(tls_server: PaysimServer) -> None:
    """After a verify=False call, a bundle that does not hold paysim's CA (certifi's) fails
    the handshake: no connection made without a check carries a checked call."""
    import certifi

    client = PaysimClient(tls_server.url, tls_server.api_key)
    client.session.verify = False
    assert client.get("/v1/payments").status_code == 200
    client.session.verify = certifi.where()
    try:
        with pytest.raises(requests.exceptions.SSLError):
            client.get("/v1/payments")
    finally:
        client.close()


# -- 7. a body over the limit, and mocks of requests' adapter --------------------------------------


@pytest.mark.parametrize("factor", [2, 8, 32])
def test_a_too_large_body_is_answered_413_as_to_a_session(factor: int) -> None:
    """The server answers 413 and closes without reading the rest; as urllib3 does, the broken
    pipe while sending is not the answer."""
    body = b"x" * (MAX_BODY_BYTES * factor)
    with PaysimServer(seed=1) as server:
        session = _session()
        session.headers["Authorization"] = f"Bearer {server.api_key}"
        theirs = session.post(server.url + "/v1/payments", data=body, timeout=TIMEOUT)
        client = PaysimClient(server.url, server.api_key)
        ours = client.post("/v1/payments", data=body)
        client.close()
        session.close()
        assert theirs.status_code == ours.status_code == 413
        assert ours.json()["error"]["code"] == theirs.json()["error"]["code"]


def test_a_responses_mock_of_the_simulator_is_honoured_on_every_path() -> None:
    with PaysimServer(seed=1) as server:
        client = server.client
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add(responses.GET, server.url + "/v1/payments", status=503, json={"down": True})
            long_path = client.get("/v1/payments", params={"limit": "1"})
            short_path = client.get("/v1/payments")
        assert long_path.status_code == short_path.status_code == 503
        assert client.get("/v1/payments").status_code == 200  # the mock stopped: short again


def test_an_unmocked_call_under_responses_fails_alike_on_every_path() -> None:
    with PaysimServer(seed=1) as server:
        client = server.client
        outcomes: list[Any] = []
        with responses.RequestsMock(assert_all_requests_are_fired=False):
            for kwargs in ({"params": {"limit": "1"}}, {}):
                call = partial(client.get, "/v1/payments", **kwargs)
                outcomes.append(_outcome(call))
        assert outcomes[0] == outcomes[1]
        assert outcomes[0][1][0] is requests.ConnectionError

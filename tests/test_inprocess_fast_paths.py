"""The short paths of in-process routing and of ``PaysimClient`` behave as the long ones did:
the environ is werkzeug's, answers keep their status, headers and body, faults and retries
work, and other requests still reach the test's own ``responses`` mocks."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry
from werkzeug.test import EnvironBuilder

from pytest_paysim.inprocess import InProcessRouter, call_wsgi
from pytest_paysim.server import PaysimServer

BASE = "https://gw.example/api"
ENVIRON_KEYS = (
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_HOST",
    "SERVER_PROTOCOL",
    "wsgi.url_scheme",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "HTTP_X_ONE",
    "HTTP_AUTHORIZATION",
)


def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers with what it got; ``/status/<n>`` answers n, ``/drop`` drops the connection."""
    path = environ["PATH_INFO"]
    if path == "/drop":
        raise ConnectionResetError("dropped")
    status = int(path.rsplit("/", 1)[1]) if path.startswith("/status/") else 200
    if environ["REQUEST_METHOD"] == "HEAD":
        start_response(f"{status} Whatever", [("X-Answer", "head")])
        return []
    seen = {key: environ.get(key) for key in ENVIRON_KEYS}
    seen["body"] = environ["wsgi.input"].read().decode()
    data = json.dumps(seen).encode()
    start_response(
        f"{status} Whatever",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(data))),
            ("Set-Cookie", "a=1; Path=/"),
            ("Set-Cookie", "b=2; Path=/"),
            ("X-Answer", "yes"),
        ],
    )
    return [data]


@pytest.fixture
def router() -> Iterator[InProcessRouter]:
    routes = InProcessRouter()
    routes.route(BASE, echo)
    yield routes
    routes.stop()


@pytest.mark.parametrize(
    ("method", "url", "headers", "body"),
    [
        ("GET", "https://gw.example/api/v1/things?x=1&y=%20z", {"X-One": "1"}, b""),
        ("POST", "http://gw.example:8080/api/p%C3%A9/x", {"Content-Type": "text/plain"}, b"hi"),
        ("DELETE", "https://gw.example/api", {"Authorization": "Bearer k"}, b""),
        ("PATCH", "https://gw.example/api/a", {"Content-Length": "0"}, b""),
    ],
)
def test_the_environ_is_werkzeugs(
    method: str, url: str, headers: dict[str, str], body: bytes
) -> None:
    environs: list[dict[str, Any]] = []

    def keep(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environs.append(dict(environ))
        start_response("204 No Content", [])
        return []

    call_wsgi(keep, "/api", method, url, list(headers.items()), body)
    scheme, _, rest = url.partition("://")
    netloc, _, path_query = rest.partition("/")
    path, _, query = ("/" + path_query).partition("?")
    builder = EnvironBuilder(
        path=path[len("/api") :] or "/",
        base_url=f"{scheme}://{netloc}/api",
        method=method,
        headers=headers,
        data=body,
        query_string=query,
    )
    expected = builder.get_environ()
    builder.close()
    for key in ENVIRON_KEYS:
        if key == "CONTENT_LENGTH" and not body:  # werkzeug leaves a sent "0" out; a server won't
            assert environs[0].get(key) == headers.get("Content-Length"), key
        else:
            assert environs[0].get(key) == expected.get(key), key
    assert environs[0]["wsgi.input"].read() == body


@pytest.mark.usefixtures("router")
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_every_method_reaches_the_app_with_its_query_and_body(method: str) -> None:
    answer = requests.request(method, BASE + "/v1/x?q=a%20b&q=c", data="é", timeout=5)

    assert answer.status_code == 200
    seen = answer.json()
    assert seen["REQUEST_METHOD"] == method
    assert seen["PATH_INFO"] == "/v1/x"
    assert seen["QUERY_STRING"] == "q=a%20b&q=c"
    assert seen["body"] == "é"
    assert answer.reason == "Whatever" or answer.reason == "OK"


@pytest.mark.usefixtures("router")
def test_head_is_routed_too() -> None:
    answer = requests.head(BASE + "/status/204", timeout=5)
    assert answer.status_code == 204
    assert answer.headers["X-Answer"] == "head"


@pytest.mark.usefixtures("router")
def test_status_headers_and_cookies_come_back() -> None:
    answer = requests.post(BASE + "/status/418", json={"a": 1}, timeout=5)

    assert answer.status_code == 418
    assert answer.headers["X-Answer"] == "yes"
    assert answer.headers["Content-Type"] == "application/json"
    assert "Content-Length" not in answer.headers
    assert answer.cookies.get_dict() == {"a": "1", "b": "2"}
    assert answer.json()["body"] == '{"a": 1}'
    assert answer.json()["CONTENT_TYPE"] == "application/json"
    assert answer.url == BASE + "/status/418"


@pytest.mark.usefixtures("router")
def test_a_dropped_connection_is_a_connection_error() -> None:
    with pytest.raises(requests.ConnectionError, match="injected fault"):
        requests.get(BASE + "/drop", timeout=5)


@pytest.mark.usefixtures("router")
def test_retries_of_the_adapter_apply() -> None:
    session = requests.Session()
    retry = Retry(total=2, status_forcelist=[503], backoff_factor=0, raise_on_status=True)
    session.mount("https://", HTTPAdapter(max_retries=retry))
    with pytest.raises(requests.exceptions.RetryError):
        session.get(BASE + "/status/503", timeout=5)
    assert session.get(BASE + "/status/200", timeout=5).status_code == 200


def test_a_tests_own_responses_mock_still_answers_other_urls() -> None:
    with responses.RequestsMock() as mocked:
        mocked.get("https://other.example/x", json={"mine": True})
        routes = InProcessRouter()
        routes.route(BASE, echo)
        try:
            assert requests.get("https://other.example/x", timeout=5).json() == {"mine": True}
            assert requests.get(BASE + "/status/201", timeout=5).status_code == 201
        finally:
            routes.stop()
        assert requests.get("https://other.example/x", timeout=5).json() == {"mine": True}


def test_a_routed_url_skips_the_environments_proxies_and_others_keep_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A proxy that cannot be reached: a routed call must not need it, any other URL still
    # gets it from the environment as requests gives it.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nowhere/ca.pem")
    session = requests.Session()
    original = requests.Session.merge_environment_settings
    routes = InProcessRouter()
    routes.route(BASE, echo)
    try:
        assert session.get(BASE + "/status/201", timeout=5).status_code == 201
        routed = session.merge_environment_settings(BASE + "/x", {}, None, None, None)
        other = session.merge_environment_settings("https://other.example/", {}, None, None, None)
    finally:
        routes.stop()
    assert routed == {"proxies": {}, "stream": False, "verify": True, "cert": None}
    assert other["proxies"]["https"] == "http://127.0.0.1:9"
    assert other["verify"] == "/nowhere/ca.pem"
    assert requests.Session.merge_environment_settings is original


def test_routers_stopped_in_the_order_they_started_leave_nothing_routed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    first, second = InProcessRouter(), InProcessRouter()
    first.route("http://a.test", echo)
    second.route("http://b.test", echo)
    assert requests.get("http://a.test/status/201", timeout=5).status_code == 201
    first.stop()  # not the last patch put on
    second.stop()
    session = requests.Session()
    for url in ("http://a.test/x", "http://b.test/x"):
        settings = session.merge_environment_settings(url, {}, None, None, None)
        assert settings["proxies"]["http"] == "http://127.0.0.1:9"  # the environment's again
        with pytest.raises(requests.ConnectionError):  # sent to the (unreachable) proxy
            session.get(url, timeout=5)


def test_netrc_credentials_still_reach_a_routed_call(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine gw.example login user password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    routes = InProcessRouter()
    routes.route(BASE, echo)
    try:
        seen = requests.get(BASE + "/v1/x", timeout=5).json()
    finally:
        routes.stop()
    assert seen["HTTP_AUTHORIZATION"] == "Basic dXNlcjpzZWNyZXQ="


@pytest.fixture(scope="module")
def server() -> Iterator[PaysimServer]:
    with PaysimServer(seed=3) as running:
        yield running


def test_the_clients_short_path_answers_as_the_session_does(server: PaysimServer) -> None:
    client = server.client
    created = client.post("/v1/payments", json={"amount": 500, "currency": "usd"})
    assert created.status_code == 201
    assert created.request.headers["Authorization"] == f"Bearer {server.api_key}"
    assert created.request.headers["Content-Type"] == "application/json"
    assert created.elapsed.total_seconds() > 0
    payment = created.json()
    again = client.get(f"/v1/payments/{payment['id']}")
    assert again.json() == client.session.get(client.url_for(again.request.path_url)).json()
    raw = client.post(
        "/v1/payments",
        data='{"amount": 7, "currency": "eur"}',
        headers={"Content-Type": "application/json", "Idempotency-Key": "k1"},
    )
    assert raw.status_code == 201
    assert raw.json()["amount"] == 7
    unauthorised = client.get("/v1/payments", headers={"Authorization": None})  # type: ignore[dict-item]
    assert unauthorised.status_code == 401
    assert "Authorization" not in unauthorised.request.headers


def test_the_client_takes_the_session_path_when_the_session_has_more(
    server: PaysimServer,
) -> None:
    seen: list[int] = []
    client = type(server.client)(server.url, server.api_key)
    client.session.hooks["response"].append(lambda response, **_: seen.append(1))
    assert client.get("/v1/payments").status_code == 200
    assert client.get("/v1/payments", params={"limit": 1}).status_code == 200
    assert seen == [1, 1]
    client.close()


def test_the_clients_timeout_still_times_out(server: PaysimServer) -> None:
    from pytest_paysim.backends import LocalBackend
    from pytest_paysim.handle import Paysim, TestSettings

    paysim = Paysim(LocalBackend(server), TestSettings(seed=3))
    paysim.inject_fault(method="POST", path="/v1/payments", delay=0.5)
    with pytest.raises(requests.Timeout):
        server.client.post("/v1/payments", json={"amount": 1, "currency": "usd"}, timeout=0.1)
    paysim.inject_fault(method="GET", path="/v1/payments/*", drop_connection=True)
    with pytest.raises(requests.ConnectionError):
        server.client.get("/v1/payments/pay_123")
    paysim.reset()


def gzipped(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers ``{"zipped": true}`` gzip-coded, as a compressing app would."""
    data = gzip.compress(b'{"zipped": true}')
    start_response("200 OK", [("Content-Encoding", "gzip"), ("Content-Length", str(len(data)))])
    return [data]


def bare(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A bare WSGI app, as Django's ``WSGIHandler`` is: a body whatever the method and status
    (``/status/<n>``), which a WSGI server drops for HEAD, 204 and 304."""
    path = environ["PATH_INFO"]
    status = path.rsplit("/", 1)[1] if path.startswith("/status/") else "200"
    start_response(f"{status} X", [("Content-Type", "text/plain"), ("Content-Length", "4")])
    return [b"body"]


@pytest.fixture
def odd_apps() -> Iterator[None]:
    routes = InProcessRouter()
    routes.route("https://zipped.example", gzipped)
    routes.route("https://bare.example", bare)
    yield
    routes.stop()


def test_a_routed_answer_reads_the_same_streamed_or_not(router: InProcessRouter) -> None:
    read = requests.post(BASE + "/x", data=b"hello", timeout=5)
    streamed = requests.post(BASE + "/x", data=b"hello", timeout=5, stream=True)
    chunks = b"".join(streamed.iter_content(7))
    assert read.content == chunks
    assert json.loads(chunks)["body"] == "hello"
    assert b"".join(read.iter_content(4)) == read.content
    assert read.raw.read() == b""  # what a session leaves: the raw already read


def test_a_routed_answer_in_a_content_coding_is_decoded(odd_apps: None) -> None:
    for stream in (False, True):
        answer = requests.get("https://zipped.example/", timeout=5, stream=stream)
        assert answer.json() == {"zipped": True}


@pytest.mark.parametrize(
    ("method", "path"), [("HEAD", "/"), ("GET", "/status/204"), ("GET", "/status/304")]
)
def test_a_routed_answer_that_has_no_body_has_none(odd_apps: None, method: str, path: str) -> None:
    """Over the network ``requests`` gives b"" here: a WSGI server sends no body."""
    assert requests.request(method, "https://bare.example" + path, timeout=5).content == b""
    assert requests.get("https://bare.example/", timeout=5).content == b"body"

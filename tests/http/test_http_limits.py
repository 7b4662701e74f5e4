"""Edges found in review: inputs and timings that must not change state or give a 500.

Self-contained (a server per test where the test changes settings), over real loopback.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from pytest_paysim.core.faults import Fault
from pytest_paysim.server import PaysimServer


@pytest.fixture(scope="module")
def server() -> Iterator[PaysimServer]:
    with PaysimServer(seed=77) as running:
        yield running


@pytest.fixture(autouse=True)
def _reset(server: PaysimServer) -> Iterator[None]:
    assert server.simulator is not None
    server.simulator.reset()
    yield
    assert server.simulator.unexpected_errors() == []


@pytest.mark.parametrize(
    "return_url",
    [
        pytest.param("https://a..b/back", id="empty-label"),
        pytest.param("https://" + "x" * 64 + ".test/back", id="label-over-63"),
    ],
)
def test_a_return_url_no_browser_could_open_is_a_400(server: PaysimServer, return_url: str) -> None:
    response = server.client.post(
        "/v1/payments", json={"amount": 100, "currency": "usd", "return_url": return_url}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "return_url"
    assert server.client.get("/v1/payments").json()["data"] == []


def _declare_big_body(server: PaysimServer, request_line: bytes) -> bytes:
    """Send a request that declares 2 MiB and sends none of it; the answer's head."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            request_line
            + b"\r\nHost: x\r\nAuthorization: Bearer "
            + server.api_key.encode()
            + b"\r\nContent-Length: 2097152\r\n\r\n"
        )
        return sock.recv(65536)


@pytest.mark.parametrize(
    "request_line",
    [
        pytest.param(b"GET /v1/payments HTTP/1.1", id="get-list"),
        pytest.param(b"DELETE /_paysim/faults HTTP/1.1", id="control-delete"),
        pytest.param(b"GET /dashboard HTTP/1.1", id="page"),
    ],
)
def test_a_body_over_the_limit_is_a_413_on_routes_that_take_none(
    server: PaysimServer, request_line: bytes
) -> None:
    assert _declare_big_body(server, request_line).startswith(b"HTTP/1.1 413 ")


def test_a_delete_with_a_body_over_the_limit_deletes_nothing(server: PaysimServer) -> None:
    endpoint = server.client.post("/v1/webhook_endpoints", json={"url": "http://127.0.0.1:9/x"})
    endpoint_id = endpoint.json()["id"]
    head = _declare_big_body(
        server, f"DELETE /v1/webhook_endpoints/{endpoint_id} HTTP/1.1".encode()
    )
    assert head.startswith(b"HTTP/1.1 413 ")
    listed = server.client.get("/v1/webhook_endpoints").json()["data"]
    assert [item["id"] for item in listed] == [endpoint_id]


def test_a_delay_fault_holds_a_page_too(server: PaysimServer) -> None:
    assert server.simulator is not None
    payment = server.client.post("/v1/payments", json={"amount": 100, "currency": "usd"}).json()
    server.simulator.add_fault(Fault(path="/pay/*", status=None, delay=0.4))
    started = time.monotonic()
    page = requests.get(payment["payment_url"], timeout=5)
    assert page.status_code == 200
    assert time.monotonic() - started >= 0.4


def test_a_read_held_across_a_reset_shows_nothing_of_the_next_run(server: PaysimServer) -> None:
    sim = server.simulator
    assert sim is not None
    sim.add_fault(Fault(method="GET", path="/v1/payments", status=None, delay=0.5))
    answer: dict[str, Any] = {}

    def read() -> None:
        answer["response"] = server.client.get("/v1/payments", timeout=5)

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.1)
    sim.reset()  # the next test begins, and makes a payment
    server.client.post("/v1/payments", json={"amount": 100, "currency": "usd"})
    reader.join(5)
    response = answer["response"]
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "simulator_reset"


class _Arrivals:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()


@pytest.fixture
def receiver() -> Iterator[tuple[str, _Arrivals]]:
    arrivals = _Arrivals()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with arrivals.lock:
                arrivals.ids.append(json.loads(body)["id"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    http.daemon_threads = True
    thread = threading.Thread(target=http.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}/hooks", arrivals
    http.shutdown()
    http.server_close()
    thread.join(2)


def test_sync_first_attempts_keep_event_order_under_concurrent_requests(
    receiver: tuple[str, _Arrivals],
) -> None:
    url, arrivals = receiver
    with PaysimServer(seed=5, delivery="sync") as sync_server:
        sync_server.client.post("/v1/webhook_endpoints", json={"url": url})

        def create_many() -> None:
            with requests.Session() as session:
                session.headers["Authorization"] = f"Bearer {sync_server.api_key}"
                for _ in range(15):
                    session.post(
                        sync_server.url + "/v1/payments",
                        json={"amount": 100, "currency": "usd"},
                        timeout=10,
                    )

        threads = [threading.Thread(target=create_many) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        events = sync_server.client.get("/v1/events", params={"limit": 100}).json()["data"]
    # Sync: every first attempt was made before its create answered, so all are here.
    position = {event["id"]: index for index, event in enumerate(reversed(events))}
    assert len(arrivals.ids) == len(position) == 60
    assert [position[event_id] for event_id in arrivals.ids] == sorted(position.values())


def test_an_error_in_a_webhook_worker_reaches_the_error_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pytest_paysim.webhooks import dispatcher as dispatcher_module

    def broken(self: Any, attempt: Any, session: Any) -> None:
        raise RuntimeError("a bug while sending")

    monkeypatch.setattr(dispatcher_module.Dispatcher, "send", broken)
    log = io.StringIO()
    with PaysimServer(seed=6, error_log=log) as logged:
        logged.client.post(
            "/v1/payments",
            json={
                "amount": 1,
                "currency": "usd",
                "metadata": {"webhook_url": "http://127.0.0.1:9/"},
            },
        )
        assert logged.simulator is not None
        deadline = time.monotonic() + 5
        while not logged.simulator.unexpected_errors() and time.monotonic() < deadline:
            time.sleep(0.02)
        kept = logged.simulator.unexpected_errors()
    assert len(kept) == 1
    assert "RuntimeError: a bug while sending" in log.getvalue()

"""The core's boundary seen from HTTP: requests that outlive their test, input that cannot be
stored, repeated idempotency headers, and what an unexpected error leaves behind."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from typing import Any

import pytest
import requests

from pytest_paysim.core.faults import Fault
from pytest_paysim.http import app as app_module
from pytest_paysim.server import PaysimServer
from tests.support.http import Http, assert_error, raw_request, state_of

SEED = 4242
FROZEN_AT = 1_772_366_400.0  # 2026-03-01T12:00:00Z: state snapshots compare equal


def _first_payment_id(server: PaysimServer, api: Http) -> str:
    """The id a fresh run with SEED gives its first payment."""
    assert server.simulator is not None
    server.simulator.reset(seed=SEED, frozen_at=FROZEN_AT)
    payment_id: str = api.create_payment()["id"]
    server.simulator.reset(seed=SEED, frozen_at=FROZEN_AT)
    return payment_id


@pytest.mark.parametrize("keyed", [False, True], ids=["no-key", "idempotency-key"])
def test_a_request_left_behind_by_a_test_never_reaches_the_next(
    server: PaysimServer, api: Http, keyed: bool
) -> None:
    sim = server.simulator
    assert sim is not None
    alone = _first_payment_id(server, api)
    # Test A: a slowed create whose client gives up waiting.
    sim.add_fault(Fault(method="POST", path="/v1/payments", status=None, delay=0.6))
    headers = {"Idempotency-Key": "left-behind"} if keyed else {}
    with pytest.raises(requests.Timeout):
        api.post(
            "/v1/payments",
            json={"amount": 500, "currency": "usd"},
            headers=headers,
            timeout=0.1,
        )
    # Test B starts: the reset happens while A's request still sleeps.
    sim.reset(seed=SEED, frozen_at=FROZEN_AT)
    before = state_of(server)
    time.sleep(0.9)  # A's request wakes up and is refused without effect
    assert state_of(server) == before
    assert sim.payments()[0] == []
    assert sim.attempts() == []
    assert api.create_payment()["id"] == alone
    if keyed:  # the key A reserved is free in B
        again = api.post(
            "/v1/payments",
            json={"amount": 500, "currency": "usd"},
            headers={"Idempotency-Key": "left-behind"},
        )
        assert again.status_code == 201, again.text


def test_a_request_that_outlived_its_run_is_answered_409_simulator_reset(
    server: PaysimServer, api: Http
) -> None:
    sim = server.simulator
    assert sim is not None
    # The reset must come after the request arrived and before its delay ends: wide margins,
    # so a loaded machine that is slow to send the request still lands it in the first run.
    sim.add_fault(Fault(method="POST", path="/v1/payments", status=None, delay=1.5))
    resetter = threading.Timer(0.5, sim.reset)
    resetter.start()
    try:
        response = api.post("/v1/payments", json={"amount": 500, "currency": "usd"}, timeout=5)
    finally:
        resetter.join(5)
    error = assert_error(response, "simulator_reset")
    assert "nothing was done" in error["message"]
    assert sim.payments()[0] == []


LONE = "\ud800"

SURROGATE_REQUESTS = [
    pytest.param(
        "/v1/payments", {"amount": 1, "currency": "usd", "description": LONE}, id="description"
    ),
    pytest.param(
        "/v1/payments", {"amount": 1, "currency": "usd", "metadata": {LONE: "x"}}, id="metadata-key"
    ),
    pytest.param(
        "/v1/payments",
        {"amount": 1, "currency": "usd", "metadata": {"order": "a" + LONE}},
        id="metadata-value",
    ),
    pytest.param(
        "/v1/payments",
        {"amount": 1, "currency": "usd", "return_url": "https://shop.test/" + LONE},
        id="return-url",
    ),
    pytest.param("/v1/webhook_endpoints", {"url": "https://hooks.test/" + LONE}, id="endpoint-url"),
    pytest.param("/_paysim/faults", {"path": "/v1/" + LONE}, id="fault-path"),
    pytest.param("/v1/payments", {"amount": 1, "currency": "usd", LONE: 1}, id="unknown-field"),
]


@pytest.mark.parametrize(("path", "body"), SURROGATE_REQUESTS)
def test_a_lone_surrogate_is_a_400_and_stores_nothing(
    server: PaysimServer, api: Http, frozen: float, path: str, body: dict[str, Any]
) -> None:
    before = state_of(server)
    # json.dumps writes the surrogate as the escape \ud800, as any JSON client would.
    raw = json.dumps(body).encode()
    assert b"\\ud800" in raw
    response = api.post(path, data=raw, headers={"Content-Type": "application/json"})
    error = assert_error(response, "invalid_json")
    assert "surrogate" in error["message"]
    assert state_of(server) == before
    assert api.get("/v1/payments").status_code == 200
    assert api.get("/v1/events").status_code == 200
    dashboard = api.get("/dashboard", auth=(server.api_key, ""))
    assert dashboard.status_code == 200


def test_a_surrogate_pair_is_a_character_and_is_kept(api: Http) -> None:
    raw = json.dumps({"amount": 1, "currency": "usd", "description": "\U0001f600"}).encode()
    assert b"\\ud83d\\ude00" in raw
    response = api.post("/v1/payments", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["description"] == "\U0001f600"


def test_two_idempotency_key_headers_are_refused(server: PaysimServer, frozen: float) -> None:
    before = state_of(server)
    body = b'{"amount": 100, "currency": "usd"}'
    head = b"\r\n".join(
        [
            b"POST /v1/payments HTTP/1.1",
            b"Host: 127.0.0.1",
            b"Connection: close",
            b"Authorization: Bearer " + server.api_key.encode(),
            b"Content-Type: application/json",
            b"Idempotency-Key: one",
            b"Idempotency-Key: two",
            b"Content-Length: %d" % len(body),
        ]
    )
    status, payload = raw_request(server, head, body)
    assert status == 400
    error = json.loads(payload)["error"]
    assert error["code"] == "idempotency_key_invalid"
    assert error["param"] == "Idempotency-Key"
    assert "one `Idempotency-Key` header" in error["message"]
    assert state_of(server) == before


def test_a_key_with_a_comma_is_refused_as_two_keys(api: Http) -> None:
    response = api.post(
        "/v1/payments",
        json={"amount": 100, "currency": "usd"},
        headers={"Idempotency-Key": "one, two"},
    )
    assert_error(response, "idempotency_key_invalid", param="Idempotency-Key")
    assert api.get("/v1/payments").json()["data"] == []


def _boom(ctx: Any) -> tuple[int, Any]:
    raise RuntimeError("a bug in a handler")


@pytest.mark.parametrize("logged", [True, False], ids=["serve", "pytest"])
def test_an_unexpected_error_is_a_500_worded_for_where_it_runs(
    monkeypatch: pytest.MonkeyPatch, logged: bool
) -> None:
    monkeypatch.setitem(app_module.HANDLERS, "list_events", _boom)
    log = io.StringIO()
    with PaysimServer(seed=1, error_log=log if logged else None) as server:
        response = server.client.get("/v1/events")
        assert server.simulator is not None
        kept = server.simulator.unexpected_errors()
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert "Traceback" not in error["message"]
    assert len(kept) == 1
    assert "RuntimeError: a bug in a handler" in kept[0]
    if logged:
        assert "standard error of paysim serve" in error["message"]
        assert "Traceback (most recent call last)" in log.getvalue()
        assert "RuntimeError: a bug in a handler" in log.getvalue()
    else:
        assert "running test fails" in error["message"]
        assert log.getvalue() == ""


def test_a_body_over_the_limit_is_refused_before_it_is_read(server: PaysimServer) -> None:
    """413 comes back while the client has sent only the headers."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + server.api_key.encode() + b"\r\n"
            b"Content-Length: 5000000\r\n\r\n{"
        )
        head = sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"body_too_large" in head or b"Content-Length" in head

"""``GET /_paysim/calls``: every API request of the run, once, with its answer."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from http_support import Http

from pytest_paysim.server import PaysimServer


def calls(api: Http) -> list[dict[str, Any]]:
    answer = api.ok("GET", "/_paysim/calls")
    assert (answer["object"], answer["has_more"]) == ("list", False)
    result: list[dict[str, Any]] = answer["data"]
    return result


def test_each_api_request_once_in_order_with_what_was_asked_and_answered(api: Http) -> None:
    created = api.post(
        "/v1/payments", json={"amount": 700, "currency": "usd"}, headers={"Idempotency-Key": "k"}
    )
    api.get("/v1/payments?limit=2&status=failed")
    api.post(f"/v1/payments/{created.json()['id']}/pay", json={"outcome": "explode"})

    first, listed, refused = calls(api)
    assert first == {
        "method": "POST",
        "path": "/v1/payments",
        "status": 201,
        "idempotency_key": "k",
        "replayed": False,
        "fault": None,
        "request": {"amount": 700, "currency": "usd"},
        "response": created.json(),
    }
    assert (listed["method"], listed["path"], listed["status"]) == ("GET", "/v1/payments", 200)
    assert listed["request"] == {"limit": "2", "status": "failed"}  # the query, as sent
    assert listed["response"]["object"] == "list"
    assert refused["status"] == 400
    assert refused["request"] == {"outcome": "explode"}
    assert refused["response"]["error"]["param"] == "outcome"


def test_control_routes_health_openapi_and_pages_are_not_api_calls(
    api: Http, anon: Http, server: PaysimServer
) -> None:
    payment = api.create_payment()
    for path in ("/health", "/openapi.json", "/_paysim/state", "/_paysim/clock"):
        api.get(path)
    anon.get(f"/pay/{payment['id']}?client_secret={payment['client_secret']}")
    api.get("/dashboard", auth=(server.api_key, ""))
    assert [(c["method"], c["path"]) for c in calls(api)] == [("POST", "/v1/payments")]


def test_errors_of_every_kind_are_calls(api: Http, anon: Http) -> None:
    anon.get("/v1/payments")  # 401
    api.post("/v1/paymnts", json={})  # 404
    api.request("PUT", "/v1/payments")  # 405
    api.post("/v1/payments", data=b"{not json", headers={"Content-Type": "application/json"})
    found = [(c["path"], c["status"], c["request"]) for c in calls(api)]
    assert found == [
        ("/v1/payments", 401, {}),
        ("/v1/paymnts", 404, None),
        ("/v1/payments", 405, None),
        ("/v1/payments", 400, None),  # the body was not JSON
    ]


def test_a_replay_shows_as_replayed(api: Http) -> None:
    body, headers = {"amount": 5, "currency": "usd"}, {"Idempotency-Key": "same"}
    api.post("/v1/payments", json=body, headers=headers)
    api.post("/v1/payments", json=body, headers=headers)
    assert [(c["replayed"], c["status"]) for c in calls(api)] == [(False, 201), (True, 201)]


def test_faults_show_on_their_calls(api: Http) -> None:
    api.ok("POST", "/_paysim/faults", json={"path": "/v1/payments", "status": 503})
    api.ok("POST", "/_paysim/faults", json={"path": "/v1/events", "status": 502, "when": "after"})
    body, headers = {"amount": 9, "currency": "eur"}, {"Idempotency-Key": "f"}
    api.post("/v1/payments", json=body, headers=headers)
    api.get("/v1/events?limit=1")
    before, after = calls(api)
    assert before["status"] == 503
    assert before["fault"] == {
        "method": None,
        "path": "/v1/payments",
        "status": 503,
        "when": "before",
        "delay": 0.0,
        "drop_connection": False,
    }
    assert before["request"] == {"amount": 9, "currency": "eur"}  # read, though never run
    assert before["idempotency_key"] == "f"
    assert before["response"]["error"]["code"] == "injected_fault"
    assert (after["status"], after["fault"]["when"]) == (502, "after")
    assert after["request"] == {"limit": "1"}


def test_a_dropped_connection_is_a_call_without_an_answer(api: Http) -> None:
    api.ok("POST", "/_paysim/faults", json={"path": "/v1/events", "drop_connection": True})
    with pytest.raises(requests.ConnectionError):
        api.get("/v1/events")
    [dropped] = calls(api)
    assert (dropped["status"], dropped["response"]) == (None, None)
    assert dropped["fault"]["drop_connection"] is True


def test_a_reset_empties_them(api: Http) -> None:
    api.create_payment()
    assert len(calls(api)) == 1
    api.ok("POST", "/_paysim/reset", json={})
    assert calls(api) == []


def test_the_simulator_keeps_the_same_records(api: Http, server: PaysimServer) -> None:
    created = api.create_payment()
    assert server.simulator is not None
    [call] = server.simulator.calls()
    assert (call.method, call.path, call.status) == ("POST", "/v1/payments", 201)
    assert call.response == created
    assert call.to_dict() == calls(api)[0]

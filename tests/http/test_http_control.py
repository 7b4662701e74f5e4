"""The ``/_paysim`` control plane over HTTP: reset, forced outcomes, faults and the clock."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from http_support import Http, assert_error


def pay(api: Http, pid: str, **body: Any) -> dict[str, Any]:
    result: dict[str, Any] = api.ok("POST", f"/v1/payments/{pid}/pay", json=body)
    return result


# -- reset ------------------------------------------------------------------------------------


def test_reset_empties_everything_and_ids_repeat(api: Http) -> None:
    first = api.create_payment()
    endpoint = api.ok("POST", "/v1/webhook_endpoints", 201, json={"url": "https://e.com/h"})
    api.ok("POST", "/_paysim/outcomes", json={"outcome": "fail", "times": None})
    api.ok("POST", "/_paysim/faults", json={"path": "/nowhere", "times": None})
    api.ok("POST", "/_paysim/clock", json={"freeze": "2030-01-01T00:00:00Z"})
    api.post(
        "/v1/payments", json={"amount": 1, "currency": "usd"}, headers={"Idempotency-Key": "a"}
    )

    state = api.ok("POST", "/_paysim/reset", json={})
    assert state["object"] == "paysim_state"
    assert (state["faults"], state["outcomes"], state["refund_outcomes"]) == ([], [], [])
    assert state["clock"]["frozen"] is False
    for path in ("/v1/payments", "/v1/events", "/v1/webhook_endpoints", "/v1/webhook_deliveries"):
        assert api.ok("GET", path)["data"] == [], path
    assert_error(api.delete(f"/v1/webhook_endpoints/{endpoint['id']}"), "resource_missing")

    again = api.create_payment()
    assert again["id"] == first["id"]
    assert again["client_secret"] == first["client_secret"]
    assert again["status"] == "requires_payment_method"
    keyed = api.post(
        "/v1/payments", json={"amount": 2, "currency": "usd"}, headers={"Idempotency-Key": "a"}
    )
    assert keyed.status_code == 201  # the key was forgotten too


def test_reset_with_another_seed_gives_other_ids(api: Http) -> None:
    first = api.create_payment()["id"]
    api.ok("POST", "/_paysim/reset", json={"seed": 12345})
    other = api.create_payment()["id"]
    api.ok("POST", "/_paysim/reset", json={"seed": 12345})
    assert api.create_payment()["id"] == other != first


def test_reset_can_freeze_the_clock(api: Http) -> None:
    state = api.ok("POST", "/_paysim/reset", json={"clock": "2027-02-03T04:05:06Z"})
    assert state["clock"] == {"now": "2027-02-03T04:05:06.000Z", "frozen": True}
    assert api.create_payment()["created_at"] == "2027-02-03T04:05:06.000Z"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"seed": -1}, id="negative-seed"),
        pytest.param({"seed": "1"}, id="string-seed"),
        pytest.param({"signature": "md5"}, id="signature"),
        pytest.param({"delivery": "later"}, id="delivery"),
        pytest.param({"auto_success_rate": 1.5}, id="rate"),
        pytest.param({"clock": "yesterday"}, id="clock"),
        pytest.param({"everything": True}, id="unknown"),
    ],
)
def test_reset_rejects_bad_bodies_and_changes_nothing(api: Http, body: dict[str, Any]) -> None:
    payment = api.create_payment()
    generation = api.ok("GET", "/_paysim/state")["generation"]
    assert api.post("/_paysim/reset", json=body).status_code == 400
    assert api.ok("GET", "/_paysim/state")["generation"] == generation
    assert api.ok("GET", "/v1/payments")["data"] == [payment]


# -- outcomes ---------------------------------------------------------------------------------


def test_forced_outcome_applies_times_then_stops(api: Http) -> None:
    state = api.ok("POST", "/_paysim/outcomes", json={"outcome": "fail", "times": 2})
    assert state["outcomes"] == [
        {
            "outcome": "fail",
            "times": 2,
            "payment_id": None,
            "decline_code": None,
            "required": True,
            "used": 0,
        }
    ]
    pids = [api.create_payment()["id"] for _ in range(3)]
    assert pay(api, pids[0], outcome="succeed")["status"] == "failed"
    assert pay(api, pids[1], outcome="succeed")["status"] == "failed"
    assert pay(api, pids[2], outcome="succeed")["status"] == "succeeded"
    assert api.ok("GET", "/_paysim/state")["outcomes"] == []


def test_times_defaults_to_one(api: Http) -> None:
    api.ok("POST", "/_paysim/outcomes", json={"outcome": "abandon"})
    pid = api.create_payment()["id"]
    assert pay(api, pid, outcome="succeed")["status"] == "requires_payment_method"
    assert pay(api, pid, outcome="succeed")["status"] == "succeeded"


def test_times_null_means_always(api: Http) -> None:
    api.ok("POST", "/_paysim/outcomes", json={"outcome": "abandon", "times": None})
    pid = api.create_payment()["id"]
    for _ in range(5):
        assert pay(api, pid, outcome="succeed")["status"] == "requires_payment_method"
    cleared = api.delete("/_paysim/outcomes")
    assert cleared.status_code == 200
    assert cleared.json()["outcomes"] == []
    assert_error(api.post(f"/v1/payments/{pid}/pay", json={}), "parameter_missing")
    assert pay(api, pid, outcome="succeed")["status"] == "succeeded"


def test_per_payment_outcome_comes_before_the_global_one(api: Http) -> None:
    special, other = api.create_payment()["id"], api.create_payment()["id"]
    api.ok("POST", "/_paysim/outcomes", json={"outcome": "succeed", "times": None})
    api.ok(
        "POST",
        "/_paysim/outcomes",
        json={"outcome": "fail", "payment_id": special, "decline_code": "stolen_card"},
    )
    failed = pay(api, special, outcome="succeed")
    assert (failed["status"], failed["decline_code"]) == ("failed", "stolen_card")
    assert pay(api, other, outcome="fail")["status"] == "succeeded"
    assert pay(api, special, outcome="fail")["status"] == "succeeded"  # per-payment used up


def test_forced_refund_outcome(api: Http) -> None:
    pid = api.payment_in("succeeded", amount=1000)["id"]
    state = api.ok("POST", "/_paysim/outcomes", json={"refund_outcome": "fail", "times": 1})
    assert state["refund_outcomes"] == [
        {"refund_outcome": "fail", "times": 1, "required": True, "used": 0}
    ]
    failed = api.ok("POST", f"/v1/payments/{pid}/refund", 201, json={"amount": 100})
    assert failed["status"] == "failed"
    refunded = api.ok("POST", f"/v1/payments/{pid}/refund", 201, json={"amount": 100})
    assert refunded["status"] == "succeeded"
    assert api.ok("GET", f"/v1/payments/{pid}")["amount_refunded"] == 100


def test_delete_outcomes_clears_refund_outcomes_too(api: Http) -> None:
    api.ok("POST", "/_paysim/outcomes", json={"refund_outcome": "fail", "times": None})
    api.delete("/_paysim/outcomes")
    pid = api.payment_in("succeeded")["id"]
    assert api.ok("POST", f"/v1/payments/{pid}/refund", 201)["status"] == "succeeded"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param({}, "parameter_missing", id="empty"),
        pytest.param({"times": 2}, "parameter_missing", id="times-alone"),
        pytest.param({"outcome": "explode"}, "parameter_invalid", id="bad-outcome"),
        pytest.param({"outcome": "fail", "refund_outcome": "fail"}, "parameter_missing", id="both"),
        pytest.param({"refund_outcome": "succeed"}, "parameter_invalid", id="bad-refund"),
        pytest.param(
            {"refund_outcome": "fail", "payment_id": "pay_x"},
            "parameter_invalid",
            id="refund-with-payment",
        ),
        pytest.param(
            {"outcome": "succeed", "decline_code": "lost_card"},
            "parameter_invalid",
            id="decline-without-fail",
        ),
        pytest.param(
            {"outcome": "fail", "decline_code": "bad_day"},
            "parameter_invalid",
            id="unknown-decline",
        ),
        pytest.param({"outcome": "fail", "times": 0}, "parameter_invalid", id="times-0"),
        pytest.param({"outcome": "fail", "times": 1.5}, "parameter_invalid", id="times-float"),
        pytest.param({"outcome": "fail", "times": True}, "parameter_invalid", id="times-bool"),
    ],
)
def test_outcomes_reject_bad_bodies(api: Http, body: dict[str, Any], code: str) -> None:
    assert_error(api.post("/_paysim/outcomes", json=body), code)
    state = api.ok("GET", "/_paysim/state")
    assert (state["outcomes"], state["refund_outcomes"]) == ([], [])


# -- faults -----------------------------------------------------------------------------------


def test_fault_defaults_to_503_once_before_execution(api: Http) -> None:
    state = api.ok("POST", "/_paysim/faults", json={})
    assert state["faults"] == [
        {
            "method": None,
            "path": None,
            "status": 503,
            "times": 1,
            "when": "before",
            "delay": 0.0,
            "drop_connection": False,
            "required": True,
            "used": 0,
        },
    ]
    response = api.post("/v1/payments", json={"amount": 1, "currency": "usd"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "injected_fault"
    assert api.ok("GET", "/v1/payments")["data"] == []
    assert api.ok("GET", "/_paysim/state")["faults"] == []


def test_fault_times(api: Http) -> None:
    api.ok("POST", "/_paysim/faults", json={"status": 500, "times": 2, "path": "/health"})
    assert [api.get("/health").status_code for _ in range(3)] == [500, 500, 200]


def test_fault_times_null_is_always(api: Http) -> None:
    api.ok("POST", "/_paysim/faults", json={"status": 429, "times": None, "path": "/health"})
    assert {api.get("/health").status_code for _ in range(5)} == {429}
    assert api.delete("/_paysim/faults").json()["faults"] == []
    assert api.get("/health").status_code == 200


def test_fault_method_filter(api: Http) -> None:
    api.ok("POST", "/_paysim/faults", json={"method": "GET", "path": "/v1/payments"})
    assert api.post("/v1/payments", json={"amount": 1, "currency": "usd"}).status_code == 201
    assert api.get("/v1/payments").status_code == 503
    assert api.get("/v1/payments").status_code == 200


def test_fault_path_is_a_glob(api: Http) -> None:
    pid = api.payment_in("succeeded")["id"]
    api.ok("POST", "/_paysim/faults", json={"path": "/v1/payments/*/refund", "times": None})
    assert api.get(f"/v1/payments/{pid}").status_code == 200
    assert api.post(f"/v1/payments/{pid}/capture").status_code == 200
    assert api.post(f"/v1/payments/{pid}/refund").status_code == 503
    assert api.ok("GET", f"/v1/payments/{pid}")["amount_refunded"] == 0


def test_fault_after_executes_and_loses_the_answer(api: Http) -> None:
    api.ok("POST", "/_paysim/faults", json={"path": "/v1/payments", "when": "after"})
    assert api.post("/v1/payments", json={"amount": 1, "currency": "usd"}).status_code == 503
    assert len(api.ok("GET", "/v1/payments")["data"]) == 1


def test_fault_with_delay(api: Http) -> None:
    api.ok("POST", "/_paysim/faults", json={"path": "/health", "status": 504, "delay": 0.3})
    started = time.monotonic()
    assert api.get("/health").status_code == 504
    assert 0.3 <= time.monotonic() - started < 2


def test_delay_only_after_waits_once(api: Http) -> None:
    api.ok("POST", "/_paysim/faults", json={"path": "/health", "delay": 0.5, "when": "after"})
    started = time.monotonic()
    assert api.get("/health").status_code == 200
    assert 0.5 <= time.monotonic() - started < 0.95  # not twice


@pytest.mark.parametrize("when", ["before", "after"])
def test_drop_connection(api: Http, when: str) -> None:
    api.ok(
        "POST",
        "/_paysim/faults",
        json={"path": "/v1/payments", "drop_connection": True, "when": when},
    )
    with pytest.raises(requests.ConnectionError):
        api.post("/v1/payments", json={"amount": 1, "currency": "usd"})
    assert len(api.ok("GET", "/v1/payments")["data"]) == (1 if when == "after" else 0)


def test_control_routes_are_never_faulted(api: Http) -> None:
    api.ok("POST", "/_paysim/faults", json={"times": None})
    assert api.get("/health").status_code == 503
    assert api.get("/_paysim/clock").status_code == 200
    assert api.ok("GET", "/_paysim/state")["faults"][0]["times"] is None
    api.ok("POST", "/_paysim/reset", json={})
    assert api.get("/health").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"status": 200}, id="status-200"),
        pytest.param({"status": 600}, id="status-600"),
        pytest.param({"status": "503"}, id="status-string"),
        pytest.param({"when": "during"}, id="when"),
        pytest.param({"delay": -1}, id="negative-delay"),
        pytest.param({"delay": 61}, id="long-delay"),
        pytest.param({"method": "FETCH"}, id="method"),
        pytest.param({"drop_connection": "yes"}, id="drop-string"),
        pytest.param({"times": 0}, id="times-0"),
        pytest.param({"path": "/" * 501}, id="long-path"),
        pytest.param({"colour": "red"}, id="unknown"),
    ],
)
def test_faults_reject_bad_bodies(api: Http, body: dict[str, Any]) -> None:
    assert api.post("/_paysim/faults", json=body).status_code == 400
    assert api.ok("GET", "/_paysim/state")["faults"] == []


# -- clock ------------------------------------------------------------------------------------


def test_clock_get_freeze_advance_unfreeze(api: Http) -> None:
    clock = api.ok("GET", "/_paysim/clock")
    assert clock["frozen"] is False
    assert set(clock) == {"now", "frozen"}
    frozen = api.ok("POST", "/_paysim/clock", json={"freeze": "2026-07-01T10:00:00+02:00"})
    assert frozen == {"now": "2026-07-01T08:00:00.000Z", "frozen": True}
    time.sleep(0.01)
    assert api.ok("GET", "/_paysim/clock") == frozen
    assert api.create_payment()["created_at"] == "2026-07-01T08:00:00.000Z"
    advanced = api.ok("POST", "/_paysim/clock", json={"advance": 3600.5})
    assert advanced == {"now": "2026-07-01T09:00:00.500Z", "frozen": True}
    running = api.ok("POST", "/_paysim/clock", json={"unfreeze": True})
    assert running["frozen"] is False
    assert running["now"] >= "2026-07-01T09:00:00.500Z"
    assert api.ok("GET", "/_paysim/clock")["now"] < "2026-07-01T09:01:00.000Z"


def test_freeze_null_stops_the_clock_now(api: Http) -> None:
    frozen = api.ok("POST", "/_paysim/clock", json={"freeze": None})
    assert frozen["frozen"] is True
    time.sleep(0.02)
    assert api.ok("GET", "/_paysim/clock")["now"] == frozen["now"]


def test_advance_moves_a_running_clock(api: Http) -> None:
    before = datetime.fromisoformat(api.ok("GET", "/_paysim/clock")["now"][:-1])
    after = api.ok("POST", "/_paysim/clock", json={"advance": 86400 * 400})
    assert after["frozen"] is False
    moved = datetime.fromisoformat(after["now"][:-1]) - before
    assert timedelta(days=400) <= moved < timedelta(days=400, seconds=30)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param({}, "parameter_invalid", id="empty"),
        pytest.param({"advance": -1}, "parameter_invalid", id="negative"),
        pytest.param({"advance": "60"}, "parameter_invalid", id="string"),
        pytest.param({"advance": True}, "parameter_invalid", id="bool"),
        pytest.param({"advance": 10**12}, "parameter_invalid", id="huge"),
        pytest.param({"freeze": "not a time"}, "parameter_invalid", id="bad-time"),
        pytest.param({"freeze": 1700000000}, "parameter_invalid", id="epoch-number"),
        pytest.param({"freeze": "9999-12-31T23:59:59Z"}, "parameter_invalid", id="year-9999"),
        pytest.param({"unfreeze": False}, "parameter_invalid", id="unfreeze-false"),
        pytest.param({"advance": 1, "unfreeze": True}, "parameter_invalid", id="two-at-once"),
        pytest.param({"rewind": 5}, "parameter_unknown", id="unknown"),
    ],
)
def test_clock_rejects_bad_bodies(api: Http, body: dict[str, Any], code: str) -> None:
    api.ok("POST", "/_paysim/clock", json={"freeze": "2026-01-01T00:00:00Z"})
    assert_error(api.post("/_paysim/clock", json=body), code)
    assert api.ok("GET", "/_paysim/clock") == {"now": "2026-01-01T00:00:00.000Z", "frozen": True}


def test_the_clock_cannot_run_past_what_it_can_show(api: Http) -> None:
    api.ok("POST", "/_paysim/clock", json={"freeze": "8999-06-01T00:00:00Z"})
    assert_error(
        api.post("/_paysim/clock", json={"advance": 366 * 86400}),
        "parameter_invalid",
        param="advance",
    )
    assert api.ok("GET", "/_paysim/clock")["now"] == "8999-06-01T00:00:00.000Z"
    assert api.create_payment()["created_at"] == "8999-06-01T00:00:00.000Z"

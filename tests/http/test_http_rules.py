"""Faults and forced outcomes count their uses in the control state, for strict mode."""

from __future__ import annotations

from http_support import Http


def test_rules_show_how_often_they_were_used_and_whether_they_are_required(api: Http) -> None:
    api.ok("POST", "/_paysim/faults", json={"path": "/v1/events", "times": None})
    api.ok("POST", "/_paysim/faults", json={"path": "/v1/refunds/*", "required": False})
    api.ok("POST", "/_paysim/outcomes", json={"outcome": "fail", "times": 2})
    state = api.ok("POST", "/_paysim/outcomes", json={"refund_outcome": "fail", "required": False})
    assert [(f["times"], f["used"], f["required"]) for f in state["faults"]] == [
        (None, 0, True),
        (1, 0, False),
    ]
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
    assert state["refund_outcomes"] == [
        {"refund_outcome": "fail", "times": 1, "required": False, "used": 0}
    ]

    api.get("/v1/events")
    api.get("/v1/events")
    api.pay(api.create_payment()["id"])
    state = api.ok("GET", "/_paysim/state")
    assert [(f["times"], f["used"]) for f in state["faults"]] == [(None, 2), (1, 0)]
    assert [(o["times"], o["used"]) for o in state["outcomes"]] == [(1, 1)]


def test_a_refused_attempt_does_not_use_the_rule(api: Http) -> None:
    api.ok("POST", "/_paysim/outcomes", json={"refund_outcome": "fail", "times": None})
    payment = api.pay(api.create_payment(amount=100)["id"])
    too_much = api.post(f"/v1/payments/{payment['id']}/refund", json={"amount": 500})
    assert too_much.status_code == 400
    assert api.ok("GET", "/_paysim/state")["refund_outcomes"][0]["used"] == 0
    api.ok("POST", f"/v1/payments/{payment['id']}/refund", 201, json={})
    assert api.ok("GET", "/_paysim/state")["refund_outcomes"][0]["used"] == 1


def test_required_must_be_a_boolean(api: Http) -> None:
    bad = api.post("/_paysim/faults", json={"path": "/x", "required": "no"})
    assert (bad.status_code, bad.json()["error"]["param"]) == (400, "required")

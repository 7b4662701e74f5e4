"""``paysim.calls`` and ``paysim.assert_called``: the API requests of the running test."""

from __future__ import annotations

from plugin_support import Runner

CALLS = """
import os

import pytest
import requests

from paysim_out import record


def app_session():
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + os.environ["PAYSIM_API_KEY"]
    return session


def test_every_request_in_order_with_its_answer(paysim):
    session, base = app_session(), os.environ["PAYSIM_URL"]
    created = session.post(
        f"{base}/v1/payments",
        json={"amount": 700, "currency": "usd"},
        headers={"Idempotency-Key": "order-1"},
    ).json()
    session.post(
        f"{base}/v1/payments",
        json={"amount": 700, "currency": "usd"},
        headers={"Idempotency-Key": "order-1"},
    )
    session.get(f"{base}/v1/payments", params={"limit": 5})
    session.get(f"{base}/health")  # not an API call
    paysim.pay(created["id"])  # the handle's conveniences are API calls too

    first, replay, listed, paid = paysim.calls
    assert (first.method, first.path, first.status) == ("POST", "/v1/payments", 201)
    assert (first.idempotency_key, first.replayed, first.fault) == ("order-1", False, None)
    assert first.request == {"amount": 700, "currency": "usd"}
    assert first.response == created
    assert (replay.replayed, replay.response["id"]) == (True, created["id"])
    assert listed.request == {"limit": "5"}
    assert listed.response["data"][0]["id"] == created["id"]
    assert paid.path == f"/v1/payments/{created['id']}/pay"
    assert paid.request == {"outcome": "succeed"}


def test_a_fault_shows_on_its_call(paysim):
    paysim.inject_fault(method="POST", path="/v1/payments", status=503)
    failed = paysim.client.post("/v1/payments", json={"amount": 1, "currency": "usd"})
    retried = paysim.client.post("/v1/payments", json={"amount": 1, "currency": "usd"})
    assert (failed.status_code, retried.status_code) == (503, 201)
    first, second = paysim.calls
    assert first.fault["status"] == 503 and first.fault["when"] == "before"
    assert first.response["error"]["code"] == "injected_fault"
    assert second.fault is None


def test_assert_called_returns_the_matches(paysim):
    payment = paysim.create_payment(amount=100, currency="usd")
    paysim.pay(payment["id"])
    paysim.refund(payment["id"], amount=40)
    paysim.refund(payment["id"], amount=60)
    refunds = paysim.assert_called("POST", "/v1/payments/*/refund", times=2)
    assert [call.request["amount"] for call in refunds] == [40, 60]
    assert len(paysim.assert_called("post", "/v1/payments")) == 1
    assert len(paysim.assert_called("*", "/v1/payments*")) == 4
    paysim.assert_called("GET", "/v1/events", times=0)


def test_a_reset_empties_them(paysim):
    paysim.create_payment(amount=100, currency="usd")
    paysim.reset()
    assert paysim.calls == []


def test_fails_listing_the_calls(paysim):
    payment = paysim.create_payment(amount=100, currency="usd")
    paysim.client.post(
        f"/v1/payments/{payment['id']}/refund", json={}, headers={"Idempotency-Key": "r-1"}
    )
    with pytest.raises(AssertionError) as info:
        paysim.assert_called("POST", "/v1/payments/*/capture")
    record("missing", str(info.value))
    with pytest.raises(AssertionError) as info:
        paysim.assert_called("POST", "/v1/payments", times=2)
    record("count", str(info.value))


def test_fails_saying_nothing_was_called(paysim):
    with pytest.raises(AssertionError) as info:
        paysim.assert_called("GET", "/v1/payments")
    record("none", str(info.value))
"""

LEFT_BEHIND = """
import threading
import time

from paysim_out import record


def test_a_leaves_a_slow_request_behind(paysim):
    paysim.inject_fault(method="POST", path="/v1/payments", delay=0.6)

    def send():
        try:
            paysim.client.post("/v1/payments", json={"amount": 1, "currency": "usd"}, timeout=5)
        except Exception:
            pass

    threading.Thread(target=send, daemon=True).start()
    time.sleep(0.2)  # the request is in the simulator, slowed by the fault


def test_b_never_sees_it(paysim):
    time.sleep(0.8)  # the slow request of test a ends meanwhile
    record("calls", [call.describe() for call in paysim.calls])
"""


def test_calls_and_assert_called(run: Runner) -> None:
    run.pytester.makepyfile(test_calls=CALLS)
    result = run("--paysim")
    result.assert_outcomes(passed=6)
    missing = run.recorded("missing")
    assert missing.startswith(
        "expected POST /v1/payments/*/capture to be called at least once, it was called never; "
        "the API calls of this test (2):\n"
    )
    assert "  1. POST /v1/payments -> 201\n" in missing
    assert missing.endswith("/refund -> 409 key='r-1'")  # unpaid: refused, still a call
    assert run.recorded("count").startswith(
        "expected POST /v1/payments to be called twice, it was called once;"
    )
    assert run.recorded("none") == (
        "expected GET /v1/payments to be called at least once, it was called never; "
        "no API calls were made in this test"
    )


def test_a_request_of_an_earlier_test_never_shows(run: Runner) -> None:
    run.pytester.makepyfile(test_left_behind=LEFT_BEHIND)
    result = run("--paysim")
    result.assert_outcomes(passed=2)
    assert run.recorded("calls") == []

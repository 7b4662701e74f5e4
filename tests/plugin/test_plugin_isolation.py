"""A request still in flight when its test ends belongs to that test (issue: leaks).

Test A slows a create and gives up waiting; test B then waits until A's request has woken
up. Nothing of A's request may show in B: no payment, no event, no delivery, and B's first
id is the one B gets when it runs alone.
"""

from __future__ import annotations

from plugin_support import Runner

LEFT_BEHIND = """
import time

import pytest
import requests

from paysim_out import record


def test_a_leaves_a_slow_create_behind(paysim):
    paysim.inject_fault(method="POST", path="/v1/payments", delay=1.0)
    with pytest.raises(requests.Timeout):
        paysim.client.post(
            "/v1/payments",
            json={"amount": 500, "currency": "usd", "metadata": {"webhook_url": "http://127.0.0.1:9/x"}},
            headers={"Idempotency-Key": "a-left-this"},
            timeout=0.1,
        )


def test_b_sees_nothing_of_it(paysim, paysim_webhooks):
    time.sleep(1.5)  # A's request wakes up during this test
    record("payments", paysim.payments())
    record("events", paysim.client.get("/v1/events").json()["data"])
    record("deliveries", [d.type for d in paysim_webhooks])
    record("first_id", paysim.create_payment(amount=100, currency="usd")["id"])
"""


def test_a_request_left_behind_never_reaches_the_next_test(run: Runner) -> None:
    run.pytester.makepyfile(test_left_behind=LEFT_BEHIND)
    result = run("--paysim", "--paysim-seed", "5", "-q", timeout=60)
    result.assert_outcomes(passed=2)
    assert run.recorded("payments") == []
    assert run.recorded("events") == []
    assert run.recorded("deliveries") == []
    together = run.recorded("first_id")

    run.clear()
    alone = run(
        "--paysim", "--paysim-seed", "5", "-q", "test_left_behind.py::test_b_sees_nothing_of_it"
    )
    alone.assert_outcomes(passed=1)
    assert run.recorded("first_id") == together

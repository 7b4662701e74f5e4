"""Strict mode: a fault or forced outcome that a test set and did not use up fails the test at
teardown, naming it; ``required=False`` and ``paysim_strict = false`` turn it off."""

from __future__ import annotations

from plugin_support import Runner

UNUSED = """
import pytest


def test_unused_fault(paysim):
    paysim.inject_fault(method="POST", path="/v1/payments/*/refund", status=502, when="after")


def test_unused_outcomes(paysim):
    payment = paysim.create_payment(amount=100, currency="usd")
    paysim.force_outcome("fail", times=2, decline_code="lost_card")
    paysim.pay(payment["id"])  # one of the two
    paysim.force_refund_outcome("fail")


def test_an_always_rule_never_used(paysim):
    paysim.inject_fault(path="/v1/events", status=429, times=None)
    paysim.force_outcome("abandon", payment_id="pay_123", times=None)


def test_a_failing_test_is_not_blamed_twice(paysim):
    paysim.inject_fault(path="/v1/events")
    assert False, "the test's own failure"
"""

USED = """
import pytest


def test_used_up_rules_pass(paysim):
    payment = paysim.create_payment(amount=100, currency="usd")
    paysim.force_outcome("fail", times=2)
    paysim.force_outcome("succeed", times=None)
    assert paysim.pay(payment["id"])["status"] == "failed"
    assert paysim.pay(payment["id"])["status"] == "failed"
    assert paysim.pay(payment["id"])["status"] == "succeeded"  # times=None: used once is enough
    paysim.force_refund_outcome("fail")
    assert paysim.refund(payment["id"])["status"] == "failed"
    paysim.inject_fault(path="/v1/events", times=None)
    assert paysim.client.get("/v1/events").status_code == 503


def test_required_false(paysim):
    paysim.inject_fault(path="/v1/events", required=False)
    paysim.force_outcome("fail", required=False)
    paysim.force_refund_outcome("fail", times=None, required=False)


def test_cleared_rules_are_gone(paysim):
    paysim.inject_fault(path="/v1/events")
    paysim.force_outcome("fail")
    paysim.force_refund_outcome("fail")
    paysim.clear_faults()
    paysim.clear_outcomes()
    assert paysim.client.get("/v1/events").status_code == 200
    payment = paysim.create_payment(amount=100, currency="usd")
    assert paysim.pay(payment["id"])["status"] == "succeeded"
    assert paysim.refund(payment["id"])["status"] == "succeeded"


def test_a_reset_takes_them_back(paysim):
    paysim.inject_fault(path="/v1/events")
    paysim.reset()


@pytest.mark.paysim(outcome="fail")
def test_the_marker_outcome_is_a_setting_not_an_expectation(paysim):
    pass


def test_a_rolled_back_attempt_does_not_count(paysim):
    paysim.force_refund_outcome("fail")
    payment = paysim.pay(paysim.create_payment(amount=100, currency="usd")["id"])
    response = paysim.client.post(f"/v1/payments/{payment['id']}/refund", json={"amount": 500})
    assert response.status_code == 400  # too much: nothing happened, the rule is still there
    assert paysim.refund(payment["id"])["status"] == "failed"
"""

NOT_USED_ENOUGH = """
def test_a_rolled_back_attempt_leaves_the_rule_unused(paysim):
    paysim.force_refund_outcome("fail")
    payment = paysim.pay(paysim.create_payment(amount=100, currency="usd")["id"])
    response = paysim.client.post(f"/v1/payments/{payment['id']}/refund", json={"amount": 500})
    assert response.status_code == 400
"""


def test_unused_rules_fail_the_test_at_teardown_naming_them(run: Runner) -> None:
    run.pytester.makepyfile(test_unused=UNUSED)
    result = run("--paysim")
    result.assert_outcomes(passed=3, failed=1, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unused_fault*",
            "paysim strict mode: this test set 1 rule it did not use up:",
            "  inject_fault(method='POST', path='/v1/payments/*/refund', status=502, "
            "when='after'): used 0 of 1 time",
            "Use them, take them back (paysim.clear_faults(), paysim.clear_outcomes()), pass "
            "required=False when a rule may go unused, or set paysim_strict = false in the ini "
            "file.",
            "*ERROR at teardown of test_unused_outcomes*",
            "paysim strict mode: this test set 2 rules it did not use up:",
            "  force_outcome('fail', decline_code='lost_card', times=2): used 1 of 2 times",
            "  force_refund_outcome('fail'): used 0 of 1 time",
            "*ERROR at teardown of test_an_always_rule_never_used*",
            "  inject_fault(path='/v1/events', status=429, when='before', times=None): never used",
            "  force_outcome('abandon', payment_id='pay_123', times=None): never used",
        ]
    )
    assert "teardown of test_a_failing_test_is_not_blamed_twice" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*AssertionError: the test's own failure*"])


def test_rules_used_up_cleared_or_not_required_pass(run: Runner) -> None:
    run.pytester.makepyfile(test_used=USED, test_not_used_enough=NOT_USED_ENOUGH)
    result = run("--paysim")
    result.assert_outcomes(passed=7, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_a_rolled_back_attempt_leaves_the_rule_unused*",
            "  force_refund_outcome('fail'): used 0 of 1 time",
        ]
    )


def test_the_ini_turns_strict_mode_off(run: Runner) -> None:
    run.pytester.makepyfile(test_unused=UNUSED)
    run.pytester.makeini("[pytest]\npaysim = true\npaysim_strict = false\n")
    result = run()
    result.assert_outcomes(passed=3, failed=1)

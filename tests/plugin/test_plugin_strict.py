"""Strict mode: a fault or forced outcome that a test set and did not use up fails the test at
teardown, naming it; ``required=False`` and ``paysim_strict = false`` turn it off."""

from __future__ import annotations

from tests.support.plugin import Runner


def test_unused_rules_fail_the_test_at_teardown_naming_them(run: Runner) -> None:
    run.pytester.copy_example("strict_unused")
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
    run.pytester.copy_example("strict_used")
    result = run("--paysim")
    result.assert_outcomes(passed=7, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_a_rolled_back_attempt_leaves_the_rule_unused*",
            "  force_refund_outcome('fail'): used 0 of 1 time",
        ]
    )


def test_the_ini_turns_strict_mode_off(run: Runner) -> None:
    run.pytester.copy_example("strict_unused")
    run.pytester.makeini("[pytest]\npaysim = true\npaysim_strict = false\n")
    result = run()
    result.assert_outcomes(passed=3, failed=1)

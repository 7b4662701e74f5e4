"""A request still in flight when its test ends belongs to that test (issue: leaks).

Test A slows a create and gives up waiting; test B then waits until A's request has woken
up. Nothing of A's request may show in B: no payment, no event, no delivery, and B's first
id is the one B gets when it runs alone.
"""

from __future__ import annotations

from tests.support.plugin import Runner


def test_a_request_left_behind_never_reaches_the_next_test(run: Runner) -> None:
    run.pytester.copy_example("isolation_left_behind")
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

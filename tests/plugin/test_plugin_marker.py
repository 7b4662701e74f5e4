"""The ``paysim`` marker's per-test overrides, and simulator bugs failing the test."""

from __future__ import annotations

from tests.support.plugin import Runner


def test_marker_overrides(run: Runner) -> None:
    run.pytester.copy_example("paysim_helpers.py")
    run.pytester.copy_example("marker")
    result = run("--paysim")
    result.assert_outcomes(passed=11, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_unknown_marker_argument*",
            "*@pytest.mark.paysim takes keyword arguments only, from auto_success_rate, clock, "
            "delivery, outcome, seed, signature; got colour",
        ]
    )


def test_an_unexpected_simulator_exception_fails_the_test(run: Runner) -> None:
    run.pytester.copy_example("marker_bugs")
    result = run("--paysim")
    result.assert_outcomes(passed=3, failed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at teardown of test_a_500_in_teardown_is_an_error _*",
            "the paysim simulator raised an unexpected exception during this test*",
            "RuntimeError: simulated bug in get_payment",
            "*_ test_a_500_fails_a_test_that_passes _*",
            "the paysim simulator raised an unexpected exception during this test "
            "(a 500 nobody injected):",
            "Traceback (most recent call last):",
            "*in get_payment*",
            "RuntimeError: simulated bug in get_payment",
            "*_ test_a_500_shows_before_the_tests_own_failure _*",
            "the paysim simulator raised an unexpected exception during this test*",
            "RuntimeError: simulated bug in get_payment",
            "The test then failed with InternalError: *",
        ]
    )

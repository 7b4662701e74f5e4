"""``paysim.calls`` and ``paysim.assert_called``: the API requests of the running test."""

from __future__ import annotations

from tests.support.plugin import Runner


def test_calls_and_assert_called(run: Runner) -> None:
    run.pytester.copy_example("calls")
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
    run.pytester.copy_example("calls_left_behind")
    result = run("--paysim")
    result.assert_outcomes(passed=2)
    assert run.recorded("calls") == []

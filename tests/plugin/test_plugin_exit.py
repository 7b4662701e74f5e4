"""The pytest process ends promptly, whatever is still in flight at the end of the session."""

from __future__ import annotations

from tests.support.plugin import Runner


def test_no_hang_at_exit(run: Runner) -> None:
    run.pytester.makeini("[pytest]\npaysim_webhook_timeout = 120\n")
    run.pytester.copy_example("exit_hanging")
    result = run("--paysim", timeout=60)
    result.assert_outcomes(passed=2, warnings=0)
    assert result.duration < 15, result.duration

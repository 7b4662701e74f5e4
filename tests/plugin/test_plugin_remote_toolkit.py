"""The test author's toolkit against a running ``paysim serve`` (``--paysim-url``): calls,
strict mode, clearing rules, the webhook log's checks and ``intercept`` for httpx."""

from __future__ import annotations

from tests.support.plugin import Runner


def test_the_toolkit_through_a_running_server(run: Runner, served: tuple[str, str]) -> None:
    url, key = served
    run.pytester.copy_example("remote_toolkit")
    result = run("--paysim", "--paysim-url", url, "--paysim-api-key", key)
    result.assert_outcomes(passed=6, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_3_strict_fails_at_teardown*",
            "paysim strict mode: this test set 2 rules it did not use up:",
            "  inject_fault(path='/v1/refunds/*', status=500, when='before'): used 0 of 1 time",
            "  force_outcome('fail', times=3): used 0 of 3 times",
        ]
    )

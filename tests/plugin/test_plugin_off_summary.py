"""With the plugin off, the terminal summary says how many tests were skipped for it and how to
turn it on, without ``-rs``."""

from __future__ import annotations

from plugin_support import Runner

TESTS = """
import pytest


def test_needs_the_handle(paysim):
    pass


def test_needs_the_log(paysim_webhooks):
    pass


@pytest.mark.paysim(outcome="fail")
def test_marked():
    pass


def test_plain():
    pass


@pytest.mark.skip(reason="something else")
def test_skipped_for_another_reason():
    pass
"""

LINE = (
    "paysim is off: 3 tests that need it were skipped; turn it on with `pytest --paysim`, "
    "or `paysim = true` in the ini file"
)


def test_the_summary_says_what_was_skipped_and_how_to_turn_it_on(run: Runner) -> None:
    run.pytester.makepyfile(test_some=TESTS)
    result = run()
    result.assert_outcomes(passed=1, skipped=4)
    result.stdout.fnmatch_lines([LINE, "*1 passed, 4 skipped*"])
    assert "SKIPPED" not in result.stdout.str()  # no -rs needed
    quiet = run("-q")
    quiet.stdout.fnmatch_lines([LINE])


def test_under_xdist_too(run: Runner) -> None:
    run.pytester.makepyfile(test_some=TESTS)
    result = run("-n", "2", xdist=True)
    result.assert_outcomes(passed=1, skipped=4)
    result.stdout.fnmatch_lines([LINE])


def test_nothing_said_when_on_or_when_nothing_was_skipped_for_it(run: Runner) -> None:
    run.pytester.makepyfile(test_some=TESTS)
    on = run("--paysim")
    on.assert_outcomes(passed=4, skipped=1)
    assert "paysim is off" not in on.stdout.str()
    run.pytester.makepyfile(test_some="def test_plain():\n    pass\n")
    plain = run()
    plain.assert_outcomes(passed=1)
    assert "paysim is off" not in plain.stdout.str()


def test_one_test_is_said_in_the_singular(run: Runner) -> None:
    run.pytester.makepyfile(test_one="def test_one(paysim):\n    pass\n")
    result = run()
    result.stdout.fnmatch_lines(
        ["paysim is off: 1 test that needs it was skipped; turn it on with `pytest --paysim`*"]
    )

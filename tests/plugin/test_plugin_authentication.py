"""3-D Secure through the fixtures, in a pytest subprocess: ``paysim.force_outcome(
"requires_action")``, ``paysim.authenticate``, the marker's ``outcome="requires_action"`` and
the webhook log, with the server in process, under xdist, and against ``paysim serve``
(``--paysim-url``, where forcing goes through the control routes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.plugin import Runner, serve_paysim

RUN_TIMEOUT_SECONDS = 90.0

GENERATED_TESTS = 18
"""How many tests ``examples/authentication_3ds`` holds (parametrized cases counted)."""

# Inline: the one marker argument is what the test is about.
BAD_MARKER = """
import pytest


@pytest.mark.paysim(outcome="requires_authentication")
def test_a_marker_with_an_unknown_outcome(paysim):
    pass
"""


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, str]]:
    """A ``paysim serve`` subprocess (seed 11): its URL and API key, read from its banner."""
    with serve_paysim(seed=11) as url_and_key:
        yield url_and_key


EXPECTED_TYPES = ["payment.created", "payment.requires_action", "payment.succeeded"]


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(("--paysim", "--paysim-seed", "7"), id="in-process"),
        pytest.param(("--paysim", "--paysim-seed", "7", "--paysim-delivery", "sync"), id="sync"),
        pytest.param(("--paysim", "--paysim-signature", "ed25519"), id="ed25519"),
    ],
)
def test_3ds_through_the_fixtures(run: Runner, options: tuple[str, ...]) -> None:
    run.pytester.copy_example("authentication_3ds")
    result = run(*options, "-q", timeout=RUN_TIMEOUT_SECONDS)
    result.assert_outcomes(passed=GENERATED_TESTS)
    assert run.recorded("forced_types") == EXPECTED_TYPES


def test_3ds_through_the_fixtures_under_xdist(run: Runner) -> None:
    run.pytester.copy_example("authentication_3ds")
    result = run("--paysim", "-n", "2", "-q", xdist=True, timeout=RUN_TIMEOUT_SECONDS)
    result.assert_outcomes(passed=GENERATED_TESTS)
    assert run.recorded("forced_types") == EXPECTED_TYPES


def test_3ds_through_the_fixtures_against_paysim_serve(
    run: Runner, served: tuple[str, str]
) -> None:
    url, api_key = served
    run.pytester.copy_example("authentication_3ds")
    result = run(
        "--paysim",
        "--paysim-url",
        url,
        "--paysim-api-key",
        api_key,
        "-q",
        timeout=RUN_TIMEOUT_SECONDS,
    )
    result.assert_outcomes(passed=GENERATED_TESTS)
    assert run.recorded("forced_types") == EXPECTED_TYPES


def test_a_marker_with_an_unknown_outcome_is_a_setup_error(run: Runner) -> None:
    run.pytester.makepyfile(test_bad_marker=BAD_MARKER)
    result = run("--paysim", timeout=RUN_TIMEOUT_SECONDS)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*paysim marker: outcome must be one of succeed, fail, abandon, requires_action*"]
    )


def test_the_plugin_off_skips_a_3ds_test(run: Runner) -> None:
    run.pytester.copy_example("authentication_3ds")
    result = run("-q", "-rs", timeout=RUN_TIMEOUT_SECONDS)
    result.assert_outcomes(skipped=GENERATED_TESTS)
    result.stdout.fnmatch_lines(["*paysim is off: run pytest with --paysim*"])

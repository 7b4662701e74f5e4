"""The plugin's Stripe pieces: the ``paysim_stripe`` fixture (module settings put back after
each test), ``paysim.intercept_stripe()``, the publishable key and ``PAYSIM_STRIPE_URL``; in
process (over HTTPS too), one server per xdist worker, and against a running ``paysim serve``;
and the fixture's instruction when the ``stripe`` package is missing."""

from __future__ import annotations

import pytest

from tests.support.plugin import Runner

PASSED = 8


def test_in_process(run: Runner) -> None:
    run.pytester.copy_example("stripe_plugin")
    result = run("--paysim")
    result.assert_outcomes(passed=PASSED)
    assert run.recorded("fixture-main")["intent"].startswith("pi_")


def test_under_https_the_sdk_trusts_the_servers_ca_for_the_test(run: Runner) -> None:
    run.pytester.copy_example("stripe_plugin")
    result = run("--paysim", "--paysim-https")
    result.assert_outcomes(passed=PASSED)
    assert run.recorded("fixture-main")["stripe_url"].startswith("https://127.0.0.1:")


def test_one_server_per_xdist_worker(run: Runner) -> None:
    run.pytester.copy_example("stripe_plugin")
    # --dist each: both workers run every test, each against the server it started.
    result = run("--paysim", "-n", "2", "--dist", "each", xdist=True)
    result.assert_outcomes(passed=2 * PASSED)
    urls = {run.recorded(f"fixture-gw{n}")["stripe_url"] for n in range(2)}
    assert len(urls) == 2  # each worker's own server, each with its own dialect


def test_against_a_running_paysim_serve(
    run: Runner, served: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, key = served
    run.pytester.copy_example("stripe_plugin")
    result = run("--paysim", "--paysim-url", url, "--paysim-api-key", key)
    result.assert_outcomes(passed=PASSED)
    assert run.recorded("fixture-main")["stripe_url"] == url + "/stripe"


def test_without_the_stripe_package_the_fixture_says_how_to_get_it(run: Runner) -> None:
    run.pytester.copy_example("stripe_missing")
    result = run("--paysim")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ['paysim_stripe needs the stripe package: pip install "pytest-paysim[[]stripe]"']
    )
    result.stdout.no_fnmatch_line("*not reached*")

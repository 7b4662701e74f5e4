"""``--paysim-url``: the fixtures drive a running ``paysim serve`` through its control routes."""

from __future__ import annotations

import pytest

from tests.support.plugin import Runner, header_line

# Inline: any passing test will do; the test is about the command-line errors around it.
SMALL = """
def test_works(paysim):
    payment = paysim.create_payment(amount=100, currency="usd")
    assert paysim.pay(payment["id"])["status"] == "succeeded"
"""


def test_fixtures_drive_a_running_server(
    run: Runner, served: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, key = served
    monkeypatch.setenv("SERVED_URL", url)
    monkeypatch.setenv("SERVED_KEY", key)
    run.pytester.copy_example("remote")
    result = run("--paysim", "--paysim-url", url, "--paysim-api-key", key)
    result.assert_outcomes(passed=11)
    assert header_line(result) == f"paysim: {url} seed=3 signature=paysim worker=main"


def test_the_key_from_paysim_api_key_and_no_sharing_with_xdist(
    run: Runner, served: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, key = served
    run.pytester.makepyfile(test_small=SMALL)
    missing = run("--paysim", "--paysim-url", url)
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*--paysim-url needs the server's key*"])
    monkeypatch.setenv("PAYSIM_API_KEY", key)
    result = run("--paysim", "--paysim-url", url)
    result.assert_outcomes(passed=1)
    shared = run("--paysim", "--paysim-url", url, "-n", "2", xdist=True)
    assert shared.ret == pytest.ExitCode.USAGE_ERROR
    shared.stderr.fnmatch_lines(["*--paysim-url is one simulator with one state*"])

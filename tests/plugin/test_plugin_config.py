"""Turning the plugin on and off, its options, ini values, report header and environment."""

from __future__ import annotations

import re
import socket

import pytest

from tests.support.plugin import Runner, header_line


def test_off_skips_every_fixture_and_the_marker_and_starts_nothing(run: Runner) -> None:
    run.pytester.copy_example("config_off")
    result = run("-rs")
    result.assert_outcomes(passed=1, skipped=5)
    skipped = 0
    for line in result.outlines:
        found = re.fullmatch(r"SKIPPED \[(\d+)\] test_off.py[:\d]*: (.*)", line)
        if found:
            assert found[2] == "paysim is off: run pytest with --paysim"
            skipped += int(found[1])
    assert skipped == 5, result.outlines
    assert not [line for line in result.outlines if line.startswith("paysim: ")]


OPTIONS = (
    "--paysim",
    "--paysim-seed=N",
    "--paysim-host=H",
    "--paysim-port=P",
    "--paysim-url=URL",
    "--paysim-api-key=K",
    "--paysim-signature=",
    "--paysim-delivery=",
    "--paysim-db=PATH",
    "--paysim-https",
)
INI_VALUES = (
    "paysim",
    "paysim_seed",
    "paysim_host",
    "paysim_port",
    "paysim_url",
    "paysim_api_key",
    "paysim_signature",
    "paysim_delivery",
    "paysim_webhook_retries",
    "paysim_webhook_timeout",
    "paysim_auto_success_rate",
    "paysim_db",
    "paysim_https",
)


def test_help_lists_every_option_in_the_paysim_group(run: Runner) -> None:
    result = run("--help")
    assert result.ret == 0
    lines = result.outlines
    start = lines.index("paysim: payment-gateway simulator:")
    end = lines.index("", start)
    group = "\n".join(lines[start:end])
    for option in OPTIONS:
        assert re.search(rf"^  {re.escape(option)}", group, re.MULTILINE), option
    for name in INI_VALUES:
        assert any(re.match(rf"  {name} \(", line) for line in lines), name


def test_ini_enables_and_the_command_line_wins(run: Runner) -> None:
    run.pytester.copy_example("config_ini")  # pytest.ini and test_settings.py

    result = run()
    result.assert_outcomes(passed=1)
    assert re.fullmatch(
        r"paysim: http://127\.0\.0\.1:\d+ seed=5 signature=standard worker=main",
        header_line(result),
    )
    assert run.recorded("settings") == {
        "seed": 5,
        "api_key": "sk_test_fromtheinifile000000000",
        "signature": "standard",
        "delivery": "sync",
        "retries": [0.5, 1.0],
        "timeout": 3.5,
        "rate": 0.25,
    }

    result = run(
        "--paysim-seed=9",
        "--paysim-signature=ed25519",
        "--paysim-delivery=async",
        "--paysim-api-key=sk_test_fromthecommandline00000",
    )
    result.assert_outcomes(passed=1)
    assert "seed=9 signature=ed25519" in header_line(result)
    settings = run.recorded("settings")
    assert settings["seed"] == 9
    assert settings["api_key"] == "sk_test_fromthecommandline00000"
    assert (settings["signature"], settings["delivery"]) == ("ed25519", "async")
    assert settings["retries"] == [0.5, 1.0]  # ini values with no option stay


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("-o", "paysim_webhook_retries=soon"),
            "paysim_webhook_retries must be comma-separated seconds",
            id="retries",
        ),
        pytest.param(
            ("-o", "paysim_auto_success_rate=2"),
            "paysim_auto_success_rate must be between 0 and 1",
            id="rate",
        ),
        pytest.param(("--paysim-api-key=pk_wrong",), "could not start the simulator", id="api-key"),
    ],
)
def test_bad_settings_are_usage_errors(run: Runner, args: tuple[str, ...], message: str) -> None:
    run.pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = run("--paysim", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*paysim: *{message}*"])


def test_env_is_set_before_conftest_and_module_imports(
    run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in a pytest started by a test inside an xdist worker: the variable is inherited,
    # but this run is no worker.
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    run.pytester.copy_example("config_env")  # conftest.py and test_env.py
    result = run("--paysim", "--paysim-signature", "ed25519", "--paysim-seed", "11")
    result.assert_outcomes(passed=2)
    url = run.recorded("env")["url"]
    assert header_line(result) == f"paysim: {url} seed=11 signature=ed25519 worker=main"


def test_https_and_db_options(run: Runner) -> None:
    run.pytester.copy_example("config_https")
    result = run("--paysim", "--paysim-https", "--paysim-db", "state.sqlite")
    result.assert_outcomes(passed=1)
    assert header_line(result).startswith("paysim: https://127.0.0.1:")


def test_a_port_in_use_is_a_usage_error(run: Runner) -> None:
    run.pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run("--paysim", "--paysim-port", str(taken.getsockname()[1]))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*paysim: could not start the simulator*"])

"""Turning the plugin on and off, its options, ini values, report header and environment."""

from __future__ import annotations

import re
import socket

import pytest
from plugin_support import Runner, header_line

FIXTURES_WHEN_OFF = """
import os
import threading

import pytest
from requests.adapters import HTTPAdapter


def test_server(paysim_server):
    pass


def test_handle(paysim):
    pass


def test_webhooks(paysim_webhooks):
    pass


@pytest.mark.paysim(outcome="fail")
def test_marked():
    pass


@pytest.fixture
def app(paysim):
    return paysim


def test_indirect(app):
    pass


def test_nothing_started_nor_patched():
    assert not [name for name in os.environ if name.startswith("PAYSIM_")]
    assert HTTPAdapter.send.__module__ == "requests.adapters"
    assert not [t.name for t in threading.enumerate() if t.name.startswith("paysim")]
"""


def test_off_skips_every_fixture_and_the_marker_and_starts_nothing(run: Runner) -> None:
    run.pytester.makepyfile(test_off=FIXTURES_WHEN_OFF)
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


INI = """
[pytest]
paysim = true
paysim_seed = 5
paysim_signature = standard
paysim_delivery = sync
paysim_webhook_retries = 0.5,1
paysim_webhook_timeout = 3.5
paysim_auto_success_rate = 0.25
paysim_host = 127.0.0.1
paysim_api_key = sk_test_fromtheinifile000000000
"""

SETTINGS_TEST = """
from paysim_out import record


def test_settings(paysim, paysim_server):
    config = paysim_server.simulator.config
    record("settings", {
        "seed": paysim_server.seed,
        "api_key": paysim_server.api_key,
        "signature": config.signature,
        "delivery": config.delivery,
        "retries": list(config.webhook_retries),
        "timeout": config.webhook_timeout,
        "rate": config.auto_success_rate,
    })
"""


def test_ini_enables_and_the_command_line_wins(run: Runner) -> None:
    run.pytester.makeini(INI)
    run.pytester.makepyfile(test_settings=SETTINGS_TEST)

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


CONFTEST_READS_ENV = """
import os

import pytest

# An application's settings module, read when the conftest is imported.
SETTINGS = {
    "url": os.environ["PAYSIM_URL"],
    "api_key": os.environ["PAYSIM_API_KEY"],
    "webhook_secret": os.environ["PAYSIM_WEBHOOK_SECRET"],
    "public_key": os.environ["PAYSIM_WEBHOOK_PUBLIC_KEY"],
}


@pytest.fixture
def conftest_settings():
    return SETTINGS
"""

MODULE_READS_ENV = """
import os

import requests

from paysim_out import record
from pytest_paysim.webhooks import verify

URL = os.environ["PAYSIM_URL"]
API_KEY = os.environ["PAYSIM_API_KEY"]
WEBHOOK_SECRET = os.environ["PAYSIM_WEBHOOK_SECRET"]
PUBLIC_KEY = os.environ["PAYSIM_WEBHOOK_PUBLIC_KEY"]


def test_import_time_settings_are_the_servers(paysim_server, conftest_settings):
    assert conftest_settings == {
        "url": URL, "api_key": API_KEY, "webhook_secret": WEBHOOK_SECRET, "public_key": PUBLIC_KEY
    }
    assert (URL, API_KEY) == (paysim_server.url, paysim_server.api_key)
    assert WEBHOOK_SECRET == paysim_server.webhook_secret
    assert WEBHOOK_SECRET.startswith("whsk_") and PUBLIC_KEY.startswith("whpk_")
    assert PUBLIC_KEY == paysim_server.webhook_public_key
    response = requests.get(URL + "/v1/payments", headers={"Authorization": "Bearer " + API_KEY})
    assert response.status_code == 200
    record("env", {"url": URL})


def test_the_public_key_verifies_webhooks(paysim, paysim_webhooks):
    payment = paysim.create_payment(amount=1999, currency="usd")
    delivery = paysim_webhooks.wait_for("payment.created")
    event = verify(delivery.body, delivery.headers, PUBLIC_KEY)
    assert event["data"]["object"]["id"] == payment["id"]
"""


def test_env_is_set_before_conftest_and_module_imports(
    run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in a pytest started by a test inside an xdist worker: the variable is inherited,
    # but this run is no worker.
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    run.pytester.makeconftest(CONFTEST_READS_ENV)
    run.pytester.makepyfile(test_env=MODULE_READS_ENV)
    result = run("--paysim", "--paysim-signature", "ed25519", "--paysim-seed", "11")
    result.assert_outcomes(passed=2)
    url = run.recorded("env")["url"]
    assert header_line(result) == f"paysim: {url} seed=11 signature=ed25519 worker=main"


HTTPS_AND_DB = """
import os

import requests


def test_https_and_db(paysim, paysim_server):
    assert paysim_server.url.startswith("https://")
    assert os.environ["REQUESTS_CA_BUNDLE"] == paysim_server.ca_file
    assert requests.get(paysim_server.url_for("/health")).json()["status"] == "ok"
    payment = paysim.create_payment(amount=500, currency="eur")
    assert paysim.get_payment(payment["id"])["amount"] == 500
    assert os.path.exists("state.sqlite")
"""


def test_https_and_db_options(run: Runner) -> None:
    run.pytester.makepyfile(test_https=HTTPS_AND_DB)
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

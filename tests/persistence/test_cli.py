"""``paysim serve``: the banner, clean exits on SIGINT and SIGTERM, and refused options."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_paysim.cli import main, parse_retries
from pytest_paysim.core import sqlite_store


@pytest.mark.parametrize(
    "signum", [pytest.param(signal.SIGINT, id="SIGINT"), pytest.param(signal.SIGTERM, id="SIGTERM")]
)
def test_a_signal_stops_the_server_with_status_0_and_the_database_closed(
    signum: int, tmp_path: Path, serve: Callable[..., Any]
) -> None:
    db = tmp_path / "serve.sqlite"
    process = serve("--db", db, "--seed", 4, "--webhook-retries", "1,5,30")
    banner = process.banner
    assert banner["webhook retries"] == "1s, 5s, 30s"
    assert banner["api key"].startswith("sk_test_")
    assert banner["webhook secret"].startswith("whsec_")
    assert banner["dashboard"] == process.url + "/dashboard"
    assert banner["database"] == str(db)
    with process.session() as session:
        created = session.post(
            process.url + "/v1/payments", json={"amount": 300, "currency": "eur"}, timeout=5
        )
    assert created.status_code == 201

    started = time.monotonic()
    process.signal(signum)
    assert process.process.wait(timeout=2) == 0
    assert time.monotonic() - started < 2
    assert process.rest_of_output()[-1] == "paysim stopped"
    assert not Path(f"{db}-wal").exists(), "the database was not closed (its WAL is left)"
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT changes FROM journal").fetchall()
    conn.close()
    changes = [change for (blob,) in rows for change in sqlite_store._decode(blob)]
    assert [values[0] for kind, values, *_ in changes if kind == "payment"] == [
        created.json()["id"]
    ]


def test_under_ed25519_the_banner_shows_the_public_key(serve: Callable[..., Any]) -> None:
    banner = serve("--signature", "ed25519").banner
    assert banner["webhook secret"].startswith("whsk_")
    assert banner["public key"].startswith("whpk_")


def test_the_banner_url_serves_the_api_with_the_printed_key(serve: Callable[..., Any]) -> None:
    process = serve("--api-key", "sk_test_fixed")
    assert process.api_key == "sk_test_fixed"
    with process.session() as session:
        assert session.get(process.url + "/v1/payments", timeout=5).status_code == 200
    assert requests.get(process.url + "/v1/payments", timeout=5).status_code == 401


def test_stripe_port_serves_the_dialect_at_a_root_and_stops_with_the_server(
    serve: Callable[..., Any],
) -> None:
    process = serve("--stripe-port", 0, "--seed", 5)
    banner = process.banner
    assert banner["stripe url"] == process.url + "/stripe"
    assert banner["publishable key"].startswith("pk_test_")
    root = banner["stripe port url"]
    assert root.startswith("http://127.0.0.1:")
    assert root != process.url
    with process.session() as session:
        created = session.post(
            root + "/v1/payment_intents", data={"amount": 300, "currency": "eur"}, timeout=5
        )
        assert created.status_code == 200
        intent = created.json()
        under_prefix = session.get(
            f"{process.url}/stripe/v1/payment_intents/{intent['id']}", timeout=5
        )
        assert under_prefix.json() == intent  # one simulator behind both
    seen = requests.get(
        f"{root}/v1/payment_intents/{intent['id']}",
        params={"client_secret": intent["client_secret"]},
        headers={"Authorization": f"Bearer {banner['publishable key']}"},
        timeout=5,
    )
    assert seen.status_code == 200
    process.signal(signal.SIGTERM)
    assert process.process.wait(timeout=3) == 0
    port = int(root.rsplit(":", 1)[1])
    with socket.socket() as probe:
        probe.settimeout(2)
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_the_same_seed_prints_the_same_publishable_key(serve: Callable[..., Any]) -> None:
    first = serve("--seed", 9).banner
    second = serve("--seed", 9, "--api-key", "sk_test_other").banner
    assert first["publishable key"] == second["publishable key"]
    assert "stripe port url" not in first


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1,5,30", (1.0, 5.0, 30.0), id="three"),
        pytest.param("0.1, 0.25", (0.1, 0.25), id="fractions-and-spaces"),
        pytest.param("0", (0.0,), id="zero"),
        pytest.param("", (), id="no-retries"),
    ],
)
def test_webhook_retries_are_parsed(text: str, expected: tuple[float, ...]) -> None:
    assert parse_retries(text) == expected


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(["--webhook-retries", "abc"], "comma-separated seconds", id="retries-word"),
        pytest.param(["--webhook-retries", "1,,5"], "comma-separated seconds", id="retries-gap"),
        pytest.param(["--webhook-retries=-1,5"], ">= 0", id="retries-negative"),
        pytest.param(["--webhook-retries", "nan"], ">= 0", id="retries-nan"),
        pytest.param(["--webhook-retries", "1,inf"], ">= 0", id="retries-infinite"),
        pytest.param(["--port", "70000"], "port from 0 to 65535", id="port-too-big"),
        pytest.param(["--port", "http"], "port from 0 to 65535", id="port-word"),
        pytest.param(["--stripe-port", "-1"], "port from 0 to 65535", id="stripe-port"),
        pytest.param(["--signature", "rsa"], "invalid choice", id="signature"),
        pytest.param(["--seed", "x"], "invalid int", id="seed"),
    ],
)
def test_bad_values_exit_2_with_a_message(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", *arguments])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert message in error
    assert error.startswith("usage: paysim serve")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(["--api-key", "key-without-prefix"], "sk_test_", id="api-key"),
        pytest.param(["--webhook-timeout", "0"], "webhook_timeout", id="timeout"),
        pytest.param(["--db", "{tmp}"], "cannot", id="db-is-a-directory"),
        pytest.param(["--port", "{busy}"], "paysim: cannot listen on", id="port-in-use"),
        pytest.param(["--stripe-port", "{busy}"], "--stripe-port", id="stripe-port-in-use"),
        pytest.param(["--host", "192.0.2.1"], "paysim: cannot listen on", id="foreign-host"),
    ],
)
def test_unusable_settings_exit_2_with_a_message(
    arguments: list[str], message: str, tmp_path: Path
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        filled = [a.format(tmp=tmp_path, busy=busy.getsockname()[1]) for a in arguments]
        done = subprocess.run(
            [sys.executable, "-m", "pytest_paysim", "serve", *filled],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 2, done
    assert done.stderr.splitlines()[-1].startswith("paysim: ")
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""

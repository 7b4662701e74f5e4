"""What a newcomer sees from the ``paysim`` command: the help, bare ``paysim``, the banner.

Each test runs the real command in a subprocess, both the installed console script and
``python -m pytest_paysim``, with timeouts.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pytest_paysim.cli import BANNER_END

TIMEOUT = 30.0


def _console_script() -> list[str]:
    """The ``paysim`` script installed next to this Python (the venv's), or on PATH."""
    beside = Path(sys.executable).with_name("paysim")
    found = str(beside) if beside.exists() else shutil.which("paysim")
    assert found, "the `paysim` console script is not installed; pip install -e . first"
    return [found]


COMMANDS = [
    pytest.param(_console_script, id="paysim"),
    pytest.param(lambda: [sys.executable, "-m", "pytest_paysim"], id="python-m"),
]


@pytest.fixture(params=COMMANDS)
def command(request: pytest.FixtureRequest) -> list[str]:
    """The command that starts paysim, as an argument list."""
    argv: list[str] = request.param()
    return argv


def _run(command: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


# -- help -----------------------------------------------------------------------------------


def test_bare_paysim_prints_the_help_listing_the_commands_and_exits_2(command: list[str]) -> None:
    done = _run(command)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("usage: paysim")
    assert "the following arguments are required" not in done.stderr
    assert re.search(r"^commands:$", done.stderr, re.MULTILINE)
    assert re.search(r"^\s+serve\s+run the simulator", done.stderr, re.MULTILINE)


def test_paysim_help_lists_the_commands_and_exits_0(command: list[str]) -> None:
    done = _run(command, "--help")
    assert done.returncode == 0
    assert re.search(r"^\s+serve\s+run the simulator", done.stdout, re.MULTILINE)


def _option_help(text: str) -> dict[str, str]:
    """``--option`` → its help text (joined over lines), from an argparse help page."""
    helps: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        found = re.match(r"^  (-\S+)(?: \S+)?(?:, -\S+)?(.*)$", line)
        if found:
            current = found[1]
            helps[current] = found[2].strip()
        elif current and line.startswith("      "):
            helps[current] = (helps[current] + " " + line.strip()).strip()
        else:
            current = None
    return helps


def test_serve_help_describes_the_command_and_every_option(command: list[str]) -> None:
    done = _run(command, "serve", "--help")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    description = text.split("\n\n")[1]
    assert "SIGTERM" in description
    assert "exits 0" in description
    helps = _option_help(text)
    expected = {
        "--host",
        "--port",
        "--seed",
        "--api-key",
        "--db",
        "--signature",
        "--delivery",
        "--https",
        "--webhook-retries",
        "--webhook-timeout",
    }
    assert expected <= helps.keys()
    assert [name for name in expected if not helps[name]] == []
    assert "random seed, printed" in helps["--seed"]
    for name, default in [
        ("--signature", "default paysim"),
        ("--delivery", "default async"),
        ("--webhook-timeout", "default 2.0"),
        ("--webhook-retries", "default 0.1,0.2,0.4,0.8"),
    ]:
        assert default in helps[name], name
    assert "HTTP Basic" in text
    assert "API key" in text


# -- the banner -----------------------------------------------------------------------------


class Served:
    """A ``serve`` subprocess whose banner has been read."""

    def __init__(self, process: subprocess.Popen[str], banner: dict[str, str]) -> None:
        self.process = process
        self.banner = banner


def _read_banner(process: subprocess.Popen[str]) -> dict[str, str]:
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    banner: dict[str, str] = {}
    seen: list[str] = []
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no complete banner in {TIMEOUT} s: {seen}") from None
        if line is None:
            raise AssertionError(f"paysim serve exited before its banner ended: {seen}")
        seen.append(line)
        if line == BANNER_END:
            return banner
        name, sep, value = line.strip().partition(":")
        if line.startswith("  ") and sep:
            banner[name] = value.strip()


@pytest.fixture
def served(command: list[str]) -> Iterator[Served]:
    """``serve --port 0`` without ``--seed``, stopped with SIGTERM (exit 0) afterwards."""
    process = subprocess.Popen(
        [*command, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield Served(process, _read_banner(process))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_the_banner_prints_a_random_seed_and_how_to_log_in_to_the_dashboard(
    served: Served,
) -> None:
    banner = served.banner
    assert banner["seed"].isdigit()
    assert banner["dashboard"] == banner["url"] + "/dashboard"
    login = banner["dashboard login"]
    assert "HTTP Basic" in login
    assert "API key as user name" in login

    key = banner["api key"]
    assert requests.get(banner["dashboard"], timeout=10).status_code == 401
    signed_in = requests.get(banner["dashboard"], auth=(key, ""), timeout=10)
    assert signed_in.status_code == 200
    assert "text/html" in signed_in.headers["Content-Type"]

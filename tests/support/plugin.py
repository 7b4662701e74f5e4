"""The plugin tests' toolkit: run pytest in a subprocess, read what generated tests report.

The generated test modules are real files under ``tests/plugin/examples`` (linted like the
rest), copied into the pytester directory with ``pytester.copy_example(name)``. The subprocess
loads only the plugins a test names (``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` plus ``-p paysim``):
hypothesis and schemathesis, installed for other tests, would add a second to every run.
Generated tests report values back through ``paysim_out.record(name, value)`` (the example
``paysim_out.py``, copied by the ``run`` fixture), which writes JSON files that the outer test
reads with ``run.recorded(name)``; that works under ``-n 2`` too, where a worker's output is
not shown. :func:`serve_paysim` runs ``paysim serve`` for the ``--paysim-url`` tests
(:func:`paysim_serve` with any options, giving its whole banner).
"""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pytest_paysim.cli import BANNER_END

# Variables a pytest subprocess must not inherit from the shell or from this test run.
INHERITED = (
    "PAYSIM_URL",
    "PAYSIM_STRIPE_URL",
    "PAYSIM_API_KEY",
    "PAYSIM_PUBLISHABLE_KEY",
    "PAYSIM_WEBHOOK_SECRET",
    "PAYSIM_WEBHOOK_PUBLIC_KEY",
    "PYTEST_PAYSIM_WORKER_SEED",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_XDIST_TESTRUNUID",
    "PYTEST_ADDOPTS",
)


class Runner:
    """Run pytest in a subprocess in the pytester directory, with the paysim plugin."""

    def __init__(self, pytester: pytest.Pytester, out: Path) -> None:
        self.pytester = pytester
        self.out = out

    def __call__(self, *args: str, xdist: bool = False, timeout: float = 60.0) -> pytest.RunResult:
        plugins = ["-p", "paysim", "-p", "no:cacheprovider"]
        if xdist:
            plugins += ["-p", "xdist"]
        return self.pytester.runpytest_subprocess(*plugins, *args, timeout=timeout)

    def recorded(self, name: str) -> Any:
        """What a generated test passed to ``record(name, ...)``."""
        path = self.out / f"{name}.json"
        assert path.exists(), f"the generated test did not record {name!r}"
        return json.loads(path.read_text())

    def clear(self) -> None:
        """Forget what earlier runs recorded."""
        for path in self.out.iterdir():
            path.unlink()


def header_line(result: pytest.RunResult) -> str:
    """The plugin's line of the report header."""
    lines = [line for line in result.outlines if line.startswith("paysim: ")]
    assert len(lines) == 1, result.outlines[:10]
    return lines[0]


def free_port_pair() -> int:
    """A port P with P and P + 1 free, below the ephemeral range (so no client takes them)."""
    for candidate in range(21000 + (os.getpid() % 500) * 16, 29000, 7):
        if all(_bindable(candidate + offset) for offset in (0, 1)):
            return candidate
    raise AssertionError("no two free neighbouring ports found")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


BANNER_TIMEOUT_SECONDS = 20.0


@contextmanager
def serve_paysim(seed: int) -> Iterator[tuple[str, str]]:
    """A ``paysim serve`` subprocess: its URL and API key, read from its banner; stopped after."""
    with paysim_serve("--seed", str(seed)) as banner:
        yield banner["url"], banner["api key"]


@contextmanager
def paysim_serve(*args: str) -> Iterator[dict[str, str]]:
    """A ``paysim serve`` subprocess (``--port 0`` and ``args``): its banner, name → value;
    stopped after."""
    env = {name: value for name, value in os.environ.items() if name not in INHERITED}
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_paysim", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        banner: dict[str, str] = {}
        seen = []
        deadline = time.monotonic() + BANNER_TIMEOUT_SECONDS
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no complete banner from paysim serve: {seen}") from None
            seen.append(line)
            if line.strip() == BANNER_END:
                break
            if found := re.match(r"  ([a-z ]+):\s+(\S.*)$", line.rstrip("\n")):
                banner[found[1]] = found[2]
        yield banner
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

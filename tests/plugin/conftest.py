"""The ``run`` fixture: pytest in a subprocess, in a pytester directory, with paysim; and
``served``: a ``paysim serve`` subprocess for the ``--paysim-url`` tests."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from plugin_support import INHERITED, RECORDER, Runner

BANNER_TIMEOUT_SECONDS = 20.0


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """Run pytest with paysim in a subprocess, in a clean environment."""
    for name in INHERITED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    out = pytester.mkdir("_out")
    monkeypatch.setenv("PLUGIN_TEST_OUT", str(out))
    pytester.makepyfile(paysim_out=RECORDER)
    return Runner(pytester, out)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, str]]:
    """A ``paysim serve`` subprocess (seed 3): its URL and API key, read from its banner."""
    env = {name: value for name, value in os.environ.items() if name not in INHERITED}
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_paysim", "serve", "--port", "0", "--seed", "3"],
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
        url = key = None
        deadline = time.monotonic() + BANNER_TIMEOUT_SECONDS
        banner = []
        while url is None or key is None:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no URL and key from paysim serve: {banner}") from None
            banner.append(line)
            if found := re.match(r"\s*url:\s+(\S+)", line):
                url = found[1]
            if found := re.match(r"\s*api key:\s+(\S+)", line):
                key = found[1]
        yield url, key
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

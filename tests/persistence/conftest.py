"""Helpers of the persistence tests: ``paysim serve`` in a subprocess, read from its banner."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_paysim.cli import BANNER_END

BANNER_TIMEOUT = 15.0


class ServeProcess:
    """A ``python -m pytest_paysim serve`` subprocess and what its banner said."""

    def __init__(self, args: list[str], stderr_path: Path) -> None:
        self.args = args
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("wb")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pytest_paysim", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.banner: dict[str, str] = {}
        self.url = ""
        self.api_key = ""

    def wait_banner(self) -> ServeProcess:
        """Read the banner (or fail with what the process printed)."""
        self.banner = self._read_banner()
        self.url = self.banner["url"]
        self.api_key = self.banner["api key"]
        return self

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self.lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
        self.lines.put(None)

    def _next_line(self, deadline: float) -> str | None:
        try:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(self.describe("no complete banner in time")) from None
        if line is not None:
            self.output.append(line)
        return line

    def _read_banner(self) -> dict[str, str]:
        deadline = time.monotonic() + BANNER_TIMEOUT
        banner: dict[str, str] = {}
        while True:
            line = self._next_line(deadline)
            if line is None:
                raise AssertionError(self.describe("paysim serve exited before its banner"))
            if line == BANNER_END:
                return banner
            name, sep, value = line.strip().partition(":")
            if line.startswith("  ") and sep:
                banner[name] = value.strip()

    def rest_of_output(self, timeout: float = 5.0) -> list[str]:
        """Lines printed after the banner, up to the end of the output."""
        deadline = time.monotonic() + timeout
        while self._next_line(deadline) is not None:
            pass
        return self.output

    def describe(self, what: str) -> str:
        self._stderr.flush()
        stderr = self.stderr_path.read_text(errors="replace")
        return f"{what}; args {self.args}\nstdout: {self.output}\nstderr: {stderr[-3000:]}"

    def session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        session.headers["Authorization"] = f"Bearer {self.api_key}"
        return session

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs in the server."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def close(self) -> None:
        self.kill()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Start ``paysim serve`` with the given arguments (``--port 0`` added); killed at the end."""
    started: list[ServeProcess] = []

    def start(*args: Any) -> ServeProcess:
        arguments = ["--port", "0", *(str(arg) for arg in args)]
        process = ServeProcess(arguments, tmp_path / f"serve-{len(started)}.stderr")
        started.append(process)
        return process.wait_banner()

    yield start
    for process in started:
        process.close()

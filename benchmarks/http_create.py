"""Section 1: ``POST /v1/payments`` over HTTP, the simulator against a bare werkzeug app.

The bare app (``benchmarks/bare_app.py``) runs on werkzeug's plain development server, which
answers ``Connection: close``: each request pays a connect and a thread. The simulator's
server keeps connections alive (``pytest_paysim.serving``). Figures, in alternating rounds,
with the load from ``wrk`` (``/usr/bin/wrk``, one thread, a Lua script for the JSON body and
the auth header) or, without it, from a lean ``http.client`` load generator run as a
subprocess:

- in this process, 1 and 8 concurrent connections: the simulator as it serves (keep-alive)
  and with ``Connection: close`` asked by the client (the same framing as bare, so the ratio
  prices the app alone), against bare; target >= 0.8 for each ratio;
- ``paysim serve`` and the bare app each in a process of its own, over one connection: the
  ratio of creates per second, keep-alive against werkzeug's close; target >= 1.5::

    python -m benchmarks.http_create --quick
    python -m benchmarks.http_create --loadgen URL API_KEY CONNECTIONS SECONDS [close] [REQUEST]

``REQUEST`` is a :class:`CreateRequest` as JSON (default: the native create); section 9 sends
the Stripe dialect's form-encoded create with the same load generator.
"""

from __future__ import annotations

import cProfile
import http.client
import io
import json
import os
import pstats
import queue
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from benchmarks.bare_app import BareServer
from benchmarks.common import (
    PAYMENT_BODY,
    Figure,
    Section,
    at_least,
    percentile,
    section_main,
)
from pytest_paysim.server import PaysimServer
from pytest_paysim.serving import KeepAliveHandler, KeepAliveWSGIServer

__all__ = [
    "NATIVE_CREATE",
    "CreateRequest",
    "LoadResult",
    "ServerProcess",
    "load",
    "main",
    "probe_keep_alive",
    "profile_create",
    "profile_served",
    "run",
]

WRK = "/usr/bin/wrk"
CONNECTIONS = (1, 8)
TARGET_RATIO = 0.8
TARGET_KEEP_ALIVE_RATIO = 1.5
REPO = Path(__file__).resolve().parent.parent
SERVE_COMMAND = (sys.executable, "-m", "pytest_paysim", "serve", "--port", "0", "--seed", "1")
BARE_COMMAND = (sys.executable, "-m", "benchmarks.bare_app", "--port", "0")

_LUA = """\
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "{content_type}"
wrk.headers["Authorization"] = "Bearer {key}"
{close}done = function(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
"""


@dataclass
class LoadResult:
    """What one load run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int
    tool: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def _body() -> str:
    return json.dumps(PAYMENT_BODY, separators=(",", ":"))


@dataclass(frozen=True)
class CreateRequest:
    """The request the load generator repeats: path, body and its type, the status expected."""

    path: str = "/v1/payments"
    body: str = field(default_factory=_body)
    content_type: str = "application/json"
    status: int = 201


NATIVE_CREATE = CreateRequest()
"""``POST /v1/payments`` with :data:`~benchmarks.common.PAYMENT_BODY` as JSON."""


def wrk_available() -> bool:
    return os.access(WRK, os.X_OK) and os.environ.get("PAYSIM_BENCH_NO_WRK") != "1"


def load(
    url: str,
    api_key: str,
    connections: int,
    seconds: float,
    *,
    close: bool = False,
    request: CreateRequest = NATIVE_CREATE,
) -> LoadResult:
    """``connections`` clients posting ``request`` (a create) to ``url`` for ``seconds``; with
    ``close``, each request asks for ``Connection: close`` (a new connection per request)."""
    if wrk_available():
        return _wrk(url, api_key, connections, seconds, close, request)
    return _python_load(url, api_key, connections, seconds, close, request)


def _wrk(
    url: str,
    api_key: str,
    connections: int,
    seconds: float,
    close: bool,
    request: CreateRequest,
) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        header = 'wrk.headers["Connection"] = "close"\n' if close else ""
        script.write(
            _LUA.format(
                body=request.body,
                content_type=request.content_type,
                key=api_key,
                close=header,
            )
        )
    try:
        done = subprocess.run(
            [
                WRK,
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                url + request.path,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    finally:
        os.unlink(script.name)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures: {done.stdout[-500:]} {done.stderr[-500:]}")
    data = json.loads(line[len("WRKJSON ") :])
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        non_2xx=data["status"],
        tool="wrk",
    )


def _python_load(
    url: str,
    api_key: str,
    connections: int,
    seconds: float,
    close: bool,
    request: CreateRequest,
) -> LoadResult:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.http_create",
            "--loadgen",
            url,
            api_key,
            str(connections),
            str(seconds),
            *(["close"] if close else []),
            *([json.dumps(asdict(request))] if request != NATIVE_CREATE else []),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
        cwd=REPO,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return LoadResult(**data, tool="python http.client")


def loadgen(
    url: str,
    api_key: str,
    connections: int,
    seconds: float,
    close: bool = False,
    request: CreateRequest = NATIVE_CREATE,
) -> dict[str, Any]:
    """The fallback load generator: one ``http.client`` connection per thread, reused for as
    long as the server keeps it open."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = (parts.path.rstrip("/") or "") + request.path
    body = request.body.encode()
    headers = {"Content-Type": request.content_type, "Authorization": f"Bearer {api_key}"}
    if close:
        headers["Connection"] = "close"
    latencies: list[float] = []
    counts = {"errors": 0, "non_2xx": 0}
    lock = threading.Lock()
    start = threading.Barrier(connections + 1)
    deadline = [0.0]

    def client() -> None:
        mine: list[float] = []
        errors = non_2xx = 0
        connection = http.client.HTTPConnection(host, port, timeout=10)
        start.wait()
        end = deadline[0]
        while (begin := time.perf_counter()) < end:
            try:
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                continue
            mine.append(time.perf_counter() - begin)
            if response.status != request.status:
                non_2xx += 1
            if response.will_close:
                connection.close()
        connection.close()
        with lock:
            latencies.extend(mine)
            counts["errors"] += errors
            counts["non_2xx"] += non_2xx

    threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join(seconds + 30)
    elapsed = time.perf_counter() - began
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        **counts,
    }


def probe_keep_alive(url: str, api_key: str) -> bool:
    """Whether the server keeps a connection open after answering a create."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=10)
    try:
        connection.request(
            "POST",
            "/v1/payments",
            _body().encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"},
        )
        response = connection.getresponse()
        response.read()
        return not response.will_close
    finally:
        connection.close()


class ServerProcess:
    """A server in a process of its own (``paysim serve``, or the bare app): ``url`` and
    ``api_key`` are read from the lines it prints at start; SIGTERM stops it."""

    def __init__(self, command: Sequence[str], *, start_timeout: float = 30.0) -> None:
        self.command = list(command)
        self.start_timeout = start_timeout
        self.url = ""
        self.api_key = ""
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> ServerProcess:
        process = self._process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO
        )
        assert process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_forward_lines, args=(process.stdout, lines), daemon=True).start()
        deadline = time.monotonic() + self.start_timeout
        try:
            while not (self.url and self.api_key):
                try:
                    line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise RuntimeError(f"{' '.join(self.command[1:])} did not start") from None
                found = re.match(r"\s*(url|api key):\s+(\S+)", line)
                if found and found.group(1) == "url":
                    self.url = found.group(2)
                elif found:
                    self.api_key = found.group(2)
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def pid(self) -> int:
        """The server's process id (to read its CPU time)."""
        if self._process is None:
            raise RuntimeError("the server is not running")
        return self._process.pid

    def reset(self) -> None:
        """Empty a simulator's state (``POST /_paysim/reset``); the bare app has no such route."""
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=10)
        try:
            connection.request(
                "POST",
                "/_paysim/reset",
                b"{}",
                {"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"},
            )
            connection.getresponse().read()
        finally:
            connection.close()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if process.stdout is not None:
            process.stdout.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _forward_lines(stream: Iterable[str], lines: queue.Queue[str]) -> None:
    """Every line of ``stream`` into ``lines`` (an empty string at the end)."""
    for line in stream:
        lines.put(line)
    lines.put("")


def run(quick: bool) -> Section:
    """Alternating rounds: in this process, simulator (keep-alive, and asked to close) and
    bare at 1 and 8 connections; then ``paysim serve`` and the bare app in processes of their
    own over one connection."""
    section = Section("http_create", "HTTP create: simulator vs bare werkzeug app")
    rounds, seconds, warm = (1, 1.0, 1.0) if quick else (5, 3.0, 1.0)
    results: dict[tuple[str, int], list[LoadResult]] = {}
    with (
        PaysimServer(seed=1) as sim,
        BareServer() as bare,
        ServerProcess(SERVE_COMMAND) as serve,
        ServerProcess(BARE_COMMAND) as bare_process,
    ):
        assert sim.simulator is not None
        in_process = {
            "simulator": (sim.url, sim.api_key, False),
            "simulator close": (sim.url, sim.api_key, True),
            "bare": (bare.url, bare.api_key, False),
        }
        processes = {"paysim serve": serve, "bare process": bare_process}
        keep_alive = {
            "simulator": probe_keep_alive(sim.url, sim.api_key),
            "bare": probe_keep_alive(bare.url, bare.api_key),
            "paysim serve": probe_keep_alive(serve.url, serve.api_key),
            "bare process": probe_keep_alive(bare_process.url, bare_process.api_key),
        }
        for url, key, close in in_process.values():
            load(url, key, 1, warm, close=close)
        for process in processes.values():
            load(process.url, process.api_key, 1, warm)
        for _ in range(rounds):
            for connections in CONNECTIONS:
                for name, (url, key, close) in in_process.items():
                    sim.simulator.reset()
                    bare.clear()
                    results.setdefault((name, connections), []).append(
                        load(url, key, connections, seconds, close=close)
                    )
            for name, process in processes.items():
                if name == "paysim serve":
                    process.reset()
                results.setdefault((name, 1), []).append(
                    load(process.url, process.api_key, 1, seconds)
                )
    tool = next(iter(results.values()))[0].tool

    def ratios(name: str, baseline: str, connections: int) -> list[float]:
        pairs = zip(results[(name, connections)], results[(baseline, connections)], strict=True)
        return [s.rps / b.rps if b.rps else 0.0 for s, b in pairs]

    def speed(name: str, connections: int, label: str) -> None:
        runs = results[(name, connections)]
        section.add(Figure.of_runs(f"{label} creates/s", [r.rps for r in runs], "req/s"))
        section.add(Figure.of_runs(f"{label} p50", [r.p50_ms for r in runs], "ms"))
        section.add(Figure.of_runs(f"{label} p99", [r.p99_ms for r in runs], "ms"))

    for connections in CONNECTIONS:
        for name in ("simulator", "bare"):
            speed(name, connections, f"c={connections} {name}")
        section.add(
            Figure.of_runs(
                f"c={connections} ratio simulator/bare",
                ratios("simulator", "bare", connections),
                "x",
                target=at_least(TARGET_RATIO, f">= {TARGET_RATIO} x bare"),
            )
        )
        speed("simulator close", connections, f"c={connections} simulator, Connection: close,")
        section.add(
            Figure.of_runs(
                f"c={connections} ratio simulator/bare, both closing",
                ratios("simulator close", "bare", connections),
                "x",
                target=at_least(TARGET_RATIO, f">= {TARGET_RATIO} x bare"),
            )
        )
    speed("paysim serve", 1, "paysim serve, 1 keep-alive connection,")
    speed("bare process", 1, "bare app process, 1 connection,")
    section.add(
        Figure.of_runs(
            "ratio paysim serve keep-alive/bare",
            ratios("paysim serve", "bare process", 1),
            "x",
            target=at_least(TARGET_KEEP_ALIVE_RATIO, f">= {TARGET_KEEP_ALIVE_RATIO} x bare"),
        )
    )
    failures = {
        f"{name} c={c}": sum(r.errors + r.non_2xx for r in runs)
        for (name, c), runs in results.items()
    }
    section.notes.append(
        f"load generator: {tool}, 1 thread; {rounds} alternating round(s) of {seconds} s per "
        "server and connection count, state emptied before each run; figure = median of rounds."
    )
    alive = ", ".join(f"{name}: {'kept' if ok else 'closed'}" for name, ok in keep_alive.items())
    section.notes.append(
        f"keep-alive ({alive} after a response): the simulator's server keeps connections "
        "open; the bare app's werkzeug dev server answers `Connection: close`, so each of its "
        "N connections reconnects for every request. `simulator, Connection: close` asks the "
        "simulator to close too: the same framing as bare, so that ratio prices the app."
    )
    section.notes.append(
        "`paysim serve` and the bare app (`python -m benchmarks.bare_app`) run in processes of "
        "their own for the keep-alive ratio; the other figures serve from this process."
    )
    if any(failures.values()):
        section.notes.append(f"errors or non-2xx answers during the runs: {failures}")
    section.details = {
        "tool": tool,
        "keep_alive": keep_alive,
        "failures": failures,
        "runs": {
            f"{name} c={c}": [r.__dict__ | {"rps": r.rps} for r in runs]
            for (name, c), runs in results.items()
        },
    }
    return section


# -- profile -----------------------------------------------------------------------------------


def profile_create(
    seconds: float = 3.0,
    top: int = 15,
    *,
    request: CreateRequest = NATIVE_CREATE,
    prefix: str = "",
) -> dict[str, str]:
    """cProfile of the server side of creates over one keep-alive connection (sorted by
    cumulative and tottime): ``request`` posted to the server's URL plus ``prefix``
    (``"/stripe"`` for the dialect).

    The simulator's app is served by ``pytest_paysim.serving``, but each connection is handled
    in this thread, under the profiler, instead of a thread of its own: the profile sees every
    request from its request line to its answer (reading, werkzeug's environ, the app, the
    write). A client subprocess sends creates over one connection; the time spent waiting for
    the next request is not counted (the timer is process CPU time).
    """
    profiler = new_profiler()

    def client(url: str, api_key: str) -> list[str]:
        command = ["benchmarks.http_create", "--loadgen", url + prefix, api_key, "1", str(seconds)]
        if request != NATIVE_CREATE:
            command.append(json.dumps(asdict(request)))
        return command

    output = profile_served(profiler, client)
    figures = json.loads(output.strip().splitlines()[-1])
    header = (
        f"{figures['requests']} creates ({request.path}) over one keep-alive connection, "
        "profiled server side (timer: process CPU time)\n"
    )
    return {key: header + text for key, text in stats_text(profiler, top).items()}


def profile_served(profiler: cProfile.Profile, client: Callable[[str, str], Sequence[str]]) -> str:
    """Serve a fresh simulator's app in this thread, under ``profiler``, while the client
    ``python -m <client(url, api_key)>`` runs; return what the client printed."""
    with PaysimServer(seed=1) as sim:
        assert sim.app is not None
        server = KeepAliveWSGIServer("127.0.0.1", 0, sim.app)
        url = f"http://127.0.0.1:{server.server_port}"
        process = subprocess.Popen(
            [sys.executable, "-m", *client(url, sim.api_key)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=REPO,
        )
        selector = selectors.DefaultSelector()
        selector.register(server.socket, selectors.EVENT_READ)
        try:
            while process.poll() is None:
                if not selector.select(0.05):
                    continue
                connection, address = server.get_request()
                profiler.enable()
                try:
                    KeepAliveHandler(connection, address, server)
                finally:
                    profiler.disable()
                    server.shutdown_request(connection)
        finally:
            selector.close()
            process.wait(30)
            server.server_close()
        assert process.stdout is not None
        output = process.stdout.read().decode()
        process.stdout.close()
    return output


def new_profiler() -> cProfile.Profile:
    """A profiler on process CPU time: time the process waits, descheduled on a busy
    machine, is not charged to whatever call happened to be running."""
    return cProfile.Profile(time.process_time)


def stats_text(profiler: cProfile.Profile, top: int) -> dict[str, str]:
    """The top entries by cumulative and by own time, and pytest_paysim's own by cumulative."""
    texts = {}
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        texts[key] = out.getvalue()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats("pytest_paysim", top)
    texts["cumulative, pytest_paysim only"] = re.sub(r"/\S*/pytest_paysim/", "", out.getvalue())
    return texts


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--loadgen"]:
        url, api_key, connections, seconds = args[1:5]
        close = "close" in args[5:]
        extra = [arg for arg in args[5:] if arg != "close"]
        request = CreateRequest(**json.loads(extra[0])) if extra else NATIVE_CREATE
        print(json.dumps(loadgen(url, api_key, int(connections), float(seconds), close, request)))
        return 0
    if args[:1] == ["--profile"]:
        for key, text in profile_create().items():
            print(f"== sorted by {key} ==\n{text}")
        return 0
    return section_main("http_create", run, args)


if __name__ == "__main__":
    raise SystemExit(main())

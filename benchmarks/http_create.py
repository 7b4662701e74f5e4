"""Section 1: ``POST /v1/payments`` over HTTP, the simulator against a bare werkzeug app.

Both run on werkzeug's threaded server in this process, one after the other, in alternating
rounds; the load comes from ``wrk`` (``/usr/bin/wrk``, one thread, a Lua script for the JSON
body and the auth header) or, without it, from a lean ``http.client`` load generator run as a
subprocess. Figures: requests/s and p50/p99 latency with 1 and 8 concurrent connections, and
the ratio simulator/bare per round (target >= 0.8)::

    python -m benchmarks.http_create --quick
    python -m benchmarks.http_create --loadgen URL API_KEY CONNECTIONS SECONDS   # the fallback
"""

from __future__ import annotations

import cProfile
import http.client
import io
import json
import os
import pstats
import re
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import make_server

from benchmarks.bare_app import BareServer
from benchmarks.common import (
    PAYMENT_BODY,
    Figure,
    QuietHandler,
    Section,
    at_least,
    percentile,
    section_main,
)
from pytest_paysim.server import PaysimServer

__all__ = ["LoadResult", "load", "main", "probe_keep_alive", "profile_create", "run"]

WRK = "/usr/bin/wrk"
CONNECTIONS = (1, 8)
TARGET_RATIO = 0.8
REPO = Path(__file__).resolve().parent.parent

_LUA = """\
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
done = function(summary, latency, requests)
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


def wrk_available() -> bool:
    return os.access(WRK, os.X_OK) and os.environ.get("PAYSIM_BENCH_NO_WRK") != "1"


def load(url: str, api_key: str, connections: int, seconds: float) -> LoadResult:
    """``connections`` clients posting creates to ``url`` for ``seconds``."""
    if wrk_available():
        return _wrk(url, api_key, connections, seconds)
    return _python_load(url, api_key, connections, seconds)


def _wrk(url: str, api_key: str, connections: int, seconds: float) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_LUA.format(body=_body(), key=api_key))
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
                url + "/v1/payments",
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


def _python_load(url: str, api_key: str, connections: int, seconds: float) -> LoadResult:
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
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
        cwd=REPO,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return LoadResult(**data, tool="python http.client")


def loadgen(url: str, api_key: str, connections: int, seconds: float) -> dict[str, Any]:
    """The fallback load generator: one ``http.client`` connection per thread."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    body = _body().encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"}
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
                connection.request("POST", "/v1/payments", body, headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                continue
            mine.append(time.perf_counter() - begin)
            if response.status != 201:
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


def run(quick: bool) -> Section:
    """Alternating rounds of simulator and bare, at 1 and 8 connections."""
    section = Section("http_create", "HTTP create: simulator vs bare werkzeug app")
    rounds, seconds, warm = (1, 1.0, 1.0) if quick else (5, 3.0, 1.0)
    results: dict[tuple[str, int], list[LoadResult]] = {}
    with PaysimServer(seed=1) as sim, BareServer() as bare:
        targets = {"simulator": (sim.url, sim.api_key), "bare": (bare.url, bare.api_key)}
        keep_alive = {name: probe_keep_alive(*target) for name, target in targets.items()}
        for target in targets.values():
            load(*target, 1, warm)
        assert sim.simulator is not None
        for _ in range(rounds):
            for connections in CONNECTIONS:
                for name, target in targets.items():
                    sim.simulator.reset()
                    bare.clear()
                    results.setdefault((name, connections), []).append(
                        load(*target, connections, seconds)
                    )
    tool = next(iter(results.values()))[0].tool
    for connections in CONNECTIONS:
        for name in targets:
            runs = results[(name, connections)]
            section.add(
                Figure.of_runs(f"c={connections} {name} creates/s", [r.rps for r in runs], "req/s")
            )
            section.add(
                Figure.of_runs(f"c={connections} {name} p50", [r.p50_ms for r in runs], "ms")
            )
            section.add(
                Figure.of_runs(f"c={connections} {name} p99", [r.p99_ms for r in runs], "ms")
            )
        ratios = [
            s.rps / b.rps if b.rps else 0.0
            for s, b in zip(
                results[("simulator", connections)], results[("bare", connections)], strict=True
            )
        ]
        section.add(
            Figure.of_runs(
                f"c={connections} ratio simulator/bare",
                ratios,
                "x",
                target=at_least(TARGET_RATIO, f">= {TARGET_RATIO} x bare"),
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
        f"keep-alive: the werkzeug dev server answers `Connection: close` ({alive} after a "
        "response), so each of the N concurrent connections reconnects for every request."
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


def profile_create(seconds: float = 3.0, top: int = 15) -> dict[str, str]:
    """cProfile of the server side of creates over HTTP (sorted by cumulative and tottime).

    The simulator's app is served by a non-threaded werkzeug server in this thread, so the
    profile sees each request from accept to close (werkzeug's parsing, the app, the write)
    but not the thread the threaded server starts per request. A client subprocess sends
    creates on one connection at a time; waiting for the next one is not profiled.
    """
    profiler = new_profiler()
    with PaysimServer(seed=1) as sim:
        assert sim.app is not None
        server = make_server("127.0.0.1", 0, sim.app, threaded=False, request_handler=QuietHandler)
        url = f"http://127.0.0.1:{server.server_port}"
        client = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.http_create",
                "--loadgen",
                url,
                sim.api_key,
                "1",
                str(seconds),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=REPO,
        )
        selector = selectors.DefaultSelector()
        selector.register(server.socket, selectors.EVENT_READ)
        try:
            while client.poll() is None:
                if selector.select(0.05):
                    profiler.enable()
                    server.handle_request()
                    profiler.disable()
        finally:
            selector.close()
            client.wait(30)
            server.server_close()
        assert client.stdout is not None
        output = client.stdout.read().decode()
        client.stdout.close()
    figures = json.loads(output.strip().splitlines()[-1])
    header = (
        f"{figures['requests']} creates over HTTP, profiled server side (timer: process CPU time)\n"
    )
    return {key: header + text for key, text in stats_text(profiler, top).items()}


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
        print(json.dumps(loadgen(url, api_key, int(connections), float(seconds))))
        return 0
    if args[:1] == ["--profile"]:
        for key, text in profile_create().items():
            print(f"== sorted by {key} ==\n{text}")
        return 0
    return section_main("http_create", run, args)


if __name__ == "__main__":
    raise SystemExit(main())

"""Which server under the simulator: its app on several WSGI servers, same load, same run.

Not a section of ``python -m benchmarks``: cheroot and waitress are not dependencies. Install
them into a scratch venv to compare (``pip install cheroot waitress``); a server that is not
installed is left out. Each server runs the simulator's app in a process of its own; the
load comes from section 1's load generator, in alternating rounds, over 1 and 8 connections::

    python -m benchmarks.server_choice            # 5 rounds of 3 s
    python -m benchmarks.server_choice --quick

Servers: ``werkzeug`` (the development server as before, ``Connection: close`` on every
answer), ``keep-alive`` (``pytest_paysim.serving``, what ``PaysimServer`` runs), ``cheroot``
(CherryPy's, a fixed pool of worker threads and a selector for idle connections),
``waitress`` (Pyramid's, an asyncore loop and a pool of worker threads), and ``bare``: the
bare app on the development server, the baseline of section 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import DEFAULT_RESULTS_DIR, Figure, Section, print_table, write_json
from benchmarks.http_create import LoadResult, ServerProcess, load
from pytest_paysim.server import PaysimServer
from pytest_paysim.serving import QuietHandler

__all__ = ["SERVERS", "main", "run"]

SERVERS = ("werkzeug", "keep-alive", "cheroot", "waitress", "bare")
NEEDS = {"cheroot": "cheroot", "waitress": "waitress"}


def available(name: str) -> bool:
    module = NEEDS.get(name)
    return module is None or importlib.util.find_spec(module) is not None


def serve(name: str) -> int:
    """Serve the simulator's app on server ``name`` until SIGINT or SIGTERM."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with PaysimServer(seed=1) as paysim:
        app = paysim.app
        assert app is not None
        url, shutdown = paysim.url, lambda: None
        if name == "werkzeug":
            from werkzeug.serving import make_server

            server: Any = make_server(
                "127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler
            )
            url = f"http://127.0.0.1:{server.server_port}"
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
            shutdown = server.shutdown
        elif name == "cheroot":
            from cheroot.wsgi import Server as CherootServer

            server = CherootServer(("127.0.0.1", 0), app, numthreads=10)
            server.prepare()
            url = f"http://127.0.0.1:{server.bind_addr[1]}"
            threading.Thread(target=server.serve, daemon=True).start()
            shutdown = server.stop
        elif name == "waitress":
            from waitress.server import create_server

            server = create_server(app, host="127.0.0.1", port=0, threads=4)
            url = f"http://127.0.0.1:{server.effective_port}"
            threading.Thread(target=server.run, daemon=True).start()
            shutdown = server.close
        print(f"{name}\n  url:     {url}\n  api key: {paysim.api_key}", flush=True)
        while not stop.wait(0.2):
            pass
        shutdown()
    return 0


def run(quick: bool, results_dir: Path) -> Section:
    section = Section("server_choice", "The simulator's app on several servers")
    rounds, seconds = (1, 1.0) if quick else (5, 3.0)
    names = [name for name in SERVERS if available(name)]
    missing = [name for name in SERVERS if name not in names]
    results: dict[tuple[str, int], list[LoadResult]] = {}
    processes: dict[str, ServerProcess] = {}
    try:
        for name in names:
            command = (
                [sys.executable, "-m", "benchmarks.bare_app", "--port", "0"]
                if name == "bare"
                else [sys.executable, "-m", "benchmarks.server_choice", "--serve", name]
            )
            processes[name] = ServerProcess(command).__enter__()
        for process in processes.values():
            load(process.url, process.api_key, 1, 1.0)  # warm up
        for _ in range(rounds):
            for connections in (1, 8):
                for name, process in processes.items():
                    if name != "bare":
                        process.reset()
                    results.setdefault((name, connections), []).append(
                        load(process.url, process.api_key, connections, seconds)
                    )
    finally:
        for process in processes.values():
            process.stop()
    for connections in (1, 8):
        for name in names:
            runs = results[(name, connections)]
            label = f"c={connections} {name}"
            section.add(Figure.of_runs(f"{label} creates/s", [r.rps for r in runs], "req/s"))
            section.add(Figure.of_runs(f"{label} p50", [r.p50_ms for r in runs], "ms"))
            if name != "bare":
                pairs = zip(runs, results[("bare", connections)], strict=True)
                section.add(
                    Figure.of_runs(
                        f"{label} / bare", [s.rps / b.rps if b.rps else 0.0 for s, b in pairs], "x"
                    )
                )
    section.notes.append(
        f"{rounds} alternating round(s) of {seconds} s per server and connection count; each "
        "server in a process of its own; figure = median of rounds."
    )
    if missing:
        section.notes.append(f"not installed, left out: {', '.join(missing)}")
    failures = {
        f"{name} c={c}": sum(r.errors + r.non_2xx for r in runs)
        for (name, c), runs in results.items()
    }
    if any(failures.values()):
        section.notes.append(f"errors or non-2xx answers during the runs: {failures}")
    data = section.to_dict()
    write_json(results_dir / "server_choice.json", data)
    print_table([data])
    return section


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.server_choice")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR)
    parser.add_argument("--serve", choices=SERVERS[:-1], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve)
    run(args.quick, args.results_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

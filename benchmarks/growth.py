"""Growth: does creating a payment get slower as the store fills up?

For each store (memory, SQLite) the server is filled with 1k, 10k, then 100k payments
(through ``Simulator.create_payment`` inside one store transaction, which is quick; a SQLite
file is filled by a server of its own and then opened by the measured one), and at
each size the median (p50) latency of ``POST /v1/payments`` is measured twice: in process,
through the WSGI app with ``werkzeug.test.Client``, and over HTTP with ``requests``. A store
whose per-request cost grows with its rows shows a ratio p50@100k / p50@1k well above 1::

    python -m benchmarks.growth            # the full run (a few minutes, ~1 GB of disk at most)
    python -m benchmarks.growth --quick    # 1k and 5k only

The table is printed; the figures go to ``benchmarks/results/growth.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.test import Client

from benchmarks.common import (
    DEFAULT_RESULTS_DIR,
    PAYMENT_BODY,
    Figure,
    Section,
    at_most,
    machine_info,
    write_json,
)
from pytest_paysim import PaysimServer
from pytest_paysim.core.idempotency import Answer

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 5_000)
SAMPLES = 500
ROUNDS = 10
WARMUP = 30
RATIO_TARGET = 1.2
STORES = ("memory", "sqlite")
PATHS = ("in-process", "http")


def prefill(server: PaysimServer, count: int) -> float:
    """Add ``count`` payments in one transaction; returns the seconds it took."""
    sim = server.simulator
    assert sim is not None
    started = time.perf_counter()

    def create_all() -> Answer:
        for number in range(count):
            sim.create_payment(
                amount=100 + number % 9000,
                currency="usd",
                description=f"prefill {number}",
                metadata={"order_id": str(number)},
            )
        return Answer(201, b"")

    sim.execute(create_all)  # one request, so one transaction
    return time.perf_counter() - started


def timed(request: Callable[[], int], samples: int) -> list[float]:
    """Seconds per call of ``request`` (which must answer 201), after a warm-up."""
    for _ in range(WARMUP):
        request()
    durations = []
    for _ in range(samples):
        started = time.perf_counter()
        status = request()
        durations.append(time.perf_counter() - started)
        if status != 201:
            raise RuntimeError(f"create answered {status}")
    return durations


def measure_store(
    kind: str, sizes: Sequence[int], samples: int, rounds: int = ROUNDS
) -> dict[str, Any]:
    """p50 (ms) per path and size for one store: the median of ``rounds`` alternating rounds.

    One server per size, each filled first, then every round measures every size in turn, so
    a slow moment of the machine falls on all sizes alike instead of on the last one; every
    other round takes the sizes (and the paths) in the reverse order, so that neither end of a
    round is always the same size.
    """
    per_round = max(1, samples // rounds)
    with tempfile.TemporaryDirectory(prefix="paysim-growth-") as directory, ExitStack() as stack:
        servers: dict[int, PaysimServer] = {}
        result: dict[str, Any] = {"sizes": {}, "prefill_seconds": {}}
        for size in sizes:
            if kind == "sqlite":
                # Filled by a server of its own, then opened again: a clean stop folds the
                # filling's WAL into the file, so no checkpoint of it runs during the rounds.
                db = Path(directory) / f"growth-{size}.sqlite"
                with PaysimServer(seed=1, db=db) as filler:
                    result["prefill_seconds"][size] = round(prefill(filler, size), 2)
                servers[size] = stack.enter_context(PaysimServer(seed=1, db=db))
            else:
                server = stack.enter_context(PaysimServer(seed=1))
                servers[size] = server
                result["prefill_seconds"][size] = round(prefill(server, size), 2)
        requests_by_size = {size: _requests(server) for size, server in servers.items()}
        runs: dict[int, dict[str, list[float]]] = {
            size: {path: [] for path in PATHS} for size in sizes
        }
        for number in range(rounds):
            order = 1 if number % 2 == 0 else -1
            for size in sizes[::order]:
                for path in PATHS[::order]:
                    durations = timed(requests_by_size[size][path], per_round)
                    runs[size][path].append(statistics.median(durations) * 1000)
        for size in sizes:
            row = {
                path: {
                    "p50_ms": statistics.median(runs[size][path]),
                    "round_p50s_ms": runs[size][path],
                }
                for path in PATHS
            }
            result["sizes"][size] = row
            print(f"  {kind:6} {size:>7,} payments: {_row_text(row)}", flush=True)
        if kind == "sqlite":
            result["db_bytes"] = sum(
                path.stat().st_size for path in Path(directory).iterdir() if path.is_file()
            )
    return result


def _requests(server: PaysimServer) -> dict[str, Callable[[], int]]:
    """A create through the WSGI app (in process) and one over HTTP, for one server."""
    assert server.app is not None
    headers = {"Authorization": f"Bearer {server.api_key}"}
    wsgi = Client(server.app)
    http = server.client

    def in_process() -> int:
        return wsgi.post("/v1/payments", json=PAYMENT_BODY, headers=headers).status_code

    def over_http() -> int:
        return http.post("/v1/payments", json=PAYMENT_BODY).status_code

    return {"in-process": in_process, "http": over_http}


def _row_text(row: dict[str, Any]) -> str:
    return ", ".join(f"{path} p50 {row[path]['p50_ms']:.3f} ms" for path in PATHS)


def table(results: dict[str, Any], sizes: Sequence[int]) -> str:
    """One line per store and path: p50 at each size, and the ratio last / first."""
    head = ["store", "path", *[f"p50 @{_size(s)}" for s in sizes], f"{_size(sizes[-1])}/1k"]
    rows = [head]
    for kind in STORES:
        for path in PATHS:
            values = [results[kind]["sizes"][size][path]["p50_ms"] for size in sizes]
            rows.append(
                [kind, path, *[f"{v:.3f} ms" for v in values], f"{values[-1] / values[0]:.2f}x"]
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = []
    for number, row in enumerate(rows):
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells))
        if number == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def _size(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.growth", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1k and 5k payments only")
    parser.add_argument("--samples", type=int, default=SAMPLES, help="creates per measurement")
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR)
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else SIZES

    results = {kind: measure_store(kind, sizes, args.samples) for kind in STORES}
    section = Section("growth", "Create latency as the store grows", quick=args.quick)
    for kind in STORES:
        for path in PATHS:
            rows = [results[kind]["sizes"][size][path] for size in sizes]
            for size, row in zip(sizes, rows, strict=True):
                section.add(
                    Figure.of_runs(f"{kind} {path} p50 @{_size(size)}", row["round_p50s_ms"], "ms")
                )
            ratios = [
                last / first
                for first, last in zip(
                    rows[0]["round_p50s_ms"], rows[-1]["round_p50s_ms"], strict=True
                )
            ]
            section.add(
                Figure.of_runs(
                    f"{kind} {path} p50 ratio {_size(sizes[-1])}/{_size(sizes[0])}",
                    ratios,
                    "x",
                    target=at_most(RATIO_TARGET),
                )
            )
    section.notes.append(
        f"one server per size, filled through Simulator.create_payment in one transaction; "
        f"{ROUNDS} rounds of {max(1, args.samples // ROUNDS)} creates per size and path (after "
        f"{WARMUP} warm-up ones each), every other round in the reverse order; ratio per round, "
        "median shown"
    )
    section.details = {"sizes": list(sizes), "samples": args.samples, "results": results}
    data = section.to_dict()
    data["machine"] = machine_info()
    write_json(args.results_dir / "growth.json", data)
    print()
    print(table(results, sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())

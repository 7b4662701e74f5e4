"""Section 7: memory kept per complete flow, measured in process through the WSGI app.

Each flow is create, pay, capture, refund, each request with its own ``Idempotency-Key``,
sent with ``werkzeug.test.Client`` to ``server.app``; with no webhook target, every event is
still signed and captured in the run's delivery log. Nothing is reset between flows (one long
test), so everything a flow leaves behind — payment, refund, events, delivery attempts,
idempotency records — counts. RSS comes from ``/proc/self/statm`` after ``gc.collect()``,
around 5,000 flows that follow 1,000 warm-up flows; tracemalloc gives the same growth in
Python allocations, with the lines that hold it. The per-flow figure is information (its old
4 KiB target is retired: every test resets, and bodies are kept plain); what has a target is
that a reset frees what the flows held: after the flows and a reset, tracemalloc keeps at most
5 % of what the flows had added (what stays is bounded caches of the standard library and of
werkzeug's test client, the same after 500 flows or 2,000)::

    python -m benchmarks.memory --quick
"""

from __future__ import annotations

import gc
import itertools
import linecache
import tracemalloc
from collections.abc import Sequence
from typing import Any

from werkzeug.test import Client

from benchmarks.common import Figure, Section, at_most, read_rss_bytes, section_main
from benchmarks.flow import CREATE_BODY
from pytest_paysim.server import PaysimServer

__all__ = ["FlowDriver", "main", "run"]

RESET_LEFTOVER_SHARE = 0.05


class FlowDriver:
    """Complete flows through ``werkzeug.test.Client`` on the server's WSGI app."""

    def __init__(self, server: PaysimServer) -> None:
        assert server.app is not None
        self.client = Client(server.app)
        self.auth = f"Bearer {server.api_key}"
        self._keys = itertools.count()

    def _post(self, path: str, body: dict[str, Any], status: int) -> dict[str, Any]:
        headers = {"Authorization": self.auth, "Idempotency-Key": f"bench-{next(self._keys)}"}
        response = self.client.post(path, json=body, headers=headers)
        if response.status_code != status:
            raise AssertionError(f"POST {path}: {response.status_code} {response.text[:300]}")
        data: dict[str, Any] = response.get_json()
        return data

    def flow(self) -> None:
        payment_id = self._post("/v1/payments", CREATE_BODY, 201)["id"]
        path = f"/v1/payments/{payment_id}"
        self._post(path + "/pay", {"outcome": "succeed"}, 200)
        self._post(path + "/capture", {}, 200)
        self._post(path + "/refund", {}, 201)

    def flows(self, count: int) -> None:
        for _ in range(count):
            self.flow()


def _settle() -> None:
    for _ in range(3):
        gc.collect()


def rss_per_flow(warm_up: int, measured: int) -> tuple[float, dict[str, Any]]:
    """RSS growth per flow over ``measured`` flows after ``warm_up`` flows."""
    with PaysimServer(seed=1) as server:
        driver = FlowDriver(server)
        driver.flows(warm_up)
        _settle()
        before = read_rss_bytes()
        driver.flows(measured)
        _settle()
        after = read_rss_bytes()
        assert server.simulator is not None
        attempts = len(server.simulator.attempts())
    return (after - before) / measured, {
        "rss_before": before,
        "rss_after": after,
        "delivery_attempts_logged": attempts,
    }


def traced_per_flow(
    warm_up: int, measured: int, top: int = 8
) -> tuple[float, float, list[dict[str, Any]]]:
    """tracemalloc's growth per flow, what a reset leaves of it, and the lines holding most."""
    with PaysimServer(seed=2) as server:
        assert server.simulator is not None
        driver = FlowDriver(server)
        driver.flows(warm_up)
        server.simulator.reset()
        _settle()
        tracemalloc.start(1)
        try:
            start, _ = tracemalloc.get_traced_memory()
            driver.flows(measured)
            _settle()
            end, _ = tracemalloc.get_traced_memory()
            snapshot = tracemalloc.take_snapshot()
            server.simulator.reset()
            _settle()
            after_reset, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    sites = []
    for stat in snapshot.statistics("lineno")[:top]:
        frame = stat.traceback[0]
        sites.append(
            {
                "where": f"{_short(frame.filename)}:{frame.lineno}",
                "code": linecache.getline(frame.filename, frame.lineno).strip()[:80],
                "bytes_per_flow": round(stat.size / measured, 1),
            }
        )
    return (end - start) / measured, (after_reset - start) / max(1, end - start), sites


def _short(filename: str) -> str:
    for marker in ("/pytest_paysim/", "/site-packages/", "/lib/python"):
        if marker in filename:
            return (
                filename.split(marker, 1)[1]
                if marker != "/pytest_paysim/"
                else ("pytest_paysim/" + filename.split(marker, 1)[1])
            )
    return filename


def run(quick: bool) -> Section:
    section = Section("memory", "Memory per complete flow (in process, idempotency keys)")
    warm_up, measured = (100, 500) if quick else (1000, 5000)
    rss, rss_details = rss_per_flow(warm_up, measured)
    traced, leftover, sites = traced_per_flow(warm_up, measured)
    section.add(Figure("RSS growth per flow (information)", rss, "bytes"))
    section.add(Figure("tracemalloc growth per flow (information)", traced, "bytes"))
    section.add(
        Figure(
            "share of the flows' memory left after a reset",
            leftover * 100,
            "%",
            target=at_most(RESET_LEFTOVER_SHARE * 100, "<= 5 %"),
        )
    )
    section.notes.append(
        f"{warm_up} warm-up then {measured} measured flows, no reset between them; each flow "
        "keeps 1 payment, 1 refund, 4 events, 4 captured signed deliveries, 4 idempotency "
        "records. One run each (memory is not timing noise)."
    )
    if sites:
        biggest = ", ".join(f"{s['where']} {s['bytes_per_flow']:.0f} B" for s in sites[:4])
        section.notes.append(f"largest holders per flow (tracemalloc): {biggest}")
    section.details = {"rss": rss_details, "tracemalloc_top": sites}
    return section


def main(argv: Sequence[str] | None = None) -> int:
    return section_main("memory", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

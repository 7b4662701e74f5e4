"""Webhook delivery: event → local receiver latency, and deliveries/s to one receiver.

A ``PaysimServer`` (async delivery) sends to a receiver on loopback in the same process, so
one ``time.perf_counter`` clock times both ends:

- latency: each event is stamped when the simulator creates it (its store's ``add_event``),
  the receiver stamps its arrival; payments are created over HTTP one at a time (the next
  after the previous event arrived), so this is the dispatcher's own delay, with no queue;
- throughput: a burst of events made in process (no HTTP in the way) to one URL; deliveries/s
  is events / (last arrival - first event), for a werkzeug receiver (which closes every
  connection) and a keep-alive HTTP/1.1 receiver (the connection is reused).

Figures are medians of several runs (min and max shown)::

    python -m benchmarks.webhooks            # 1,000 events per run
    python -m benchmarks.webhooks --quick    # a smoke run
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from benchmarks.common import (
    PAYMENT_BODY,
    Figure,
    QuietHandler,
    Section,
    at_least,
    at_most,
    percentile,
    section_main,
)
from pytest_paysim.server import PaysimServer

__all__ = ["Arrivals", "main", "measure_latency", "measure_throughput", "run"]

EVENTS = 1000
QUICK_EVENTS = 100
RUNS = 3
LATENCY_TARGET_MS = 5.0


class Arrivals:
    """Arrival times by event id, with a wait for a number of them."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._changed = threading.Condition()

    def add(self, event_id: str | None) -> None:
        now = time.time()  # the clock event times are on
        with self._changed:
            if event_id is not None:
                self.times.setdefault(event_id, now)
            self._changed.notify_all()

    def wait(self, count: int, timeout: float = 30.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.times) >= count, timeout):
                raise RuntimeError(
                    f"only {len(self.times)} of {count} webhooks arrived within {timeout}s"
                )


# -- receivers ---------------------------------------------------------------------------------


@contextmanager
def werkzeug_receiver(arrivals: Arrivals) -> Iterator[str]:
    """A threaded werkzeug server (what tests use); it closes each connection."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        request.get_data()
        arrivals.add(request.headers.get("Paysim-Event-Id"))
        return Response("ok")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def keepalive_receiver(arrivals: Arrivals) -> Iterator[str]:
    """An HTTP/1.1 receiver that keeps connections open (like gunicorn or uvicorn)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else headers and body wait on a delayed ACK (40 ms)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            arrivals.add(self.headers.get("Paysim-Event-Id"))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks"
    finally:
        server.shutdown()
        server.server_close()


Receiver = Callable[[Arrivals], Any]


@contextmanager
def stamped_server() -> Iterator[tuple[PaysimServer, dict[str, float]]]:
    """A server, and (filled in by :func:`creation_times`) when each event was created."""
    with PaysimServer(seed=7, webhook_retries=()) as server:
        yield server, {}


def creation_times(server: PaysimServer, event_ids: Iterable[str], into: dict[str, float]) -> None:
    """Each event's creation time (wall clock, as the simulator's running clock reads it)."""
    assert server.simulator is not None
    for event_id in event_ids:
        into[event_id] = server.simulator.get_event(event_id).created_at


# -- measurements ------------------------------------------------------------------------------


def measure_latency(events: int) -> list[float]:
    """Milliseconds from each event's creation to its arrival, one event in flight at a time."""
    arrivals = Arrivals()
    with werkzeug_receiver(arrivals) as url, stamped_server() as (server, created):
        body = {**PAYMENT_BODY, "metadata": {**PAYMENT_BODY["metadata"], "webhook_url": url}}
        client = server.client
        for count in range(1, events + 1):
            response = client.post("/v1/payments", json=body)
            if response.status_code != 201:
                raise RuntimeError(f"create answered {response.status_code}: {response.text}")
            arrivals.wait(count)
        creation_times(server, arrivals.times, created)
        return [(arrivals.times[key] - created[key]) * 1000.0 for key in arrivals.times]


def measure_throughput(events: int, receiver: Receiver) -> float:
    """Deliveries/s of a burst of ``events`` to one URL (events made in process)."""
    arrivals = Arrivals()
    with receiver(arrivals) as url, stamped_server() as (server, created):
        sim = server.simulator
        assert sim is not None
        for _ in range(events):
            sim.create_payment(amount=1999, currency="usd", metadata={"webhook_url": url})
        arrivals.wait(events, timeout=120)
        creation_times(server, arrivals.times, created)
        first = min(created.values())
        last = max(arrivals.times.values())
        return events / (last - first)


def run(quick: bool) -> Section:
    """Measure and return the section (1,000 events per run, 3 runs; quick: 100, 1)."""
    events = QUICK_EVENTS if quick else EVENTS
    runs = 1 if quick else RUNS
    section = Section("webhooks", "Webhook delivery to a local receiver")

    p50s: list[float] = []
    p99s: list[float] = []
    maxima: list[float] = []
    for _ in range(runs):
        latencies = measure_latency(events)
        p50s.append(percentile(latencies, 50))
        p99s.append(percentile(latencies, 99))
        maxima.append(max(latencies))
    section.add(
        Figure.of_runs(
            "p50 event → receiver latency",
            p50s,
            "ms",
            target=at_most(LATENCY_TARGET_MS),
            note=f"{events} events per run, one in flight",
        )
    )
    section.add(Figure.of_runs("p99 event → receiver latency", p99s, "ms"))
    section.add(Figure.of_runs("max event → receiver latency", maxima, "ms"))

    receivers: Sequence[tuple[str, Receiver]] = (
        ("werkzeug receiver, new connection each", werkzeug_receiver),
        ("keep-alive receiver", keepalive_receiver),
    )
    for label, receiver in receivers:
        rates = [measure_throughput(events, receiver) for _ in range(runs)]
        section.add(
            Figure.of_runs(
                f"deliveries/s ({label})",
                rates,
                "deliveries/s",
                target=at_least(200) if receiver is werkzeug_receiver else None,
                note=f"burst of {events} events to one URL",
            )
        )
    section.notes.append(
        "latency runs from the event's creation inside the simulator to the receiver's "
        "arrival stamp, both on time.perf_counter in one process"
    )
    section.details = {"events_per_run": events, "runs": runs}
    return section


def main(argv: Sequence[str] | None = None) -> int:
    return section_main("webhooks", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

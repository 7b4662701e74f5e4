"""``--db`` writes: creates per second with the SQLite store against the memory store.

First what the issue's target names, ``paysim serve --db FILE`` against ``paysim serve``: each
server in a process of its own, started as a user would, both loaded in turn by section 1's load
generator (``benchmarks.http_create.load``) over one keep-alive connection, ``POST /v1/payments``
with the same body. Rounds alternate between the servers (the first of a round alternates too),
so a busy moment of the shared machine falls on both; each round gives creates/s for each server
and their ratio. Target: ``--db`` >= 0.8x the memory store (the median of the rounds' ratios).
The servers' CPU time per create is read from ``/proc`` (every thread of the process: the
store's checkpoint thread too), and the SQLite file's size after each round is kept.

Then the store alone, information with no target: two simulators in this process, one on a
``MemoryStore`` and one on a ``SqliteStore`` in a temporary file, each behind its own
``PaysimApp``, take ``POST /v1/payments`` through ``werkzeug.test.Client``, a new
``Idempotency-Key`` each time, in alternating rounds; with no socket and no client process, the
store's share of a create is as large as it gets. CPU time per create is shown too: of the
requesting thread, and of the whole process (with the store's checkpoint thread).

Then the statement profile: the statements the SQLite store runs for a create, a pay and a
refund (over the API, with an ``Idempotency-Key``) and to record a webhook attempt (a success,
and a failure with its retry), counted with ``SqliteStore.trace``::

    python -m benchmarks.db_write            # 11 rounds of 3 s per server, 15 of 300 creates
    python -m benchmarks.db_write --quick    # 3 rounds of 1 s, 5 of 60
"""

from __future__ import annotations

import itertools
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from werkzeug.test import Client

from benchmarks.common import (
    PAYMENT_BODY,
    Figure,
    Section,
    at_least,
    process_cpu_seconds,
    section_main,
    summarize,
)
from benchmarks.http_create import SERVE_COMMAND, ServerProcess, load
from pytest_paysim.core.simulator import Simulator, SimulatorConfig
from pytest_paysim.core.sqlite_store import SqliteStore
from pytest_paysim.core.store import MemoryStore, Store
from pytest_paysim.http.app import PaysimApp

__all__ = ["main", "measure", "measure_served", "run", "statement_profile"]

RATIO_TARGET = 0.8
STORES = ("memory", "sqlite")
FULL = (15, 300, 300)  # rounds, creates per round and store, warm-up creates per store
QUICK = (5, 60, 60)
SERVED_FULL = (11, 3.0, 2.0)  # rounds, seconds of load per round and server, warm-up seconds
SERVED_QUICK = (3, 1.0, 1.0)
WEBHOOK_URL = "http://127.0.0.1:9/hook"  # never sent to: attempts are recorded by hand


@dataclass
class ApiDriver:
    """Requests to one simulator's WSGI app, each with its own ``Idempotency-Key``."""

    simulator: Simulator
    client: Client
    auth: str
    keys: Iterator[int] = field(default_factory=itertools.count)

    @classmethod
    def over(cls, store: Store, seed: int = 1) -> ApiDriver:
        simulator = Simulator(SimulatorConfig(seed=seed), store=store)
        return cls(simulator, Client(PaysimApp(simulator)), f"Bearer {simulator.api_key}")

    def post(self, path: str, body: dict[str, Any], status: int) -> dict[str, Any]:
        headers = {"Authorization": self.auth, "Idempotency-Key": f"db-write-{next(self.keys)}"}
        response = self.client.post(path, json=body, headers=headers)
        if response.status_code != status:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
        data: dict[str, Any] = response.get_json()
        return data

    def create(self) -> str:
        return str(self.post("/v1/payments", PAYMENT_BODY, 201)["id"])


# -- throughput --------------------------------------------------------------------------------


@dataclass
class Rounds:
    """Per store, one value per round: creates/s and CPU microseconds per create."""

    per_second: dict[str, list[float]]
    thread_us: dict[str, list[float]]
    process_us: dict[str, list[float]]

    def ratios(self, values: dict[str, list[float]], *, inverse: bool = False) -> list[float]:
        pairs = zip(values["sqlite"], values["memory"], strict=True)
        return [memory / sqlite if inverse else sqlite / memory for sqlite, memory in pairs]


def measure(rounds: int, creates: int, warm_up: int, directory: Path) -> Rounds:
    """Alternating rounds of ``creates`` creates on each store."""
    result = Rounds({s: [] for s in STORES}, {s: [] for s in STORES}, {s: [] for s in STORES})
    with ExitStack() as stack:
        sqlite = SqliteStore(directory / "db-write.sqlite")
        stack.callback(sqlite.close)
        drivers = {"memory": ApiDriver.over(MemoryStore()), "sqlite": ApiDriver.over(sqlite)}
        for driver in drivers.values():
            for _ in range(warm_up):
                driver.create()
        for number in range(rounds):
            order = STORES if number % 2 == 0 else STORES[::-1]
            for store in order:
                create = drivers[store].create
                started, thread, process = (
                    time.perf_counter(),
                    time.thread_time(),
                    time.process_time(),
                )
                for _ in range(creates):
                    create()
                elapsed = time.perf_counter() - started
                result.per_second[store].append(creates / elapsed)
                result.thread_us[store].append((time.thread_time() - thread) / creates * 1e6)
                result.process_us[store].append((time.process_time() - process) / creates * 1e6)
    return result


@dataclass
class ServedRounds:
    """Per server, one value per round: creates/s and the server's CPU microseconds per create;
    and the sizes of the SQLite files after each round."""

    per_second: dict[str, list[float]]
    cpu_us: dict[str, list[float]]
    file_kib: list[int] = field(default_factory=list)
    wal_kib: list[int] = field(default_factory=list)

    def ratios(self) -> list[float]:
        pairs = zip(self.per_second["sqlite"], self.per_second["memory"], strict=True)
        return [sqlite / memory for sqlite, memory in pairs]


def measure_served(rounds: int, seconds: float, warm_up: float, directory: Path) -> ServedRounds:
    """Alternating rounds of creates over one keep-alive connection (section 1's load
    generator) to ``paysim serve`` and ``paysim serve --db FILE``, each in its own process."""
    path = directory / "served.sqlite"
    result = ServedRounds({s: [] for s in STORES}, {s: [] for s in STORES})
    with (
        ServerProcess(SERVE_COMMAND) as memory,
        ServerProcess((*SERVE_COMMAND, "--db", str(path))) as sqlite,
    ):
        servers = {"memory": memory, "sqlite": sqlite}
        for server in servers.values():
            load(server.url, server.api_key, 1, warm_up)
        for number in range(rounds):
            order = STORES if number % 2 == 0 else STORES[::-1]
            for store in order:
                server = servers[store]
                began = process_cpu_seconds(server.pid)
                loaded = load(server.url, server.api_key, 1, seconds)
                cpu = process_cpu_seconds(server.pid) - began
                if loaded.errors or loaded.non_2xx or not loaded.requests:
                    raise RuntimeError(f"{store}: {loaded}")
                result.per_second[store].append(loaded.rps)
                result.cpu_us[store].append(cpu / loaded.requests * 1e6)
            result.file_kib.append(_kib(path))
            result.wal_kib.append(_kib(Path(f"{path}-wal")))
    return result


def _kib(path: Path) -> int:
    return path.stat().st_size // 1024 if path.exists() else 0


# -- statement profile -------------------------------------------------------------------------


def statement_profile(directory: Path) -> dict[str, list[str]]:
    """The statements the SQLite store runs per operation, each named by what it does."""
    profile: dict[str, list[str]] = {}
    store = SqliteStore(directory / "profile.sqlite")
    try:
        api = ApiDriver.over(store)
        api.create()  # the first request of a store reads its settings, and so on
        statements: list[str] = []

        def traced(name: str, operation: Callable[[], Any]) -> Any:
            statements.clear()
            store.trace(statements.append)
            try:
                return operation()
            finally:
                store.trace(None)
                profile[name] = [label(sql) for sql in statements]

        payment_id = traced("create", api.create)
        path = f"/v1/payments/{payment_id}"
        traced("pay", lambda: api.post(path + "/pay", {"outcome": "succeed"}, 200))
        traced("refund", lambda: api.post(path + "/refund", {"amount": 500}, 201))

        sim = api.simulator
        for _ in range(2):
            sim.create_payment(amount=700, currency="usd", metadata={"webhook_url": WEBHOOK_URL})
        ok, failing = sim.pending_deliveries()[-2:]
        for name, attempt, status in (
            ("webhook attempt (delivered)", ok, 200),
            ("webhook attempt (failed, retry planned)", failing, 500),
        ):
            signed = sim.prepare_attempt(attempt)
            assert signed is not None
            made = replace(
                signed,
                sent_at=sim.clock.now(),
                status_code=status,
                succeeded=status == 200,
                error=None if status == 200 else f"HTTP {status}",
            )
            traced(name, partial(sim.record_attempt, made))
    finally:
        store.close()
    return profile


_LABELS = (
    (re.compile(r"^SELECT .*? FROM (\w+)", re.S), "SELECT {0}"),
    (re.compile(r"^(INSERT(?: OR REPLACE)? INTO \w+)"), "{0}"),
    (re.compile(r"^(UPDATE \w+|DELETE FROM \w+)"), "{0}"),
)


def label(sql: str) -> str:
    """What a statement does, without its values: ``INSERT INTO payments``, ``COMMIT``."""
    text = sql.strip()
    for pattern, form in _LABELS:
        found = pattern.match(text)
        if found:
            named = form.format(found.group(1))
            if "(SELECT body FROM events" in text:
                named += " (+ subquery on the event's body)"
            if "ON CONFLICT" in text:
                named += " (upsert)"
            return named
    return text.split(" /*")[0][:60]


# -- the section -------------------------------------------------------------------------------


def run(quick: bool) -> Section:
    rounds, creates, warm_up = QUICK if quick else FULL
    served_rounds, seconds, served_warm_up = SERVED_QUICK if quick else SERVED_FULL
    section = Section("db_write", "--db writes: SQLite store vs memory store")
    with tempfile.TemporaryDirectory(prefix="paysim-db-write-") as directory:
        served = measure_served(served_rounds, seconds, served_warm_up, Path(directory))
        measured = measure(rounds, creates, warm_up, Path(directory))
        profile = statement_profile(Path(directory))

    section.add(
        Figure.of_runs(
            "paysim serve --db / paysim serve, creates/s, 1 keep-alive connection",
            served.ratios(),
            "x",
            target=at_least(RATIO_TARGET),
        )
    )
    for store in STORES:
        section.add(
            Figure.of_runs(f"served {store} creates/s", served.per_second[store], "creates/s")
        )
    for store in STORES:
        section.add(
            Figure.of_runs(f"served {store} server CPU per create", served.cpu_us[store], "us")
        )
    served_extra = [
        sqlite - memory
        for sqlite, memory in zip(served.cpu_us["sqlite"], served.cpu_us["memory"], strict=True)
    ]
    section.add(Figure.of_runs("served sqlite extra server CPU per create", served_extra, "us"))
    section.add(
        Figure(
            "served SQLite file after the last round (WAL)",
            served.file_kib[-1] / 1024,
            "MiB",
            note=f"WAL {served.wal_kib[-1] / 1024:.1f} MiB",
        )
    )
    section.add(
        Figure.of_runs(
            "store alone, in process: creates/s ratio sqlite/memory (information)",
            measured.ratios(measured.per_second),
            "x",
        )
    )
    for store in STORES:
        section.add(
            Figure.of_runs(f"in process {store} creates/s", measured.per_second[store], "creates/s")
        )
    section.add(
        Figure.of_runs(
            "in process CPU ratio memory/sqlite (requesting thread)",
            measured.ratios(measured.thread_us, inverse=True),
            "x",
        )
    )
    section.add(
        Figure.of_runs(
            "in process CPU ratio memory/sqlite (whole process)",
            measured.ratios(measured.process_us, inverse=True),
            "x",
        )
    )
    for store in STORES:
        section.add(
            Figure.of_runs(
                f"in process {store} CPU per create (requesting thread)",
                measured.thread_us[store],
                "us",
            )
        )
    extra = [
        sqlite - memory
        for sqlite, memory in zip(
            measured.process_us["sqlite"], measured.process_us["memory"], strict=True
        )
    ]
    section.add(
        Figure.of_runs("in process sqlite extra CPU per create (whole process)", extra, "us")
    )
    for name, statements in profile.items():
        section.add(
            Figure(f"statements: {name}", len(statements), "statements", note=", ".join(statements))
        )
        section.notes.append(f"{name}: {len(statements)} statements: {', '.join(statements)}")

    median, low, high = summarize(served.ratios())
    in_process = summarize(measured.ratios(measured.per_second))
    section.notes[:0] = [
        f"{served_rounds} alternating rounds of {seconds:g} s per server after "
        f"{served_warm_up:g} s of warm-up each, paysim serve [--db FILE] in processes of "
        "their own, POST /v1/payments over one keep-alive connection (section 1's load "
        f"generator); creates/s ratio median {median:.2f}x (min {low:.2f}, max {high:.2f}); "
        f"SQLite file after each round (KiB): {served.file_kib}, its WAL: {served.wal_kib}",
        f"the store alone: {rounds} alternating rounds of {creates} creates per store after "
        f"{warm_up} warm-up creates each, POST /v1/payments through werkzeug's test Client in "
        f"this process with an Idempotency-Key; creates/s ratio median {in_process[0]:.2f}x "
        f"(min {in_process[1]:.2f}, max {in_process[2]:.2f}), information (no target)",
    ]
    section.details = {
        "served": {
            "rounds": served_rounds,
            "seconds": seconds,
            "warm_up_seconds": served_warm_up,
            "creates_per_second": served.per_second,
            "server_cpu_us_per_create": served.cpu_us,
            "file_kib": served.file_kib,
            "wal_kib": served.wal_kib,
        },
        "rounds": rounds,
        "creates_per_round": creates,
        "warm_up": warm_up,
        "creates_per_second": measured.per_second,
        "thread_cpu_us_per_create": measured.thread_us,
        "process_cpu_us_per_create": measured.process_us,
        "statements": profile,
    }
    return section


def main(argv: Sequence[str] | None = None) -> int:
    return section_main("db_write", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

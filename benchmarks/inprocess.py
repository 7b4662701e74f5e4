"""Section 4: the two in-process ways of calling the simulator, against werkzeug's test client.

Both figures compare the same calls, create a payment (manual capture) and pay it, with the
cheapest way there is to run them through the simulator's WSGI app: ``werkzeug.test.Client``,
in the test's own thread, no socket. What they price is what each way adds on top of the app.

1. ``paysim.client`` in a test suite. Three generated suites of 500 tests each run under
   ``pytest --paysim -p no:cacheprovider -q`` in subprocesses, in alternating rounds after
   one unmeasured warm-up run of each: ``client`` tests create and pay through
   ``paysim.client`` (``requests`` over a keep-alive socket to the session's server thread),
   ``werkzeug`` tests make the same two calls through a session-scoped
   ``werkzeug.test.Client(paysim_server.app)``, and ``empty`` tests make no call. Every test
   in all three requests the same fixtures (``paysim`` and the werkzeug client) and checks
   nothing else, so subtracting ``empty`` leaves the calls' cost. Per round:
   ratio = (client - empty) / (werkzeug - empty), in wall time and in CPU time (user + system
   of the pytest process, server thread included). Target: <= 3.
2. ``paysim.intercept`` per call. In one process, on one ``PaysimServer``: alternating rounds
   of N create + pay pairs through ``paysim.intercept`` from a plain ``requests.Session``
   (``trust_env=True``, as an application's session is), and the same N pairs through
   ``werkzeug.test.Client(server.app)``. Per round: ratio = intercept time / werkzeug time.
   Target: <= 2.

The former target "in-process flow >= 3 x the socket" is retired: see docs/performance.md::

    python -m benchmarks.inprocess --quick
    python -m benchmarks.inprocess --profile      # cProfile of create + pay through intercept
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import requests
from werkzeug.test import Client

from benchmarks.common import Figure, Section, at_most, section_main
from benchmarks.flow import CREATE_BODY
from benchmarks.plugin_overhead import TESTS_PER_FILE, time_pytest
from pytest_paysim.backends import LocalBackend
from pytest_paysim.handle import Paysim, TestSettings
from pytest_paysim.server import PaysimServer

__all__ = [
    "GATEWAY_URL",
    "main",
    "profile_intercept",
    "run",
    "time_intercept",
    "write_calls_suite",
]

GATEWAY_URL = "https://gw.example"
TARGET_CLIENT = 3.0
TARGET_INTERCEPT = 2.0

_CONFTEST = """\
import json
import time
from pathlib import Path

import pytest
from werkzeug.test import Client

BODY = {body!r}
SPENT = {{"wall": 0.0, "cpu": 0.0}}


@pytest.fixture(scope="session")
def wz(paysim_server):
    client = Client(paysim_server.app)
    client.auth = {{"Authorization": "Bearer " + paysim_server.api_key}}
    return client


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    SPENT["wall"] += time.perf_counter() - wall
    SPENT["cpu"] += time.process_time() - cpu


def pytest_sessionfinish(session):
    Path(__file__).with_name("spent.json").write_text(json.dumps(SPENT))
"""

_TESTS = {
    "empty": "    assert paysim is not None and wz is not None\n",
    "client": (
        "    created = paysim.client.post('/v1/payments', json=BODY)\n"
        "    assert created.status_code == 201\n"
        "    paid = paysim.client.post(\n"
        "        f\"/v1/payments/{created.json()['id']}/pay\", json={'outcome': 'succeed'}\n"
        "    )\n"
        "    assert paid.status_code == 200\n"
    ),
    "werkzeug": (
        "    created = wz.post('/v1/payments', json=BODY, headers=wz.auth)\n"
        "    assert created.status_code == 201\n"
        "    paid = wz.post(\n"
        "        f\"/v1/payments/{created.json['id']}/pay\",\n"
        "        json={'outcome': 'succeed'},\n"
        "        headers=wz.auth,\n"
        "    )\n"
        "    assert paid.status_code == 200\n"
    ),
}


def write_calls_suite(directory: Path, tests: int, kind: str) -> Path:
    """``tests`` tests of ``kind`` (empty, client, werkzeug) in files of 50."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (directory / "conftest.py").write_text(_CONFTEST.format(body=CREATE_BODY), encoding="utf-8")
    from_conftest = "from conftest import BODY  # noqa: F401\n\n\n"
    for first in range(0, tests, TESTS_PER_FILE):
        tests_text = [
            f"def test_{number:04d}(paysim, wz):\n{_TESTS[kind]}"
            for number in range(first, min(first + TESTS_PER_FILE, tests))
        ]
        (directory / f"test_calls_{first // TESTS_PER_FILE:03d}.py").write_text(
            from_conftest + "\n\n".join(tests_text), encoding="utf-8"
        )
    return directory


def _suite_figures(section: Section, quick: bool) -> None:
    tests, rounds, warm_up = (100, 1, 0) if quick else (500, 5, 1)
    kinds = ("empty", "client", "werkzeug")
    spent: dict[str, dict[str, list[float]]] = {
        clock: {kind: [] for kind in kinds} for clock in ("wall", "cpu", "run")
    }
    with tempfile.TemporaryDirectory(prefix="paysim-bench-") as temporary:
        suites = {kind: write_calls_suite(Path(temporary) / kind, tests, kind) for kind in kinds}
        for index in range(warm_up + rounds):
            order = kinds if index % 2 == 0 else tuple(reversed(kinds))
            for kind in order:
                elapsed, _ = time_pytest(suites[kind], plugin_on=True, expect_passed=tests)
                calls = json.loads((suites[kind] / "spent.json").read_text(encoding="utf-8"))
                if index >= warm_up:
                    spent["run"][kind].append(elapsed)
                    spent["wall"][kind].append(calls["wall"])
                    spent["cpu"][kind].append(calls["cpu"])
    target = at_most(TARGET_CLIENT, f"<= {TARGET_CLIENT:g} x werkzeug test client")
    for label, clock in (("CPU", "cpu"), ("wall", "wall"), ("whole run, wall", "run")):
        measured = spent[clock]
        per_test = {
            kind: [
                (t - e) / tests * 1000
                for t, e in zip(measured[kind], measured["empty"], strict=True)
            ]
            for kind in ("client", "werkzeug")
        }
        section.add(
            Figure.of_runs(f"paysim.client create+pay per test, {label}", per_test["client"], "ms")
        )
        section.add(
            Figure.of_runs(
                f"werkzeug test client create+pay per test, {label}", per_test["werkzeug"], "ms"
            )
        )
        ratios = [
            c / w if w > 0 else float("inf")
            for c, w in zip(per_test["client"], per_test["werkzeug"], strict=True)
        ]
        section.add(
            Figure.of_runs(
                f"paysim.client / werkzeug test client, suite, {label}",
                ratios,
                "x",
                target=target if clock != "run" else None,
            )
        )
    section.notes.append(
        f"Suite: 3 generated suites of {tests} tests (empty, paysim.client, werkzeug test "
        f"client), each test requesting `paysim` and a session-scoped werkzeug Client; "
        f"`pytest --paysim -p no:cacheprovider -q` in a subprocess, {rounds} alternating "
        f"round(s) after {warm_up} warm-up. The suites' conftest sums the time of every "
        "test's call phase (pytest_runtest_call: wall, and CPU of the whole pytest process, "
        f"the server thread included); per test = (suite - empty suite) / {tests}, and the "
        "ratio is taken within a round. 'whole run' subtracts the subprocesses' wall times "
        "instead (noisier: it adds start-up, collection and fixtures)."
    )


def _pair_requests(session: requests.Session, base: str) -> None:
    created = session.post(base + "/v1/payments", json=CREATE_BODY, timeout=10)
    if created.status_code != 201:
        raise AssertionError(f"create answered {created.status_code}: {created.text[:200]}")
    paid = session.post(
        f"{base}/v1/payments/{created.json()['id']}/pay", json={"outcome": "succeed"}, timeout=10
    )
    if paid.status_code != 200:
        raise AssertionError(f"pay answered {paid.status_code}: {paid.text[:200]}")


def _pair_werkzeug(client: Client, headers: dict[str, str]) -> None:
    created = client.post("/v1/payments", json=CREATE_BODY, headers=headers)
    if created.status_code != 201:
        raise AssertionError(f"create answered {created.status_code}")
    paid = client.post(
        f"/v1/payments/{(created.json or {})['id']}/pay",
        json={"outcome": "succeed"},
        headers=headers,
    )
    if paid.status_code != 200:
        raise AssertionError(f"pay answered {paid.status_code}")


def _timed(pairs: int, one: Callable[[], None]) -> tuple[float, float]:
    """Wall and process CPU seconds of ``pairs`` calls of ``one``."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(pairs):
        one()
    return time.perf_counter() - wall, time.process_time() - cpu


def time_intercept(
    rounds: int, pairs: int
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Wall and CPU seconds per create + pay pair, intercept and werkzeug, alternating."""
    intercepted: list[tuple[float, float]] = []
    direct: list[tuple[float, float]] = []
    with PaysimServer(seed=1) as server:
        assert server.app is not None
        paysim = Paysim(LocalBackend(server), TestSettings(seed=1))
        headers = {"Authorization": f"Bearer {server.api_key}"}
        client = Client(server.app)
        try:
            paysim.intercept(GATEWAY_URL)
            with requests.Session() as session:  # trust_env=True, as an application's
                session.headers.update(headers)

                def through_intercept() -> None:
                    _pair_requests(session, GATEWAY_URL)

                def through_werkzeug() -> None:
                    _pair_werkzeug(client, headers)

                for index in range(rounds + 1):  # round 0 warms both up
                    count = pairs if index else 20
                    paysim.reset()
                    seconds_i = _timed(count, through_intercept)
                    paysim.reset()
                    seconds_w = _timed(count, through_werkzeug)
                    if index:
                        intercepted.append((seconds_i[0] / count, seconds_i[1] / count))
                        direct.append((seconds_w[0] / count, seconds_w[1] / count))
        finally:
            paysim.close()
    return intercepted, direct


def _intercept_figures(section: Section, quick: bool) -> None:
    rounds, pairs = (2, 30) if quick else (9, 300)
    intercepted, direct = time_intercept(rounds, pairs)
    target = at_most(TARGET_INTERCEPT, f"<= {TARGET_INTERCEPT:g} x werkzeug test client")
    for label, clock in (("CPU", 1), ("wall", 0)):
        section.add(
            Figure.of_runs(
                f"paysim.intercept create+pay, {label}",
                [s[clock] * 1000 for s in intercepted],
                "ms per pair",
            )
        )
        section.add(
            Figure.of_runs(
                f"werkzeug test client create+pay, {label}",
                [s[clock] * 1000 for s in direct],
                "ms per pair",
            )
        )
        section.add(
            Figure.of_runs(
                f"paysim.intercept / werkzeug test client, {label}",
                [i[clock] / d[clock] for i, d in zip(intercepted, direct, strict=True)],
                "x",
                target=target,
            )
        )
    section.notes.append(
        f"Intercept: {rounds} alternating round(s) of {pairs} create + pay pairs each way in "
        f"one process; intercept = Paysim(LocalBackend(server)).intercept({GATEWAY_URL!r}) "
        "with a plain requests.Session (trust_env=True); werkzeug = "
        "werkzeug.test.Client(server.app); ratio taken within a round; CPU = process time."
    )


def run(quick: bool) -> Section:
    section = Section("inprocess", "In process: paysim.client and paysim.intercept vs werkzeug")
    _intercept_figures(section, quick)
    _suite_figures(section, quick)
    return section


def profile_intercept(count: int = 1000, top: int = 15) -> dict[str, str]:
    """cProfile of ``count`` create + pay pairs through ``intercept`` (all in this thread)."""
    from benchmarks.http_create import new_profiler, stats_text

    profiler = new_profiler()
    with PaysimServer(seed=1) as server:
        paysim = Paysim(LocalBackend(server), TestSettings(seed=1))
        paysim.intercept(GATEWAY_URL)
        try:
            with requests.Session() as session:
                session.headers["Authorization"] = f"Bearer {server.api_key}"
                for _ in range(50):
                    _pair_requests(session, GATEWAY_URL)
                paysim.reset()
                profiler.enable()
                for _ in range(count):
                    _pair_requests(session, GATEWAY_URL)
                profiler.disable()
        finally:
            paysim.close()
    header = (
        f"{count} create + pay pairs in process (requests -> private responses mock -> WSGI "
        "app; timer: process CPU time)\n"
    )
    return {key: header + text for key, text in stats_text(profiler, top).items()}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--profile"]:
        for key, text in profile_intercept().items():
            print(f"== sorted by {key} ==\n{text}")
        return 0
    return section_main("inprocess", run, args)


if __name__ == "__main__":
    raise SystemExit(main())

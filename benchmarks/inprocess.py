"""Section 4: in-process mode (``paysim.intercept``) against the socket, same flow.

``Paysim.intercept(base_url)`` routes ``requests`` calls through a private ``responses`` mock
straight into the WSGI app: no socket, no server thread. The same flow as section 2 runs both
ways on one ``PaysimServer``, in alternating rounds; the interception is stopped during the
socket rounds so they do not pay for the mock. Target: in-process >= 3 x socket::

    python -m benchmarks.inprocess --quick
    python -m benchmarks.inprocess --profile      # cProfile of creates through intercept
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from benchmarks.common import Figure, Section, at_least, section_main
from benchmarks.flow import CREATE_BODY, FlowRun, run_flows, session_for
from pytest_paysim.backends import LocalBackend
from pytest_paysim.handle import Paysim, TestSettings
from pytest_paysim.server import PaysimServer

__all__ = ["GATEWAY_URL", "main", "profile_create", "run"]

GATEWAY_URL = "https://gw.example"
TARGET_SPEEDUP = 3.0


def run(quick: bool) -> Section:
    section = Section("inprocess", "In-process (paysim.intercept) vs socket, full flow")
    rounds, flows = (1, 20) if quick else (5, 300)
    socket_runs: list[FlowRun] = []
    inprocess_runs: list[FlowRun] = []
    with PaysimServer(seed=1) as server:
        paysim = Paysim(LocalBackend(server), TestSettings(seed=1))
        try:
            with session_for(server.api_key) as session:
                for index in range(rounds + 1):  # round 0 warms both paths up
                    paysim.reset()
                    done = run_flows(session, server.url, flows if index else 10)
                    if index:
                        socket_runs.append(done)
                    paysim.reset()
                    paysim.intercept(GATEWAY_URL)
                    try:
                        done = run_flows(session, GATEWAY_URL, flows if index else 10)
                    finally:
                        paysim.close()
                    if index:
                        inprocess_runs.append(done)
        finally:
            paysim.close()
    section.add(Figure.of_runs("socket flows/s", [r.per_second for r in socket_runs], "flows/s"))
    section.add(
        Figure.of_runs("in-process flows/s", [r.per_second for r in inprocess_runs], "flows/s")
    )
    section.add(Figure.of_runs("socket p50 flow latency", [r.p50_ms for r in socket_runs], "ms"))
    section.add(
        Figure.of_runs("in-process p50 flow latency", [r.p50_ms for r in inprocess_runs], "ms")
    )
    ratios = [
        i.per_second / s.per_second if s.per_second else 0.0
        for i, s in zip(inprocess_runs, socket_runs, strict=True)
    ]
    section.add(
        Figure.of_runs(
            "speed-up in-process/socket",
            ratios,
            "x",
            target=at_least(TARGET_SPEEDUP, f">= {TARGET_SPEEDUP:g} x socket"),
        )
    )
    section.notes.append(
        f"{rounds} alternating round(s) of {flows} flows each way, one requests.Session; "
        f"in-process = Paysim(LocalBackend(server), TestSettings(seed=1)).intercept"
        f"({GATEWAY_URL!r})."
    )
    return section


def profile_create(count: int = 2000, top: int = 15) -> dict[str, str]:
    """cProfile of ``count`` creates through ``intercept`` (client and app in this thread)."""
    from benchmarks.http_create import new_profiler, stats_text

    profiler = new_profiler()
    with PaysimServer(seed=1) as server:
        paysim = Paysim(LocalBackend(server), TestSettings(seed=1))
        paysim.intercept(GATEWAY_URL)
        try:
            with session_for(server.api_key) as session:
                url = GATEWAY_URL + "/v1/payments"
                for _ in range(50):
                    session.post(url, json=CREATE_BODY, timeout=10)
                profiler.enable()
                for _ in range(count):
                    response = session.post(url, json=CREATE_BODY, timeout=10)
                profiler.disable()
                if response.status_code != 201:
                    raise AssertionError(f"create answered {response.status_code}")
        finally:
            paysim.close()
    header = (
        f"{count} creates in process (requests -> responses mock -> WSGI app; "
        "timer: process CPU time)\n"
    )
    return {key: header + text for key, text in stats_text(profiler, top).items()}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--profile"]:
        for key, text in profile_create().items():
            print(f"== sorted by {key} ==\n{text}")
        return 0
    return section_main("inprocess", run, args)


if __name__ == "__main__":
    raise SystemExit(main())

"""Section 2: the full flow over HTTP — create (manual capture) → pay → capture → refund.

One ``requests.Session`` (the way an application's client talks to a gateway) runs flows one
after the other against a ``PaysimServer``; each answer is checked, so a broken flow stops the
benchmark instead of timing errors. Figures: flows/s and p50 flow latency, median of 3 runs::

    python -m benchmarks.flow --quick
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import requests

from benchmarks.common import PAYMENT_BODY, Figure, Section, percentile, section_main
from pytest_paysim.server import PaysimServer

__all__ = ["FlowRun", "main", "one_flow", "run", "run_flows", "session_for"]

CREATE_BODY: dict[str, Any] = {**PAYMENT_BODY, "capture_method": "manual"}


class FlowError(AssertionError):
    """The simulator answered something a correct flow never gets."""


def session_for(api_key: str) -> requests.Session:
    """A ``requests`` session with the API key, ignoring proxy settings of the environment."""
    session = requests.Session()
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {api_key}"
    return session


def _check(response: requests.Response, status: int, field: str, value: Any) -> dict[str, Any]:
    if response.status_code != status:
        raise FlowError(
            f"{response.request.method} {response.url}: {response.status_code} "
            f"{response.text[:300]}"
        )
    data: dict[str, Any] = response.json()
    if data.get(field) != value:
        raise FlowError(f"{response.url}: {field} is {data.get(field)!r}, not {value!r}")
    return data


def one_flow(session: requests.Session, base_url: str) -> None:
    """Create a manual-capture payment, pay it, capture it, refund it all."""
    payment = _check(
        session.post(base_url + "/v1/payments", json=CREATE_BODY, timeout=10),
        201,
        "status",
        "requires_payment_method",
    )
    url = f"{base_url}/v1/payments/{payment['id']}"
    _check(
        session.post(url + "/pay", json={"outcome": "succeed"}, timeout=10),
        200,
        "status",
        "authorized",
    )
    _check(session.post(url + "/capture", json={}, timeout=10), 200, "status", "captured")
    _check(session.post(url + "/refund", json={}, timeout=10), 201, "status", "succeeded")


class FlowRun:
    """Flows/s and per-flow latencies of one run."""

    def __init__(self, flows: int, seconds: float, latencies: list[float]) -> None:
        self.flows = flows
        self.seconds = seconds
        self.latencies = latencies

    @property
    def per_second(self) -> float:
        return self.flows / self.seconds if self.seconds > 0 else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000


def run_flows(session: requests.Session, base_url: str, flows: int) -> FlowRun:
    """``flows`` complete flows, one after the other."""
    latencies = []
    began = time.perf_counter()
    for _ in range(flows):
        start = time.perf_counter()
        one_flow(session, base_url)
        latencies.append(time.perf_counter() - start)
    return FlowRun(flows, time.perf_counter() - began, latencies)


def run(quick: bool) -> Section:
    section = Section("flow", "Full flow over HTTP (create, pay, capture, refund)")
    repeats, flows = (1, 20) if quick else (3, 300)
    runs: list[FlowRun] = []
    with PaysimServer(seed=1) as server:
        assert server.simulator is not None
        with session_for(server.api_key) as session:
            run_flows(session, server.url, max(5, flows // 10))  # warm-up
            for _ in range(repeats):
                server.simulator.reset()
                runs.append(run_flows(session, server.url, flows))
    section.add(Figure.of_runs("flows/s", [r.per_second for r in runs], "flows/s"))
    section.add(Figure.of_runs("p50 flow latency", [r.p50_ms for r in runs], "ms"))
    section.add(
        Figure.of_runs("requests/s (4 per flow)", [4 * r.per_second for r in runs], "req/s")
    )
    section.notes.append(
        f"{repeats} run(s) of {flows} sequential flows on one requests.Session (one "
        "keep-alive connection); state reset before each run."
    )
    return section


def main(argv: Sequence[str] | None = None) -> int:
    return section_main("flow", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

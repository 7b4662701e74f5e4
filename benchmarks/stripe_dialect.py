"""Section 9: the Stripe dialect — create throughput against the bare werkzeug app, and the
full create → confirm → capture → refund flow through the official ``stripe`` package against
localstripe.

Every server runs in a process of its own, as a user starts it: ``paysim serve`` (both
dialects on one port), the bare app (``python -m benchmarks.bare_app``) and localstripe. Each
round runs every load once, in the same order, state emptied before each; a ratio is taken
within a round, and each figure is the median of the rounds with their min and max.

- **Create.** Raw HTTP from section 1's load generator (``wrk`` when present, else the
  ``http.client`` one in a subprocess), one connection: ``POST /stripe/v1/payment_intents``
  form-encoded as the ``stripe`` package encodes it (the amount, currency, description and
  metadata of section 1's JSON body), over one keep-alive connection and asked to close each
  time; the bare app's ``POST
  /v1/payments`` (its werkzeug development server closes every connection); and the native
  ``POST /v1/payments`` on the same ``paysim serve``. Target: the dialect >= 0.7 x bare.
- **Flow.** The same client code for both servers: a ``stripe.StripeClient`` whose
  ``base_addresses`` point at the server, over one ``requests.Session`` (keep-alive, proxy
  settings of the environment ignored), no retries. A flow is create (``pm_card_visa``, manual
  capture) → confirm → capture → refund by ``payment_intent``, each answer checked. Target:
  paysim >= 10 x localstripe's flows/s. The CPU time each server process spends per flow
  (``/proc/<pid>/stat``) and the client's own CPU per flow are shown too: on one connection a
  flow's wall time is the client's CPU plus the server's plus any wait for a core, so the
  server's CPU is what compares the servers on a loaded machine. Two more figures say what the
  machine allows: the server CPU per flow of the four-client runs (a busy server), and the
  ceiling, the flows/s ratio a server costing no CPU at all would get here (the CPUs it may run on
  divided by the client's CPU per flow, over localstripe's four-client flows/s), since the
  client processes share the cores with the server they measure.

localstripe is installed by this section into its own venv (``.bench-venvs/localstripe``,
git-ignored; reused on later runs) and started on loopback; if it cannot be installed, or
``PAYSIM_BENCH_NO_LOCALSTRIPE=1`` is set, the section says so and still gives paysim's
figures::

    python -m benchmarks.stripe_dialect --quick
    python -m benchmarks.stripe_dialect --profile          # server side of flows and creates
    python -m benchmarks.stripe_dialect --flows URL API_KEY N   # N flows, prints JSON
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from benchmarks.common import (
    PAYMENT_BODY,
    Figure,
    Section,
    at_least,
    percentile,
    process_cpu_seconds,
    section_main,
)
from benchmarks.http_create import (
    BARE_COMMAND,
    NATIVE_CREATE,
    SERVE_COMMAND,
    CreateRequest,
    LoadResult,
    ServerProcess,
    load,
    new_profiler,
    profile_create,
    profile_served,
    stats_text,
)
from pytest_paysim.stripe import forms

if TYPE_CHECKING:
    import stripe

__all__ = [
    "LOCALSTRIPE_REQUIREMENT",
    "STRIPE_CREATE",
    "ConcurrentRun",
    "FlowRun",
    "localstripe_python",
    "main",
    "one_flow",
    "profile_flow",
    "run",
    "run_concurrent_flows",
    "run_flows",
    "stripe_client",
]

REPO = Path(__file__).resolve().parent.parent
VENV_DIR = REPO / ".bench-venvs" / "localstripe"
LOCALSTRIPE_REQUIREMENT = "localstripe==1.15.10"
"""Pinned: the flow below is written to what this version supports."""
INSTALL_TIMEOUT = 300.0
SKIP_VARIABLE = "PAYSIM_BENCH_NO_LOCALSTRIPE"
TARGET_CREATE_RATIO = 0.7
TARGET_FLOW_RATIO = 10.0
STRIPE_PREFIX = "/stripe"
AMOUNT = PAYMENT_BODY["amount"]

STRIPE_CREATE = CreateRequest(
    path="/v1/payment_intents",
    body=forms.encode(PAYMENT_BODY),
    content_type="application/x-www-form-urlencoded",
    status=200,
)
"""Section 1's create, as the ``stripe`` package would send it (bracket notation)."""

FLOW_CREATE: dict[str, Any] = {
    "amount": AMOUNT,
    "currency": PAYMENT_BODY["currency"],
    "payment_method": "pm_card_visa",
    "capture_method": "manual",
    "metadata": PAYMENT_BODY["metadata"],
}
"""The flow's create. Not ``description`` (localstripe answers 400 "Unexpected description"),
and the payment method at create, not at confirm (localstripe's confirm answers 500 "Not
implemented" to ``payment_method``)."""

# Started with localstripe's own venv python: bound to loopback only, port 0 (``localstripe
# --port P`` binds every interface), no access log (its CLI logs each request to stderr: left
# out, in localstripe's favour), and its store pickled after each change exactly as it does,
# but into this run's own file instead of its fixed /tmp/localstripe.pickle.
_LAUNCHER = """\
import pickle, socket, sys
from aiohttp import web
from localstripe import resources, server

def dump_to_disk(store):
    with open(sys.argv[1], "wb") as f:
        pickle.dump(store, f, protocol=pickle.HIGHEST_PROTOCOL)

resources.Store.dump_to_disk = dump_to_disk
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
sock.listen(128)
print(f"url: http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
print("api key: sk_test_localstripe", flush=True)
web.run_app(server.app, sock=sock, access_log=None, print=None)
"""


class FlowError(AssertionError):
    """A server answered something a correct flow never gets."""


# -- localstripe -------------------------------------------------------------------------------


def localstripe_python(*, install: bool = True) -> tuple[Path | None, str]:
    """The python of a venv where localstripe is installed, and a note saying how it was got
    (or why there is none): ``.bench-venvs/localstripe``, made and filled on first use."""
    if os.environ.get(SKIP_VARIABLE) == "1":
        return None, f"localstripe not run: {SKIP_VARIABLE}=1."
    python = VENV_DIR / "bin" / "python"
    if _imports_localstripe(python):
        return python, f"localstripe {_version(python)} from {VENV_DIR.relative_to(REPO)}."
    if not install:
        return None, f"localstripe is not installed in {VENV_DIR.relative_to(REPO)}."
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", "--clear", str(VENV_DIR)],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=True,
        )
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                LOCALSTRIPE_REQUIREMENT,
            ],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=True,
        )
    except subprocess.CalledProcessError as error:
        tail = " | ".join((error.stderr or error.stdout or "").strip().splitlines()[-3:])
        return None, f"localstripe could not be installed ({' '.join(error.cmd[-2:])}): {tail}"
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"localstripe could not be installed: {error}"
    if not _imports_localstripe(python):
        return None, f"localstripe was installed into {VENV_DIR} but does not import."
    return python, (
        f"localstripe {_version(python)} installed into {VENV_DIR.relative_to(REPO)} by this run."
    )


def _imports_localstripe(python: Path) -> bool:
    if not python.exists():
        return False
    done = subprocess.run(
        [str(python), "-c", "import aiohttp, localstripe.server"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    return done.returncode == 0


def _version(python: Path) -> str:
    done = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('localstripe'))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout.strip() or "(version unknown)"


def flush_localstripe(url: str) -> None:
    """Empty localstripe's store (``DELETE /_config/data``); waits up to 30 s for it to
    answer, so this is also the check that it is serving."""
    parts = urlsplit(url)
    deadline = time.monotonic() + 30.0
    while True:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=10)
        try:
            connection.request("DELETE", "/_config/data")
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise FlowError(f"localstripe answered {response.status} to a flush")
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        finally:
            connection.close()


# -- the flow ----------------------------------------------------------------------------------


def stripe_client(base_url: str, api_key: str) -> stripe.StripeClient:
    """The client of both servers: ``StripeClient`` on one ``requests.Session``, no retries."""
    import stripe

    session = requests.Session()
    session.trust_env = False
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": base_url},
        http_client=stripe.RequestsClient(session=session),
        max_network_retries=0,
    )


def _expect(name: str, value: Any, wanted: Any) -> None:
    if value != wanted:
        raise FlowError(f"{name} is {value!r}, not {wanted!r}")


def one_flow(client: stripe.StripeClient) -> None:
    """Create (manual capture, ``pm_card_visa``), confirm, capture, refund it all."""
    intents = client.v1.payment_intents
    intent = intents.create(params=FLOW_CREATE)  # type: ignore[arg-type]
    _expect("status after create", intent.status, "requires_confirmation")
    intent = intents.confirm(intent.id)
    _expect("status after confirm", intent.status, "requires_capture")
    intent = intents.capture(intent.id)
    _expect("status after capture", intent.status, "succeeded")
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})
    _expect("refund status", refund.status, "succeeded")
    _expect("refund amount", refund.amount, AMOUNT)


@dataclass
class FlowRun:
    """``flows`` sequential flows: wall time, each one's latency, and CPU seconds spent by the
    client (this process) and by the server's process."""

    flows: int
    seconds: float
    latencies: list[float]
    client_cpu: float
    server_cpu: float

    @property
    def per_second(self) -> float:
        return self.flows / self.seconds if self.seconds > 0 else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def client_ms_per_flow(self) -> float:
        return self.client_cpu / self.flows * 1000

    @property
    def server_ms_per_flow(self) -> float:
        return self.server_cpu / self.flows * 1000

    def summary(self) -> dict[str, float]:
        """The run's figures, for the section's JSON."""
        return {
            "flows": self.flows,
            "seconds": self.seconds,
            "per_second": self.per_second,
            "p50_ms": self.p50_ms,
            "client_ms_per_flow": self.client_ms_per_flow,
            "server_ms_per_flow": self.server_ms_per_flow,
        }


def run_flows(client: stripe.StripeClient, flows: int, server_pid: int | None = None) -> FlowRun:
    """``flows`` complete flows, one after the other."""
    latencies = []
    server_began = process_cpu_seconds(server_pid) if server_pid else 0.0
    client_began = time.process_time()
    began = time.perf_counter()
    for _ in range(flows):
        start = time.perf_counter()
        one_flow(client)
        latencies.append(time.perf_counter() - start)
    seconds = time.perf_counter() - began
    client_cpu = time.process_time() - client_began
    server_cpu = process_cpu_seconds(server_pid) - server_began if server_pid else 0.0
    return FlowRun(flows, seconds, latencies, client_cpu, server_cpu)


FLOW_TIMEOUT = 300.0
"""Seconds a client process may take for its flows."""
CONCURRENT_CLIENTS = 4
"""Client processes of the concurrent flows: enough to keep a server busy on 2 cores while
each client waits for its answers."""


@dataclass
class ConcurrentRun:
    """Flows from several client processes at once: throughput, and the server's CPU."""

    flows: int
    seconds: float
    server_cpu: float

    @property
    def per_second(self) -> float:
        return self.flows / self.seconds if self.seconds > 0 else 0.0

    @property
    def server_ms_per_flow(self) -> float:
        return self.server_cpu / self.flows * 1000


def run_concurrent_flows(
    url: str, api_key: str, clients: int, flows_each: int, server_pid: int | None = None
) -> ConcurrentRun:
    """``clients`` processes, each with its own ``StripeClient`` and connection, run
    ``flows_each`` flows at once after a warm-up; the time is from the first one's start to the
    last one's end (each reports its own), so starting Python is not counted."""
    command = [sys.executable, "-m", "benchmarks.stripe_dialect", "--flows-on-cue"]
    command += [url, api_key, str(flows_each)]
    processes = [
        subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(clients)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise FlowError("a client process did not get ready")
        server_began = process_cpu_seconds(server_pid) if server_pid else 0.0
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        reports = []
        for process in processes:
            out, _ = process.communicate(timeout=FLOW_TIMEOUT)
            if process.returncode != 0:
                raise FlowError(f"a client process failed ({process.returncode})")
            reports.append(json.loads(out.strip().splitlines()[-1]))
        server_cpu = process_cpu_seconds(server_pid) - server_began if server_pid else 0.0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(5)
    seconds = max(r["ended"] for r in reports) - min(r["began"] for r in reports)
    return ConcurrentRun(clients * flows_each, seconds, server_cpu)


# -- the section -------------------------------------------------------------------------------


def run(quick: bool) -> Section:
    """Alternating rounds of the create loads, then of the flows on paysim and localstripe."""
    section = Section(
        "stripe_dialect", "Stripe dialect: create vs bare werkzeug, SDK flow vs localstripe"
    )
    # Quick: 20 flows, so the server's CPU (counted in 10 ms ticks) is more than a tick or two.
    rounds, seconds, flows, batches = (1, 1.0, 20, 0) if quick else (5, 3.0, 100, 3)
    creates = _create_rounds(section, rounds, seconds)
    try:
        import stripe  # noqa: F401
    except ImportError:
        section.notes.append(
            "the `stripe` package is not installed (pip install -e '.[test]'): no flow figures."
        )
        section.details["creates"] = creates
        return section
    python, how = localstripe_python()
    section.notes.append(how if python else f"{how} The flow figures are paysim's alone.")
    section.details = {
        "creates": creates,
        "flows": _flow_rounds(section, python, rounds, flows, batches),
    }
    return section


def _create_rounds(section: Section, rounds: int, seconds: float) -> dict[str, Any]:
    loads = {
        "stripe": (STRIPE_PREFIX, STRIPE_CREATE, False),
        "stripe close": (STRIPE_PREFIX, STRIPE_CREATE, True),
        "native": ("", NATIVE_CREATE, False),
    }
    results: dict[str, list[LoadResult]] = {}
    with ServerProcess(SERVE_COMMAND) as serve, ServerProcess(BARE_COMMAND) as bare:
        for prefix, request, close in loads.values():
            load(serve.url + prefix, serve.api_key, 1, 1.0, close=close, request=request)
        load(bare.url, bare.api_key, 1, 1.0)
        for _ in range(rounds):
            for name, (prefix, request, close) in loads.items():
                serve.reset()
                results.setdefault(name, []).append(
                    load(
                        serve.url + prefix, serve.api_key, 1, seconds, close=close, request=request
                    )
                )
            results.setdefault("bare", []).append(load(bare.url, bare.api_key, 1, seconds))

    def ratios(name: str, baseline: str) -> list[float]:
        pairs = zip(results[name], results[baseline], strict=True)
        return [s.rps / b.rps if b.rps else 0.0 for s, b in pairs]

    def speed(name: str, label: str) -> None:
        runs = results[name]
        section.add(Figure.of_runs(f"{label} creates/s", [r.rps for r in runs], "req/s"))
        section.add(Figure.of_runs(f"{label} p50", [r.p50_ms for r in runs], "ms"))

    speed("stripe", "Stripe create, 1 keep-alive connection,")
    speed("bare", "bare app, 1 connection (closed each time),")
    section.add(
        Figure.of_runs(
            "ratio Stripe create keep-alive / bare",
            ratios("stripe", "bare"),
            "x",
            target=at_least(TARGET_CREATE_RATIO, f">= {TARGET_CREATE_RATIO} x bare"),
        )
    )
    speed("stripe close", "Stripe create asked to close,")
    section.add(
        Figure.of_runs(
            "ratio Stripe create / bare, both closing",
            ratios("stripe close", "bare"),
            "x",
            target=at_least(TARGET_CREATE_RATIO, f">= {TARGET_CREATE_RATIO} x bare"),
        )
    )
    speed("native", "native create on the same server, keep-alive,")
    section.add(
        Figure.of_runs("ratio Stripe create / native create", ratios("stripe", "native"), "x")
    )
    tool = results["bare"][0].tool
    section.notes.append(
        f"creates: raw HTTP, not the SDK (its client CPU would bound the figure, and the bare app "
        f"speaks JSON): load generator {tool}, 1 connection, {rounds} alternating round(s) of "
        f"{seconds} s per load; `paysim serve` and the bare app each in a process of its own; "
        "state emptied before each paysim load; no Idempotency-Key sent."
    )
    failures = {name: sum(r.errors + r.non_2xx for r in runs) for name, runs in results.items()}
    if any(failures.values()):
        section.notes.append(f"errors or unexpected statuses during the create loads: {failures}")
    return {
        "tool": tool,
        "failures": failures,
        "runs": {
            name: [r.__dict__ | {"rps": r.rps} for r in runs] for name, runs in results.items()
        },
    }


def _flow_rounds(
    section: Section, python: Path | None, rounds: int, flows: int, batches: int
) -> dict[str, Any]:
    results: dict[str, list[FlowRun]] = {"paysim": [], "localstripe": []}
    concurrent: dict[str, list[ConcurrentRun]] = {"paysim": [], "localstripe": []}
    flows_each = max(5, flows // CONCURRENT_CLIENTS)  # as many flows as a sequential round
    with (
        tempfile.TemporaryDirectory(prefix="paysim-bench-") as scratch,
        ServerProcess(SERVE_COMMAND) as serve,
        contextlib.ExitStack() as stack,
    ):
        paysim = stripe_client(serve.url + STRIPE_PREFIX, serve.api_key)
        run_flows(paysim, max(5, flows // 10))  # warm-up
        other: tuple[stripe.StripeClient, ServerProcess] | None = None
        if python is not None:
            command = [str(python), "-c", _LAUNCHER, str(Path(scratch) / "store.pickle")]
            try:
                localstripe = stack.enter_context(ServerProcess(command))
                flush_localstripe(localstripe.url)
            except (OSError, RuntimeError, FlowError) as error:
                section.notes.append(f"localstripe did not start: {error}")
            else:
                other = (stripe_client(localstripe.url, localstripe.api_key), localstripe)
                run_flows(other[0], max(5, flows // 10))  # warm-up

        def paysim_round() -> None:
            serve.reset()
            results["paysim"].append(run_flows(paysim, flows, serve.pid))
            serve.reset()
            concurrent["paysim"].append(
                run_concurrent_flows(
                    serve.url + STRIPE_PREFIX,
                    serve.api_key,
                    CONCURRENT_CLIENTS,
                    flows_each,
                    serve.pid,
                )
            )

        def localstripe_round() -> None:
            if other is None:
                return
            flush_localstripe(other[1].url)
            results["localstripe"].append(run_flows(other[0], flows, other[1].pid))
            flush_localstripe(other[1].url)
            concurrent["localstripe"].append(
                run_concurrent_flows(
                    other[1].url,
                    other[1].api_key,
                    CONCURRENT_CLIENTS,
                    flows_each,
                    other[1].pid,
                )
            )

        for number in range(rounds):
            # Which server goes first alternates, so a busy moment falls on both alike.
            order = (paysim_round, localstripe_round)
            for one_round in order if number % 2 == 0 else order[::-1]:
                one_round()
        growing: dict[str, list[FlowRun]] = {"paysim": [], "localstripe": []}
        if other is not None and batches:
            # The same flows again, state kept from one batch to the next, as in a suite that
            # never resets: how each server's pace changes as its store grows.
            serve.reset()
            flush_localstripe(other[1].url)
            for _ in range(batches):
                growing["paysim"].append(run_flows(paysim, flows, serve.pid))
                growing["localstripe"].append(run_flows(other[0], flows, other[1].pid))
    paysim_runs, other_runs = results["paysim"], results["localstripe"]
    section.add(
        Figure.of_runs(
            "paysim flows/s (stripe SDK)", [r.per_second for r in paysim_runs], "flows/s"
        )
    )
    section.add(Figure.of_runs("paysim p50 flow", [r.p50_ms for r in paysim_runs], "ms"))
    if other_runs:
        section.add(
            Figure.of_runs(
                "localstripe flows/s (stripe SDK)", [r.per_second for r in other_runs], "flows/s"
            )
        )
        section.add(Figure.of_runs("localstripe p50 flow", [r.p50_ms for r in other_runs], "ms"))
        section.add(
            Figure.of_runs(
                "ratio flows/s paysim / localstripe, 1 client",
                _paired_ratios(paysim_runs, other_runs, "per_second"),
                "x",
            )
        )
    many = f"{CONCURRENT_CLIENTS} clients"
    section.add(
        Figure.of_runs(
            f"paysim flows/s, {many}", [r.per_second for r in concurrent["paysim"]], "flows/s"
        )
    )
    if concurrent["localstripe"]:
        section.add(
            Figure.of_runs(
                f"localstripe flows/s, {many}",
                [r.per_second for r in concurrent["localstripe"]],
                "flows/s",
            )
        )
        section.add(
            Figure.of_runs(
                f"ratio flows/s paysim / localstripe, {many}",
                _paired_ratios(concurrent["paysim"], concurrent["localstripe"], "per_second"),
                "x",
                target=at_least(TARGET_FLOW_RATIO, f">= {TARGET_FLOW_RATIO:g} x localstripe"),
            )
        )
        section.add(
            Figure.of_runs(
                f"ratio server CPU per flow localstripe / paysim, {many}",
                _paired_ratios(
                    concurrent["localstripe"], concurrent["paysim"], "server_ms_per_flow"
                ),
                "x",
            )
        )
        # What the target asks of a server on this machine: the client processes share its
        # cores, so paysim's flows/s can never pass the cores' worth of the client's own CPU.
        cores = len(os.sched_getaffinity(0)) or 1
        section.add(
            Figure.of_runs(
                f"ceiling ratio, a server costing nothing ({cores} CPUs / client CPU "
                "per flow / localstripe flows/s)",
                [
                    cores / (p.client_cpu / p.flows) / o.per_second if o.per_second else 0.0
                    for p, o in zip(paysim_runs, concurrent["localstripe"], strict=True)
                ],
                "x",
            )
        )
    section.add(
        Figure.of_runs(
            "paysim server CPU per flow", [r.server_ms_per_flow for r in paysim_runs], "ms"
        )
    )
    if other_runs:
        section.add(
            Figure.of_runs(
                "localstripe server CPU per flow", [r.server_ms_per_flow for r in other_runs], "ms"
            )
        )
        section.add(
            Figure.of_runs(
                "ratio server CPU per flow localstripe / paysim",
                _paired_ratios(other_runs, paysim_runs, "server_ms_per_flow"),
                "x",
            )
        )
    section.add(
        Figure.of_runs(
            "client (stripe SDK) CPU per flow, against paysim",
            [r.client_ms_per_flow for r in paysim_runs],
            "ms",
        )
    )
    if growing["localstripe"]:
        last = f"flows {(batches - 1) * flows + 1}-{batches * flows}"
        mine, theirs = growing["paysim"][-1], growing["localstripe"][-1]
        section.add(Figure(f"paysim flows/s, {last} without a reset", mine.per_second, "flows/s"))
        section.add(
            Figure(f"localstripe flows/s, {last} without a flush", theirs.per_second, "flows/s")
        )
        section.add(
            Figure(
                f"ratio flows/s paysim / localstripe, {last}",
                mine.per_second / theirs.per_second if theirs.per_second else math.nan,
                "x",
            )
        )
        paces = ", ".join(
            f"{p.per_second:.1f} / {o.per_second:.1f}"
            for p, o in zip(growing["paysim"], growing["localstripe"], strict=True)
        )
        section.notes.append(
            f"as the store grows ({batches} batches of {flows} flows after one reset, no reset "
            f"between them), flows/s paysim / localstripe per batch: {paces}."
        )
    section.notes.append(
        f"flows: {rounds} alternating round(s) of {flows} sequential flows per server (create "
        "with pm_card_visa and manual capture, confirm, capture, refund by payment_intent), one "
        "StripeClient per server on one requests.Session, no retries; paysim reset and "
        "localstripe's store flushed (DELETE /_config/data) before each round, since "
        "localstripe pickles its whole store to disk on every change and slows as it grows."
    )
    section.notes.append(
        f"concurrent flows: {CONCURRENT_CLIENTS} client processes at once, {flows_each} flows "
        "each, every process its own StripeClient and connection; flows/s from the first "
        "start to the last end. One client waits for each answer, so its flows/s is its own "
        "CPU plus the server's; with several, the server is kept busy, which is what a "
        "server's flows/s measures. The target applies to this figure."
    )
    return {
        "concurrent": {
            name: [
                {"flows": r.flows, "seconds": r.seconds, "server_cpu": r.server_cpu} for r in runs
            ]
            for name, runs in concurrent.items()
        },
        "rounds": {name: [r.summary() for r in runs] for name, runs in results.items()},
        "growing": {name: [r.summary() for r in runs] for name, runs in growing.items()},
    }


# -- profile -----------------------------------------------------------------------------------


def _paired_ratios(tops: Sequence[Any], bottoms: Sequence[Any], figure: str) -> list[float]:
    """``figure`` of each round's top run over the same round's bottom run (0 where the bottom
    measured nothing)."""
    ratios = []
    for top, bottom in zip(tops, bottoms, strict=True):
        below = getattr(bottom, figure)
        ratios.append(getattr(top, figure) / below if below else 0.0)
    return ratios


def profile_flow(flows: int = 300, top: int = 20) -> dict[str, str]:
    """cProfile of the server side of ``flows`` flows through the ``stripe`` package over one
    keep-alive connection (as :func:`benchmarks.http_create.profile_create` does for creates)."""
    profiler = new_profiler()
    output = profile_served(
        profiler,
        lambda url, api_key: [
            "benchmarks.stripe_dialect",
            "--flows",
            url + STRIPE_PREFIX,
            api_key,
            str(flows),
        ],
    )
    figures = json.loads(output.strip().splitlines()[-1])
    header = (
        f"{figures['flows']} Stripe flows (create, confirm, capture, refund) through the stripe "
        "package over one keep-alive connection, profiled server side (timer: process CPU)\n"
    )
    return {key: header + text for key, text in stats_text(profiler, top).items()}


def profile() -> dict[str, str]:
    """The server side of Stripe flows, and of Stripe creates (raw HTTP)."""
    texts = {f"flow, {key}": text for key, text in profile_flow().items()}
    for key, text in profile_create(request=STRIPE_CREATE, prefix=STRIPE_PREFIX).items():
        texts[f"create, {key}"] = text
    return texts


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--flows-on-cue"]:
        url, api_key, count = args[1:4]
        client = stripe_client(url, api_key)
        run_flows(client, 5)  # warm-up: connection, imports, caches
        print("ready", flush=True)
        sys.stdin.readline()
        began = time.time()
        run_flows(client, int(count))
        print(json.dumps({"began": began, "ended": time.time()}), flush=True)
        return 0
    if args[:1] == ["--flows"]:
        url, api_key, count = args[1:4]
        done = run_flows(stripe_client(url, api_key), int(count))
        print(json.dumps({"flows": done.flows, "seconds": done.seconds}))
        return 0
    if args[:1] == ["--profile"]:
        for key, text in profile().items():
            print(f"== {key} ==\n{text}")
        return 0
    return section_main("stripe_dialect", run, args)


if __name__ == "__main__":
    raise SystemExit(main())

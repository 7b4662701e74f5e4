"""Seeds and xdist: the same ids on every run, alone or not, and one server per worker."""

from __future__ import annotations

import re

import pytest
from plugin_support import Runner, free_port_pair, header_line

IDS = """
import pytest

from paysim_out import record


def ids_of(paysim, paysim_server):
    payment = paysim.create_payment(amount=1000, currency="usd", simulate="auto")
    if payment["status"] == "failed":
        payment = paysim.pay(payment["id"])
    refund = paysim.refund(payment["id"], amount=10)
    events = paysim.client.get("/v1/events").json()["data"]
    endpoint = paysim.add_webhook_endpoint("http://127.0.0.1:9/hooks")
    auto = [paysim.create_payment(amount=5, currency="usd", simulate="auto")["status"]
            for _ in range(6)]
    return {
        "ids": [payment["id"], payment["client_secret"], refund["id"], endpoint["id"],
                *[event["id"] for event in events]],
        "secrets": [endpoint["secret"], paysim_server.api_key, paysim_server.webhook_secret],
        "auto": auto,
    }


@pytest.mark.parametrize("name", ["alpha", "beta"])
def test_ids(paysim, paysim_server, name):
    values = ids_of(paysim, paysim_server)
    print(name, values["ids"])
    record(name, values)


def test_gamma(paysim, paysim_server):
    record("gamma", ids_of(paysim, paysim_server))
"""

OTHERS = """
def test_busy_before(paysim):
    for _ in range(5):
        paysim.pay(paysim.create_payment(amount=5, currency="usd")["id"])
"""


def test_a_seed_reproduces_every_id(run: Runner) -> None:
    run.pytester.makepyfile(test_ids=IDS)
    names = ("alpha", "beta", "gamma")

    def recorded() -> dict[str, dict[str, list[str]]]:
        values = {name: run.recorded(name) for name in names}
        run.clear()
        return values

    first = run("--paysim", "--paysim-seed", "7", "-s")
    first.assert_outcomes(passed=3)
    first.stdout.fnmatch_lines(["*alpha ['pay_*', 'pay_*_secret_*', 're_*', 'we_*', 'evt_*"])
    seven = recorded()
    assert seven["alpha"]["ids"] != seven["beta"]["ids"]  # each test has its own generator
    # The ids are what the gateway's formats say.
    assert all(
        re.fullmatch(r"(pay|re|we|evt)_[0-9A-Za-z]{24}", i) for i in seven["alpha"]["ids"][2:]
    )

    # Again, with another module running first.
    run.pytester.makepyfile(test_aaa_others=OTHERS)
    again = run("--paysim", "--paysim-seed", "7")
    again.assert_outcomes(passed=4)
    assert recorded() == seven

    # A test alone gives what it gave in the full run.
    alone = run("--paysim", "--paysim-seed", "7", "test_ids.py::test_gamma")
    alone.assert_outcomes(passed=1)
    assert run.recorded("gamma") == seven["gamma"]
    run.clear()

    # Under xdist too.
    spread = run("--paysim", "--paysim-seed", "7", "-n", "2", xdist=True)
    spread.assert_outcomes(passed=4)
    assert recorded() == seven

    other = run("--paysim", "--paysim-seed", "8")
    other.assert_outcomes(passed=4)
    eight = recorded()
    for name in names:
        assert not set(eight[name]["ids"]) & set(seven[name]["ids"])
        assert not set(eight[name]["secrets"]) & set(seven[name]["secrets"])


WORKERS = """
import os

import pytest
import requests

from paysim_out import record

IMPORTED_URL = os.environ["PAYSIM_URL"]


@pytest.mark.parametrize("n", range(6))
def test_worker(paysim, paysim_server, n):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    assert IMPORTED_URL == os.environ["PAYSIM_URL"] == paysim_server.url
    assert requests.get(paysim_server.url + "/health").status_code == 200
    payment = paysim.create_payment(amount=5, currency="usd")
    assert [p["id"] for p in paysim.payments()] == [payment["id"]]
    record(f"test{n}", {"worker": worker, "url": paysim_server.url, "seed": paysim_server.seed})
"""


def test_one_server_per_worker_none_on_the_controller(
    run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As when this suite itself runs under xdist: the outer worker's variable is inherited.
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    port = free_port_pair()
    run.pytester.makepyfile(test_workers=WORKERS)
    result = run("--paysim", "-n", "2", "--paysim-port", str(port), xdist=True)
    result.assert_outcomes(passed=6)
    header = header_line(result)
    found = re.fullmatch(
        r"paysim: one server per xdist worker, seed=(\d+) signature=paysim", header
    )
    assert found, header
    records = [run.recorded(f"test{n}") for n in range(6)]
    assert {r["worker"] for r in records} == {"gw0", "gw1"}
    for record in records:
        # A fixed port is offset by the worker number; the controller held none of them.
        assert record["url"] == f"http://127.0.0.1:{port + int(record['worker'][2:])}"
        # The random seed the controller printed is every worker's.
        assert record["seed"] == int(found[1])

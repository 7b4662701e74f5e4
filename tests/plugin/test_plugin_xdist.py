"""Seeds and xdist: the same ids on every run, alone or not, and one server per worker."""

from __future__ import annotations

import re

import pytest

from tests.support.ids import ID_CHARS
from tests.support.plugin import Runner, free_port_pair, header_line

# Inline: four lines whose only point is to run (and draw ids) before test_ids.py.
OTHERS = """
def test_busy_before(paysim):
    for _ in range(5):
        paysim.pay(paysim.create_payment(amount=5, currency="usd")["id"])
"""


def test_a_seed_reproduces_every_id(run: Runner) -> None:
    run.pytester.copy_example("xdist_ids")
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
    assert all(re.fullmatch(rf"(pay|re|we|evt)_{ID_CHARS}", i) for i in seven["alpha"]["ids"][2:])

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


def test_one_server_per_worker_none_on_the_controller(
    run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As when this suite itself runs under xdist: the outer worker's variable is inherited.
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    port = free_port_pair()
    run.pytester.copy_example("xdist_workers")
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

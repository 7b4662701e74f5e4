"""Section 5: what the plugin costs a consumer's test suite.

A generated suite of 500 trivial tests runs twice under ``pytest --paysim -p no:cacheprovider
-q`` in a subprocess: once with every test requesting the ``paysim`` fixture (a reset before,
checks after), once without. The suites' ``conftest.py`` sums the time of each test's whole
run protocol (setup, call, teardown: where the fixture's work is), but the first test's (which
starts the session's server); per-test overhead = (sum with - sum without) / 499. The same
difference of the whole subprocesses' times, which adds start-up and collection and swings by
a second on a shared machine, is kept as information ("whole run"). Session
start overhead = ``pytest --paysim`` minus ``pytest`` (plugin off) on a 1-test suite (a test
that requests no fixture, so only starting and stopping the server differs). Rounds alternate
the configurations after one unmeasured warm-up run of each (which also writes the ``.pyc``
files); each figure is the median of the per-round differences::

    python -m benchmarks.plugin_overhead --quick
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import Figure, Section, at_most, section_main

__all__ = ["main", "run", "time_pytest", "write_suite"]

TESTS_PER_FILE = 50
TARGET_PER_TEST_MS = 1.0
TARGET_SESSION_S = 0.3


_CONFTEST = """\
import json
import time
from pathlib import Path

import pytest

SPENT = {"wall": 0.0, "cpu": 0.0, "tests": 0}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    SPENT["tests"] += 1
    if SPENT["tests"] > 1:  # the first one starts the session's server
        SPENT["wall"] += time.perf_counter() - wall
        SPENT["cpu"] += time.process_time() - cpu


def pytest_sessionfinish(session):
    Path(__file__).with_name("spent.json").write_text(json.dumps(SPENT))
"""


def write_suite(directory: Path, tests: int, *, fixture: bool) -> Path:
    """``tests`` trivial tests in files of 50, each requesting ``paysim`` when ``fixture``; its
    ``conftest.py`` writes the time of the tests' protocols but the first to ``spent.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (directory / "conftest.py").write_text(_CONFTEST, encoding="utf-8")
    argument = "paysim" if fixture else ""
    for first in range(0, tests, TESTS_PER_FILE):
        lines = []
        for number in range(first, min(first + TESTS_PER_FILE, tests)):
            lines.append(
                f"def test_{number:04d}({argument}):\n    assert {number} + 1 > {number}\n"
            )
        (directory / f"test_generated_{first // TESTS_PER_FILE:03d}.py").write_text(
            "\n\n".join(lines), encoding="utf-8"
        )
    return directory


def _environment() -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PAYSIM_", "PYTEST_", "COV_"))
    }
    env["PYTHONHASHSEED"] = "0"
    return env


def time_pytest(directory: Path, *, plugin_on: bool, expect_passed: int) -> tuple[float, float]:
    """Wall and CPU seconds of one ``pytest`` run in ``directory``; checks every test passed."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    if plugin_on:
        command.insert(3, "--paysim")
    cpu_before = _children_cpu()
    began = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=directory,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    elapsed = time.perf_counter() - began
    cpu = _children_cpu() - cpu_before
    passed = re.search(r"(\d+) passed", done.stdout)
    if done.returncode != 0 or passed is None or int(passed.group(1)) != expect_passed:
        raise RuntimeError(
            f"pytest in {directory} did not pass {expect_passed} tests "
            f"(exit {done.returncode}):\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}"
        )
    return elapsed, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(quick: bool) -> Section:
    section = Section("plugin_overhead", "Plugin overhead on a consumer suite")
    tests, rounds, warm_up = (100, 1, 0) if quick else (500, 5, 1)
    with tempfile.TemporaryDirectory(prefix="paysim-bench-") as temporary:
        root = Path(temporary)
        with_fixture = write_suite(root / "with_fixture", tests, fixture=True)
        without = write_suite(root / "without_fixture", tests, fixture=False)
        single = write_suite(root / "one_test", 1, fixture=False)
        configs = {
            "with": (with_fixture, True, tests),
            "without": (without, True, tests),
            "on": (single, True, 1),
            "off": (single, False, 1),
        }
        times: dict[str, list[float]] = {name: [] for name in configs}
        cpu: dict[str, list[float]] = {name: [] for name in configs}
        spent: dict[str, list[dict[str, float]]] = {"with": [], "without": []}
        for index in range(warm_up + rounds):
            for name in _order(configs, index):
                directory, plugin_on, passed = configs[name]
                elapsed, used = time_pytest(directory, plugin_on=plugin_on, expect_passed=passed)
                if index >= warm_up:
                    times[name].append(elapsed)
                    cpu[name].append(used)
                    if name in spent:
                        spent[name].append(json.loads((directory / "spent.json").read_text()))
    per_test_target = at_most(TARGET_PER_TEST_MS, f"<= {TARGET_PER_TEST_MS:g} ms")
    session_target = at_most(TARGET_SESSION_S, f"<= {TARGET_SESSION_S:g} s")
    for label, key in (("wall", "wall"), ("CPU", "cpu")):
        pairs = zip(spent["with"], spent["without"], strict=True)
        per_test = [(w[key] - wo[key]) / (tests - 1) * 1000 for w, wo in pairs]
        section.add(
            Figure.of_runs(
                f"per-test overhead, {label} (paysim fixture)",
                per_test,
                "ms",
                target=per_test_target,
            )
        )
    pairs = zip(times["with"], times["without"], strict=True)
    section.add(
        Figure.of_runs(
            "per-test overhead, whole run, wall (information)",
            [(w - wo) / tests * 1000 for w, wo in pairs],
            "ms",
        )
    )
    for label, measured in (("wall", times), ("CPU", cpu)):
        session = [on - off for on, off in zip(measured["on"], measured["off"], strict=True)]
        section.add(
            Figure.of_runs(
                f"session start overhead, {label} (--paysim)", session, "s", target=session_target
            )
        )
    section.add(Figure.of_runs(f"{tests} tests with fixture", times["with"], "s"))
    section.add(Figure.of_runs(f"{tests} tests without fixture", times["without"], "s"))
    section.add(Figure.of_runs("1 test, --paysim", times["on"], "s"))
    section.add(Figure.of_runs("1 test, plugin off", times["off"], "s"))
    section.notes.append(
        f"{tests} generated tests; `pytest [--paysim] -p no:cacheprovider -q` in a subprocess; "
        f"{rounds} alternating round(s) after {warm_up} warm-up run(s) of each, every other "
        "round in the reverse order; differences are taken within a round. Per-test overhead: "
        "the suites' conftest sums each test's runtest protocol (setup, call, teardown) but "
        "the first's, in wall time and in CPU time of the pytest process (server threads "
        "included); 'whole run' and the session figures time the subprocesses."
    )
    return section


def _order(configs: dict[str, object], index: int) -> list[str]:
    """The configurations in their order, reversed every other round."""
    names = list(configs)
    return names if index % 2 == 0 else names[::-1]


def main(argv: Sequence[str] | None = None) -> int:
    return section_main("plugin_overhead", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

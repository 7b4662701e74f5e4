"""``python -m benchmarks``: every section, one table, one JSON file.

Each section runs in its own subprocess (``python -m benchmarks.<name>``), so one section's
heap, threads and RSS never colour another's, and writes ``<results-dir>/<name>.json``; this
script collects them into ``benchmarks/results/latest.json`` and prints one table with the
target and PASS/MISS next to each figure. ``benchmarks/growth.py`` and
``benchmarks/webhooks.py`` (written separately) are run the same way when they exist, with
the options they accept, and skipped with a note when they do not::

    python -m benchmarks                     # everything (several minutes)
    python -m benchmarks --quick             # a fast smoke run
    python -m benchmarks --only memory,flow  # some sections
    python -m benchmarks --profile           # cProfile of the create path and the Stripe dialect

Figures are never asserted on by tests; the machine is small and shared, so each one is a
ratio against a baseline run in the same invocation or a median with its min and max.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import DEFAULT_RESULTS_DIR, machine_info, print_table, write_json

__all__ = ["SECTIONS", "main"]

PACKAGE_DIR = Path(__file__).resolve().parent
REPO = PACKAGE_DIR.parent


@dataclass(frozen=True)
class SectionSpec:
    number: int
    name: str
    title: str


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(1, "http_create", "HTTP create: simulator vs bare werkzeug app"),
    SectionSpec(2, "flow", "Full flow over HTTP (create, pay, capture, refund)"),
    SectionSpec(3, "growth", "Create latency as the store grows"),
    SectionSpec(4, "inprocess", "In process: paysim.client and paysim.intercept vs werkzeug"),
    SectionSpec(5, "plugin_overhead", "Plugin overhead on a consumer suite"),
    SectionSpec(6, "webhooks", "Webhook delivery latency and throughput"),
    SectionSpec(7, "memory", "Memory per complete flow, and what a reset frees"),
    SectionSpec(8, "db_write", "SQLite store writes against the memory store"),
    SectionSpec(
        9,
        "stripe_dialect",
        "Stripe dialect: create vs bare werkzeug, SDK flow vs localstripe",
    ),
)
NAMES = tuple(spec.name for spec in SECTIONS)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Run the pytest-paysim benchmarks."
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME[,NAME]",
        help=f"run only these sections ({', '.join(NAMES)}); may be repeated",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=DEFAULT_RESULTS_DIR,
        help="where each section writes <name>.json",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="the combined JSON (default: <results-dir>/latest.json)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per section (default 300 quick, 1800 full)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the create path (HTTP and in process) and the Stripe dialect instead",
    )
    args = parser.parse_args(argv)
    only = [name.strip() for item in args.only for name in item.split(",") if name.strip()]
    unknown = sorted(set(only) - set(NAMES))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    args.only = only
    return args


def _run_section(
    spec: SectionSpec, *, quick: bool, results_dir: Path, timeout: float
) -> dict[str, Any]:
    """Run one section in a subprocess and read the JSON it wrote."""
    record: dict[str, Any] = {"number": spec.number, "section": spec.name, "title": spec.title}
    if not (PACKAGE_DIR / f"{spec.name}.py").exists():
        record.update(
            status="skipped",
            figures=[],
            notes=[f"benchmarks/{spec.name}.py is missing; section skipped."],
        )
        return record
    command = [sys.executable, "-m", f"benchmarks.{spec.name}"]
    quick_flag = ["--quick"] if quick else []
    # Sections written elsewhere may not take every option: drop what they refuse.
    attempts = [[*quick_flag, "--results-dir", str(results_dir)], quick_flag, []]
    started = time.time()
    try:
        for options in attempts:
            done = _call(command + options, timeout)
            if done.returncode != 2 or "unrecognized arguments" not in done.stderr:
                break
    except subprocess.TimeoutExpired:
        record.update(status="failed", figures=[], notes=[f"timed out after {timeout:.0f} s"])
        return record
    record["seconds"] = round(time.time() - started, 1)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-12:]
        record.update(
            status="failed",
            figures=[],
            notes=[f"exit status {done.returncode}: " + " | ".join(tail)],
        )
        return record
    data = _fresh_results(spec, results_dir, started)
    if data is None:
        record.update(
            status="failed", figures=[], notes=[f"{spec.name}.json was not written by this run"]
        )
        return record
    record.update(_normalize(data, spec))
    record["status"] = "ok"
    return record


def _call(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )


def _fresh_results(spec: SectionSpec, results_dir: Path, started: float) -> Any:
    for directory in dict.fromkeys((results_dir, DEFAULT_RESULTS_DIR)):
        path = directory / f"{spec.name}.json"
        if path.exists() and path.stat().st_mtime >= started - 1:
            return json.loads(path.read_text(encoding="utf-8"))
    return None


def _normalize(data: Any, spec: SectionSpec) -> dict[str, Any]:
    """Our section format as is; any other JSON becomes one figure per numeric leaf."""
    if (
        isinstance(data, dict)
        and isinstance(data.get("figures"), list)
        and all(
            isinstance(item, dict) and "name" in item and "value" in item
            for item in data["figures"]
        )
    ):
        result = dict(data)
        result["title"] = data.get("title") or spec.title
        result.setdefault("notes", [])
        return result
    figures = [
        {
            "name": name,
            "value": value,
            "unit": "",
            "min": None,
            "max": None,
            "target": None,
            "status": None,
        }
        for name, value in _leaves(data)
    ][:40]
    return {"title": spec.title, "figures": figures, "notes": [], "raw": data}


def _leaves(data: Any, prefix: str = "") -> list[tuple[str, float]]:
    if isinstance(data, bool):
        return []
    if isinstance(data, (int, float)):
        return [(prefix or "value", float(data))]
    if isinstance(data, dict):
        found = []
        for key, value in data.items():
            if key in ("machine", "quick"):
                continue
            found += _leaves(value, f"{prefix}.{key}" if prefix else str(key))
        return found
    if isinstance(data, list) and len(data) <= 10:
        found = []
        for index, value in enumerate(data):
            found += _leaves(value, f"{prefix}[{index}]")
        return found
    return []


def _summary(sections: dict[str, dict[str, Any]]) -> dict[str, Any]:
    statuses = [
        figure.get("status")
        for section in sections.values()
        for figure in section.get("figures", [])
    ]
    return {
        "pass": statuses.count("PASS"),
        "miss": statuses.count("MISS"),
        "skipped": [name for name, s in sections.items() if s.get("status") == "skipped"],
        "failed": [name for name, s in sections.items() if s.get("status") == "failed"],
    }


def profile(results_dir: Path) -> int:
    """cProfile of the create path, over HTTP (server side) and in process, and of the Stripe
    dialect's flow and create (server side)."""
    from benchmarks import http_create, inprocess, stripe_dialect

    parts = []
    for label, texts in (
        ("create path HTTP (server side)", http_create.profile_create()),
        ("create path in process (intercept)", inprocess.profile_intercept()),
        ("Stripe dialect (server side)", stripe_dialect.profile()),
    ):
        for key, text in texts.items():
            parts.append(f"===== {label}, {key} =====\n{text}")
    report = "\n".join(parts)
    print(report)
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "profile.txt").write_text(report, encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    results_dir: Path = args.results_dir
    if args.profile:
        return profile(results_dir)
    output: Path = args.output or results_dir / "latest.json"
    timeout = args.timeout or (300.0 if args.quick else 1800.0)
    chosen = [spec for spec in SECTIONS if not args.only or spec.name in args.only]
    began = time.time()
    machine = machine_info()
    sections: dict[str, dict[str, Any]] = {}
    for index, spec in enumerate(chosen, 1):
        print(f"[{index}/{len(chosen)}] {spec.number}. {spec.title} ...", flush=True)
        record = _run_section(spec, quick=args.quick, results_dir=results_dir, timeout=timeout)
        sections[spec.name] = record
        print(f"      {record['status']} ({record.get('seconds', 0)} s)", flush=True)
    print()
    print_table(list(sections.values()))
    data = {
        "quick": args.quick,
        "machine": machine,
        "loadavg_after": machine_info()["loadavg"],
        "seconds": round(time.time() - began, 1),
        "sections": sections,
        "summary": _summary(sections),
    }
    write_json(output, data)
    summary = data["summary"]
    print(
        f"\n{summary['pass']} PASS, {summary['miss']} MISS"
        + (f", skipped: {', '.join(summary['skipped'])}" if summary["skipped"] else "")
        + (f", failed: {', '.join(summary['failed'])}" if summary["failed"] else "")
        + f"; written to {output}"
    )
    print(
        f"machine: {machine['cpus']} CPUs, load average {machine['loadavg']} at start; "
        "figures are provisional on a shared machine, ratios are what matter."
    )
    return 1 if summary["failed"] else 0

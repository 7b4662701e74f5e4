"""What every benchmark section shares: figures with targets, statistics, the table, JSON.

The machine is small (2 cores) and shared, so a figure is either a ratio against a baseline
measured in the same invocation or the median of several runs with its min and max shown.
Nothing here asserts on time; a section reports PASS or MISS next to its target::

    section = Section("flow", "Full flow over HTTP")
    section.add(Figure("flows/s", median_of(runs), "flows/s", runs=runs, target=at_least(50)))
    write_section(section, results_dir)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler

__all__ = [
    "DEFAULT_RESULTS_DIR",
    "PAYMENT_BODY",
    "Figure",
    "QuietHandler",
    "Section",
    "Target",
    "at_least",
    "at_most",
    "machine_info",
    "percentile",
    "print_table",
    "process_cpu_seconds",
    "read_rss_bytes",
    "section_main",
    "summarize",
    "write_json",
]

DEFAULT_RESULTS_DIR = Path(__file__).resolve().parent / "results"

PAYMENT_BODY: dict[str, Any] = {
    "amount": 1999,
    "currency": "usd",
    "description": "Benchmark order 1042",
    "metadata": {"order_id": "1042", "customer": "bench"},
}
"""The body every create request sends (the bare app parses and answers the same)."""


class QuietHandler(WSGIRequestHandler):
    """No request log lines (what ``PaysimServer`` uses too)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        pass


# -- statistics --------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (0 to 100) of ``values``."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summarize(values: Iterable[float]) -> tuple[float, float, float]:
    """Median, min and max (NaN for no values)."""
    items = [v for v in values if not math.isnan(v)]
    if not items:
        return math.nan, math.nan, math.nan
    return statistics.median(items), min(items), max(items)


# -- figures and sections ----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """``value >= bound`` or ``value <= bound``."""

    op: str
    bound: float
    text: str

    def met(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return value >= self.bound if self.op == ">=" else value <= self.bound


def at_least(bound: float, text: str = "") -> Target:
    return Target(">=", bound, text or f">= {_fmt(bound)}")


def at_most(bound: float, text: str = "") -> Target:
    return Target("<=", bound, text or f"<= {_fmt(bound)}")


@dataclass
class Figure:
    """One measured figure: the median of ``runs`` (or one value), and its target."""

    name: str
    value: float
    unit: str
    runs: list[float] = field(default_factory=list)
    target: Target | None = None
    note: str = ""

    @classmethod
    def of_runs(
        cls,
        name: str,
        runs: Sequence[float],
        unit: str,
        *,
        target: Target | None = None,
        note: str = "",
    ) -> Figure:
        """The median of ``runs``, keeping each run for min and max."""
        median, _, _ = summarize(runs)
        return cls(name, median, unit, list(runs), target, note)

    @property
    def status(self) -> str:
        if self.target is None:
            return ""
        return "PASS" if self.target.met(self.value) else "MISS"

    def to_dict(self) -> dict[str, Any]:
        _, low, high = summarize(self.runs) if self.runs else (self.value,) * 3
        return {
            "name": self.name,
            "value": _json_number(self.value),
            "unit": self.unit,
            "min": _json_number(low),
            "max": _json_number(high),
            "runs": [_json_number(v) for v in self.runs],
            "target": None
            if self.target is None
            else {"op": self.target.op, "value": self.target.bound, "text": self.target.text},
            "status": self.status or None,
            "note": self.note,
        }


@dataclass
class Section:
    """The figures of one numbered section of the benchmark table."""

    name: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    quick: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.name,
            "title": self.title,
            "quick": self.quick,
            "figures": [figure.to_dict() for figure in self.figures],
            "notes": list(self.notes),
            "details": self.details,
        }


def _json_number(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 6)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


# -- output ------------------------------------------------------------------------------------


def print_table(sections: Sequence[dict[str, Any]], *, file: Any = None) -> None:
    """One table of every section's figures (as written to JSON), then the notes."""
    out = file or sys.stdout
    header = ("figure", "median", "min", "max", "unit", "target", "result")
    rows: list[tuple[str, ...] | str] = []
    for number, section in enumerate(sections, 1):
        label = section.get("number", number)
        rows.append(f"{label}. {section.get('title', section.get('section', '?'))}")
        for figure in section.get("figures", []):
            target = figure.get("target") or {}
            rows.append(
                (
                    "  " + str(figure.get("name", "?")),
                    _fmt(figure.get("value")),
                    _fmt(figure.get("min")),
                    _fmt(figure.get("max")),
                    str(figure.get("unit", "")),
                    str(target.get("text", "")),
                    str(figure.get("status") or ""),
                )
            )
    widths = [len(h) for h in header]
    for row in rows:
        if isinstance(row, tuple):
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    line = "  ".join(
        h.ljust(w) if i in (0, 4, 5, 6) else h.rjust(w)
        for i, (h, w) in enumerate(zip(header, widths, strict=True))
    )
    print(line, file=out)
    print("-" * len(line), file=out)
    for row in rows:
        if isinstance(row, str):
            print(row, file=out)
            continue
        print(
            "  ".join(
                cell.ljust(w) if i in (0, 4, 5, 6) else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ),
            file=out,
        )
    notes = [
        (section.get("title", "?"), note)
        for section in sections
        for note in section.get("notes", [])
    ]
    if notes:
        print("\nNotes:", file=out)
        for title, note in notes:
            print(f"- [{title}] {note}", file=out)


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, creating the directory; atomic on the same disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    temporary.replace(path)


def machine_info() -> dict[str, Any]:
    """CPU count, load average and versions, to read the figures against."""
    try:
        load = list(os.getloadavg())
    except OSError:
        load = []
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg": [round(v, 2) for v in load],
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def read_rss_bytes() -> int:
    """Resident set size of this process, from ``/proc/self/statm``."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` (all its threads), from ``/proc``."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def section_main(
    name: str, run: Callable[[bool], Section], argv: Sequence[str] | None = None
) -> int:
    """``python -m benchmarks.<name> [--quick] [--results-dir D]``: run, print, write JSON."""
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{name}")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR)
    args = parser.parse_args(argv)
    section = run(args.quick)
    section.quick = args.quick
    data = section.to_dict()
    data["machine"] = machine_info()
    write_json(args.results_dir / f"{name}.json", data)
    print_table([data])
    return 0

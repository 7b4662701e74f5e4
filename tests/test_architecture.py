"""The layout keeps its promises: the core is a boundary, and data flows one way.

- ``pytest_paysim.core`` imports nothing from a package above it (only the core itself, the
  error tree and the version), so HTTP, pytest and the webhook sender can change freely.
- No module outside the core reaches into the simulator: no private member of it (``_lock``,
  ``_store``, ``_keys``, ...) and none of the names the old design exposed (``lock``,
  ``store``, ``idempotency``) is read from a simulator anywhere else. Front ends call its
  methods.
- The native app and the pages do not import each other's modules in a cycle: the pages know
  nothing of the app.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pytest_paysim

PACKAGE = Path(pytest_paysim.__file__).parent
CORE = PACKAGE / "core"
ALLOWED_IN_CORE = ("pytest_paysim.core", "pytest_paysim.errors", "pytest_paysim._version")
SIMULATOR_NAMES = {"sim", "simulator"}
FORBIDDEN = {"lock", "store", "idempotency"}


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("path", _modules(CORE), ids=lambda path: path.name)
def test_the_core_imports_nothing_above_it(path: Path) -> None:
    ours = {name for name in _imports(path) if name.startswith("pytest_paysim")}
    outside = sorted(name for name in ours if not name.startswith(ALLOWED_IN_CORE))
    assert outside == [], f"{path.name} imports {outside}"


def _is_simulator(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in SIMULATOR_NAMES
    if isinstance(node, ast.Attribute):
        return node.attr in SIMULATOR_NAMES
    return False


OUTSIDE_CORE = [path for path in _modules(PACKAGE) if CORE not in path.parents]


@pytest.mark.parametrize("path", OUTSIDE_CORE, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_front_end_reaches_into_the_simulator(path: Path) -> None:
    reached = [
        f"line {node.lineno}: .{node.attr}"
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Attribute)
        and _is_simulator(node.value)
        and (node.attr.startswith("_") or node.attr in FORBIDDEN)
    ]
    assert reached == [], f"{path.name} reaches into the simulator: {reached}"


def test_the_pages_know_nothing_of_the_app() -> None:
    assert "pytest_paysim.http.app" not in _imports(PACKAGE / "http" / "pages.py")


def test_the_checker_sees_what_it_forbids(tmp_path: Path) -> None:
    """The walk above would flag a reach into the simulator (so its silence means something)."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f(ctx):\n    with ctx.sim._lock:\n        return ctx.sim.store\n")
    tree = ast.parse(sample.read_text())
    flagged = [
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and _is_simulator(node.value)
        and (node.attr.startswith("_") or node.attr in FORBIDDEN)
    ]
    assert sorted(flagged) == ["_lock", "store"]

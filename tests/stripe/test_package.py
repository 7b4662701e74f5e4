"""The ``pytest_paysim.stripe`` package as a whole: public names, docs that run, pure imports."""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import sys
from pathlib import Path
from types import ModuleType

import pytest

import pytest_paysim.stripe

BUILDING_BLOCKS = [
    "pytest_paysim.stripe",
    "pytest_paysim.stripe.cards",
    "pytest_paysim.stripe.errors",
    "pytest_paysim.stripe.forms",
    "pytest_paysim.stripe.objects",
]
FRONT_END = [
    "pytest_paysim.stripe.app",
    "pytest_paysim.stripe.events",
    "pytest_paysim.stripe.routes",
    "pytest_paysim.stripe.resources",
    "pytest_paysim.stripe.resources.charges",
    "pytest_paysim.stripe.resources.common",
    "pytest_paysim.stripe.resources.customers",
    "pytest_paysim.stripe.resources.events",
    "pytest_paysim.stripe.resources.payment_intents",
    "pytest_paysim.stripe.resources.payment_methods",
    "pytest_paysim.stripe.resources.refunds",
    "pytest_paysim.stripe.resources.webhook_endpoints",
    "pytest_paysim.stripe.views",
]
"""The dialect's front end over the core: it may import the core and the native front end's
shared pieces (credentials, the body limit), never the SDK or pytest."""
MODULES = BUILDING_BLOCKS + FRONT_END
PACKAGE = Path(pytest_paysim.stripe.__file__).parent

ALLOWED_IMPORTS = (
    "__future__",
    "pytest_paysim.errors",
    "pytest_paysim.core.cards",
    "pytest_paysim.stripe",
)
"""What the dialect's building blocks may import besides the standard library: no HTTP code,
no werkzeug, no SDK (``stripe`` is an optional extra)."""


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    if name.isupper() or (name.upper() == name and "_" in name):
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def test_every_module_is_listed() -> None:
    found = {_name(path) for path in PACKAGE.rglob("*.py")}
    assert found == set(MODULES)


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("pytest_paysim", "stripe", *parts))


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_resolves_and_is_documented(name: str) -> None:
    module = _module(name)
    assert module.__doc__
    names = list(module.__all__)
    assert names == sorted(names, key=_isort_key)
    for public in names:
        value = getattr(module, public)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert value.__doc__, f"{name}.{public} has no docstring of its own"


@pytest.mark.parametrize("name", BUILDING_BLOCKS)
def test_the_examples_in_the_docstrings_run(name: str) -> None:
    result = doctest.testmod(_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def _path(name: str) -> Path:
    parts = name.split(".")[2:]
    package = PACKAGE.joinpath(*parts)
    return package / "__init__.py" if package.is_dir() else package.with_suffix(".py")


@pytest.mark.parametrize(
    "path", [_path(name) for name in FRONT_END], ids=lambda path: str(path.relative_to(PACKAGE))
)
def test_the_front_end_imports_no_sdk_and_no_pytest(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            assert not module.startswith(("stripe", "pytest_paysim.plugin", "pytest")) or (
                module.startswith("pytest_paysim.") and "plugin" not in module
            ), module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.partition(".")[0] not in ("stripe", "pytest"), alias.name


@pytest.mark.parametrize(
    "path", [_path(name) for name in BUILDING_BLOCKS], ids=lambda path: path.name
)
def test_imports_are_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "absolute imports only"
            modules = [node.module or ""]
        else:
            continue
        for module in modules:
            top = module.partition(".")[0]
            assert top in sys.stdlib_module_names or module.startswith(ALLOWED_IMPORTS), module

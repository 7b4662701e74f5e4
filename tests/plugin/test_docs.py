"""The usage guide's examples run as tests, the guide names every option and fixture, and
its test card table is the one in ``core/cards.py``.

Each example in ``docs/usage.md`` is a fenced ``python`` block whose first line is
``# test: <name>``; all of them run in one ``pytest --paysim`` subprocess.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from pytest_paysim import plugin
from pytest_paysim.core.cards import DECLINE_MESSAGES, TEST_CARDS
from tests.support.plugin import Runner

USAGE = Path(__file__).resolve().parents[2] / "docs" / "usage.md"
EXAMPLE = re.compile(r"^```python\n# test: (\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def examples() -> dict[str, str]:
    """The named examples of the guide: name → code."""
    found: dict[str, str] = {}
    for name, code in EXAMPLE.findall(USAGE.read_text()):
        assert name not in found, f"two examples are named {name!r}"
        found[name] = code
    return found


def test_every_python_block_is_a_named_example() -> None:
    blocks = re.findall(r"^```python$", USAGE.read_text(), re.MULTILINE)
    assert len(blocks) == len(examples()) >= 15


def _test_count(code: str) -> int:
    tree = ast.parse(code)
    return sum(
        isinstance(node, ast.FunctionDef) and node.name.startswith("test_") for node in tree.body
    )


def test_the_examples_pass(run: Runner) -> None:
    found = examples()
    run.pytester.makepyfile(**{f"test_doc_{name}": code for name, code in found.items()})
    result = run("--paysim")
    result.assert_outcomes(passed=sum(_test_count(code) for code in found.values()))


class _Options:
    """Stands in for pytest's parser to collect what the plugin registers."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def getgroup(self, *args: Any) -> _Options:
        return self

    def addoption(self, *names: str, **kwargs: Any) -> None:
        self.names.extend(names)

    def addini(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.names.append(name)


def _registered() -> list[str]:
    options = _Options()
    plugin.pytest_addoption(options)  # type: ignore[arg-type]
    return options.names


SHOWN = (
    "paysim_server",
    "paysim_stripe",
    "paysim_webhooks",
    "@pytest.mark.paysim",
    *sorted(plugin.MARKER_ARGUMENTS),
    "PAYSIM_URL",
    "PAYSIM_STRIPE_URL",
    "PAYSIM_API_KEY",
    "PAYSIM_PUBLISHABLE_KEY",
    "PAYSIM_WEBHOOK_SECRET",
    "PAYSIM_WEBHOOK_PUBLIC_KEY",
    "force_outcome",
    "force_refund_outcome",
    "inject_fault",
    "clock",
    "add_webhook_endpoint",
    "rotate_webhook_secret",
    "intercept",
    "intercept_stripe",
    "route_webhooks",
    "paysim.calls",
    "assert_called",
    "pytest_paysim.Call",
    "clear_faults",
    "clear_outcomes",
    "required=False",
    "httpx.AsyncClient",
    "async def app(scope, receive, send)",
    "pytest-paysim[httpx]",
    "pytest-paysim[asgi]",
    "pytest-paysim[stripe]",
    "stripe_url",
    "publishable_key",
    "reset()",
    "paysim.seed",
    "url_for",
    "webhook_public_key",
    "ca_file",
)


def test_the_guide_names_every_option_ini_value_fixture_and_member() -> None:
    text = USAGE.read_text()
    missing = [
        name
        for name in (*_registered(), *SHOWN)
        if not re.search(r"`[^`\n]*" + re.escape(name), text)
    ]
    assert missing == []


def _cards_table() -> list[list[str]]:
    """The rows of the guide's test card table, cells without their backticks."""
    text = USAGE.read_text()
    assert text.count("<!-- cards:start -->") == 1, "the guide lost its test card table"
    between = text.split("<!-- cards:start -->\n", 1)[1].split("<!-- cards:end -->")[0]
    lines = between.strip().splitlines()
    assert lines[0].startswith("| number | result |")
    return [[cell.strip().strip("`") for cell in line.strip("|").split("|")] for line in lines[2:]]


def test_the_test_card_table_is_the_one_in_the_code() -> None:
    documented = {
        number.replace(" ", ""): (result, code, message)
        for number, result, code, message in _cards_table()
    }
    in_code = {
        number: (
            card.outcome,
            card.decline_code or "—",
            DECLINE_MESSAGES[card.decline_code] if card.decline_code else "—",
        )
        for number, card in TEST_CARDS.items()
    }
    assert documented == in_code
    assert len(_cards_table()) == len(TEST_CARDS)  # no number listed twice

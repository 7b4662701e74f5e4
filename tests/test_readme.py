"""The README's quick start is a real test file: it must pass under ``pytest --paysim`` and
be skipped, not fail at collection, without it. The Development section keeps the two
commands CI runs, and the links of the README and the docs lead to files and headings that
exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.fixture
def quick_start(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester directory holding the README's test files."""
    blocks = [block for block in _python_blocks() if block.startswith("# test_")]
    assert blocks, "the README lost its quick start test"
    for block in blocks:
        name = block.split()[1]
        pytester.path.joinpath(name).write_text(block)
    return pytester


def test_readme_quick_start_passes(quick_start: pytest.Pytester) -> None:
    result = quick_start.runpytest_subprocess("--paysim", "-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=3)


def test_readme_quick_start_is_skipped_without_paysim(quick_start: pytest.Pytester) -> None:
    # Settings read at import time must not break collection when the plugin is off.
    result = quick_start.runpytest_subprocess("-p", "no:cacheprovider", "-rs", timeout=120)
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(["*paysim is off: run pytest with --paysim*"])


def _section(title: str) -> str:
    text = README.read_text()
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert found, f"the README has no '## {title}' section"
    return found[1]


def test_development_keeps_the_two_commands_ci_runs() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", _section("Development"), flags=re.S)
    assert [block.strip() for block in blocks] == [
        "bash scripts/main-job.sh",
        "bash scripts/test.sh",
    ]
    for command in blocks:
        assert (ROOT / command.split()[1]).is_file()


def _anchors(document: Path) -> set[str]:
    """The anchors GitHub makes for the headings of a Markdown file."""
    headings = re.findall(r"^#+ (.+)$", document.read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize(
    "document",
    [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_relative_links_lead_to_files_and_headings(document: Path) -> None:
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text()):
        if "://" in target:
            continue
        path, _, anchor = target.partition("#")
        linked = document.parent / path if path else document
        if not linked.exists() or (
            anchor and linked.suffix == ".md" and anchor not in _anchors(linked)
        ):
            broken.append(target)
    assert broken == []

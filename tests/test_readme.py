"""The README's quick start is a real test file: it must pass under ``pytest --paysim``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_quick_start_passes(pytester: pytest.Pytester) -> None:
    blocks = [block for block in _python_blocks() if block.startswith("# test_")]
    assert blocks, "the README lost its quick start test"
    for block in blocks:
        name = block.split()[1]
        pytester.path.joinpath(name).write_text(block)
    result = pytester.runpytest_subprocess("--paysim", "-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=2)

"""The ``run`` fixture: pytest in a subprocess, in a pytester directory, with paysim; and
``served``: a ``paysim serve`` subprocess for the ``--paysim-url`` tests.

The modules those runs test are real files under ``examples/`` (``pytester_example_dir``),
copied in with ``run.pytester.copy_example(name)``; this run does not collect them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.plugin import INHERITED, Runner, serve_paysim

collect_ignore = ["examples"]


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """Run pytest with paysim in a subprocess, in a clean environment."""
    for name in INHERITED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    out = pytester.mkdir("_out")
    monkeypatch.setenv("PLUGIN_TEST_OUT", str(out))
    pytester.copy_example("paysim_out.py")
    return Runner(pytester, out)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, str]]:
    """A ``paysim serve`` subprocess (seed 3): its URL and API key, read from its banner."""
    with serve_paysim(seed=3) as url_and_key:
        yield url_and_key

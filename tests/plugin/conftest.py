"""The ``run`` fixture: pytest in a subprocess, in a pytester directory, with paysim."""

from __future__ import annotations

import pytest
from plugin_support import INHERITED, RECORDER, Runner


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """Run pytest with paysim in a subprocess, in a clean environment."""
    for name in INHERITED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    out = pytester.mkdir("_out")
    monkeypatch.setenv("PLUGIN_TEST_OUT", str(out))
    pytester.makepyfile(paysim_out=RECORDER)
    return Runner(pytester, out)

"""Fixtures of the HTTP tests: one real ``PaysimServer`` per session (per xdist worker).

Every test starts from a reset simulator, and no test (nor module) may leave an unexpected
exception behind: a 500 that nobody injected fails the run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_paysim.server import PaysimServer
from tests.support.http import Http

SEED = 20260101


@pytest.fixture(scope="session")
def server() -> Iterator[PaysimServer]:
    with PaysimServer(seed=SEED) as running:
        yield running


@pytest.fixture(scope="module", autouse=True)
def _no_unexpected_errors_in_module(server: PaysimServer) -> Iterator[None]:
    yield
    assert server.simulator is not None
    assert server.simulator.unexpected_errors() == []


@pytest.fixture(autouse=True)
def _fresh_state(server: PaysimServer) -> Iterator[None]:
    """Reset before the test; after it, fail on any unexpected simulator error."""
    assert server.simulator is not None
    server.simulator.reset()
    yield
    assert server.simulator.unexpected_errors() == []


@pytest.fixture
def api(server: PaysimServer) -> Iterator[Http]:
    """A client that sends the API key."""
    client = Http(server, server.api_key)
    yield client
    client.close()


@pytest.fixture
def anon(server: PaysimServer) -> Iterator[Http]:
    """A client without credentials."""
    client = Http(server)
    yield client
    client.close()


@pytest.fixture
def frozen(server: PaysimServer) -> float:
    """Freeze the simulator clock (so state snapshots compare equal); the frozen time."""
    assert server.simulator is not None
    return server.simulator.clock.freeze(1_772_366_400.0)  # 2026-03-01T12:00:00Z

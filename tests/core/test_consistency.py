"""What the simulator must never show: a delivery whose transaction did not commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_paysim.core.simulator import Simulator, SimulatorConfig
from pytest_paysim.core.sqlite_store import SqliteStore
from pytest_paysim.core.store import MemoryStore


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_captured_delivery_is_logged_only_when_its_transaction_commits(
    kind: str, tmp_path: Path
) -> None:
    store = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "x.sqlite")
    sim = Simulator(SimulatorConfig(seed=1), store=store)
    real_add_event = store.add_event
    calls = []

    def failing_second_event(event: object) -> None:
        calls.append(event)
        if len(calls) == 2:
            raise OSError("disk full")
        real_add_event(event)  # type: ignore[arg-type]

    store.add_event = failing_second_event  # type: ignore[method-assign]
    with pytest.raises(OSError):
        sim.create_payment(amount=100, currency="usd", simulate="auto")
    assert sim.attempts() == []
    store.add_event = real_add_event  # type: ignore[method-assign]
    sim.create_payment(amount=100, currency="usd")
    assert [attempt.type for attempt in sim.attempts()] == ["payment.created"]
    store.close()

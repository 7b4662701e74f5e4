"""What the hot-path shortcuts must never show: a stale payment, or a delivery whose
transaction did not commit."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from pytest_paysim.core.simulator import Simulator, SimulatorConfig
from pytest_paysim.core.sqlite_store import SqliteStore
from pytest_paysim.core.store import MemoryStore


def test_a_threads_last_snapshot_is_not_served_after_another_thread_changed_the_payment() -> None:
    sim = Simulator(SimulatorConfig(seed=1))
    sim.clock.freeze()  # updated_at cannot tell the two refunds apart
    payment = sim.create_payment(amount=1000, currency="usd")
    sim.pay(payment.id, outcome="succeed")
    sim.refund(payment.id, amount=100)  # this thread now holds a snapshot of the payment

    other = threading.Thread(target=sim.refund, args=(payment.id,), kwargs={"amount": 200})
    other.start()
    other.join(timeout=5)
    assert not other.is_alive()

    shown = json.loads(sim.payment_json(sim.get_payment(payment.id)))
    assert shown["amount_refunded"] == 300
    assert len(shown["refunds"]) == 2


def test_the_snapshot_is_used_when_it_is_current() -> None:
    sim = Simulator(SimulatorConfig(seed=1))
    payment = sim.create_payment(amount=1000, currency="usd")
    answer = sim.payment_json(payment)
    assert json.loads(answer) == payment.to_dict()
    assert sim.payment_json(payment) is answer


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
    assert sim.attempts == []
    store.add_event = real_add_event  # type: ignore[method-assign]
    sim.create_payment(amount=100, currency="usd")
    assert [attempt.type for attempt in sim.attempts] == ["payment.created"]
    store.close()

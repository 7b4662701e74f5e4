"""Customers and payment methods at the core, in both stores: the operations, the events a
dialect's renderer makes of a customer's changes, lists, reset, seeded ids, all or nothing;
and the refunds list."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_paysim.core.events import CustomerChange, Occurrence, RenderedEvent
from pytest_paysim.core.models import dump_json
from pytest_paysim.core.simulator import Simulator, SimulatorConfig
from pytest_paysim.core.sqlite_store import SqliteStore
from pytest_paysim.core.store import MemoryStore, Store
from pytest_paysim.errors import ConfigurationError, ParameterInvalid, ResourceMissing
from tests.core.test_atomicity import Planted, fail_on

T0 = 1_772_366_400.0


class Recorder:
    """A dialect's renderer that keeps what the core hands it: one event per change."""

    def __init__(self) -> None:
        self.changes: list[CustomerChange] = []

    def render(self, occurrence: Occurrence, new_id: Callable[[], str]) -> Sequence[RenderedEvent]:
        event_id = new_id()
        type = f"intent.{occurrence.row.operation}"
        return [RenderedEvent(event_id, type, dump_json({"id": event_id, "type": type}))]

    def render_customer(
        self, change: CustomerChange, new_id: Callable[[], str]
    ) -> Sequence[RenderedEvent]:
        self.changes.append(change)
        event_id = new_id()
        body = {
            "id": event_id,
            "type": f"customer.{change.action}",
            "data": {"object": {"id": change.customer.id, "email": change.customer.email}},
        }
        return [RenderedEvent(event_id, f"customer.{change.action}", dump_json(body))]

    def signature_headers(
        self, body: bytes, secrets: Sequence[str], timestamp: int
    ) -> dict[str, str]:
        return {"X-Signed": secrets[0]}


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "c.db")
    yield made
    made.close()


def _simulator(store: Store | None = None) -> tuple[Simulator, Recorder]:
    sim = Simulator(SimulatorConfig(seed=21), store=store)
    sim.clock.freeze(T0)
    recorder = Recorder()
    sim.register_dialect("stripe", recorder)
    return sim, recorder


@pytest.fixture
def made(store: Store) -> tuple[Simulator, Recorder]:
    return _simulator(store)


@pytest.fixture
def sim(made: tuple[Simulator, Recorder]) -> Simulator:
    return made[0]


def _types(sim: Simulator, subject_id: str) -> list[str]:
    return [event.type for event in sim.events_of(subject_id)]


def test_a_customer_is_created_updated_and_deleted_with_its_events(
    made: tuple[Simulator, Recorder],
) -> None:
    sim, recorder = made
    customer = sim.create_customer(
        dialect="stripe", email="a@example.com", name="Ada", metadata={"tier": "gold", "x": "1"}
    )
    assert customer.id.startswith("cus_")
    assert (customer.email, customer.name, customer.created_at) == ("a@example.com", "Ada", T0)
    assert sim.get_customer(customer.id) == customer
    updated = sim.update_customer(
        customer.id, name=None, phone="+100", metadata={"x": "", "new": "2"}
    )
    assert (updated.name, updated.phone) == (None, "+100")
    assert updated.metadata == {"tier": "gold", "new": "2"}
    assert sim.get_customer(customer.id) == updated
    deleted = sim.delete_customer(customer.id)
    assert deleted.deleted is True
    assert sim.get_customer(customer.id).deleted is True
    assert _types(sim, customer.id) == ["customer.created", "customer.updated", "customer.deleted"]
    assert [change.action for change in recorder.changes] == ["created", "updated", "deleted"]
    created, update, removal = recorder.changes
    assert created.before is None
    assert (update.before, update.customer) == (customer, updated)
    assert (removal.before, removal.customer) == (updated, deleted)
    assert all(event.dialect == "stripe" for event in sim.events_of(customer.id))


def test_an_update_that_changes_nothing_emits_nothing(sim: Simulator) -> None:
    customer = sim.create_customer(dialect="stripe", email="a@example.com", metadata={"k": "v"})
    same = sim.update_customer(customer.id, email="a@example.com", metadata={"k": "v", "gone": ""})
    assert same == customer
    assert _types(sim, customer.id) == ["customer.created"]


def test_customer_events_are_captured_or_sent_to_the_metadata_webhook_url(sim: Simulator) -> None:
    quiet = sim.create_customer(dialect="stripe")
    loud = sim.create_customer(dialect="stripe", metadata={"webhook_url": "http://127.0.0.1:9/h"})
    captured = sim.attempts()
    assert [(attempt.payment_id, attempt.url) for attempt in captured] == [(quiet.id, None)]
    assert captured[0].headers == {"X-Signed": sim.webhook_secret}
    assert [attempt.url for attempt in sim.pending_deliveries(payment_id=loud.id)] == [
        "http://127.0.0.1:9/h"
    ]


def test_a_deleted_customer_cannot_be_changed_deleted_or_attached_to(sim: Simulator) -> None:
    customer = sim.create_customer(dialect="stripe")
    method = sim.create_payment_method(card_number="4242424242424242", exp_month=12, exp_year=2034)
    sim.delete_customer(customer.id)
    for call in (
        lambda: sim.update_customer(customer.id, name="x"),
        lambda: sim.delete_customer(customer.id),
        lambda: sim.attach_payment_method(method.id, customer.id),
    ):
        with pytest.raises(ResourceMissing):
            call()
    assert _types(sim, customer.id) == ["customer.created", "customer.deleted"]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda sim: sim.get_customer("cus_nope"), id="get_customer"),
        pytest.param(lambda sim: sim.update_customer("cus_nope", name="x"), id="update"),
        pytest.param(lambda sim: sim.delete_customer("cus_nope"), id="delete"),
        pytest.param(lambda sim: sim.get_payment_method("pm_nope"), id="get_payment_method"),
        pytest.param(lambda sim: sim.detach_payment_method("pm_nope"), id="detach"),
    ],
)
def test_unknown_ids_are_resource_missing(sim: Simulator, call: Callable[[Simulator], Any]) -> None:
    with pytest.raises(ResourceMissing) as raised:
        call(sim)
    assert raised.value.param == "id"


def test_bad_arguments_are_refused(sim: Simulator) -> None:
    with pytest.raises(ParameterInvalid):
        sim.update_customer(sim.create_customer(dialect="stripe").id, balance=5)
    with pytest.raises(ParameterInvalid) as raised:
        sim.create_payment_method(card_number="4242424242424241", exp_month=1, exp_year=2030)
    assert raised.value.param == "card_number"
    with pytest.raises(ParameterInvalid) as raised:
        sim.create_payment_method(card_number="4242424242424242", exp_month=13, exp_year=2030)
    assert raised.value.param == "exp_month"
    with pytest.raises(ConfigurationError, match="no front end registered"):
        Simulator(SimulatorConfig(seed=1)).create_customer(dialect="stripe")


def test_payment_methods_attach_detach_and_list(sim: Simulator) -> None:
    ada = sim.create_customer(dialect="stripe")
    bob = sim.create_customer(dialect="stripe")
    first = sim.create_payment_method(card_number="4000 0000 0000 9995", exp_month=3, exp_year=2031)
    assert (first.card_number, first.last4, first.customer) == ("4000000000009995", "9995", None)
    second = sim.create_payment_method(card_number="5555555555554444", exp_month=1, exp_year=2030)
    assert sim.attach_payment_method(first.id, ada.id).customer == ada.id
    assert sim.attach_payment_method(first.id, ada.id).customer == ada.id  # again: the same
    sim.attach_payment_method(second.id, ada.id)
    with pytest.raises(ParameterInvalid):
        sim.attach_payment_method(first.id, bob.id)
    listed, more = sim.payment_methods(customer=ada.id, limit=1)
    assert ([method.id for method in listed], more) == ([second.id], True)
    rest, more = sim.payment_methods(customer=ada.id, starting_after=second.id)
    assert ([method.id for method in rest], more) == ([first.id], False)
    assert sim.detach_payment_method(second.id).customer is None
    with pytest.raises(ParameterInvalid):
        sim.detach_payment_method(second.id)
    assert [method.id for method in sim.payment_methods(customer=ada.id)[0]] == [first.id]
    assert [method.id for method in sim.payment_methods()[0]] == [second.id, first.id]
    sim.delete_customer(ada.id)
    assert sim.get_payment_method(first.id).customer is None
    assert sim.payment_methods(customer=ada.id)[0] == []


def test_customers_are_listed_newest_first_without_the_deleted(sim: Simulator) -> None:
    made = [
        sim.create_customer(dialect="stripe", email="same@example.com" if n % 2 else None)
        for n in range(5)
    ]
    sim.delete_customer(made[2].id)
    ids = [customer.id for customer in sim.customers(limit=100)[0]]
    assert ids == [made[4].id, made[3].id, made[1].id, made[0].id]
    page, more = sim.customers(limit=2, starting_after=made[4].id)
    assert ([customer.id for customer in page], more) == ([made[3].id, made[1].id], True)
    by_email = sim.customers(email="same@example.com")[0]
    assert [customer.id for customer in by_email] == [made[3].id, made[1].id]
    assert sim.customers(dialect="native")[0] == []


def test_refunds_are_listed_newest_first_per_dialect_payment_and_charge(sim: Simulator) -> None:
    native = sim.create_payment(amount=1000, currency="usd")
    sim.pay(native.id, outcome="succeed")
    native_refund = sim.refund(native.id, amount=100)
    intents = []
    for _ in range(2):
        intent = sim.create_payment(
            amount=1000, currency="usd", dialect="stripe", payment_method="pm_x"
        )
        sim.pay(intent.id, outcome="succeed")
        intents.append(intent)
    one = sim.refund(intents[0].id, amount=100)
    two = sim.refund(intents[1].id, amount=200)
    sim.force_refund_outcome("fail")
    three = sim.refund(intents[0].id, amount=300)
    everything = [refund.id for refund in sim.refunds(limit=100)[0]]
    assert everything == [three.id, two.id, one.id, native_refund.id]
    stripe_ones = [refund.id for refund in sim.refunds(dialect="stripe")[0]]
    assert stripe_ones == [three.id, two.id, one.id]
    of_first = sim.refunds(payment_id=intents[0].id, dialect="stripe")[0]
    assert [refund.id for refund in of_first] == [three.id, one.id]
    of_charge = sim.refunds(charge_id=two.charge_id)[0]
    assert [refund.id for refund in of_charge] == [two.id]
    page, more = sim.refunds(limit=1, starting_after=three.id, dialect="stripe")
    assert ([refund.id for refund in page], more) == ([two.id], True)


def test_reset_clears_customers_and_payment_methods_and_ids_follow_the_seed(
    made: tuple[Simulator, Recorder],
) -> None:
    sim, _ = made

    def run() -> list[str]:
        customer = sim.create_customer(dialect="stripe")
        method = sim.create_payment_method(
            card_number="4242424242424242", exp_month=1, exp_year=2030
        )
        return [customer.id, method.id, *[event.id for event in sim.events_of(customer.id)]]

    first = run()
    sim.reset(seed=21)
    assert sim.customers()[0] == []
    assert sim.payment_methods()[0] == []
    assert sim.refunds()[0] == []
    with pytest.raises(ResourceMissing):
        sim.get_customer(first[0])
    assert run() == first


def _state(sim: Simulator) -> dict[str, Any]:
    customers = [sim.get_customer(customer.id) for customer in sim.customers(limit=100)[0]]
    events = [json.loads(event.body) for event in sim.events(limit=100, dialect="stripe")[0]]
    return {
        "customers": customers,
        "methods": sim.payment_methods(limit=100)[0],
        "events": events,
        "log": [attempt.id for attempt in sim.attempts()],
    }


def test_a_failing_operation_leaves_no_trace(
    made: tuple[Simulator, Recorder], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, _ = made
    kept = sim.create_customer(dialect="stripe", email="k@example.com", metadata={"a": "1"})
    method = sim.create_payment_method(card_number="4242424242424242", exp_month=1, exp_year=2030)
    sim.attach_payment_method(method.id, kept.id)
    loose = sim.create_payment_method(card_number="5555555555554444", exp_month=1, exp_year=2030)
    cases: list[tuple[str, str, Callable[[], object]]] = [
        ("create", "add_event", lambda: sim.create_customer(dialect="stripe")),
        ("update", "save_delivery", lambda: sim.update_customer(kept.id, name="New")),
        ("delete", "save_payment_method", lambda: sim.delete_customer(kept.id)),
        ("delete-event", "add_event", lambda: sim.delete_customer(kept.id)),
        (
            "create-method",
            "save_payment_method",
            lambda: sim.create_payment_method(
                card_number="4242424242424242", exp_month=1, exp_year=2030
            ),
        ),
        ("attach", "save_payment_method", lambda: sim.attach_payment_method(loose.id, kept.id)),
        ("detach", "save_payment_method", lambda: sim.detach_payment_method(method.id)),
    ]
    for name, method_name, call in cases:
        before = _state(sim)
        with monkeypatch.context() as patch:
            fail_on(patch, store, method_name)
            with pytest.raises(Planted):
                call()
        assert _state(sim) == before, name
    # The seeded generator was put back too: the next ids are those of a clean run.
    twin, _ = _simulator()
    twin_kept = twin.create_customer(dialect="stripe", email="k@example.com", metadata={"a": "1"})
    twin_method = twin.create_payment_method(
        card_number="4242424242424242", exp_month=1, exp_year=2030
    )
    twin.attach_payment_method(twin_method.id, twin_kept.id)
    twin.create_payment_method(card_number="5555555555554444", exp_month=1, exp_year=2030)
    assert sim.create_customer(dialect="stripe").id == twin.create_customer(dialect="stripe").id

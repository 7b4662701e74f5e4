"""What the SQLite store sends to SQLite: one transaction an operation, as few statements as
its work needs, each prepared once (see ``benchmarks/db_write.py`` for what they cost)."""

from __future__ import annotations

import dataclasses
import itertools
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from pytest_paysim.core import sqlite_store
from pytest_paysim.core.models import (
    Charge,
    Customer,
    DeliveryAttempt,
    Event,
    IdempotencyRecord,
    Payment,
    PaymentMethod,
    Refund,
    WebhookEndpoint,
    dump_json,
)
from pytest_paysim.core.simulator import Simulator, SimulatorConfig
from pytest_paysim.core.sqlite_store import SqliteStore
from pytest_paysim.http.app import PaysimApp
from pytest_paysim.stripe.app import StripeApp

T0 = 1_767_225_600.0
HOOK = "http://127.0.0.1:9/hook"  # never sent to: attempts are recorded by hand


def name(sql: str) -> str:
    """A statement without its values: ``SELECT payments``, ``INSERT deliveries``, ``COMMIT``."""
    text = sql.strip()
    found = re.match(r"SELECT .*? FROM (\w+)", text, re.S) or re.match(
        r"(?:INSERT(?: OR REPLACE)? INTO|UPDATE|DELETE FROM) (\w+)", text
    )
    if found is None:
        return text
    return f"{text.split()[0]} {found.group(1)}"


class Traced:
    """A simulator on a SQLite store behind the API, and the statements each step runs."""

    def __init__(self, path: Path) -> None:
        self.store = SqliteStore(path)
        self.sim = Simulator(SimulatorConfig(seed=5), store=self.store)
        self.client = Client(PaysimApp(self.sim))
        self.keys = itertools.count()
        self.sql: list[str] = []

    def statements(self, step: Callable[[], Any]) -> list[str]:
        self.sql = []
        self.store.trace(self.sql.append)
        try:
            step()
        finally:
            self.store.trace(None)
        return [name(sql) for sql in self.sql]

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(
            path,
            json=body,
            headers={
                "Authorization": f"Bearer {self.sim.api_key}",
                "Idempotency-Key": f"key-{next(self.keys)}",
            },
        )
        assert response.status_code in (200, 201), response.text
        data: dict[str, Any] = response.get_json()
        return data


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[Traced]:
    made = Traced(tmp_path / "traced.sqlite")
    made.post("/v1/payments", {"amount": 100, "currency": "usd"})  # settings read, and so on
    yield made
    made.store.close()


CREATE = [
    "SELECT idempotency",
    "BEGIN IMMEDIATE",
    "INSERT payments",
    "INSERT events",
    "INSERT deliveries",
    "INSERT idempotency",
    "COMMIT",
]


def test_an_api_create_pay_and_refund_each_run_one_transaction_of_one_insert_a_record(
    traced: Traced,
) -> None:
    created: dict[str, Any] = {}

    def create() -> None:
        created.update(traced.post("/v1/payments", {"amount": 1999, "currency": "usd"}))

    assert traced.statements(create) == CREATE
    path = f"/v1/payments/{created['id']}"
    pay = traced.statements(lambda: traced.post(path + "/pay", {"outcome": "succeed"}))
    assert pay == ["SELECT idempotency", "SELECT payments", *CREATE[1:]]
    refund = traced.statements(lambda: traced.post(path + "/refund", {"amount": 500}))
    assert refund == [
        "SELECT idempotency",
        "SELECT payments",
        "BEGIN IMMEDIATE",
        "INSERT refunds",
        *CREATE[2:],
    ]
    assert not any("SELECT body FROM events" in sql for sql in traced.sql)


def test_a_stripe_confirm_saves_its_charge_with_one_statement(traced: Traced) -> None:
    """The dialect's records cost what the native ones do, plus one ``INSERT`` a charge."""
    client = Client(StripeApp(traced.sim))  # registers the dialect
    traced.sim.create_payment(amount=100, currency="usd", dialect="stripe")  # warm up
    headers = {"Authorization": f"Bearer {traced.sim.api_key}"}
    created: dict[str, Any] = {}

    def post(path: str, form: dict[str, Any]) -> None:
        response = client.post(path, data=form, headers=headers)
        assert response.status_code == 200, response.text
        created.update(response.get_json())

    create = traced.statements(
        lambda: post("/stripe/v1/payment_intents", {"amount": 1999, "currency": "usd"})
    )
    assert create == [
        "BEGIN IMMEDIATE",
        "INSERT payments",
        "INSERT events",
        "INSERT deliveries",
        "COMMIT",
    ]
    path = f"/stripe/v1/payment_intents/{created['id']}/confirm"
    confirm = traced.statements(lambda: post(path, {"payment_method": "pm_card_visa"}))
    # The payment method is attached (one save), then paid: its charge, the payment again,
    # payment_intent.succeeded and charge.succeeded with their captured attempts.
    assert confirm == [
        "SELECT payments",
        "BEGIN IMMEDIATE",
        "INSERT payments",
        "INSERT charges",
        "INSERT payments",
        *["INSERT events", "INSERT deliveries"] * 2,
        "COMMIT",
    ]


def test_a_customer_and_a_payment_method_cost_one_insert_each(traced: Traced) -> None:
    """A customer's create is one transaction: the customer, its event, its captured attempt;
    a payment method's, one ``INSERT``; deleting a customer saves each method it detaches."""
    client = Client(StripeApp(traced.sim))  # registers the dialect
    headers = {"Authorization": f"Bearer {traced.sim.api_key}"}
    created: dict[str, Any] = {}

    def send(method: str, path: str, form: dict[str, Any] | None = None) -> None:
        response = client.open(path, method=method, data=form or {}, headers=headers)
        assert response.status_code == 200, response.text
        created.update(response.get_json())

    make = traced.statements(lambda: send("POST", "/stripe/v1/customers", {"name": "Ada"}))
    assert make == [
        "BEGIN IMMEDIATE",
        "INSERT customers",
        "INSERT events",
        "INSERT deliveries",
        "COMMIT",
    ]
    customer = created["id"]
    card = {"type": "card", "card[number]": "4242424242424242"}
    card |= {"card[exp_month]": "1", "card[exp_year]": "2030"}
    method = traced.statements(lambda: send("POST", "/stripe/v1/payment_methods", card))
    assert method == ["BEGIN IMMEDIATE", "INSERT payment_methods", "COMMIT"]
    path = f"/stripe/v1/payment_methods/{created['id']}/attach"
    traced.statements(lambda: send("POST", path, {"customer": customer}))
    delete = traced.statements(lambda: send("DELETE", f"/stripe/v1/customers/{customer}"))
    assert delete == [
        "SELECT customers",
        "SELECT customers",
        "BEGIN IMMEDIATE",
        "INSERT customers",
        "SELECT payment_methods",
        "INSERT payment_methods",
        "INSERT events",
        "INSERT deliveries",
        "COMMIT",
    ]


def test_recording_a_webhook_attempt_is_one_transaction(traced: Traced) -> None:
    sim = traced.sim
    for _ in range(2):
        sim.create_payment(amount=700, currency="usd", metadata={"webhook_url": HOOK})
    delivered, failed = sim.pending_deliveries()

    def record(attempt: DeliveryAttempt, status: int) -> None:
        signed = sim.prepare_attempt(attempt)
        assert signed is not None
        ok = status == 200
        made = replace(
            signed, sent_at=T0, status_code=status, succeeded=ok, error=None if ok else "HTTP 500"
        )
        sim.record_attempt(made)

    assert traced.statements(lambda: record(delivered, 200)) == [
        "BEGIN IMMEDIATE",
        "INSERT deliveries",
        "COMMIT",
    ]
    assert traced.statements(lambda: record(failed, 500)) == [
        "BEGIN IMMEDIATE",
        "INSERT deliveries",  # the retry
        "INSERT deliveries",  # the attempt made
        "COMMIT",
    ]
    assert not any("SELECT body FROM events" in sql for sql in traced.sql)
    assert [attempt.attempt for attempt in sim.pending_deliveries()] == [2]


# -- the store on its own ----------------------------------------------------------------------


def event(n: int) -> Event:
    body = dump_json({"id": f"evt_{n}", "data": {"object": {"id": "pay_1"}}})
    return Event(f"evt_{n}", "payment.created", "pay_1", T0 + n, body)


def planned(n: int, ev: Event) -> DeliveryAttempt:
    return DeliveryAttempt(
        f"whd_{n}", ev.id, ev.type, ev.payment_id, HOOK, None, 1, T0, 0, body=ev.body
    )


def stored_bodies(path: Path) -> list[tuple[str, bytes | None]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, body FROM deliveries ORDER BY seq").fetchall()
    conn.close()
    return rows


def roll_back(store: SqliteStore, step: Callable[[], object]) -> None:
    """Run ``step`` in a transaction that then fails."""

    def fail() -> None:
        with store.transaction():
            step()
            raise KeyError("rolled back")

    with pytest.raises(KeyError):
        fail()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite"


def test_a_transaction_that_only_reads_sends_no_begin_or_commit(db: Path) -> None:
    store = SqliteStore(db)
    seen: list[str] = []
    store.trace(seen.append)
    with store.transaction():
        assert store.get_payment("pay_missing") is None
        assert store.get_idempotency("scope", "key") is None
    store.trace(None)
    assert [name(sql) for sql in seen] == ["SELECT payments", "SELECT idempotency"]
    store.close()


def test_an_attempt_of_an_event_the_store_does_not_remember_is_checked_in_the_file(
    db: Path,
) -> None:
    ev = event(1)
    first = SqliteStore(db)
    with first.transaction():
        first.add_event(ev)
        first.save_delivery(planned(1, ev))
    first.close()

    store = SqliteStore(db)  # a restart: no event body in memory
    seen: list[str] = []
    store.trace(seen.append)
    store.save_delivery(replace(planned(2, ev), body=bytes(ev.body)))
    assert "SELECT body FROM events" in seen[-1]
    (pending, *_) = store.pending_deliveries()  # its body comes from the event: remembered
    seen.clear()
    store.save_delivery(replace(pending, sent_at=T0 + 1, succeeded=True, status_code=200))
    assert "SELECT body FROM events" not in seen[-1]
    store.trace(None)
    store.close()
    assert stored_bodies(db) == [("whd_1", None), ("whd_2", None)]


def test_the_body_of_a_rolled_back_event_is_forgotten(db: Path) -> None:
    store = SqliteStore(db)
    ev = event(1)
    roll_back(store, lambda: store.add_event(ev))
    store.save_delivery(planned(1, ev))  # an attempt of an event that is not stored
    assert [attempt.body for attempt in store.pending_deliveries()] == [ev.body]
    store.close()
    assert stored_bodies(db) == [("whd_1", ev.body)]


def test_the_endpoints_are_read_once_until_one_changes(db: Path) -> None:
    store = SqliteStore(db)
    endpoint = WebhookEndpoint("we_1", HOOK, ["*"], "whsec_1", T0)
    seen: list[str] = []
    store.trace(seen.append)
    assert store.list_endpoints() == []
    assert store.list_endpoints() == []
    store.save_endpoint(endpoint)
    assert store.list_endpoints() == [endpoint]
    assert store.list_endpoints() is not store.list_endpoints()  # fresh lists of fresh objects
    assert store.list_endpoints()[0] is not store.list_endpoints()[0]

    def delete() -> None:
        store.delete_endpoint(endpoint.id)
        assert store.list_endpoints() == []

    roll_back(store, delete)
    assert store.list_endpoints() == [endpoint]
    store.trace(None)
    reads = [sql for sql in seen if name(sql) == "SELECT endpoints"]
    assert len(reads) == 4  # first, after the save, after the delete, after the rollback
    store.close()


def test_every_field_of_every_record_has_its_column() -> None:
    """A new field fails here: add its column, and bump SCHEMA_VERSION."""
    columns = {
        Payment: sqlite_store._PAYMENT_COLUMNS,
        Refund: sqlite_store._REFUND_COLUMNS,
        Charge: sqlite_store._CHARGE_COLUMNS,
        Customer: sqlite_store._CUSTOMER_COLUMNS,
        PaymentMethod: sqlite_store._PAYMENT_METHOD_COLUMNS,
        Event: sqlite_store._EVENT_COLUMNS,
        IdempotencyRecord: sqlite_store._IDEMPOTENCY_COLUMNS,
        WebhookEndpoint: sqlite_store._ENDPOINT_COLUMNS,
    }
    for cls, text in columns.items():
        assert [c.strip() for c in text.split(",")] == [f.name for f in dataclasses.fields(cls)]
    delivery = [c.strip() for c in sqlite_store._DELIVERY_COLUMNS.split(",")]
    fields = [f.name for f in dataclasses.fields(DeliveryAttempt)]
    assert delivery == [f for f in fields if f != "body"] + ["body"]


class Recording:
    """The store's connection, keeping the text of every statement sent to it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.texts: set[str] = set()

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self.texts.add(sql)
        return self.conn.execute(sql, *args)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.conn, attribute)


def exercise(store: SqliteStore) -> None:
    """Every method, every filter, with and without ``starting_after`` and ``limit``."""
    ev = event(1)
    made = Payment("pay_1", 100, "usd", "s", "u", T0, T0, metadata={"a": "b"})
    with store.transaction():
        store.save_payment(made)
        store.get_payment(made.id)
        store.save_refund(Refund("re_1", made.id, 10, "usd", None, "succeeded", T0))
        store.save_charge(Charge("ch_1", made.id, 100, "usd", "succeeded", T0))
        store.save_customer(Customer("cus_1", T0, "a@example.com", metadata={"a": "b"}))
        store.save_payment_method(PaymentMethod("pm_1", "4242424242424242", 1, 2030, T0, "cus_1"))
        store.add_event(ev)
        store.save_delivery(planned(1, ev))
        store.save_delivery(planned(2, event(2)))
        store.save_idempotency(IdempotencyRecord("s", "k", "f", 201, b"{}", T0))
        store.save_endpoint(WebhookEndpoint("we_1", HOOK, ["*"], "whsec_1", T0))
        store.set_setting("a", "b")
    store.get_payment(made.id)
    store.count_payments()
    store.get_refund("re_1")
    store.get_charge("ch_1")
    store.get_customer("cus_1")
    store.get_payment_method("pm_1")
    store.get_event(ev.id)
    store.events_of(made.id)
    store.get_idempotency("s", "k")
    store.delete_idempotency("s", "k")
    store.get_endpoint("we_1")
    store.list_endpoints()
    store.delete_endpoint("we_1")
    store.get_setting("a")
    store.pending_deliveries()
    for after in (None, made.id):
        for status, dialect in itertools.product((None, "succeeded"), (None, "native")):
            store.list_payments(limit=10, starting_after=after, status=status, dialect=dialect)
    for after, email, dialect in itertools.product((None, "cus_1"), (None, "a"), (None, "x")):
        store.list_customers(limit=10, starting_after=after, email=email, dialect=dialect)
    for after, customer in itertools.product((None, "pm_1"), (None, "cus_1")):
        store.list_payment_methods(limit=10, starting_after=after, customer=customer)
    for after, payment_id, charge_id, dialect in itertools.product(
        (None, "re_1"), (None, made.id), (None, "ch_1"), (None, "native")
    ):
        store.list_refunds(
            limit=10,
            starting_after=after,
            payment_id=payment_id,
            charge_id=charge_id,
            dialect=dialect,
        )
    for after, kind, payment_id, dialect in itertools.product(
        (None, ev.id), (None, ev.type), (None, made.id), (None, "native")
    ):
        store.list_events(
            limit=10, starting_after=after, type=kind, payment_id=payment_id, dialect=dialect
        )
    for event_id, kind, payment_id, limit in itertools.product(
        (None, ev.id), (None, ev.type), (None, made.id), (None, 10)
    ):
        store.list_deliveries(event_id=event_id, type=kind, payment_id=payment_id, limit=limit)
    roll_back(store, lambda: store.save_payment(made))
    with store.transaction():
        store.clear()


def test_every_statement_fits_the_statement_cache(db: Path) -> None:
    """Every statement's text is one of a fixed few: each is prepared once and kept."""
    store = SqliteStore(db)
    recording = Recording(store._conn)
    store._conn = recording  # type: ignore[assignment]
    exercise(store)
    first = set(recording.texts)
    exercise(store)
    assert recording.texts == first, "a statement's text changed between two runs"
    assert 40 < len(first) < sqlite_store._CACHED_STATEMENTS
    store._conn = recording.conn
    store.close()


def wal_pages(db: Path) -> int:
    """The pages in the WAL now (a checkpoint from another connection reports them)."""
    with sqlite3.connect(db) as other:
        _, pages, _ = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    other.close()
    return int(pages)


def test_commits_run_no_checkpoint_the_checkpoint_thread_does(db: Path) -> None:
    store = SqliteStore(db)
    assert store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    checkpointer = store._checkpointer
    assert checkpointer is not None
    for burst in range(3):
        done = checkpointer.runs
        for number in range(sqlite_store._CHECKPOINT_EVERY):
            store.set_setting("n", f"{burst}-{number}")
        deadline = time.monotonic() + 10
        while checkpointer.runs == done and time.monotonic() < deadline:
            time.sleep(0.01)
        assert checkpointer.runs > done, "no checkpoint after _CHECKPOINT_EVERY commits"
    store.set_setting("n", "after")  # copied all: this write starts the WAL over
    assert wal_pages(db) < 10
    store.close()
    assert not Path(f"{db}-wal").exists()


def test_a_wal_past_its_limit_is_copied_whole_under_the_store_lock(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "_CHECKPOINT_EVERY", 10**9)  # the test runs it
    monkeypatch.setattr(sqlite_store, "_WAL_PAGES_LIMIT", 50)
    store = SqliteStore(db)
    checkpointer = store._checkpointer
    assert checkpointer is not None
    for number in range(100):
        store.set_setting("n", str(number))
    assert wal_pages(db) >= 100
    passives: list[bool] = []
    passive = checkpointer._passive

    def watched() -> int:
        passives.append(store._lock._is_owned())  # type: ignore[attr-defined]
        return passive()

    monkeypatch.setattr(checkpointer, "_passive", watched)
    checkpointer.checkpoint()
    assert passives == [False, True]  # then again, holding the store's lock
    store.set_setting("n", "after")
    assert wal_pages(db) < 10
    store.close()

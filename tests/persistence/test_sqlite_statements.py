"""What the SQLite store sends to SQLite: one transaction an operation, as few statements as
its work needs, each prepared once (see ``benchmarks/db_write.py`` for what they cost)."""

from __future__ import annotations

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


CREATE = ["INSERT journal"]
"""Every operation: one row, one statement (SQLite's own transaction)."""


def test_an_api_create_pay_and_refund_each_run_one_transaction_of_one_insert_a_record(
    traced: Traced,
) -> None:
    created: dict[str, Any] = {}

    def create() -> None:
        created.update(traced.post("/v1/payments", {"amount": 1999, "currency": "usd"}))

    assert traced.statements(create) == CREATE
    assert last_row(traced.store.path) == ["payment", "event", "delivery", "idempotency"]
    path = f"/v1/payments/{created['id']}"
    pay = traced.statements(lambda: traced.post(path + "/pay", {"outcome": "succeed"}))
    assert pay == CREATE  # reads come from memory: no SELECT
    assert last_row(traced.store.path) == ["payment", "event", "delivery", "idempotency"]
    refund = traced.statements(lambda: traced.post(path + "/refund", {"amount": 500}))
    assert refund == CREATE
    assert last_row(traced.store.path) == [
        "refund",
        "payment",
        "event",
        "delivery",
        "idempotency",
    ]


def test_a_stripe_confirm_saves_its_charge_with_one_row(traced: Traced) -> None:
    """The dialect's records cost what the native ones do, plus one row a charge."""
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
    assert create == CREATE
    assert last_row(traced.store.path) == ["payment", "event", "delivery"]
    path = f"/stripe/v1/payment_intents/{created['id']}/confirm"
    confirm = traced.statements(lambda: post(path, {"payment_method": "pm_card_visa"}))
    # The payment method is attached (one save), then paid: its charge, the payment again,
    # charge.succeeded and payment_intent.succeeded with their captured attempts.
    assert confirm == CREATE
    assert last_row(traced.store.path) == [
        "payment",
        "charge",
        "payment",
        *["event", "delivery"] * 2,
    ]


def test_a_customer_and_a_payment_method_cost_one_row_each(traced: Traced) -> None:
    """A customer's create is one row: the customer, its event, its captured attempt; a
    payment method's, one row; deleting a customer saves each method it detaches."""
    client = Client(StripeApp(traced.sim))  # registers the dialect
    headers = {"Authorization": f"Bearer {traced.sim.api_key}"}
    created: dict[str, Any] = {}

    def send(method: str, path: str, form: dict[str, Any] | None = None) -> None:
        response = client.open(path, method=method, data=form or {}, headers=headers)
        assert response.status_code == 200, response.text
        created.update(response.get_json())

    make = traced.statements(lambda: send("POST", "/stripe/v1/customers", {"name": "Ada"}))
    assert make == CREATE
    assert last_row(traced.store.path) == ["customer", "event", "delivery"]
    customer = created["id"]
    card = {"type": "card", "card[number]": "4242424242424242"}
    card |= {"card[exp_month]": "1", "card[exp_year]": "2030"}
    method = traced.statements(lambda: send("POST", "/stripe/v1/payment_methods", card))
    assert method == CREATE
    assert last_row(traced.store.path) == ["payment_method"]
    path = f"/stripe/v1/payment_methods/{created['id']}/attach"
    traced.statements(lambda: send("POST", path, {"customer": customer}))
    delete = traced.statements(lambda: send("DELETE", f"/stripe/v1/customers/{customer}"))
    assert delete == CREATE
    assert last_row(traced.store.path) == ["customer", "payment_method", "event", "delivery"]


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

    assert traced.statements(lambda: record(delivered, 200)) == CREATE
    assert last_row(traced.store.path) == ["delivery"]
    assert traced.statements(lambda: record(failed, 500)) == CREATE
    assert last_row(traced.store.path) == ["delivery", "delivery"]  # the retry, the attempt
    assert [attempt.attempt for attempt in sim.pending_deliveries()] == [2]


# -- the store on its own ----------------------------------------------------------------------


def event(n: int) -> Event:
    body = dump_json({"id": f"evt_{n}", "data": {"object": {"id": "pay_1"}}})
    return Event(f"evt_{n}", "payment.created", "pay_1", T0 + n, body)


def planned(n: int, ev: Event) -> DeliveryAttempt:
    return DeliveryAttempt(
        f"whd_{n}", ev.id, ev.type, ev.payment_id, HOOK, None, 1, T0, 0, body=ev.body
    )


def journal_rows(path: Path) -> list[list[list[Any]]]:
    """Each row's changes, ``[kind, values]``, with a body as ``[kind, values, bytes]`` (a
    body kept as a slice of an earlier one is given as its bytes)."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT changes FROM journal ORDER BY seq").fetchall()
    conn.close()
    result = []
    for (blob,) in rows:
        row = sqlite_store._decode(blob)
        changes: list[list[Any]] = []
        for kind, values, *body in row:
            if body and isinstance(body[0], tuple):
                position, start, stop = body[0]
                body = [row[position][2][start:stop]]
            changes.append([kind, list(values), *body])
        result.append(changes)
    return result


def last_row(path: Path) -> list[str]:
    """The kinds of the last row's changes."""
    return [change[0] for change in journal_rows(path)[-1]]


def journal_kinds(path: Path) -> list[str]:
    return [change[0] for row in journal_rows(path) for change in row]


def stored_bodies(path: Path) -> list[tuple[str, bytes | None]]:
    """The delivery attempts: id and body (None: the event's, kept once)."""
    return [
        (change[1][0], change[2] if len(change) > 2 else None)
        for row in journal_rows(path)
        for change in row
        if change[0] == "delivery"
    ]


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


def test_reads_and_a_transaction_that_only_reads_send_nothing(db: Path) -> None:
    store = SqliteStore(db)
    seen: list[str] = []
    store.trace(seen.append)
    with store.transaction():
        assert store.get_payment("pay_missing") is None
        assert store.get_idempotency("scope", "key") is None
    assert store.list_payments(limit=10, starting_after=None, status=None) == ([], False)
    store.trace(None)
    assert seen == []
    store.close()


def test_a_delivery_of_a_known_event_keeps_no_copy_of_its_body(db: Path) -> None:
    ev = event(1)
    first = SqliteStore(db)
    with first.transaction():
        first.add_event(ev)
        first.save_delivery(planned(1, ev))
    first.close()

    store = SqliteStore(db)  # a restart: the event and its body come back from the journal
    store.save_delivery(replace(planned(2, ev), body=bytes(ev.body)))  # equal, not the same
    (attempt, *_) = store.pending_deliveries()
    assert attempt.body == ev.body
    store.close()
    assert stored_bodies(db) == [("whd_1", None), ("whd_2", None)]
    again = SqliteStore(db)
    assert [attempt.body for attempt in again.pending_deliveries()] == [ev.body, ev.body]
    again.close()


def test_a_rolled_back_transaction_writes_nothing(db: Path) -> None:
    store = SqliteStore(db)
    ev = event(1)
    roll_back(store, lambda: store.add_event(ev))
    assert store.get_event(ev.id) is None
    store.save_delivery(planned(1, ev))  # an attempt of an event that is not stored
    assert [attempt.body for attempt in store.pending_deliveries()] == [ev.body]
    store.close()
    assert journal_kinds(db) == ["delivery"]
    assert stored_bodies(db) == [("whd_1", ev.body)]


def test_a_failed_write_of_the_file_takes_the_memory_back(db: Path) -> None:
    store = SqliteStore(db)
    made = Payment("pay_1", 100, "usd", "s", "u", T0, T0)
    store.save_payment(made)
    other = sqlite3.connect(db, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock: the store's commit cannot begin
    store._conn.execute("PRAGMA busy_timeout=50")

    def change() -> None:
        with store.transaction():
            store.save_payment(replace(made, status="succeeded"))
            store.save_refund(Refund("re_1", made.id, 10, "usd", None, "succeeded", T0))

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        change()
    other.execute("ROLLBACK")
    other.close()
    assert store.get_payment(made.id) == made
    assert store.get_refund("re_1") is None
    store.close()
    assert journal_kinds(db) == ["payment"]


def test_a_change_outside_a_transaction_is_taken_back_when_its_write_fails(db: Path) -> None:
    store = SqliteStore(db)
    made = Payment("pay_1", 100, "usd", "s", "u", T0, T0)
    store.set_setting("kept", "1")
    other = sqlite3.connect(db, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock: the store's write cannot happen
    store._conn.execute("PRAGMA busy_timeout=50")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        store.save_payment(made)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        store.set_setting("kept", "2")
    other.execute("ROLLBACK")
    other.close()
    assert store.get_payment(made.id) is None
    assert store.get_setting("kept") == "1"
    store.close()
    assert journal_kinds(db) == []


def test_a_journal_of_mostly_old_rows_is_rewritten_on_open(db: Path) -> None:
    store = SqliteStore(db)
    made = Payment("pay_1", 100, "usd", "s", "u", T0, T0, metadata={"n": "0"})
    ev = event(1)
    with store.transaction():
        store.add_event(ev)
        store.save_delivery(planned(1, ev))
    for number in range(sqlite_store._COMPACT_ABOVE + 1):
        store.save_payment(replace(made, metadata={"n": str(number)}))
    store.save_idempotency(IdempotencyRecord("s", "k", "f", 201, b"{}", T0))
    store.delete_idempotency("s", "k")
    store.close()
    assert len(journal_kinds(db)) == 2 + (sqlite_store._COMPACT_ABOVE + 1) + 2

    reopened = SqliteStore(db)
    assert journal_kinds(db) == ["payment", "event", "delivery"]
    last = reopened.get_payment(made.id)
    assert last is not None
    assert last.metadata == {"n": str(sqlite_store._COMPACT_ABOVE)}
    assert [attempt.body for attempt in reopened.pending_deliveries()] == [ev.body]
    assert reopened.get_idempotency("s", "k") is None
    reopened.close()


def test_every_record_comes_back_from_the_journal_as_it_went_in(db: Path) -> None:
    refund = Refund("re_1", "pay_1", 10, "usd", "duplicate", "succeeded", T0, "ch_1", {"a": "b"})
    charge = Charge("ch_1", "pay_1", 100, "usd", "succeeded", T0, "pm_card_visa", True, 100)
    made = Payment(
        "pay_1",
        100,
        "usd",
        "s",
        "u",
        T0,
        T0 + 0.25,
        metadata={"é": "\ud800 lone"},
        refunds=[refund],
        charges=[charge],
        attributes={"x": [1, {"y": None}]},
        dialect="stripe",
    )
    ev = event(1)
    records = [
        made,
        refund,
        charge,
        ev,
        IdempotencyRecord("s", "k", "f", 402, b'{"error":1}', T0),
        Customer("cus_1", T0, "a@example.com", metadata={"a": "b"}, deleted=True),
        PaymentMethod("pm_1", "4242424242424242", 1, 2030, T0, "cus_1"),
        WebhookEndpoint("we_1", HOOK, ["*"], "whsec_1", T0),
        replace(planned(1, ev), headers={"A": "b"}, succeeded=False, sent_at=T0, error="x"),
    ]
    store = SqliteStore(db)
    with store.transaction():
        store.save_payment(made)
        store.save_refund(refund)
        store.save_charge(charge)
        store.add_event(ev)
        store.save_idempotency(records[4])  # type: ignore[arg-type]
        store.save_customer(records[5])  # type: ignore[arg-type]
        store.save_payment_method(records[6])  # type: ignore[arg-type]
        store.save_endpoint(records[7])  # type: ignore[arg-type]
        store.save_delivery(records[8])  # type: ignore[arg-type]
        store.set_setting("seed", "5")
    store.close()
    again = SqliteStore(db)
    assert [
        again.get_payment("pay_1"),
        again.get_refund("re_1"),
        again.get_charge("ch_1"),
        again.get_event(ev.id),
        again.get_idempotency("s", "k"),
        again.get_customer("cus_1"),
        again.get_payment_method("pm_1"),
        again.get_endpoint("we_1"),
        again.list_deliveries(event_id=None, type=None, payment_id=None)[0],
    ] == records
    assert again.get_setting("seed") == "5"
    again.close()


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


JOURNAL_FIELDS = {
    "refund": (
        "id",
        "payment_id",
        "amount",
        "currency",
        "reason",
        "status",
        "created_at",
        "charge_id",
        "metadata",
    ),
    "charge": (
        "id",
        "payment_id",
        "amount",
        "currency",
        "status",
        "created_at",
        "payment_method",
        "captured",
        "amount_captured",
        "amount_refunded",
        "failure_code",
        "decline_code",
        "failure_message",
        "three_d_secure",
    ),
    "payment": (
        "id",
        "amount",
        "currency",
        "client_secret",
        "payment_url",
        "created_at",
        "updated_at",
        "capture_method",
        "status",
        "description",
        "metadata",
        "return_url",
        "amount_capturable",
        "amount_captured",
        "amount_refunded",
        "failure_code",
        "decline_code",
        "failure_message",
        "cancellation_reason",
        "refunds",
        "authentication_url",
        "decline_after_authentication",
        "dialect",
        "payment_method",
        "customer",
        "canceled_at",
        "charges",
        "attributes",
    ),
    "event": ("id", "type", "payment_id", "created_at", "body", "dialect"),
    "idempotency": ("scope", "key", "fingerprint", "status", "body", "created_at"),
    "endpoint": (
        "id",
        "url",
        "enabled_events",
        "secret",
        "created_at",
        "dialect",
        "description",
        "metadata",
        "status",
    ),
    "delivery": (
        "id",
        "event_id",
        "type",
        "payment_id",
        "url",
        "endpoint_id",
        "attempt",
        "due_at",
        "generation",
        "body",
        "headers",
        "status_code",
        "error",
        "succeeded",
        "sent_at",
        "next_attempt_at",
        "response_body",
        "signed_with",
        "dialect",
    ),
    "customer": (
        "id",
        "created_at",
        "email",
        "name",
        "description",
        "phone",
        "metadata",
        "deleted",
        "dialect",
    ),
    "payment_method": ("id", "card_number", "exp_month", "exp_year", "created_at", "customer"),
}
"""The fields each journal change holds, in order, as of ``SCHEMA_VERSION`` below."""


def test_a_change_of_a_records_fields_bumps_the_schema_version() -> None:
    """A journal's changes are arrays of fields in order: a file written before a field was
    added or moved would be read wrongly. Changed a record? Bump ``SCHEMA_VERSION`` (a file
    of another version is refused), then update both here."""
    assert {kind: codec.fields for kind, codec in sqlite_store._CODECS.items()} == JOURNAL_FIELDS
    assert sqlite_store.SCHEMA_VERSION == 9

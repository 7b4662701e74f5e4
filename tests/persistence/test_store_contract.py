"""The ``Store`` contract: ``MemoryStore`` and ``SqliteStore`` behave the same.

One parametrized fixture runs every shared test against both stores; the tests after them are
about what only a persistent store does (rollback, reopening, query plans, concurrency).
"""

from __future__ import annotations

import os
import pickle
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pytest_paysim.core.models import (
    DeliveryAttempt,
    Event,
    IdempotencyRecord,
    Payment,
    Refund,
    WebhookEndpoint,
    dump_json,
)
from pytest_paysim.core.sqlite_store import SCHEMA_VERSION, SqliteStore
from pytest_paysim.core.store import MemoryStore, Store
from pytest_paysim.errors import ConfigurationError, ParameterInvalid

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "s.db")
    yield made
    made.close()


# -- record factories --------------------------------------------------------------------------


def payment(n: int, *, status: str = "requires_payment_method", amount: int = 1000) -> Payment:
    return Payment(
        id=f"pay_{n:024d}",
        amount=amount,
        currency="eur",
        client_secret=f"pay_{n:024d}_secret_x",
        payment_url=f"http://127.0.0.1/pay/pay_{n:024d}",
        created_at=T0 + n,
        updated_at=T0 + n,
        status=status,
        description=f"order {n}: ünïcode",
        metadata={"order": str(n)},
    )


def refund(n: int, payment_id: str, amount: int = 100, status: str = "succeeded") -> Refund:
    return Refund(f"re_{n:024d}", payment_id, amount, "eur", "duplicate", status, T0 + n)


def event(n: int, payment_id: str, type: str = "payment.created") -> Event:
    body = dump_json({"id": f"evt_{n:024d}", "type": type, "data": {"object": {"id": payment_id}}})
    return Event(f"evt_{n:024d}", type, payment_id, T0 + n, body)


def delivery(n: int, ev: Event, *, url: str | None = "http://127.0.0.1:9/hook") -> DeliveryAttempt:
    return DeliveryAttempt(
        id=f"whd_{n:024d}",
        event_id=ev.id,
        type=ev.type,
        payment_id=ev.payment_id,
        url=url,
        endpoint_id=None,
        attempt=1,
        due_at=ev.created_at,
        generation=0,
        body=ev.body,
    )


def mark_sent(attempt: DeliveryAttempt, status_code: int = 200) -> DeliveryAttempt:
    """A copy of ``attempt`` as made: signed, sent, answered (stored records never change)."""
    succeeded = 200 <= status_code < 300
    return replace(
        attempt,
        headers={
            "Content-Type": "application/json",
            "Paysim-Signature": "t=1,v1=" + "ab" * 32,
            "Paysim-Event-Id": attempt.event_id,
        },
        signed_with="whsec_dGVzdHNlY3JldA==",
        sent_at=attempt.due_at + 0.5,
        status_code=status_code,
        succeeded=succeeded,
        error=None if succeeded else f"HTTP {status_code}",
    )


def save_payments(store: Store, payments: list[Payment]) -> None:
    with store.transaction():
        for item in payments:
            store.save_payment(item)


def all_pages(store: Store, *, limit: int, status: str | None = None) -> list[list[str]]:
    pages: list[list[str]] = []
    after = None
    while True:
        items, has_more = store.list_payments(limit=limit, starting_after=after, status=status)
        pages.append([item.id for item in items])
        if not has_more:
            return pages
        assert items, "has_more with an empty page"
        after = items[-1].id


# -- payments and refunds ----------------------------------------------------------------------


def test_a_payment_comes_back_equal_with_its_refunds(store: Store) -> None:
    made = payment(1, status="succeeded")
    made.amount_captured = 1000
    made.amount_refunded = 300
    made.refunds = [refund(1, made.id, 300), refund(2, made.id, 50, status="failed")]
    with store.transaction():
        store.save_payment(made)
    got = store.get_payment(made.id)
    assert got == made
    assert got is not None
    assert [type(item) for item in got.refunds] == [Refund, Refund]
    assert store.get_payment("pay_missing") is None


def test_saving_a_changed_payment_updates_it_in_place(store: Store) -> None:
    first, second = payment(1), payment(2)
    save_payments(store, [first, second])
    with store.transaction():
        stored = store.get_payment(first.id)
        assert stored is not None
        changed = stored.copy()
        changed.status = "succeeded"
        changed.amount_captured = 1000
        store.save_payment(changed)
    got = store.get_payment(first.id)
    assert got is not None
    assert (got.status, got.amount_captured) == ("succeeded", 1000)
    assert all_pages(store, limit=10) == [[second.id, first.id]], "an update moved the payment"
    assert store.count_payments() == 2


def test_inside_a_transaction_a_read_sees_the_object_saved_before(store: Store) -> None:
    made = payment(1)
    with store.transaction():
        store.save_payment(made)
        assert store.get_payment(made.id) is made
        again = store.get_payment(made.id)
        assert again is store.get_payment(made.id)


@pytest.mark.parametrize(
    ("count", "limit", "sizes"),
    [
        pytest.param(0, 10, [0], id="empty"),
        pytest.param(10, 10, [10], id="exactly-one-page"),
        pytest.param(25, 10, [10, 10, 5], id="three-pages"),
        pytest.param(3, 1, [1, 1, 1], id="limit-1"),
    ],
)
def test_payments_page_newest_first(store: Store, count: int, limit: int, sizes: list[int]) -> None:
    save_payments(store, [payment(n) for n in range(count)])
    pages = all_pages(store, limit=limit)
    assert [len(page) for page in pages] == sizes
    assert [pid for page in pages for pid in page] == [
        payment(n).id for n in reversed(range(count))
    ]
    assert store.count_payments() == count


def test_the_status_filter_pages_over_matching_payments_only(store: Store) -> None:
    statuses = ["succeeded", "failed", "succeeded", "canceled", "succeeded", "succeeded"]
    save_payments(store, [payment(n, status=status) for n, status in enumerate(statuses)])
    assert all_pages(store, limit=2, status="succeeded") == [
        [payment(5).id, payment(4).id],
        [payment(2).id, payment(0).id],
    ]
    assert all_pages(store, limit=10, status="refunded") == [[]]
    # starting_after may name a payment the filter leaves out: the page starts after it
    items, has_more = store.list_payments(
        limit=10, starting_after=payment(3).id, status="succeeded"
    )
    assert ([item.id for item in items], has_more) == ([payment(2).id, payment(0).id], False)


def test_an_unknown_starting_after_is_parameter_invalid(store: Store) -> None:
    save_payments(store, [payment(1)])
    with pytest.raises(ParameterInvalid) as payments_error:
        store.list_payments(limit=10, starting_after="pay_unknown", status=None)
    with pytest.raises(ParameterInvalid) as events_error:
        store.list_events(limit=10, starting_after="evt_unknown", type=None, payment_id=None)
    for error in (payments_error, events_error):
        assert error.value.param == "starting_after"
        assert error.value.status == 400


def test_refunds_are_kept_by_id(store: Store) -> None:
    made = refund(1, payment(1).id, 250)
    with store.transaction():
        store.save_refund(made)
    assert store.get_refund(made.id) == made
    assert store.get_refund("re_missing") is None


# -- events ------------------------------------------------------------------------------------


def test_events_keep_their_exact_body_and_filter_by_type_and_payment(store: Store) -> None:
    a, b = payment(1).id, payment(2).id
    made = [
        event(1, a, "payment.created"),
        event(2, b, "payment.created"),
        event(3, a, "payment.succeeded"),
        event(4, a, "payment.refunded"),
        event(5, b, "payment.failed"),
    ]
    with store.transaction():
        for item in made:
            store.add_event(item)
    got = store.get_event(made[2].id)
    assert got == made[2]
    assert got is not None
    assert got.body == made[2].body
    assert store.get_event("evt_missing") is None

    def ids(**query: str | None) -> tuple[list[str], bool]:
        items, has_more = store.list_events(
            limit=query.pop("limit", None) or 10,  # type: ignore[arg-type]
            starting_after=query.get("after"),
            type=query.get("type"),
            payment_id=query.get("payment_id"),
        )
        return [item.id for item in items], has_more

    assert ids() == ([e.id for e in reversed(made)], False)
    assert ids(type="payment.created") == ([made[1].id, made[0].id], False)
    assert ids(payment_id=a) == ([made[3].id, made[2].id, made[0].id], False)
    assert ids(payment_id=a, type="payment.succeeded") == ([made[2].id], False)
    assert ids(payment_id=a, after=made[3].id) == ([made[2].id, made[0].id], False)
    assert ids(limit=2) == ([made[4].id, made[3].id], True)  # type: ignore[arg-type]
    assert [e.id for e in store.events_of(a)] == [made[0].id, made[2].id, made[3].id]
    assert store.events_of("pay_none") == []


# -- idempotency records -----------------------------------------------------------------------


def test_idempotency_records_are_scoped_replaced_and_deleted(store: Store) -> None:
    first = IdempotencyRecord("sk_test_a", "key-1", "f1", 201, b'{"id":"pay_1"}', T0)
    other_scope = IdempotencyRecord("sk_test_b", "key-1", "f2", 409, b'{"error":{}}', T0 + 1)
    with store.transaction():
        store.save_idempotency(first)
        store.save_idempotency(other_scope)
    assert store.get_idempotency("sk_test_a", "key-1") == first
    assert store.get_idempotency("sk_test_b", "key-1") == other_scope
    assert store.get_idempotency("sk_test_a", "key-2") is None
    replaced = IdempotencyRecord("sk_test_a", "key-1", "f3", 200, b"{}", T0 + 2)
    store.save_idempotency(replaced)
    assert store.get_idempotency("sk_test_a", "key-1") == replaced
    store.delete_idempotency("sk_test_a", "key-1")
    store.delete_idempotency("sk_test_a", "never-stored")
    assert store.get_idempotency("sk_test_a", "key-1") is None
    assert store.get_idempotency("sk_test_b", "key-1") == other_scope


# -- webhook endpoints -------------------------------------------------------------------------


def test_endpoints_list_in_creation_order_and_can_be_deleted(store: Store) -> None:
    made = [
        WebhookEndpoint(f"we_{n:024d}", f"http://127.0.0.1:9/{n}", ["*"], f"whsec_{n}", T0 + n)
        for n in range(3)
    ]
    with store.transaction():
        for item in made:
            store.save_endpoint(item)
    assert store.get_endpoint(made[1].id) == made[1]
    made[0] = replace(made[0], enabled_events=["payment.succeeded"])
    store.save_endpoint(made[0])
    assert store.list_endpoints() == made
    store.delete_endpoint(made[1].id)
    store.delete_endpoint("we_missing")
    assert store.list_endpoints() == [made[0], made[2]]
    assert store.get_endpoint(made[1].id) is None


def test_an_endpoint_of_a_dialect_keeps_every_field(store: Store) -> None:
    endpoint = WebhookEndpoint(
        "we_s",
        "http://127.0.0.1:9/stripe",
        ["charge.succeeded", "payment_intent.succeeded"],
        "whsec_s",
        T0,
        dialect="stripe",
        description="orders: ünïcode",
        metadata={"team": "payments"},
    )
    with store.transaction():
        store.save_endpoint(endpoint)
    assert store.get_endpoint("we_s") == endpoint
    disabled = replace(endpoint, status="disabled", description=None, metadata={})
    with store.transaction():
        store.save_endpoint(disabled)
    assert store.get_endpoint("we_s") == disabled
    assert store.list_endpoints() == [disabled]

    def enable() -> None:
        with store.transaction():
            store.save_endpoint(replace(disabled, status="enabled", metadata={"a": "b"}))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        enable()
    assert store.get_endpoint("we_s") == disabled
    assert store.list_endpoints() == [disabled]


# -- deliveries --------------------------------------------------------------------------------


def test_planned_deliveries_are_the_outbox_until_attempted(store: Store) -> None:
    a, b = payment(1).id, payment(2).id
    events = [event(1, a), event(2, b, "payment.failed"), event(3, a, "payment.succeeded")]
    attempts = [delivery(n, ev) for n, ev in enumerate(events)]
    attempts.append(delivery(3, events[0], url=None))
    with store.transaction():
        for item in attempts:
            store.save_delivery(item)
    assert [item.id for item in store.pending_deliveries()] == [item.id for item in attempts]
    assert store.list_deliveries(event_id=None, type=None, payment_id=None) == []

    failed, succeeded = mark_sent(attempts[0], 500), mark_sent(attempts[2])
    store.save_delivery(failed)
    store.save_delivery(succeeded)
    pending = store.pending_deliveries()
    assert [item.id for item in pending] == [attempts[1].id, attempts[3].id]
    assert all(item.sent_at is None for item in pending)

    made = store.list_deliveries(event_id=None, type=None, payment_id=None)
    assert made == [succeeded, failed], "newest first, with headers and status"
    assert made[1].headers["Paysim-Signature"].startswith("t=1,v1=")
    assert made[1].headers == failed.headers
    assert made[1].signed_with == failed.signed_with
    assert made[1].body == events[0].body
    assert made[1].succeeded is False
    assert made[1].error == "HTTP 500"


def test_a_delivery_body_comes_back_exactly_whether_or_not_it_is_its_events(
    store: Store,
) -> None:
    ev = event(1, payment(1).id)
    same, orphan = delivery(1, ev), delivery(3, event(2, payment(1).id))
    other = replace(delivery(2, ev), body=b'{"changed":true}')
    with store.transaction():
        store.add_event(ev)
        for item in (same, other, orphan):
            store.save_delivery(item)
    assert [item.body for item in store.pending_deliveries()] == [ev.body, other.body, orphan.body]
    for item in (same, other, orphan):
        store.save_delivery(mark_sent(item))
    listed = store.list_deliveries(event_id=None, type=None, payment_id=None)
    assert [item.body for item in listed] == [orphan.body, other.body, ev.body]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({}, [4, 3, 1, 0], id="all"),
        pytest.param({"limit": 2}, [4, 3], id="limit"),
        pytest.param({"event_id": "evt_" + "0" * 24}, [1, 0], id="event"),
        pytest.param({"type": "payment.failed"}, [3], id="type"),
        pytest.param({"payment_id": payment(1).id}, [4, 1, 0], id="payment"),
        pytest.param({"payment_id": payment(1).id, "type": "payment.succeeded"}, [4], id="both"),
    ],
)
def test_deliveries_filter_by_event_type_and_payment(
    store: Store, query: dict[str, str], expected: list[int]
) -> None:
    a, b = payment(1).id, payment(2).id
    events = [event(0, a), event(1, b, "payment.failed"), event(2, a, "payment.succeeded")]
    attempts = [
        mark_sent(delivery(0, events[0]), 500),
        mark_sent(delivery(1, events[0])),  # the retry of attempt 0
        delivery(2, events[1]),  # planned only: never listed
        mark_sent(delivery(3, events[1])),
        mark_sent(delivery(4, events[2])),
    ]
    with store.transaction():
        for item in attempts:
            store.save_delivery(item)
    got = store.list_deliveries(
        event_id=query.get("event_id"),
        type=query.get("type"),
        payment_id=query.get("payment_id"),
        limit=query.get("limit"),  # type: ignore[arg-type]
    )
    assert [item.id for item in got] == [attempts[n].id for n in expected]


# -- settings, clear, transactions -------------------------------------------------------------


def test_settings_are_set_overwritten_and_survive_clear(store: Store) -> None:
    assert store.get_setting("api_key") is None
    store.set_setting("api_key", "sk_test_1")
    store.set_setting("api_key", "sk_test_2")
    with store.transaction():
        store.clear()
    assert store.get_setting("api_key") == "sk_test_2"


def test_clear_removes_every_record(store: Store) -> None:
    made = payment(1)
    ev = event(1, made.id)
    with store.transaction():
        store.save_payment(made)
        store.save_refund(refund(1, made.id))
        store.add_event(ev)
        store.save_idempotency(IdempotencyRecord("s", "k", "f", 201, b"{}", T0))
        store.save_endpoint(WebhookEndpoint("we_1", "http://x.test/", ["*"], "whsec_1", T0))
        store.save_delivery(delivery(1, ev))
        store.save_delivery(mark_sent(delivery(2, ev)))
    with store.transaction():
        store.clear()
    assert store.get_payment(made.id) is None
    assert store.get_refund(refund(1, made.id).id) is None
    assert store.get_event(ev.id) is None
    assert store.get_idempotency("s", "k") is None
    assert store.get_endpoint("we_1") is None
    assert store.list_endpoints() == []
    assert store.pending_deliveries() == []
    assert store.list_deliveries(event_id=None, type=None, payment_id=None) == []
    assert store.list_payments(limit=10, starting_after=None, status=None) == ([], False)
    assert store.list_events(limit=10, starting_after=None, type=None, payment_id=None) == (
        [],
        False,
    )
    assert store.events_of(made.id) == []
    assert store.count_payments() == 0
    save_payments(store, [payment(2)])
    assert all_pages(store, limit=10) == [[payment(2).id]]


def test_an_exception_leaves_the_transaction_and_the_store_usable(store: Store) -> None:
    def fail() -> None:
        with store.transaction(), store.transaction():
            store.save_payment(payment(1))
            raise KeyError("boom")

    with pytest.raises(KeyError):
        fail()
    save_payments(store, [payment(2)])
    assert store.get_payment(payment(2).id) == payment(2)


# -- only the SQLite store ---------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "paysim.sqlite"


def test_a_failed_transaction_applies_nothing(db: Path) -> None:
    store = SqliteStore(db)
    kept = payment(1)
    save_payments(store, [kept])

    def operation() -> None:
        with store.transaction():
            stored = store.get_payment(kept.id)
            assert stored is not None
            changed = stored.copy()
            changed.status = "succeeded"
            changed.refunds.append(refund(1, kept.id))
            store.save_payment(changed)
            store.save_refund(changed.refunds[0])
            store.add_event(event(1, kept.id))
            store.save_payment(payment(2))
            store.save_idempotency(IdempotencyRecord("s", "k", "f", 201, b"{}", T0))
            store.save_delivery(delivery(1, event(1, kept.id)))
            with store.transaction():  # a nested transaction joins the outer one
                store.set_setting("hmac_secret", "whsec_new")
            raise RuntimeError("the operation failed half way")

    with pytest.raises(RuntimeError):
        operation()
    store.close()

    reopened = SqliteStore(db)
    assert reopened.get_payment(kept.id) == kept
    assert reopened.get_payment(payment(2).id) is None
    assert reopened.get_refund(refund(1, kept.id).id) is None
    assert reopened.events_of(kept.id) == []
    assert reopened.get_idempotency("s", "k") is None
    assert reopened.pending_deliveries() == []
    assert reopened.get_setting("hmac_secret") is None
    assert reopened.count_payments() == 1
    reopened.close()


def test_everything_committed_is_there_after_reopening(db: Path) -> None:
    store = SqliteStore(db)
    made = payment(1, status="succeeded")
    made.refunds = [refund(1, made.id)]
    ev = event(1, made.id)
    record = IdempotencyRecord("sk_test_a", "k", "f", 201, b'{"id":"x"}', T0)
    endpoint = WebhookEndpoint("we_1", "http://x.test/", ["payment.succeeded"], "whsec_e", T0)
    planned, sent = delivery(1, ev), mark_sent(delivery(2, ev), 503)
    with store.transaction():
        store.save_payment(made)
        store.save_refund(made.refunds[0])
        store.add_event(ev)
        store.save_idempotency(record)
        store.save_endpoint(endpoint)
        store.save_delivery(planned)
        store.save_delivery(sent)
        store.set_setting("api_key", "sk_test_kept")
    store.close()

    reopened = SqliteStore(db)
    assert reopened.get_payment(made.id) == made
    assert reopened.get_refund(made.refunds[0].id) == made.refunds[0]
    assert reopened.get_event(ev.id) == ev
    assert reopened.get_idempotency("sk_test_a", "k") == record
    assert reopened.list_endpoints() == [endpoint]
    assert reopened.pending_deliveries() == [planned]
    assert reopened.list_deliveries(event_id=ev.id, type=None, payment_id=None) == [sent]
    assert reopened.get_setting("api_key") == "sk_test_kept"
    reopened.close()


def test_a_delivery_keeps_no_copy_of_its_events_body(db: Path) -> None:
    store = SqliteStore(db)
    ev = event(1, payment(1).id)
    other = replace(delivery(2, ev), body=b"{}")
    with store.transaction():
        store.add_event(ev)
        store.save_delivery(delivery(1, ev))
        store.save_delivery(other)
    store.close()
    (row,) = journal(db)
    bodies = {change[1][0]: change[2:] for change in row}
    assert bodies == {ev.id: (ev.body,), delivery(1, ev).id: (), other.id: (b"{}",)}
    reopened = SqliteStore(db)
    assert [attempt.body for attempt in reopened.pending_deliveries()] == [ev.body, b"{}"]
    reopened.close()


def test_a_body_inside_an_earlier_body_of_its_row_is_kept_as_a_slice_of_it(db: Path) -> None:
    answer = dump_json({"id": payment(1).id, "object": "payment", "amount": 1000, "x": "y" * 80})
    body = b'{"id":"evt_1","data":{"object":' + answer + b"}}"
    ev = replace(event(1, payment(1).id), body=body)
    record = IdempotencyRecord("sk_test_a", "k", "f", 201, answer, T0)
    short = IdempotencyRecord("sk_test_a", "short", "f", 201, b"{}", T0)  # too short to look for
    store = SqliteStore(db)
    with store.transaction():
        store.add_event(ev)
        store.save_idempotency(record)
        store.save_idempotency(short)
    store.close()
    (row,) = journal(db)
    start = body.index(answer)
    assert [change[2] for change in row] == [body, (0, start, start + len(answer)), b"{}"]
    reopened = SqliteStore(db)
    assert reopened.get_idempotency("sk_test_a", "k") == record
    assert reopened.get_event(ev.id) == ev
    reopened.close()


def journal(path: Path) -> list[list[tuple[object, ...]]]:
    """The changes of each journal row, as stored (a body kept as a slice is its slice)."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT changes FROM journal ORDER BY seq").fetchall()
    conn.close()
    return [[tuple(change) for change in pickle.loads(blob)] for (blob,) in rows]


class _MakesADirectory:
    """Pickled, a call of ``os.mkdir``: what a crafted row could try."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, ...]:
        return (os.mkdir, (str(self.path),))


def test_a_crafted_row_that_names_a_global_is_refused_and_runs_nothing(
    db: Path, tmp_path: Path
) -> None:
    SqliteStore(db).close()
    marker = tmp_path / "made-by-the-row"
    crafted = pickle.dumps([("payment", [_MakesADirectory(marker)])], protocol=5)
    _sqlite(db, "INSERT INTO journal (changes) VALUES (?)", (crafted,))
    with pytest.raises(ConfigurationError, match=r"damaged journal row \(1\).*plain values only"):
        SqliteStore(db)
    assert not marker.exists()


def _event_change(event_id: str, body: object) -> tuple[object, ...]:
    """A journal change of a valid event (schema 9), with ``body`` as given."""
    return ("event", [event_id, "payment.created", "pay_1", T0, "native"], body)


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(b"not a pickle", id="not-a-pickle"),
        pytest.param(pickle.dumps({"payment": 1}, protocol=5), id="not-a-list"),
        pytest.param(pickle.dumps([("nothing", [1])], protocol=5), id="unknown-kind"),
        pytest.param(pickle.dumps([("event", ["evt_1"], 12)], protocol=5), id="body-not-bytes"),
        pytest.param(pickle.dumps([("event", ["evt_1"], (5, 0, 1))], protocol=5), id="bad-slice"),
        pytest.param(
            pickle.dumps([_event_change("evt_1", b"{}"), _event_change("evt_2", (-2, 0, 1))], 5),
            id="slice-not-of-an-earlier-change",
        ),
        pytest.param(pickle.dumps([("event", ["evt_1"], b"{}")], protocol=5), id="missing-fields"),
    ],
)
def test_a_damaged_row_is_refused_with_its_number(db: Path, row: bytes) -> None:
    SqliteStore(db).close()
    _sqlite(db, "INSERT INTO journal (changes) VALUES (?)", (row,))
    with pytest.raises(ConfigurationError, match=r"has a damaged journal row \(1\)"):
        SqliteStore(db)


def test_a_record_holding_more_than_plain_values_fails_its_write_and_changes_nothing(
    db: Path,
) -> None:
    store = SqliteStore(db)
    odd = replace(payment(1), attributes={"when": Path("/not/json")})
    with pytest.raises(TypeError, match="plain values only, not pathlib"):
        store.save_payment(odd)
    assert store.get_payment(odd.id) is None
    store.save_payment(payment(2))  # the next write goes on as usual
    store.close()
    reopened = SqliteStore(db)
    assert reopened.count_payments() == 1
    assert reopened.get_payment(payment(2).id) == payment(2)
    reopened.close()


def test_a_clear_taken_back_leaves_the_records_and_the_next_write_alone(db: Path) -> None:
    store = SqliteStore(db)
    store.save_payment(payment(1))

    def clear_then_fail() -> None:
        with store.transaction():
            store.save_payment(payment(2))
            store.set_setting("seed", "9")
            store.clear()  # takes a copy of all the store holds, the unwritten changes too
            store.save_payment(payment(3))
            raise KeyError("taken back")

    with pytest.raises(KeyError):
        clear_then_fail()
    assert [p.id for p in store.list_payments(limit=9, starting_after=None, status=None)[0]] == [
        payment(1).id
    ]
    store.save_payment(payment(4))
    store.close()
    reopened = SqliteStore(db)
    assert reopened.list_payments(limit=9, starting_after=None, status=None)[0] == [
        payment(4),
        payment(1),
    ]
    assert reopened.get_setting("seed") is None
    reopened.close()


def test_the_file_is_in_wal_mode_with_the_schema_version(db: Path) -> None:
    SqliteStore(db).close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        pytest.param(
            lambda path: path.write_bytes(b"not a database at all, " * 100),
            "as a paysim database",
            id="not-sqlite",
        ),
        pytest.param(
            lambda path: _sqlite(path, "CREATE TABLE users (name TEXT)"),
            "database of something else",
            id="other-sqlite",
        ),
        pytest.param(
            lambda path: _sqlite(path, "PRAGMA user_version = 99"),
            "another paysim version",
            id="other-version",
        ),
        pytest.param(lambda path: path.mkdir(), "cannot", id="a-directory"),
    ],
)
def test_a_file_paysim_cannot_use_is_refused(db: Path, prepare: object, message: str) -> None:
    prepare(db)  # type: ignore[operator]
    with pytest.raises(ConfigurationError, match=message):
        SqliteStore(db)


def _sqlite(path: Path, statement: str, values: tuple[object, ...] = ()) -> None:
    conn = sqlite3.connect(path)
    conn.execute(statement, values)
    conn.commit()
    conn.close()


def test_synchronous_must_be_normal_or_full(db: Path) -> None:
    with pytest.raises(ConfigurationError, match="NORMAL or FULL"):
        SqliteStore(db, synchronous="OFF")
    store = SqliteStore(db, synchronous="full")
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()

"""The in-memory store: newest-first pages, ``starting_after``, filters, and ``clear``."""

from __future__ import annotations

import pytest

from pytest_paysim.core.models import DeliveryAttempt, Event, IdempotencyRecord, Payment
from pytest_paysim.core.store import MemoryStore
from pytest_paysim.errors import ParameterInvalid


def _payment(number: int, status: str = "requires_payment_method") -> Payment:
    return Payment(
        id=f"pay_{number}",
        amount=100 + number,
        currency="usd",
        client_secret=f"pay_{number}_secret_x",
        payment_url=f"http://x/pay/pay_{number}",
        created_at=float(number),
        updated_at=float(number),
        status=status,
    )


def _event(number: int, type_: str, payment_id: str) -> Event:
    return Event(f"evt_{number}", type_, payment_id, float(number), b"{}")


def _ids(page: tuple[list[Payment], bool] | tuple[list[Event], bool]) -> tuple[list[str], bool]:
    records, has_more = page
    return [record.id for record in records], has_more


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    with store.transaction():
        for number in range(1, 8):
            store.save_payment(_payment(number, "succeeded" if number % 2 else "failed"))
    return store


def _list(store: MemoryStore, **kw: object) -> tuple[list[str], bool]:
    args: dict[str, object] = {"limit": 10, "starting_after": None, "status": None, **kw}
    return _ids(store.list_payments(**args))  # type: ignore[arg-type]


def test_newest_first(store: MemoryStore) -> None:
    assert _list(store) == ([f"pay_{n}" for n in range(7, 0, -1)], False)
    assert store.count_payments() == 7


@pytest.mark.parametrize(
    ("limit", "expected", "has_more"),
    [
        pytest.param(1, ["pay_7"], True, id="1"),
        pytest.param(3, ["pay_7", "pay_6", "pay_5"], True, id="3"),
        pytest.param(6, [f"pay_{n}" for n in range(7, 1, -1)], True, id="6"),
        pytest.param(7, [f"pay_{n}" for n in range(7, 0, -1)], False, id="exactly-all"),
        pytest.param(100, [f"pay_{n}" for n in range(7, 0, -1)], False, id="100"),
    ],
)
def test_limit_and_has_more(
    store: MemoryStore, limit: int, expected: list[str], has_more: bool
) -> None:
    assert _list(store, limit=limit) == (expected, has_more)


def test_starting_after_walks_every_page(store: MemoryStore) -> None:
    seen: list[str] = []
    after = None
    for _ in range(10):
        page, has_more = _list(store, limit=3, starting_after=after)
        seen += page
        if not has_more:
            break
        after = page[-1]
    assert seen == [f"pay_{n}" for n in range(7, 0, -1)]
    assert _list(store, starting_after="pay_1") == ([], False)
    assert _list(store, starting_after="pay_5", limit=2) == (["pay_4", "pay_3"], True)


def test_unknown_starting_after(store: MemoryStore) -> None:
    with pytest.raises(ParameterInvalid) as info:
        _list(store, starting_after="pay_nope")
    assert (info.value.code, info.value.param) == ("parameter_invalid", "starting_after")


def test_status_filter(store: MemoryStore) -> None:
    assert _list(store, status="failed") == (["pay_6", "pay_4", "pay_2"], False)
    assert _list(store, status="failed", limit=2) == (["pay_6", "pay_4"], True)
    # has_more only when another *matching* record follows.
    assert _list(store, status="failed", limit=3) == (["pay_6", "pay_4", "pay_2"], False)
    assert _list(store, status="failed", starting_after="pay_6", limit=1) == (["pay_4"], True)
    # starting_after may name a record the filter leaves out.
    assert _list(store, status="failed", starting_after="pay_5") == (["pay_4", "pay_2"], False)
    assert _list(store, status="canceled") == ([], False)


def test_saving_again_keeps_the_position(store: MemoryStore) -> None:
    stored = store.get_payment("pay_2")
    assert stored is not None
    payment = stored.copy()
    payment.status = "canceled"
    store.save_payment(payment)
    assert _list(store)[0][-2:] == ["pay_2", "pay_1"]
    assert _list(store, status="canceled") == (["pay_2"], False)


def test_events_filters_and_pages() -> None:
    store = MemoryStore()
    kinds = ["payment.created", "payment.succeeded", "payment.refunded"]
    for number in range(1, 10):
        store.add_event(_event(number, kinds[number % 3], f"pay_{number % 2}"))

    def page(**kw: object) -> tuple[list[str], bool]:
        args: dict[str, object] = {
            "limit": 10,
            "starting_after": None,
            "type": None,
            "payment_id": None,
            **kw,
        }
        return _ids(store.list_events(**args))  # type: ignore[arg-type]

    assert page() == ([f"evt_{n}" for n in range(9, 0, -1)], False)
    assert page(type="payment.created") == (["evt_9", "evt_6", "evt_3"], False)
    assert page(payment_id="pay_0", limit=2) == (["evt_8", "evt_6"], True)
    assert page(type="payment.created", payment_id="pay_1") == (["evt_9", "evt_3"], False)
    assert page(starting_after="evt_3") == (["evt_2", "evt_1"], False)
    with pytest.raises(ParameterInvalid):
        page(starting_after="evt_nope")
    assert [event.id for event in store.events_of("pay_1")] == [f"evt_{n}" for n in (1, 3, 5, 7, 9)]
    assert store.events_of("pay_none") == []
    event = store.get_event("evt_4")
    assert event is not None
    assert event.type == kinds[1]


def test_deliveries_pending_and_made() -> None:
    store = MemoryStore()

    def attempt(number: int, sent: bool) -> DeliveryAttempt:
        return DeliveryAttempt(
            id=f"whd_{number}",
            event_id="evt_1" if number < 3 else "evt_2",
            type="payment.created",
            payment_id="pay_1",
            url=None,
            endpoint_id=None,
            attempt=1,
            due_at=0.0,
            generation=0,
            sent_at=1.0 if sent else None,
        )

    for number, sent in ((1, True), (2, False), (3, True), (4, True)):
        store.save_delivery(attempt(number, sent))
    assert [a.id for a in store.pending_deliveries()] == ["whd_2"]

    def made(**kw: object) -> list[str]:
        args: dict[str, object] = {"event_id": None, "type": None, "payment_id": None, **kw}
        return [a.id for a in store.list_deliveries(**args)]  # type: ignore[arg-type]

    assert made() == ["whd_4", "whd_3", "whd_1"]
    assert made(event_id="evt_1") == ["whd_1"]
    assert made(limit=2) == ["whd_4", "whd_3"]
    assert made(type="payment.refunded") == []
    assert made(payment_id="pay_2") == []


def test_clear_keeps_settings() -> None:
    store = MemoryStore()
    store.set_setting("api_key", "sk_test_x")
    store.save_payment(_payment(1))
    store.add_event(_event(1, "payment.created", "pay_1"))
    store.save_idempotency(IdempotencyRecord("s", "k", "fp", 200, b"{}", 0.0))
    store.clear()
    assert store.get_payment("pay_1") is None
    assert store.get_event("evt_1") is None
    assert store.get_idempotency("s", "k") is None
    assert store.count_payments() == 0
    assert store.list_payments(limit=10, starting_after=None, status=None) == ([], False)
    assert store.get_setting("api_key") == "sk_test_x"


def test_idempotency_records() -> None:
    store = MemoryStore()
    record = IdempotencyRecord("scope", "key", "fp", 201, b"{}", 0.0)
    store.save_idempotency(record)
    assert store.get_idempotency("scope", "key") is record
    assert store.get_idempotency("other", "key") is None
    store.delete_idempotency("scope", "key")
    store.delete_idempotency("scope", "key")  # deleting twice is fine
    assert store.get_idempotency("scope", "key") is None

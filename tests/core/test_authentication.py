"""3-D Secure in the core (SPEC sections 4 and 9): ``requires_action`` and ``authenticate``.

Every new row of the transition table is driven through a real ``Simulator``, in the in-memory
store and in SQLite: pay → ``requires_action`` (by each 3-D Secure card, or by a forced
outcome), authenticate → succeed / decline / fail, cancel from ``requires_action``. Every
refused operation must be a 409 naming the status that changes nothing; ``next_action`` is
the exact redirect while the payment waits for authentication and None in every other state;
and an authentication that fails half-way leaves no trace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pytest_paysim.core import transitions as tx
from pytest_paysim.core.cards import DECLINE_CODES, DECLINE_MESSAGES, TEST_CARDS
from pytest_paysim.core.models import Payment
from pytest_paysim.core.outcomes import AUTHENTICATION_OUTCOMES, FORCED_OUTCOMES
from pytest_paysim.core.simulator import Simulator, SimulatorConfig
from pytest_paysim.core.sqlite_store import SqliteStore
from pytest_paysim.core.store import MemoryStore, Store
from pytest_paysim.errors import ParameterInvalid, PaymentUnexpectedState, ResourceMissing

SEED = 3184
BASE_URL = "http://127.0.0.1:48123"
FROZEN_AT = 1_772_366_400.0  # 2026-03-01T12:00:00Z: snapshots compare equal
AMOUNT = 2500
RETURN_URL = "https://shop.test/orders/7/return?step=3ds"

CARD_3184 = "4000002760003184"
CARD_3155 = "4000002500003155"
CARD_3178 = "4000008260003178"  # declines with insufficient_funds once authenticated
GOOD_CARD = "4242424242424242"
DECLINING_CARD = "4000000000000002"

RPM = "requires_payment_method"
REQUIRES_ACTION = "requires_action"
OTHER_STATUSES = ("requires_payment_method", "failed", "authorized", "succeeded", "captured")
OTHER_STATUSES += ("refunded", "canceled")


class Planted(Exception):
    """The failure a test plants inside an operation."""


# -- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "p.db")
    yield made
    made.close()


def new_simulator(store: Store | None = None) -> Simulator:
    simulator = Simulator(SimulatorConfig(seed=SEED, base_url=BASE_URL), store=store)
    simulator.clock.freeze(FROZEN_AT)
    return simulator


@pytest.fixture
def sim(store: Store) -> Simulator:
    return new_simulator(store)


def create(sim: Simulator, **params: Any) -> Payment:
    return sim.create_payment(amount=AMOUNT, currency="usd", **params)


def waiting(
    sim: Simulator, *, card: str = CARD_3184, capture_method: str = "automatic", **params: Any
) -> Payment:
    """A new payment paid with a 3-D Secure card: in ``requires_action``."""
    payment = create(sim, capture_method=capture_method, **params)
    paid = sim.pay(payment.id, card_number=card)
    assert paid.status == REQUIRES_ACTION, paid
    return paid


def payment_in(sim: Simulator, status: str) -> Payment:
    """A new payment brought to ``status`` through real operations."""
    if status == REQUIRES_ACTION:
        return waiting(sim)
    manual = status in ("authorized", "captured")
    payment = create(sim, capture_method="manual" if manual else "automatic")
    if status == RPM:
        return payment
    if status == "canceled":
        return sim.cancel(payment.id)
    if status == "failed":
        return sim.pay(payment.id, outcome="fail")
    paid = sim.pay(payment.id, outcome="succeed")
    if status == "captured":
        paid = sim.capture(payment.id)
    elif status == "refunded":
        sim.refund(payment.id)
        paid = sim.get_payment(payment.id)
    assert paid.status == status, paid
    return paid


def types_of(sim: Simulator, payment_id: str) -> list[str]:
    return [event.type for event in sim.events_of(payment_id)]


def statuses_in_events(sim: Simulator, payment_id: str) -> list[str]:
    """The payment's status as each of its events carried it."""
    return [event.to_dict()["data"]["object"]["status"] for event in sim.events_of(payment_id)]


def expected_next_action(payment: Payment, return_url: str | None = None) -> dict[str, Any]:
    return {
        "type": "redirect_to_url",
        "redirect_to_url": {
            "url": f"{BASE_URL}/authenticate/{payment.id}?client_secret={payment.client_secret}",
            "return_url": return_url,
        },
    }


def everything(sim: Simulator) -> dict[str, Any]:
    """All the simulator holds, hidden payment fields included; equal means nothing changed."""
    payments, _ = sim.payments(limit=1000)
    events, _ = sim.events(limit=1000)
    return {
        "payments": [payment.to_dict() for payment in payments],
        "hidden": [
            (payment.id, payment.authentication_url, payment.decline_after_authentication)
            for payment in payments
        ],
        "events": [event.to_dict() for event in events],
        "deliveries": [attempt.to_dict() for attempt in sim.deliveries()],
        "pending": [attempt.to_dict() for attempt in sim.pending_deliveries()],
        "endpoints": [endpoint.to_dict(with_secret=True) for endpoint in sim.endpoints()],
        "outcomes": sim.outcomes(),
        "log": [attempt.id for attempt in sim.attempts()],
    }


def assert_waits_for_authentication(
    payment: Payment, *, return_url: str | None = None, capture_method: str = "automatic"
) -> None:
    __tracebackhide__ = True
    assert payment.status == REQUIRES_ACTION
    assert payment.capture_method == capture_method
    assert (payment.amount_capturable, payment.amount_captured, payment.amount_refunded) == (
        0,
        0,
        0,
    )
    assert payment.next_action() == expected_next_action(payment, return_url)
    assert payment.to_dict()["next_action"] == expected_next_action(payment, return_url)


# -- the table ---------------------------------------------------------------------------------

# (operation, from, to, event), written out from SPEC section 4.
SPEC_AUTHENTICATION_ROWS = [
    pytest.param("pay", {RPM, "failed"}, REQUIRES_ACTION, "payment.requires_action", id="pay"),
    pytest.param(
        "authenticate", {REQUIRES_ACTION}, "succeeded", "payment.succeeded", id="auth-automatic"
    ),
    pytest.param(
        "authenticate", {REQUIRES_ACTION}, "authorized", "payment.authorized", id="auth-manual"
    ),
    pytest.param("authenticate", {REQUIRES_ACTION}, "failed", "payment.failed", id="auth-fail"),
    pytest.param(
        "cancel",
        {RPM, "failed", "authorized", REQUIRES_ACTION},
        "canceled",
        "payment.canceled",
        id="cancel",
    ),
]


@pytest.mark.parametrize(("operation", "sources", "target", "event"), SPEC_AUTHENTICATION_ROWS)
def test_the_table_has_the_spec_row(
    operation: str, sources: set[str], target: str, event: str
) -> None:
    rows = [
        (set(row.sources), row.target, row.event)
        for row in tx.TRANSITIONS
        if row.operation == operation
    ]
    assert (sources, target, event) in rows


def test_the_table_names_the_new_status_rows_and_event() -> None:
    assert tx.REQUIRES_ACTION == REQUIRES_ACTION
    assert REQUIRES_ACTION in tx.STATUSES
    assert "payment.requires_action" in tx.EVENT_TYPES
    assert tx.EVENT_TYPES.count("payment.requires_action") == 1
    for row in (
        tx.PAY_REQUIRES_ACTION,
        tx.AUTHENTICATE_SUCCEED_AUTOMATIC,
        tx.AUTHENTICATE_SUCCEED_MANUAL,
        tx.AUTHENTICATE_DECLINED,
        tx.AUTHENTICATE_FAIL,
    ):
        assert row in tx.TRANSITIONS
        assert row.case  # the docs tell the rows of one operation apart
    assert REQUIRES_ACTION in tx.CANCEL.sources
    assert tx.allowed_from("authenticate") == (REQUIRES_ACTION,)
    for operation in ("pay", "capture", "refund"):
        assert REQUIRES_ACTION not in tx.allowed_from(operation), operation
    table = tx.markdown_table()
    assert (
        "| `requires_action` | authenticate (succeed, automatic capture) | `succeeded` |" in table
    )
    assert "| `requires_payment_method`, `failed` | pay (needs authentication" in table
    assert "`requires_action` | cancel | `canceled` | `payment.canceled` |" in table


def test_the_outcome_vocabularies() -> None:
    assert AUTHENTICATION_OUTCOMES == ("succeed", "fail")
    assert set(FORCED_OUTCOMES) == {"succeed", "fail", "abandon", REQUIRES_ACTION}
    assert TEST_CARDS[CARD_3184].outcome == TEST_CARDS[CARD_3155].outcome == REQUIRES_ACTION
    assert TEST_CARDS[CARD_3178].outcome == REQUIRES_ACTION
    assert TEST_CARDS[CARD_3178].decline_code == "insufficient_funds"


# -- pay → requires_action ---------------------------------------------------------------------

THREE_DS_CARDS = [
    pytest.param(CARD_3184, id="3184"),
    pytest.param(CARD_3155, id="3155"),
    pytest.param(CARD_3178, id="3178-declines-later"),
    pytest.param("4000 0027 6000 3184", id="3184-spaced"),
    pytest.param("4000-0082-6000-3178", id="3178-dashed"),
]


@pytest.mark.parametrize("card", THREE_DS_CARDS)
@pytest.mark.parametrize(
    "capture_method", [pytest.param("automatic", id="auto"), pytest.param("manual", id="manual")]
)
def test_a_3ds_card_sends_the_payment_to_requires_action(
    sim: Simulator, card: str, capture_method: str
) -> None:
    payment = create(sim, capture_method=capture_method, return_url=RETURN_URL)
    paid = sim.pay(payment.id, card_number=card)
    assert_waits_for_authentication(paid, return_url=RETURN_URL, capture_method=capture_method)
    assert (paid.failure_code, paid.decline_code, paid.failure_message) == (None, None, None)
    assert sim.get_payment(payment.id).to_dict() == paid.to_dict()
    assert types_of(sim, payment.id) == ["payment.created", "payment.requires_action"]
    assert statuses_in_events(sim, payment.id) == [RPM, REQUIRES_ACTION]
    event = sim.events_of(payment.id)[-1].to_dict()
    assert event["data"]["object"]["next_action"] == expected_next_action(paid, RETURN_URL)


@pytest.mark.parametrize("card", THREE_DS_CARDS[:3])
def test_a_3ds_card_after_a_decline_sends_the_payment_to_requires_action(
    sim: Simulator, card: str
) -> None:
    payment = create(sim)
    assert sim.pay(payment.id, card_number=DECLINING_CARD).status == "failed"
    paid = sim.pay(payment.id, card_number=card)
    assert_waits_for_authentication(paid)
    assert types_of(sim, payment.id) == [
        "payment.created",
        "payment.failed",
        "payment.requires_action",
    ]


FORCED_REQUESTS = [
    pytest.param({"outcome": "succeed"}, id="outcome-succeed"),
    pytest.param({"outcome": "fail"}, id="outcome-fail"),
    pytest.param({"outcome": "fail", "decline_code": "lost_card"}, id="outcome-fail-lost-card"),
    pytest.param({"outcome": "abandon"}, id="outcome-abandon"),
    pytest.param({"card_number": GOOD_CARD}, id="good-card"),
    pytest.param({"card_number": DECLINING_CARD}, id="declining-card"),
    pytest.param({"card_number": CARD_3155}, id="3ds-card"),
    pytest.param({}, id="nothing-asked"),
]


@pytest.mark.parametrize("request_body", FORCED_REQUESTS)
@pytest.mark.parametrize(
    "per_payment", [pytest.param(False, id="global"), pytest.param(True, id="per-payment")]
)
def test_forced_requires_action_wins_over_what_the_request_asks(
    sim: Simulator, request_body: dict[str, Any], per_payment: bool
) -> None:
    payment = create(sim, return_url=RETURN_URL)
    sim.force_outcome(REQUIRES_ACTION, payment_id=payment.id if per_payment else None)
    paid = sim.pay(payment.id, **request_body)
    assert_waits_for_authentication(paid, return_url=RETURN_URL)
    assert types_of(sim, payment.id) == ["payment.created", "payment.requires_action"]
    assert sim.outcomes()["outcomes"] == []  # times=1: used up
    # Whatever the request asked (a decline code of its own included), authentication
    # completes the payment: only a forced decline code declines it afterwards.
    done = sim.authenticate(payment.id)
    assert (done.status, done.decline_code) == ("succeeded", None)


@pytest.mark.parametrize(
    ("times", "waiting_count"),
    [
        pytest.param(1, 1, id="times-1"),
        pytest.param(2, 2, id="times-2"),
        pytest.param(None, 4, id="times-none-always"),
    ],
)
def test_forced_requires_action_applies_times_attempts(
    sim: Simulator, times: int | None, waiting_count: int
) -> None:
    sim.force_outcome(REQUIRES_ACTION, times=times)
    statuses = [sim.pay(create(sim).id, outcome="succeed").status for _ in range(4)]
    assert statuses == [REQUIRES_ACTION] * waiting_count + ["succeeded"] * (4 - waiting_count)
    left = sim.outcomes()["outcomes"]
    if times is None:
        assert left == [
            {
                "outcome": REQUIRES_ACTION,
                "times": None,
                "payment_id": None,
                "decline_code": None,
                "required": True,
                "used": 4,
            }
        ]
    else:
        assert left == []


def test_a_per_payment_requires_action_leaves_other_payments_alone(sim: Simulator) -> None:
    target, other = create(sim), create(sim)
    sim.force_outcome("fail", decline_code="stolen_card", times=None)  # the global rule
    sim.force_outcome(REQUIRES_ACTION, payment_id=target.id)
    assert sim.pay(other.id, outcome="succeed").decline_code == "stolen_card"
    assert sim.pay(target.id, outcome="succeed").status == REQUIRES_ACTION  # before the global
    assert types_of(sim, other.id) == ["payment.created", "payment.failed"]


@pytest.mark.parametrize("decline_code", [pytest.param(code, id=code) for code in DECLINE_CODES])
def test_forced_requires_action_with_a_decline_code_declines_once_authenticated(
    sim: Simulator, decline_code: str
) -> None:
    payment = create(sim)
    sim.force_outcome(REQUIRES_ACTION, payment_id=payment.id, decline_code=decline_code)
    paid = sim.pay(payment.id, card_number=GOOD_CARD)
    assert_waits_for_authentication(paid)
    assert paid.decline_code is None  # not declined yet: nothing to show before authentication
    declined = sim.authenticate(payment.id)
    assert declined.status == "failed"
    assert declined.failure_code == "card_declined"
    assert declined.decline_code == decline_code
    assert declined.failure_message == DECLINE_MESSAGES[decline_code]
    assert declined.next_action() is None
    assert types_of(sim, payment.id) == [
        "payment.created",
        "payment.requires_action",
        "payment.failed",
    ]


def test_forced_requires_action_with_a_decline_code_then_failed_authentication(
    sim: Simulator,
) -> None:
    payment = create(sim)
    sim.force_outcome(REQUIRES_ACTION, decline_code="fraudulent")
    sim.pay(payment.id, outcome="succeed")
    failed = sim.authenticate(payment.id, outcome="fail")
    assert (failed.failure_code, failed.decline_code) == ("authentication_failed", None)


def test_forcing_rejects_an_unknown_outcome_and_a_bad_decline_code(sim: Simulator) -> None:
    with pytest.raises(ParameterInvalid) as unknown:
        sim.force_outcome("requires_authentication")
    assert unknown.value.param == "outcome"
    with pytest.raises(ParameterInvalid) as bad_code:
        sim.force_outcome(REQUIRES_ACTION, decline_code="authentication_failed")
    assert bad_code.value.param == "decline_code"
    assert sim.outcomes()["outcomes"] == []


def test_pay_cannot_ask_for_requires_action_itself(sim: Simulator) -> None:
    payment = create(sim)
    before = everything(sim)
    with pytest.raises(ParameterInvalid) as refused:
        sim.pay(payment.id, outcome=REQUIRES_ACTION)
    assert refused.value.param == "outcome"
    assert everything(sim) == before


# -- authenticate ------------------------------------------------------------------------------

SUCCEEDING_3DS = [
    pytest.param("card", CARD_3184, id="card-3184"),
    pytest.param("card", CARD_3155, id="card-3155"),
    pytest.param("forced", None, id="forced-global"),
    pytest.param("forced-payment", None, id="forced-per-payment"),
]


def bring_to_requires_action(sim: Simulator, how: str, card: str | None, **params: Any) -> Payment:
    payment = create(sim, **params)
    if how == "card":
        assert card is not None
        return sim.pay(payment.id, card_number=card)
    payment_id = payment.id if how == "forced-payment" else None
    sim.force_outcome(REQUIRES_ACTION, payment_id=payment_id)
    return sim.pay(payment.id, outcome="succeed")


@pytest.mark.parametrize(("how", "card"), SUCCEEDING_3DS)
def test_authenticate_succeed_under_automatic_capture_captures(
    sim: Simulator, how: str, card: str | None
) -> None:
    payment = bring_to_requires_action(sim, how, card, return_url=RETURN_URL)
    assert payment.status == REQUIRES_ACTION
    done = sim.authenticate(payment.id, outcome="succeed")
    assert done.status == "succeeded"
    assert (done.amount_captured, done.amount_capturable, done.amount_refunded) == (AMOUNT, 0, 0)
    assert (done.failure_code, done.decline_code, done.failure_message) == (None, None, None)
    assert done.next_action() is None
    assert done.to_dict()["next_action"] is None
    assert done.return_url == RETURN_URL
    stored = sim.get_payment(payment.id)
    assert stored.to_dict() == done.to_dict()
    assert (stored.authentication_url, stored.decline_after_authentication) == (None, None)
    assert types_of(sim, payment.id) == [
        "payment.created",
        "payment.requires_action",
        "payment.succeeded",
    ]
    assert statuses_in_events(sim, payment.id) == [RPM, REQUIRES_ACTION, "succeeded"]
    assert sim.events_of(payment.id)[-1].to_dict()["data"]["object"]["next_action"] is None
    # It is an ordinary succeeded payment now: refundable.
    sim.refund(payment.id)
    assert sim.get_payment(payment.id).status == "refunded"


@pytest.mark.parametrize(("how", "card"), SUCCEEDING_3DS)
def test_authenticate_succeed_under_manual_capture_authorizes(
    sim: Simulator, how: str, card: str | None
) -> None:
    payment = bring_to_requires_action(sim, how, card, capture_method="manual")
    done = sim.authenticate(payment.id)  # outcome defaults to succeed
    assert done.status == "authorized"
    assert (done.amount_capturable, done.amount_captured) == (AMOUNT, 0)
    assert done.next_action() is None
    assert types_of(sim, payment.id) == [
        "payment.created",
        "payment.requires_action",
        "payment.authorized",
    ]
    captured = sim.capture(payment.id, amount=1000)
    assert (captured.status, captured.amount_captured, captured.amount_capturable) == (
        "captured",
        1000,
        0,
    )


@pytest.mark.parametrize(
    "capture_method", [pytest.param("automatic", id="auto"), pytest.param("manual", id="manual")]
)
def test_authenticate_succeed_with_3178_declines_insufficient_funds(
    sim: Simulator, capture_method: str
) -> None:
    payment = waiting(sim, card=CARD_3178, capture_method=capture_method)
    declined = sim.authenticate(payment.id, outcome="succeed")
    assert declined.status == "failed"
    assert declined.failure_code == "card_declined"
    assert declined.decline_code == "insufficient_funds"
    assert declined.failure_message == DECLINE_MESSAGES["insufficient_funds"]
    assert (declined.amount_capturable, declined.amount_captured) == (0, 0)
    assert declined.next_action() is None
    assert sim.get_payment(payment.id).decline_after_authentication is None
    assert types_of(sim, payment.id) == [
        "payment.created",
        "payment.requires_action",
        "payment.failed",
    ]
    assert statuses_in_events(sim, payment.id) == [RPM, REQUIRES_ACTION, "failed"]


FAILING_3DS = [
    *SUCCEEDING_3DS,
    pytest.param("card", CARD_3178, id="card-3178"),
]


@pytest.mark.parametrize(("how", "card"), FAILING_3DS)
@pytest.mark.parametrize(
    "capture_method", [pytest.param("automatic", id="auto"), pytest.param("manual", id="manual")]
)
def test_authenticate_fail_fails_with_authentication_failed(
    sim: Simulator, how: str, card: str | None, capture_method: str
) -> None:
    payment = bring_to_requires_action(sim, how, card, capture_method=capture_method)
    failed = sim.authenticate(payment.id, outcome="fail")
    assert failed.status == "failed"
    assert failed.failure_code == "authentication_failed"
    assert failed.decline_code is None
    message = failed.failure_message
    assert isinstance(message, str)
    assert message[0].isupper()
    assert message.endswith(".")
    assert "_" not in message  # a plain sentence, not a code
    assert "None" not in message
    assert message not in DECLINE_MESSAGES.values()
    assert (failed.amount_capturable, failed.amount_captured, failed.amount_refunded) == (0, 0, 0)
    assert failed.next_action() is None
    stored = sim.get_payment(payment.id)
    assert (stored.authentication_url, stored.decline_after_authentication) == (None, None)
    assert types_of(sim, payment.id) == [
        "payment.created",
        "payment.requires_action",
        "payment.failed",
    ]
    event_payment = sim.events_of(payment.id)[-1].to_dict()["data"]["object"]
    assert event_payment["failure_code"] == "authentication_failed"
    assert event_payment["decline_code"] is None


RETRIES = [
    pytest.param({"card_number": GOOD_CARD}, "succeeded", "payment.succeeded", id="good-card"),
    pytest.param({"outcome": "succeed"}, "succeeded", "payment.succeeded", id="outcome-succeed"),
    pytest.param({"outcome": "fail"}, "failed", "payment.failed", id="outcome-fail"),
    pytest.param({"card_number": CARD_3155}, REQUIRES_ACTION, "payment.requires_action", id="3ds"),
    pytest.param({"outcome": "abandon"}, RPM, "payment.requires_payment_method", id="abandon"),
]


@pytest.mark.parametrize(("retry", "status", "event"), RETRIES)
@pytest.mark.parametrize(
    "first_outcome",
    [pytest.param("fail", id="after-failed-auth"), pytest.param("succeed", id="after-3178")],
)
def test_pay_again_after_an_authentication_failure(
    sim: Simulator, retry: dict[str, Any], status: str, event: str, first_outcome: str
) -> None:
    payment = waiting(sim, card=CARD_3178)
    assert sim.authenticate(payment.id, outcome=first_outcome).status == "failed"
    again = sim.pay(payment.id, **retry)
    assert again.status == status
    assert types_of(sim, payment.id) == [
        "payment.created",
        "payment.requires_action",
        "payment.failed",
        event,
    ]
    if status == "succeeded":
        assert (again.failure_code, again.decline_code, again.failure_message) == (None, None, None)
        assert again.amount_captured == AMOUNT
    if status == REQUIRES_ACTION:
        assert again.next_action() == expected_next_action(again)
        done = sim.authenticate(payment.id)
        assert (done.status, done.failure_code, done.decline_code) == ("succeeded", None, None)
    else:
        assert again.next_action() is None


def test_authentication_can_fail_and_succeed_on_the_same_payment(sim: Simulator) -> None:
    payment = waiting(sim, card=CARD_3184)
    sim.authenticate(payment.id, outcome="fail")
    sim.pay(payment.id, card_number=CARD_3184)
    done = sim.authenticate(payment.id, outcome="succeed")
    assert done.status == "succeeded"
    assert types_of(sim, payment.id) == [
        "payment.created",
        "payment.requires_action",
        "payment.failed",
        "payment.requires_action",
        "payment.succeeded",
    ]


# -- cancel from requires_action -----------------------------------------------------------


@pytest.mark.parametrize(
    "card", [pytest.param(CARD_3184, id="3184"), pytest.param(CARD_3178, id="3178")]
)
@pytest.mark.parametrize(
    "capture_method", [pytest.param("automatic", id="auto"), pytest.param("manual", id="manual")]
)
def test_cancel_from_requires_action(sim: Simulator, card: str, capture_method: str) -> None:
    payment = waiting(sim, card=card, capture_method=capture_method, return_url=RETURN_URL)
    canceled = sim.cancel(payment.id, cancellation_reason="abandoned")
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "abandoned"
    assert (canceled.amount_capturable, canceled.amount_captured) == (0, 0)
    assert canceled.next_action() is None
    assert canceled.to_dict()["next_action"] is None
    stored = sim.get_payment(payment.id)
    assert (stored.authentication_url, stored.decline_after_authentication) == (None, None)
    assert types_of(sim, payment.id) == [
        "payment.created",
        "payment.requires_action",
        "payment.canceled",
    ]
    with pytest.raises(PaymentUnexpectedState) as late:
        sim.authenticate(payment.id)
    assert "`canceled`" in late.value.message


# -- refusals ------------------------------------------------------------------------------

REFUSED_IN_REQUIRES_ACTION: list[Any] = [
    pytest.param(lambda sim, pid: sim.pay(pid, outcome="succeed"), id="pay-succeed"),
    pytest.param(lambda sim, pid: sim.pay(pid, outcome="fail"), id="pay-fail"),
    pytest.param(lambda sim, pid: sim.pay(pid, outcome="abandon"), id="pay-abandon"),
    pytest.param(lambda sim, pid: sim.pay(pid, card_number=GOOD_CARD), id="pay-good-card"),
    pytest.param(lambda sim, pid: sim.pay(pid, card_number=CARD_3184), id="pay-3ds-card"),
    pytest.param(lambda sim, pid: sim.capture(pid), id="capture"),
    pytest.param(lambda sim, pid: sim.capture(pid, amount=AMOUNT), id="capture-amount"),
    pytest.param(lambda sim, pid: sim.capture(pid, amount=1), id="capture-part"),
    pytest.param(lambda sim, pid: sim.refund(pid), id="refund"),
    pytest.param(lambda sim, pid: sim.refund(pid, amount=1), id="refund-part"),
    pytest.param(
        lambda sim, pid: sim.refund(pid, amount=1, reason="duplicate"), id="refund-reason"
    ),
]


@pytest.mark.parametrize("operation", REFUSED_IN_REQUIRES_ACTION)
@pytest.mark.parametrize(
    "capture_method", [pytest.param("automatic", id="auto"), pytest.param("manual", id="manual")]
)
def test_every_other_operation_in_requires_action_is_409_and_changes_nothing(
    sim: Simulator, operation: Callable[[Simulator, str], Any], capture_method: str
) -> None:
    sim.create_endpoint(url="http://127.0.0.1:9/hook", enabled_events=["*"])
    payment = waiting(sim, capture_method=capture_method)
    before = everything(sim)
    with pytest.raises(PaymentUnexpectedState) as refused:
        operation(sim, payment.id)
    error = refused.value
    assert error.status_code == 409
    assert error.code == "payment_unexpected_state"
    assert error.payment_id == payment.id
    assert "`requires_action`" in error.message
    assert error.to_dict()["error"]["payment_id"] == payment.id
    assert everything(sim) == before


@pytest.mark.parametrize(
    "scope", [pytest.param(False, id="global"), pytest.param(True, id="per-payment")]
)
def test_a_refused_pay_in_requires_action_does_not_use_up_a_forced_outcome(
    sim: Simulator, scope: bool
) -> None:
    payment = waiting(sim)
    sim.force_outcome("fail", payment_id=payment.id if scope else None, decline_code="lost_card")
    before = everything(sim)
    with pytest.raises(PaymentUnexpectedState):
        sim.pay(payment.id)
    assert everything(sim) == before
    assert len(sim.outcomes()["outcomes"]) == 1


@pytest.mark.parametrize("status", [pytest.param(status, id=status) for status in OTHER_STATUSES])
@pytest.mark.parametrize("outcome", [pytest.param(o, id=o) for o in AUTHENTICATION_OUTCOMES])
def test_authenticate_from_every_other_status_is_409_and_changes_nothing(
    sim: Simulator, status: str, outcome: str
) -> None:
    payment = payment_in(sim, status)
    before = everything(sim)
    with pytest.raises(PaymentUnexpectedState) as refused:
        sim.authenticate(payment.id, outcome=outcome)
    error = refused.value
    assert error.status_code == 409
    assert error.payment_id == payment.id
    assert f"`{status}`" in error.message
    assert "`requires_action`" in error.message  # what it needs
    assert everything(sim) == before


@pytest.mark.parametrize(
    "first", [pytest.param("succeed", id="after-success"), pytest.param("fail", id="after-fail")]
)
def test_authenticating_twice_is_409(sim: Simulator, first: str) -> None:
    payment = waiting(sim)
    done = sim.authenticate(payment.id, outcome=first)
    before = everything(sim)
    with pytest.raises(PaymentUnexpectedState) as refused:
        sim.authenticate(payment.id, outcome="succeed")
    assert f"`{done.status}`" in refused.value.message
    assert everything(sim) == before


@pytest.mark.parametrize(
    "outcome",
    [
        pytest.param("maybe", id="maybe"),
        pytest.param("abandon", id="abandon"),
        pytest.param(REQUIRES_ACTION, id="requires-action"),
        pytest.param("", id="empty"),
        pytest.param("SUCCEED", id="upper-case"),
    ],
)
def test_authenticate_rejects_an_unknown_outcome(sim: Simulator, outcome: str) -> None:
    payment = waiting(sim)
    before = everything(sim)
    with pytest.raises(ParameterInvalid) as refused:
        sim.authenticate(payment.id, outcome=outcome)
    assert refused.value.param == "outcome"
    assert everything(sim) == before


def test_authenticate_an_unknown_payment_is_404(sim: Simulator) -> None:
    with pytest.raises(ResourceMissing) as missing:
        sim.authenticate("pay_000000000000000000000000")
    assert (missing.value.status_code, missing.value.param) == (404, "id")


# -- next_action ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "return_url",
    [
        pytest.param(RETURN_URL, id="with-return-url"),
        pytest.param(None, id="without-return-url"),
    ],
)
def test_next_action_is_the_redirect_to_the_hosted_page(
    sim: Simulator, return_url: str | None
) -> None:
    params = {} if return_url is None else {"return_url": return_url}
    payment = waiting(sim, **params)
    action = payment.to_dict()["next_action"]
    assert action == {
        "type": "redirect_to_url",
        "redirect_to_url": {
            "url": f"{BASE_URL}/authenticate/{payment.id}?client_secret={payment.client_secret}",
            "return_url": return_url,
        },
    }
    url = urlsplit(action["redirect_to_url"]["url"])
    assert (url.scheme, url.netloc) == ("http", "127.0.0.1:48123")  # absolute
    assert url.path == f"/authenticate/{payment.id}"
    assert parse_qs(url.query) == {"client_secret": [payment.client_secret]}


@pytest.mark.parametrize("status", [pytest.param(status, id=status) for status in OTHER_STATUSES])
def test_next_action_is_none_in_every_other_status(sim: Simulator, status: str) -> None:
    payment = payment_in(sim, status)
    shown = sim.get_payment(payment.id).to_dict()
    assert "next_action" in shown
    assert shown["next_action"] is None
    for event in sim.events_of(payment.id):
        assert event.to_dict()["data"]["object"]["next_action"] is None


@pytest.mark.parametrize(
    "leave",
    [
        pytest.param(lambda sim, pid: sim.authenticate(pid), id="authenticated"),
        pytest.param(lambda sim, pid: sim.authenticate(pid, outcome="fail"), id="auth-failed"),
        pytest.param(lambda sim, pid: sim.cancel(pid), id="canceled"),
    ],
)
def test_next_action_is_gone_once_requires_action_is_left(
    sim: Simulator, leave: Callable[[Simulator, str], Payment]
) -> None:
    payment = waiting(sim, card=CARD_3155, return_url=RETURN_URL)
    left = leave(sim, payment.id)
    assert left.to_dict()["next_action"] is None
    assert sim.get_payment(payment.id).to_dict()["next_action"] is None
    actions = [event.to_dict()["data"]["object"]["next_action"] for event in sim.events_of(left.id)]
    assert actions == [None, expected_next_action(payment, RETURN_URL), None]


def test_next_action_follows_the_configured_base_url(store: Store) -> None:
    other = Simulator(SimulatorConfig(seed=SEED, base_url="https://pay.example:8443"), store=store)
    payment = other.create_payment(amount=100, currency="eur")
    paid = other.pay(payment.id, card_number=CARD_3184)
    assert paid.to_dict()["next_action"]["redirect_to_url"]["url"] == (
        f"https://pay.example:8443/authenticate/{payment.id}?client_secret={payment.client_secret}"
    )


# -- all or nothing --------------------------------------------------------------------------


def fail_on(monkeypatch: pytest.MonkeyPatch, store: Store, method: str, *, after: int = 0) -> None:
    """Make ``store.<method>`` raise on its call number ``after`` + 1 (the earlier ones run)."""
    real: Callable[..., Any] = getattr(store, method)
    calls = {"n": 0}

    def planted(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > after:
            raise Planted(f"{method} failed on purpose")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, method, planted)


HALF_WAY = [
    pytest.param(CARD_3184, "automatic", "succeed", id="succeed-automatic"),
    pytest.param(CARD_3184, "manual", "succeed", id="succeed-manual"),
    pytest.param(CARD_3178, "automatic", "succeed", id="declined-after-auth"),
    pytest.param(CARD_3155, "automatic", "fail", id="fail"),
]


@pytest.mark.parametrize("method", ["save_payment", "add_event", "save_delivery"])
@pytest.mark.parametrize(("card", "capture_method", "outcome"), HALF_WAY)
def test_an_authentication_that_fails_half_way_leaves_no_trace(
    sim: Simulator,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    card: str,
    capture_method: str,
    outcome: str,
) -> None:
    sim.create_endpoint(url="http://127.0.0.1:9/hook", enabled_events=["*"])
    payment = waiting(sim, card=card, capture_method=capture_method)
    before = everything(sim)
    with monkeypatch.context() as patch:
        fail_on(patch, store, method)
        with pytest.raises(Planted):
            sim.authenticate(payment.id, outcome=outcome)
    assert everything(sim) == before
    still = sim.get_payment(payment.id)
    assert still.status == REQUIRES_ACTION
    assert still.next_action() == expected_next_action(payment)
    # The generators were put back too: the retry draws the ids a clean run draws.
    done = sim.authenticate(payment.id, outcome=outcome)
    twin = new_simulator()
    twin.create_endpoint(url="http://127.0.0.1:9/hook", enabled_events=["*"])
    twin_payment = waiting(twin, card=card, capture_method=capture_method)
    twin_done = twin.authenticate(twin_payment.id, outcome=outcome)
    assert done.to_dict() == twin_done.to_dict()
    assert [e.id for e in sim.events_of(done.id)] == [e.id for e in twin.events_of(done.id)]
    assert [d.id for d in sim.pending_deliveries()] == [d.id for d in twin.pending_deliveries()]


@pytest.mark.parametrize("method", ["save_payment", "add_event", "save_delivery"])
def test_a_pay_to_requires_action_that_fails_half_way_gives_the_forced_outcome_back(
    sim: Simulator, store: Store, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    sim.create_endpoint(url="http://127.0.0.1:9/hook", enabled_events=["*"])
    payment = create(sim)
    sim.force_outcome(REQUIRES_ACTION, decline_code="expired_card", times=1)
    before = everything(sim)
    with monkeypatch.context() as patch:
        fail_on(patch, store, method)
        with pytest.raises(Planted):
            sim.pay(payment.id, outcome="succeed")
    assert everything(sim) == before
    assert sim.outcomes()["outcomes"][0]["times"] == 1
    assert sim.pay(payment.id, outcome="succeed").status == REQUIRES_ACTION
    assert sim.authenticate(payment.id).decline_code == "expired_card"


@pytest.mark.parametrize("method", ["save_payment", "add_event", "save_delivery"])
def test_a_cancel_from_requires_action_that_fails_half_way_leaves_no_trace(
    sim: Simulator, store: Store, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    sim.create_endpoint(url="http://127.0.0.1:9/hook", enabled_events=["*"])
    payment = waiting(sim, card=CARD_3178)
    before = everything(sim)
    with monkeypatch.context() as patch:
        fail_on(patch, store, method)
        with pytest.raises(Planted):
            sim.cancel(payment.id)
    assert everything(sim) == before
    # The hidden decline survived: authentication still declines.
    assert sim.authenticate(payment.id).decline_code == "insufficient_funds"


# -- stores ----------------------------------------------------------------------------------


def test_payments_are_listed_by_the_requires_action_status(sim: Simulator) -> None:
    payment_in(sim, "succeeded")
    first, second = waiting(sim), waiting(sim, card=CARD_3178)
    listed, has_more = sim.payments(status=REQUIRES_ACTION)
    assert [payment.id for payment in listed] == [second.id, first.id]
    assert not has_more
    sim.authenticate(first.id)
    assert [payment.id for payment in sim.payments(status=REQUIRES_ACTION)[0]] == [second.id]


@pytest.mark.parametrize(
    ("card", "outcome", "status", "decline_code"),
    [
        pytest.param(CARD_3184, "succeed", "succeeded", None, id="3184"),
        pytest.param(CARD_3178, "succeed", "failed", "insufficient_funds", id="3178"),
        pytest.param(CARD_3178, "fail", "failed", None, id="3178-auth-fail"),
    ],
)
def test_a_waiting_payment_survives_a_restart_on_the_same_file(
    tmp_path: Path, card: str, outcome: str, status: str, decline_code: str | None
) -> None:
    path = tmp_path / "restart.db"
    first_store = SqliteStore(path)
    first = Simulator(SimulatorConfig(seed=SEED, base_url=BASE_URL), store=first_store)
    payment = first.create_payment(amount=AMOUNT, currency="usd", return_url=RETURN_URL)
    shown = first.pay(payment.id, card_number=card).to_dict()
    first_store.close()

    second_store = SqliteStore(path)
    try:
        second = Simulator(SimulatorConfig(seed=SEED, base_url=BASE_URL), store=second_store)
        again = second.get_payment(payment.id)
        assert again.to_dict() == shown
        assert again.next_action() == expected_next_action(payment, RETURN_URL)
        done = second.authenticate(payment.id, outcome=outcome)
        assert (done.status, done.decline_code) == (status, decline_code)
        assert types_of(second, payment.id) == [
            "payment.created",
            "payment.requires_action",
            f"payment.{status}",
        ]
    finally:
        second_store.close()

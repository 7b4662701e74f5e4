"""SPEC section 4: the transition table, and every operation from every status.

The matrix drives a real ``Simulator``: each starting status is reached through real
operations, then each operation is tried once. Allowed ones must land in the right status with
the right amounts and event; every other one must raise 409 ``payment_unexpected_state`` naming
the current status and change nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from pytest_paysim.core import transitions as tx
from pytest_paysim.core.models import Event, Payment
from pytest_paysim.core.simulator import Simulator, SimulatorConfig
from pytest_paysim.errors import ParameterInvalid, PaymentUnexpectedState

AMOUNT = 1000
PARTIAL_CAPTURE = 400
PARTIAL_REFUND = 100
FIRST_REFUND = 300

RPM = "requires_payment_method"

# -- the table, written out from SPEC section 4 ---------------------------------------------

SPEC_ROWS: list[tuple[str, tuple[str, ...], str | None, str]] = [
    # (operation, from, to (None = unchanged), event)
    ("create", (), RPM, "payment.created"),
    ("pay", (RPM, "failed"), "succeeded", "payment.succeeded"),
    ("pay", (RPM, "failed"), "authorized", "payment.authorized"),
    ("pay", (RPM, "failed"), "failed", "payment.failed"),
    ("pay", (RPM, "failed"), RPM, "payment.requires_payment_method"),
    ("pay", (RPM, "failed"), "requires_action", "payment.requires_action"),
    ("authenticate", ("requires_action",), "succeeded", "payment.succeeded"),
    ("authenticate", ("requires_action",), "authorized", "payment.authorized"),
    ("authenticate", ("requires_action",), "failed", "payment.failed"),  # the card declines
    ("authenticate", ("requires_action",), "failed", "payment.failed"),  # authentication fails
    ("capture", ("authorized",), "captured", "payment.captured"),
    ("capture", ("succeeded",), "captured", "payment.captured"),
    ("refund", ("succeeded", "captured"), None, "payment.refunded"),
    ("refund", ("succeeded", "captured"), "refunded", "payment.refunded"),
    ("refund", ("succeeded", "captured"), None, "payment.refund_failed"),
    ("cancel", (RPM, "failed", "authorized", "requires_action"), "canceled", "payment.canceled"),
]

SPEC_STATUSES = {
    RPM,
    "requires_action",
    "authorized",
    "succeeded",
    "captured",
    "failed",
    "refunded",
    "canceled",
}


def test_transition_table_matches_spec_row_by_row() -> None:
    actual = [(row.operation, row.sources, row.target, row.event) for row in tx.TRANSITIONS]
    assert len(actual) == len(SPEC_ROWS)
    for index, (got, want) in enumerate(zip(actual, SPEC_ROWS, strict=True)):
        assert (got[0], set(got[1]), got[2], got[3]) == (
            want[0],
            set(want[1]),
            want[2],
            want[3],
        ), f"row {index}"


def test_statuses_are_the_eight_of_the_spec() -> None:
    assert set(tx.STATUSES) == SPEC_STATUSES
    assert len(tx.STATUSES) == 8
    every_status_in_table = {s for row in tx.TRANSITIONS for s in row.sources} | {
        row.target for row in tx.TRANSITIONS if row.target
    }
    assert every_status_in_table == SPEC_STATUSES


def test_cases_of_one_operation_are_distinct() -> None:
    keys = [(row.operation, row.case) for row in tx.TRANSITIONS]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    ("operation", "allowed"),
    [
        pytest.param("pay", {RPM, "failed"}, id="pay"),
        pytest.param("capture", {"authorized", "succeeded"}, id="capture"),
        pytest.param("refund", {"succeeded", "captured"}, id="refund"),
        pytest.param("cancel", {RPM, "failed", "authorized", "requires_action"}, id="cancel"),
        pytest.param("authenticate", {"requires_action"}, id="authenticate"),
    ],
)
def test_allowed_from_and_require(operation: str, allowed: set[str]) -> None:
    assert set(tx.allowed_from(operation)) == allowed
    for status in SPEC_STATUSES:
        if status in allowed:
            tx.require(operation, status, payment_id="pay_x")
        else:
            with pytest.raises(PaymentUnexpectedState) as info:
                tx.require(operation, status, payment_id="pay_x")
            assert f"`{status}`" in info.value.message
            assert info.value.payment_id == "pay_x"


def test_enter_returns_the_row_or_raises_409() -> None:
    row = tx.enter(tx.CAPTURE_AUTHORIZED, "authorized", payment_id="pay_x")
    assert row is tx.CAPTURE_AUTHORIZED
    assert (row.target, row.event) == ("captured", "payment.captured")
    # `succeeded` is a source of *another* capture case, not of this one.
    with pytest.raises(PaymentUnexpectedState) as info:
        tx.enter(tx.CAPTURE_AUTHORIZED, "succeeded", payment_id="pay_x")
    assert "`succeeded`" in info.value.message
    assert "full or partial" in info.value.message
    assert info.value.payment_id == "pay_x"
    with pytest.raises(PaymentUnexpectedState) as info:
        tx.enter(tx.CAPTURE_AUTHORIZED, "refunded", payment_id="pay_x")
    assert "`refunded`" in info.value.message


def test_markdown_table_has_one_line_per_row() -> None:
    text = tx.markdown_table()
    lines = text.strip().splitlines()
    assert lines[0] == "| from | operation | to | event |"
    assert len(lines) == 2 + len(tx.TRANSITIONS)
    for line, row in zip(lines[2:], tx.TRANSITIONS, strict=True):
        assert f"`{row.event}`" in line
        assert line.startswith("| ")
        assert line.endswith(" |")


# -- every status x every operation, through the simulator -----------------------------------

Step = Callable[[Simulator, str], Any]


def _pay(outcome: str) -> Step:
    return lambda sim, pid: sim.pay(pid, outcome=outcome)


def _capture(amount: int | None = None) -> Step:
    return lambda sim, pid: sim.capture(pid, amount=amount)


def _refund(amount: int | None = None) -> Step:
    return lambda sim, pid: sim.refund(pid, amount=amount)


def _cancel(sim: Simulator, pid: str) -> Any:
    return sim.cancel(pid)


def _pay_3ds(sim: Simulator, pid: str) -> Any:
    return sim.pay(pid, card_number="4000002760003184")


def _authenticate(outcome: str) -> Step:
    return lambda sim, pid: sim.authenticate(pid, outcome=outcome)


class Start(NamedTuple):
    capture_method: str
    steps: tuple[Step, ...]
    status: str
    amounts: tuple[int, int, int]  # capturable, captured, refunded


STARTS: dict[str, Start] = {
    "new-automatic": Start("automatic", (), RPM, (0, 0, 0)),
    "new-manual": Start("manual", (), RPM, (0, 0, 0)),
    "abandoned": Start("automatic", (_pay("abandon"),), RPM, (0, 0, 0)),
    "failed-automatic": Start("automatic", (_pay("fail"),), "failed", (0, 0, 0)),
    "failed-manual": Start("manual", (_pay("fail"),), "failed", (0, 0, 0)),
    "authorized": Start("manual", (_pay("succeed"),), "authorized", (AMOUNT, 0, 0)),
    "succeeded": Start("automatic", (_pay("succeed"),), "succeeded", (0, AMOUNT, 0)),
    "succeeded-part-refunded": Start(
        "automatic",
        (_pay("succeed"), _refund(FIRST_REFUND)),
        "succeeded",
        (0, AMOUNT, FIRST_REFUND),
    ),
    "captured-full": Start("manual", (_pay("succeed"), _capture()), "captured", (0, AMOUNT, 0)),
    "captured-partial": Start(
        "manual",
        (_pay("succeed"), _capture(PARTIAL_CAPTURE)),
        "captured",
        (0, PARTIAL_CAPTURE, 0),
    ),
    "captured-from-succeeded": Start(
        "automatic", (_pay("succeed"), _capture()), "captured", (0, AMOUNT, 0)
    ),
    "refunded-automatic": Start(
        "automatic", (_pay("succeed"), _refund()), "refunded", (0, AMOUNT, AMOUNT)
    ),
    "refunded-manual-partial": Start(
        "manual",
        (_pay("succeed"), _capture(PARTIAL_CAPTURE), _refund()),
        "refunded",
        (0, PARTIAL_CAPTURE, PARTIAL_CAPTURE),
    ),
    "canceled-new": Start("automatic", (_cancel,), "canceled", (0, 0, 0)),
    "canceled-failed": Start("automatic", (_pay("fail"), _cancel), "canceled", (0, 0, 0)),
    "canceled-authorized": Start("manual", (_pay("succeed"), _cancel), "canceled", (0, 0, 0)),
    "action-automatic": Start("automatic", (_pay_3ds,), "requires_action", (0, 0, 0)),
    "action-manual": Start("manual", (_pay_3ds,), "requires_action", (0, 0, 0)),
    "canceled-action": Start("automatic", (_pay_3ds, _cancel), "canceled", (0, 0, 0)),
    "failed-authentication": Start(
        "automatic", (_pay_3ds, _authenticate("fail")), "failed", (0, 0, 0)
    ),
}


OPERATIONS: dict[str, Step] = {
    "pay-succeed": _pay("succeed"),
    "pay-fail": _pay("fail"),
    "pay-abandon": _pay("abandon"),
    "capture-none": _capture(None),
    "capture-full": _capture(AMOUNT),
    "capture-partial": _capture(PARTIAL_CAPTURE),
    "refund-partial": _refund(PARTIAL_REFUND),
    "refund-full": _refund(None),
    "refund-forced-fail": _refund(PARTIAL_REFUND),  # after force_refund("fail"), below
    "cancel": lambda sim, pid: sim.cancel(pid, cancellation_reason="requested_by_customer"),
    "pay-3ds": _pay_3ds,
    "authenticate-succeed": _authenticate("succeed"),
    "authenticate-fail": _authenticate("fail"),
}


class After(NamedTuple):
    status: str
    amounts: tuple[int, int, int]
    event: str


_PAY_STARTS = (
    "new-automatic",
    "new-manual",
    "abandoned",
    "failed-automatic",
    "failed-manual",
    "failed-authentication",
)
_AUTOMATIC = {"new-automatic", "abandoned", "failed-automatic", "failed-authentication"}
_ACTION_STARTS = ("action-automatic", "action-manual")

# Everything the spec allows; every pair not listed must be a 409.
ALLOWED: dict[tuple[str, str], After | type[Exception]] = {
    **{
        (start, "pay-succeed"): (
            After("succeeded", (0, AMOUNT, 0), "payment.succeeded")
            if start in _AUTOMATIC
            else After("authorized", (AMOUNT, 0, 0), "payment.authorized")
        )
        for start in _PAY_STARTS
    },
    **{(start, "pay-fail"): After("failed", (0, 0, 0), "payment.failed") for start in _PAY_STARTS},
    **{
        (start, "pay-abandon"): After(RPM, (0, 0, 0), "payment.requires_payment_method")
        for start in _PAY_STARTS
    },
    ("authorized", "capture-none"): After("captured", (0, AMOUNT, 0), "payment.captured"),
    ("authorized", "capture-full"): After("captured", (0, AMOUNT, 0), "payment.captured"),
    ("authorized", "capture-partial"): After(
        "captured", (0, PARTIAL_CAPTURE, 0), "payment.captured"
    ),
    ("succeeded", "capture-none"): After("captured", (0, AMOUNT, 0), "payment.captured"),
    ("succeeded", "capture-full"): After("captured", (0, AMOUNT, 0), "payment.captured"),
    ("succeeded", "capture-partial"): ParameterInvalid,
    ("succeeded-part-refunded", "capture-none"): After(
        "captured", (0, AMOUNT, FIRST_REFUND), "payment.captured"
    ),
    ("succeeded-part-refunded", "capture-full"): After(
        "captured", (0, AMOUNT, FIRST_REFUND), "payment.captured"
    ),
    ("succeeded-part-refunded", "capture-partial"): ParameterInvalid,
    # refunds
    ("succeeded", "refund-partial"): After(
        "succeeded", (0, AMOUNT, PARTIAL_REFUND), "payment.refunded"
    ),
    ("succeeded", "refund-full"): After("refunded", (0, AMOUNT, AMOUNT), "payment.refunded"),
    ("succeeded", "refund-forced-fail"): After(
        "succeeded", (0, AMOUNT, 0), "payment.refund_failed"
    ),
    ("succeeded-part-refunded", "refund-partial"): After(
        "succeeded", (0, AMOUNT, FIRST_REFUND + PARTIAL_REFUND), "payment.refunded"
    ),
    ("succeeded-part-refunded", "refund-full"): After(
        "refunded", (0, AMOUNT, AMOUNT), "payment.refunded"
    ),
    ("succeeded-part-refunded", "refund-forced-fail"): After(
        "succeeded", (0, AMOUNT, FIRST_REFUND), "payment.refund_failed"
    ),
    **{
        (start, "refund-partial"): After(
            "captured", (0, captured, PARTIAL_REFUND), "payment.refunded"
        )
        for start, captured in (
            ("captured-full", AMOUNT),
            ("captured-partial", PARTIAL_CAPTURE),
            ("captured-from-succeeded", AMOUNT),
        )
    },
    **{
        (start, "refund-full"): After("refunded", (0, captured, captured), "payment.refunded")
        for start, captured in (
            ("captured-full", AMOUNT),
            ("captured-partial", PARTIAL_CAPTURE),
            ("captured-from-succeeded", AMOUNT),
        )
    },
    **{
        (start, "refund-forced-fail"): After("captured", (0, captured, 0), "payment.refund_failed")
        for start, captured in (
            ("captured-full", AMOUNT),
            ("captured-partial", PARTIAL_CAPTURE),
            ("captured-from-succeeded", AMOUNT),
        )
    },
    **{
        (start, "cancel"): After("canceled", (0, 0, 0), "payment.canceled")
        for start in (*_PAY_STARTS, *_ACTION_STARTS, "authorized")
    },
    # 3-D Secure
    **{
        (start, "pay-3ds"): After("requires_action", (0, 0, 0), "payment.requires_action")
        for start in _PAY_STARTS
    },
    ("action-automatic", "authenticate-succeed"): After(
        "succeeded", (0, AMOUNT, 0), "payment.succeeded"
    ),
    ("action-manual", "authenticate-succeed"): After(
        "authorized", (AMOUNT, 0, 0), "payment.authorized"
    ),
    **{
        (start, "authenticate-fail"): After("failed", (0, 0, 0), "payment.failed")
        for start in _ACTION_STARTS
    },
}


def _amounts(payment: dict[str, Any]) -> tuple[int, int, int]:
    return (
        payment["amount_capturable"],
        payment["amount_captured"],
        payment["amount_refunded"],
    )


def _events(sim: Simulator, payment_id: str) -> list[Event]:
    events, has_more = sim.events(limit=100, payment_id=payment_id)
    assert not has_more
    return events


def _build(sim: Simulator, start: Start) -> Payment:
    payment = sim.create_payment(amount=AMOUNT, currency="usd", capture_method=start.capture_method)
    for step in start.steps:
        step(sim, payment.id)
    return sim.get_payment(payment.id)


def test_every_start_is_reached_as_described() -> None:
    for name, start in STARTS.items():
        sim = Simulator(SimulatorConfig(seed=1))
        payment = _build(sim, start).to_dict()
        assert payment["status"] == start.status, name
        assert _amounts(payment) == start.amounts, name


def test_matrix_covers_every_status() -> None:
    assert {start.status for start in STARTS.values()} == SPEC_STATUSES
    for key in ALLOWED:
        assert key[0] in STARTS, key
        assert key[1] in OPERATIONS, key


@pytest.mark.parametrize(
    ("start_name", "op_name"),
    [pytest.param(start, op, id=f"{start}-x-{op}") for start in STARTS for op in OPERATIONS],
)
def test_operation_from_status(start_name: str, op_name: str) -> None:
    sim = Simulator(SimulatorConfig(seed=2))
    start = STARTS[start_name]
    payment_id = _build(sim, start).id
    if op_name == "refund-forced-fail":
        sim.force_refund_outcome("fail")
    forced_before = sim.outcomes()
    before = sim.get_payment(payment_id).to_dict()
    events_before = [event.id for event in _events(sim, payment_id)]
    expected = ALLOWED.get((start_name, op_name), PaymentUnexpectedState)

    if isinstance(expected, type):
        with pytest.raises(expected) as info:
            OPERATIONS[op_name](sim, payment_id)
        error = info.value
        assert isinstance(error, (PaymentUnexpectedState, ParameterInvalid))
        assert error.payment_id == payment_id
        if expected is PaymentUnexpectedState:
            assert error.status_code == 409
            assert error.code == "payment_unexpected_state"
            assert error.to_dict()["error"]["code"] == "payment_unexpected_state"
            assert error.to_dict()["error"]["payment_id"] == payment_id
            assert f"`{start.status}`" in error.message
        else:
            assert error.status_code == 400
            assert error.param == "amount"
        # Nothing changed: the payment, its events, its refunds.
        assert sim.get_payment(payment_id).to_dict() == before
        assert [event.id for event in _events(sim, payment_id)] == events_before
        # A forced refund failure is not used up by a refused refund.
        assert sim.outcomes() == forced_before
        return

    assert isinstance(expected, After)
    result = OPERATIONS[op_name](sim, payment_id)
    after = sim.get_payment(payment_id).to_dict()
    assert after["status"] == expected.status
    assert _amounts(after) == expected.amounts
    assert after["amount"] == AMOUNT
    assert sim.outcomes()["refund_outcomes"] == []

    events_after = _events(sim, payment_id)
    new_events = events_after[: len(events_after) - len(events_before)]
    assert [event.id for event in events_after[len(new_events) :]] == events_before
    assert [event.type for event in new_events] == [expected.event]
    body = new_events[0].to_dict()
    assert body["type"] == expected.event
    assert body["data"]["object"] == after

    if op_name.startswith("refund"):
        refund = result.to_dict()
        assert body["data"]["refund"] == refund
        assert after["refunds"][-1] == refund
        assert len(after["refunds"]) == len(before["refunds"]) + 1
        assert refund["status"] == ("failed" if op_name == "refund-forced-fail" else "succeeded")
        assert refund["payment_id"] == payment_id
        assert sim.get_refund(refund["id"]).to_dict() == refund
    else:
        assert "refund" not in body["data"]
        assert after["refunds"] == before["refunds"]
        assert result.to_dict() == after

    if op_name == "pay-fail":
        assert after["failure_code"] == "card_declined"
        assert after["decline_code"] == "generic_decline"
        assert after["failure_message"]
    if op_name == "pay-succeed":
        assert (after["failure_code"], after["decline_code"], after["failure_message"]) == (
            None,
            None,
            None,
        )
    if op_name == "cancel":
        assert after["cancellation_reason"] == "requested_by_customer"

"""What can happen to a payment: the transition table, in this one place.

Each row is a named constant; an operation of the simulator picks its row and calls
:func:`enter` before it changes anything, and a status the row does not start from is a 409
``payment_unexpected_state`` naming the status. ``docs/architecture.md`` shows
:func:`markdown_table`, and a test keeps the two the same::

    row = enter(PAY_FAIL, payment.status, payment_id=payment.id)
    payment.status = row.target
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from pytest_paysim.errors import PaymentUnexpectedState

__all__ = [
    "AUTHENTICATE_DECLINED",
    "AUTHENTICATE_FAIL",
    "AUTHENTICATE_SUCCEED_AUTOMATIC",
    "AUTHENTICATE_SUCCEED_MANUAL",
    "AUTHORIZED",
    "CANCEL",
    "CANCELED",
    "CAPTURED",
    "CAPTURE_AUTHORIZED",
    "CAPTURE_SUCCEEDED",
    "CREATE",
    "EVENT_TYPES",
    "FAILED",
    "PAY_ABANDON",
    "PAY_FAIL",
    "PAY_REQUIRES_ACTION",
    "PAY_SUCCEED_AUTOMATIC",
    "PAY_SUCCEED_MANUAL",
    "REFUNDED",
    "REFUND_ALL",
    "REFUND_FAILED",
    "REFUND_PART",
    "REQUIRES_ACTION",
    "REQUIRES_PAYMENT_METHOD",
    "STATUSES",
    "SUCCEEDED",
    "TRANSITIONS",
    "EventType",
    "Operation",
    "Status",
    "Transition",
    "allowed_from",
    "enter",
    "markdown_table",
    "require",
]

Status = Literal[
    "requires_payment_method",
    "requires_action",
    "authorized",
    "succeeded",
    "captured",
    "failed",
    "refunded",
    "canceled",
]
STATUSES: tuple[Status, ...] = get_args(Status)
REQUIRES_PAYMENT_METHOD: Status = "requires_payment_method"
REQUIRES_ACTION: Status = "requires_action"
AUTHORIZED: Status = "authorized"
SUCCEEDED: Status = "succeeded"
CAPTURED: Status = "captured"
FAILED: Status = "failed"
REFUNDED: Status = "refunded"
CANCELED: Status = "canceled"

Operation = Literal["create", "pay", "authenticate", "capture", "refund", "cancel"]
EventType = str
"""``payment.<something>``: the event types are the ones the table names (``EVENT_TYPES``)."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One row: ``operation`` from any of ``sources`` leads to ``target`` and emits ``event``.

    ``target`` None means the status stays as it was; ``case`` tells rows of one operation
    apart in the docs.
    """

    operation: Operation
    case: str
    sources: tuple[Status, ...]
    target: Status | None
    event: EventType


_PAYABLE = (REQUIRES_PAYMENT_METHOD, FAILED)
_REFUNDABLE = (SUCCEEDED, CAPTURED)

CREATE = Transition("create", "", (), REQUIRES_PAYMENT_METHOD, "payment.created")
PAY_SUCCEED_AUTOMATIC = Transition(
    "pay", "succeed, automatic capture", _PAYABLE, SUCCEEDED, "payment.succeeded"
)
PAY_SUCCEED_MANUAL = Transition(
    "pay", "succeed, manual capture", _PAYABLE, AUTHORIZED, "payment.authorized"
)
PAY_FAIL = Transition("pay", "fail", _PAYABLE, FAILED, "payment.failed")
PAY_ABANDON = Transition(
    "pay", "abandon", _PAYABLE, REQUIRES_PAYMENT_METHOD, "payment.requires_payment_method"
)
PAY_REQUIRES_ACTION = Transition(
    "pay",
    "needs authentication (3-D Secure card, or forced `requires_action`)",
    _PAYABLE,
    REQUIRES_ACTION,
    "payment.requires_action",
)
AUTHENTICATE_SUCCEED_AUTOMATIC = Transition(
    "authenticate",
    "succeed, automatic capture",
    (REQUIRES_ACTION,),
    SUCCEEDED,
    "payment.succeeded",
)
AUTHENTICATE_SUCCEED_MANUAL = Transition(
    "authenticate", "succeed, manual capture", (REQUIRES_ACTION,), AUTHORIZED, "payment.authorized"
)
AUTHENTICATE_DECLINED = Transition(
    "authenticate",
    "succeed, then the card declines (4000008260003178)",
    (REQUIRES_ACTION,),
    FAILED,
    "payment.failed",
)
AUTHENTICATE_FAIL = Transition(
    "authenticate",
    "fail (`failure_code: authentication_failed`)",
    (REQUIRES_ACTION,),
    FAILED,
    "payment.failed",
)
CAPTURE_AUTHORIZED = Transition(
    "capture", "full or partial", (AUTHORIZED,), CAPTURED, "payment.captured"
)
CAPTURE_SUCCEEDED = Transition(
    "capture", "the captured amount", (SUCCEEDED,), CAPTURED, "payment.captured"
)
REFUND_PART = Transition("refund", "part of what is left", _REFUNDABLE, None, "payment.refunded")
REFUND_ALL = Transition("refund", "all that is left", _REFUNDABLE, REFUNDED, "payment.refunded")
REFUND_FAILED = Transition("refund", "forced to fail", _REFUNDABLE, None, "payment.refund_failed")
CANCEL = Transition(
    "cancel",
    "",
    (REQUIRES_PAYMENT_METHOD, FAILED, AUTHORIZED, REQUIRES_ACTION),
    CANCELED,
    "payment.canceled",
)

TRANSITIONS: tuple[Transition, ...] = (
    CREATE,
    PAY_SUCCEED_AUTOMATIC,
    PAY_SUCCEED_MANUAL,
    PAY_FAIL,
    PAY_ABANDON,
    PAY_REQUIRES_ACTION,
    AUTHENTICATE_SUCCEED_AUTOMATIC,
    AUTHENTICATE_SUCCEED_MANUAL,
    AUTHENTICATE_DECLINED,
    AUTHENTICATE_FAIL,
    CAPTURE_AUTHORIZED,
    CAPTURE_SUCCEEDED,
    REFUND_PART,
    REFUND_ALL,
    REFUND_FAILED,
    CANCEL,
)

EVENT_TYPES: tuple[EventType, ...] = tuple(dict.fromkeys(row.event for row in TRANSITIONS))
"""Every event type the simulator emits, in the table's order."""

_ALLOWED: dict[str, tuple[Status, ...]] = {}
for _row in TRANSITIONS:
    _ALLOWED[_row.operation] = tuple(dict.fromkeys(_ALLOWED.get(_row.operation, ()) + _row.sources))


def enter(row: Transition, status: str, *, payment_id: str) -> Transition:
    """``row`` when it starts from ``status``; otherwise 409 naming the status."""
    if status in row.sources:
        return row
    require(row.operation, status, payment_id=payment_id)
    raise PaymentUnexpectedState(  # another case of the operation fits, this one does not
        f"Payment {payment_id} is `{status}`; {row.operation} ({row.case}) needs a payment "
        "that is " + " or ".join(f"`{state}`" for state in row.sources) + ".",
        payment_id=payment_id,
    )


def require(operation: str, status: str, *, payment_id: str) -> None:
    """Raise 409 unless some case of ``operation`` starts from ``status``."""
    allowed = _ALLOWED[operation]
    if status in allowed:
        return
    raise PaymentUnexpectedState(
        f"Payment {payment_id} is `{status}`; `{operation}` needs a payment that is "
        + " or ".join(f"`{state}`" for state in allowed)
        + ".",
        payment_id=payment_id,
    )


def allowed_from(operation: str) -> tuple[Status, ...]:
    """Every status from which ``operation`` is possible in some case."""
    return _ALLOWED[operation]


def markdown_table() -> str:
    """The table as Markdown, as the docs show it."""
    lines = ["| from | operation | to | event |", "|---|---|---|---|"]
    for row in TRANSITIONS:
        sources = ", ".join(f"`{state}`" for state in row.sources) or "—"
        operation = row.operation + (f" ({row.case})" if row.case else "")
        target = f"`{row.target}`" if row.target else "unchanged"
        lines.append(f"| {sources} | {operation} | {target} | `{row.event}` |")
    return "\n".join(lines) + "\n"

"""What can happen to a payment: the transition table, in this one place.

Every operation of the simulator asks :func:`transition` for its row before it changes
anything; a missing row is a 409 ``payment_unexpected_state``. ``docs/architecture.md`` shows
:func:`markdown_table`, and a test keeps the two the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_paysim.errors import PaymentUnexpectedState

__all__ = [
    "AUTHORIZED",
    "CANCELED",
    "CAPTURED",
    "FAILED",
    "REFUNDED",
    "REQUIRES_PAYMENT_METHOD",
    "STATUSES",
    "SUCCEEDED",
    "TRANSITIONS",
    "Transition",
    "allowed_from",
    "markdown_table",
    "require",
    "transition",
]

REQUIRES_PAYMENT_METHOD = "requires_payment_method"
AUTHORIZED = "authorized"
SUCCEEDED = "succeeded"
CAPTURED = "captured"
FAILED = "failed"
REFUNDED = "refunded"
CANCELED = "canceled"

STATUSES: tuple[str, ...] = (
    REQUIRES_PAYMENT_METHOD,
    AUTHORIZED,
    SUCCEEDED,
    CAPTURED,
    FAILED,
    REFUNDED,
    CANCELED,
)


@dataclass(frozen=True, slots=True)
class Transition:
    """One row: ``operation`` from any of ``sources`` leads to ``target`` and emits ``event``.

    ``target`` None means the status stays as it was.
    """

    operation: str
    case: str
    sources: tuple[str, ...]
    target: str | None
    event: str


TRANSITIONS: tuple[Transition, ...] = (
    Transition("create", "", (), REQUIRES_PAYMENT_METHOD, "payment.created"),
    Transition(
        "pay",
        "succeed, automatic capture",
        (REQUIRES_PAYMENT_METHOD, FAILED),
        SUCCEEDED,
        "payment.succeeded",
    ),
    Transition(
        "pay",
        "succeed, manual capture",
        (REQUIRES_PAYMENT_METHOD, FAILED),
        AUTHORIZED,
        "payment.authorized",
    ),
    Transition("pay", "fail", (REQUIRES_PAYMENT_METHOD, FAILED), FAILED, "payment.failed"),
    Transition(
        "pay",
        "abandon",
        (REQUIRES_PAYMENT_METHOD, FAILED),
        REQUIRES_PAYMENT_METHOD,
        "payment.requires_payment_method",
    ),
    Transition("capture", "full or partial", (AUTHORIZED,), CAPTURED, "payment.captured"),
    Transition("capture", "the captured amount", (SUCCEEDED,), CAPTURED, "payment.captured"),
    Transition("refund", "part of what is left", (SUCCEEDED, CAPTURED), None, "payment.refunded"),
    Transition("refund", "all that is left", (SUCCEEDED, CAPTURED), REFUNDED, "payment.refunded"),
    Transition("refund", "forced to fail", (SUCCEEDED, CAPTURED), None, "payment.refund_failed"),
    Transition(
        "cancel", "", (REQUIRES_PAYMENT_METHOD, FAILED, AUTHORIZED), CANCELED, "payment.canceled"
    ),
)

_ROWS: dict[tuple[str, str], Transition] = {(row.operation, row.case): row for row in TRANSITIONS}
_ALLOWED: dict[str, tuple[str, ...]] = {}
for _row in TRANSITIONS:
    _ALLOWED[_row.operation] = tuple(dict.fromkeys(_ALLOWED.get(_row.operation, ()) + _row.sources))


def transition(operation: str, case: str, status: str, *, payment_id: str) -> Transition:
    """The row for ``operation`` (in ``case``) from ``status``, or 409 naming the status."""
    row = _ROWS[(operation, case)]
    if status in row.sources:
        return row
    require(operation, status, payment_id=payment_id)
    raise AssertionError(f"no row for {operation} ({case}) from {status}")  # pragma: no cover


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


def allowed_from(operation: str) -> tuple[str, ...]:
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

"""Which outcome a pay attempt (or a refund) ends in.

Precedence: an outcome forced for that payment, then one forced for any payment, then what
the request asked for (an ``outcome`` or a test card)::

    forced = ForcedOutcomes()
    forced.force("fail", decline_code="insufficient_funds", times=1)
    forced.take_pay_outcome("pay_...")   # the rule, and how to put it back; then None

The simulator takes a rule inside an operation's transaction and puts it back when the
operation fails, so a forced outcome is used up only by an attempt that happened. Each rule
counts how often it was ``used``; a ``required`` one that a test never used up fails it
(strict mode, in the plugin).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pytest_paysim.core.cards import DECLINE_CODES
from pytest_paysim.errors import ParameterInvalid

__all__ = [
    "AUTHENTICATION_OUTCOMES",
    "DEFAULT_AUTO_SUCCESS_RATE",
    "FORCED_OUTCOMES",
    "PAY_OUTCOMES",
    "REFUND_OUTCOMES",
    "AuthenticationOutcome",
    "ForcedOutcome",
    "ForcedOutcomes",
    "ForcedRule",
    "PayOutcome",
    "RefundOutcome",
    "Taken",
]

PayOutcome = Literal["succeed", "fail", "abandon"]
"""What a pay request may ask for."""
PAY_OUTCOMES: tuple[PayOutcome, ...] = get_args(PayOutcome)
ForcedOutcome = Literal["succeed", "fail", "abandon", "requires_action"]
"""What a test may force a pay attempt into: a request's outcomes, or 3-D Secure."""
FORCED_OUTCOMES: tuple[ForcedOutcome, ...] = get_args(ForcedOutcome)
DEFAULT_AUTO_SUCCESS_RATE = 0.5
"""The chance that ``simulate: "auto"`` pays successfully, unless a run sets another."""
AuthenticationOutcome = Literal["succeed", "fail"]
AUTHENTICATION_OUTCOMES: tuple[AuthenticationOutcome, ...] = get_args(AuthenticationOutcome)
RefundOutcome = Literal["fail"]
REFUND_OUTCOMES: tuple[RefundOutcome, ...] = get_args(RefundOutcome)


@dataclass(slots=True)
class ForcedRule:
    """Force ``outcome`` for the next ``remaining`` attempts (None: always)."""

    outcome: str
    remaining: int | None
    payment_id: str | None = None
    decline_code: str | None = None
    required: bool = True
    used: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "times": self.remaining,
            "payment_id": self.payment_id,
            "decline_code": self.decline_code,
            "required": self.required,
            "used": self.used,
        }


@dataclass(frozen=True, slots=True)
class Taken:
    """A forced outcome used up by one attempt, and how to give it back."""

    outcome: str
    decline_code: str | None
    give_back: Callable[[], None]


class ForcedOutcomes:
    """The forced pay and refund outcomes of one test."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pay: list[ForcedRule] = []
        self._refund: list[ForcedRule] = []

    def force(
        self,
        outcome: str,
        *,
        payment_id: str | None = None,
        times: int | None = 1,
        decline_code: str | None = None,
        required: bool = True,
    ) -> ForcedRule:
        """Force the next ``times`` pay attempts (of ``payment_id``, or of any).

        Raises ``ParameterInvalid`` for an unknown outcome or decline code, or ``times`` < 1,
        here rather than as a crash at the next pay.
        """
        _check("outcome", outcome, FORCED_OUTCOMES)
        if decline_code is not None:
            _check("decline_code", decline_code, DECLINE_CODES)
        _check_times(times)
        rule = ForcedRule(outcome, times, payment_id, decline_code, required=required)
        with self._lock:
            self._pay.append(rule)
        return rule

    def force_refund(
        self, outcome: str, *, times: int | None = 1, required: bool = True
    ) -> ForcedRule:
        """Force the next ``times`` refunds to end in ``outcome`` (``"fail"``)."""
        _check("refund_outcome", outcome, REFUND_OUTCOMES)
        _check_times(times)
        rule = ForcedRule(outcome, times, required=required)
        with self._lock:
            self._refund.append(rule)
        return rule

    def clear(self) -> None:
        """Forget every forced outcome."""
        with self._lock:
            self._pay.clear()
            self._refund.clear()

    def take_pay_outcome(self, payment_id: str) -> Taken | None:
        """Use up one forced pay outcome for ``payment_id``, or None when none applies."""
        with self._lock:
            rule = self._first(self._pay, payment_id) or self._first(self._pay, None)
            if rule is None:
                return None
            return Taken(rule.outcome, rule.decline_code, self._use(self._pay, rule))

    def has_pay_outcome(self, payment_id: str) -> bool:
        """Whether a forced outcome would apply to the next pay of ``payment_id``."""
        with self._lock:
            return bool(self._first(self._pay, payment_id) or self._first(self._pay, None))

    def take_refund_outcome(self) -> Taken | None:
        """Use up one forced refund outcome, or None."""
        with self._lock:
            rule = self._refund[0] if self._refund else None
            if rule is None:
                return None
            return Taken(rule.outcome, None, self._use(self._refund, rule))

    def snapshot(self) -> dict[str, Any]:
        """The rules in force, for the control API."""
        with self._lock:
            return {
                "outcomes": [rule.to_dict() for rule in self._pay],
                "refund_outcomes": [
                    {
                        "refund_outcome": r.outcome,
                        "times": r.remaining,
                        "required": r.required,
                        "used": r.used,
                    }
                    for r in self._refund
                ],
            }

    @staticmethod
    def _first(rules: list[ForcedRule], payment_id: str | None) -> ForcedRule | None:
        for rule in rules:
            if rule.payment_id == payment_id:
                return rule
        return None

    def _use(self, rules: list[ForcedRule], rule: ForcedRule) -> Callable[[], None]:
        """Count one use of ``rule``; returns what undoes it."""
        rule.used += 1
        if rule.remaining is None:

            def give_back_always() -> None:
                with self._lock:
                    rule.used -= 1

            return give_back_always
        position = rules.index(rule)
        rule.remaining -= 1
        if rule.remaining <= 0:
            del rules[position]

        def give_back() -> None:
            with self._lock:
                assert rule.remaining is not None
                if rule.remaining <= 0:
                    rules.insert(position, rule)
                rule.remaining += 1
                rule.used -= 1

        return give_back


def _check(param: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ParameterInvalid(
            f"`{param}` must be one of {', '.join(choices)}, not {value!r}.", param=param
        )


def _check_times(times: int | None) -> None:
    if times is not None and (isinstance(times, bool) or times < 1):
        raise ParameterInvalid(
            "`times` must be a whole number >= 1, or None for always.", param="times"
        )

"""Which outcome a pay attempt (or a refund) ends in.

Precedence: an outcome forced for that payment, then one forced for any payment, then what
the request asked for (an ``outcome`` or a test card)::

    forced = ForcedOutcomes()
    forced.force("fail", decline_code="insufficient_funds", times=1)
    forced.take_pay_outcome("pay_...")   # ('fail', 'insufficient_funds'), then None
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from pytest_paysim.core.cards import DECLINE_CODES
from pytest_paysim.errors import ParameterInvalid

__all__ = ["PAY_OUTCOMES", "REFUND_OUTCOMES", "ForcedOutcomes", "ForcedRule"]

PAY_OUTCOMES: tuple[str, ...] = ("succeed", "fail", "abandon")
REFUND_OUTCOMES: tuple[str, ...] = ("fail",)


@dataclass(slots=True)
class ForcedRule:
    """Force ``outcome`` for the next ``remaining`` attempts (None: always)."""

    outcome: str
    remaining: int | None
    payment_id: str | None = None
    decline_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "times": self.remaining,
            "payment_id": self.payment_id,
            "decline_code": self.decline_code,
        }


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
    ) -> ForcedRule:
        """Force the next ``times`` pay attempts (of ``payment_id``, or of any).

        Raises ``ParameterInvalid`` for an unknown outcome or decline code, or ``times`` < 1,
        here rather than as a crash at the next pay.
        """
        _check("outcome", outcome, PAY_OUTCOMES)
        if decline_code is not None:
            _check("decline_code", decline_code, DECLINE_CODES)
        _check_times(times)
        rule = ForcedRule(outcome, times, payment_id, decline_code)
        with self._lock:
            self._pay.append(rule)
        return rule

    def force_refund(self, outcome: str, *, times: int | None = 1) -> ForcedRule:
        """Force the next ``times`` refunds to end in ``outcome`` (``"fail"``)."""
        _check("refund_outcome", outcome, REFUND_OUTCOMES)
        _check_times(times)
        rule = ForcedRule(outcome, times)
        with self._lock:
            self._refund.append(rule)
        return rule

    def clear(self) -> None:
        """Forget every forced outcome."""
        with self._lock:
            self._pay.clear()
            self._refund.clear()

    def take_pay_outcome(self, payment_id: str) -> tuple[str, str | None] | None:
        """Use up one forced pay outcome for ``payment_id``, or None when none applies."""
        with self._lock:
            rule = self._first(self._pay, payment_id) or self._first(self._pay, None)
            if rule is None:
                return None
            self._use(self._pay, rule)
            return rule.outcome, rule.decline_code

    def has_pay_outcome(self, payment_id: str) -> bool:
        """Whether a forced outcome would apply to the next pay of ``payment_id``."""
        with self._lock:
            return bool(self._first(self._pay, payment_id) or self._first(self._pay, None))

    def take_refund_outcome(self) -> str | None:
        """Use up one forced refund outcome, or None."""
        with self._lock:
            rule = self._refund[0] if self._refund else None
            if rule is None:
                return None
            self._use(self._refund, rule)
            return rule.outcome

    def snapshot(self) -> dict[str, Any]:
        """The rules in force, for the control API."""
        with self._lock:
            return {
                "outcomes": [rule.to_dict() for rule in self._pay],
                "refund_outcomes": [
                    {"refund_outcome": r.outcome, "times": r.remaining} for r in self._refund
                ],
            }

    @staticmethod
    def _first(rules: list[ForcedRule], payment_id: str | None) -> ForcedRule | None:
        for rule in rules:
            if rule.payment_id == payment_id:
                return rule
        return None

    @staticmethod
    def _use(rules: list[ForcedRule], rule: ForcedRule) -> None:
        if rule.remaining is None:
            return
        rule.remaining -= 1
        if rule.remaining <= 0:
            rules.remove(rule)


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

"""The test cards: which number succeeds and which declines, with what code.

Example::

    card_result("4000 0000 0000 9995")
    # CardResult(outcome='fail', decline_code='insufficient_funds')
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_paysim.errors import ParameterInvalid

__all__ = [
    "AUTHENTICATION_FAILED_MESSAGE",
    "DECLINE_CODES",
    "DECLINE_MESSAGES",
    "TEST_CARDS",
    "CardResult",
    "card_result",
    "luhn_valid",
    "normalize_card_number",
]

DECLINE_MESSAGES: dict[str, str] = {
    "generic_decline": "The card was declined.",
    "insufficient_funds": "The card has insufficient funds to complete the purchase.",
    "lost_card": "The card was declined because it was reported lost.",
    "stolen_card": "The card was declined because it was reported stolen.",
    "expired_card": "The card has expired.",
    "incorrect_cvc": "The card's security code is incorrect.",
    "processing_error": "An error occurred while processing the card.",
    "fraudulent": "The payment was declined because it was flagged as fraudulent.",
}
"""Decline code → the plain sentence shown as ``failure_message``."""

DECLINE_CODES: tuple[str, ...] = tuple(DECLINE_MESSAGES)

AUTHENTICATION_FAILED_MESSAGE = (
    "The customer did not complete 3-D Secure authentication, so the bank refused the payment."
)
"""``failure_message`` of a payment whose authentication failed (``authentication_failed``)."""


@dataclass(frozen=True, slots=True)
class CardResult:
    """What paying with a card leads to.

    ``outcome`` ``requires_action``: the card needs 3-D Secure authentication first; once
    authenticated it succeeds, or declines with ``decline_code`` when one is given.
    """

    outcome: str
    decline_code: str | None = None


TEST_CARDS: dict[str, CardResult] = {
    "4242424242424242": CardResult("succeed"),
    "5555555555554444": CardResult("succeed"),
    "4000000000000002": CardResult("fail", "generic_decline"),
    "4000000000009995": CardResult("fail", "insufficient_funds"),
    "4000000000009987": CardResult("fail", "lost_card"),
    "4000000000009979": CardResult("fail", "stolen_card"),
    "4000000000000069": CardResult("fail", "expired_card"),
    "4000000000000127": CardResult("fail", "incorrect_cvc"),
    "4000000000000119": CardResult("fail", "processing_error"),
    "4100000000000019": CardResult("fail", "fraudulent"),
    "4000002760003184": CardResult("requires_action"),
    "4000002500003155": CardResult("requires_action"),
    "4000008260003178": CardResult("requires_action", "insufficient_funds"),
}
"""The listed test card numbers; any other valid number succeeds."""

_SUCCEED = CardResult("succeed")


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def normalize_card_number(number: str) -> str:
    """Strip spaces and dashes; raise ``ParameterInvalid`` unless 12 to 19 Luhn-valid digits."""
    digits = number.replace(" ", "").replace("-", "")
    if not (digits.isascii() and digits.isdigit() and 12 <= len(digits) <= 19):
        raise ParameterInvalid(
            "`card_number` must be 12 to 19 digits (spaces and dashes allowed), "
            "for example 4242 4242 4242 4242.",
            param="card_number",
        )
    if not luhn_valid(digits):
        raise ParameterInvalid(
            "`card_number` fails the Luhn check; use a test card such as 4242424242424242.",
            param="card_number",
        )
    return digits


def card_result(number: str) -> CardResult:
    """The outcome of paying with ``number`` (validated as ``normalize_card_number`` does)."""
    return TEST_CARDS.get(normalize_card_number(number), _SUCCEED)

"""The dialect's cards: Stripe's test payment method ids, what card each is, what it does.

Stripe's docs give test payment methods (``pm_card_visa``, ``pm_card_chargeDeclined``, ...)
that exist in every account without being created; here each is a :class:`Card` with the
SPEC section 9 number that behaves the same way. A declined confirmation answers 402 with
``code: "card_declined"`` and the ``decline_code``, except for the three declines that are
their own code at Stripe (``expired_card``, ``incorrect_cvc``, ``processing_error``)::

    >>> card = TEST_PAYMENT_METHODS["pm_card_chargeDeclinedExpiredCard"]
    >>> card.number, card.decline_code, decline_error_code(card.decline_code)
    ('4000000000000069', 'expired_card', 'expired_card')
    >>> decline_error_code("insufficient_funds")
    'card_declined'

:func:`card_for_number` reads the card of ``POST /v1/payment_methods`` and raises Stripe's
402 for a number, expiry or CVC that Stripe would refuse; :func:`card_of_number` is the card
of a number already checked (a stored payment method's)::

    >>> card = card_of_number("4000000000009995", exp_month=3, exp_year=2031)
    >>> card.brand, card.last4, card.decline_code
    ('visa', '9995', 'insufficient_funds')
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pytest_paysim.core.cards import luhn_valid
from pytest_paysim.stripe.errors import (
    CardError,
    ExpiredCard,
    IncorrectCvc,
    IncorrectNumber,
    InvalidCvc,
    InvalidExpiryMonth,
    InvalidExpiryYear,
    ProcessingError,
)

__all__ = [
    "DECLINE_MESSAGES",
    "EXP_MONTH",
    "EXP_YEAR",
    "OWN_CODE_DECLINES",
    "SPECIAL_NUMBERS",
    "TEST_PAYMENT_METHODS",
    "Card",
    "brand_of",
    "card_for_number",
    "card_of_number",
    "decline_error",
    "decline_error_code",
    "fingerprint",
]

EXP_MONTH = 12
EXP_YEAR = 2034
"""The expiry of every test payment method (fixed, so that answers never depend on the day)."""

DECLINE_MESSAGES: dict[str, str] = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "fraudulent": "Your card was declined.",
}
"""Decline code → the message Stripe gives the customer (the error's ``message``)."""

OWN_CODE_DECLINES: dict[str, type[CardError]] = {
    "expired_card": ExpiredCard,
    "incorrect_cvc": IncorrectCvc,
    "processing_error": ProcessingError,
}
"""The declines whose error ``code`` is not ``card_declined`` but their own, as at Stripe."""

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_NETWORKS = {"amex": "amex", "diners": "diners", "unionpay": "unionpay"}
_DISPLAY_BRANDS = {"amex": "american_express", "diners": "diners_club"}


@dataclass(frozen=True, slots=True)
class Card:
    """A card as a payment method shows it, and what paying with it does.

    ``requires_action``: a confirmation first needs 3-D Secure; ``decline_code``: the
    confirmation (after authentication, if any) is declined with it.
    """

    number: str
    brand: str
    exp_month: int = EXP_MONTH
    exp_year: int = EXP_YEAR
    funding: str = "credit"
    country: str = "US"
    decline_code: str | None = None
    requires_action: bool = False

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.number)

    @property
    def network(self) -> str:
        """The card network (``visa``, ``mastercard``, ``amex``, ...)."""
        return _NETWORKS.get(self.brand, self.brand)

    @property
    def display_brand(self) -> str:
        return _DISPLAY_BRANDS.get(self.brand, self.brand)

    @property
    def error_code(self) -> str | None:
        """The ``code`` of this card's decline, None if it does not decline."""
        return None if self.decline_code is None else decline_error_code(self.decline_code)


def _visa(number: str, decline_code: str | None = None, *, requires_action: bool = False) -> Card:
    return Card(number, "visa", decline_code=decline_code, requires_action=requires_action)


TEST_PAYMENT_METHODS: dict[str, Card] = {
    "pm_card_visa": _visa("4242424242424242"),
    "pm_card_mastercard": Card("5555555555554444", "mastercard"),
    "pm_card_amex": Card("378282246310005", "amex"),
    "pm_card_chargeDeclined": _visa("4000000000000002", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": _visa("4000000000009995", "insufficient_funds"),
    "pm_card_chargeDeclinedLostCard": _visa("4000000000009987", "lost_card"),
    "pm_card_chargeDeclinedStolenCard": _visa("4000000000009979", "stolen_card"),
    "pm_card_chargeDeclinedExpiredCard": _visa("4000000000000069", "expired_card"),
    "pm_card_chargeDeclinedIncorrectCvc": _visa("4000000000000127", "incorrect_cvc"),
    "pm_card_chargeDeclinedProcessingError": _visa("4000000000000119", "processing_error"),
    "pm_card_chargeDeclinedFraudulent": _visa("4100000000000019", "fraudulent"),
    "pm_card_authenticationRequired": _visa("4000002760003184", requires_action=True),
}
"""Stripe's test payment method ids (SPEC section 14), each the SPEC section 9 card."""

SPECIAL_NUMBERS: dict[str, Card] = {
    card.number: card for card in TEST_PAYMENT_METHODS.values() if card.brand == "visa"
} | {
    "4000002500003155": _visa("4000002500003155", requires_action=True),
    "4000008260003178": _visa("4000008260003178", "insufficient_funds", requires_action=True),
}
"""The SPEC section 9 numbers that do something other than succeed, by number."""


def fingerprint(number: str) -> str:
    """A stable 16-character fingerprint of a card number (the same card, the same value)."""
    digest = hashlib.sha256(b"paysim-card:" + number.encode()).digest()
    return "".join(_BASE62[byte % 62] for byte in digest[:16])


def brand_of(number: str) -> str:
    """The card brand Stripe names for ``number`` (by its leading digits), or ``unknown``."""
    if number.startswith("4"):
        return "visa"
    two, four, six = int(number[:2] or 0), int(number[:4] or 0), int(number[:6] or 0)
    if 51 <= two <= 55 or 222100 <= six <= 272099:
        return "mastercard"
    if two in (34, 37):
        return "amex"
    if number.startswith(("6011", "65")) or 644 <= int(number[:3] or 0) <= 649:
        return "discover"
    if two in (36, 38, 39) or 300 <= int(number[:3] or 0) <= 305:
        return "diners"
    if 3528 <= four <= 3589:
        return "jcb"
    if two == 62:
        return "unionpay"
    return "unknown"


def card_for_number(
    number: str,
    *,
    exp_month: int,
    exp_year: int,
    today: date,
    cvc: str | None = None,
    param: str = "card",
) -> Card:
    """The card of ``card[number]``, ``card[exp_month]``, ``card[exp_year]``, ``card[cvc]``.

    Spaces and dashes in the number are ignored. A number that is not 12 to 19 Luhn-valid
    digits, an expiry that is invalid or past on ``today`` (the simulator's date), or a CVC
    that is not 3 or 4 digits is Stripe's 402 ``card_error``. A two-digit year means 20xx.
    """
    digits = number.replace(" ", "").replace("-", "")
    if not (digits.isascii() and digits.isdigit() and 12 <= len(digits) <= 19) or not luhn_valid(
        digits
    ):
        raise IncorrectNumber("Your card number is incorrect.", param=f"{param}[number]")
    year = exp_year + 2000 if 0 <= exp_year < 100 else exp_year
    if not 1 <= exp_month <= 12:
        raise InvalidExpiryMonth(
            "Your card's expiration month is invalid.", param=f"{param}[exp_month]"
        )
    if not today.year <= year <= today.year + 50:
        raise InvalidExpiryYear(
            "Your card's expiration year is invalid.", param=f"{param}[exp_year]"
        )
    if (year, exp_month) < (today.year, today.month):
        raise InvalidExpiryMonth(
            "Your card's expiration month is invalid.", param=f"{param}[exp_month]"
        )
    if cvc is not None and not (cvc.isascii() and cvc.isdigit() and 3 <= len(cvc) <= 4):
        raise InvalidCvc("Your card's security code is invalid.", param=f"{param}[cvc]")
    return card_of_number(digits, exp_month=exp_month, exp_year=year)


def card_of_number(digits: str, *, exp_month: int, exp_year: int) -> Card:
    """The card of a checked number (digits only): its brand, and what paying with it does."""
    special = SPECIAL_NUMBERS.get(digits)
    return Card(
        digits,
        brand_of(digits),
        exp_month=exp_month,
        exp_year=exp_year,
        decline_code=special.decline_code if special else None,
        requires_action=special.requires_action if special else False,
    )


def decline_error_code(decline_code: str) -> str:
    """The error ``code`` of a decline: ``card_declined``, or the decline's own code."""
    return decline_code if decline_code in OWN_CODE_DECLINES else "card_declined"


def decline_error(
    decline_code: str,
    *,
    charge: str | None = None,
    payment_intent: Mapping[str, Any] | None = None,
    payment_method: Mapping[str, Any] | None = None,
    message: str | None = None,
) -> CardError:
    """The 402 of a declined confirmation, with Stripe's code, decline code and message."""
    cls = OWN_CODE_DECLINES.get(decline_code, CardError)
    return cls(
        message or DECLINE_MESSAGES.get(decline_code, "Your card was declined."),
        decline_code=decline_code,
        charge=charge,
        payment_intent=payment_intent,
        payment_method=payment_method,
    )

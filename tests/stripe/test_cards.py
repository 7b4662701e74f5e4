"""The Stripe dialect's cards: the ``pm_card_*`` test payment methods and the card checks of
``POST /v1/payment_methods``."""

from __future__ import annotations

from datetime import date

import pytest

from pytest_paysim.core.cards import TEST_CARDS, luhn_valid
from pytest_paysim.stripe.cards import (
    DECLINE_MESSAGES,
    EXP_MONTH,
    EXP_YEAR,
    OWN_CODE_DECLINES,
    SPECIAL_NUMBERS,
    TEST_PAYMENT_METHODS,
    Card,
    brand_of,
    card_for_number,
    decline_error,
    decline_error_code,
    fingerprint,
)
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

TODAY = date(2026, 6, 15)

# Written out from SPEC sections 9 and 14 (and Stripe's docs for the brands).
SPEC_METHODS = [
    pytest.param("pm_card_visa", "4242424242424242", "visa", None, False, id="visa"),
    pytest.param("pm_card_mastercard", "5555555555554444", "mastercard", None, False, id="mc"),
    pytest.param("pm_card_amex", "378282246310005", "amex", None, False, id="amex"),
    pytest.param(
        "pm_card_chargeDeclined", "4000000000000002", "visa", "generic_decline", False, id="decl"
    ),
    pytest.param(
        "pm_card_chargeDeclinedInsufficientFunds",
        "4000000000009995",
        "visa",
        "insufficient_funds",
        False,
        id="funds",
    ),
    pytest.param(
        "pm_card_chargeDeclinedLostCard", "4000000000009987", "visa", "lost_card", False, id="lost"
    ),
    pytest.param(
        "pm_card_chargeDeclinedStolenCard",
        "4000000000009979",
        "visa",
        "stolen_card",
        False,
        id="stolen",
    ),
    pytest.param(
        "pm_card_chargeDeclinedExpiredCard",
        "4000000000000069",
        "visa",
        "expired_card",
        False,
        id="expired",
    ),
    pytest.param(
        "pm_card_chargeDeclinedIncorrectCvc",
        "4000000000000127",
        "visa",
        "incorrect_cvc",
        False,
        id="cvc",
    ),
    pytest.param(
        "pm_card_chargeDeclinedProcessingError",
        "4000000000000119",
        "visa",
        "processing_error",
        False,
        id="processing",
    ),
    pytest.param(
        "pm_card_chargeDeclinedFraudulent",
        "4100000000000019",
        "visa",
        "fraudulent",
        False,
        id="fraud",
    ),
    pytest.param(
        "pm_card_authenticationRequired", "4000002760003184", "visa", None, True, id="3ds"
    ),
]


@pytest.mark.parametrize(("pm_id", "number", "brand", "decline", "action"), SPEC_METHODS)
def test_test_payment_methods(
    pm_id: str, number: str, brand: str, decline: str | None, action: bool
) -> None:
    card = TEST_PAYMENT_METHODS[pm_id]
    assert (card.number, card.brand, card.decline_code, card.requires_action) == (
        number,
        brand,
        decline,
        action,
    )
    assert card.last4 == number[-4:]
    assert (card.exp_month, card.exp_year) == (EXP_MONTH, EXP_YEAR)
    assert luhn_valid(number)
    assert brand_of(number) == brand
    # The same outcome as the core's card table (a number the core does not list succeeds).
    core = TEST_CARDS.get(number)
    if action:
        assert core is not None
        assert (core.outcome, core.decline_code) == ("requires_action", decline)
    elif decline is None:
        assert core is None or core.outcome == "succeed"
    else:
        assert core is not None
        assert core.decline_code == decline


def test_exactly_the_spec_methods() -> None:
    assert len(TEST_PAYMENT_METHODS) == len(SPEC_METHODS)
    assert set(DECLINE_MESSAGES) == {
        card.decline_code for card in TEST_PAYMENT_METHODS.values() if card.decline_code
    }


@pytest.mark.parametrize(
    ("decline", "code", "cls"),
    [
        pytest.param("generic_decline", "card_declined", CardError, id="generic"),
        pytest.param("insufficient_funds", "card_declined", CardError, id="funds"),
        pytest.param("lost_card", "card_declined", CardError, id="lost"),
        pytest.param("stolen_card", "card_declined", CardError, id="stolen"),
        pytest.param("fraudulent", "card_declined", CardError, id="fraudulent"),
        pytest.param("expired_card", "expired_card", ExpiredCard, id="expired"),
        pytest.param("incorrect_cvc", "incorrect_cvc", IncorrectCvc, id="cvc"),
        pytest.param("processing_error", "processing_error", ProcessingError, id="processing"),
        pytest.param("do_not_honor", "card_declined", CardError, id="unlisted"),
    ],
)
def test_decline_codes_and_errors(decline: str, code: str, cls: type[CardError]) -> None:
    assert decline_error_code(decline) == code
    error = decline_error(decline, charge="ch_1", payment_intent={"id": "pi_1"})
    assert type(error) is cls
    assert error.status_code == 402
    body = error.to_dict()["error"]
    assert (body["type"], body["code"], body["decline_code"]) == ("card_error", code, decline)
    assert body["message"] == DECLINE_MESSAGES.get(decline, "Your card was declined.")
    assert body["charge"] == "ch_1"
    assert body["payment_intent"] == {"id": "pi_1"}


def test_own_code_declines_are_the_three_of_the_spec() -> None:
    assert set(OWN_CODE_DECLINES) == {"expired_card", "incorrect_cvc", "processing_error"}
    card = TEST_PAYMENT_METHODS["pm_card_chargeDeclinedIncorrectCvc"]
    assert card.error_code == "incorrect_cvc"
    assert TEST_PAYMENT_METHODS["pm_card_chargeDeclinedLostCard"].error_code == "card_declined"
    assert TEST_PAYMENT_METHODS["pm_card_visa"].error_code is None


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        pytest.param("4242424242424242", "visa", id="visa"),
        pytest.param("5555555555554444", "mastercard", id="mastercard"),
        pytest.param("2223003122003222", "mastercard", id="mastercard-2-series"),
        pytest.param("378282246310005", "amex", id="amex"),
        pytest.param("6011111111111117", "discover", id="discover"),
        pytest.param("3056930009020004", "diners", id="diners"),
        pytest.param("3566002020360505", "jcb", id="jcb"),
        pytest.param("6200000000000005", "unionpay", id="unionpay"),
        pytest.param("123456789015", "unknown", id="unknown"),
    ],
)
def test_brand_of(number: str, brand: str) -> None:
    assert brand_of(number) == brand


def test_fingerprint_is_stable_and_per_number() -> None:
    assert fingerprint("4242424242424242") == fingerprint("4242424242424242")
    assert fingerprint("4242424242424242") != fingerprint("5555555555554444")
    assert len(fingerprint("4242424242424242")) == 16
    assert fingerprint("4242424242424242").isalnum()


def test_card_for_number_reads_a_card() -> None:
    card = card_for_number("4242 4242-4242 4242", exp_month=12, exp_year=30, today=TODAY, cvc="123")
    assert card == Card("4242424242424242", "visa", exp_month=12, exp_year=2030)
    assert card_for_number("4000002500003155", exp_month=6, exp_year=2026, today=TODAY) == Card(
        "4000002500003155", "visa", exp_month=6, exp_year=2026, requires_action=True
    )
    declined = card_for_number("4000008260003178", exp_month=1, exp_year=2027, today=TODAY)
    assert (declined.requires_action, declined.decline_code) == (True, "insufficient_funds")
    assert card_for_number("4000000000009995", exp_month=1, exp_year=2027, today=TODAY).decline_code


def test_special_numbers_agree_with_the_core_table() -> None:
    for number, result in TEST_CARDS.items():
        special = SPECIAL_NUMBERS.get(number)
        if result.outcome == "succeed":
            assert special is None or special.decline_code is None
        else:
            assert special is not None
            assert special.decline_code == result.decline_code


@pytest.mark.parametrize(
    ("number", "exp_month", "exp_year", "cvc", "error", "param"),
    [
        pytest.param("4242424242424241", 12, 2030, None, IncorrectNumber, "number", id="luhn"),
        pytest.param("4242", 12, 2030, None, IncorrectNumber, "number", id="short"),
        pytest.param("4242x42424242424", 12, 2030, None, IncorrectNumber, "number", id="letter"),
        pytest.param("", 12, 2030, None, IncorrectNumber, "number", id="empty"),
        pytest.param("4242424242424242", 13, 2030, None, InvalidExpiryMonth, "exp_month", id="m13"),
        pytest.param("4242424242424242", 0, 2030, None, InvalidExpiryMonth, "exp_month", id="m0"),
        pytest.param("4242424242424242", 5, 2026, None, InvalidExpiryMonth, "exp_month", id="past"),
        pytest.param("4242424242424242", 12, 2025, None, InvalidExpiryYear, "exp_year", id="y-old"),
        pytest.param("4242424242424242", 12, 2077, None, InvalidExpiryYear, "exp_year", id="y-far"),
        pytest.param("4242424242424242", 12, 2030, "12", InvalidCvc, "cvc", id="cvc-short"),
        pytest.param("4242424242424242", 12, 2030, "12a", InvalidCvc, "cvc", id="cvc-letter"),
    ],
)
def test_card_for_number_refuses_as_stripe_does(
    number: str,
    exp_month: int,
    exp_year: int,
    cvc: str | None,
    error: type[CardError],
    param: str,
) -> None:
    with pytest.raises(error) as caught:
        card_for_number(number, exp_month=exp_month, exp_year=exp_year, today=TODAY, cvc=cvc)
    assert caught.value.status_code == 402
    assert caught.value.param == f"card[{param}]"
    assert caught.value.to_dict()["error"]["type"] == "card_error"


def test_this_month_is_not_past() -> None:
    assert card_for_number("4242424242424242", exp_month=6, exp_year=2026, today=TODAY)

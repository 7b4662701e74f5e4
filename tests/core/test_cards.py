"""SPEC section 9: the test cards, through the simulator and on their own."""

from __future__ import annotations

import pytest

from pytest_paysim.core.cards import (
    DECLINE_CODES,
    DECLINE_MESSAGES,
    TEST_CARDS,
    CardResult,
    card_result,
    luhn_valid,
    normalize_card_number,
)
from pytest_paysim.core.simulator import Simulator, SimulatorConfig
from pytest_paysim.errors import ParameterInvalid

# Written out from SPEC section 9.
SPEC_CARDS = [
    ("4242424242424242", None),
    ("5555555555554444", None),
    ("4000000000000002", "generic_decline"),
    ("4000000000009995", "insufficient_funds"),
    ("4000000000009987", "lost_card"),
    ("4000000000009979", "stolen_card"),
    ("4000000000000069", "expired_card"),
    ("4000000000000127", "incorrect_cvc"),
    ("4000000000000119", "processing_error"),
    ("4100000000000019", "fraudulent"),
]
# 3-D Secure cards: number → the decline once authenticated (None: they then succeed).
SPEC_3DS_CARDS = [
    ("4000002760003184", None),
    ("4000002500003155", None),
    ("4000008260003178", "insufficient_funds"),
]

OTHER_VALID = [
    pytest.param("378282246310005", id="amex-15"),
    pytest.param("6011111111111117", id="discover-16"),
    pytest.param("4111111111111111", id="visa-16"),
    pytest.param("4222222222222", id="visa-13"),
    pytest.param("123456789015", id="12-digits"),
    pytest.param("1234567890123456785", id="19-digits"),
]


def _pay(number: str, *, manual: bool = False) -> dict[str, object]:
    sim = Simulator(SimulatorConfig(seed=8))
    method = "manual" if manual else "automatic"
    payment = sim.create_payment(amount=700, currency="usd", capture_method=method)
    sim.pay(payment.id, card_number=number)
    return sim.get_payment(payment.id).to_dict()


def test_table_matches_spec() -> None:
    assert {number: result.decline_code for number, result in TEST_CARDS.items()} == dict(
        SPEC_CARDS + SPEC_3DS_CARDS
    )
    for number, code in SPEC_CARDS:
        assert TEST_CARDS[number].outcome == ("succeed" if code is None else "fail")
    for number, _ in SPEC_3DS_CARDS:
        assert TEST_CARDS[number].outcome == "requires_action"
    assert set(DECLINE_CODES) == {code for _, code in SPEC_CARDS if code}


@pytest.mark.parametrize(
    ("number", "decline_code"),
    [pytest.param(number, code, id=number) for number, code in SPEC_CARDS],
)
def test_each_test_card_through_the_simulator(number: str, decline_code: str | None) -> None:
    payment = _pay(number)
    if decline_code is None:
        assert payment["status"] == "succeeded"
        assert payment["amount_captured"] == 700
        assert payment["failure_code"] is payment["decline_code"] is None
    else:
        assert payment["status"] == "failed"
        assert payment["failure_code"] == "card_declined"
        assert payment["decline_code"] == decline_code
        message = payment["failure_message"]
        assert isinstance(message, str)
        assert message == DECLINE_MESSAGES[decline_code]
        assert message[0].isupper()
        assert message.endswith(".")
        assert payment["amount_captured"] == 0


def test_succeeding_card_under_manual_capture_authorizes() -> None:
    payment = _pay("5555 5555 5555 4444", manual=True)
    assert (payment["status"], payment["amount_capturable"]) == ("authorized", 700)


@pytest.mark.parametrize(
    ("number", "decline_code"),
    [
        pytest.param("4242 4242 4242 4242", None, id="spaces"),
        pytest.param("4000-0000-0000-9995", "insufficient_funds", id="dashes"),
        pytest.param(" 4000 0000-0000 0069 ", "expired_card", id="mixed"),
    ],
)
def test_spaces_and_dashes_are_ignored(number: str, decline_code: str | None) -> None:
    assert _pay(number)["decline_code"] == decline_code
    assert card_result(number).decline_code == decline_code


@pytest.mark.parametrize("number", OTHER_VALID)
def test_any_other_valid_number_succeeds(number: str) -> None:
    assert luhn_valid(number)
    assert card_result(number) == CardResult("succeed")
    assert _pay(number)["status"] == "succeeded"


@pytest.mark.parametrize(
    "number",
    [
        pytest.param("4242424242424241", id="luhn-invalid"),
        pytest.param("4000000000000003", id="luhn-invalid-decline"),
        pytest.param("79927398713", id="11-digits-luhn-valid"),
        pytest.param("12345678901234567894", id="20-digits-luhn-valid"),
        pytest.param("", id="empty"),
        pytest.param("4242 4242 4242 424x", id="letter"),
        pytest.param("4242.4242.4242.4242", id="dots"),
        pytest.param("\uff14\uff12" * 8, id="fullwidth-digits"),
    ],
)
def test_invalid_numbers_are_parameter_invalid(number: str) -> None:
    with pytest.raises(ParameterInvalid) as info:
        card_result(number)
    assert (info.value.status_code, info.value.code, info.value.param) == (
        400,
        "parameter_invalid",
        "card_number",
    )
    # Through the simulator: refused, and nothing happens to the payment.
    sim = Simulator(SimulatorConfig(seed=8))
    payment = sim.create_payment(amount=700, currency="usd")
    before = payment.to_dict()
    with pytest.raises(ParameterInvalid) as info:
        sim.pay(payment.id, card_number=number)
    assert info.value.param == "card_number"
    assert sim.get_payment(payment.id).to_dict() == before
    assert [event.type for event in sim.events_of(payment.id)] == ["payment.created"]


def test_wrong_length_numbers_are_luhn_valid_so_length_is_what_fails() -> None:
    assert luhn_valid("79927398713")
    assert luhn_valid("12345678901234567894")


def test_normalize_card_number() -> None:
    assert normalize_card_number("4242-4242 4242-4242") == "4242424242424242"


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        pytest.param("0", True, id="zero"),
        pytest.param("18", True, id="18"),
        pytest.param("17", False, id="17"),
        pytest.param("79927398713", True, id="wikipedia"),
        pytest.param("79927398710", False, id="wikipedia-bad"),
    ],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid

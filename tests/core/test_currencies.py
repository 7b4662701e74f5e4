"""ISO 4217 minor units and how amounts read."""

from __future__ import annotations

import re

import pytest

from pytest_paysim.core.currencies import CURRENCIES, format_amount, minor_unit_digits


@pytest.mark.parametrize(
    ("code", "digits"),
    [
        pytest.param("usd", 2, id="usd"),
        pytest.param("EUR", 2, id="upper-case"),
        pytest.param("jpy", 0, id="jpy"),
        pytest.param("krw", 0, id="krw"),
        pytest.param("clp", 0, id="clp"),
        pytest.param("isk", 0, id="isk"),
        pytest.param("vnd", 0, id="vnd"),
        pytest.param("kwd", 3, id="kwd"),
        pytest.param("bhd", 3, id="bhd"),
        pytest.param("tnd", 3, id="tnd"),
        pytest.param("clf", 4, id="clf"),
        pytest.param("uyw", 4, id="uyw"),
        pytest.param("xyz", 2, id="unknown"),
    ],
)
def test_minor_unit_digits(code: str, digits: int) -> None:
    assert minor_unit_digits(code) == digits


def test_codes_are_lower_case_iso_codes() -> None:
    assert len(CURRENCIES) > 150
    for code, digits in CURRENCIES.items():
        assert re.fullmatch("[a-z]{3}", code), code
        assert digits in (0, 2, 3, 4)
    for code in ("usd", "eur", "gbp", "jpy", "chf", "cad", "aud", "cny", "inr", "brl"):
        assert code in CURRENCIES


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        pytest.param(1999, "usd", "19.99 USD", id="usd"),
        pytest.param(5, "usd", "0.05 USD", id="cents"),
        pytest.param(0, "eur", "0.00 EUR", id="zero"),
        pytest.param(99_999_999, "usd", "999,999.99 USD", id="max"),
        pytest.param(500, "jpy", "500 JPY", id="zero-decimal"),
        pytest.param(1_234_567, "JPY", "1,234,567 JPY", id="zero-decimal-thousands"),
        pytest.param(1005, "kwd", "1.005 KWD", id="three-decimal"),
        pytest.param(12345, "clf", "1.2345 CLF", id="four-decimal"),
        pytest.param(-250, "gbp", "-2.50 GBP", id="negative"),
    ],
)
def test_format_amount(amount: int, currency: str, text: str) -> None:
    assert format_amount(amount, currency) == text

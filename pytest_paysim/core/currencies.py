"""ISO 4217 currencies and their minor units, for validation and for showing amounts.

Example::

    format_amount(1999, "usd")  # '19.99 USD'
    format_amount(500, "jpy")   # '500 JPY'
"""

from __future__ import annotations

__all__ = ["CURRENCIES", "format_amount", "minor_unit_digits"]

_ZERO_DECIMAL = "bif clp djf gnf isk jpy kmf krw pyg rwf ugx uyi vnd vuv xaf xof xpf"
_THREE_DECIMAL = "bhd iqd jod kwd lyd omr tnd"
_FOUR_DECIMAL = "clf uyw"
_TWO_DECIMAL = (
    "aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bmd bnd bob bov brl bsd btn bwp "
    "byn bzd cad cdf che chf chw cny cop cou crc cuc cup cve czk dkk dop dzd egp ern etb eur "
    "fjd fkp gbp gel ghs gip gmd gtq gyd hkd hnl htg huf idr ils inr irr jmd kes kgs khr kpw "
    "kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mru mur mvr mwk mxn mxv myr mzn "
    "nad ngn nio nok npr nzd pab pen pgk php pkr pln qar ron rsd rub sar sbd scr sdg sek sgd "
    "shp sle sll sos srd ssp stn svc syp szl thb tjs tmt top try ttd twd tzs uah usd usn uzs "
    "ved ves wst xcd xcg yer zar zmw zwg zwl"
)

CURRENCIES: dict[str, int] = {
    **{code: 2 for code in _TWO_DECIMAL.split()},
    **{code: 0 for code in _ZERO_DECIMAL.split()},
    **{code: 3 for code in _THREE_DECIMAL.split()},
    **{code: 4 for code in _FOUR_DECIMAL.split()},
}
"""Lower-case ISO 4217 code → number of digits after the decimal point."""


def minor_unit_digits(currency: str) -> int:
    """How many minor-unit digits ``currency`` has (2 when unknown)."""
    return CURRENCIES.get(currency.lower(), 2)


def format_amount(amount: int, currency: str) -> str:
    """An amount in minor units as a person reads it: ``'19.99 USD'``, ``'500 JPY'``."""
    digits = minor_unit_digits(currency)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**digits)
    text = f"{whole:,}"
    if digits:
        text += "." + str(fraction).zfill(digits)
    return f"{sign}{text} {currency.upper()}"

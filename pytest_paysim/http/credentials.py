"""Credentials of a request: the API key (Bearer or HTTP Basic) and a payment's client secret.

One parser for both ``Authorization`` forms serves the API and the dashboard; comparisons run
in constant time::

    key = api_key_of(environ.get("HTTP_AUTHORIZATION", ""))   # "" when there is none
    if not matches(key, simulator.api_key): ...
"""

from __future__ import annotations

import base64
import binascii
import hmac

from pytest_paysim.core.simulator import Simulator
from pytest_paysim.errors import ApiKeyInvalid, ClientSecretInvalid, ResourceMissing

__all__ = ["api_key_of", "check_api_key", "check_client_secret", "matches"]


def api_key_of(header: str) -> str:
    """The key in an ``Authorization`` header: ``Bearer KEY``, or Basic with KEY as user name."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return ""
        return decoded.partition(":")[0]
    return ""


def matches(given: str, expected: str) -> bool:
    """Whether ``given`` is ``expected`` (constant time; an empty ``given`` never matches)."""
    return bool(given) and hmac.compare_digest(
        given.encode("utf-8", "replace"), expected.encode("utf-8")
    )


def check_api_key(header: str, simulator: Simulator) -> str:
    """The simulator's API key if ``header`` carries it; 401 ``api_key_invalid`` otherwise."""
    expected = simulator.api_key
    if not matches(api_key_of(header), expected):
        raise ApiKeyInvalid(
            "The API key is not valid; use the key this server printed "
            "(PAYSIM_API_KEY) as `Authorization: Bearer <key>`.",
        )
    return expected


def check_client_secret(simulator: Simulator, payment_id: str, secret: str) -> None:
    """Raise 403 unless ``secret`` is the client secret of ``payment_id``."""
    try:
        expected = simulator.get_payment(payment_id).client_secret
    except ResourceMissing:
        expected = ""
    if not expected or not matches(secret, expected):
        raise ClientSecretInvalid(
            "This client secret does not belong to this payment; use the payment's own "
            "`client_secret`.",
            param="client_secret",
        )

"""The webhook wire format, checked against the real third-party verifiers (no mocks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests.structures
import standardwebhooks.webhooks
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from werkzeug.datastructures import Headers

import stripe
from pytest_paysim.core import signing
from pytest_paysim.core.signing import (
    PAYSIM_SIGNATURE_HEADER,
    SCHEMES,
    WEBHOOK_ID_HEADER,
    WEBHOOK_SIGNATURE_HEADER,
    WEBHOOK_TIMESTAMP_HEADER,
    generate_hmac_secret,
    generate_signing_key,
    public_key_for,
    sign,
    verify,
)
from pytest_paysim.errors import WebhookVerificationError

SECRET = generate_hmac_secret(random.Random(1))
SECRET_2 = generate_hmac_secret(random.Random(2))
SIGNING_KEY = generate_signing_key(random.Random(3))
SIGNING_KEY_2 = generate_signing_key(random.Random(4))
PUBLIC_KEY = public_key_for(SIGNING_KEY)
PUBLIC_KEY_2 = public_key_for(SIGNING_KEY_2)

T0 = 1_700_000_000
EVENT_ID = "evt_1PaysimTestEvent0001"

# scheme -> (key to sign with, key to verify with, a different valid verify key)
KEYS: dict[str, tuple[str, str, str]] = {
    "paysim": (SECRET, SECRET, SECRET_2),
    "standard": (SECRET, SECRET, SECRET_2),
    "ed25519": (SIGNING_KEY, PUBLIC_KEY, PUBLIC_KEY_2),
}
ALL_KEYS = (SECRET, SECRET_2, SIGNING_KEY, SIGNING_KEY_2, PUBLIC_KEY, PUBLIC_KEY_2)
SCHEME_PARAMS = [pytest.param(scheme, id=scheme) for scheme in SCHEMES]


def event_body(event_id: str = EVENT_ID, amount: int = 2000) -> bytes:
    """A realistic event, serialised once, as the simulator delivers it."""
    event = {
        "id": event_id,
        "object": "event",
        "type": "payment.succeeded",
        "created_at": "2024-05-01T12:00:00Z",
        "livemode": False,
        "data": {
            "object": {
                "id": "pay_1PaysimTestPayment01",
                "object": "payment",
                "amount": amount,
                "currency": "eur",
                "status": "succeeded",
                "metadata": {"order": "ordér-42"},
            }
        },
    }
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


BODY = event_body()
TAMPERED = event_body(amount=1)


def assert_no_secret(message: str) -> None:
    for key in ALL_KEYS:
        assert key not in message
        assert key.split("_", 1)[1] not in message


# --------------------------------------------------------------------------- paysim / stripe


def test_paysim_header_matches_stripes_own_generator() -> None:
    header = sign(BODY, SECRET, timestamp=T0)[PAYSIM_SIGNATURE_HEADER]
    expected = stripe.WebhookSignature.generate_signature_header(
        BODY.decode("utf-8"), SECRET, timestamp=T0
    )
    assert header == expected
    assert re.fullmatch(r"t=1700000000,v1=[0-9a-f]{64}", header)


def test_paysim_sign_returns_only_its_header() -> None:
    assert list(sign(BODY, SECRET)) == [PAYSIM_SIGNATURE_HEADER]


def test_stripe_verify_header_accepts() -> None:
    header = sign(BODY, SECRET)[PAYSIM_SIGNATURE_HEADER]
    assert stripe.WebhookSignature.verify_header(BODY, header, SECRET, 300) is True


def test_stripe_construct_event_accepts() -> None:
    header = sign(BODY, SECRET)[PAYSIM_SIGNATURE_HEADER]
    event = stripe.Webhook.construct_event(BODY, header, SECRET)
    assert event.id == EVENT_ID
    assert event.type == "payment.succeeded"
    assert event["data"]["object"]["amount"] == 2000


def test_stripe_construct_event_accepts_str_body() -> None:
    text = BODY.decode("utf-8")
    header = sign(text, SECRET)[PAYSIM_SIGNATURE_HEADER]
    assert header == sign(BODY, SECRET, timestamp=int(header[2:12]))[PAYSIM_SIGNATURE_HEADER]
    assert stripe.Webhook.construct_event(text, header, SECRET).id == EVENT_ID


def _stripe_verify_header(payload: bytes, header: str, secret: str) -> object:
    return stripe.WebhookSignature.verify_header(payload, header, secret, 300)


def _stripe_construct_event(payload: bytes, header: str, secret: str) -> object:
    return stripe.Webhook.construct_event(payload, header, secret)


STRIPE_CHECKS = [
    pytest.param(_stripe_verify_header, id="verify_header"),
    pytest.param(_stripe_construct_event, id="construct_event"),
]


@pytest.mark.parametrize("check", STRIPE_CHECKS)
@pytest.mark.parametrize(
    ("payload", "secret"),
    [
        pytest.param(TAMPERED, SECRET, id="tampered-body"),
        pytest.param(BODY, SECRET_2, id="wrong-secret"),
    ],
)
def test_stripe_rejects(
    check: Callable[[bytes, str, str], object], payload: bytes, secret: str
) -> None:
    header = sign(BODY, SECRET)[PAYSIM_SIGNATURE_HEADER]
    with pytest.raises(stripe.SignatureVerificationError, match="No signatures found matching"):
        check(payload, header, secret)


def test_stripe_error_is_the_same_class_under_both_names() -> None:
    assert stripe.error.SignatureVerificationError is stripe.SignatureVerificationError


def test_paysim_rotation_header_has_one_v1_per_secret_in_order() -> None:
    header = sign(BODY, [SECRET, SECRET_2], timestamp=T0)[PAYSIM_SIGNATURE_HEADER]
    first = sign(BODY, SECRET, timestamp=T0)[PAYSIM_SIGNATURE_HEADER].split(",")[1]
    second = sign(BODY, SECRET_2, timestamp=T0)[PAYSIM_SIGNATURE_HEADER].split(",")[1]
    assert header == f"t={T0},{first},{second}"
    assert first != second


@pytest.mark.parametrize("check", STRIPE_CHECKS)
@pytest.mark.parametrize(
    "secret", [pytest.param(SECRET, id="old-secret"), pytest.param(SECRET_2, id="new-secret")]
)
def test_stripe_accepts_rotation_with_either_secret(
    check: Callable[[bytes, str, str], object], secret: str
) -> None:
    header = sign(BODY, [SECRET, SECRET_2])[PAYSIM_SIGNATURE_HEADER]
    assert check(BODY, header, secret)
    with pytest.raises(stripe.SignatureVerificationError):
        check(BODY, header, generate_hmac_secret(random.Random(99)))


# --------------------------------------------------------------------------- standard


def test_standard_headers_shape() -> None:
    headers = sign(BODY, SECRET, scheme="standard", timestamp=T0)
    assert set(headers) == {WEBHOOK_ID_HEADER, WEBHOOK_TIMESTAMP_HEADER, WEBHOOK_SIGNATURE_HEADER}
    assert headers[WEBHOOK_ID_HEADER] == EVENT_ID
    assert headers[WEBHOOK_TIMESTAMP_HEADER] == str(T0)
    version, signature = headers[WEBHOOK_SIGNATURE_HEADER].split(",")
    assert version == "v1"
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    expected = hmac.new(key, f"{EVENT_ID}.{T0}.".encode() + BODY, hashlib.sha256).digest()
    assert base64.b64decode(signature) == expected


@pytest.mark.parametrize(
    "body", [pytest.param(BODY, id="bytes"), pytest.param(BODY.decode("utf-8"), id="str")]
)
def test_standardwebhooks_accepts(body: bytes | str) -> None:
    headers = sign(body, SECRET, scheme="standard")
    event = standardwebhooks.webhooks.Webhook(SECRET).verify(body, headers)
    assert event == json.loads(BODY)


def test_standardwebhooks_rejects_tampered_body() -> None:
    headers = sign(BODY, SECRET, scheme="standard")
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError, match="No matching"):
        standardwebhooks.webhooks.Webhook(SECRET).verify(TAMPERED, headers)


def test_standardwebhooks_rejects_wrong_secret() -> None:
    headers = sign(BODY, SECRET, scheme="standard")
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError, match="No matching"):
        standardwebhooks.webhooks.Webhook(SECRET_2).verify(BODY, headers)


@pytest.mark.parametrize(
    "secret", [pytest.param(SECRET, id="old-secret"), pytest.param(SECRET_2, id="new-secret")]
)
def test_standardwebhooks_accepts_rotation_with_either_secret(secret: str) -> None:
    headers = sign(BODY, [SECRET, SECRET_2], scheme="standard")
    parts = headers[WEBHOOK_SIGNATURE_HEADER].split(" ")
    assert [p.split(",")[0] for p in parts] == ["v1", "v1"]
    assert standardwebhooks.webhooks.Webhook(secret).verify(BODY, headers)["id"] == EVENT_ID


@pytest.mark.parametrize("scheme", [pytest.param("standard"), pytest.param("ed25519")])
def test_explicit_msg_id_wins_over_body_id(scheme: str) -> None:
    key, verify_key, _ = KEYS[scheme]
    headers = sign(BODY, key, scheme=scheme, timestamp=T0, msg_id="msg_custom")
    assert headers[WEBHOOK_ID_HEADER] == "msg_custom"
    assert verify(BODY, headers, verify_key, now=T0)["id"] == EVENT_ID
    headers[WEBHOOK_ID_HEADER] = EVENT_ID
    with pytest.raises(WebhookVerificationError, match="matches"):
        verify(BODY, headers, verify_key, now=T0)


@pytest.mark.parametrize("scheme", [pytest.param("standard"), pytest.param("ed25519")])
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b'["evt_1"]', id="array"),
        pytest.param(b'{"object": "event"}', id="no-id"),
        pytest.param(b'{"id": 42}', id="int-id"),
        pytest.param(b'{"id": ""}', id="empty-id"),
    ],
)
def test_msg_id_required_when_body_has_no_string_id(scheme: str, body: bytes) -> None:
    with pytest.raises(ValueError, match="msg_id"):
        sign(body, KEYS[scheme][0], scheme=scheme)
    headers = sign(body, KEYS[scheme][0], scheme=scheme, msg_id="msg_1")
    assert headers[WEBHOOK_ID_HEADER] == "msg_1"


def test_paysim_ignores_msg_id_and_needs_no_body_id() -> None:
    headers = sign(b"not json", SECRET, timestamp=T0, msg_id="msg_1")
    assert headers == sign(b"not json", SECRET, timestamp=T0)


# --------------------------------------------------------------------------- ed25519


def _raw(key: str) -> bytes:
    return base64.b64decode(key.split("_", 1)[1])


def test_ed25519_signature_checks_out_with_cryptography() -> None:
    headers = sign(BODY, SIGNING_KEY, scheme="ed25519", timestamp=T0)
    version, signature = headers[WEBHOOK_SIGNATURE_HEADER].split(",")
    assert version == "v1a"
    public = Ed25519PublicKey.from_public_bytes(_raw(PUBLIC_KEY))
    signed = f"{EVENT_ID}.{T0}.".encode() + BODY
    public.verify(base64.b64decode(signature), signed)  # raises if wrong
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(signature), f"{EVENT_ID}.{T0}.".encode() + TAMPERED)


def test_ed25519_rotation_has_one_v1a_per_key_in_order() -> None:
    headers = sign(BODY, [SIGNING_KEY, SIGNING_KEY_2], scheme="ed25519", timestamp=T0)
    signed = f"{EVENT_ID}.{T0}.".encode() + BODY
    parts = headers[WEBHOOK_SIGNATURE_HEADER].split(" ")
    assert len(parts) == 2
    for part, public_key in zip(parts, (PUBLIC_KEY, PUBLIC_KEY_2), strict=True):
        version, signature = part.split(",")
        assert version == "v1a"
        Ed25519PublicKey.from_public_bytes(_raw(public_key)).verify(
            base64.b64decode(signature), signed
        )
    for public_key in (PUBLIC_KEY, PUBLIC_KEY_2):
        assert verify(BODY, headers, public_key, now=T0)["id"] == EVENT_ID


def test_public_key_for_matches_cryptography() -> None:
    private = Ed25519PrivateKey.from_private_bytes(_raw(SIGNING_KEY))
    assert _raw(PUBLIC_KEY) == private.public_key().public_bytes_raw()
    assert PUBLIC_KEY.startswith("whpk_")


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(SECRET, id="whsec"),
        pytest.param(PUBLIC_KEY, id="whpk"),
        pytest.param("whsk_" + base64.b64encode(bytes(31)).decode(), id="short-whsk"),
        pytest.param("whsk_***", id="not-base64"),
    ],
)
def test_public_key_for_rejects_non_signing_keys(key: str) -> None:
    with pytest.raises(ValueError, match="signing key") as info:
        public_key_for(key)
    assert key not in str(info.value)


# --------------------------------------------------------------------------- verify


def signed(scheme: str, body: bytes | str = BODY, timestamp: int = T0) -> dict[str, str]:
    return sign(body, KEYS[scheme][0], scheme=scheme, timestamp=timestamp)


@pytest.mark.parametrize("scheme", SCHEME_PARAMS)
@pytest.mark.parametrize(
    ("body", "signed_body"),
    [
        pytest.param(BODY, BODY, id="bytes"),
        pytest.param(BODY.decode("utf-8"), BODY.decode("utf-8"), id="str"),
        pytest.param(BODY.decode("utf-8"), BODY, id="str-of-signed-bytes"),
        pytest.param(BODY, BODY.decode("utf-8"), id="bytes-of-signed-str"),
    ],
)
def test_verify_accepts(scheme: str, body: bytes | str, signed_body: bytes | str) -> None:
    headers = signed(scheme, signed_body)
    assert verify(body, headers, KEYS[scheme][1], now=T0 + 5) == json.loads(BODY)


@pytest.mark.parametrize("scheme", SCHEME_PARAMS)
def test_verify_uses_the_clock_by_default(scheme: str) -> None:
    headers = sign(BODY, KEYS[scheme][0], scheme=scheme)
    assert abs(int(re.findall(r"\d{10}", str(headers))[0]) - time.time()) < 5
    assert verify(BODY, headers, KEYS[scheme][1])["id"] == EVENT_ID
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(BODY, signed(scheme), KEYS[scheme][1])


@pytest.mark.parametrize("scheme", SCHEME_PARAMS)
@pytest.mark.parametrize(
    ("now", "tolerance", "match"),
    [
        pytest.param(T0 + 301, 300, "in the past", id="past"),
        pytest.param(T0 - 301, 300, "in the future", id="future"),
        pytest.param(T0 + 11, 10, "tolerance of 10s", id="small-tolerance"),
    ],
)
def test_verify_rejects_timestamp_outside_tolerance(
    scheme: str, now: float, tolerance: int, match: str
) -> None:
    with pytest.raises(WebhookVerificationError, match=match) as info:
        verify(BODY, signed(scheme), KEYS[scheme][1], now=now, tolerance=tolerance)
    assert_no_secret(str(info.value))


@pytest.mark.parametrize("scheme", SCHEME_PARAMS)
@pytest.mark.parametrize("offset", [pytest.param(300, id="past"), pytest.param(-300, id="future")])
def test_verify_accepts_timestamp_at_the_tolerance_edge(scheme: str, offset: int) -> None:
    assert verify(BODY, signed(scheme), KEYS[scheme][1], now=T0 + offset)["id"] == EVENT_ID


@pytest.mark.parametrize("scheme", SCHEME_PARAMS)
def test_verify_checks_signature_before_timestamp(scheme: str) -> None:
    with pytest.raises(WebhookVerificationError, match="matches the body"):
        verify(TAMPERED, signed(scheme), KEYS[scheme][1], now=T0 + 10_000)


@pytest.mark.parametrize("scheme", SCHEME_PARAMS)
def test_verify_rejects_tampered_body(scheme: str) -> None:
    with pytest.raises(WebhookVerificationError, match="tampered body or wrong secret") as info:
        verify(TAMPERED, signed(scheme), KEYS[scheme][1], now=T0)
    assert_no_secret(str(info.value))


@pytest.mark.parametrize("scheme", SCHEME_PARAMS)
def test_verify_rejects_wrong_secret(scheme: str) -> None:
    with pytest.raises(WebhookVerificationError, match="tampered body or wrong secret") as info:
        verify(BODY, signed(scheme), KEYS[scheme][2], now=T0)
    assert_no_secret(str(info.value))


@pytest.mark.parametrize(
    ("scheme", "secret", "match"),
    [
        pytest.param("paysim", PUBLIC_KEY, "'whpk_...' Ed25519 public key", id="paysim-whpk"),
        pytest.param("paysim", "hunter2", "without a 'whsec_'", id="paysim-no-prefix"),
        pytest.param("standard", PUBLIC_KEY, "no 'v1a,' signature", id="standard-whpk"),
        pytest.param("standard", SIGNING_KEY, "'whsk_...' Ed25519 signing", id="standard-whsk"),
        pytest.param("standard", "whsec_***", "not non-empty base64", id="standard-bad-b64"),
        pytest.param("ed25519", SECRET, "no 'v1,' signature", id="ed25519-whsec"),
        pytest.param("ed25519", SIGNING_KEY, "'whsk_...' Ed25519 signing", id="ed25519-whsk"),
        pytest.param("ed25519", "whpk_AAAA", "32 raw bytes", id="ed25519-short-whpk"),
        pytest.param("paysim", "", "no webhook secret", id="empty"),
    ],
)
def test_verify_rejects_secret_of_the_wrong_kind(scheme: str, secret: str, match: str) -> None:
    with pytest.raises(WebhookVerificationError, match=match) as info:
        verify(BODY, signed(scheme), secret, now=T0)
    assert_no_secret(str(info.value))
    if secret:
        assert secret not in str(info.value)


@pytest.mark.parametrize(
    ("scheme", "drop"),
    [
        pytest.param("paysim", PAYSIM_SIGNATURE_HEADER, id="paysim-signature"),
        *(
            pytest.param(scheme, drop, id=f"{scheme}-{drop}")
            for scheme in ("standard", "ed25519")
            for drop in (WEBHOOK_SIGNATURE_HEADER, WEBHOOK_ID_HEADER, WEBHOOK_TIMESTAMP_HEADER)
        ),
    ],
)
def test_verify_rejects_missing_header(scheme: str, drop: str) -> None:
    headers = signed(scheme)
    del headers[drop]
    with pytest.raises(WebhookVerificationError, match="missing") as info:
        verify(BODY, headers, KEYS[scheme][1], now=T0)
    assert_no_secret(str(info.value))


def test_verify_rejects_no_headers_at_all() -> None:
    with pytest.raises(WebhookVerificationError, match="missing signature header"):
        verify(BODY, {"Content-Type": "application/json"}, SECRET, now=T0)


def _paysim_sig() -> str:
    return signed("paysim")[PAYSIM_SIGNATURE_HEADER].split(",")[1]


GARBAGE: list[Any] = [
    pytest.param("paysim", PAYSIM_SIGNATURE_HEADER, "garbage", "malformed", id="paysim-word"),
    pytest.param("paysim", PAYSIM_SIGNATURE_HEADER, "", "malformed", id="paysim-empty"),
    pytest.param(
        "paysim", PAYSIM_SIGNATURE_HEADER, _paysim_sig(), "no valid 't='", id="paysim-no-t"
    ),
    pytest.param("paysim", PAYSIM_SIGNATURE_HEADER, f"t={T0}", "no 'v1='", id="paysim-no-v1"),
    pytest.param(
        "paysim",
        PAYSIM_SIGNATURE_HEADER,
        f"t=soon,{_paysim_sig()}",
        "no valid 't='",
        id="paysim-bad-t",
    ),
    pytest.param(
        "paysim",
        PAYSIM_SIGNATURE_HEADER,
        f"t={T0},t={T0},{_paysim_sig()}",
        "more than one",
        id="paysim-two-t",
    ),
    pytest.param(
        "paysim",
        PAYSIM_SIGNATURE_HEADER,
        f"t={T0},v1=zzzz,v1=\u00e9\u00e9",
        "matches the body",
        id="paysim-bad-hex",
    ),
    pytest.param(
        "paysim",
        PAYSIM_SIGNATURE_HEADER,
        f"t={T0},v0={_paysim_sig()[3:]}",
        "no 'v1='",
        id="paysim-only-v0",
    ),
    pytest.param("standard", WEBHOOK_SIGNATURE_HEADER, "garbage", "malformed", id="std-word"),
    pytest.param("standard", WEBHOOK_SIGNATURE_HEADER, "", "empty", id="std-empty"),
    pytest.param("standard", WEBHOOK_SIGNATURE_HEADER, "v1,", "malformed", id="std-no-value"),
    pytest.param(
        "standard", WEBHOOK_SIGNATURE_HEADER, "v1,!!notbase64!!", "matches", id="std-bad-b64"
    ),
    pytest.param("standard", WEBHOOK_TIMESTAMP_HEADER, "soon", "malformed", id="std-bad-ts"),
    pytest.param("standard", WEBHOOK_TIMESTAMP_HEADER, "-5", "malformed", id="std-negative-ts"),
    pytest.param("standard", WEBHOOK_TIMESTAMP_HEADER, "9" * 40, "malformed", id="std-huge-ts"),
    pytest.param("ed25519", WEBHOOK_SIGNATURE_HEADER, "v1a", "malformed", id="ed-no-comma"),
    pytest.param(
        "ed25519", WEBHOOK_SIGNATURE_HEADER, "v1a,AAAA", "matches", id="ed-short-signature"
    ),
    pytest.param("ed25519", WEBHOOK_ID_HEADER, "", "missing", id="ed-empty-id"),
]


@pytest.mark.parametrize(("scheme", "header", "value", "match"), GARBAGE)
def test_verify_rejects_garbage_header(scheme: str, header: str, value: str, match: str) -> None:
    headers = signed(scheme)
    headers[header] = value
    with pytest.raises(WebhookVerificationError, match=match) as info:
        verify(BODY, headers, KEYS[scheme][1], now=T0)
    assert_no_secret(str(info.value))


@pytest.mark.parametrize("scheme", SCHEME_PARAMS)
@pytest.mark.parametrize(
    ("body", "match"),
    [
        pytest.param(b"not json", "not valid JSON", id="not-json"),
        pytest.param(b"\xff\xfe{", "not valid JSON", id="not-utf8"),
        pytest.param(b'["a list"]', "not a JSON object", id="array"),
    ],
)
def test_verify_rejects_body_that_is_not_a_json_object(
    scheme: str, body: bytes, match: str
) -> None:
    headers = sign(body, KEYS[scheme][0], scheme=scheme, timestamp=T0, msg_id="msg_1")
    with pytest.raises(WebhookVerificationError, match=match):
        verify(body, headers, KEYS[scheme][1], now=T0)


def _as_upper(headers: dict[str, str]) -> Any:
    return {k.upper(): v for k, v in headers.items()}


def _as_lower(headers: dict[str, str]) -> Any:
    return {k.lower(): v for k, v in headers.items()}


def _as_werkzeug(headers: dict[str, str]) -> Any:
    return Headers([("Content-Type", "application/json"), *headers.items()])


def _as_requests(headers: dict[str, str]) -> Any:
    return requests.structures.CaseInsensitiveDict({k.title(): v for k, v in headers.items()})


@pytest.mark.parametrize("scheme", SCHEME_PARAMS)
@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(_as_upper, id="upper-dict"),
        pytest.param(_as_lower, id="lower-dict"),
        pytest.param(_as_werkzeug, id="werkzeug-headers"),
        pytest.param(_as_requests, id="requests-case-insensitive-dict"),
    ],
)
def test_verify_header_lookup_is_case_insensitive(
    scheme: str, convert: Callable[[dict[str, str]], Any]
) -> None:
    headers = convert(signed(scheme))
    assert verify(BODY, headers, KEYS[scheme][1], now=T0)["id"] == EVENT_ID


@pytest.mark.parametrize("scheme", [pytest.param("standard"), pytest.param("ed25519")])
def test_verify_accepts_any_of_several_signatures(scheme: str) -> None:
    key, verify_key, _ = KEYS[scheme]
    other = {"standard": SECRET_2, "ed25519": SIGNING_KEY_2}[scheme]
    headers = sign(BODY, [other, key], scheme=scheme, timestamp=T0)
    assert verify(BODY, headers, verify_key, now=T0)["id"] == EVENT_ID


@pytest.mark.parametrize(
    "secret", [pytest.param(SECRET, id="first"), pytest.param(SECRET_2, id="second")]
)
def test_verify_paysim_rotation(secret: str) -> None:
    headers = sign(BODY, [SECRET, SECRET_2], timestamp=T0)
    assert verify(BODY, headers, secret, now=T0)["id"] == EVENT_ID


def test_verify_prefers_paysim_header_when_both_present() -> None:
    headers = {**signed("standard"), **signed("paysim")}
    assert verify(BODY, headers, SECRET, now=T0)["id"] == EVENT_ID
    headers[PAYSIM_SIGNATURE_HEADER] = "garbage"
    with pytest.raises(WebhookVerificationError, match=PAYSIM_SIGNATURE_HEADER):
        verify(BODY, headers, SECRET, now=T0)


# --------------------------------------------------------------------------- sign errors


@pytest.mark.parametrize(
    ("scheme", "secret", "match"),
    [
        pytest.param("stripe", SECRET, "unknown webhook scheme 'stripe'", id="unknown-scheme"),
        pytest.param("PAYSIM", SECRET, "unknown webhook scheme", id="scheme-is-case-sensitive"),
        pytest.param("paysim", PUBLIC_KEY, "'whpk_...' Ed25519 public key", id="paysim-whpk"),
        pytest.param("paysim", SIGNING_KEY, "'whsk_...' Ed25519 signing key", id="paysim-whsk"),
        pytest.param("paysim", "hunter2", "without a 'whsec_'", id="paysim-no-prefix"),
        pytest.param("paysim", "whsec_", "non-empty", id="paysim-empty-whsec"),
        pytest.param("standard", "whsec_not base64!", "not non-empty base64", id="standard-b64"),
        pytest.param("standard", "whsec_", "not non-empty base64", id="standard-empty"),
        pytest.param("standard", SIGNING_KEY, "'whsk_...' Ed25519 signing", id="standard-whsk"),
        pytest.param("ed25519", PUBLIC_KEY, "'whpk_...' Ed25519 public key", id="ed25519-whpk"),
        pytest.param("ed25519", SECRET, "'whsec_...' HMAC secret", id="ed25519-whsec"),
        pytest.param("ed25519", "whsk_AAAA", "32 raw bytes", id="ed25519-short-whsk"),
        pytest.param("paysim", [SECRET, PUBLIC_KEY], "public key", id="rotation-one-bad"),
        pytest.param("paysim", [], "at least one secret", id="no-secrets"),
    ],
)
def test_sign_rejects(scheme: str, secret: str | list[str], match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        sign(BODY, secret, scheme=scheme)
    assert_no_secret(str(info.value))
    assert not isinstance(info.value, WebhookVerificationError)


def test_sign_rejects_negative_timestamp() -> None:
    with pytest.raises(ValueError, match="timestamp"):
        sign(BODY, SECRET, timestamp=-1)


@pytest.mark.parametrize(
    "msg_id", [pytest.param("", id="empty"), pytest.param("a\r\nb", id="crlf")]
)
def test_sign_rejects_bad_msg_id(msg_id: str) -> None:
    with pytest.raises(ValueError, match="msg_id"):
        sign(BODY, SECRET, scheme="standard", msg_id=msg_id)


@pytest.mark.parametrize("scheme", SCHEME_PARAMS)
def test_sign_is_deterministic_for_a_fixed_timestamp(scheme: str) -> None:
    assert signed(scheme) == signed(scheme)
    assert signed(scheme) != signed(scheme, timestamp=T0 + 1)


def test_signing_key_is_loaded_once_per_key_string() -> None:
    signing._private_key.cache_clear()
    for _ in range(3):
        sign(BODY, SIGNING_KEY, scheme="ed25519", timestamp=T0)
    info = signing._private_key.cache_info()
    assert (info.misses, info.hits) == (1, 2)


# --------------------------------------------------------------------------- generators


@pytest.mark.parametrize(
    ("generate", "prefix", "size"),
    [
        pytest.param(generate_hmac_secret, "whsec_", 24, id="hmac-secret"),
        pytest.param(generate_signing_key, "whsk_", 32, id="signing-key"),
    ],
)
def test_generators_are_deterministic_for_a_seeded_rng(
    generate: Callable[[random.Random], str], prefix: str, size: int
) -> None:
    assert generate(random.Random(42)) == generate(random.Random(42))
    assert generate(random.Random(42)) != generate(random.Random(43))
    rng = random.Random(42)
    assert generate(rng) != generate(rng)
    key = generate(random.Random(42))
    assert key.startswith(prefix)
    assert len(base64.b64decode(key.removeprefix(prefix), validate=True)) == size
    assert key.removeprefix(prefix) == base64.b64encode(random.Random(42).randbytes(size)).decode()


def test_public_key_for_is_deterministic() -> None:
    again = public_key_for(generate_signing_key(random.Random(3)))
    assert again == PUBLIC_KEY
    assert len(_raw(PUBLIC_KEY)) == 32
    assert PUBLIC_KEY != PUBLIC_KEY_2


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_and_complete() -> None:
    assert signing.__all__ == sorted(signing.__all__, key=_isort_key)
    assert SCHEMES == ("paysim", "standard", "ed25519")
    for name in signing.__all__:
        assert hasattr(signing, name)

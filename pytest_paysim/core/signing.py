"""What a pytest-paysim webhook looks like on the wire: signature headers, signing, verifying.

Three schemes, all signing the raw body bytes exactly as delivered:

``paysim`` (default)
    ``Paysim-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``, keyed with the whole
    ``whsec_...`` string, over ``f"{t}."`` + body. Byte for byte Stripe's ``Stripe-Signature``,
    so ``stripe.Webhook.construct_event`` accepts it.
``standard``
    Standard Webhooks: ``webhook-id``, ``webhook-timestamp`` and
    ``webhook-signature: v1,<base64 HMAC-SHA256>`` keyed with the base64-decoded part of
    ``whsec_<base64>``, over ``f"{id}.{timestamp}."`` + body.
``ed25519``
    Standard Webhooks asymmetric: ``webhook-signature: v1a,<base64 Ed25519 signature>`` over the
    same text, signed with a ``whsk_...`` key and verified with its ``whpk_...`` public key.

During a secret rotation, pass several secrets to :func:`sign`: the header then carries one
signature per secret, in order, and a receiver holding any one of them accepts it.

    >>> import random
    >>> secret = generate_hmac_secret(random.Random(7))
    >>> body = b'{"id": "evt_1", "object": "event", "type": "payment.succeeded"}'
    >>> headers = sign(body, secret, timestamp=1_700_000_000)
    >>> verify(body, headers, secret, now=1_700_000_010)["type"]
    'payment.succeeded'
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol, get_args

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pytest_paysim.errors import WebhookVerificationError

__all__ = [
    "PAYSIM_SIGNATURE_HEADER",
    "SCHEMES",
    "WEBHOOK_ID_HEADER",
    "WEBHOOK_SIGNATURE_HEADER",
    "WEBHOOK_TIMESTAMP_HEADER",
    "RandomBytes",
    "Scheme",
    "delivery_headers",
    "generate_hmac_secret",
    "generate_signing_key",
    "public_key_for",
    "sign",
    "verify",
]


class RandomBytes(Protocol):
    """Where secrets draw their bytes: ``random.Random`` or the simulator's seeded generator."""

    def randbytes(self, n: int, /) -> bytes: ...


Scheme = Literal["paysim", "standard", "ed25519"]
SCHEMES: tuple[Scheme, ...] = get_args(Scheme)

PAYSIM_SIGNATURE_HEADER = "Paysim-Signature"
WEBHOOK_ID_HEADER = "webhook-id"
WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp"
WEBHOOK_SIGNATURE_HEADER = "webhook-signature"

_HMAC_PREFIX = "whsec_"
_SIGNING_KEY_PREFIX = "whsk_"
_PUBLIC_KEY_PREFIX = "whpk_"
_ED25519_KEY_BYTES = 32
_HMAC_SECRET_BYTES = 24
# Longer timestamps are not seconds since 1970 and would only cost time in int().
_MAX_TIMESTAMP_DIGITS = 15


# --------------------------------------------------------------------------- helpers


def _describe(secret: str) -> str:
    """Name the kind of a secret without ever quoting any of it."""
    if secret.startswith(_HMAC_PREFIX):
        return "a 'whsec_...' HMAC secret"
    if secret.startswith(_SIGNING_KEY_PREFIX):
        return "a 'whsk_...' Ed25519 signing key"
    if secret.startswith(_PUBLIC_KEY_PREFIX):
        return "a 'whpk_...' Ed25519 public key"
    return "a string without a 'whsec_', 'whsk_' or 'whpk_' prefix"


def _b64decode(text: str) -> bytes | None:
    """Strict standard base64 (padding optional); None when ``text`` is not base64."""
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _paysim_key(secret: str) -> bytes:
    """The HMAC key of the ``paysim`` scheme: the whole ``whsec_...`` string, utf-8 encoded."""
    if not secret.startswith(_HMAC_PREFIX) or len(secret) == len(_HMAC_PREFIX):
        raise ValueError(
            f"the 'paysim' scheme needs a non-empty 'whsec_...' secret; got {_describe(secret)}"
        )
    return secret.encode("utf-8")


def _standard_key(secret: str) -> bytes:
    """The HMAC key of the ``standard`` scheme: the base64-decoded part of ``whsec_<base64>``."""
    if not secret.startswith(_HMAC_PREFIX):
        raise ValueError(
            f"the 'standard' scheme needs a 'whsec_<base64>' secret; got {_describe(secret)}"
        )
    key = _b64decode(secret[len(_HMAC_PREFIX) :])
    if not key:
        raise ValueError(
            "the 'standard' scheme needs a 'whsec_<base64>' secret; "
            "the part after 'whsec_' is not non-empty base64"
        )
    return key


def _raw_key(key: str, prefix: str, what: str) -> bytes:
    if not key.startswith(prefix):
        raise ValueError(f"expected {what} ('{prefix}...'); got {_describe(key)}")
    raw = _b64decode(key[len(prefix) :])
    if raw is None or len(raw) != _ED25519_KEY_BYTES:
        raise ValueError(
            f"expected {what} ('{prefix}' followed by the base64 of "
            f"{_ED25519_KEY_BYTES} raw bytes); the part after '{prefix}' is not that"
        )
    return raw


@functools.lru_cache(maxsize=128)
def _private_key(signing_key: str) -> Ed25519PrivateKey:
    raw = _raw_key(signing_key, _SIGNING_KEY_PREFIX, "an Ed25519 signing key")
    return Ed25519PrivateKey.from_private_bytes(raw)


@functools.lru_cache(maxsize=128)
def _public_key(public_key: str) -> Ed25519PublicKey:
    raw = _raw_key(public_key, _PUBLIC_KEY_PREFIX, "an Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw)


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def _secret_list(secret: str | Sequence[str]) -> Sequence[str]:
    secrets = (secret,) if isinstance(secret, str) else secret
    if not secrets:
        raise ValueError("pass at least one secret")
    for item in secrets:
        if not isinstance(item, str):
            raise ValueError(f"secrets must be strings, not {type(item).__name__}")
    return secrets


def _msg_id_from_body(payload: bytes) -> str:
    try:
        event = json.loads(payload)
    except ValueError:
        event = None
    if isinstance(event, dict):
        event_id = event.get("id")
        if isinstance(event_id, str) and event_id:
            return event_id
    raise ValueError(
        "cannot tell the webhook-id: the body is not a JSON object with a string 'id'; "
        "pass msg_id=..."
    )


def _is_timestamp(text: str) -> bool:
    return 0 < len(text) <= _MAX_TIMESTAMP_DIGITS and text.isascii() and text.isdigit()


# --------------------------------------------------------------------------- signing


def delivery_headers(
    body: bytes,
    *,
    event_id: str,
    attempt: int,
    scheme: str,
    secrets: Sequence[str],
    timestamp: int,
) -> dict[str, str]:
    """Every header of one delivery attempt: content type, user agent, ids, signature."""
    from pytest_paysim._version import __version__

    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"paysim/{__version__}",
        "Paysim-Event-Id": event_id,
        "Paysim-Delivery-Attempt": str(attempt),
    }
    headers.update(sign(body, secrets, scheme=scheme, timestamp=timestamp, msg_id=event_id))
    return headers


def sign(
    body: bytes | str,
    secret: str | Sequence[str],
    *,
    scheme: str = "paysim",
    timestamp: int | None = None,
    msg_id: str | None = None,
) -> dict[str, str]:
    """Return the signature headers of ``body`` under ``scheme``.

    ``secret`` is a ``whsec_...`` secret (``paysim``, ``standard``) or a ``whsk_...`` signing key
    (``ed25519``), or a sequence of them during a rotation: one signature per secret, in order.
    ``timestamp`` defaults to now. Under ``standard`` and ``ed25519``, ``msg_id`` (the
    ``webhook-id``) defaults to the body's ``"id"`` field; ``paysim`` ignores it.
    Raises ValueError for an unknown scheme or a secret of the wrong kind.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown webhook scheme {scheme!r}; expected one of {SCHEMES}")
    secrets = _secret_list(secret)
    payload = _as_bytes(body)
    if timestamp is None:
        timestamp = int(time.time())
    elif timestamp < 0:
        raise ValueError(f"timestamp must be unix seconds >= 0, not {timestamp}")

    if scheme == "paysim":
        signed = b"%d." % timestamp + payload
        signatures = ",".join(
            "v1=" + hmac.new(_paysim_key(s), signed, hashlib.sha256).hexdigest() for s in secrets
        )
        return {PAYSIM_SIGNATURE_HEADER: f"t={timestamp},{signatures}"}

    if msg_id is None:
        msg_id = _msg_id_from_body(payload)
    elif not msg_id or "\r" in msg_id or "\n" in msg_id:
        raise ValueError("msg_id must be a non-empty single-line string")
    signed = f"{msg_id}.{timestamp}.".encode() + payload
    if scheme == "standard":
        parts = [
            "v1," + _b64encode(hmac.new(_standard_key(s), signed, hashlib.sha256).digest())
            for s in secrets
        ]
    else:
        parts = ["v1a," + _b64encode(_private_key(s).sign(signed)) for s in secrets]
    return {
        WEBHOOK_ID_HEADER: msg_id,
        WEBHOOK_TIMESTAMP_HEADER: str(timestamp),
        WEBHOOK_SIGNATURE_HEADER: " ".join(parts),
    }


# --------------------------------------------------------------------------- verifying


def _verify_paysim(payload: bytes, header: str, secret: str) -> int:
    """Check a ``Paysim-Signature`` header; return its timestamp."""
    try:
        key = _paysim_key(secret)
    except ValueError as exc:
        raise WebhookVerificationError(str(exc)) from None
    malformed = (
        f"malformed {PAYSIM_SIGNATURE_HEADER} header: expected 't=<unix seconds>,v1=<hex>[,v1=...]'"
    )
    timestamp_text: str | None = None
    candidates: list[str] = []
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep:
            raise WebhookVerificationError(malformed)
        if name == "t":
            if timestamp_text is not None:
                raise WebhookVerificationError(malformed + " (more than one 't=')")
            timestamp_text = value
        elif name == "v1":
            candidates.append(value)
    if timestamp_text is None or not _is_timestamp(timestamp_text):
        raise WebhookVerificationError(malformed + " (no valid 't=')")
    if not candidates:
        raise WebhookVerificationError(malformed + " (no 'v1=' signature)")
    timestamp = int(timestamp_text)
    expected = hmac.new(key, b"%d." % timestamp + payload, hashlib.sha256).hexdigest()
    expected_bytes = expected.encode("ascii")
    if not any(hmac.compare_digest(expected_bytes, c.encode("utf-8")) for c in candidates):
        raise WebhookVerificationError(
            f"no v1 signature in {PAYSIM_SIGNATURE_HEADER} matches the body "
            "(tampered body or wrong secret)"
        )
    return timestamp


def _verify_standard(payload: bytes, headers: Mapping[str, str], header: str, secret: str) -> int:
    """Check ``webhook-*`` headers (``standard`` or ``ed25519``); return the timestamp."""
    msg_id = headers.get(WEBHOOK_ID_HEADER)
    timestamp_text = headers.get(WEBHOOK_TIMESTAMP_HEADER)
    if not msg_id or timestamp_text is None:
        raise WebhookVerificationError(
            f"missing header: {WEBHOOK_SIGNATURE_HEADER} needs {WEBHOOK_ID_HEADER} "
            f"and {WEBHOOK_TIMESTAMP_HEADER}"
        )
    if not _is_timestamp(timestamp_text):
        raise WebhookVerificationError(
            f"malformed {WEBHOOK_TIMESTAMP_HEADER} header: expected unix seconds"
        )
    entries: list[tuple[str, str]] = []
    for token in header.split():
        token_version, sep, value = token.partition(",")
        if not sep or not token_version or not value:
            raise WebhookVerificationError(
                f"malformed {WEBHOOK_SIGNATURE_HEADER} header: expected space separated "
                "'v1,<base64>' or 'v1a,<base64>' entries"
            )
        entries.append((token_version, value))
    if not entries:
        raise WebhookVerificationError(f"malformed {WEBHOOK_SIGNATURE_HEADER} header: it is empty")

    timestamp = int(timestamp_text)
    signed = f"{msg_id}.{timestamp}.".encode() + payload
    if secret.startswith(_HMAC_PREFIX):
        version = "v1"
        try:
            key = _standard_key(secret)
        except ValueError as exc:
            raise WebhookVerificationError(str(exc)) from None
        expected = hmac.new(key, signed, hashlib.sha256).digest()

        def matches(signature: bytes) -> bool:
            return hmac.compare_digest(expected, signature)

    elif secret.startswith(_PUBLIC_KEY_PREFIX):
        version = "v1a"
        try:
            public_key = _public_key(secret)
        except ValueError as exc:
            raise WebhookVerificationError(str(exc)) from None

        def matches(signature: bytes) -> bool:
            try:
                public_key.verify(signature, signed)
            except InvalidSignature:
                return False
            return True

    else:
        raise WebhookVerificationError(
            f"{WEBHOOK_SIGNATURE_HEADER} is checked with a 'whsec_...' secret (v1) or a "
            f"'whpk_...' public key (v1a); got {_describe(secret)}"
        )

    candidates = [value for v, value in entries if v == version]
    if not candidates:
        present = ", ".join(sorted({v for v, _ in entries}))
        raise WebhookVerificationError(
            f"{WEBHOOK_SIGNATURE_HEADER} has no '{version},' signature for {_describe(secret)} "
            f"(it has: {present})"
        )
    for candidate in candidates:
        signature = _b64decode(candidate)
        if signature is not None and matches(signature):
            return timestamp
    raise WebhookVerificationError(
        f"no {version} signature in {WEBHOOK_SIGNATURE_HEADER} matches the body "
        "(tampered body or wrong secret)"
    )


class HeaderItems(Protocol):
    """Anything with ``items()`` of header names and values: a dict, werkzeug or requests
    headers."""

    def items(self) -> Iterable[tuple[str, str]]: ...


def verify(
    body: bytes | str,
    headers: HeaderItems | Mapping[str, str],
    secret: str,
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a delivered webhook and return its parsed JSON body.

    The scheme follows from the headers (looked up case-insensitively): ``Paysim-Signature``
    means ``paysim``; ``webhook-signature`` means ``standard`` (``whsec_...`` secret) or
    ``ed25519`` (``whpk_...`` public key). Any one of several signatures may match; the
    timestamp must then lie within ``tolerance`` seconds of ``now`` (default: the clock).
    Raises WebhookVerificationError, whose message never contains the secret.
    """
    if not isinstance(secret, str) or not secret:
        raise WebhookVerificationError("no webhook secret was given")
    lowered = {name.lower(): value for name, value in headers.items()}
    payload = _as_bytes(body)

    paysim_header = lowered.get(PAYSIM_SIGNATURE_HEADER.lower())
    if paysim_header is not None:
        timestamp = _verify_paysim(payload, paysim_header, secret)
    else:
        standard_header = lowered.get(WEBHOOK_SIGNATURE_HEADER)
        if standard_header is None:
            raise WebhookVerificationError(
                f"missing signature header: expected {PAYSIM_SIGNATURE_HEADER} "
                f"or {WEBHOOK_SIGNATURE_HEADER}"
            )
        timestamp = _verify_standard(payload, lowered, standard_header, secret)

    if now is None:
        now = time.time()
    drift = now - timestamp
    if abs(drift) > tolerance:
        direction = "in the past" if drift > 0 else "in the future"
        raise WebhookVerificationError(
            f"webhook timestamp {timestamp} is {abs(drift):.0f}s {direction}, "
            f"outside the tolerance of {tolerance}s"
        )

    try:
        event = json.loads(payload)
    except ValueError:
        raise WebhookVerificationError("webhook body is not valid JSON") from None
    if not isinstance(event, dict):
        raise WebhookVerificationError("webhook body is JSON but not a JSON object")
    return event


# --------------------------------------------------------------------------- keys


def generate_hmac_secret(rng: RandomBytes) -> str:
    """A ``whsec_`` secret: base64 of 24 bytes from ``rng`` (deterministic for a seeded rng)."""
    return _HMAC_PREFIX + _b64encode(rng.randbytes(_HMAC_SECRET_BYTES))


def generate_signing_key(rng: RandomBytes) -> str:
    """A ``whsk_`` Ed25519 signing key: base64 of 32 private-key bytes from ``rng``."""
    return _SIGNING_KEY_PREFIX + _b64encode(rng.randbytes(_ED25519_KEY_BYTES))


def public_key_for(signing_key: str) -> str:
    """The ``whpk_`` public key of a ``whsk_`` signing key; ValueError for anything else."""
    return _PUBLIC_KEY_PREFIX + _b64encode(
        _private_key(signing_key).public_key().public_bytes_raw()
    )

"""Delivered webhooks pass the verifiers real receivers use, and fail them when tampered.

``paysim`` deliveries go through ``stripe.WebhookSignature.verify_header`` and
``stripe.Webhook.construct_event``; ``standard`` ones through ``standardwebhooks``; ``ed25519``
ones through ``cryptography``'s Ed25519 public key made from the ``whpk_`` key. Each check runs
on what a receiver actually got over loopback and on captured deliveries (no target).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import standardwebhooks.webhooks
from cryptography.exceptions import InvalidSignature
from webhook_support import (
    Env,
    Receiver,
    ed25519_verify,
    standard_verify,
    stripe_verify,
    tamper,
)

import stripe
from pytest_paysim.core.clock import parse_time
from pytest_paysim.core.signing import public_key_for
from pytest_paysim.errors import WebhookVerificationError
from pytest_paysim.webhooks import verify

MakeReceiver = Callable[..., Receiver]
MakeEnv = Callable[..., Env]

SCHEMES = [pytest.param(s, id=s) for s in ("paysim", "standard", "ed25519")]


def third_party_verify(scheme: str, body: bytes, headers: Mapping[str, str], key: str) -> str:
    """Verify with the scheme's reference library; the event id it vouches for."""
    if scheme == "paysim":
        return str(stripe_verify(body, headers, key).id)
    if scheme == "standard":
        return str(standard_verify(body, headers, key)["id"])
    ed25519_verify(body, headers, key)
    return str(_lower(headers)["webhook-id"])


REJECTIONS: dict[str, type[Exception]] = {
    "paysim": stripe.SignatureVerificationError,
    "standard": standardwebhooks.webhooks.WebhookVerificationError,
    "ed25519": InvalidSignature,
}


def verify_key(env: Env, scheme: str) -> str:
    """What a receiver holds: the secret, or the ``whpk_`` public key under ed25519."""
    if scheme == "ed25519":
        key = env.server.webhook_public_key
        assert key is not None
        assert key.startswith("whpk_")
        assert env.paysim.webhook_public_key == key
        return key
    assert env.server.webhook_secret.startswith("whsec_")
    return env.server.webhook_secret


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


@pytest.mark.parametrize("where", ["received", "captured"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_reference_verifiers_accept_deliveries_and_reject_tampering(
    make_env: MakeEnv, receiver: Receiver, scheme: str, where: str
) -> None:
    env = make_env(signature=scheme)
    if where == "received":
        payment = env.payment(receiver.url)
        [got] = receiver.wait_for(1)
        body, headers = got.body, got.headers
        delivery = env.webhooks.wait_for("payment.created")
        assert delivery.url == receiver.url
    else:
        payment = env.payment()
        delivery = env.webhooks.wait_for("payment.created")
        assert delivery.url is None
        body, headers = delivery.body, delivery.headers
    event_id = delivery.event_id
    key = verify_key(env, scheme)

    assert third_party_verify(scheme, body, headers, key) == event_id
    with pytest.raises(REJECTIONS[scheme]):
        third_party_verify(scheme, tamper(body), headers, key)

    # The package's own verify agrees, both ways.
    assert verify(body, headers, key)["data"]["object"]["id"] == payment["id"]
    with pytest.raises(WebhookVerificationError):
        verify(tamper(body), headers, key)
    assert delivery.verify()["id"] == event_id
    assert delivery.verify(key)["id"] == event_id

    lowered = _lower(headers)
    if scheme == "paysim":
        assert set(lowered) >= {"paysim-signature"}
        assert "webhook-signature" not in lowered
        timestamp = int(lowered["paysim-signature"].split(",")[0].removeprefix("t="))
    else:
        assert lowered["webhook-id"] == event_id
        version = "v1a," if scheme == "ed25519" else "v1,"
        assert lowered["webhook-signature"].startswith(version)
        assert "paysim-signature" not in lowered
        timestamp = int(lowered["webhook-timestamp"])
    assert abs(timestamp - time.time()) < 10


@pytest.mark.parametrize("scheme", SCHEMES)
def test_endpoints_are_signed_with_their_own_secret(
    make_env: MakeEnv, receiver: Receiver, scheme: str
) -> None:
    env = make_env(signature=scheme)
    endpoint = env.paysim.add_webhook_endpoint(receiver.url)
    if scheme == "ed25519":
        assert endpoint["secret"].startswith("whsk_")
        key = endpoint["public_key"]
        assert key == public_key_for(endpoint["secret"])
    else:
        key = endpoint["secret"]
    env.payment()

    [got] = receiver.wait_for(1)
    assert third_party_verify(scheme, got.body, got.headers, key) == got.event_id
    with pytest.raises(REJECTIONS[scheme]):
        third_party_verify(scheme, got.body, got.headers, verify_key(env, scheme))


@pytest.mark.parametrize("scheme", [pytest.param(s, id=s) for s in ("standard", "ed25519")])
def test_webhook_id_is_the_event_id_across_retries(
    make_env: MakeEnv, receivers: MakeReceiver, scheme: str
) -> None:
    env = make_env(signature=scheme)
    receiver = receivers([500, 500])
    env.payment(receiver.url)

    got = receiver.wait_for(3)
    event_id = got[0].event()["id"]
    assert [_lower(r.headers)["webhook-id"] for r in got] == [event_id] * 3
    assert [r.attempt for r in got] == [1, 2, 3]
    for request in got:
        assert third_party_verify(scheme, request.body, request.headers, verify_key(env, scheme))
        assert int(_lower(request.headers)["webhook-timestamp"]) == pytest.approx(
            request.wall, abs=2
        )


@pytest.mark.parametrize("move", ["frozen-3-days-ahead", "advanced-5-days"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_signatures_use_the_wall_clock_whatever_the_simulator_clock(
    make_env: MakeEnv, receiver: Receiver, scheme: str, move: str
) -> None:
    env = make_env(signature=scheme)
    if move == "frozen-3-days-ahead":
        env.paysim.clock.freeze(datetime.now(timezone.utc) + timedelta(days=3))
        ahead = 3 * 86400
    else:
        env.paysim.clock.advance(timedelta(days=5))
        ahead = 5 * 86400

    payment = env.payment(receiver.url)
    captured = env.payment()
    received = receiver.wait_for(1)[0]
    captured_delivery = env.webhooks.wait_for("payment.created", payment_id=captured["id"])

    # Event and payment times follow the simulator clock ...
    assert parse_time(received.event()["created_at"]) - time.time() == pytest.approx(ahead, abs=60)
    assert received.event()["data"]["object"]["id"] == payment["id"]
    # ... and the signatures the wall clock, so a receiver's tolerance check passes.
    key = verify_key(env, scheme)
    for body, headers in [
        (received.body, received.headers),
        (captured_delivery.body, captured_delivery.headers),
    ]:
        assert third_party_verify(scheme, body, headers, key)
        verify(body, headers, key, tolerance=60)


@pytest.mark.parametrize("where", ["received", "captured"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_rotation_signs_with_both_secrets(
    make_env: MakeEnv, receiver: Receiver, scheme: str, where: str
) -> None:
    env = make_env(signature=scheme)
    old_key = verify_key(env, scheme)
    new_secret = env.paysim.rotate_webhook_secret()
    new_key = public_key_for(new_secret) if scheme == "ed25519" else new_secret
    assert new_key != old_key
    assert env.paysim.webhook_secret == new_secret

    env.payment(receiver.url if where == "received" else None)
    delivery = env.webhooks.wait_for("payment.created")
    body, headers = delivery.body, delivery.headers
    if where == "received":
        [got] = receiver.wait_for(1)
        assert (got.body, got.headers["Paysim-Event-Id"]) == (body, delivery.event_id)
        headers = got.headers

    lowered = _lower(headers)
    if scheme == "paysim":
        assert lowered["paysim-signature"].count("v1=") == 2
    else:
        assert len(lowered["webhook-signature"].split()) == 2
    for key in (old_key, new_key):
        assert third_party_verify(scheme, body, headers, key)
    unrelated = make_env(seed=99, signature=scheme)
    with pytest.raises(REJECTIONS[scheme]):
        third_party_verify(scheme, body, headers, verify_key(unrelated, scheme))
    env.webhooks.assert_all_signed()


def test_rotation_ends_when_the_old_secret_expires_or_on_reset(
    env: Env, receiver: Receiver
) -> None:
    old = env.paysim.webhook_secret
    env.paysim.clock.freeze()
    new = env.paysim.rotate_webhook_secret()

    env.paysim.clock.advance(timedelta(hours=24, seconds=1))
    env.payment(receiver.url)
    [after_expiry] = receiver.wait_for(1)
    header = after_expiry.headers["Paysim-Signature"]
    assert header.count("v1=") == 1
    stripe_verify(after_expiry.body, after_expiry.headers, new)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe_verify(after_expiry.body, after_expiry.headers, old)

    env.paysim.reset()  # a new test: back to the session secret, no rotation
    assert env.paysim.webhook_secret == old
    env.payment(receiver.url)
    after_reset = receiver.wait_for(2)[1]
    assert after_reset.headers["Paysim-Signature"].count("v1=") == 1
    stripe_verify(after_reset.body, after_reset.headers, old)


def test_verify_names_no_secret_in_its_errors(env: Env) -> None:
    env.payment()
    delivery = env.webhooks.wait_for("payment.created")
    secret = env.paysim.webhook_secret
    with pytest.raises(WebhookVerificationError) as failure:
        verify(tamper(delivery.body), delivery.headers, secret)
    text: Any = str(failure.value)
    assert secret not in text
    assert secret[6:] not in text
    assert "tampered body or wrong secret" in text

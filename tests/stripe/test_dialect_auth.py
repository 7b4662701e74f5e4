"""The dialect's keys through the official SDK: the secret key opens everything; the
publishable key, with a payment intent's ``client_secret`` (as Stripe.js sends them), may
retrieve and confirm that intent and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import stripe

from pytest_paysim.server import PaysimServer

PUBLISHABLE_REFUSED = (
    "This API call cannot be made with a publishable API key. Please use a secret API key: "
    "the key this server printed (PAYSIM_API_KEY)."
)


def _with_key(server: PaysimServer) -> dict[str, Any]:
    """The SDK's per-request options that send the publishable key instead of the secret one."""
    return {"api_key": server.publishable_key}


def _intent(client: stripe.StripeClient, **params: Any) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={"amount": 1500, "currency": "eur", "payment_method": "pm_card_visa", **params}
    )


def test_the_publishable_key_is_the_seeds(server: PaysimServer) -> None:
    assert server.publishable_key.startswith("pk_test_")
    with PaysimServer(seed=14, api_key="sk_test_given") as same, PaysimServer(seed=15) as other:
        assert same.publishable_key == server.publishable_key  # the API key does not change it
        assert other.publishable_key != server.publishable_key
    assert server.publishable_key not in (server.api_key, server.webhook_secret)


def test_retrieve_and_confirm_with_the_client_secret(
    server: PaysimServer, client: stripe.StripeClient
) -> None:
    intent = _intent(client, capture_method="manual")
    secret = {"client_secret": intent.client_secret}
    seen = client.v1.payment_intents.retrieve(intent.id, params=secret, options=_with_key(server))
    assert (seen.id, seen.status) == (intent.id, "requires_confirmation")
    confirmed = client.v1.payment_intents.confirm(
        intent.id, params=secret, options=_with_key(server)
    )
    assert confirmed.status == "requires_capture"
    # The secret key still does the rest, such as the capture.
    assert client.v1.payment_intents.capture(intent.id).status == "succeeded"


def test_a_decline_with_the_publishable_key_is_a_card_error(
    server: PaysimServer, client: stripe.StripeClient
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"})
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.confirm(
            intent.id,
            params={
                "client_secret": intent.client_secret,
                "payment_method": "pm_card_chargeDeclined",
            },
            options=_with_key(server),
        )
    assert raised.value.error.decline_code == "generic_decline"
    assert raised.value.error.payment_intent.id == intent.id


def test_without_the_client_secret_it_is_missing(
    server: PaysimServer, client: stripe.StripeClient
) -> None:
    intent = _intent(client)
    for call in (
        lambda: client.v1.payment_intents.retrieve(intent.id, options=_with_key(server)),
        lambda: client.v1.payment_intents.confirm(intent.id, options=_with_key(server)),
    ):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            call()
        error = raised.value
        assert (error.http_status, error.code, error.param) == (
            400,
            "parameter_missing",
            "client_secret",
        )
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_confirmation"


def test_another_intents_client_secret_opens_nothing(
    server: PaysimServer, client: stripe.StripeClient
) -> None:
    intent, other = _intent(client), _intent(client)
    wrong = {"client_secret": other.client_secret}
    for call in (
        lambda: client.v1.payment_intents.retrieve(
            intent.id, params=wrong, options=_with_key(server)
        ),
        lambda: client.v1.payment_intents.confirm(
            intent.id, params=wrong, options=_with_key(server)
        ),
        # The secret key with a wrong client secret is refused the same way.
        lambda: client.v1.payment_intents.confirm(intent.id, params=wrong),
    ):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            call()
        error = raised.value
        assert (error.http_status, error.param) == (400, "client_secret")
        assert error.user_message == (
            "The client_secret provided does not match the client_secret associated with the "
            "PaymentIntent."
        )
        assert other.client_secret not in str(error.json_body)
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_confirmation"
    assert client.v1.charges.list().data == []


def test_an_unknown_intent_with_the_publishable_key_is_404(
    server: PaysimServer, client: stripe.StripeClient
) -> None:
    other = _intent(client)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.retrieve(
            "pi_nothing", params={"client_secret": other.client_secret}, options=_with_key(server)
        )
    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")


def _calls(client: stripe.StripeClient, intent: stripe.PaymentIntent) -> list[Callable[[], Any]]:
    """One call of every other kind of route, each with the intent's client secret."""
    secret: Any = {"client_secret": intent.client_secret}
    return [
        lambda: client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"}),
        lambda: client.v1.payment_intents.list(),
        lambda: client.v1.payment_intents.update(intent.id, params=secret),
        lambda: client.v1.payment_intents.capture(intent.id, params=secret),
        lambda: client.v1.payment_intents.cancel(intent.id, params=secret),
        lambda: client.v1.charges.list(),
        lambda: client.v1.refunds.create(params={"payment_intent": intent.id}),
        lambda: client.v1.events.list(),
    ]


def test_the_publishable_key_opens_no_other_route(
    server: PaysimServer, client: stripe.StripeClient
) -> None:
    intent = _intent(client, capture_method="manual", confirm=True)
    publishable = stripe.StripeClient(
        server.publishable_key, base_addresses={"api": server.stripe_url}, max_network_retries=0
    )
    for call in _calls(publishable, intent):
        with pytest.raises(stripe.AuthenticationError) as raised:
            call()
        error = raised.value
        assert error.http_status == 401
        assert error.error.type == "invalid_request_error"
        assert error.code is None
        assert error.user_message == PUBLISHABLE_REFUSED
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"
    assert len(client.v1.payment_intents.list().data) == 1


def test_the_publishable_key_as_basic_auth(
    server: PaysimServer, client: stripe.StripeClient
) -> None:
    intent = _intent(client)
    answer = requests.get(
        f"{server.stripe_url}/v1/payment_intents/{intent.id}",
        params={"client_secret": intent.client_secret},
        auth=(server.publishable_key, ""),
        timeout=5,
    )
    assert (answer.status_code, answer.json()["id"]) == (200, intent.id)
    refused = requests.get(
        f"{server.stripe_url}/v1/payment_intents", auth=(server.publishable_key, ""), timeout=5
    )
    assert refused.status_code == 401
    assert refused.json() == {
        "error": {"type": "invalid_request_error", "message": PUBLISHABLE_REFUSED}
    }

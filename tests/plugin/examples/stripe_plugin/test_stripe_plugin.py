import asyncio
import os

import pytest
import requests
import responses
import stripe
from conftest import APP_BASE
from paysim_out import record


def test_the_fixture_is_a_client_of_the_dialect(paysim, paysim_server, paysim_stripe):
    assert isinstance(paysim_stripe, stripe.StripeClient)
    intent = paysim_stripe.v1.payment_intents.create(
        params={"amount": 2000, "currency": "eur", "payment_method": "pm_card_visa"}
    )
    assert paysim_stripe.v1.payment_intents.confirm(intent.id).status == "succeeded"
    paysim.assert_called("POST", "/stripe/v1/payment_intents/*/confirm", times=1)
    assert paysim_server.stripe_url == os.environ["PAYSIM_STRIPE_URL"]
    assert paysim_server.stripe_url == paysim_server.url + "/stripe"
    record(
        f"fixture-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}",
        {"stripe_url": paysim_server.stripe_url, "intent": intent.id},
    )


def test_the_module_style_points_at_the_dialect_for_the_test(paysim_server, paysim_stripe):
    assert (stripe.api_key, stripe.api_base) == (paysim_server.api_key, paysim_server.stripe_url)
    intent = stripe.PaymentIntent.create(
        amount=500, currency="usd", confirm=True, payment_method="pm_card_visa"
    )
    assert intent.status == "succeeded"
    assert paysim_stripe.v1.payment_intents.retrieve(intent.id).amount_received == 500


def test_forced_outcomes_reach_the_client(paysim, paysim_stripe):
    paysim.force_outcome("fail", decline_code="insufficient_funds")
    intent = paysim_stripe.v1.payment_intents.create(params={"amount": 900, "currency": "usd"})
    with pytest.raises(stripe.CardError) as raised:
        paysim_stripe.v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_visa"}
        )
    assert raised.value.error.decline_code == "insufficient_funds"


def test_the_publishable_key_with_a_client_secret(paysim_server, paysim_stripe):
    key = paysim_server.publishable_key
    assert key == os.environ["PAYSIM_PUBLISHABLE_KEY"]
    assert key.startswith("pk_test_")
    intent = paysim_stripe.v1.payment_intents.create(
        params={"amount": 700, "currency": "usd", "payment_method": "pm_card_visa"}
    )
    confirmed = paysim_stripe.v1.payment_intents.confirm(
        intent.id, params={"client_secret": intent.client_secret}, options={"api_key": key}
    )
    assert confirmed.status == "succeeded"
    with pytest.raises(stripe.AuthenticationError):
        paysim_stripe.v1.payment_intents.list(options={"api_key": key})


def test_intercept_stripe_takes_the_sdks_default_base(paysim, paysim_server, monkeypatch):
    # An app that never sets a base URL: the SDK's default, https://api.stripe.com.
    monkeypatch.setattr(stripe, "api_base", stripe.DEFAULT_API_BASE)
    monkeypatch.setattr(stripe, "api_key", paysim_server.api_key)
    paysim.intercept_stripe()
    intent = stripe.PaymentIntent.create(amount=1200, currency="usd")
    confirmed = stripe.PaymentIntent.confirm(intent.id, payment_method="pm_card_visa")
    assert confirmed.status == "succeeded"
    client = stripe.StripeClient(paysim_server.api_key)  # default base and HTTP client
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.create(
            params={
                "amount": 100,
                "currency": "usd",
                "payment_method": "pm_card_chargeDeclined",
                "confirm": True,
            }
        )
    assert [(c.method, c.path, c.status) for c in paysim.calls] == [
        ("POST", "/stripe/v1/payment_intents", 200),
        ("POST", f"/stripe/v1/payment_intents/{intent.id}/confirm", 200),
        ("GET", f"/stripe/v1/payment_intents/{intent.id}", 200),
        ("POST", "/stripe/v1/payment_intents", 402),
    ]


def test_intercept_stripe_takes_the_sdks_async_client(paysim, paysim_server):
    paysim.intercept_stripe()
    client = stripe.StripeClient(paysim_server.api_key)

    async def checkout():
        intent = await client.v1.payment_intents.create_async(
            params={"amount": 800, "currency": "eur", "payment_method": "pm_card_visa"}
        )
        return await client.v1.payment_intents.confirm_async(intent.id)

    assert asyncio.run(checkout()).status == "succeeded"
    assert [c.method for c in paysim.calls] == ["POST", "POST"]


def test_intercept_stripe_leaves_other_calls_alone(paysim, paysim_server):
    paysim.intercept_stripe()
    # The simulator's own URL is a real socket, reached over the network as before.
    assert requests.get(paysim_server.url + "/health", timeout=5).status_code == 200
    # A test's own mock of another URL still answers.
    with responses.RequestsMock() as mock:
        mock.get("https://elsewhere.example/ping", json={"pong": True})
        assert requests.get("https://elsewhere.example/ping", timeout=5).json() == {"pong": True}
    # The app's proxy base is not the SDK's default: not routed, so nothing reaches the dialect.
    assert APP_BASE != stripe.DEFAULT_API_BASE
    assert paysim.calls == []


def test_payments_shows_the_dialects_intents_with_the_native_payments(paysim, paysim_stripe):
    native = paysim.create_payment(amount=300, currency="eur")
    intent = paysim_stripe.v1.payment_intents.create(
        params={"amount": 400, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    shown = paysim.payments()
    assert [(p["id"], p["dialect"]) for p in shown] == [
        (intent.id, "stripe"),
        (native["id"], "native"),
    ]
    assert shown[0]["status"] == "succeeded"
    assert shown[0]["amount"] == 400
    assert [p["id"] for p in paysim.payments(status="succeeded")] == [intent.id]

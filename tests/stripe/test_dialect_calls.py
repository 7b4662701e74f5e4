"""Requests to the dialect are API calls like the native ones: in ``paysim.calls`` under their
whole path (``/stripe/v1/...``), with the parameters sent and the answer, for
``paysim.assert_called``."""

from __future__ import annotations

import pytest
import requests
import stripe
from dialect_support import make_client

from pytest_paysim.core.faults import Fault
from pytest_paysim.handle import Paysim
from pytest_paysim.server import PaysimServer


def test_each_request_once_with_its_parameters_and_answer(
    client: stripe.StripeClient, handle: Paysim
) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 700, "currency": "usd", "metadata": {"order": "42"}},
        options={"idempotency_key": "create-1"},
    )
    client.v1.payment_intents.create(
        params={"amount": 700, "currency": "usd", "metadata": {"order": "42"}},
        options={"idempotency_key": "create-1"},
    )
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_chargeDeclined"}
        )
    client.v1.payment_intents.list(params={"limit": 2})

    created, replayed, declined, listed = handle.calls
    assert (created.method, created.path, created.status) == (
        "POST",
        "/stripe/v1/payment_intents",
        200,
    )
    assert created.idempotency_key == "create-1"
    assert created.request == {"amount": "700", "currency": "usd", "metadata": {"order": "42"}}
    assert (created.response["object"], created.response["id"]) == ("payment_intent", intent.id)
    assert (created.replayed, replayed.replayed) == (False, True)
    assert replayed.response == created.response
    assert declined.path == f"/stripe/v1/payment_intents/{intent.id}/confirm"
    assert declined.status == 402
    assert declined.response["error"]["decline_code"] == "generic_decline"
    assert (listed.method, listed.request) == ("GET", {"limit": "2"})
    assert handle.assert_called("POST", "/stripe/v1/payment_intents/*/confirm", times=1) == [
        declined
    ]
    with pytest.raises(AssertionError, match=r"POST /stripe/v1/payment_intents -> 200"):
        handle.assert_called("POST", "/stripe/v1/refunds")


def test_errors_faults_and_dropped_connections_are_calls(
    server: PaysimServer, handle: Paysim, client: stripe.StripeClient
) -> None:
    requests.get(server.stripe_url + "/v1/payment_intents", timeout=5)  # no key: 401
    handle.inject_fault(method="POST", path="/stripe/v1/payment_intents", status=503)
    with pytest.raises(stripe.APIError):
        client.v1.payment_intents.create(params={"amount": 5, "currency": "eur"})
    handle.inject_fault(path="/stripe/v1/charges", drop_connection=True)
    with pytest.raises(stripe.APIConnectionError):
        client.v1.charges.list()

    unauthenticated, faulted, dropped = handle.calls
    assert (unauthenticated.status, unauthenticated.response["error"]["type"]) == (
        401,
        "authentication_error",
    )
    assert faulted.status == 503
    assert faulted.fault is not None
    assert (faulted.fault["status"], faulted.fault["when"]) == (503, "before")
    assert faulted.request == {"amount": "5", "currency": "eur"}  # read, though never run
    assert (dropped.path, dropped.status, dropped.response) == ("/stripe/v1/charges", None, None)


def test_calls_of_both_front_ends_in_one_log(server: PaysimServer, handle: Paysim) -> None:
    native = handle.create_payment(amount=100, currency="usd")
    make_client(server).v1.payment_intents.create(params={"amount": 100, "currency": "usd"})
    assert [(call.method, call.path) for call in handle.calls] == [
        ("POST", "/v1/payments"),
        ("POST", "/stripe/v1/payment_intents"),
    ]
    assert handle.calls[0].response["id"] == native["id"]
    server.simulator.reset()  # type: ignore[union-attr]
    assert handle.calls == []


def test_a_fault_on_the_dialect_is_told_by_its_whole_path(
    server: PaysimServer, handle: Paysim, client: stripe.StripeClient
) -> None:
    # A native glob does not reach the dialect: its paths all start with /stripe.
    assert server.simulator is not None
    server.simulator.add_fault(Fault(path="/v1/*", status=500, required=False))
    assert client.v1.payment_intents.list().data == []
    assert [call.status for call in handle.calls] == [200]

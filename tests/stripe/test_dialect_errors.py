"""The Stripe dialect's errors through the official SDK: declines, bad parameters, states,
amounts, ids, keys, routes and injected faults — always in Stripe's envelope."""

from __future__ import annotations

import json
import socket

import pytest
import requests
import stripe

from pytest_paysim.core.faults import Fault
from pytest_paysim.core.simulator import Simulator
from pytest_paysim.server import PaysimServer
from pytest_paysim.stripe.errors import NATIVE_ONLY_CODES

DECLINES = [
    ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
    ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
    ("pm_card_chargeDeclinedLostCard", "card_declined", "lost_card"),
    ("pm_card_chargeDeclinedStolenCard", "card_declined", "stolen_card"),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
    ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc"),
    ("pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error"),
    ("pm_card_chargeDeclinedFraudulent", "card_declined", "fraudulent"),
]


@pytest.mark.parametrize(
    ("method", "code", "decline_code"), [pytest.param(*row, id=row[0]) for row in DECLINES]
)
def test_every_decline_raises_card_error(
    client: stripe.StripeClient, method: str, code: str, decline_code: str
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd"})
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": method})
    error = raised.value
    assert error.http_status == 402
    assert (error.code, error.error.decline_code) == (code, decline_code)
    assert error.error.type == "card_error"
    assert error.error.charge.startswith("ch_")
    assert error.error.payment_intent.id == intent.id
    assert error.error.payment_intent.status == "requires_payment_method"
    assert error.error.payment_method.id == method
    assert error.request_id.startswith("req_")
    after = client.v1.payment_intents.retrieve(intent.id)
    assert after.status == "requires_payment_method"
    assert after.payment_method is None
    assert after.last_payment_error.decline_code == decline_code
    assert after.last_payment_error.charge == error.error.charge
    charge = client.v1.charges.retrieve(error.error.charge)
    assert (charge.status, charge.failure_code) == ("failed", code)
    assert charge.outcome.type == ("blocked" if decline_code == "fraudulent" else "issuer_declined")


def _invalid(call: object) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        call()  # type: ignore[operator]
    return raised.value


def test_unknown_parameter(client: stripe.StripeClient) -> None:
    error = _invalid(
        lambda: client.v1.payment_intents.create(
            params={"amount": 1, "currency": "usd", "colour": "red"}  # type: ignore[typeddict-unknown-key]
        )
    )
    assert (error.http_status, error.code, error.param) == (400, "parameter_unknown", "colour")
    assert error.user_message == "Received unknown parameter: colour"


def test_missing_parameter(client: stripe.StripeClient) -> None:
    error = _invalid(lambda: client.v1.payment_intents.create(params={"currency": "usd"}))  # type: ignore[typeddict-item]
    assert (error.code, error.param) == ("parameter_missing", "amount")
    assert error.user_message == "Missing required param: amount."


def test_bad_integer(server: PaysimServer, client: stripe.StripeClient) -> None:
    answer = requests.post(
        server.stripe_url + "/v1/payment_intents",
        data={"amount": "ten", "currency": "usd"},
        auth=(server.api_key, ""),
        timeout=5,
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["param"]) == ("parameter_invalid_integer", "amount")


def test_unknown_intent_is_404_with_param_intent(client: stripe.StripeClient) -> None:
    error = _invalid(lambda: client.v1.payment_intents.retrieve("pi_missing"))
    assert (error.http_status, error.code, error.param) == (404, "resource_missing", "intent")
    assert error.user_message == "No such payment_intent: 'pi_missing'"


def test_unknown_ids_of_other_objects(client: stripe.StripeClient) -> None:
    assert _invalid(lambda: client.v1.charges.retrieve("ch_missing")).param == "id"
    assert _invalid(lambda: client.v1.refunds.retrieve("re_missing")).http_status == 404
    assert _invalid(lambda: client.v1.events.retrieve("evt_missing")).http_status == 404
    body = _invalid(lambda: client.v1.refunds.create(params={"payment_intent": "pi_nope"}))
    assert (body.http_status, body.code, body.param) == (400, "resource_missing", "payment_intent")
    method = _invalid(
        lambda: client.v1.payment_intents.create(
            params={"amount": 1, "currency": "usd", "payment_method": "pm_nope"}
        )
    )
    assert (method.http_status, method.param) == (400, "payment_method")


def test_wrong_state(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd"})
    error = _invalid(lambda: client.v1.payment_intents.capture(intent.id))
    assert (error.http_status, error.code) == (400, "payment_intent_unexpected_state")
    assert "requires_payment_method" in error.user_message
    paid = client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "confirm": True,
            "payment_method": "pm_card_visa",
        }
    )
    for call in (
        lambda: client.v1.payment_intents.confirm(paid.id),
        lambda: client.v1.payment_intents.cancel(paid.id),
        lambda: client.v1.payment_intents.update(paid.id, params={"amount": 5}),
        lambda: client.v1.payment_intents.capture(paid.id),
    ):
        assert _invalid(call).code == "payment_intent_unexpected_state"


def test_confirm_without_a_payment_method(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd"})
    assert _invalid(lambda: client.v1.payment_intents.confirm(intent.id)).code == (
        "payment_intent_unexpected_state"
    )


def test_too_large_capture_and_refund(client: stripe.StripeClient) -> None:
    held = client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "confirm": True,
            "payment_method": "pm_card_visa",
            "capture_method": "manual",
        }
    )
    error = _invalid(
        lambda: client.v1.payment_intents.capture(held.id, params={"amount_to_capture": 2001})
    )
    assert (error.code, error.param) == ("amount_too_large", "amount_to_capture")
    paid = client.v1.payment_intents.capture(held.id)
    too_much = _invalid(
        lambda: client.v1.refunds.create(params={"payment_intent": paid.id, "amount": 2001})
    )
    assert (too_much.code, too_much.param) == ("amount_too_large", "amount")
    client.v1.refunds.create(params={"payment_intent": paid.id})
    again = _invalid(lambda: client.v1.refunds.create(params={"payment_intent": paid.id}))
    assert again.code == "charge_already_refunded"


def test_no_key_and_bad_key(server: PaysimServer, handle: object) -> None:
    nobody = requests.get(server.stripe_url + "/v1/payment_intents", timeout=5)
    assert nobody.status_code == 401
    assert nobody.json()["error"]["type"] == "authentication_error"
    assert nobody.headers["Request-Id"].startswith("req_")
    client = stripe.StripeClient(
        "sk_test_wrong", base_addresses={"api": server.stripe_url}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError) as raised:
        client.v1.payment_intents.list()
    assert raised.value.http_status == 401
    basic = requests.get(
        server.stripe_url + "/v1/payment_intents", auth=(server.api_key, ""), timeout=5
    )
    assert basic.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/nothing"),
        ("DELETE", "/v1/payment_intents"),
        ("PUT", "/v1/charges/ch_1"),
        ("GET", ""),
        ("GET", "/v1/payment_intents/pi_1/confirm"),
    ],
)
def test_unknown_routes_are_stripes_404(
    server: PaysimServer, handle: object, method: str, path: str
) -> None:
    answer = requests.request(
        method, server.stripe_url + path, auth=(server.api_key, ""), timeout=5
    )
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Unrecognized request URL")
    assert "code" not in error
    assert "Allow" not in answer.headers


def test_headers_request_id_and_stripe_version(server: PaysimServer, handle: object) -> None:
    answer = requests.get(
        server.stripe_url + "/v1/payment_intents",
        auth=(server.api_key, ""),
        headers={"Stripe-Version": "2020-08-27"},
        timeout=5,
    )
    assert answer.headers["Request-Id"].startswith("req_")
    assert answer.headers["Stripe-Version"] == "2020-08-27"
    assert answer.headers["Content-Type"] == "application/json"


def test_a_json_body_is_refused_in_stripes_shape(server: PaysimServer, handle: object) -> None:
    answer = requests.post(
        server.stripe_url + "/v1/payment_intents",
        json={"amount": 1, "currency": "usd"},
        auth=(server.api_key, ""),
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("status", "cls", "type_"),
    [
        pytest.param(400, stripe.InvalidRequestError, "invalid_request_error", id="400"),
        pytest.param(402, stripe.CardError, "card_error", id="402"),
        pytest.param(404, stripe.InvalidRequestError, "invalid_request_error", id="404"),
        pytest.param(409, stripe.APIError, "invalid_request_error", id="409"),
        pytest.param(429, stripe.RateLimitError, "rate_limit_error", id="429"),
        pytest.param(500, stripe.APIError, "api_error", id="500"),
        pytest.param(502, stripe.APIError, "api_error", id="502"),
        pytest.param(503, stripe.APIError, "api_error", id="503"),
    ],
)
def test_injected_faults(
    client: stripe.StripeClient, sim: Simulator, status: int, cls: type[Exception], type_: str
) -> None:
    sim.add_fault(Fault(path="/stripe/v1/payment_intents", status=status))
    with pytest.raises(cls) as raised:
        client.v1.payment_intents.create(params={"amount": 1, "currency": "usd"})
    error = raised.value
    assert isinstance(error, stripe.StripeError)
    assert error.http_status == status
    assert error.request_id is not None
    assert error.request_id.startswith("req_")
    body = error.json_body
    assert body is not None
    assert set(body) == {"error"}
    assert body["error"]["type"] == type_
    assert body["error"].get("code") not in NATIVE_ONLY_CODES
    assert set(body["error"]) <= {"type", "code", "doc_url", "message", "param"}
    assert "Fault injected" in body["error"]["message"]
    assert client.v1.payment_intents.list().data == []


def test_a_body_over_the_limit_is_413_in_stripes_shape_and_closes(
    server: PaysimServer, client: stripe.StripeClient
) -> None:
    """A body declared over 1 MiB is refused before it is read: Stripe's envelope, and the
    connection is closed (the unread body cannot be the next request)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /stripe/v1/payment_intents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + server.api_key.encode()
            + b"\r\nContent-Type: application/x-www-form-urlencoded"
            + b"\r\nContent-Length: 2097152\r\n\r\n"
        )
        received = b""
        while chunk := sock.recv(65536):  # the server's close ends this (else: the timeout)
            received += chunk
    head, _, payload = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 413 ")
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}
    assert headers["connection"].lower() == "close"
    assert headers["request-id"].startswith("req_")
    body = json.loads(payload)
    assert set(body) == {"error"}
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"].get("code") not in NATIVE_ONLY_CODES
    assert "1048576 bytes" in body["error"]["message"]
    assert client.v1.payment_intents.list().data == []

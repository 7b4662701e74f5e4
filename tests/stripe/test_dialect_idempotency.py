"""Idempotency of the Stripe dialect, as Stripe's: replays (402s too), reuse, keys in flight,
the SDK's own retries over a lost answer, and concurrency that never charges twice."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
import stripe
from dialect_support import make_client

from pytest_paysim.core.faults import Fault
from pytest_paysim.core.simulator import Simulator
from pytest_paysim.server import PaysimServer


def _post(
    server: PaysimServer, path: str, data: dict[str, Any], key: str | None = None
) -> requests.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return requests.post(
        server.stripe_url + path,
        data=data,
        auth=(server.api_key, ""),
        headers=headers,
        timeout=10,
    )


def _charges(client: stripe.StripeClient, intent_id: str) -> list[stripe.Charge]:
    return list(client.v1.charges.list(params={"payment_intent": intent_id}).data)


def test_the_same_key_and_parameters_replay_the_answer(
    server: PaysimServer, client: stripe.StripeClient
) -> None:
    data = {"amount": "2000", "currency": "usd", "metadata[order]": "1"}
    first = _post(server, "/v1/payment_intents", data, key="order-1")
    again = _post(server, "/v1/payment_intents", data, key="order-1")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotency-Key"] == "order-1"
    assert len(client.v1.payment_intents.list().data) == 1


def test_the_sdk_key_option_replays(client: stripe.StripeClient) -> None:
    params: Any = {"amount": 2000, "currency": "usd"}
    one = client.v1.payment_intents.create(params=params, options={"idempotency_key": "k1"})
    two = client.v1.payment_intents.create(params=params, options={"idempotency_key": "k1"})
    assert one.id == two.id


def test_a_decline_is_replayed_with_its_402(
    server: PaysimServer, client: stripe.StripeClient
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd"})
    data = {"payment_method": "pm_card_chargeDeclined"}
    path = f"/v1/payment_intents/{intent.id}/confirm"
    first = _post(server, path, data, key="confirm-1")
    again = _post(server, path, data, key="confirm-1")
    assert first.status_code == again.status_code == 402
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(_charges(client, intent.id)) == 1


def test_other_parameters_with_the_same_key_is_an_idempotency_error(
    client: stripe.StripeClient,
) -> None:
    client.v1.payment_intents.create(
        params={"amount": 2000, "currency": "usd"}, options={"idempotency_key": "same"}
    )
    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.payment_intents.create(
            params={"amount": 2001, "currency": "usd"}, options={"idempotency_key": "same"}
        )
    assert raised.value.http_status == 400
    assert raised.value.error.type == "idempotency_error"
    assert "same" in raised.value.user_message


def test_a_key_in_flight_is_409(
    server: PaysimServer, sim: Simulator, client: stripe.StripeClient
) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 2000, "currency": "usd", "payment_method": "pm_card_visa"}
    )
    path = f"/v1/payment_intents/{intent.id}/confirm"
    sim.add_fault(Fault(path="/stripe" + path, status=None, delay=0.5, when="before"))
    results: list[requests.Response] = []
    slow = threading.Thread(target=lambda: results.append(_post(server, path, {}, key="slow")))
    slow.start()
    threading.Event().wait(0.2)
    duplicate = _post(server, path, {}, key="slow")
    slow.join()
    assert duplicate.status_code == 409
    error = duplicate.json()["error"]
    assert (error["type"], error["code"]) == ("idempotency_error", "idempotency_key_in_use")
    assert results[0].status_code == 200


def test_the_sdk_retries_a_lost_answer_into_exactly_one_charge(
    server: PaysimServer, sim: Simulator
) -> None:
    client = make_client(server, retries=2)
    intent = client.v1.payment_intents.create(
        params={"amount": 2000, "currency": "usd", "payment_method": "pm_card_visa"}
    )
    sim.add_fault(
        Fault(path="/stripe/v1/payment_intents/*/confirm", status=503, when="after", times=1)
    )
    confirmed = client.v1.payment_intents.confirm(intent.id)
    assert confirmed.status == "succeeded"
    assert confirmed.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(_charges(client, intent.id)) == 1
    assert len(sim.events_of(intent.id)) == 3  # created, charge.succeeded, succeeded


def test_sixteen_concurrent_confirms_with_one_key_make_one_charge(
    server: PaysimServer, client: stripe.StripeClient
) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 2000, "currency": "usd", "payment_method": "pm_card_visa"}
    )
    path = f"/v1/payment_intents/{intent.id}/confirm"
    barrier = threading.Barrier(16)

    def confirm(_: int) -> requests.Response:
        barrier.wait()
        return _post(server, path, {}, key="one-confirm")

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(confirm, range(16)))
    statuses = sorted(answer.status_code for answer in answers)
    assert set(statuses) <= {200, 409}
    assert 200 in statuses
    executed = [
        a for a in answers if a.status_code == 200 and "Idempotent-Replayed" not in a.headers
    ]
    assert len(executed) == 1
    assert len(_charges(client, intent.id)) == 1


@pytest.mark.parametrize("with_keys", [False, True], ids=["no-keys", "own-keys"])
def test_competing_refunds_never_exceed_the_capture(
    server: PaysimServer, client: stripe.StripeClient, with_keys: bool
) -> None:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "confirm": True,
            "payment_method": "pm_card_visa",
        }
    )
    barrier = threading.Barrier(16)

    def refund(n: int) -> requests.Response:
        barrier.wait()
        data = {"payment_intent": intent.id, "amount": "300"}
        return _post(server, "/v1/refunds", data, key=f"refund-{n}" if with_keys else None)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(refund, range(16)))
    succeeded = [a for a in answers if a.status_code == 200]
    assert len(succeeded) == 6
    refused = {a.json()["error"]["code"] for a in answers if a.status_code != 200}
    assert refused <= {"amount_too_large", "charge_already_refunded"}
    charge = client.v1.charges.retrieve(intent.latest_charge)  # type: ignore[arg-type]
    assert charge.amount_refunded == 1800
    assert charge.amount_refunded <= charge.amount_captured


# -- a key shared with the native API --------------------------------------------------------------


def _native_endpoint(server: PaysimServer, key: str) -> requests.Response:
    return server.client.post(
        "/v1/webhook_endpoints",
        json={"url": "http://127.0.0.1:9/native"},
        headers={"Idempotency-Key": key},
    )


def _dialect_endpoint(
    server: PaysimServer, key: str, *, base: str | None = None
) -> requests.Response:
    return requests.post(
        (base or server.stripe_url) + "/v1/webhook_endpoints",
        data={"url": "http://127.0.0.1:9/stripe", "enabled_events[]": "*"},
        auth=(server.api_key, ""),
        headers={"Idempotency-Key": key},
        timeout=10,
    )


@pytest.mark.parametrize("native_first", [True, False], ids=["native-first", "dialect-first"])
def test_a_key_shared_with_the_native_api_is_two_records(
    server: PaysimServer, client: stripe.StripeClient, native_first: bool
) -> None:
    """Both APIs have ``POST /v1/webhook_endpoints``: the same key on each is its own request,
    never the other API's answer replayed (nor refused as reused)."""
    key = "shared-key"
    if native_first:
        native, dialect = _native_endpoint(server, key), _dialect_endpoint(server, key)
    else:
        dialect, native = _dialect_endpoint(server, key), _native_endpoint(server, key)
    assert (native.status_code, dialect.status_code) == (201, 200), (native.text, dialect.text)
    assert "Idempotent-Replayed" not in native.headers
    assert "Idempotent-Replayed" not in dialect.headers
    assert dialect.json()["object"] == "webhook_endpoint"
    assert dialect.json()["url"] == "http://127.0.0.1:9/stripe"
    assert native.json()["url"] == "http://127.0.0.1:9/native"
    assert native.json()["id"] != dialect.json()["id"]
    # Each API replays its own answer under the key.
    again_native, again_dialect = _native_endpoint(server, key), _dialect_endpoint(server, key)
    assert again_native.headers.get("Idempotent-Replayed") == "true"
    assert again_native.json() == native.json()
    assert again_dialect.headers.get("Idempotent-Replayed") == "true"
    assert again_dialect.content == dialect.content
    assert [item.id for item in client.v1.webhook_endpoints.list().data] == [dialect.json()["id"]]
    listed = server.client.get("/v1/webhook_endpoints").json()["data"]
    assert [item["id"] for item in listed] == [native.json()["id"]]


def test_the_second_port_shares_the_dialect_keys_not_the_native_ones() -> None:
    """``--stripe-port``: ``/v1/...`` at its root is the dialect, so a key used there replays
    under ``/stripe`` on the main port, and is still not the native API's."""
    with PaysimServer(seed=3, stripe_port=0) as running:
        assert running.stripe_root_url is not None
        native = _native_endpoint(running, "root-key")
        at_root = _dialect_endpoint(running, "root-key", base=running.stripe_root_url)
        under_prefix = _dialect_endpoint(running, "root-key")
    assert (native.status_code, at_root.status_code) == (201, 200)
    assert "Idempotent-Replayed" not in at_root.headers
    assert at_root.json()["object"] == "webhook_endpoint"
    assert under_prefix.headers.get("Idempotent-Replayed") == "true"
    assert under_prefix.content == at_root.content

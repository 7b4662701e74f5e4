"""Webhook endpoints of the Stripe dialect, through the official SDK: the resource (create with
its secret, retrieve, update, delete, list), and deliveries to real receivers on loopback,
each verified with ``stripe.Webhook.construct_event`` and the endpoint's own secret
(filters, disabled endpoints, retries on the simulator clock, the native API kept apart, both
stores, the ed25519 scheme, concurrent confirmations)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe
from dialect_support import make_client
from make_fixture_keys import KEYS

from pytest_paysim.backends import LocalBackend
from pytest_paysim.handle import Paysim, TestSettings
from pytest_paysim.server import PaysimServer
from tests.support.receivers import Received, Receiver, closed_port_url

ENDPOINT_KEYS: list[str] = json.loads(KEYS.read_text(encoding="utf-8"))["resources"][
    "webhook_endpoint"
]
MakeReceiver = Callable[..., Receiver]


@pytest.fixture
def receivers() -> Iterator[MakeReceiver]:
    """Make receivers on loopback: ``receivers([500])`` answers 500 once, then 200."""
    made: list[Receiver] = []

    def make(statuses: Sequence[int] = ()) -> Receiver:
        receiver = Receiver(list(statuses))
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


def _endpoint(
    client: stripe.StripeClient, url: str, events: Sequence[str] = ("*",), **params: Any
) -> stripe.WebhookEndpoint:
    return client.v1.webhook_endpoints.create(
        params={"url": url, "enabled_events": list(events), **params}
    )


def _paid(client: stripe.StripeClient, **params: Any) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            **params,
        }
    )


def _verified(received: Sequence[Received], secret: str) -> list[stripe.Event]:
    """Each request as the receiver's Stripe handler sees it: verified, then parsed."""
    return [
        stripe.Webhook.construct_event(
            request.body.decode(), request.headers["Stripe-Signature"], secret
        )
        for request in received
    ]


# -- the resource -------------------------------------------------------------------------------


def test_create_answers_every_fixture_key_and_the_secret_once(
    client: stripe.StripeClient,
) -> None:
    endpoint = _endpoint(
        client,
        "https://shop.test/stripe/hooks",
        ["payment_intent.succeeded", "charge.refunded"],
        description="orders",
        metadata={"team": "payments"},
    )
    created = endpoint.to_dict()
    assert set(ENDPOINT_KEYS) <= set(created)
    assert created["secret"].startswith("whsec_")
    assert endpoint.id.startswith("we_")
    assert (endpoint.object, endpoint.livemode, endpoint.status) == (
        "webhook_endpoint",
        False,
        "enabled",
    )
    assert endpoint.enabled_events == ["payment_intent.succeeded", "charge.refunded"]
    assert (endpoint.description, endpoint.metadata.to_dict()) == ("orders", {"team": "payments"})
    assert isinstance(endpoint.created, int)
    retrieved = client.v1.webhook_endpoints.retrieve(endpoint.id).to_dict()
    assert "secret" not in retrieved
    assert retrieved == {key: value for key, value in created.items() if key != "secret"}
    listed = client.v1.webhook_endpoints.list().data[0].to_dict()
    assert listed == retrieved


def test_update_changes_what_is_given_and_merges_metadata(client: stripe.StripeClient) -> None:
    endpoint = _endpoint(client, "https://shop.test/a", metadata={"keep": "1", "drop": "2"})
    updated = client.v1.webhook_endpoints.update(
        endpoint.id,
        params={
            "url": "https://shop.test/b",
            "enabled_events": ["charge.succeeded"],
            "description": "moved",
            "metadata": {"drop": "", "new": "3"},
            "disabled": True,
        },
    )
    assert updated.url == "https://shop.test/b"
    assert updated.enabled_events == ["charge.succeeded"]
    assert updated.description == "moved"
    assert updated.metadata.to_dict() == {"keep": "1", "new": "3"}
    assert updated.status == "disabled"
    assert "secret" not in updated.to_dict()
    again = client.v1.webhook_endpoints.update(
        endpoint.id, params={"disabled": False, "description": ""}
    )
    assert (again.status, again.description, again.url) == ("enabled", None, "https://shop.test/b")
    assert client.v1.webhook_endpoints.retrieve(endpoint.id).to_dict() == again.to_dict()


def test_delete_then_every_route_answers_404(client: stripe.StripeClient) -> None:
    endpoint = _endpoint(client, "https://shop.test/a")
    deleted = client.v1.webhook_endpoints.delete(endpoint.id)
    assert deleted.to_dict() == {"id": endpoint.id, "object": "webhook_endpoint", "deleted": True}
    for call in (
        lambda: client.v1.webhook_endpoints.retrieve(endpoint.id),
        lambda: client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True}),
        lambda: client.v1.webhook_endpoints.delete(endpoint.id),
    ):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            call()
        assert raised.value.http_status == 404
        assert raised.value.code == "resource_missing"
        assert raised.value.param == "id"
        assert raised.value.user_message == f"No such webhook_endpoint: '{endpoint.id}'"
    assert client.v1.webhook_endpoints.list().data == []


def test_list_is_newest_first_and_pages_both_ways(client: stripe.StripeClient) -> None:
    made = [_endpoint(client, f"https://shop.test/{n}").id for n in range(5)]
    newest_first = made[::-1]
    first = client.v1.webhook_endpoints.list(params={"limit": 2})
    assert [item.id for item in first.data] == newest_first[:2]
    assert first.has_more is True
    assert first.url == "/v1/webhook_endpoints"
    walked = [item.id for item in first.auto_paging_iter()]
    assert walked == newest_first
    before = client.v1.webhook_endpoints.list(params={"limit": 2, "ending_before": newest_first[3]})
    assert [item.id for item in before.data] == newest_first[1:3]
    assert before.has_more is True


@pytest.mark.parametrize(
    ("params", "code", "param", "message"),
    [
        pytest.param(
            {"url": "https://shop.test/a", "enabled_events": ["*", "payment.succeeded"]},
            "parameter_invalid",
            "enabled_events[1]",
            "'payment.succeeded' is not an event type",
            id="native-type",
        ),
        pytest.param(
            {"url": "https://shop.test/a", "enabled_events": ["payment_intent.*"]},
            "parameter_invalid",
            "enabled_events[0]",
            "'payment_intent.*'",
            id="wildcard-group",
        ),
        pytest.param(
            {"url": "https://shop.test/a", "enabled_events": ""},
            "parameter_invalid",
            "enabled_events",
            "at least one",
            id="empty",
        ),
        pytest.param(
            {"url": "https://shop.test/a"},
            "parameter_missing",
            "enabled_events",
            "Missing required param: enabled_events.",
            id="no-events",
        ),
        pytest.param(
            {"enabled_events": ["*"]},
            "parameter_missing",
            "url",
            "Missing required param: url.",
            id="no-url",
        ),
        pytest.param(
            {"url": "ftp://shop.test/a", "enabled_events": ["*"]},
            "parameter_invalid",
            "url",
            "Invalid URL",
            id="not-http",
        ),
        pytest.param(
            {"url": "https://shop.test/a", "enabled_events": ["*"], "connect": "true"},
            "parameter_unknown",
            "connect",
            "Received unknown parameter: connect",
            id="unknown",
        ),
    ],
)
def test_bad_creations_are_400_and_make_nothing(
    client: stripe.StripeClient, params: dict[str, Any], code: str, param: str, message: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.webhook_endpoints.create(params=params)
    assert raised.value.http_status == 400
    assert (raised.value.code, raised.value.param) == (code, param)
    assert message in (raised.value.user_message or "")
    assert client.v1.webhook_endpoints.list().data == []


def test_a_bad_update_changes_nothing(client: stripe.StripeClient) -> None:
    endpoint = _endpoint(client, "https://shop.test/a", ["charge.succeeded"])
    before = client.v1.webhook_endpoints.retrieve(endpoint.id).to_dict()
    for params in (
        {"url": "https://shop.test/b", "enabled_events": ["charge.nope"]},
        {"metadata": {"a": "b"}, "disabled": "maybe"},
        {"status": "disabled"},
    ):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            client.v1.webhook_endpoints.update(endpoint.id, params=params)
        assert raised.value.http_status == 400
    assert client.v1.webhook_endpoints.retrieve(endpoint.id).to_dict() == before


def test_the_native_api_and_the_dialect_keep_their_endpoints_apart(
    server: PaysimServer, client: stripe.StripeClient, handle: Paysim
) -> None:
    native = handle.add_webhook_endpoint("https://shop.test/native")
    stripe_endpoint = _endpoint(client, "https://shop.test/stripe")
    listed = server.client.get("/v1/webhook_endpoints").json()["data"]
    assert [item["id"] for item in listed] == [native["id"]]
    assert server.client.delete(f"/v1/webhook_endpoints/{stripe_endpoint.id}").status_code == 404
    assert [item.id for item in client.v1.webhook_endpoints.list().data] == [stripe_endpoint.id]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.webhook_endpoints.retrieve(native["id"])
    assert raised.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.delete(native["id"])
    assert server.client.delete(f"/v1/webhook_endpoints/{native['id']}").status_code == 200


def test_the_secret_comes_from_the_seed(client: stripe.StripeClient, handle: Paysim) -> None:
    made = _endpoint(client, "https://shop.test/a")
    handle.reset()
    again = _endpoint(client, "https://shop.test/a")
    assert (again.id, again.secret) == (made.id, made.secret)
    other = _endpoint(client, "https://shop.test/a")
    assert other.secret != made.secret


# -- deliveries -----------------------------------------------------------------------------------


def test_each_delivery_verifies_with_the_endpoints_own_secret(
    server: PaysimServer, client: stripe.StripeClient, receivers: MakeReceiver
) -> None:
    receiver = receivers()
    endpoint = _endpoint(client, receiver.url)
    other = _endpoint(client, "https://unused.test/hooks", ["refund.failed"])
    intent = _paid(client)
    got = receiver.wait_for(3)
    events = _verified(got, endpoint.secret)
    assert [event.type for event in events] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    assert events[2].data.object.id == intent.id
    for request in got:
        assert "Paysim-Signature" not in request.headers
        assert request.headers["Content-Type"].startswith("application/json")
        header = request.headers["Stripe-Signature"]
        for wrong in ("whsec_wrong", other.secret, server.webhook_secret):
            with pytest.raises(stripe.SignatureVerificationError):
                stripe.Webhook.construct_event(request.body.decode(), header, wrong)


def test_enabled_events_choose_what_each_endpoint_gets(
    client: stripe.StripeClient, receivers: MakeReceiver, handle: Paysim
) -> None:
    everything, succeeded, refunds = receivers(), receivers(), receivers()
    endpoints = [
        _endpoint(client, everything.url),
        _endpoint(client, succeeded.url, ["payment_intent.succeeded"]),
        _endpoint(client, refunds.url, ["refund.created", "charge.refunded"]),
    ]
    intent = _paid(client)
    client.v1.refunds.create(params={"payment_intent": intent.id})
    expected = {
        everything.url: [
            "payment_intent.created",
            "charge.succeeded",
            "payment_intent.succeeded",
            "refund.created",
            "charge.refunded",
        ],
        succeeded.url: ["payment_intent.succeeded"],
        refunds.url: ["refund.created", "charge.refunded"],
    }
    for receiver, endpoint in zip((everything, succeeded, refunds), endpoints, strict=True):
        types = expected[receiver.url]
        events = _verified(receiver.wait_for(len(types)), endpoint.secret)
        assert [event.type for event in events] == types
    handle.webhooks.drain()
    assert everything.count() + succeeded.count() + refunds.count() == 8
    # Each event counts the endpoints it goes to.
    pending = [request.event()["pending_webhooks"] for request in everything.received]
    assert pending == [1, 1, 2, 2, 2]


def test_a_disabled_endpoint_gets_nothing_until_enabled_again(
    client: stripe.StripeClient, receivers: MakeReceiver, handle: Paysim
) -> None:
    watched, muted = receivers(), receivers()
    _endpoint(client, watched.url)
    endpoint = _endpoint(client, muted.url)
    client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True})
    _paid(client)
    watched.wait_for(3)
    handle.webhooks.drain()
    assert muted.count() == 0
    client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": False})
    intent = _paid(client)
    events = _verified(muted.wait_for(3), endpoint.secret)
    assert {event.data.object.id for event in events[1:]} <= {intent.id, intent.latest_charge}
    assert events[0].data.object.id == intent.id


def test_retries_of_a_disabled_endpoint_are_not_sent(
    client: stripe.StripeClient, receivers: MakeReceiver, handle: Paysim
) -> None:
    receiver = receivers([500])
    endpoint = _endpoint(client, receiver.url, ["payment_intent.created"])
    handle.clock.freeze()
    client.v1.payment_intents.create(params={"amount": 500, "currency": "usd"})
    first = handle.webhooks.wait_for("payment_intent.created")
    assert first.status_code == 500
    client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True})
    handle.clock.advance(60)
    second = handle.webhooks.wait_for("payment_intent.created", count=2)[1]
    assert (second.attempt, second.succeeded, second.status_code) == (2, False, None)
    assert second.error == "not sent: the webhook endpoint is disabled"
    assert receiver.count() == 1


def test_a_failed_delivery_is_retried_on_the_simulator_clock(
    client: stripe.StripeClient, receivers: MakeReceiver, handle: Paysim
) -> None:
    receiver = receivers([500])  # then 200
    endpoint = _endpoint(client, receiver.url, ["payment_intent.created"])
    handle.clock.freeze()
    intent = client.v1.payment_intents.create(params={"amount": 500, "currency": "usd"})
    first = handle.webhooks.wait_for("payment_intent.created", payment_id=intent.id)
    assert (first.attempt, first.status_code, first.url) == (1, 500, receiver.url)
    with pytest.raises(AssertionError, match="expected 2 deliveries"):
        handle.webhooks.wait_for("payment_intent.created", count=2, timeout=0.3)
    assert receiver.count() == 1
    handle.clock.advance(1)
    second = handle.webhooks.wait_for("payment_intent.created", count=2)[1]
    assert (second.attempt, second.status_code, second.succeeded) == (2, 200, True)
    events = _verified(receiver.wait_for(2), endpoint.secret)
    assert events[0].id == events[1].id == first.event_id
    assert first.verify()["id"] == second.verify(endpoint.secret)["id"]


def test_the_intents_webhook_url_and_the_endpoints_each_get_their_signature(
    server: PaysimServer, client: stripe.StripeClient, receivers: MakeReceiver
) -> None:
    own, registered = receivers(), receivers()
    endpoint = _endpoint(client, registered.url, ["payment_intent.created"])
    intent = client.v1.payment_intents.create(
        params={"amount": 500, "currency": "usd", "metadata": {"webhook_url": own.url}}
    )
    [at_endpoint] = _verified(registered.wait_for(1), endpoint.secret)
    [at_url] = _verified(own.wait_for(1), server.webhook_secret)
    assert at_endpoint.id == at_url.id
    assert at_endpoint.data.object.id == intent.id
    assert at_endpoint.pending_webhooks == 2  # the intent's webhook_url and the endpoint
    with pytest.raises(stripe.SignatureVerificationError):
        _verified(registered.received[:1], server.webhook_secret)


def test_pending_webhooks_counts_the_receivers_not_yet_answered(
    client: stripe.StripeClient, receivers: MakeReceiver, handle: Paysim
) -> None:
    receiver = receivers([500])
    _endpoint(client, receiver.url, ["payment_intent.created"])
    _endpoint(client, closed_port_url(), ["payment_intent.created"])
    handle.clock.freeze()
    intent = client.v1.payment_intents.create(params={"amount": 500, "currency": "usd"})
    handle.webhooks.wait_for("payment_intent.created", payment_id=intent.id)
    [created] = client.v1.events.list(params={"type": "payment_intent.created"}).data
    assert receiver.wait_for(1)[0].event()["pending_webhooks"] == 2
    assert created.pending_webhooks == 2
    handle.clock.advance(1)
    handle.webhooks.wait_for("payment_intent.created", where=lambda d: d.succeeded is True)
    assert client.v1.events.retrieve(created.id).pending_webhooks == 1  # one never answers


def test_native_and_stripe_events_go_to_their_own_endpoints_only(
    client: stripe.StripeClient, receivers: MakeReceiver, handle: Paysim
) -> None:
    native_receiver, stripe_receiver = receivers(), receivers()
    native = handle.add_webhook_endpoint(native_receiver.url)
    endpoint = _endpoint(client, stripe_receiver.url)
    payment = handle.create_payment(amount=700, currency="usd")
    handle.pay(payment["id"])
    intent = _paid(client)
    native_got = native_receiver.wait_for(2)
    stripe_got = stripe_receiver.wait_for(3)
    handle.webhooks.drain()
    assert native_receiver.count() == 2
    assert stripe_receiver.count() == 3
    assert [request.event()["type"] for request in native_got] == [
        "payment.created",
        "payment.succeeded",
    ]
    assert all("Stripe-Signature" not in request.headers for request in native_got)
    for request in native_got:
        stripe.WebhookSignature.verify_header(
            request.body.decode(), request.headers["Paysim-Signature"], native["secret"], 300
        )
    events = _verified(stripe_got, endpoint.secret)
    assert {
        event.data.object.to_dict().get("payment_intent") or event.data.object.id
        for event in events
    } == {intent.id}


def test_customer_events_go_to_the_endpoints_that_want_them(
    client: stripe.StripeClient, receivers: MakeReceiver, handle: Paysim
) -> None:
    receiver = receivers()
    endpoint = _endpoint(client, receiver.url, ["customer.created", "customer.deleted"])
    customer = client.v1.customers.create(params={"email": "ada@shop.test"})
    client.v1.customers.update(customer.id, params={"name": "Ada"})
    client.v1.customers.delete(customer.id)
    events = _verified(receiver.wait_for(2), endpoint.secret)
    assert [event.type for event in events] == ["customer.created", "customer.deleted"]
    assert {event.data.object.id for event in events} == {customer.id}
    assert [event.pending_webhooks for event in events] == [1, 1]
    handle.webhooks.drain()
    assert receiver.count() == 2
    updated = handle.webhooks.wait_for("customer.updated", payment_id=customer.id)
    assert updated.url is None  # no endpoint wants it: captured
    assert updated.event["data"]["previous_attributes"] == {"name": None}


def test_the_webhook_log_filters_charges_and_refunds_by_their_intent(
    client: stripe.StripeClient, receivers: MakeReceiver, handle: Paysim
) -> None:
    receiver = receivers()
    endpoint = _endpoint(client, receiver.url)
    intent = _paid(client)
    other = _paid(client)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 300})
    refunded = handle.webhooks.wait_for("charge.refunded", payment_id=intent.id)
    assert refunded.payment["object"] == "charge"
    assert refunded.url == receiver.url
    assert refunded.verify(endpoint.secret)["type"] == "charge.refunded"
    handle.webhooks.assert_received("refund.created", payment_id=intent.id, count=1)
    handle.webhooks.assert_not_received("refund.created", payment_id=other.id)
    mine = handle.webhooks.filter(payment_id=intent.id)
    assert [delivery.type for delivery in mine] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "refund.created",
        "charge.refunded",
    ]
    assert {delivery.payment["object"] for delivery in mine} == {
        "payment_intent",
        "charge",
        "refund",
    }
    assert len(handle.webhooks.filter(payment_id=other.id)) == 3
    handle.webhooks.assert_all_signed()


def test_a_deleted_endpoint_gets_no_more_attempts(
    client: stripe.StripeClient, receivers: MakeReceiver, handle: Paysim
) -> None:
    receiver = receivers([500])
    endpoint = _endpoint(client, receiver.url, ["payment_intent.created"])
    handle.clock.freeze()
    client.v1.payment_intents.create(params={"amount": 500, "currency": "usd"})
    handle.webhooks.wait_for("payment_intent.created")
    client.v1.webhook_endpoints.delete(endpoint.id)
    handle.clock.advance(60)
    second = handle.webhooks.wait_for("payment_intent.created", count=2)[1]
    assert second.error == "not sent: the webhook endpoint was deleted"
    assert receiver.count() == 1


# -- the ed25519 scheme, the SQLite store, concurrency -------------------------------------------


def test_under_ed25519_stripe_deliveries_still_carry_hmac_signatures(
    server: PaysimServer, receivers: MakeReceiver
) -> None:
    handle = Paysim(LocalBackend(server), TestSettings(seed=14, signature="ed25519"))
    try:
        client = make_client(server)
        assert handle.webhook_secret.startswith("whsk_")
        assert server.webhook_secret.startswith("whsk_")
        session_secret = handle.stripe_webhook_secret
        assert session_secret.startswith("whsec_")
        assert server.stripe_webhook_secret == session_secret
        captured_intent = _paid(client)  # no receiver: captured, signed all the same
        delivery = handle.webhooks.wait_for(
            "payment_intent.succeeded", payment_id=captured_intent.id
        )
        assert delivery.url is None
        header = delivery.headers["Stripe-Signature"]
        event = stripe.Webhook.construct_event(delivery.body.decode(), header, session_secret)
        assert event.data.object.id == captured_intent.id
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(delivery.body.decode(), header, handle.webhook_secret)
        assert delivery.verify()["id"] == event.id
        registered, own = receivers(), receivers()
        endpoint = _endpoint(client, registered.url)
        assert endpoint.secret.startswith("whsec_")
        intent = _paid(client, metadata={"webhook_url": own.url})
        assert intent.status == "succeeded"
        assert [event.type for event in _verified(registered.wait_for(3), endpoint.secret)] == [
            "payment_intent.created",
            "charge.succeeded",
            "payment_intent.succeeded",
        ]
        assert len(_verified(own.wait_for(3), session_secret)) == 3
        handle.webhooks.drain()
        handle.webhooks.assert_all_signed()
        native = handle.add_webhook_endpoint("https://shop.test/native")
        assert native["secret"].startswith("whsk_")  # native endpoints follow the scheme
    finally:
        handle.close()


def test_endpoints_on_the_sqlite_store_deliver_and_survive_a_restart(
    tmp_path: Path, receivers: MakeReceiver
) -> None:
    db = tmp_path / "paysim.sqlite"
    receiver = receivers()
    with PaysimServer(seed=3, db=db) as server:
        client = make_client(server)
        endpoint = _endpoint(
            client, receiver.url, ["payment_intent.succeeded"], description="d", metadata={"k": "v"}
        )
        disabled = _endpoint(client, receiver.url + "/off")
        client.v1.webhook_endpoints.update(disabled.id, params={"disabled": True})
        _paid(client)
        [first] = _verified(receiver.wait_for(1), endpoint.secret)
        listed = client.v1.webhook_endpoints.list().to_dict()
    with PaysimServer(seed=3, db=db) as server:
        client = make_client(server)
        assert client.v1.webhook_endpoints.list().to_dict() == listed
        assert listed["data"][0]["status"] == "disabled"
        assert listed["data"][1]["metadata"] == {"k": "v"}
        intent = _paid(client)
        second = _verified(receiver.wait_for(2), endpoint.secret)[1]
        assert second.data.object.id == intent.id != first.data.object.id
        assert server.client.get("/v1/webhook_endpoints").json()["data"] == []
    assert [request.path for request in receiver.received] == ["/hooks", "/hooks"]


def test_concurrent_confirmations_deliver_each_event_once_per_endpoint(
    server: PaysimServer, client: stripe.StripeClient, receivers: MakeReceiver, handle: Paysim
) -> None:
    first, second = receivers(), receivers()
    endpoints = [_endpoint(client, first.url), _endpoint(client, second.url)]
    intents = [
        client.v1.payment_intents.create(
            params={"amount": 1000 + n, "currency": "usd", "payment_method": "pm_card_visa"}
        )
        for n in range(8)
    ]
    start = threading.Barrier(16)
    errors: list[BaseException] = []

    def confirm(intent_id: str, key: str) -> None:
        try:
            start.wait(5)
            # Two confirms of each intent with one key: one charge, the other replayed (or
            # a 409 while the first runs, which the SDK retries).
            make_client(server, retries=5).v1.payment_intents.confirm(
                intent_id, options={"idempotency_key": key}
            )
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [
        threading.Thread(target=confirm, args=(intent.id, f"key-{intent.id}"))
        for intent in intents
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    expected = 8 * 3  # created, charge.succeeded, payment_intent.succeeded per intent
    for receiver, endpoint in zip((first, second), endpoints, strict=True):
        events = _verified(receiver.wait_for(expected, timeout=10), endpoint.secret)
        ids = [event.id for event in events]
        assert len(set(ids)) == len(ids) == expected
    handle.webhooks.drain()
    assert first.count() == second.count() == expected
    for intent in intents:
        charges = client.v1.charges.list(params={"payment_intent": intent.id}).data
        assert len(charges) == 1
        types = [
            request.event()["type"]
            for request in first.received
            if intent.id in request.body.decode()
        ]
        assert types.count("charge.succeeded") == types.count("payment_intent.succeeded") == 1


def test_raw_form_posts_work_as_the_sdks(server: PaysimServer, handle: Paysim) -> None:
    answer = requests.post(
        server.stripe_url + "/v1/webhook_endpoints",
        data={
            "url": "https://shop.test/raw",
            "enabled_events[0]": "charge.succeeded",
            "enabled_events[1]": "charge.failed",
            "metadata[a]": "b",
        },
        auth=(server.api_key, ""),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["enabled_events"] == ["charge.succeeded", "charge.failed"]
    assert answer.headers["Request-Id"].startswith("req_")

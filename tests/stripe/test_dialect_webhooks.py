"""Events and webhooks of the Stripe dialect: Stripe's types in Stripe's order, Stripe's event
shape, ``Stripe-Signature`` that ``stripe.Webhook.construct_event`` accepts, captured and sent
deliveries, and the webhook log's ``payment_id=`` filter."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from pytest_paysim.core.simulator import Simulator
from pytest_paysim.handle import Paysim
from pytest_paysim.server import PaysimServer


class Receiver:
    """A webhook receiver on loopback that keeps ``(headers, body)`` of each request."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._changed = threading.Condition()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def _app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        with self._changed:
            self.received.append((dict(request.headers), request.get_data()))
            self._changed.notify_all()
        return Response("ok")(environ, start_response)

    def wait_for(self, count: int) -> list[tuple[dict[str, str], bytes]]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.received) >= count, 5.0), self.received
            return list(self.received)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def _types(sim: Simulator, intent_id: str) -> list[str]:
    return [event.type for event in sim.events_of(intent_id)]


def _intent(client: stripe.StripeClient, **params: Any) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd", **params})


def test_events_of_an_automatic_capture_and_a_refund(
    client: stripe.StripeClient, sim: Simulator
) -> None:
    intent = _intent(client, confirm=True, payment_method="pm_card_visa")
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 100})
    assert _types(sim, intent.id) == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "refund.created",
        "charge.refunded",
    ]


def test_events_of_a_manual_capture(client: stripe.StripeClient, sim: Simulator) -> None:
    intent = _intent(client, confirm=True, payment_method="pm_card_visa", capture_method="manual")
    client.v1.payment_intents.capture(intent.id)
    assert _types(sim, intent.id) == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.amount_capturable_updated",
        "charge.captured",
        "payment_intent.succeeded",
    ]


def test_events_of_a_decline_and_a_cancel(client: stripe.StripeClient, sim: Simulator) -> None:
    intent = _intent(client)
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_chargeDeclined"}
        )
    client.v1.payment_intents.cancel(intent.id)
    assert _types(sim, intent.id) == [
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
    ]


def test_events_of_three_d_secure(client: stripe.StripeClient, sim: Simulator) -> None:
    intent = _intent(client, confirm=True, payment_method="pm_card_authenticationRequired")
    sim.authenticate(intent.id)
    assert _types(sim, intent.id) == [
        "payment_intent.created",
        "payment_intent.requires_action",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]


def test_events_of_a_failed_refund(
    client: stripe.StripeClient, sim: Simulator, handle: Paysim
) -> None:
    intent = _intent(client, confirm=True, payment_method="pm_card_visa")
    handle.force_refund_outcome("fail")
    client.v1.refunds.create(params={"payment_intent": intent.id})
    assert _types(sim, intent.id)[-2:] == ["refund.created", "refund.failed"]
    failed = sim.events(dialect="stripe", type="refund.failed")[0][0].to_dict()
    assert failed["data"]["object"]["status"] == "failed"


def test_the_event_shape(server: PaysimServer, client: stripe.StripeClient) -> None:
    intent = _intent(client, payment_method="pm_card_visa", capture_method="manual")
    raw = server.stripe_url + f"/v1/payment_intents/{intent.id}/confirm"
    answer = requests.post(
        raw, auth=(server.api_key, ""), headers={"Idempotency-Key": "ik"}, timeout=5
    )
    client.v1.payment_intents.capture(intent.id)
    events = client.v1.events.list(params={"limit": 100}).data
    assert [event.type for event in events][:2] == ["payment_intent.succeeded", "charge.captured"]
    for event in events:
        assert event.id.startswith("evt_")
        assert event.object == "event"
        assert event.api_version
        assert isinstance(event.created, int)
        assert event.livemode is False
        assert event.pending_webhooks == 0
        assert set(event.request.to_dict()) == {"id", "idempotency_key"}
    created = events[-1]
    assert created.type == "payment_intent.created"
    assert created.data.object.id == intent.id
    assert "previous_attributes" not in created.data
    captured = events[1]
    assert captured.data.previous_attributes.to_dict()["captured"] is False
    authorized = next(e for e in events if e.type == "payment_intent.amount_capturable_updated")
    assert authorized.request.id == answer.headers["Request-Id"]
    assert authorized.request.idempotency_key == "ik"
    assert client.v1.events.retrieve(created.id).to_dict() == created.to_dict()
    only = client.v1.events.list(params={"type": "charge.succeeded"}).data
    assert [event.type for event in only] == ["charge.succeeded"]


def test_captured_deliveries_verify_with_construct_event(
    server: PaysimServer, client: stripe.StripeClient, handle: Paysim
) -> None:
    intent = _intent(client, confirm=True, payment_method="pm_card_visa")
    handle.webhooks.wait_for("payment_intent.succeeded", payment_id=intent.id)
    deliveries = handle.webhooks.filter(payment_id=intent.id)
    assert [delivery.type for delivery in deliveries] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    for delivery in deliveries:
        assert "Paysim-Signature" not in delivery.headers
        event = stripe.Webhook.construct_event(
            delivery.body.decode(), delivery.headers["Stripe-Signature"], server.webhook_secret
        )
        assert event.type == delivery.type
        assert delivery.verify()["id"] == event.id


def test_deliveries_to_the_intents_webhook_url(
    server: PaysimServer, client: stripe.StripeClient, receiver: Receiver
) -> None:
    intent = _intent(
        client, confirm=True, payment_method="pm_card_visa", metadata={"webhook_url": receiver.url}
    )
    got = receiver.wait_for(3)
    types = []
    for headers, body in got:
        event = stripe.Webhook.construct_event(
            body, headers["Stripe-Signature"], server.webhook_secret
        )
        types.append(event.type)
        assert headers["Content-Type"].startswith("application/json")
    assert types == ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]
    assert got[0][1].find(intent.id.encode()) > 0
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(got[0][1], got[0][0]["Stripe-Signature"], "whsec_wrong")

"""The Stripe dialect on the SQLite store: intents, charges, refunds and events survive a
restart, and stay the dialect's own."""

from __future__ import annotations

from pathlib import Path

import stripe
from dialect_support import make_client

from pytest_paysim.server import PaysimServer


def test_intents_charges_refunds_and_events_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "paysim.sqlite"
    with PaysimServer(seed=3, db=db) as server:
        client = make_client(server)
        intent = client.v1.payment_intents.create(
            params={
                "amount": 2000,
                "currency": "usd",
                "confirm": True,
                "payment_method": "pm_card_visa",
                "capture_method": "manual",
            }
        )
        client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1500})
        refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})
        before = client.v1.payment_intents.retrieve(intent.id).to_dict()
        events = [event.id for event in client.v1.events.list(params={"limit": 100}).data]
    with PaysimServer(seed=3, db=db) as server:
        client = make_client(server)
        assert client.v1.payment_intents.retrieve(intent.id).to_dict() == before
        charge = client.v1.charges.retrieve(before["latest_charge"])
        assert (charge.captured, charge.amount_captured, charge.amount_refunded) == (
            True,
            1500,
            500,
        )
        assert client.v1.refunds.retrieve(refund.id).charge == charge.id
        assert [e.id for e in client.v1.events.list(params={"limit": 100}).data] == events
        assert server.client.get(f"/v1/payments/{intent.id}").status_code == 404
        native_events = server.client.get("/v1/events").json()["data"]
        assert native_events == []
        assert isinstance(client, stripe.StripeClient)

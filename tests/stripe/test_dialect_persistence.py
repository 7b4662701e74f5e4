"""The Stripe dialect on the SQLite store: intents, charges, refunds and events survive a
restart, and stay the dialect's own."""

from __future__ import annotations

from pathlib import Path

import pytest
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


def test_customers_payment_methods_and_refund_lists_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "paysim.sqlite"
    with PaysimServer(seed=3, db=db) as server:
        client = make_client(server)
        ada = client.v1.customers.create(
            params={"email": "ada@example.com", "metadata": {"a": "1"}}
        )
        gone = client.v1.customers.create(params={"name": "gone"})
        client.v1.customers.delete(gone.id)
        method = client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": "5555555555554444", "exp_month": 1, "exp_year": 2033},
            }
        )
        client.v1.payment_methods.attach(method.id, params={"customer": ada.id})
        intent = client.v1.payment_intents.create(
            params={
                "amount": 900,
                "currency": "usd",
                "customer": ada.id,
                "payment_method": method.id,
                "confirm": True,
            }
        )
        refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 100})
        customers = client.v1.customers.list().to_dict()
        methods = client.v1.payment_methods.list(params={"customer": ada.id}).to_dict()
        events = [event.id for event in client.v1.events.list(params={"limit": 100}).data]
    with PaysimServer(seed=3, db=db) as server:
        client = make_client(server)
        assert client.v1.customers.list().to_dict() == customers
        assert [item["id"] for item in customers["data"]] == [ada.id]
        assert client.v1.customers.retrieve(gone.id).deleted is True
        assert client.v1.payment_methods.list(params={"customer": ada.id}).to_dict() == methods
        assert [item.id for item in client.v1.refunds.list().data] == [refund.id]
        assert [e.id for e in client.v1.events.list(params={"limit": 100}).data] == events
        expanded = client.v1.payment_intents.retrieve(
            intent.id, params={"expand": ["customer", "payment_method"]}
        )
        assert (expanded.customer.email, expanded.payment_method.card.last4) == (
            "ada@example.com",
            "4444",
        )
        newer = client.v1.customers.create()  # a restart never draws an id already stored
        assert newer.id not in (ada.id, gone.id)
        declining = client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": "4000000000000002", "exp_month": 1, "exp_year": 2033},
            }
        )
        with pytest.raises(stripe.CardError):
            client.v1.payment_intents.create(
                params={
                    "amount": 900,
                    "currency": "usd",
                    "payment_method": declining.id,
                    "confirm": True,
                }
            )


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_the_customer_flow_is_the_same_on_both_stores(tmp_path: Path, kind: str) -> None:
    db = tmp_path / "flow.sqlite" if kind == "sqlite" else None
    with PaysimServer(seed=8, db=db) as server:
        client = make_client(server)
        customer = client.v1.customers.create(params={"email": "b@example.com"})
        client.v1.customers.update(customer.id, params={"metadata": {"k": "v"}})
        method = client.v1.payment_methods.attach(
            "pm_card_mastercard", params={"customer": customer.id}
        )
        intent = client.v1.payment_intents.create(
            params={
                "amount": 1200,
                "currency": "eur",
                "customer": customer.id,
                "payment_method": method.id,
                "confirm": True,
                "expand": ["customer"],
            }
        )
        assert (intent.status, intent.customer.metadata.to_dict()) == ("succeeded", {"k": "v"})
        refund = client.v1.refunds.create(params={"charge": intent.latest_charge})
        assert [
            item.id for item in client.v1.refunds.list(params={"charge": intent.latest_charge}).data
        ] == [refund.id]
        client.v1.payment_methods.detach(method.id)
        client.v1.customers.delete(customer.id)
        types = [event.type for event in client.v1.events.list(params={"limit": 100}).data]
        assert [name for name in types if name.startswith("customer.")] == [
            "customer.deleted",
            "customer.updated",
            "customer.created",
        ]
        assert client.v1.customers.list().data == []
        assert client.v1.payment_methods.retrieve(method.id).customer is None

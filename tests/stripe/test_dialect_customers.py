"""The Stripe dialect's Customers through the official SDK, on a real server: create, retrieve,
update, delete, list; their events; the errors; and an intent's ``customer``, which must name
a customer that exists (``expand[]=customer`` shows it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe
from make_fixture_keys import KEYS

from pytest_paysim.core.simulator import Simulator
from pytest_paysim.handle import Paysim
from pytest_paysim.server import PaysimServer

FIXTURE_KEYS: dict[str, list[str]] = json.loads(KEYS.read_text(encoding="utf-8"))["resources"]


def _invalid(call: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        call()
    return raised.value


def test_create_retrieve_update_and_delete(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(
        params={
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "description": "first",
            "phone": "+15555550100",
            "metadata": {"tier": "gold", "ref": "7"},
        }
    )
    assert customer.id.startswith("cus_")
    assert customer.object == "customer"
    assert set(customer.to_dict()) >= set(FIXTURE_KEYS["customer"])
    assert (customer.email, customer.name, customer.description, customer.phone) == (
        "ada@example.com",
        "Ada Lovelace",
        "first",
        "+15555550100",
    )
    assert customer.metadata.to_dict() == {"tier": "gold", "ref": "7"}
    assert isinstance(customer.created, int)
    assert customer.livemode is False
    assert client.v1.customers.retrieve(customer.id).to_dict() == customer.to_dict()
    updated = client.v1.customers.update(
        customer.id,
        params={"name": "Ada King", "description": "", "metadata": {"ref": "", "new": "1"}},
    )
    assert (updated.name, updated.description, updated.email) == (
        "Ada King",
        None,
        "ada@example.com",
    )
    assert updated.metadata.to_dict() == {"tier": "gold", "new": "1"}
    cleared = client.v1.customers.update(customer.id, params={"metadata": ""})  # type: ignore[typeddict-item]
    assert cleared.metadata.to_dict() == {}
    deleted = client.v1.customers.delete(customer.id)
    assert deleted.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}
    again = client.v1.customers.retrieve(customer.id)
    assert again.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}
    assert again.deleted is True
    for call in (
        lambda: client.v1.customers.update(customer.id, params={"name": "x"}),
        lambda: client.v1.customers.delete(customer.id),
    ):
        error = _invalid(call)
        assert (error.http_status, error.code, error.param) == (404, "resource_missing", "id")
        assert error.user_message == f"No such customer: '{customer.id}'"


def test_an_empty_create_and_a_customer_without_a_field(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    assert (customer.email, customer.name, customer.phone, customer.description) == (
        None,
        None,
        None,
        None,
    )
    assert customer.metadata.to_dict() == {}
    assert customer.invoice_settings.default_payment_method is None


def test_the_list_is_newest_first_pages_and_filters_by_email(client: stripe.StripeClient) -> None:
    made = [
        client.v1.customers.create(
            params={"email": "twin@example.com"} if n % 2 else {"name": f"n{n}"}
        )
        for n in range(5)
    ]
    client.v1.customers.delete(made[0].id)
    newest_first = [customer.id for customer in reversed(made[1:])]
    page = client.v1.customers.list(params={"limit": 2})
    assert [customer.id for customer in page.data] == newest_first[:2]
    assert (page.has_more, page.url, page.object) == (True, "/v1/customers", "list")
    assert [customer.id for customer in page.auto_paging_iter()] == newest_first
    after = client.v1.customers.list(params={"starting_after": newest_first[1], "limit": 1})
    assert [customer.id for customer in after.data] == [newest_first[2]]
    before = client.v1.customers.list(params={"ending_before": newest_first[2]})
    assert [customer.id for customer in before.data] == newest_first[:2]
    twins = client.v1.customers.list(params={"email": "twin@example.com"})
    assert [customer.id for customer in twins.data] == [made[3].id, made[1].id]
    assert client.v1.customers.list(params={"email": "nobody@example.com"}).data == []
    error = _invalid(lambda: client.v1.customers.list(params={"starting_after": "cus_nope"}))
    assert (error.http_status, error.code, error.param) == (
        400,
        "resource_missing",
        "starting_after",
    )


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        pytest.param({"email": "not-an-email"}, "email_invalid", "email", id="email"),
        pytest.param({"email": ""}, None, None, id="empty-email-is-no-email"),
        pytest.param({"colour": "red"}, "parameter_unknown", "colour", id="unknown"),
        pytest.param({"phone": "1" * 21}, "parameter_invalid", "phone", id="long-phone"),
        pytest.param({"name": {"first": "a"}}, "parameter_invalid", "name", id="hash-name"),
        pytest.param(
            {"metadata": {"k" * 41: "v"}},
            "parameter_invalid",
            "metadata[" + "k" * 41 + "]",
            id="long-metadata-key",
        ),
        pytest.param({"expand": ["default_source"]}, "parameter_invalid", "expand", id="expand"),
    ],
)
def test_bad_parameters(
    client: stripe.StripeClient, params: dict[str, Any], code: str | None, param: str | None
) -> None:
    if code is None:
        assert client.v1.customers.create(params=params).email is None  # type: ignore[arg-type]
        return
    error = _invalid(lambda: client.v1.customers.create(params=params))  # type: ignore[arg-type]
    assert (error.http_status, error.code, error.param) == (400, code, param)


def test_an_unknown_customer_is_404_on_every_route(client: stripe.StripeClient) -> None:
    for call in (
        lambda: client.v1.customers.retrieve("cus_nope"),
        lambda: client.v1.customers.update("cus_nope", params={"name": "x"}),
        lambda: client.v1.customers.delete("cus_nope"),
    ):
        error = _invalid(call)
        assert (error.http_status, error.code, error.param) == (404, "resource_missing", "id")
        assert error.user_message == "No such customer: 'cus_nope'"


def test_customer_events_in_order_with_previous_attributes(
    server: PaysimServer, client: stripe.StripeClient, sim: Simulator, handle: Paysim
) -> None:
    customer = client.v1.customers.create(
        params={"email": "a@example.com", "metadata": {"k": "v"}},
        options={"idempotency_key": "make-ada"},
    )
    replay = client.v1.customers.create(
        params={"email": "a@example.com", "metadata": {"k": "v"}},
        options={"idempotency_key": "make-ada"},
    )
    assert replay.id == customer.id
    client.v1.customers.update(customer.id, params={"email": "a@example.com"})  # no change
    client.v1.customers.update(customer.id, params={"name": "Ada", "metadata": {"k": "w"}})
    client.v1.customers.delete(customer.id)
    assert [event.type for event in sim.events_of(customer.id)] == [
        "customer.created",
        "customer.updated",
        "customer.deleted",
    ]
    events = client.v1.events.list(params={"limit": 3}).data
    deleted, updated, created = events
    assert [created.type, updated.type, deleted.type] == [
        "customer.created",
        "customer.updated",
        "customer.deleted",
    ]
    assert created.data.object.email == "a@example.com"
    assert created.request.idempotency_key == "make-ada"
    assert "previous_attributes" not in created.data
    assert updated.data.object.name == "Ada"
    assert updated.data.previous_attributes.to_dict() == {"name": None, "metadata": {"k": "v"}}
    assert deleted.data.object.id == customer.id
    assert deleted.data.object.name == "Ada"  # the customer as it was, as at Stripe
    only = client.v1.events.list(params={"type": "customer.updated"}).data
    assert [event.id for event in only] == [updated.id]
    handle.webhooks.wait_for("customer.deleted", payment_id=customer.id)
    deliveries = handle.webhooks.filter(payment_id=customer.id)
    assert [delivery.type for delivery in deliveries] == [
        "customer.created",
        "customer.updated",
        "customer.deleted",
    ]
    for delivery in deliveries:
        event = stripe.Webhook.construct_event(
            delivery.body.decode(), delivery.headers["Stripe-Signature"], server.webhook_secret
        )
        assert event.data.object.id == customer.id


def test_an_intent_names_a_customer_that_exists(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "buyer@example.com"})
    base = {"amount": 2000, "currency": "usd"}
    error = _invalid(
        lambda: client.v1.payment_intents.create(params={**base, "customer": "cus_nope"})  # type: ignore[typeddict-item]
    )
    assert (error.http_status, error.code, error.param) == (400, "resource_missing", "customer")
    assert error.user_message == "No such customer: 'cus_nope'"
    intent = client.v1.payment_intents.create(
        params={**base, "customer": customer.id, "expand": ["customer"]}  # type: ignore[typeddict-item]
    )
    assert intent.customer.id == customer.id
    assert intent.customer.email == "buyer@example.com"
    assert set(intent.customer.to_dict()) >= set(FIXTURE_KEYS["customer"])
    plain = client.v1.payment_intents.retrieve(intent.id)
    assert plain.customer == customer.id
    expanded = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["customer"]})
    assert expanded.customer.to_dict() == intent.customer.to_dict()
    error = _invalid(
        lambda: client.v1.payment_intents.update(intent.id, params={"customer": "cus_nope"})
    )
    assert (error.http_status, error.code, error.param) == (400, "resource_missing", "customer")
    unset = client.v1.payment_intents.update(intent.id, params={"customer": ""})
    assert unset.customer is None
    again = client.v1.payment_intents.update(
        intent.id, params={"customer": customer.id, "expand": ["customer"]}
    )
    assert again.customer.id == customer.id
    confirmed = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa", "expand": ["customer"]}
    )
    assert (confirmed.status, confirmed.customer.id) == ("succeeded", customer.id)
    charge = client.v1.charges.retrieve(confirmed.latest_charge)
    assert charge.customer == customer.id
    client.v1.customers.delete(customer.id)
    gone = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["customer"]})
    assert gone.customer.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}
    error = _invalid(
        lambda: client.v1.payment_intents.create(params={**base, "customer": customer.id})  # type: ignore[typeddict-item]
    )
    assert (error.http_status, error.code, error.param) == (400, "resource_missing", "customer")


def test_a_failure_inside_a_delete_changes_nothing() -> None:
    """A store write that fails half-way through a delete (the customer already saved as
    deleted, its payment methods not yet detached) takes everything back: the customer is
    still there, its method still attached, and no event was made."""
    with PaysimServer(seed=9) as server:
        sim = server.simulator
        assert sim is not None
        client = stripe.StripeClient(
            server.api_key, base_addresses={"api": server.stripe_url}, max_network_retries=0
        )
        customer = client.v1.customers.create(params={"name": "Kept"})
        method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
        store = sim._store
        real = store.save_payment_method
        calls = {"left": 0}

        def failing(*args: Any, **kwargs: Any) -> None:
            if calls["left"] == 0:
                raise RuntimeError("the disk is full (planted)")
            calls["left"] -= 1
            real(*args, **kwargs)

        store.save_payment_method = failing  # type: ignore[method-assign]
        try:
            with pytest.raises(stripe.APIError) as raised:
                client.v1.customers.delete(customer.id)  # fails after saving the customer
            assert raised.value.http_status == 500
            calls["left"] = 1  # the new method of the test id is saved, its attach fails
            with pytest.raises(stripe.APIError):
                client.v1.payment_methods.attach(
                    "pm_card_mastercard", params={"customer": customer.id}
                )
        finally:
            store.save_payment_method = real  # type: ignore[method-assign]
        assert client.v1.customers.retrieve(customer.id).name == "Kept"
        assert client.v1.payment_methods.retrieve(method.id).customer == customer.id
        listed = client.v1.payment_methods.list(params={"customer": customer.id})
        assert [item.id for item in listed.data] == [method.id]  # no half-made mastercard
        assert [event.type for event in sim.events_of(customer.id)] == ["customer.created"]
        assert len(sim.unexpected_errors()) == 2


@pytest.fixture
def global_stripe(server: PaysimServer, handle: Paysim) -> Iterator[None]:
    saved = stripe.api_key, stripe.api_base, stripe.max_network_retries
    stripe.api_key, stripe.api_base, stripe.max_network_retries = (
        server.api_key,
        server.stripe_url,
        0,
    )
    yield
    stripe.api_key, stripe.api_base, stripe.max_network_retries = saved


@pytest.mark.usefixtures("global_stripe")
def test_the_global_module_style() -> None:
    customer = stripe.Customer.create(email="g@example.com", metadata={"a": "1"})
    assert stripe.Customer.retrieve(customer.id).email == "g@example.com"
    modified = stripe.Customer.modify(customer.id, name="Grace", metadata={"a": ""})
    assert (modified.name, modified.metadata.to_dict()) == ("Grace", {})
    assert [item.id for item in stripe.Customer.list(email="g@example.com").data] == [customer.id]
    method = stripe.PaymentMethod.create(
        type="card", card={"number": "4242424242424242", "exp_month": 12, "exp_year": 2034}
    )
    attached = stripe.PaymentMethod.attach(method.id, customer=customer.id)
    assert attached.customer == customer.id
    listed = stripe.PaymentMethod.list(customer=customer.id, type="card")
    assert [item.id for item in listed.data] == [method.id]
    intent = stripe.PaymentIntent.create(
        amount=1500,
        currency="usd",
        customer=customer.id,
        payment_method=method.id,
        confirm=True,
        expand=["customer", "payment_method"],
    )
    assert intent.status == "succeeded"
    assert (intent.customer.name, intent.payment_method.customer) == ("Grace", customer.id)
    refund = stripe.Refund.create(payment_intent=intent.id, amount=500)
    assert [item.id for item in stripe.Refund.list(payment_intent=intent.id).data] == [refund.id]
    assert stripe.PaymentMethod.detach(method.id).customer is None
    deleted = stripe.Customer.delete(customer.id)
    assert deleted.deleted is True


def test_raw_http_answers_in_stripes_shape(server: PaysimServer, handle: Paysim) -> None:
    auth = (server.api_key, "")
    made = requests.post(
        server.stripe_url + "/v1/customers",
        data={"email": "raw@example.com", "metadata[order]": "42"},
        auth=auth,
        timeout=5,
    )
    assert made.status_code == 200
    assert made.headers["Request-Id"].startswith("req_")
    body = made.json()
    assert (body["email"], body["metadata"]) == ("raw@example.com", {"order": "42"})
    gone = requests.delete(server.stripe_url + f"/v1/customers/{body['id']}", auth=auth, timeout=5)
    assert gone.json() == {"id": body["id"], "object": "customer", "deleted": True}
    wrong = requests.put(server.stripe_url + f"/v1/customers/{body['id']}", auth=auth, timeout=5)
    assert wrong.status_code == 404
    assert wrong.json()["error"]["type"] == "invalid_request_error"

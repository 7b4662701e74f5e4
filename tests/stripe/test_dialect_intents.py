"""The Stripe dialect's routes through the official SDK, on a real server: each state.

Payment intents from creation to refund, 3-D Secure through the core's ``authenticate``,
charges and refunds, lists, ``expand[]``, and the global-module style of the SDK.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import stripe
from dialect_support import make_client

from pytest_paysim.core.simulator import Simulator
from pytest_paysim.errors import PaymentUnexpectedState, ResourceMissing
from pytest_paysim.handle import Paysim
from pytest_paysim.server import PaysimServer


def _create(client: stripe.StripeClient, **params: object) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={"amount": 2000, "currency": "usd", **params}  # type: ignore[typeddict-item]
    )


def test_create_retrieve_and_the_ids_of_the_dialect(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    intent = _create(
        client,
        description="order 42",
        metadata={"order": "42"},
        customer=customer.id,
        receipt_email="a@example.com",
        payment_method_types=["card"],
    )
    assert intent.id.startswith("pi_")
    assert intent.object == "payment_intent"
    assert intent.status == "requires_payment_method"
    assert intent.client_secret.startswith(intent.id + "_secret_")
    assert isinstance(intent.created, int)
    assert intent.metadata.to_dict() == {"order": "42"}
    assert (intent.customer, intent.receipt_email) == (customer.id, "a@example.com")
    assert intent.livemode is False
    again = client.v1.payment_intents.retrieve(intent.id)
    assert again.to_dict() == intent.to_dict()


def test_automatic_capture_succeeds_with_one_charge(client: stripe.StripeClient) -> None:
    intent = _create(client, payment_method="pm_card_visa")
    assert intent.status == "requires_confirmation"
    intent = client.v1.payment_intents.confirm(intent.id)
    assert intent.status == "succeeded"
    assert intent.amount_received == 2000
    assert isinstance(intent.latest_charge, str)
    assert intent.latest_charge.startswith("ch_")
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.status, charge.paid, charge.captured) == ("succeeded", True, True)
    assert (charge.amount, charge.amount_captured) == (2000, 2000)
    assert charge.payment_intent == intent.id
    assert charge.payment_method == "pm_card_visa"
    assert charge.payment_method_details.card.last4 == "4242"


def test_confirm_on_create_and_automatic_async(client: stripe.StripeClient) -> None:
    intent = _create(
        client, confirm=True, payment_method="pm_card_mastercard", capture_method="automatic_async"
    )
    assert intent.status == "succeeded"
    assert intent.capture_method == "automatic_async"


def test_manual_capture_then_partial_capture(client: stripe.StripeClient) -> None:
    intent = _create(client, capture_method="manual", confirm=True, payment_method="pm_card_visa")
    assert intent.status == "requires_capture"
    assert intent.amount_capturable == 2000
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.captured, charge.amount_captured) == (False, 0)
    intent = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1500})
    assert intent.status == "succeeded"
    assert (intent.amount_received, intent.amount_capturable) == (1500, 0)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.captured, charge.amount_captured) == (True, 1500)


def test_cancel_sets_canceled_at_and_reason(client: stripe.StripeClient) -> None:
    intent = _create(client)
    canceled = client.v1.payment_intents.cancel(
        intent.id, params={"cancellation_reason": "requested_by_customer"}
    )
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "requested_by_customer"
    assert isinstance(canceled.canceled_at, int)


def test_cancel_an_authorization(client: stripe.StripeClient) -> None:
    intent = _create(client, capture_method="manual", confirm=True, payment_method="pm_card_visa")
    canceled = client.v1.payment_intents.cancel(intent.id)
    assert (canceled.status, canceled.amount_capturable) == ("canceled", 0)


def test_update_before_confirmation_merges_metadata(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    intent = _create(client, metadata={"a": "1", "b": "2"})
    updated = client.v1.payment_intents.update(
        intent.id,
        params={
            "amount": 3100,
            "currency": "eur",
            "description": "new",
            "metadata": {"a": "", "c": "3"},
            "payment_method": "pm_card_amex",
            "customer": customer.id,
            "receipt_email": "b@example.com",
        },
    )
    assert (updated.amount, updated.currency, updated.description) == (3100, "eur", "new")
    assert updated.metadata.to_dict() == {"b": "2", "c": "3"}
    assert (updated.payment_method, updated.customer) == ("pm_card_amex", customer.id)
    assert updated.receipt_email == "b@example.com"
    assert updated.status == "requires_confirmation"
    confirmed = client.v1.payment_intents.confirm(updated.id)
    assert (confirmed.status, confirmed.amount_received) == ("succeeded", 3100)


def test_three_d_secure_then_authenticate_in_the_core(
    client: stripe.StripeClient, sim: Simulator
) -> None:
    intent = _create(
        client,
        confirm=True,
        payment_method="pm_card_authenticationRequired",
        return_url="https://shop.example/back",
    )
    assert intent.status == "requires_action"
    assert intent.next_action.type == "redirect_to_url"
    assert intent.next_action.redirect_to_url.return_url == "https://shop.example/back"
    assert intent.next_action.redirect_to_url.url.startswith("http")
    assert intent.latest_charge is None
    sim.authenticate(intent.id)
    done = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge"]})
    assert done.status == "succeeded"
    assert done.latest_charge.status == "succeeded"
    assert done.next_action is None


def test_three_d_secure_failed_authentication(client: stripe.StripeClient, sim: Simulator) -> None:
    intent = _create(client, confirm=True, payment_method="pm_card_authenticationRequired")
    sim.authenticate(intent.id, outcome="fail")
    failed = client.v1.payment_intents.retrieve(intent.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.code == "payment_intent_authentication_failure"
    assert failed.payment_method is None


def test_the_handle_authenticates_an_intent(client: stripe.StripeClient, handle: Paysim) -> None:
    intent = _create(client, confirm=True, payment_method="pm_card_authenticationRequired")
    done = handle.authenticate(intent.id)
    assert (done["object"], done["id"], done["status"]) == (
        "payment_intent",
        intent.id,
        "succeeded",
    )
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    with pytest.raises(PaymentUnexpectedState):
        handle.authenticate(intent.id)
    with pytest.raises(ResourceMissing):
        handle.authenticate("pi_missing")
    other = _create(client, confirm=True, payment_method="pm_card_authenticationRequired")
    failed = handle.authenticate(other.id, outcome="fail")
    assert failed["status"] == "requires_payment_method"
    assert failed["last_payment_error"]["code"] == "payment_intent_authentication_failure"


def test_three_d_secure_hosted_page_is_served_for_an_intent(
    client: stripe.StripeClient,
) -> None:
    intent = _create(client, confirm=True, payment_method="pm_card_authenticationRequired")
    page = requests.get(intent.next_action.redirect_to_url.url, timeout=5)
    assert page.status_code == 200


def test_refunds_partial_then_the_rest(client: stripe.StripeClient) -> None:
    intent = _create(client, confirm=True, payment_method="pm_card_visa")
    first = client.v1.refunds.create(
        params={
            "payment_intent": intent.id,
            "amount": 500,
            "reason": "requested_by_customer",
            "metadata": {"ticket": "7"},
        }
    )
    assert first.id.startswith("re_")
    assert (first.status, first.amount, first.charge) == ("succeeded", 500, intent.latest_charge)
    assert first.metadata.to_dict() == {"ticket": "7"}
    rest = client.v1.refunds.create(params={"charge": intent.latest_charge})
    assert rest.amount == 1500
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (2000, True)
    assert [item.id for item in charge.refunds.data] == [rest.id, first.id]
    got = client.v1.refunds.retrieve(first.id, params={"expand": ["charge", "payment_intent"]})
    assert got.charge.id == intent.latest_charge
    assert got.payment_intent.id == intent.id
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_forced_refund_failure(client: stripe.StripeClient, handle: Paysim) -> None:
    intent = _create(client, confirm=True, payment_method="pm_card_visa")
    handle.force_refund_outcome("fail")
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})
    assert refund.status == "failed"
    assert refund.failure_reason == "unknown"
    assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 0


def test_forced_outcome_applies_to_a_confirmation(
    client: stripe.StripeClient, handle: Paysim
) -> None:
    intent = _create(client, payment_method="pm_card_visa")
    handle.force_outcome("fail", payment_id=intent.id, decline_code="insufficient_funds")
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.confirm(intent.id)
    assert raised.value.error.decline_code == "insufficient_funds"


def test_expand_latest_charge_and_payment_method(client: stripe.StripeClient) -> None:
    intent = _create(client, confirm=True, payment_method="pm_card_visa")
    expanded = client.v1.payment_intents.retrieve(
        intent.id, params={"expand": ["latest_charge", "payment_method"]}
    )
    assert expanded.latest_charge.object == "charge"
    assert expanded.payment_method.object == "payment_method"
    assert expanded.payment_method.card.brand == "visa"


def test_a_second_attempt_after_a_decline_makes_a_second_charge(
    client: stripe.StripeClient,
) -> None:
    intent = _create(client)
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_chargeDeclined"}
        )
    intent = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert intent.status == "succeeded"
    assert intent.last_payment_error is None
    charges = client.v1.charges.list(params={"payment_intent": intent.id})
    assert [charge.status for charge in charges.data] == ["succeeded", "failed"]


def test_lists_are_newest_first_and_page(client: stripe.StripeClient) -> None:
    cus_a, cus_b = client.v1.customers.create().id, client.v1.customers.create().id
    made = [_create(client, customer=cus_a if n % 2 else cus_b) for n in range(5)]
    newest_first = [intent.id for intent in reversed(made)]
    page = client.v1.payment_intents.list(params={"limit": 2})
    assert [intent.id for intent in page.data] == newest_first[:2]
    assert page.has_more is True
    walked = [intent.id for intent in page.auto_paging_iter()]
    assert walked == newest_first
    before = client.v1.payment_intents.list(params={"ending_before": newest_first[3]})
    assert [intent.id for intent in before.data] == newest_first[:3]
    of_a = client.v1.payment_intents.list(params={"customer": cus_a})
    assert [intent.id for intent in of_a.data] == [made[3].id, made[1].id]


def test_charges_list(client: stripe.StripeClient) -> None:
    one = _create(client, confirm=True, payment_method="pm_card_visa")
    two = _create(client, confirm=True, payment_method="pm_card_amex")
    listed = client.v1.charges.list()
    assert [charge.id for charge in listed.data] == [two.latest_charge, one.latest_charge]


def test_native_and_dialect_ids_do_not_cross(
    client: stripe.StripeClient, server: PaysimServer, handle: Paysim, sim: Simulator
) -> None:
    intent = _create(client)
    native = server.client.get(f"/v1/payments/{intent.id}")
    assert native.status_code == 404
    payment = handle.create_payment(amount=100, currency="usd")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.retrieve(payment["id"])
    assert raised.value.http_status == 404
    native_list = server.client.get("/v1/events").json()["data"]
    assert {event["type"] for event in native_list} == {"payment.created"}
    native_payments = server.client.get("/v1/payments").json()["data"]
    assert [item["id"] for item in native_payments] == [payment["id"]]
    paid = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    refund = client.v1.refunds.create(params={"payment_intent": paid.id})
    assert server.client.get(f"/v1/refunds/{refund.id}").status_code == 404
    everything, _ = sim.payments(limit=10)
    assert {item.id for item in everything} == {intent.id, payment["id"]}


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
    intent = stripe.PaymentIntent.create(
        amount=1000, currency="usd", payment_method="pm_card_visa", capture_method="manual"
    )
    intent = intent.confirm()
    assert intent.status == "requires_capture"
    intent = intent.capture()
    assert intent.status == "succeeded"
    refund = stripe.Refund.create(payment_intent=intent.id, amount=100)
    assert refund.status == "succeeded"
    assert stripe.Charge.retrieve(intent.latest_charge).amount_refunded == 100
    listed = stripe.PaymentIntent.list(limit=1)
    assert listed.data[0].id == intent.id
    event = stripe.Event.list(limit=1).data[0]
    assert stripe.Event.retrieve(event.id).type == event.type


def test_make_client_with_retries_is_the_same_dialect(server: PaysimServer, handle: Paysim) -> None:
    client = make_client(server, retries=2)
    assert _create(client).status == "requires_payment_method"

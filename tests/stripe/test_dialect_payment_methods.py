"""The Stripe dialect's PaymentMethods through the official SDK, on a real server: cards of
SPEC section 9 made into ``pm_`` methods that pay as their card does, the test ids, attach,
detach and list, and the rules on whose method an intent may use."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe
from make_fixture_keys import KEYS

from pytest_paysim.core.simulator import Simulator
from pytest_paysim.handle import Paysim

FIXTURE_KEYS: dict[str, list[str]] = json.loads(KEYS.read_text(encoding="utf-8"))["resources"]


def _card(client: stripe.StripeClient, number: str, **card: Any) -> stripe.PaymentMethod:
    return client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, **card},
        }
    )


def _invalid(call: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        call()
    return raised.value


def _intent(client: stripe.StripeClient, **params: Any) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd", **params})


@pytest.mark.parametrize(
    ("number", "brand", "last4"),
    [
        pytest.param("4242 4242 4242 4242", "visa", "4242", id="visa-with-spaces"),
        pytest.param("5555-5555-5555-4444", "mastercard", "4444", id="mastercard-with-dashes"),
        pytest.param("378282246310005", "amex", "0005", id="amex"),
        pytest.param("6011111111111117", "discover", "1117", id="discover"),
    ],
)
def test_create_and_retrieve_a_card(
    client: stripe.StripeClient, number: str, brand: str, last4: str
) -> None:
    method = _card(client, number, cvc="123", exp_month=7, exp_year=31)
    assert method.id.startswith("pm_")
    assert method.object == "payment_method"
    assert set(method.to_dict()) >= set(FIXTURE_KEYS["payment_method"])
    assert (method.type, method.customer, method.livemode) == ("card", None, False)
    assert (method.card.brand, method.card.last4) == (brand, last4)
    assert (method.card.exp_month, method.card.exp_year) == (7, 2031)
    assert isinstance(method.created, int)
    assert client.v1.payment_methods.retrieve(method.id).to_dict() == method.to_dict()


def test_the_test_ids_exist_without_being_created(client: stripe.StripeClient) -> None:
    visa = client.v1.payment_methods.retrieve("pm_card_visa")
    assert (visa.id, visa.card.brand, visa.card.last4, visa.customer) == (
        "pm_card_visa",
        "visa",
        "4242",
        None,
    )
    assert set(visa.to_dict()) >= set(FIXTURE_KEYS["payment_method"])
    amex = client.v1.payment_methods.retrieve("pm_card_amex")
    assert amex.card.brand == "amex"
    error = _invalid(lambda: client.v1.payment_methods.retrieve("pm_nope"))
    assert (error.http_status, error.code, error.param) == (404, "resource_missing", "id")
    assert error.user_message == "No such PaymentMethod: 'pm_nope'"


@pytest.mark.parametrize(
    ("card", "code", "param"),
    [
        pytest.param({"number": "4242424242424241"}, "incorrect_number", "card[number]", id="luhn"),
        pytest.param({"number": "4242"}, "incorrect_number", "card[number]", id="short"),
        pytest.param({"exp_month": 13}, "invalid_expiry_month", "card[exp_month]", id="month"),
        pytest.param({"exp_year": 2001}, "invalid_expiry_year", "card[exp_year]", id="past"),
        pytest.param({"cvc": "12"}, "invalid_cvc", "card[cvc]", id="cvc"),
    ],
)
def test_a_card_stripe_refuses_is_a_card_error(
    client: stripe.StripeClient, card: dict[str, Any], code: str, param: str
) -> None:
    with pytest.raises(stripe.CardError) as raised:
        _card(client, **{"number": "4242424242424242", **card})
    assert (raised.value.http_status, raised.value.code, raised.value.param) == (402, code, param)


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        pytest.param(
            {"card": {"number": "4242424242424242"}}, "parameter_missing", "type", id="type"
        ),
        pytest.param(
            {"type": "sepa_debit", "card": {}}, "parameter_invalid", "type", id="bad-type"
        ),
        pytest.param({"type": "card"}, "parameter_missing", "card", id="card"),
        pytest.param(
            {"type": "card", "card": {"exp_month": "1", "exp_year": "2030"}},
            "parameter_missing",
            "card[number]",
            id="number",
        ),
        pytest.param(
            {"type": "card", "card": {"number": "4242424242424242", "exp_year": "2030"}},
            "parameter_missing",
            "card[exp_month]",
            id="exp-month",
        ),
        pytest.param(
            {
                "type": "card",
                "card": {"number": "4242424242424242", "exp_month": "x", "exp_year": "2030"},
            },
            "parameter_invalid_integer",
            "card[exp_month]",
            id="month-not-a-number",
        ),
        pytest.param(
            {"type": "card", "card": {"number": "4242424242424242", "colour": "red"}},
            "parameter_unknown",
            "card[colour]",
            id="unknown-card-field",
        ),
        pytest.param(
            {"type": "card", "card": "4242"}, "parameter_invalid", "card", id="not-a-hash"
        ),
    ],
)
def test_bad_parameters_of_a_create(
    client: stripe.StripeClient, params: dict[str, Any], code: str, param: str
) -> None:
    error = _invalid(lambda: client.v1.payment_methods.create(params=params))  # type: ignore[arg-type]
    assert (error.http_status, error.code, error.param) == (400, code, param)


DECLINING = [
    ("4000000000000002", "card_declined", "generic_decline"),
    ("4000000000009995", "card_declined", "insufficient_funds"),
    ("4000000000009987", "card_declined", "lost_card"),
    ("4000000000009979", "card_declined", "stolen_card"),
    ("4000000000000069", "expired_card", "expired_card"),
    ("4000000000000127", "incorrect_cvc", "incorrect_cvc"),
    ("4000000000000119", "processing_error", "processing_error"),
    ("4100000000000019", "card_declined", "fraudulent"),
]


@pytest.mark.parametrize(
    ("number", "code", "decline_code"), [pytest.param(*row, id=row[2]) for row in DECLINING]
)
def test_a_created_method_declines_as_its_card(
    client: stripe.StripeClient, number: str, code: str, decline_code: str
) -> None:
    method = _card(client, number)
    intent = _intent(client)
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": method.id})
    error = raised.value
    assert (error.http_status, error.code, error.error.decline_code) == (402, code, decline_code)
    assert error.error.payment_method.id == method.id
    assert error.error.payment_method.card.last4 == number[-4:]
    after = client.v1.payment_intents.retrieve(intent.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.payment_method.id == method.id
    charge = client.v1.charges.retrieve(error.error.charge)
    assert (charge.status, charge.payment_method) == ("failed", method.id)
    assert charge.payment_method_details.card.last4 == number[-4:]


def test_a_created_method_that_succeeds_shows_its_card_on_the_charge(
    client: stripe.StripeClient,
) -> None:
    method = _card(client, "5555555555554444", exp_month=3, exp_year=2031)
    intent = _intent(
        client, payment_method=method.id, confirm=True, expand=["payment_method", "latest_charge"]
    )
    assert intent.status == "succeeded"
    assert intent.payment_method.id == method.id
    assert intent.payment_method.to_dict() == method.to_dict()
    card = intent.latest_charge.payment_method_details.card
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == (
        "mastercard",
        "4444",
        3,
        2031,
    )
    assert intent.latest_charge.payment_method == method.id


@pytest.mark.parametrize(
    ("number", "after"),
    [
        pytest.param("4000002760003184", "succeeded", id="authenticates"),
        pytest.param("4000002500003155", "succeeded", id="authenticates-too"),
        pytest.param("4000008260003178", "requires_payment_method", id="declines-after"),
    ],
)
def test_a_created_three_d_secure_card_asks_for_authentication(
    client: stripe.StripeClient, sim: Simulator, number: str, after: str
) -> None:
    method = _card(client, number)
    intent = _intent(client, payment_method=method.id, confirm=True)
    assert intent.status == "requires_action"
    assert intent.next_action.type == "redirect_to_url"
    sim.authenticate(intent.id)
    done = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge"]})
    assert done.status == after
    if after == "requires_payment_method":
        assert done.last_payment_error.decline_code == "insufficient_funds"
        assert done.last_payment_error.payment_method.id == method.id
    else:
        assert done.latest_charge.payment_method_details.card.three_d_secure is not None


def test_attach_detach_and_list(client: stripe.StripeClient) -> None:
    ada = client.v1.customers.create(params={"name": "Ada"})
    first = _card(client, "4242424242424242")
    second = _card(client, "5555555555554444")
    attached = client.v1.payment_methods.attach(first.id, params={"customer": ada.id})
    assert attached.customer == ada.id
    assert client.v1.payment_methods.retrieve(first.id).customer == ada.id
    again = client.v1.payment_methods.attach(first.id, params={"customer": ada.id})
    assert again.to_dict() == attached.to_dict()
    client.v1.payment_methods.attach(second.id, params={"customer": ada.id})
    listed = client.v1.payment_methods.list(params={"customer": ada.id, "type": "card"})
    assert [method.id for method in listed.data] == [second.id, first.id]
    assert listed.url == "/v1/payment_methods"
    page = client.v1.payment_methods.list(params={"customer": ada.id, "limit": 1})
    assert page.has_more is True
    assert [method.id for method in page.auto_paging_iter()] == [second.id, first.id]
    detached = client.v1.payment_methods.detach(second.id)
    assert detached.customer is None
    listed = client.v1.payment_methods.list(params={"customer": ada.id})
    assert [method.id for method in listed.data] == [first.id]
    everything = client.v1.payment_methods.list()
    assert [method.id for method in everything.data] == [second.id, first.id]
    error = _invalid(lambda: client.v1.payment_methods.detach(second.id))
    assert (error.http_status, error.param) == (400, None)
    assert "not attached to a customer" in error.user_message


def test_attaching_a_test_id_makes_a_new_method(client: stripe.StripeClient) -> None:
    ada = client.v1.customers.create()
    one = client.v1.payment_methods.attach("pm_card_visa", params={"customer": ada.id})
    two = client.v1.payment_methods.attach("pm_card_visa", params={"customer": ada.id})
    assert one.id.startswith("pm_")
    assert one.id != "pm_card_visa"
    assert one.id != two.id
    assert (one.customer, one.card.last4) == (ada.id, "4242")
    declining = client.v1.payment_methods.attach(
        "pm_card_chargeDeclined", params={"customer": ada.id}
    )
    intent = _intent(client, customer=ada.id)
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": declining.id})
    assert raised.value.error.decline_code == "generic_decline"
    error = _invalid(lambda: client.v1.payment_methods.detach("pm_card_visa"))
    assert error.http_status == 400


def test_errors_of_attach_and_list(client: stripe.StripeClient) -> None:
    ada = client.v1.customers.create()
    bob = client.v1.customers.create()
    method = _card(client, "4242424242424242")
    error = _invalid(
        lambda: client.v1.payment_methods.attach("pm_nope", params={"customer": ada.id})
    )
    assert (error.http_status, error.code, error.param) == (404, "resource_missing", "id")
    error = _invalid(
        lambda: client.v1.payment_methods.attach(method.id, params={"customer": "cus_nope"})
    )
    assert (error.http_status, error.code, error.param) == (400, "resource_missing", "customer")
    error = _invalid(lambda: client.v1.payment_methods.attach(method.id))  # type: ignore[call-arg]
    assert (error.code, error.param) == ("parameter_missing", "customer")
    client.v1.payment_methods.attach(method.id, params={"customer": ada.id})
    error = _invalid(
        lambda: client.v1.payment_methods.attach(method.id, params={"customer": bob.id})
    )
    assert (error.http_status, error.param) == (400, "customer")
    assert "already been attached" in error.user_message
    error = _invalid(lambda: client.v1.payment_methods.list(params={"customer": "cus_nope"}))
    assert (error.http_status, error.code, error.param) == (400, "resource_missing", "customer")
    error = _invalid(lambda: client.v1.payment_methods.list(params={"type": "sepa_debit"}))  # type: ignore[typeddict-item]
    assert (error.code, error.param) == ("parameter_invalid", "type")
    error = _invalid(lambda: client.v1.payment_methods.detach("pm_nope"))
    assert (error.http_status, error.code) == (404, "resource_missing")


def test_deleting_a_customer_detaches_its_methods(client: stripe.StripeClient) -> None:
    ada = client.v1.customers.create()
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": ada.id})
    client.v1.customers.delete(ada.id)
    assert client.v1.payment_methods.retrieve(method.id).customer is None
    error = _invalid(lambda: client.v1.payment_methods.list(params={"customer": ada.id}))
    assert (error.code, error.param) == ("resource_missing", "customer")


def test_an_attached_method_pays_for_its_customer_only(client: stripe.StripeClient) -> None:
    ada = client.v1.customers.create()
    bob = client.v1.customers.create()
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": ada.id})
    error = _invalid(lambda: _intent(client, payment_method=method.id))
    assert (error.http_status, error.param) == (400, "payment_method")
    assert f"belongs to the Customer {ada.id}" in error.user_message
    error = _invalid(lambda: _intent(client, payment_method=method.id, customer=bob.id))
    assert (error.http_status, error.param) == (400, "payment_method")
    assert "does not have a payment method" in error.user_message
    intent = _intent(client, customer=bob.id)
    error = _invalid(
        lambda: client.v1.payment_intents.confirm(intent.id, params={"payment_method": method.id})
    )
    assert error.param == "payment_method"
    error = _invalid(
        lambda: client.v1.payment_intents.update(intent.id, params={"payment_method": method.id})
    )
    assert error.param == "payment_method"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"
    paid = _intent(client, payment_method=method.id, customer=ada.id, confirm=True)
    assert paid.status == "succeeded"
    loose = _card(client, "4242424242424242")
    assert _intent(client, payment_method=loose.id, customer=bob.id, confirm=True).status == (
        "succeeded"
    )


def test_an_unknown_method_on_an_intent_is_resource_missing(client: stripe.StripeClient) -> None:
    error = _invalid(lambda: _intent(client, payment_method="pm_nope"))
    assert (error.http_status, error.code, error.param) == (
        400,
        "resource_missing",
        "payment_method",
    )
    intent = _intent(client)
    error = _invalid(
        lambda: client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_nope"})
    )
    assert (error.http_status, error.code, error.param) == (
        400,
        "resource_missing",
        "payment_method",
    )


def test_payment_methods_are_cleared_by_reset(client: stripe.StripeClient, handle: Paysim) -> None:
    method = _card(client, "4242424242424242")
    handle.reset()
    error = _invalid(lambda: client.v1.payment_methods.retrieve(method.id))
    assert error.http_status == 404
    assert client.v1.payment_methods.list().data == []

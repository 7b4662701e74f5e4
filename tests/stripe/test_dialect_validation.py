"""Values the Stripe dialect refuses, through the official SDK on a real server: each is a 400
in Stripe's shape naming the parameter, and changes nothing (no intent, no event, no change).

``return_url`` and ``metadata[webhook_url]`` (the native API's URL check), ``currency`` (the
core's ISO 4217 list), ``description``, ``receipt_email``, ``payment_method_types[]``,
``metadata`` as a list and over Stripe's limits; ``created`` and ``expand[]`` on the lists.
The hosted pay page of the native API does not serve an intent; the authentication page does.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe

from pytest_paysim.core.simulator import Simulator
from pytest_paysim.server import PaysimServer
from tests.support.pages import hidden_fields

BASE = {"amount": 2000, "currency": "usd"}
BAD_URLS = [
    pytest.param("http://[::1", id="unclosed-ipv6"),
    pytest.param("http://127.0.0.1:99999/x", id="port-out-of-range"),
    pytest.param("http://127.0.0.1:port/x", id="port-not-a-number"),
    pytest.param("javascript:alert(1)", id="javascript"),
    pytest.param("ftp://example.com/x", id="ftp"),
    pytest.param("/shop/return", id="relative"),
    pytest.param("https://exa mple.com/", id="space"),
    pytest.param("https://" + "a" * 64 + ".com/", id="label-too-long"),
]


def _refused(call: Any, *, code: str, param: str) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        call()
    error = raised.value
    assert error.http_status == 400
    assert (error.code, error.param) == (code, param), error.user_message
    assert error.error is not None
    assert error.error.type == "invalid_request_error"
    return error


def _events(client: stripe.StripeClient) -> list[str]:
    return [event.id for event in client.v1.events.list(params={"limit": 100}).data]


def _intents(client: stripe.StripeClient) -> list[str]:
    return [intent.id for intent in client.v1.payment_intents.list(params={"limit": 100}).data]


# -- return_url and metadata[webhook_url] -------------------------------------------------------


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_bad_return_url_is_refused_on_create_and_confirm(
    client: stripe.StripeClient, url: str
) -> None:
    intent = client.v1.payment_intents.create(params=BASE)
    before = _events(client)
    create = {**BASE, "payment_method": "pm_card_visa", "confirm": True, "return_url": url}
    _refused(
        lambda: client.v1.payment_intents.create(params=create),  # type: ignore[arg-type]
        code="parameter_invalid",
        param="return_url",
    )
    _refused(
        lambda: client.v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_visa", "return_url": url}
        ),
        code="parameter_invalid",
        param="return_url",
    )
    assert _intents(client) == [intent.id]
    assert _events(client) == before
    unchanged = client.v1.payment_intents.retrieve(intent.id)
    assert (unchanged.status, unchanged.payment_method) == ("requires_payment_method", None)


def test_a_good_return_url_is_where_authentication_leads(
    client: stripe.StripeClient, server: PaysimServer
) -> None:
    intent = client.v1.payment_intents.create(
        params={
            **BASE,
            "payment_method": "pm_card_authenticationRequired",
            "confirm": True,
            "return_url": "http://[::1]:8080/done?order=7",
        }
    )
    http = requests.Session()
    page = http.get(intent.next_action.redirect_to_url.url, timeout=5)
    assert page.status_code == 200
    form = {**hidden_fields(page.text), "action": "succeed"}
    answer = http.post(page.url.split("?")[0], data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 303
    assert answer.headers["Location"] == (
        f"http://[::1]:8080/done?order=7&payment_id={intent.id}&status=succeeded"
    )


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_bad_metadata_webhook_url_is_refused(client: stripe.StripeClient, url: str) -> None:
    intent = client.v1.payment_intents.create(params=BASE)
    customer = client.v1.customers.create()
    before = _events(client)
    metadata = {"webhook_url": url}
    param = "metadata[webhook_url]"
    _refused(
        lambda: client.v1.payment_intents.create(params={**BASE, "metadata": metadata}),
        code="parameter_invalid",
        param=param,
    )
    _refused(
        lambda: client.v1.payment_intents.update(intent.id, params={"metadata": metadata}),
        code="parameter_invalid",
        param=param,
    )
    _refused(
        lambda: client.v1.customers.create(params={"metadata": metadata}),
        code="parameter_invalid",
        param=param,
    )
    _refused(
        lambda: client.v1.customers.update(customer.id, params={"metadata": metadata}),
        code="parameter_invalid",
        param=param,
    )
    assert _events(client) == before
    assert client.v1.payment_intents.retrieve(intent.id).metadata.to_dict() == {}


# -- the intent's other values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        pytest.param({"currency": "xyz"}, "parameter_invalid", "currency", id="currency"),
        pytest.param({"currency": "us"}, "parameter_invalid", "currency", id="currency-short"),
        pytest.param(
            {"description": "d" * 1001}, "parameter_invalid", "description", id="description"
        ),
        pytest.param(
            {"receipt_email": "not-an-email"}, "email_invalid", "receipt_email", id="email"
        ),
        pytest.param(
            {"receipt_email": "a @example.com"}, "email_invalid", "receipt_email", id="email-space"
        ),
        pytest.param(
            {"payment_method_types": ["card", "sepa_debit"]},
            "parameter_invalid",
            "payment_method_types[1]",
            id="payment-method-type",
        ),
        pytest.param(
            {"metadata": {"k" * 41: "v"}}, "parameter_invalid", f"metadata[{'k' * 41}]", id="key"
        ),
        pytest.param(
            {"metadata": {"k": "v" * 501}}, "parameter_invalid", "metadata[k]", id="value"
        ),
        pytest.param(
            {"metadata": {f"k{n}": "v" for n in range(51)}},
            "parameter_invalid",
            "metadata",
            id="51-keys",
        ),
    ],
)
def test_bad_intent_values_are_400_on_create(
    client: stripe.StripeClient, params: dict[str, Any], code: str, param: str
) -> None:
    before = _events(client)
    _refused(
        lambda: client.v1.payment_intents.create(params={**BASE, **params}),
        code=code,
        param=param,
    )
    assert _intents(client) == []
    assert _events(client) == before


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        pytest.param({"currency": "xyz"}, "parameter_invalid", "currency", id="currency"),
        pytest.param(
            {"description": "d" * 1001}, "parameter_invalid", "description", id="description"
        ),
        pytest.param({"receipt_email": "nobody"}, "email_invalid", "receipt_email", id="email"),
        pytest.param(
            {"metadata": {"k": "v" * 501}}, "parameter_invalid", "metadata[k]", id="metadata"
        ),
    ],
)
def test_bad_intent_values_are_400_on_update(
    client: stripe.StripeClient, params: dict[str, Any], code: str, param: str
) -> None:
    intent = client.v1.payment_intents.create(params={**BASE, "description": "kept"})
    before = _events(client)
    _refused(
        lambda: client.v1.payment_intents.update(intent.id, params=params),
        code=code,
        param=param,
    )
    assert _events(client) == before
    unchanged = client.v1.payment_intents.retrieve(intent.id)
    assert (unchanged.currency, unchanged.description, unchanged.receipt_email) == (
        "usd",
        "kept",
        None,
    )


def test_the_limits_themselves_are_accepted(client: stripe.StripeClient) -> None:
    full = {f"k{n:02}": "v" * 500 for n in range(48)}
    intent = client.v1.payment_intents.create(
        params={
            **BASE,
            "currency": "EUR",  # any case, as the native API takes it
            "description": "d" * 1000,
            "receipt_email": "buyer@example.com",
            "payment_method_types": ["card"],
            "metadata": {**full, "k" * 40: "v", "webhook_url": "https://example.com/hook"},
        }
    )
    assert (intent.currency, len(intent.description or "")) == ("eur", 1000)
    assert len(intent.metadata.to_dict()) == 50
    assert intent.payment_method_types == ["card"]
    updated = client.v1.payment_intents.update(
        intent.id, params={"currency": "jpy", "description": "", "receipt_email": ""}
    )
    assert (updated.currency, updated.description, updated.receipt_email) == ("jpy", None, None)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("metadata[]=x", id="metadata-list"),
        pytest.param("metadata=x", id="metadata-value"),
    ],
)
def test_metadata_that_is_not_a_hash_is_400(
    client: stripe.StripeClient, server: PaysimServer, body: str
) -> None:
    answer = requests.post(
        server.stripe_url + "/v1/payment_intents",
        data=f"amount=2000&currency=usd&{body}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=(server.api_key, ""),
        timeout=5,
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "parameter_invalid",
        "metadata",
    )
    assert _intents(client) == []
    # metadata[0]=x is the key "0", not a list.
    made = client.v1.payment_intents.create(params={**BASE, "metadata": {"0": "x"}})
    assert made.metadata.to_dict() == {"0": "x"}


# -- lists ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "params", "code", "param"),
    [
        pytest.param(
            "payment_intents", {"created": {"gte": 1}}, "parameter_unknown", "created", id="created"
        ),
        pytest.param(
            "payment_intents", {"expand": ["bogus"]}, "parameter_invalid", "expand", id="intents"
        ),
        pytest.param(
            "payment_intents",
            {"expand": ["latest_charge"]},
            "parameter_invalid",
            "expand",
            id="intents-no-data-prefix",
        ),
        pytest.param("charges", {"expand": ["bogus"]}, "parameter_invalid", "expand", id="charges"),
        pytest.param(
            "charges",
            {"expand": ["payment_intent"]},
            "parameter_invalid",
            "expand",
            id="charges-no-data-prefix",
        ),
        pytest.param(
            "refunds", {"expand": ["data.bogus"]}, "parameter_invalid", "expand", id="refunds"
        ),
        pytest.param(
            "customers", {"expand": ["data.x"]}, "parameter_invalid", "expand", id="customers"
        ),
    ],
)
def test_bad_list_parameters_are_400(
    client: stripe.StripeClient, route: str, params: dict[str, Any], code: str, param: str
) -> None:
    _refused(
        lambda: getattr(client.v1, route).list(params=params),
        code=code,
        param=param,
    )


def test_lists_expand_their_items(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    paid = client.v1.payment_intents.create(
        params={**BASE, "customer": customer.id, "payment_method": "pm_card_visa", "confirm": True}
    )
    intents = client.v1.payment_intents.list(
        params={"expand": ["data.latest_charge", "data.customer", "data.payment_method"]}
    )
    [shown] = intents.data
    assert isinstance(shown.latest_charge, stripe.Charge)
    assert shown.latest_charge.id == paid.latest_charge
    assert isinstance(shown.customer, stripe.Customer)
    assert shown.customer.email == "a@example.com"
    assert isinstance(shown.payment_method, stripe.PaymentMethod)
    charges = client.v1.charges.list(params={"expand": ["data.payment_intent"]})
    [charge] = charges.data
    assert isinstance(charge.payment_intent, stripe.PaymentIntent)
    assert charge.payment_intent.id == paid.id
    plain = client.v1.charges.list()
    assert plain.data[0].payment_intent == paid.id


# -- the native hosted pages and the dialect's intents ----------------------------------------


def test_the_native_pay_page_does_not_serve_an_intent(
    client: stripe.StripeClient, server: PaysimServer
) -> None:
    intent = client.v1.payment_intents.create(params=BASE)
    assert intent.client_secret is not None
    url = server.url_for(f"/pay/{intent.id}")
    opened = requests.get(url, params={"client_secret": intent.client_secret}, timeout=5)
    assert opened.status_code == 404
    assert "Payment not found" in opened.text
    posted = requests.post(
        url,
        data={"client_secret": intent.client_secret, "token": "A" * 24, "action": "pay"},
        timeout=5,
    )
    assert posted.status_code == 404
    unchanged = client.v1.payment_intents.retrieve(intent.id)
    assert unchanged.status == "requires_payment_method"
    assert client.v1.charges.list().data == []
    # The authentication page (where next_action leads) still serves an intent.
    pending = client.v1.payment_intents.create(
        params={**BASE, "payment_method": "pm_card_authenticationRequired", "confirm": True}
    )
    assert requests.get(pending.next_action.redirect_to_url.url, timeout=5).status_code == 200


def test_a_charge_with_no_payment_method_shows_none(
    client: stripe.StripeClient, sim: Simulator
) -> None:
    """The simulator called directly can pay an intent that has no payment method: its charge
    shows ``payment_method: null``, not an invented card."""
    intent = client.v1.payment_intents.create(params=BASE)
    sim.pay(intent.id, card_number="4242424242424242")
    [charge] = client.v1.charges.list().data
    assert (charge.payment_method, charge.payment_method_details) == (None, None)
    assert charge.status == "succeeded"

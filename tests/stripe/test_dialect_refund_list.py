"""``GET /v1/refunds`` through the official SDK, on a real server: newest first (a frozen clock
too), filtered by payment intent or charge, paged both ways, failed refunds included, the
native API's refunds never shown, and Stripe's errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe
from make_fixture_keys import KEYS

from pytest_paysim.handle import Paysim

FIXTURE_KEYS: dict[str, list[str]] = json.loads(KEYS.read_text(encoding="utf-8"))["resources"]


def _paid(client: stripe.StripeClient, amount: int = 2000) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )


def _refund(client: stripe.StripeClient, intent: stripe.PaymentIntent, amount: int) -> str:
    return client.v1.refunds.create(params={"payment_intent": intent.id, "amount": amount}).id


def _ids(listed: Any) -> list[str]:
    return [refund.id for refund in listed.data]


def test_refunds_newest_first_filtered_and_paged(
    client: stripe.StripeClient, handle: Paysim
) -> None:
    handle.clock.freeze()  # one second for all: the order is still the order they were made
    one, two = _paid(client), _paid(client)
    made = [
        _refund(client, one, 100),
        _refund(client, two, 200),
        _refund(client, one, 300),
        _refund(client, two, 400),
    ]
    handle.force_refund_outcome("fail")
    failed = _refund(client, one, 500)
    newest_first = [failed, *reversed(made)]
    listed = client.v1.refunds.list()
    assert _ids(listed) == newest_first
    assert (listed.object, listed.url, listed.has_more) == ("list", "/v1/refunds", False)
    for refund in listed.data:
        assert set(refund.to_dict()) >= set(FIXTURE_KEYS["refund"])
    assert listed.data[0].status == "failed"
    of_one = client.v1.refunds.list(params={"payment_intent": one.id})
    assert _ids(of_one) == [failed, made[2], made[0]]
    of_charge = client.v1.refunds.list(params={"charge": two.latest_charge})
    assert _ids(of_charge) == [made[3], made[1]]
    both = client.v1.refunds.list(params={"payment_intent": one.id, "charge": two.latest_charge})
    assert both.data == []
    page = client.v1.refunds.list(params={"limit": 2})
    assert (_ids(page), page.has_more) == (newest_first[:2], True)
    assert [refund.id for refund in page.auto_paging_iter()] == newest_first
    after = client.v1.refunds.list(params={"starting_after": newest_first[1], "limit": 2})
    assert (_ids(after), after.has_more) == (newest_first[2:4], True)
    before = client.v1.refunds.list(params={"ending_before": newest_first[3], "limit": 2})
    assert (_ids(before), before.has_more) == (newest_first[1:3], True)


def test_the_list_expands_its_items(client: stripe.StripeClient) -> None:
    intent = _paid(client)
    _refund(client, intent, 700)
    listed = client.v1.refunds.list(
        params={"expand": ["data.charge", "data.payment_intent"]}  # type: ignore[typeddict-item]
    )
    refund = listed.data[0]
    assert (refund.charge.id, refund.charge.amount_refunded) == (intent.latest_charge, 700)
    assert refund.payment_intent.id == intent.id
    plain = client.v1.refunds.list().data[0]
    assert (plain.charge, plain.payment_intent) == (intent.latest_charge, intent.id)


def test_native_refunds_are_not_listed(client: stripe.StripeClient, handle: Paysim) -> None:
    native = handle.create_payment(amount=500, currency="usd")
    handle.pay(native["id"], outcome="succeed")
    handle.refund(native["id"], amount=100)
    assert client.v1.refunds.list().data == []
    intent = _paid(client)
    ours = _refund(client, intent, 100)
    assert _ids(client.v1.refunds.list()) == [ours]


def _invalid(call: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        call()
    return raised.value


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        pytest.param({"payment_intent": "pi_nope"}, "resource_missing", "payment_intent", id="pi"),
        pytest.param({"charge": "ch_nope"}, "resource_missing", "charge", id="charge"),
        pytest.param(
            {"starting_after": "re_nope"}, "resource_missing", "starting_after", id="after"
        ),
        pytest.param(
            {"ending_before": "re_nope"}, "resource_missing", "ending_before", id="before"
        ),
        pytest.param({"limit": "0"}, "parameter_invalid_integer", "limit", id="limit"),
        pytest.param({"limit": "many"}, "parameter_invalid_integer", "limit", id="limit-text"),
        pytest.param({"amount": "5"}, "parameter_unknown", "amount", id="unknown"),
        pytest.param({"expand": ["charge"]}, "parameter_invalid", "expand", id="expand-no-data"),
    ],
)
def test_bad_parameters(
    client: stripe.StripeClient, params: dict[str, Any], code: str, param: str
) -> None:
    error = _invalid(lambda: client.v1.refunds.list(params=params))  # type: ignore[arg-type]
    assert (error.http_status, error.code, error.param) == (400, code, param)

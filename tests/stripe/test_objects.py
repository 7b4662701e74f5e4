"""The Stripe dialect's objects: every key of Stripe's fixtures, readable through the SDK, and
the status table of SPEC section 14."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import stripe
from make_fixture_keys import FIXTURES, KEYS, render

from pytest_paysim.core.transitions import STATUSES
from pytest_paysim.stripe import objects
from pytest_paysim.stripe.cards import TEST_PAYMENT_METHODS
from pytest_paysim.stripe.objects import INTENT_STATUSES, intent_status

CREATED = 1_767_225_600
VISA = TEST_PAYMENT_METHODS["pm_card_visa"]
FIXTURE_KEYS: dict[str, list[str]] = json.loads(KEYS.read_text(encoding="utf-8"))["resources"]


def _intent(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "pi_1",
        "amount": 2000,
        "currency": "usd",
        "created": CREATED,
        "core_status": "requires_payment_method",
        "client_secret": "pi_1_secret_abc",
    }
    return objects.payment_intent(**{**fields, **overrides})


def _charge(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "ch_1",
        "amount": 2000,
        "currency": "usd",
        "created": CREATED,
        "status": "succeeded",
        "card": VISA,
        "payment_method": "pm_1",
        "payment_intent": "pi_1",
        "amount_captured": 2000,
        "captured": True,
    }
    return objects.charge(**{**fields, **overrides})


def _refund(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "re_1",
        "amount": 500,
        "currency": "usd",
        "created": CREATED,
        "status": "succeeded",
        "charge": "ch_1",
        "payment_intent": "pi_1",
    }
    return objects.refund(**{**fields, **overrides})


SAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "payment_intent": _intent,
    "charge": _charge,
    "refund": _refund,
    "payment_method": lambda: objects.payment_method(id="pm_1", created=CREATED, card=VISA),
    "customer": lambda: objects.customer(id="cus_1", created=CREATED, email="a@example.com"),
    "event": lambda: objects.event(
        id="evt_1", type="payment_intent.created", created=CREATED, data_object=_intent()
    ),
    "webhook_endpoint": lambda: objects.webhook_endpoint(
        id="we_1", created=CREATED, url="https://example.com/hook"
    ),
}
"""One object per resource of the fixtures, as the builders make it."""

SDK_CLASSES: dict[str, type[stripe.StripeObject]] = {
    "payment_intent": stripe.PaymentIntent,
    "charge": stripe.Charge,
    "refund": stripe.Refund,
    "payment_method": stripe.PaymentMethod,
    "customer": stripe.Customer,
    "event": stripe.Event,
    "webhook_endpoint": stripe.WebhookEndpoint,
}


def test_the_committed_key_lists_match_the_shared_fixtures() -> None:
    if not FIXTURES.exists():
        pytest.skip(f"no shared fixtures at {FIXTURES}; the committed key lists are used")
    assert KEYS.read_text(encoding="utf-8") == render(
        json.loads(FIXTURES.read_text(encoding="utf-8"))
    ), "run: python tests/stripe/make_fixture_keys.py"


def test_every_fixture_resource_has_a_builder() -> None:
    assert set(FIXTURE_KEYS) == set(SAMPLES)


@pytest.mark.parametrize("resource", sorted(SAMPLES))
def test_builders_carry_every_key_of_the_fixture(resource: str) -> None:
    built = SAMPLES[resource]()
    assert set(built) >= set(FIXTURE_KEYS[resource]), sorted(
        set(FIXTURE_KEYS[resource]) - set(built)
    )
    assert built["object"] == resource
    # ``livemode`` is false wherever Stripe's object has it (a refund has none).
    assert built.get("livemode", False) is False
    assert ("livemode" in built) == ("livemode" in FIXTURE_KEYS[resource])
    assert type(built["created"]) is int
    assert json.loads(json.dumps(built)) == built


@pytest.mark.parametrize("resource", sorted(SAMPLES))
def test_values_are_null_or_of_the_fixtures_kind(resource: str) -> None:
    if not FIXTURES.exists():
        pytest.skip(f"no shared fixtures at {FIXTURES}")
    fixture = json.loads(FIXTURES.read_text(encoding="utf-8"))["resources"][resource]
    built = SAMPLES[resource]()
    for key, example in fixture.items():
        if built[key] is not None and example is not None:
            assert type(built[key]) is type(example), key


@pytest.mark.parametrize("resource", sorted(SAMPLES))
def test_the_sdk_reads_every_key_as_an_attribute(resource: str) -> None:
    built = SAMPLES[resource]()
    for cls in (stripe.StripeObject, SDK_CLASSES[resource]):
        constructed = cls.construct_from(built, "sk_test_x")
        for key in built:
            getattr(constructed, key)  # AttributeError on a missing key
        assert constructed.id == built["id"]


def test_the_sdk_reads_a_list_and_a_deleted_object() -> None:
    page = objects.list_object([_intent(), _intent(id="pi_2")], url="/v1/payment_intents")
    assert page == {
        "object": "list",
        "data": [_intent(), _intent(id="pi_2")],
        "has_more": False,
        "url": "/v1/payment_intents",
    }
    listed = stripe.ListObject.construct_from(page, "sk_test_x")
    assert [item.id for item in listed.data] == ["pi_1", "pi_2"]
    assert isinstance(listed.data[0], stripe.PaymentIntent)
    assert listed.has_more is False
    gone = stripe.Customer.construct_from(objects.deleted("customer", "cus_1"), "sk_test_x")
    assert gone.deleted is True


# -- payment intents and the status table ------------------------------------------------------


SPEC_STATES = [
    pytest.param("requires_payment_method", False, "requires_payment_method", id="new"),
    pytest.param("requires_payment_method", True, "requires_confirmation", id="pm-attached"),
    pytest.param("requires_action", True, "requires_action", id="3ds"),
    pytest.param("authorized", True, "requires_capture", id="authorized"),
    pytest.param("succeeded", True, "succeeded", id="succeeded"),
    pytest.param("captured", True, "succeeded", id="captured"),
    pytest.param("refunded", True, "succeeded", id="refunded"),
    pytest.param("failed", False, "requires_payment_method", id="failed"),
    pytest.param("canceled", False, "canceled", id="canceled"),
]


@pytest.mark.parametrize(("core", "has_pm", "stripe_status"), SPEC_STATES)
def test_spec_states(core: str, has_pm: bool, stripe_status: str) -> None:
    assert intent_status(core, has_payment_method=has_pm) == stripe_status


def test_the_table_covers_every_core_status_with_and_without_a_method() -> None:
    core_statuses = {*STATUSES, "requires_action"}
    assert set(INTENT_STATUSES) == {(s, pm) for s in core_statuses for pm in (False, True)}
    with pytest.raises(ValueError, match="no Stripe status for core status 'lost'"):
        intent_status("lost", has_payment_method=True)


def test_a_new_intent() -> None:
    intent = _intent()
    assert intent["status"] == "requires_payment_method"
    assert intent["next_action"] is None
    assert intent["payment_method_types"] == ["card"]
    assert (intent["amount_capturable"], intent["amount_received"]) == (0, 0)
    assert intent["metadata"] == {}
    assert intent["last_payment_error"] is None


def test_an_intent_needing_authentication_says_where_to_go() -> None:
    intent = _intent(
        core_status="requires_action",
        payment_method="pm_1",
        authentication_url="http://127.0.0.1:1/stripe/authenticate/pi_1",
        return_url="https://shop.example/done",
    )
    assert intent["status"] == "requires_action"
    assert intent["next_action"] == {
        "type": "redirect_to_url",
        "redirect_to_url": {
            "url": "http://127.0.0.1:1/stripe/authenticate/pi_1",
            "return_url": "https://shop.example/done",
        },
    }
    with pytest.raises(ValueError, match="authentication_url"):
        _intent(core_status="requires_action", payment_method="pm_1")


def test_an_intent_shows_expanded_objects_and_copies_what_it_is_given() -> None:
    metadata = {"order": "42"}
    method = objects.payment_method(id="pm_1", created=CREATED, card=VISA)
    intent = _intent(
        core_status="succeeded",
        payment_method=method,
        latest_charge="ch_1",
        metadata=metadata,
        amount_received=2000,
    )
    assert intent["status"] == "succeeded"
    assert intent["payment_method"] == method
    assert intent["payment_method"] is not method
    assert intent["latest_charge"] == "ch_1"
    intent["metadata"]["order"] = "changed"
    assert metadata == {"order": "42"}


def test_a_declined_intent_shows_its_last_payment_error() -> None:
    method = objects.payment_method(id="pm_1", created=CREATED, card=VISA)
    error = objects.last_payment_error(
        code="card_declined",
        decline_code="insufficient_funds",
        message="Your card has insufficient funds.",
        payment_method=method,
        charge="ch_1",
    )
    assert error == {
        "charge": "ch_1",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "message": "Your card has insufficient funds.",
        "payment_method": method,
        "type": "card_error",
    }
    intent = _intent(core_status="failed", last_payment_error=error)
    assert intent["status"] == "requires_payment_method"
    assert intent["last_payment_error"] == error
    sdk_intent = stripe.PaymentIntent.construct_from(intent, "sk_test_x")
    assert sdk_intent.last_payment_error is not None
    assert sdk_intent.last_payment_error.decline_code == "insufficient_funds"


# -- charges, refunds and the rest --------------------------------------------------------------


def test_a_succeeded_charge() -> None:
    refund = _refund()
    charge = _charge(amount_refunded=500, refunds=[refund])
    assert (charge["paid"], charge["captured"], charge["refunded"]) == (True, True, False)
    assert charge["outcome"]["type"] == "authorized"
    assert charge["payment_method_details"]["type"] == "card"
    card = charge["payment_method_details"]["card"]
    assert (card["brand"], card["last4"], card["amount_authorized"]) == ("visa", "4242", 2000)
    assert card["three_d_secure"] is None
    assert charge["refunds"] == {
        "object": "list",
        "data": [refund],
        "has_more": False,
        "url": "/v1/charges/ch_1/refunds",
    }


def test_a_fully_refunded_charge_is_refunded() -> None:
    assert _charge(amount_refunded=2000)["refunded"] is True
    assert _charge(amount_captured=1500, amount_refunded=1500)["refunded"] is True
    assert _charge(amount_captured=0, captured=False)["refunded"] is False


@pytest.mark.parametrize(
    ("decline", "outcome_type", "reason"),
    [
        pytest.param("insufficient_funds", "issuer_declined", "insufficient_funds", id="issuer"),
        pytest.param("fraudulent", "blocked", "highest_risk_level", id="fraud"),
    ],
)
def test_a_failed_charge(decline: str, outcome_type: str, reason: str) -> None:
    charge = _charge(
        status="failed",
        amount_captured=0,
        captured=False,
        failure_code="card_declined",
        failure_message="Your card was declined.",
        decline_code=decline,
    )
    assert charge["paid"] is False
    assert (charge["outcome"]["type"], charge["outcome"]["reason"]) == (outcome_type, reason)
    assert charge["payment_method_details"]["card"]["amount_authorized"] is None
    assert (charge["failure_code"], charge["failure_message"]) == (
        "card_declined",
        "Your card was declined.",
    )


def test_an_authenticated_charge_shows_3ds() -> None:
    card = _charge(three_d_secure=True)["payment_method_details"]["card"]
    assert card["three_d_secure"]["result"] == "authenticated"


def test_a_failed_refund_says_why_and_a_good_one_does_not() -> None:
    assert "failure_reason" not in _refund()
    failed = _refund(status="failed")
    assert failed["failure_reason"] == "unknown"
    assert stripe.Refund.construct_from(failed, "sk_test_x").failure_reason == "unknown"


def test_a_payment_method_shows_its_card() -> None:
    amex = objects.payment_method(
        id="pm_2",
        created=CREATED,
        card=TEST_PAYMENT_METHODS["pm_card_amex"],
        customer="cus_1",
        metadata={"a": "b"},
    )
    card = amex["card"]
    assert (card["brand"], card["display_brand"], card["last4"]) == (
        "amex",
        "american_express",
        "0005",
    )
    assert card["networks"] == {"available": ["amex"], "preferred": None}
    assert (amex["customer"], amex["metadata"], amex["type"]) == ("cus_1", {"a": "b"}, "card")


def test_a_customer() -> None:
    customer = objects.customer(id="cus_1", created=CREATED, name="Ada", phone="+100")
    assert (customer["name"], customer["phone"], customer["email"]) == ("Ada", "+100", None)
    assert customer["invoice_prefix"] == objects.customer(id="cus_1", created=0)["invoice_prefix"]
    assert customer["invoice_prefix"].isalnum()
    assert customer["invoice_prefix"].isupper() or customer["invoice_prefix"].isdigit()


def test_an_event() -> None:
    plain = SAMPLES["event"]()
    assert plain["data"] == {"object": _intent()}
    assert plain["request"] == {"id": None, "idempotency_key": None}
    updated = objects.event(
        id="evt_2",
        type="customer.updated",
        created=CREATED,
        data_object={"id": "cus_1", "object": "customer"},
        previous_attributes={"email": None},
        api_version="2024-06-20",
        request_id="req_1",
        idempotency_key="k1",
        pending_webhooks=1,
    )
    assert updated["data"]["previous_attributes"] == {"email": None}
    assert updated["request"] == {"id": "req_1", "idempotency_key": "k1"}
    assert (updated["api_version"], updated["pending_webhooks"]) == ("2024-06-20", 1)


def test_a_webhook_endpoint_shows_its_secret_only_when_given() -> None:
    assert "secret" not in SAMPLES["webhook_endpoint"]()
    created = objects.webhook_endpoint(
        id="we_1",
        created=CREATED,
        url="https://example.com/hook",
        enabled_events=["payment_intent.succeeded"],
        secret="whsec_abc",
    )
    assert created["secret"] == "whsec_abc"
    assert created["enabled_events"] == ["payment_intent.succeeded"]
    assert created["status"] == "enabled"

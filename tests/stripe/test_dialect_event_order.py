"""The Stripe dialect's events for every transition (SPEC section 14): their names and order,
``data.previous_attributes`` on every update and never on a creation, ``request.id`` and
``request.idempotency_key`` of the call that caused them; and ``GET /v1/events`` with
``type``, ``types[]``, Stripe's ``*`` wildcard and both cursors, through the official SDK."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import stripe

from pytest_paysim.core.simulator import Simulator
from pytest_paysim.handle import Paysim
from pytest_paysim.server import PaysimServer

CREATIONS = {"payment_intent.created", "charge.succeeded", "charge.failed", "refund.created"}
"""Events of a new object: no ``previous_attributes``; every other event has them."""


def _new_events(client: stripe.StripeClient, action: Callable[[], Any]) -> list[stripe.Event]:
    """The events ``action`` caused, oldest first."""
    known = {event.id for event in client.v1.events.list(params={"limit": 100}).data}
    action()
    listed = client.v1.events.list(params={"limit": 100}).data
    return [event for event in reversed(listed) if event.id not in known]


def _request_of(answer: stripe.StripeObject) -> tuple[str, str | None]:
    """The ``Request-Id`` and ``Idempotency-Key`` of the call that answered ``answer``."""
    response = answer.last_response
    assert response is not None
    return response.request_id, response.headers.get("Idempotency-Key")


def _check(
    events: list[stripe.Event], types: list[str], request: tuple[str | None, str | None]
) -> None:
    assert [event.type for event in events] == types
    for event in events:
        data = event.data.to_dict()
        if event.type in CREATIONS:
            assert "previous_attributes" not in data, event.type
        else:
            assert isinstance(data.get("previous_attributes"), dict), event.type
            assert data["previous_attributes"], event.type  # something changed
            for key, old in data["previous_attributes"].items():
                assert data["object"][key] != old, (event.type, key)
        assert (event.request.id, event.request.idempotency_key) == request, event.type
        assert event.pending_webhooks == 0  # no endpoint, no webhook_url: captured only


def _intent(client: stripe.StripeClient, **params: Any) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd", **params})


def test_create(client: stripe.StripeClient) -> None:
    made: list[stripe.PaymentIntent] = []
    events = _new_events(client, lambda: made.append(_intent(client)))
    _check(events, ["payment_intent.created"], _request_of(made[0]))
    assert events[0].data.object.status == "requires_payment_method"


def test_create_with_confirm_names_one_request(client: stripe.StripeClient) -> None:
    made: list[stripe.PaymentIntent] = []
    events = _new_events(
        client,
        lambda: made.append(
            client.v1.payment_intents.create(
                params={
                    "amount": 2000,
                    "currency": "usd",
                    "payment_method": "pm_card_visa",
                    "confirm": True,
                },
                options={"idempotency_key": "create-and-confirm"},
            )
        ),
    )
    _check(
        events,
        ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"],
        (_request_of(made[0])[0], "create-and-confirm"),
    )


def test_confirm_with_automatic_capture(client: stripe.StripeClient) -> None:
    intent = _intent(client, payment_method="pm_card_visa")
    done: list[stripe.PaymentIntent] = []
    events = _new_events(client, lambda: done.append(client.v1.payment_intents.confirm(intent.id)))
    _check(events, ["charge.succeeded", "payment_intent.succeeded"], _request_of(done[0]))
    previous = events[1].data.previous_attributes.to_dict()
    assert previous["status"] == "requires_confirmation"
    assert previous["latest_charge"] is None
    assert events[0].data.object.captured is True


def test_confirm_with_manual_capture_then_capture(client: stripe.StripeClient) -> None:
    intent = _intent(client, payment_method="pm_card_visa", capture_method="manual")
    done: list[stripe.PaymentIntent] = []
    events = _new_events(client, lambda: done.append(client.v1.payment_intents.confirm(intent.id)))
    _check(
        events,
        ["charge.succeeded", "payment_intent.amount_capturable_updated"],
        _request_of(done[0]),
    )
    assert events[1].data.previous_attributes.amount_capturable == 0
    assert events[1].data.object.amount_capturable == 2000
    captured: list[stripe.PaymentIntent] = []
    events = _new_events(
        client,
        lambda: captured.append(
            client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1500})
        ),
    )
    _check(events, ["charge.captured", "payment_intent.succeeded"], _request_of(captured[0]))
    assert events[0].data.previous_attributes.to_dict() == {
        "amount_captured": 0,
        "captured": False,
    }
    assert events[1].data.previous_attributes.status == "requires_capture"


def test_decline(client: stripe.StripeClient) -> None:
    intent = _intent(client)
    raised: list[stripe.CardError] = []

    def confirm() -> None:
        with pytest.raises(stripe.CardError) as error:
            client.v1.payment_intents.confirm(
                intent.id,
                params={"payment_method": "pm_card_chargeDeclinedInsufficientFunds"},
                options={"idempotency_key": "declined"},
            )
        raised.append(error.value)

    events = _new_events(client, confirm)
    _check(
        events,
        ["charge.failed", "payment_intent.payment_failed"],
        (raised[0].request_id, "declined"),
    )
    assert events[0].data.object.failure_code == "card_declined"
    failed = events[1].data
    assert failed.object.last_payment_error.decline_code == "insufficient_funds"
    assert failed.previous_attributes.to_dict()["last_payment_error"] is None


def test_requires_action_then_authentication(
    server: PaysimServer, client: stripe.StripeClient
) -> None:
    intent = _intent(client, payment_method="pm_card_authenticationRequired")
    done: list[stripe.PaymentIntent] = []
    events = _new_events(client, lambda: done.append(client.v1.payment_intents.confirm(intent.id)))
    _check(events, ["payment_intent.requires_action"], _request_of(done[0]))
    assert events[0].data.object.next_action.type == "redirect_to_url"
    assert events[0].data.previous_attributes.status == "requires_confirmation"
    answers: list[requests.Response] = []
    events = _new_events(
        client,
        lambda: answers.append(
            requests.post(
                f"{server.stripe_url}/v1/test_helpers/payment_intents/{intent.id}/authenticate",
                data={"outcome": "succeed"},
                auth=(server.api_key, ""),
                headers={"Idempotency-Key": "3ds"},
                timeout=5,
            )
        ),
    )
    assert answers[0].status_code == 200, answers[0].text
    _check(
        events,
        ["charge.succeeded", "payment_intent.succeeded"],
        (answers[0].headers["Request-Id"], "3ds"),
    )
    assert events[1].data.previous_attributes.status == "requires_action"


def test_events_made_outside_the_api_name_no_request(
    client: stripe.StripeClient, sim: Simulator
) -> None:
    """As the hosted authentication page does: the simulator, no API request."""
    intent = _intent(client, payment_method="pm_card_authenticationRequired", confirm=True)
    events = _new_events(client, lambda: sim.authenticate(intent.id, outcome="fail"))
    _check(events, ["payment_intent.payment_failed"], (None, None))
    error = events[0].data.object.last_payment_error
    assert error.code == "payment_intent_authentication_failure"


def test_cancel(client: stripe.StripeClient) -> None:
    intent = _intent(client)
    done: list[stripe.PaymentIntent] = []
    events = _new_events(
        client,
        lambda: done.append(
            client.v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "abandoned"})
        ),
    )
    _check(events, ["payment_intent.canceled"], _request_of(done[0]))
    previous = events[0].data.previous_attributes.to_dict()
    assert previous["status"] == "requires_payment_method"
    assert previous["canceled_at"] is None
    assert previous["cancellation_reason"] is None


def test_refund(client: stripe.StripeClient) -> None:
    intent = _intent(client, payment_method="pm_card_visa", confirm=True)
    done: list[stripe.Refund] = []
    events = _new_events(
        client,
        lambda: done.append(
            client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})
        ),
    )
    _check(events, ["refund.created", "charge.refunded"], _request_of(done[0]))
    assert events[0].data.object.id == done[0].id
    assert events[1].data.previous_attributes.amount_refunded == 0
    assert events[1].data.object.amount_refunded == 500


def test_a_forced_refund_failure(client: stripe.StripeClient, handle: Paysim) -> None:
    intent = _intent(client, payment_method="pm_card_visa", confirm=True)
    handle.force_refund_outcome("fail")
    done: list[stripe.Refund] = []
    events = _new_events(
        client,
        lambda: done.append(client.v1.refunds.create(params={"payment_intent": intent.id})),
    )
    _check(events, ["refund.created", "refund.failed"], _request_of(done[0]))
    created, failed = (event.data.object for event in events)
    assert (created.status, "failure_reason" in created) == ("pending", False)
    assert (failed.status, failed.failure_reason) == ("failed", "unknown")
    assert events[1].data.previous_attributes.to_dict() == {"status": "pending"}
    assert client.v1.refunds.retrieve(done[0].id).status == "failed"


# -- listing ----------------------------------------------------------------------------------


def _all_types(client: stripe.StripeClient, **params: Any) -> list[str]:
    return [event.type for event in client.v1.events.list(params={"limit": 100, **params}).data]


@pytest.fixture
def history(client: stripe.StripeClient) -> list[stripe.Event]:
    """A refunded intent and a canceled one: their events, newest first."""
    paid = _intent(client, payment_method="pm_card_visa", confirm=True)
    client.v1.refunds.create(params={"payment_intent": paid.id, "amount": 100})
    canceled = _intent(client)
    client.v1.payment_intents.cancel(canceled.id)
    events = client.v1.events.list(params={"limit": 100}).data
    assert [event.type for event in events] == [
        "payment_intent.canceled",
        "payment_intent.created",
        "charge.refunded",
        "refund.created",
        "payment_intent.succeeded",
        "charge.succeeded",
        "payment_intent.created",
    ]
    return list(events)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"type": "charge.succeeded"}, ["charge.succeeded"], id="one-type"),
        pytest.param(
            {"type": "payment_intent.*"},
            [
                "payment_intent.canceled",
                "payment_intent.created",
                "payment_intent.succeeded",
                "payment_intent.created",
            ],
            id="wildcard",
        ),
        pytest.param(
            {"types": ["refund.created", "charge.refunded", "payment_intent.canceled"]},
            ["payment_intent.canceled", "charge.refunded", "refund.created"],
            id="types",
        ),
        pytest.param(
            {"types": ["charge.*", "refund.created"]},
            ["charge.refunded", "refund.created", "charge.succeeded"],
            id="types-with-wildcard",
        ),
        pytest.param({"type": "customer.created"}, [], id="none-of-this-type"),
        pytest.param({"type": "*"}, None, id="star-is-everything"),
        pytest.param({"types": ["refund.*", "*"]}, None, id="star-among-types"),
        pytest.param({"type": "refund.*"}, ["refund.created"], id="prefix-ends-at-a-dot"),
    ],
)
def test_list_filters_by_type(
    client: stripe.StripeClient,
    history: list[stripe.Event],
    params: dict[str, Any],
    expected: list[str] | None,
) -> None:
    if expected is None:
        expected = [event.type for event in history]
    assert _all_types(client, **params) == expected


def test_list_pages_both_ways_with_and_without_a_filter(
    client: stripe.StripeClient, history: list[stripe.Event]
) -> None:
    ids = [event.id for event in history]
    page = client.v1.events.list(params={"limit": 2, "starting_after": ids[1]})
    assert ([event.id for event in page.data], page.has_more) == (ids[2:4], True)
    page = client.v1.events.list(params={"limit": 2, "ending_before": ids[4]})
    assert ([event.id for event in page.data], page.has_more) == (ids[2:4], True)
    page = client.v1.events.list(params={"limit": 10, "ending_before": ids[2]})
    assert ([event.id for event in page.data], page.has_more) == (ids[:2], False)
    assert [
        event.id for event in client.v1.events.list(params={"limit": 3}).auto_paging_iter()
    ] == ids
    # A cursor is a place in the list: an event the filter leaves out works as one too.
    after_refund = client.v1.events.list(
        params={"type": "payment_intent.*", "starting_after": ids[3]}
    )
    assert [event.id for event in after_refund.data] == [ids[4], ids[6]]
    before_refund = client.v1.events.list(
        params={"types": ["payment_intent.created"], "ending_before": ids[3]}
    )
    assert [event.id for event in before_refund.data] == [ids[1]]
    newest_created = client.v1.events.list(params={"types": ["payment_intent.created"], "limit": 1})
    assert ([event.id for event in newest_created.data], newest_created.has_more) == (
        [ids[1]],
        True,
    )
    walked = client.v1.events.list(params={"type": "payment_intent.*", "limit": 1})
    assert [event.id for event in walked.auto_paging_iter()] == [ids[0], ids[1], ids[4], ids[6]]


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        pytest.param(
            {"type": "charge.succeeded", "types": ["charge.failed"]},
            "parameter_invalid",
            "types",
            id="type-and-types",
        ),
        pytest.param(
            {"types": [f"t{n}" for n in range(21)]}, "parameter_invalid", "types", id="21"
        ),
        pytest.param(
            {"ending_before": "evt_missing"}, "resource_missing", "ending_before", id="gone"
        ),
        pytest.param({"created": "1"}, "parameter_unknown", "created", id="unknown"),
        # Backtracking bait for a regex translation of '*': refused, never matched.
        pytest.param({"type": "*" * 30 + "x"}, "parameter_invalid", "type", id="stars"),
        pytest.param({"type": "payment_*"}, "parameter_invalid", "type", id="star-in-word"),
        pytest.param({"type": "*.created"}, "parameter_invalid", "type", id="star-first"),
        pytest.param({"type": ".*"}, "parameter_invalid", "type", id="no-prefix"),
        pytest.param({"type": "charge.*.*"}, "parameter_invalid", "type", id="two-stars"),
        pytest.param(
            {"types": ["charge.*", "*" * 30 + "x"]}, "parameter_invalid", "types[1]", id="in-types"
        ),
    ],
)
def test_bad_list_parameters_are_400(
    client: stripe.StripeClient, params: dict[str, Any], code: str, param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.events.list(params=params)
    assert raised.value.http_status == 400
    assert (raised.value.code, raised.value.param) == (code, param)

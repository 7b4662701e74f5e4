"""The Stripe dialect's errors: Stripe's envelope for every ``ApiError``, and what the SDK makes
of it. No native-only code and no ``payment_id`` ever reaches a Stripe client."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import stripe
from stripe_support import ScriptedClient, sdk

from pytest_paysim import errors as native
from pytest_paysim.errors import ApiError
from pytest_paysim.stripe import errors
from pytest_paysim.stripe.errors import (
    ERROR_CODES,
    ERROR_TYPES,
    NATIVE_ANSWERS,
    NATIVE_ONLY_CODES,
    CardError,
    ChargeAlreadyRefunded,
    ExpiredCard,
    IdempotencyError,
    ResourceMissing,
    StripeError,
    UnrecognizedUrl,
    envelope,
    render_error,
    unexpected_state,
)

UNRECOGNIZED = (
    "Unrecognized request URL (GET: /v1/x). Please see https://stripe.com/docs or we can help at "
    "https://support.stripe.com/."
)


def _classes(module: Any) -> list[type[ApiError]]:
    return [
        cls
        for cls in vars(module).values()
        if inspect.isclass(cls) and issubclass(cls, ApiError) and cls.__module__ == module.__name__
    ]


def _native_instance(cls: type[ApiError]) -> ApiError:
    if cls is native.InjectedFault:
        return native.InjectedFault(503)
    return cls("A native message.", param="amount", payment_id="pay_123")


def _assert_stripe_shape(body: dict[str, Any]) -> None:
    assert list(body) == ["error"]
    error = body["error"]
    assert error["type"] in ERROR_TYPES
    assert error.get("code", "parameter_missing") in ERROR_CODES
    assert "payment_id" not in error
    assert None not in error.values()
    assert error["message"]


NATIVE_CLASSES = _classes(native)  # ApiError itself included: it can be raised as it is


@pytest.mark.parametrize("cls", NATIVE_CLASSES, ids=lambda cls: cls.__name__)
def test_every_native_error_renders_in_stripes_shape(cls: type[ApiError]) -> None:
    answer = render_error(_native_instance(cls), method="POST", path="/v1/x", idempotency_key="k")
    _assert_stripe_shape(answer.body)
    assert answer.body["error"].get("code") not in NATIVE_ONLY_CODES
    assert "Allow" not in answer.headers
    assert 400 <= answer.status < 600


def test_every_native_code_has_its_stripe_answer() -> None:
    # A code added to pytest_paysim.errors must get a row in NATIVE_ANSWERS (and be listed as
    # shared with Stripe, or as native-only).
    codes = {cls.code for cls in NATIVE_CLASSES}
    assert codes == set(NATIVE_ANSWERS)
    assert codes - ERROR_CODES == NATIVE_ONLY_CODES


def test_an_unknown_native_code_loses_its_code() -> None:
    class Novel(ApiError):
        status = 418
        code = "novel_code"

    answer = render_error(Novel("Something new."))
    assert answer.status == 418
    assert answer.body == {"error": {"type": "invalid_request_error", "message": "Something new."}}


@pytest.mark.parametrize(
    ("error", "status", "type_", "code", "message"),
    [
        pytest.param(
            native.RouteMissing("No route GET /v1/x."),
            404,
            "invalid_request_error",
            None,
            UNRECOGNIZED,
            id="route-missing",
        ),
        pytest.param(
            native.MethodNotAllowed("GET is not allowed.", headers={"Allow": "POST"}),
            404,
            "invalid_request_error",
            None,
            UNRECOGNIZED,
            id="method-not-allowed",
        ),
        pytest.param(
            native.PaymentUnexpectedState("Payment is captured.", payment_id="pay_1"),
            400,
            "invalid_request_error",
            "payment_intent_unexpected_state",
            "The PaymentIntent's status does not allow this operation",
            id="unexpected-state",
        ),
        pytest.param(
            native.IdempotencyKeyReused("Used for another request.", param="Idempotency-Key"),
            400,
            "idempotency_error",
            None,
            "Try using a key other than 'key-1' if you meant to execute a different request.",
            id="key-reused",
        ),
        pytest.param(
            native.IdempotencyKeyInUse("Still running.", param="Idempotency-Key"),
            409,
            "idempotency_error",
            "idempotency_key_in_use",
            "There is currently another in-progress request using this Idempotent Key",
            id="key-in-use",
        ),
        pytest.param(
            native.ApiKeyMissing("Authenticate."),
            401,
            "authentication_error",
            None,
            "You did not provide an API key.",
            id="key-missing",
        ),
        pytest.param(
            native.ApiKeyInvalid("Wrong key."),
            401,
            "authentication_error",
            None,
            "Invalid API Key provided.",
            id="key-invalid",
        ),
        pytest.param(
            native.ClientSecretInvalid("Not yours.", param="client_secret"),
            400,
            "invalid_request_error",
            None,
            "The client_secret provided does not match",
            id="client-secret",
        ),
        pytest.param(
            native.ParameterMissing("Pass `amount`.", param="amount"),
            400,
            "invalid_request_error",
            "parameter_missing",
            "Missing required param: amount.",
            id="parameter-missing",
        ),
        pytest.param(
            native.ParameterUnknown("Unknown field.", param="colour"),
            400,
            "invalid_request_error",
            "parameter_unknown",
            "Received unknown parameter: colour",
            id="parameter-unknown",
        ),
        pytest.param(
            native.ParameterInvalid("Bad amount.", param="amount"),
            400,
            "invalid_request_error",
            "parameter_invalid",
            "Bad amount.",
            id="parameter-invalid",
        ),
        pytest.param(
            native.AmountTooLarge("Too much.", param="amount"),
            400,
            "invalid_request_error",
            "amount_too_large",
            "Too much.",
            id="amount-too-large",
        ),
        pytest.param(
            native.ResourceMissing("No payment.", param="id", payment_id="pay_1"),
            404,
            "invalid_request_error",
            "resource_missing",
            "No payment.",
            id="resource-missing",
        ),
        pytest.param(
            native.ContentTypeUnsupported("Send JSON."),
            400,
            "invalid_request_error",
            None,
            "application/x-www-form-urlencoded",
            id="content-type",
        ),
        pytest.param(
            native.BodyTooLarge("Too big."),
            413,
            "invalid_request_error",
            None,
            "Too big.",
            id="body-too-large",
        ),
        pytest.param(
            native.InvalidJson("Not JSON."),
            400,
            "invalid_request_error",
            None,
            "Not JSON.",
            id="json",
        ),
        pytest.param(
            native.InternalError("A bug."), 500, "api_error", None, "A bug.", id="internal-error"
        ),
        pytest.param(
            native.InjectedFault(503), 503, "api_error", None, "Fault injected", id="fault-503"
        ),
        pytest.param(
            native.InjectedFault(500), 500, "api_error", None, "Fault injected", id="fault-500"
        ),
        pytest.param(
            native.InjectedFault(429),
            429,
            "rate_limit_error",
            "rate_limit",
            "Fault injected",
            id="fault-429",
        ),
        pytest.param(
            native.InjectedFault(400),
            400,
            "invalid_request_error",
            None,
            "Fault injected",
            id="fault-400",
        ),
        pytest.param(
            native.InjectedFault(401),
            401,
            "authentication_error",
            None,
            "Fault injected",
            id="fault-401",
        ),
        pytest.param(
            native.InjectedFault(402), 402, "card_error", None, "Fault injected", id="fault-402"
        ),
    ],
)
def test_native_errors_as_stripe_answers_them(
    error: ApiError, status: int, type_: str, code: str | None, message: str
) -> None:
    answer = render_error(error, method="GET", path="/v1/x", idempotency_key="key-1")
    body = answer.body["error"]
    assert answer.status == status
    assert body["type"] == type_
    assert body.get("code") == code
    assert message in body["message"]
    _assert_stripe_shape(answer.body)


def test_route_missing_without_the_request_still_says_unrecognized() -> None:
    answer = render_error(native.RouteMissing("No route."))
    assert answer.body["error"]["message"].startswith("Unrecognized request URL. Please see")


def test_headers_other_than_allow_are_kept() -> None:
    error = native.InjectedFault(503)
    error.headers["Retry-After"] = "1"
    assert render_error(error).headers == {"Retry-After": "1"}


STRIPE_CLASSES = [cls for cls in _classes(errors) if not cls.__name__.startswith("_")]


@pytest.mark.parametrize("cls", STRIPE_CLASSES, ids=lambda cls: cls.__name__)
def test_every_stripe_error_class_speaks_stripe(cls: type[ApiError]) -> None:
    assert issubclass(cls, StripeError)
    assert cls.type in ERROR_TYPES
    assert cls.code == "" or cls.code in ERROR_CODES


def test_stripe_error_codes_are_one_per_class() -> None:
    codes = [cls.code for cls in STRIPE_CLASSES if cls.code]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize(
    ("error", "status", "expected"),
    [
        pytest.param(
            ResourceMissing("payment_intent", "pi_x", param="intent"),
            404,
            {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
                "message": "No such payment_intent: 'pi_x'",
                "param": "intent",
            },
            id="intent-in-path",
        ),
        pytest.param(
            ResourceMissing("charge", "ch_x"),
            404,
            {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
                "message": "No such charge: 'ch_x'",
                "param": "id",
            },
            id="other-in-path",
        ),
        pytest.param(
            ResourceMissing("payment_intent", "pi_x", param="payment_intent", in_body=True),
            400,
            {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
                "message": "No such payment_intent: 'pi_x'",
                "param": "payment_intent",
            },
            id="in-body",
        ),
        pytest.param(
            UnrecognizedUrl("get", "/v1/x"),
            404,
            {"type": "invalid_request_error", "message": UNRECOGNIZED},
            id="unrecognized",
        ),
        pytest.param(
            IdempotencyError("k1"),
            400,
            {
                "type": "idempotency_error",
                "message": "Keys for idempotent requests can only be used with the same "
                "parameters they were first used with. Try using a key other than 'k1' if you "
                "meant to execute a different request.",
            },
            id="idempotency",
        ),
        pytest.param(
            ChargeAlreadyRefunded("ch_1"),
            400,
            {
                "type": "invalid_request_error",
                "code": "charge_already_refunded",
                "doc_url": "https://stripe.com/docs/error-codes/charge-already-refunded",
                "message": "Charge ch_1 has already been refunded.",
            },
            id="already-refunded",
        ),
    ],
)
def test_stripe_errors_render_as_stripe_does(
    error: StripeError, status: int, expected: dict[str, Any]
) -> None:
    answer = render_error(error)
    assert answer.status == status
    assert answer.body == {"error": expected}
    assert error.to_dict() == answer.body


def test_a_card_error_carries_the_decline() -> None:
    intent = {"id": "pi_1", "object": "payment_intent", "status": "requires_payment_method"}
    method = {"id": "pm_1", "object": "payment_method"}
    error = ExpiredCard(
        "Your card has expired.",
        decline_code="expired_card",
        charge="ch_1",
        payment_intent=intent,
        payment_method=method,
    )
    assert render_error(error).status == 402
    assert error.to_dict() == {
        "error": {
            "type": "card_error",
            "code": "expired_card",
            "doc_url": "https://stripe.com/docs/error-codes/expired-card",
            "message": "Your card has expired.",
            "decline_code": "expired_card",
            "charge": "ch_1",
            "payment_intent": intent,
            "payment_method": method,
        }
    }


def test_unexpected_state_names_the_status_and_what_is_allowed() -> None:
    intent = {"id": "pi_1", "object": "payment_intent"}
    error = unexpected_state("captured", "succeeded", ["requires_capture"], payment_intent=intent)
    body = error.to_dict()["error"]
    assert body["code"] == "payment_intent_unexpected_state"
    assert body["message"] == (
        "This PaymentIntent could not be captured because it has a status of succeeded. Only a "
        "PaymentIntent with one of the following statuses may be captured: requires_capture."
    )
    assert body["payment_intent"] == intent
    assert error.status_code == 400


def test_envelope_leaves_null_values_out() -> None:
    assert envelope("api_error", None, "Oops.", param=None, charge=None) == {
        "error": {"type": "api_error", "message": "Oops."}
    }


# -- what the SDK makes of the answers ---------------------------------------------------------


def _raised_by_sdk(error: ApiError) -> stripe.StripeError:
    answer = render_error(error, method="POST", path="/v1/payment_intents", idempotency_key="k")
    client = ScriptedClient(answer.body, status=answer.status, headers=answer.headers)
    with pytest.raises(stripe.StripeError) as caught:
        sdk(client).v1.payment_intents.create(params={"amount": 100, "currency": "usd"})
    return caught.value


@pytest.mark.parametrize(
    ("error", "sdk_class", "code"),
    [
        pytest.param(
            CardError("Your card was declined.", decline_code="generic_decline", charge="ch_1"),
            stripe.CardError,
            "card_declined",
            id="card",
        ),
        pytest.param(IdempotencyError("k"), stripe.IdempotencyError, None, id="idempotency"),
        pytest.param(
            native.IdempotencyKeyReused("Reused."), stripe.IdempotencyError, None, id="reused"
        ),
        pytest.param(native.IdempotencyKeyInUse("Busy."), stripe.APIError, None, id="in-use"),
        pytest.param(
            native.ParameterMissing("Pass it.", param="amount"),
            stripe.InvalidRequestError,
            "parameter_missing",
            id="missing",
        ),
        pytest.param(
            ResourceMissing("payment_intent", "pi_x", param="intent"),
            stripe.InvalidRequestError,
            "resource_missing",
            id="resource",
        ),
        pytest.param(native.RouteMissing("No."), stripe.InvalidRequestError, None, id="route"),
        pytest.param(native.ApiKeyInvalid("No."), stripe.AuthenticationError, None, id="auth"),
        pytest.param(native.InjectedFault(429), stripe.RateLimitError, None, id="rate-limit"),
        pytest.param(native.InjectedFault(503), stripe.APIError, None, id="api-error"),
    ],
)
def test_the_sdk_raises_its_own_error_class(
    error: ApiError, sdk_class: type[stripe.StripeError], code: str | None
) -> None:
    raised = _raised_by_sdk(error)
    assert type(raised) is sdk_class
    assert raised.code == code
    assert raised.error is not None
    assert raised.error.type == render_error(error).body["error"]["type"]


def test_the_sdk_reads_a_decline_fully() -> None:
    intent = {"id": "pi_1", "object": "payment_intent", "status": "requires_payment_method"}
    method = {"id": "pm_1", "object": "payment_method", "type": "card"}
    raised = _raised_by_sdk(
        CardError(
            "Your card has insufficient funds.",
            decline_code="insufficient_funds",
            charge="ch_1",
            payment_intent=intent,
            payment_method=method,
        )
    )
    assert isinstance(raised, stripe.CardError)
    assert raised.http_status == 402
    assert raised.user_message == "Your card has insufficient funds."
    assert raised.error is not None
    assert raised.error.decline_code == "insufficient_funds"
    assert raised.error.charge == "ch_1"
    assert raised.error.payment_intent is not None
    assert raised.error.payment_intent.id == "pi_1"
    assert raised.error.payment_method is not None
    assert raised.error.payment_method.id == "pm_1"
    assert raised.error.param is None  # left out of the body, filled in by the SDK

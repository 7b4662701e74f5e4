"""Stripe's errors: the dialect's own error classes, and the one renderer of every ``ApiError``.

Every answer of the dialect that is not a success goes through :func:`render_error`, which
gives Stripe's envelope ``{"error": {"type", "code", "message", "param", ...}}``. As at
Stripe, a key whose value would be null is left out (the SDK fills in ``None``). Errors of the
native API (:mod:`pytest_paysim.errors`) are translated through one table, so a native-only
code (``route_missing``, ``payment_unexpected_state``, ``idempotency_key_reused``,
``injected_fault``, ...) never reaches a Stripe client, and there is never a ``payment_id``.

The dialect's own errors, all under :class:`pytest_paysim.errors.ApiError`::

    StripeError                       to_dict() is Stripe's envelope; code "" = Stripe sends none
    ├── 400 ParameterInvalidInteger, ParameterInvalidEmpty, ParameterInvalidStringEmpty,
    │       PaymentIntentUnexpectedState, ChargeAlreadyRefunded, EmailInvalid,
    │       IdempotencyError (no code)
    ├── 400/404 ResourceMissing       "No such payment_intent: 'pi_x'"
    ├── 401 PublishableKeyForbidden   the publishable key on a route that needs the secret key
    ├── 402 CardError                 card_declined, with decline_code, charge, payment_intent,
    │   │                             payment_method
    │   ├── ExpiredCard, IncorrectCvc, ProcessingError      declines with their own code
    │   └── IncorrectNumber, InvalidCvc, InvalidExpiryMonth, InvalidExpiryYear
    ├── 404 UnrecognizedUrl           "Unrecognized request URL (GET: /v1/x). ..."
    └── 409 IdempotencyKeyInUse       idempotency_key_in_use (the SDK retries a 409)

The parameter errors whose code Stripe shares with the native API (``parameter_missing``,
``parameter_unknown``, ``parameter_invalid``, ``amount_too_large``) are the native classes,
raised with Stripe's messages (see :mod:`pytest_paysim.stripe.forms`).

    >>> from pytest_paysim.errors import RouteMissing
    >>> answer = render_error(RouteMissing("No route."), method="GET", path="/v1/x")
    >>> answer.status, answer.body["error"]["type"], "code" in answer.body["error"]
    (404, 'invalid_request_error', False)
    >>> answer.body["error"]["message"].split(". ")[0]
    'Unrecognized request URL (GET: /v1/x)'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pytest_paysim.errors import ApiError

__all__ = [
    "ERROR_CODES",
    "ERROR_TYPES",
    "NATIVE_ANSWERS",
    "NATIVE_ONLY_CODES",
    "CardError",
    "ChargeAlreadyRefunded",
    "EmailInvalid",
    "ErrorAnswer",
    "ExpiredCard",
    "IdempotencyError",
    "IdempotencyKeyInUse",
    "IncorrectCvc",
    "IncorrectNumber",
    "InvalidCvc",
    "InvalidExpiryMonth",
    "InvalidExpiryYear",
    "ParameterInvalidEmpty",
    "ParameterInvalidInteger",
    "ParameterInvalidStringEmpty",
    "PaymentIntentUnexpectedState",
    "ProcessingError",
    "PublishableKeyForbidden",
    "ResourceMissing",
    "StripeError",
    "UnrecognizedUrl",
    "envelope",
    "render_error",
    "unexpected_state",
]

ERROR_TYPES: frozenset[str] = frozenset(
    {
        "api_error",
        "authentication_error",
        "card_error",
        "idempotency_error",
        "invalid_request_error",
        "rate_limit_error",
    }
)
"""The ``type`` values the dialect sends (Stripe's four, plus the two SPEC section 14 names)."""

ERROR_CODES: frozenset[str] = frozenset(
    {
        "amount_too_large",
        "amount_too_small",
        "card_declined",
        "charge_already_refunded",
        "email_invalid",
        "expired_card",
        "idempotency_key_in_use",
        "incorrect_cvc",
        "incorrect_number",
        "invalid_cvc",
        "invalid_expiry_month",
        "invalid_expiry_year",
        "parameter_invalid",
        "parameter_invalid_empty",
        "parameter_invalid_integer",
        "parameter_invalid_string_empty",
        "parameter_missing",
        "parameter_unknown",
        "payment_intent_authentication_failure",
        "payment_intent_unexpected_state",
        "processing_error",
        "rate_limit",
        "resource_missing",
    }
)
"""Every ``code`` the dialect may send: Stripe's own. Any other code is left out."""

NATIVE_ONLY_CODES: frozenset[str] = frozenset(
    {
        "api_error",
        "api_key_invalid",
        "api_key_missing",
        "body_too_large",
        "client_secret_invalid",
        "content_type_unsupported",
        "idempotency_key_invalid",
        "idempotency_key_reused",
        "injected_fault",
        "internal_error",
        "invalid_json",
        "method_not_allowed",
        "payment_unexpected_state",
        "route_missing",
        "simulator_reset",
    }
)
"""Codes of :mod:`pytest_paysim.errors` that Stripe does not have: never on the wire here."""

DOC_URL = "https://stripe.com/docs/error-codes/"
SUPPORT = "Please see https://stripe.com/docs or we can help at https://support.stripe.com/."


class StripeError(ApiError):
    """An error only the dialect answers; :meth:`to_dict` gives Stripe's envelope.

    ``code`` is what Stripe sends; the empty string means Stripe sends no code, and the
    envelope leaves the key out. ``status`` may be given per instance (a missing id is 404 in
    the path and 400 in the body). :meth:`fields` adds the keys beyond type, code, message and
    param.
    """

    code: ClassVar[str] = ""

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, param=param, headers=headers)
        self._status = status

    @property
    def status_code(self) -> int:
        return self._status if self._status is not None else self.status

    def fields(self) -> dict[str, Any]:
        """Keys of the envelope beyond type, code, message and param (None values dropped)."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        return envelope(
            self.type, self.code or None, self.message, param=self.param, **self.fields()
        )


class ParameterInvalidInteger(StripeError):
    """A parameter that must be a whole number (sent as a string) is not one, or is out of range."""

    code = "parameter_invalid_integer"


class ParameterInvalidEmpty(StripeError):
    """An empty string for a parameter that cannot be unset."""

    code = "parameter_invalid_empty"


class ParameterInvalidStringEmpty(StripeError):
    """An empty string where a non-empty one is needed (an item of a list of strings)."""

    code = "parameter_invalid_string_empty"


class ResourceMissing(StripeError):
    """``No such payment_intent: 'pi_x'``: 404 for an id in the path, 400 for one in the body.

    ``param`` is ``"intent"`` for a payment intent in the path (as at Stripe), ``"id"`` for
    other objects in the path, and the parameter's name for an id in the body.
    """

    status = 404
    code = "resource_missing"

    def __init__(
        self,
        object_name: str,
        object_id: str,
        *,
        param: str = "id",
        in_body: bool = False,
    ) -> None:
        super().__init__(
            f"No such {object_name}: '{object_id[:200]}'",
            param=param,
            status=400 if in_body else None,
        )
        self.object_name = object_name
        self.object_id = object_id


class PublishableKeyForbidden(StripeError):
    """401: the publishable key on a route it does not open (Stripe sends no code)."""

    status = 401

    def __init__(self) -> None:
        super().__init__(
            "This API call cannot be made with a publishable API key. Please use a secret API "
            "key: the key this server printed (PAYSIM_API_KEY)."
        )


class PaymentIntentUnexpectedState(StripeError):
    """An operation the intent's status does not allow; carries the intent, as at Stripe."""

    code = "payment_intent_unexpected_state"

    def __init__(self, message: str, *, payment_intent: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.payment_intent = payment_intent

    def fields(self) -> dict[str, Any]:
        return {"payment_intent": self.payment_intent}


def unexpected_state(
    action: str,
    status: str,
    allowed: Sequence[str],
    *,
    payment_intent: Mapping[str, Any] | None = None,
) -> PaymentIntentUnexpectedState:
    """Stripe's 400 for ``action`` ("captured", "canceled", ...) on an intent in ``status``."""
    return PaymentIntentUnexpectedState(
        f"This PaymentIntent could not be {action} because it has a status of {status}. Only "
        f"a PaymentIntent with one of the following statuses may be {action}: "
        f"{', '.join(allowed)}.",
        payment_intent=payment_intent,
    )


class ChargeAlreadyRefunded(StripeError):
    """A refund of a charge that has nothing left to refund."""

    code = "charge_already_refunded"

    def __init__(self, charge_id: str) -> None:
        super().__init__(f"Charge {charge_id} has already been refunded.")


class EmailInvalid(StripeError):
    """An ``email`` that is not an email address."""

    code = "email_invalid"

    def __init__(self, email: str, *, param: str = "email") -> None:
        super().__init__(f"Invalid email address: {email[:200]}", param=param)


class CardError(StripeError):
    """402: a declined confirmation (or a card Stripe refuses); the SDK raises ``CardError``.

    ``payment_intent`` and ``payment_method`` are the objects as built by
    :mod:`pytest_paysim.stripe.objects`; ``charge`` is the failed charge's id.
    """

    status = 402
    type = "card_error"
    code = "card_declined"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        decline_code: str | None = None,
        charge: str | None = None,
        payment_intent: Mapping[str, Any] | None = None,
        payment_method: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, param=param)
        self.decline_code = decline_code
        self.charge = charge
        self.payment_intent = payment_intent
        self.payment_method = payment_method

    def fields(self) -> dict[str, Any]:
        return {
            "decline_code": self.decline_code,
            "charge": self.charge,
            "payment_intent": self.payment_intent,
            "payment_method": self.payment_method,
        }


class ExpiredCard(CardError):
    """Declined: the card has expired (``decline_code`` ``expired_card``)."""

    code = "expired_card"


class IncorrectCvc(CardError):
    """Declined: the security code is wrong (``decline_code`` ``incorrect_cvc``)."""

    code = "incorrect_cvc"


class ProcessingError(CardError):
    """Declined: the card could not be processed (``decline_code`` ``processing_error``)."""

    code = "processing_error"


class IncorrectNumber(CardError):
    """A card number that is not 12 to 19 Luhn-valid digits."""

    code = "incorrect_number"


class InvalidCvc(CardError):
    """A CVC that is not 3 or 4 digits."""

    code = "invalid_cvc"


class InvalidExpiryMonth(CardError):
    """An expiry month outside 1-12, or in the past."""

    code = "invalid_expiry_month"


class InvalidExpiryYear(CardError):
    """An expiry year in the past or more than 50 years ahead."""

    code = "invalid_expiry_year"


class IdempotencyError(StripeError):
    """400: the same ``Idempotency-Key`` with other parameters (Stripe sends no code)."""

    type = "idempotency_error"

    def __init__(self, key: str) -> None:
        super().__init__(
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{key[:255]}' if you meant to "
            "execute a different request."
        )


class IdempotencyKeyInUse(StripeError):
    """409: a duplicate of a request still running; the SDK retries it."""

    status = 409
    type = "idempotency_error"
    code = "idempotency_key_in_use"

    def __init__(self, key: str) -> None:
        super().__init__(
            "There is currently another in-progress request using this Idempotent Key (that "
            "probably means you submitted twice, and the other request is still going "
            f"through): {key[:255]}. Please try again later."
        )


class UnrecognizedUrl(StripeError):
    """404 for a path (or a method on a path) the dialect does not serve, as Stripe says it."""

    status = 404

    def __init__(self, method: str | None = None, path: str | None = None) -> None:
        where = f" ({method.upper()}: {path[:200]})" if method and path is not None else ""
        super().__init__(f"Unrecognized request URL{where}. {SUPPORT}")


def envelope(
    type: str,
    code: str | None,
    message: str,
    *,
    param: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Stripe's ``{"error": {...}}``: null values left out, ``doc_url`` with every code."""
    error: dict[str, Any] = {"type": type}
    if code:
        error["code"] = code
        error["doc_url"] = DOC_URL + code.replace("_", "-")
    error["message"] = message
    if param is not None:
        error["param"] = param
    error.update((name, value) for name, value in fields.items() if value is not None)
    return {"error": error}


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """An error as the dialect sends it: HTTP status, JSON body, extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def render_error(
    error: ApiError,
    *,
    method: str | None = None,
    path: str | None = None,
    idempotency_key: str | None = None,
) -> ErrorAnswer:
    """Any ``ApiError`` — the dialect's own or a native one — as Stripe would answer it.

    ``method`` and ``path`` (of the request) go into the "Unrecognized request URL" message
    of a 404 or 405; ``idempotency_key`` into Stripe's idempotency messages.
    """
    headers = {name: value for name, value in error.headers.items() if name.lower() != "allow"}
    if not isinstance(error, StripeError):
        answer = NATIVE_ANSWERS.get(error.code, _relabel)
        error = answer(error, _Request(method, path, idempotency_key or ""))
    return ErrorAnswer(error.status_code, error.to_dict(), headers)


@dataclass(frozen=True, slots=True)
class _Request:
    method: str | None
    path: str | None
    idempotency_key: str


class _Translated(StripeError):
    """A native error re-expressed in Stripe's terms (type and code set per instance)."""

    def __init__(self, status: int, type: str, code: str, message: str, param: str | None):
        super().__init__(message, param=param, status=status)
        self._type = type
        self._code = code

    def to_dict(self) -> dict[str, Any]:
        return envelope(self._type, self._code or None, self.message, param=self.param)


def _relabel(error: ApiError, request: _Request, message: str | None = None) -> StripeError:
    """The same status, type, message and param; the code only if Stripe has it too."""
    code = error.code if error.code in ERROR_CODES else ""
    return _Translated(error.status_code, error.type, code, message or error.message, error.param)


def _fixed(status: int, type: str, code: str, message: str, param: str | None = None) -> _Answer:
    """An answer that is always the same, whatever the native error said."""
    return lambda error, request: _Translated(status, type, code, message, param)


def _fault(error: ApiError, request: _Request) -> StripeError:
    status = error.status_code
    code = "rate_limit" if status == 429 else ""
    return _Translated(status, _type_for_status(status), code, error.message, error.param)


def _type_for_status(status: int) -> str:
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "api_error"
    if status == 401:
        return "authentication_error"
    if status == 402:
        return "card_error"
    return "invalid_request_error"


_Answer = Callable[[ApiError, _Request], StripeError]

NATIVE_ANSWERS: dict[str, _Answer] = {
    # Codes Stripe has too: kept, with Stripe's fixed wording where it has one.
    "parameter_missing": lambda error, request: _relabel(
        error, request, f"Missing required param: {error.param}." if error.param else None
    ),
    "parameter_unknown": lambda error, request: _relabel(
        error, request, f"Received unknown parameter: {error.param}" if error.param else None
    ),
    "parameter_invalid": _relabel,
    "amount_too_large": _relabel,
    "resource_missing": _relabel,
    # Native-only codes: what Stripe answers instead.
    "route_missing": lambda error, request: UnrecognizedUrl(request.method, request.path),
    "method_not_allowed": lambda error, request: UnrecognizedUrl(request.method, request.path),
    "payment_unexpected_state": _fixed(
        400,
        "invalid_request_error",
        "payment_intent_unexpected_state",
        "The PaymentIntent's status does not allow this operation; retrieve it to see its status.",
    ),
    "idempotency_key_reused": lambda error, request: IdempotencyError(request.idempotency_key),
    "idempotency_key_in_use": lambda error, request: IdempotencyKeyInUse(request.idempotency_key),
    "api_key_missing": _fixed(
        401,
        "authentication_error",
        "",
        "You did not provide an API key. You need to provide your API key in the "
        "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
        "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details.",
    ),
    "api_key_invalid": _fixed(
        401,
        "authentication_error",
        "",
        "Invalid API Key provided. Use the key this server printed (PAYSIM_API_KEY).",
    ),
    "client_secret_invalid": _fixed(
        400,
        "invalid_request_error",
        "",
        "The client_secret provided does not match the client_secret associated with the "
        "PaymentIntent.",
        "client_secret",
    ),
    "content_type_unsupported": _fixed(
        400,
        "invalid_request_error",
        "",
        "Invalid request: send the parameters as application/x-www-form-urlencoded.",
    ),
    "injected_fault": _fault,
    "simulator_reset": _fixed(
        409,
        "invalid_request_error",
        "",
        "The simulator was reset (a new test began) while this request waited; nothing was "
        "done. Send it again if it is still wanted.",
    ),
    "invalid_json": _relabel,
    "idempotency_key_invalid": _relabel,
    "body_too_large": _relabel,
    "internal_error": _relabel,
    "api_error": _relabel,  # a bare ApiError
}
"""Native code → how Stripe answers it. A code missing here is relabelled: its code is kept
only if Stripe has it (:data:`ERROR_CODES`)."""

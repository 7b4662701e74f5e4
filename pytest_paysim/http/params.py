"""Request bodies and query strings: declared once, used to validate and to write OpenAPI.

Each :class:`Param` says what a field accepts; :class:`Params` checks a parsed JSON object
(or a query string) against its fields and returns clean Python values, or raises the 400
that says what to change::

    CREATE_PAYMENT.parse({"amount": 1999, "currency": "USD"})
    # {'amount': 1999, 'currency': 'usd'}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_paysim.core.cards import DECLINE_CODES
from pytest_paysim.core.currencies import CURRENCIES
from pytest_paysim.core.deliveries import DELIVERY_MODES
from pytest_paysim.core.faults import FAULT_TIMINGS
from pytest_paysim.core.models import CAPTURE_METHODS
from pytest_paysim.core.outcomes import (
    AUTHENTICATION_OUTCOMES,
    FORCED_OUTCOMES,
    PAY_OUTCOMES,
    REFUND_OUTCOMES,
)
from pytest_paysim.core.signing import SCHEMES
from pytest_paysim.core.transitions import EVENT_TYPES, STATUSES
from pytest_paysim.core.urls import is_http_url
from pytest_paysim.errors import ParameterInvalid, ParameterMissing, ParameterUnknown

__all__ = [
    "AUTHENTICATE_PAYMENT",
    "CANCEL_PAYMENT",
    "CAPTURE_PAYMENT",
    "CLOCK",
    "CREATE_ENDPOINT",
    "CREATE_PAYMENT",
    "EMPTY",
    "EVENT_TYPES",
    "FAULT",
    "LIST_DELIVERIES",
    "LIST_ENDPOINTS",
    "LIST_EVENTS",
    "LIST_PAYMENTS",
    "OUTCOMES",
    "PAY_PAYMENT",
    "REFUND_PAYMENT",
    "RESET",
    "SECRET_QUERY",
    "Param",
    "Params",
]

MAX_AMOUNT = 99_999_999
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
CANCEL_REASONS = (*REFUND_REASONS, "abandoned")

_JSON_TYPES = {
    "integer": "an integer",
    "string": "a string",
    "boolean": "true or false",
    "number": "a number",
    "object": "an object",
    "array": "an array",
}


@dataclass(frozen=True)
class Param:
    """One field of a body or query string."""

    name: str
    type: str
    description: str
    required: bool = False
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    enum: tuple[Any, ...] | None = None
    format: str | None = None
    items: dict[str, Any] | None = None
    check: Callable[[Any], Any] | None = None
    example: Any = None

    def parse(self, value: Any, *, from_query: bool = False) -> Any:
        """The clean value, or a 400 that names this field."""
        if from_query:
            value = self._from_query(value)
        if not _is_type(value, self.type):
            raise ParameterInvalid(
                f"`{self.name}` must be {_JSON_TYPES[self.type]}, not {_describe(value)}.",
                param=self.name,
            )
        if self.type in ("integer", "number") and (
            (self.minimum is not None and value < self.minimum)
            or (self.maximum is not None and value > self.maximum)
        ):
            raise ParameterInvalid(
                f"`{self.name}` must be between {_num(self.minimum)} and "
                f"{_num(self.maximum)}; got {value}.",
                param=self.name,
            )
        if self.type == "string":
            if self.max_length is not None and len(value) > self.max_length:
                raise ParameterInvalid(
                    f"`{self.name}` must be at most {self.max_length} characters; "
                    f"got {len(value)}.",
                    param=self.name,
                )
            if self.format == "uri":
                _check_http_url(self.name, value)
        if self.enum is not None and value not in self.enum:
            raise ParameterInvalid(
                f"`{self.name}` must be one of: {', '.join(map(str, self.enum))}.",
                param=self.name,
            )
        if self.check is not None:
            value = self.check(value)
        return value

    def _from_query(self, text: str) -> Any:
        if self.type == "integer":
            stripped = text.strip()
            if stripped.lstrip("-").isdigit() and stripped.isascii() and len(stripped) < 12:
                return int(stripped)
            raise ParameterInvalid(
                f"`{self.name}` must be a whole number, not {text[:40]!r}.", param=self.name
            )
        return text

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this field."""
        result: dict[str, Any] = {"type": [self.type, "null"] if self.nullable else self.type}
        result["description"] = self.description
        for key, value in (
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("maxLength", self.max_length),
            ("format", self.format),
            ("items", self.items),
        ):
            if value is not None:
                result[key] = (
                    int(value) if isinstance(value, float) and value.is_integer() else value
                )
        if self.enum is not None:
            result["enum"] = list(self.enum) + ([None] if self.nullable else [])
        if self.type == "object":
            result["additionalProperties"] = {"type": "string"}
        return result


@dataclass(frozen=True)
class Params:
    """The fields of one body or query string; anything else is ``parameter_unknown``."""

    name: str
    fields: tuple[Param, ...] = ()
    check: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    by_name: dict[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {param.name: param for param in self.fields})

    def parse(self, data: Mapping[str, Any], *, from_query: bool = False) -> dict[str, Any]:
        """Clean values for the given fields (absent or null optional fields are left out)."""
        for name in data:
            if name not in self.by_name:
                known = ", ".join(self.by_name) or "none"
                where = "query parameter" if from_query else "parameter"
                raise ParameterUnknown(
                    f"Unknown {where} `{name}`; this route takes: {known}.", param=name
                )
        clean: dict[str, Any] = {}
        for param in self.fields:
            value = data.get(param.name)
            if value is None:
                if param.nullable and param.name in data:
                    clean[param.name] = None
                    continue
                if param.required:
                    raise ParameterMissing(f"`{param.name}` is required.", param=param.name)
                continue
            clean[param.name] = param.parse(value, from_query=from_query)
        return self.check(clean) if self.check else clean

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the whole object."""
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {param.name: param.schema() for param in self.fields},
            "required": [param.name for param in self.fields if param.required],
        }


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        )
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    return isinstance(value, list)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, (int, str)):
        return f"{type(value).__name__} {str(value)[:40]!r}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _num(value: float | None) -> str:
    if value is None:
        return "any"
    return str(int(value)) if float(value).is_integer() else str(value)


def _check_http_url(name: str, value: str) -> None:
    """An absolute http(s) URL that a browser or an HTTP client can use (IDNA-valid host)."""
    if not is_http_url(value):
        raise ParameterInvalid(
            f"`{name}` must be an absolute http(s) URL such as https://example.com/hook.",
            param=name,
        )


def _currency(value: str) -> str:
    code = value.lower()
    if code not in CURRENCIES:
        raise ParameterInvalid(
            f"`currency` must be an ISO 4217 code such as usd or EUR; {value[:10]!r} is not one.",
            param="currency",
        )
    return code


def _metadata(value: dict[str, Any]) -> dict[str, str]:
    if len(value) > 50:
        raise ParameterInvalid("`metadata` may hold at most 50 keys.", param="metadata")
    for key, item in value.items():
        if not key or len(key) > 40:
            raise ParameterInvalid(
                "`metadata` keys must be 1 to 40 characters.", param=f"metadata[{key[:40]}]"
            )
        if not isinstance(item, str):
            raise ParameterInvalid(
                f"`metadata[{key}]` must be a string, not {_describe(item)}.",
                param=f"metadata[{key}]",
            )
        if len(item) > 500:
            raise ParameterInvalid(
                f"`metadata[{key}]` must be at most 500 characters.", param=f"metadata[{key}]"
            )
    if "webhook_url" in value:
        _check_http_url("metadata[webhook_url]", value["webhook_url"])
    return dict(value)


def _enabled_events(value: list[Any]) -> list[str]:
    if not value:
        raise ParameterInvalid(
            '`enabled_events` needs at least one event type, or ["*"] for all.',
            param="enabled_events",
        )
    for item in value:
        if item != "*" and item not in EVENT_TYPES:
            raise ParameterInvalid(
                f'`enabled_events` holds an unknown event type {str(item)[:60]!r}; use "*" '
                f"or one of: {', '.join(EVENT_TYPES)}.",
                param="enabled_events",
            )
    return list(dict.fromkeys(value))


def _pay_check(clean: dict[str, Any]) -> dict[str, Any]:
    if "outcome" in clean and "card_number" in clean:
        raise ParameterInvalid(
            "Pass either `outcome` or `card_number`, not both.", param="card_number"
        )
    if "decline_code" in clean and clean.get("outcome") != "fail":
        raise ParameterInvalid(
            '`decline_code` goes only with `outcome: "fail"`.', param="decline_code"
        )
    return clean


def _control_outcome_check(clean: dict[str, Any]) -> dict[str, Any]:
    if ("outcome" in clean) == ("refund_outcome" in clean):
        raise ParameterMissing(
            "Pass `outcome` (succeed, fail, abandon, requires_action) or `refund_outcome` (fail).",
            param="outcome",
        )
    if "refund_outcome" in clean and ({"payment_id", "decline_code"} & clean.keys()):
        raise ParameterInvalid(
            "`refund_outcome` takes only `times` and `required`.", param="refund_outcome"
        )
    if "decline_code" in clean and clean.get("outcome") not in ("fail", "requires_action"):
        raise ParameterInvalid(
            '`decline_code` goes only with `outcome: "fail"` (the decline), or with '
            '`"requires_action"` (the decline once authenticated).',
            param="decline_code",
        )
    return clean


def _clock_check(clean: dict[str, Any]) -> dict[str, Any]:
    if len(clean) != 1:
        raise ParameterInvalid(
            "Pass exactly one of `advance` (seconds), `freeze` (ISO time or null) or "
            "`unfreeze: true`.",
            param="advance",
        )
    return clean


_HTTP_METHODS = ("GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS")


def _http_method(value: str) -> str:
    method = value.upper()
    if method not in _HTTP_METHODS:
        raise ParameterInvalid(
            f"`method` must be one of: {', '.join(_HTTP_METHODS)}.", param="method"
        )
    return method


def _iso_time(value: str) -> str:
    from pytest_paysim.core.clock import in_range, parse_time

    try:
        valid = in_range(parse_time(value))
    except (ValueError, OverflowError, OSError):
        valid = False
    if not valid:
        raise ParameterInvalid(
            f"`freeze` must be an ISO 8601 time from 1970 to before the year 9000, such as "
            f"2026-01-01T00:00:00Z, not {value[:40]!r}.",
            param="freeze",
        )
    return value


def _reason(name: str, choices: tuple[str, ...]) -> Param:
    return Param(name, "string", f"Why: one of {', '.join(choices)}.", enum=choices)


_AMOUNT = Param(
    "amount",
    "integer",
    "Amount in the currency's minor unit.",
    minimum=1,
    maximum=MAX_AMOUNT,
    example=1999,
)
_TIMES = Param(
    "times",
    "integer",
    "How many attempts it applies to; null means always.",
    nullable=True,
    minimum=1,
    maximum=1_000_000,
)

EMPTY = Params("Empty")
SECRET_QUERY = Params(
    "SecretQuery",
    (Param("client_secret", "string", "The payment's client secret.", max_length=200),),
)

CREATE_PAYMENT = Params(
    "CreatePayment",
    (
        Param(
            "amount",
            "integer",
            "Amount in the currency's minor unit.",
            required=True,
            minimum=1,
            maximum=MAX_AMOUNT,
            example=1999,
        ),
        Param(
            "currency",
            "string",
            "ISO 4217 code, any case.",
            required=True,
            max_length=3,
            check=_currency,
            example="usd",
        ),
        Param("description", "string", "Shown on the payment page.", max_length=1000),
        Param(
            "metadata",
            "object",
            "String to string, at most 50 keys; `webhook_url` receives this payment's webhooks.",
            check=_metadata,
        ),
        Param(
            "capture_method",
            "string",
            "automatic or manual.",
            enum=CAPTURE_METHODS,
        ),
        Param(
            "return_url",
            "string",
            "Where the hosted page sends the customer after paying.",
            format="uri",
            max_length=2048,
        ),
        Param("simulate", "string", "`auto`: pay at once with a seeded outcome.", enum=("auto",)),
    ),
)
PAY_PAYMENT = Params(
    "PayPayment",
    (
        Param("outcome", "string", "succeed, fail or abandon.", enum=PAY_OUTCOMES),
        Param("card_number", "string", "A test card number.", max_length=64),
        Param("decline_code", "string", "With `fail`: the decline code.", enum=DECLINE_CODES),
        Param("client_secret", "string", "The payment's client secret.", max_length=200),
    ),
    check=_pay_check,
)
AUTHENTICATE_PAYMENT = Params(
    "AuthenticatePayment",
    (
        Param(
            "outcome",
            "string",
            "succeed (the customer completes 3-D Secure) or fail.",
            enum=AUTHENTICATION_OUTCOMES,
            required=True,
        ),
        Param("client_secret", "string", "The payment's client secret.", max_length=200),
    ),
)
CAPTURE_PAYMENT = Params("CapturePayment", (_AMOUNT,))
REFUND_PAYMENT = Params("RefundPayment", (_AMOUNT, _reason("reason", REFUND_REASONS)))
CANCEL_PAYMENT = Params("CancelPayment", (_reason("cancellation_reason", CANCEL_REASONS),))
CREATE_ENDPOINT = Params(
    "CreateWebhookEndpoint",
    (
        Param(
            "url",
            "string",
            "The receiver's http(s) URL.",
            required=True,
            format="uri",
            max_length=2048,
        ),
        Param(
            "enabled_events",
            "array",
            'Event types to send, or ["*"].',
            items={"type": "string"},
            check=_enabled_events,
        ),
    ),
)

_LIMIT = Param("limit", "integer", "1 to 100 (default 10).", minimum=1, maximum=100)
_STARTING_AFTER = Param("starting_after", "string", "An id from the previous page.", max_length=100)
LIST_PAYMENTS = Params(
    "ListPayments",
    (_LIMIT, _STARTING_AFTER, Param("status", "string", "Only this status.", enum=STATUSES)),
)
LIST_EVENTS = Params(
    "ListEvents",
    (
        _LIMIT,
        _STARTING_AFTER,
        Param("type", "string", "Only this event type.", enum=EVENT_TYPES),
        Param("payment_id", "string", "Only this payment's events.", max_length=100),
    ),
)
LIST_ENDPOINTS = Params("ListWebhookEndpoints", (_LIMIT, _STARTING_AFTER))
LIST_DELIVERIES = Params(
    "ListDeliveries",
    (
        _LIMIT,
        _STARTING_AFTER,
        Param("event_id", "string", "Only this event's deliveries.", max_length=100),
        Param("type", "string", "Only this event type.", enum=EVENT_TYPES),
        Param("payment_id", "string", "Only this payment's deliveries.", max_length=100),
    ),
)

RESET = Params(
    "Reset",
    (
        Param(
            "seed",
            "integer",
            "Seed for this run's ids (default: the server's).",
            minimum=0,
            maximum=2**63 - 1,
        ),
        Param("signature", "string", "Signature scheme until the next reset.", enum=SCHEMES),
        Param("delivery", "string", "Delivery mode until the next reset.", enum=DELIVERY_MODES),
        Param(
            "auto_success_rate",
            "number",
            "Chance that simulate=auto succeeds.",
            minimum=0,
            maximum=1,
        ),
        Param("clock", "string", "Freeze the clock at this ISO 8601 time.", check=_iso_time),
    ),
)
_REQUIRED = Param(
    "required",
    "boolean",
    "Whether the rule is expected to be used up (default true; strict mode checks it).",
)
OUTCOMES = Params(
    "ForceOutcome",
    (
        Param("outcome", "string", "Forced pay outcome.", enum=FORCED_OUTCOMES),
        Param("refund_outcome", "string", "Forced refund outcome.", enum=REFUND_OUTCOMES),
        _TIMES,
        Param("payment_id", "string", "Only this payment's attempts.", max_length=100),
        Param(
            "decline_code",
            "string",
            "With `fail`: the decline code; with `requires_action`: the decline once "
            "authenticated.",
            enum=DECLINE_CODES,
        ),
        _REQUIRED,
    ),
    check=_control_outcome_check,
)
FAULT = Params(
    "InjectFault",
    (
        Param(
            "method",
            "string",
            "HTTP method, any case (default: any).",
            check=_http_method,
        ),
        Param("path", "string", "Glob on the request path (default: any).", max_length=500),
        Param(
            "status",
            "integer",
            "Status to answer with (default 503; absent with only "
            "`delay`: no fault, just the delay).",
            minimum=400,
            maximum=599,
        ),
        _TIMES,
        Param(
            "when",
            "string",
            "before: never executes; after: executes, answer lost.",
            enum=FAULT_TIMINGS,
        ),
        Param("delay", "number", "Seconds to wait first.", minimum=0, maximum=60),
        Param("drop_connection", "boolean", "Close the connection without an answer."),
        _REQUIRED,
    ),
)
CLOCK = Params(
    "Clock",
    (
        Param("advance", "number", "Seconds to move forward.", minimum=0, maximum=10 * 365 * 86400),
        Param(
            "freeze",
            "string",
            "Freeze at this ISO time (null: now).",
            nullable=True,
            check=_iso_time,
        ),
        Param("unfreeze", "boolean", "true: let the clock run again.", enum=(True,)),
    ),
    check=_clock_check,
)

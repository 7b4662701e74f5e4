"""The OpenAPI 3.1 document of every JSON route, built from the route table.

Bodies and query strings come from the same :class:`~pytest_paysim.http.params.Params` that
validate them, so the document cannot drift from what the server accepts.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from pytest_paysim._version import __version__
from pytest_paysim.core.deliveries import DELIVERY_MODES
from pytest_paysim.core.models import CAPTURE_METHODS, DIALECTS, REFUND_STATUSES
from pytest_paysim.core.signing import SCHEMES
from pytest_paysim.core.transitions import EVENT_TYPES, STATUSES
from pytest_paysim.http.routes import ROUTES, Route

__all__ = ["document"]

_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}


def _object(properties: dict[str, Any], *, required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


def _list_of(name: str) -> dict[str, Any]:
    return _object(
        {
            "object": {"const": "list"},
            "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}},
            "has_more": {"type": "boolean"},
        }
    )


_REFUND = _object(
    {
        "id": {"type": "string", "pattern": "^re_[0-9A-Za-z]{24}$"},
        "object": {"const": "refund"},
        "payment_id": {"type": "string"},
        "amount": {"type": "integer", "minimum": 1},
        "currency": {"type": "string"},
        "reason": {"type": ["string", "null"]},
        "status": {"enum": list(REFUND_STATUSES)},
        "created_at": _TIME,
    }
)
_PAYMENT = _object(
    {
        "id": {"type": "string", "pattern": "^pay_[0-9A-Za-z]{24}$"},
        "object": {"const": "payment"},
        "amount": {"type": "integer"},
        "currency": {"type": "string"},
        "status": {"enum": list(STATUSES)},
        "capture_method": {"enum": list(CAPTURE_METHODS)},
        "description": _NULLABLE_STRING,
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "client_secret": {"type": "string"},
        "payment_url": {"type": "string", "format": "uri"},
        "return_url": _NULLABLE_STRING,
        "amount_capturable": {"type": "integer", "minimum": 0},
        "amount_captured": {"type": "integer", "minimum": 0},
        "amount_refunded": {"type": "integer", "minimum": 0},
        "failure_code": _NULLABLE_STRING,
        "decline_code": _NULLABLE_STRING,
        "failure_message": _NULLABLE_STRING,
        "cancellation_reason": _NULLABLE_STRING,
        "refunds": {"type": "array", "items": {"$ref": "#/components/schemas/Refund"}},
        "next_action": {
            "oneOf": [
                {"type": "null"},
                _object(
                    {
                        "type": {"const": "redirect_to_url"},
                        "redirect_to_url": _object(
                            {
                                "url": {"type": "string", "format": "uri"},
                                "return_url": _NULLABLE_STRING,
                            }
                        ),
                    }
                ),
            ]
        },
        "created_at": _TIME,
        "updated_at": _TIME,
    }
)
_EVENT = _object(
    {
        "id": {"type": "string", "pattern": "^evt_[0-9A-Za-z]{24}$"},
        "object": {"const": "event"},
        "type": {"enum": list(EVENT_TYPES)},
        "created_at": _TIME,
        "data": _object(
            {
                "object": {"$ref": "#/components/schemas/Payment"},
                "refund": {"$ref": "#/components/schemas/Refund"},
            },
            required=["object"],
        ),
    }
)
_ENDPOINT = _object(
    {
        "id": {"type": "string", "pattern": "^we_[0-9A-Za-z]{24}$"},
        "object": {"const": "webhook_endpoint"},
        "url": {"type": "string"},
        "enabled_events": {"type": "array", "items": {"type": "string"}},
        "created_at": _TIME,
        "secret": {"type": "string"},
        "public_key": {"type": "string"},
    },
    required=["id", "object", "url", "enabled_events", "created_at"],
)
_DELIVERY_PROPERTIES = {
    "id": {"type": "string", "pattern": "^whd_[0-9A-Za-z]{24}$"},
    "object": {"const": "webhook_delivery"},
    "event_id": {"type": "string"},
    "type": {"type": "string"},
    "payment_id": {"type": "string"},
    "url": _NULLABLE_STRING,
    "attempt": {"type": "integer", "minimum": 1},
    "status_code": {"type": ["integer", "null"]},
    "error": _NULLABLE_STRING,
    "succeeded": {"type": ["boolean", "null"]},
    "sent_at": _NULLABLE_TIME,
    "next_attempt_at": _NULLABLE_TIME,
}
_CLOCK = _object({"now": _TIME, "frozen": {"type": "boolean"}})
_ERROR = _object(
    {
        "error": _object(
            {
                "type": {"type": "string"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "param": _NULLABLE_STRING,
                "payment_id": {"type": "string"},
            },
            required=["type", "code", "message", "param"],
        )
    }
)

SCHEMAS: dict[str, Any] = {
    "Payment": _PAYMENT,
    "Refund": _REFUND,
    "Event": _EVENT,
    "WebhookEndpoint": _ENDPOINT,
    "WebhookDelivery": _object(_DELIVERY_PROPERTIES),
    "PaymentList": _list_of("Payment"),
    "EventList": _list_of("Event"),
    "WebhookEndpointList": _list_of("WebhookEndpoint"),
    "WebhookDeliveryList": _list_of("WebhookDelivery"),
    "DeletedWebhookEndpoint": _object(
        {
            "id": {"type": "string"},
            "object": {"const": "webhook_endpoint"},
            "deleted": {"const": True},
        }
    ),
    "Health": _object({"status": {"const": "ok"}, "version": {"type": "string"}}),
    "OpenApi": {"type": "object", "required": ["openapi", "paths"]},
    "ClockState": _CLOCK,
    "ControlState": _object(
        {
            "object": {"const": "paysim_state"},
            "seed": {"type": "integer"},
            "signature": {"enum": list(SCHEMES)},
            "delivery": {"enum": list(DELIVERY_MODES)},
            "publishable_key": {"type": "string"},
            "clock": {"$ref": "#/components/schemas/ClockState"},
        },
        required=["object", "seed", "signature", "delivery", "clock"],
    ),
    "ControlDeliveries": _list_of("ControlDelivery"),
    "ControlDelivery": _object(
        {**_DELIVERY_PROPERTIES, "headers": {"type": "object"}, "body_base64": {"type": "string"}},
    ),
    "ControlPayments": _list_of("ControlPayment"),
    "ControlPayment": {
        **_PAYMENT,
        "properties": {
            **_PAYMENT["properties"],
            "id": {"type": "string", "pattern": "^(pay|pi)_[0-9A-Za-z]{24}$"},
            "dialect": {"enum": list(DIALECTS)},
        },
        "required": [*_PAYMENT["required"], "dialect"],
    },
    "ControlCalls": _list_of("ControlCall"),
    "ControlCall": _object(
        {
            "method": {"type": "string"},
            "path": {"type": "string"},
            "status": {"type": ["integer", "null"]},
            "idempotency_key": _NULLABLE_STRING,
            "replayed": {"type": "boolean"},
            "fault": {"type": ["object", "null"]},
            "request": {},
            "response": {},
        }
    ),
    "Error": _ERROR,
}

_ERROR_DESCRIPTIONS = {
    400: "Invalid request: parameter_missing, parameter_unknown, parameter_invalid, "
    "amount_too_large, invalid_json, idempotency_key_invalid.",
    401: "api_key_missing or api_key_invalid.",
    403: "client_secret_invalid.",
    404: "resource_missing or route_missing.",
    405: "method_not_allowed.",
    409: "payment_unexpected_state or idempotency_key_in_use.",
    413: "body_too_large (over 1 MiB).",
    415: "content_type_unsupported.",
    422: "idempotency_key_reused.",
    429: "Injected by a fault (rate_limit_error).",
    500: "A simulator bug (internal_error), or injected by a fault.",
    503: "Injected by a fault (injected_fault).",
}


def _error_statuses(route: Route) -> list[int]:
    # 400 everywhere: any route answers parameter_unknown to a query parameter it does not take.
    statuses = [400, 404, 405, 429, 500, 503]
    if route.auth != "none":
        statuses += [401]
    if route.auth == "key_or_secret":
        statuses += [403]
    if route.body is not None:
        statuses += [413, 415]
    if route.path.startswith("/v1/payments/<id>/"):
        statuses += [409]
    if route.idempotent:
        statuses += [409, 422]
    return sorted(set(statuses))


def _operation(route: Route) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    if "<id>" in route.path:
        parameters.append(
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
        )
    for param in route.query.fields:
        parameters.append(
            {"name": param.name, "in": "query", "required": False, "schema": param.schema()}
        )
    if route.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": "Replays the stored answer for 24 hours.",
            }
        )
    operation: dict[str, Any] = {
        "operationId": route.endpoint,
        "summary": route.summary,
        "parameters": parameters,
        "responses": {
            str(route.status): {
                "description": "Success.",
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{route.response}"}
                    }
                },
            },
            **{
                str(status): {
                    "description": _ERROR_DESCRIPTIONS[status],
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
                for status in _error_statuses(route)
            },
        },
    }
    if route.auth == "none":
        operation["security"] = []
    elif route.auth == "key_or_secret":
        operation["security"] = [{"bearer": []}, {"basic": []}, {"clientSecret": []}]
    if route.body is not None:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": route.body.schema()}},
        }
    return operation


@functools.lru_cache(maxsize=8)
def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in ROUTES:
        if route.html:
            continue
        path = re.sub(r"<(\w+)>", r"{\1}", route.path)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route)
    return paths


def document(*, server_url: str | None = None) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pytest-paysim payment simulator",
            "version": __version__,
            "description": "A stateful payment-gateway simulator for tests.",
        },
        "servers": [{"url": server_url}] if server_url else [],
        "security": [{"bearer": []}, {"basic": []}],
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
                "clientSecret": {"type": "apiKey", "in": "query", "name": "client_secret"},
            },
        },
    }

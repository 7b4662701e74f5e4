"""Every error pytest-paysim raises, in one place.

The tree::

    PaysimError
    ├── WebhookVerificationError      a webhook signature or timestamp did not check out
    ├── ConfigurationError            a bad option, marker argument or server setting
    └── ApiError                      an answer of the HTTP API (the error *is* the response)
        ├── 400 ParameterMissing, ParameterUnknown, ParameterInvalid, AmountTooLarge,
        │       InvalidJson, IdempotencyKeyInvalid
        ├── 401 ApiKeyMissing, ApiKeyInvalid
        ├── 403 ClientSecretInvalid
        ├── 404 ResourceMissing, RouteMissing
        ├── 405 MethodNotAllowed
        ├── 409 PaymentUnexpectedState, IdempotencyKeyInUse, SimulatorReset
        ├── 413 BodyTooLarge
        ├── 415 ContentTypeUnsupported
        ├── 422 IdempotencyKeyReused
        └── 429/5xx InjectedFault, 500 InternalError

Each ``ApiError`` subclass carries its HTTP ``status``, error ``type`` and ``code`` as class
attributes; :meth:`ApiError.to_dict` renders the JSON error shape of the API
(``{"error": {"type", "code", "message", "param"}}``, see ``docs/api.md``)::

    >>> ParameterMissing("Pass `amount`.", param="amount").to_dict()["error"]["code"]
    'parameter_missing'

The core raises these too: a status number is data here, not an HTTP dependency.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AmountTooLarge",
    "ApiError",
    "ApiKeyInvalid",
    "ApiKeyMissing",
    "BodyTooLarge",
    "ClientSecretInvalid",
    "ConfigurationError",
    "ContentTypeUnsupported",
    "IdempotencyKeyInUse",
    "IdempotencyKeyInvalid",
    "IdempotencyKeyReused",
    "InjectedFault",
    "InternalError",
    "InvalidJson",
    "MethodNotAllowed",
    "ParameterInvalid",
    "ParameterMissing",
    "ParameterUnknown",
    "PaymentUnexpectedState",
    "PaysimError",
    "ResourceMissing",
    "RouteMissing",
    "SimulatorReset",
    "WebhookVerificationError",
    "unknown_starting_after",
]


class PaysimError(Exception):
    """Base class of every error pytest-paysim raises."""


class WebhookVerificationError(PaysimError):
    """A webhook's signature, timestamp or secret did not check out."""


class ConfigurationError(PaysimError):
    """An option, marker argument or server setting is not usable."""


class ApiError(PaysimError):
    """An error answer of the HTTP API; subclasses fix ``status``, ``type`` and ``code``."""

    status: ClassVar[int] = 400
    type: ClassVar[str] = "invalid_request_error"
    code: ClassVar[str] = "api_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        payment_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.payment_id = payment_id
        self.headers: dict[str, str] = headers or {}

    @property
    def status_code(self) -> int:
        """The HTTP status of this answer (an instance may override the class's)."""
        return self.status

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of this error."""
        error: dict[str, Any] = {
            "type": self.type,
            "code": self.code,
            "message": self.message,
            "param": self.param,
        }
        if self.payment_id is not None:
            error["payment_id"] = self.payment_id
        return {"error": error}


class ParameterMissing(ApiError):
    code = "parameter_missing"


class ParameterUnknown(ApiError):
    code = "parameter_unknown"


class ParameterInvalid(ApiError):
    code = "parameter_invalid"


def unknown_starting_after(value: str) -> ParameterInvalid:
    """The 400 of every list whose ``starting_after`` names nothing in it."""
    return ParameterInvalid(
        f"`starting_after` names no object in this list: {value[:100]!r}; pass an id from the "
        "previous page.",
        param="starting_after",
    )


class AmountTooLarge(ApiError):
    code = "amount_too_large"


class InvalidJson(ApiError):
    code = "invalid_json"


class IdempotencyKeyInvalid(ApiError):
    code = "idempotency_key_invalid"


class ApiKeyMissing(ApiError):
    status = 401
    type = "authentication_error"
    code = "api_key_missing"


class ApiKeyInvalid(ApiError):
    status = 401
    type = "authentication_error"
    code = "api_key_invalid"


class ClientSecretInvalid(ApiError):
    status = 403
    type = "permission_error"
    code = "client_secret_invalid"


class ResourceMissing(ApiError):
    status = 404
    code = "resource_missing"


class RouteMissing(ApiError):
    status = 404
    code = "route_missing"


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"


class PaymentUnexpectedState(ApiError):
    status = 409
    code = "payment_unexpected_state"


class IdempotencyKeyInUse(ApiError):
    status = 409
    type = "idempotency_error"
    code = "idempotency_key_in_use"


class SimulatorReset(ApiError):
    """The simulator was reset (a new test began) while this request waited; nothing ran."""

    status = 409
    code = "simulator_reset"


class BodyTooLarge(ApiError):
    status = 413
    code = "body_too_large"


class ContentTypeUnsupported(ApiError):
    status = 415
    code = "content_type_unsupported"


class IdempotencyKeyReused(ApiError):
    status = 422
    type = "idempotency_error"
    code = "idempotency_key_reused"


class InternalError(ApiError):
    """A bug in the simulator; its traceback fails the running test, or goes to the log of
    ``paysim serve``."""

    status = 500
    type = "api_error"
    code = "internal_error"


class InjectedFault(ApiError):
    """An answer forced by ``inject_fault``; its status is chosen per fault."""

    type = "api_error"
    code = "injected_fault"

    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(message or f"Fault injected by the test (HTTP {status}).")
        self._status = status

    @property
    def status_code(self) -> int:
        return self._status

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        if self._status == 429:
            body["error"]["type"] = "rate_limit_error"
        elif self._status < 500:
            body["error"]["type"] = "invalid_request_error"
        return body

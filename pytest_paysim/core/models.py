"""The simulator's records: payments, refunds, customers, payment methods, events, webhook
endpoints, delivery attempts.

Records are dataclasses with ``__slots__``. A record a store holds is never changed in place:
an operation changes a copy (:meth:`Payment.copy`, :func:`dataclasses.replace`) and saves it,
so a reader always sees a whole record and a rolled-back operation leaves the stored one as it
was. ``to_dict`` gives the JSON shape of the HTTP API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from pytest_paysim.core.clock import format_time

__all__ = [
    "CAPTURE_METHODS",
    "DIALECTS",
    "ENDPOINT_DISABLED",
    "ENDPOINT_ENABLED",
    "ENDPOINT_STATUSES",
    "REFUND_FAILED",
    "REFUND_STATUSES",
    "REFUND_SUCCEEDED",
    "CaptureMethod",
    "Charge",
    "Customer",
    "DeliveryAttempt",
    "Event",
    "IdempotencyRecord",
    "Payment",
    "PaymentMethod",
    "Refund",
    "WebhookEndpoint",
    "dump_json",
]


DIALECTS = ("native", "stripe")
"""The front ends a payment can belong to: ids ``pay_`` (native) or ``pi_`` (Stripe's)."""

CaptureMethod = Literal["automatic", "manual"]
"""``automatic``: a successful pay captures the money; ``manual``: it only authorizes."""
CAPTURE_METHODS: tuple[CaptureMethod, ...] = get_args(CaptureMethod)
EndpointStatus = Literal["enabled", "disabled"]
ENDPOINT_STATUSES: tuple[EndpointStatus, ...] = get_args(EndpointStatus)
ENDPOINT_ENABLED: EndpointStatus = "enabled"
ENDPOINT_DISABLED: EndpointStatus = "disabled"
RefundStatus = Literal["succeeded", "failed"]
REFUND_STATUSES: tuple[RefundStatus, ...] = get_args(RefundStatus)
REFUND_SUCCEEDED: RefundStatus = "succeeded"
REFUND_FAILED: RefundStatus = "failed"


def dump_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, the form every body of the simulator takes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(slots=True)
class Refund:
    """A refund of (part of) a payment; failed ones are kept too."""

    id: str
    payment_id: str
    amount: int
    currency: str
    reason: str | None
    status: str
    created_at: float
    charge_id: str | None = None
    """The charge refunded (payments of a dialect that has charges)."""
    metadata: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "refund",
            "payment_id": self.payment_id,
            "amount": self.amount,
            "currency": self.currency,
            "reason": self.reason,
            "status": self.status,
            "created_at": format_time(self.created_at),
        }


@dataclass(slots=True)
class Charge:
    """One confirmation attempt of a payment that keeps charges (the Stripe dialect's).

    Kept in the payment (``Payment.charges``, oldest first) and findable by id. A charge
    changes when its payment is captured or refunded: the payment's copy is replaced whole.
    """

    id: str
    payment_id: str
    amount: int
    currency: str
    status: str
    """``succeeded`` or ``failed``."""
    created_at: float
    payment_method: str | None = None
    captured: bool = False
    amount_captured: int = 0
    amount_refunded: int = 0
    failure_code: str | None = None
    decline_code: str | None = None
    failure_message: str | None = None
    three_d_secure: bool = False


@dataclass(slots=True)
class Payment:
    """A payment and its money: what can be captured, what was captured, what was refunded."""

    id: str
    amount: int
    currency: str
    client_secret: str
    payment_url: str
    created_at: float
    updated_at: float
    capture_method: str = "automatic"
    status: str = "requires_payment_method"
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    return_url: str | None = None
    amount_capturable: int = 0
    amount_captured: int = 0
    amount_refunded: int = 0
    failure_code: str | None = None
    decline_code: str | None = None
    failure_message: str | None = None
    cancellation_reason: str | None = None
    refunds: list[Refund] = field(default_factory=list)
    authentication_url: str | None = None
    """The hosted 3-D Secure page while ``requires_action`` (shown as ``next_action``)."""
    decline_after_authentication: str | None = None
    """The decline code a 3-D Secure card gives once authenticated (not shown in the API)."""
    dialect: str = "native"
    """The front end the payment belongs to (:data:`DIALECTS`); only it shows the payment."""
    payment_method: str | None = None
    """The attached payment method's id; a failed attempt detaches it."""
    customer: str | None = None
    canceled_at: float | None = None
    charges: list[Charge] = field(default_factory=list)
    """One per confirmation attempt, oldest first (dialects with charges only)."""
    attributes: dict[str, Any] = field(default_factory=dict)
    """What a dialect keeps on the payment and the core never reads (JSON values)."""
    _json: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def copy(self) -> Payment:
        """A copy to change: its own metadata and refund list (refunds never change)."""
        return Payment(
            self.id,
            self.amount,
            self.currency,
            self.client_secret,
            self.payment_url,
            self.created_at,
            self.updated_at,
            self.capture_method,
            self.status,
            self.description,
            dict(self.metadata),
            self.return_url,
            self.amount_capturable,
            self.amount_captured,
            self.amount_refunded,
            self.failure_code,
            self.decline_code,
            self.failure_message,
            self.cancellation_reason,
            list(self.refunds),
            self.authentication_url,
            self.decline_after_authentication,
            self.dialect,
            self.payment_method,
            self.customer,
            self.canceled_at,
            list(self.charges),
            dict(self.attributes),
        )

    @property
    def latest_charge(self) -> Charge | None:
        """The charge of the last confirmation attempt, if any."""
        return self.charges[-1] if self.charges else None

    @property
    def webhook_url(self) -> str | None:
        """The per-payment webhook target from ``metadata.webhook_url``."""
        return self.metadata.get("webhook_url")

    def to_json(self) -> bytes:
        """:meth:`to_dict` as JSON, made once per record: the event of a change and the answer
        to its request both show it (stored records are never changed, see the module)."""
        if self._json is None:
            self._json = dump_json(self.to_dict())
        return self._json

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "payment",
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status,
            "capture_method": self.capture_method,
            "description": self.description,
            "metadata": dict(self.metadata),
            "client_secret": self.client_secret,
            "payment_url": self.payment_url,
            "return_url": self.return_url,
            "amount_capturable": self.amount_capturable,
            "amount_captured": self.amount_captured,
            "amount_refunded": self.amount_refunded,
            "failure_code": self.failure_code,
            "decline_code": self.decline_code,
            "failure_message": self.failure_message,
            "cancellation_reason": self.cancellation_reason,
            "refunds": [refund.to_dict() for refund in self.refunds],
            "next_action": self.next_action(),
            "created_at": format_time(self.created_at),
            "updated_at": format_time(self.updated_at),
        }

    def next_action(self) -> dict[str, Any] | None:
        """What the customer must do next: authenticate on the hosted page, or nothing."""
        if self.authentication_url is None:
            return None
        return {
            "type": "redirect_to_url",
            "redirect_to_url": {"url": self.authentication_url, "return_url": self.return_url},
        }


@dataclass(slots=True)
class Customer:
    """A customer of a dialect that has them (the Stripe dialect's ``cus_``).

    A deleted customer is kept, with ``deleted`` set, so that it can still be read (Stripe
    answers ``{"deleted": true}`` for it); lists leave it out.
    """

    id: str
    created_at: float
    email: str | None = None
    name: str | None = None
    description: str | None = None
    phone: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    deleted: bool = False
    dialect: str = "stripe"
    """The front end the customer belongs to; its renderer makes the customer's events."""


@dataclass(slots=True)
class PaymentMethod:
    """A card saved as a payment method (``pm_``), attached to a customer or not.

    The number is a test card's (section 9): paying with the method pays with the number, so
    it declines, or asks for 3-D Secure, as the number does.
    """

    id: str
    card_number: str
    exp_month: int
    exp_year: int
    created_at: float
    customer: str | None = None
    """The id of the customer it is attached to."""

    @property
    def last4(self) -> str:
        """The card number's last four digits."""
        return self.card_number[-4:]


@dataclass(slots=True)
class Event:
    """Something that happened to a payment; ``body`` is the exact JSON that webhooks carry.

    The body is serialised once, when the event happens, so that every delivery attempt sends
    the same bytes (and shares the one ``bytes`` object).
    """

    id: str
    type: str
    payment_id: str
    """The payment the event is about (for a customer's event, the customer's id)."""
    created_at: float
    body: bytes
    dialect: str = "native"

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


@dataclass(slots=True)
class WebhookEndpoint:
    """A registered webhook receiver with its own signing secret.

    An endpoint belongs to the front end that registered it (``dialect``) and receives that
    dialect's events only; a ``disabled`` one receives nothing.
    """

    id: str
    url: str
    enabled_events: list[str]
    secret: str
    created_at: float
    dialect: str = "native"
    """The front end it was registered through (:data:`DIALECTS`): it gets that one's events."""
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    status: str = ENDPOINT_ENABLED
    """``enabled`` or ``disabled`` (:data:`ENDPOINT_STATUSES`)."""

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint, enabled, subscribes to ``event_type``."""
        if self.status != ENDPOINT_ENABLED:
            return False
        return "*" in self.enabled_events or event_type in self.enabled_events

    def to_dict(self, *, with_secret: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = {
            "id": self.id,
            "object": "webhook_endpoint",
            "url": self.url,
            "enabled_events": list(self.enabled_events),
            "created_at": format_time(self.created_at),
        }
        if with_secret:
            result["secret"] = self.secret
        return result


@dataclass(slots=True)
class DeliveryAttempt:
    """One attempt to deliver one event to one URL (``url`` None: captured, not sent).

    Planned attempts (the outbox) have ``sent_at`` None and a ``due_at``; once made, the
    simulator saves a copy with what was sent and what came back.
    """

    id: str
    event_id: str
    type: str
    payment_id: str
    url: str | None
    endpoint_id: str | None
    attempt: int
    due_at: float
    generation: int
    body: bytes = b""
    """The exact bytes sent: the same object as its event's body."""
    headers: dict[str, str] = field(default_factory=dict)
    """The headers sent, signature included (empty while planned)."""
    status_code: int | None = None
    error: str | None = None
    succeeded: bool | None = None
    sent_at: float | None = None
    next_attempt_at: float | None = None
    response_body: str | None = None
    signed_with: str | None = None
    """The first secret that signed this attempt (what a test verifies it with)."""
    dialect: str = "native"
    """The dialect of its event: it decides the signature header."""

    @property
    def pending(self) -> bool:
        """Planned and not yet attempted."""
        return self.sent_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "webhook_delivery",
            "event_id": self.event_id,
            "type": self.type,
            "payment_id": self.payment_id,
            "url": self.url,
            "attempt": self.attempt,
            "status_code": self.status_code,
            "error": self.error,
            "succeeded": self.succeeded,
            "sent_at": None if self.sent_at is None else format_time(self.sent_at),
            "next_attempt_at": (
                None if self.next_attempt_at is None else format_time(self.next_attempt_at)
            ),
        }


@dataclass(slots=True)
class IdempotencyRecord:
    """The stored answer to a request made with an ``Idempotency-Key``."""

    scope: str
    key: str
    fingerprint: str
    status: int
    body: bytes
    created_at: float

"""How a dialect's events are made: the renderer a front end registers with the simulator.

A native payment's transition emits one ``payment.*`` event whose body the core writes
itself. A payment of another dialect (``Payment.dialect``) emits whatever that dialect's
:class:`EventRenderer` makes of the same transition: zero or more events, each with its type
and the exact body webhooks carry, and the signature headers of its deliveries. The core
imports no dialect: the front end registers its renderer when it is wired to a simulator::

    simulator.register_dialect("stripe", StripeEvents(simulator))

and the core then calls ``render`` inside the operation's transaction (the ids it draws are
taken back with everything else on a rollback) and ``signature_headers`` when an attempt is
sent. A customer (``Customer.dialect``) created, updated or deleted is rendered the same way,
by ``render_customer``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from pytest_paysim.core.models import Charge, Customer, Payment, Refund
from pytest_paysim.core.transitions import Transition

__all__ = ["CustomerAction", "CustomerChange", "EventRenderer", "Occurrence", "RenderedEvent"]

CustomerAction = Literal["created", "updated", "deleted"]


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A transition that happened to a payment, as a renderer sees it."""

    row: Transition
    payment: Payment
    """The payment after the transition."""
    before: Payment | None
    """The payment before it (None when it was just created)."""
    at: float
    """Simulator time."""
    refund: Refund | None = None
    charge: Charge | None = None
    """The charge the transition made or changed, if any."""
    targets: Callable[[str], int] = lambda event_type: 0
    """How many webhook receivers an event of a type goes to (the payment's ``webhook_url``
    and the dialect's endpoints that want it): Stripe's ``pending_webhooks``."""


@dataclass(frozen=True, slots=True)
class CustomerChange:
    """A customer created, updated or deleted, as a renderer sees it."""

    action: CustomerAction
    customer: Customer
    """The customer after the change (a deleted one has ``deleted`` set)."""
    before: Customer | None
    """The customer before it (None when it was just created)."""
    at: float
    """Simulator time."""
    targets: Callable[[str], int] = lambda event_type: 0
    """As :attr:`Occurrence.targets`: Stripe's ``pending_webhooks``."""


@dataclass(frozen=True, slots=True)
class RenderedEvent:
    """One event of a dialect: its id, type and the exact bytes webhooks carry."""

    id: str
    type: str
    body: bytes


class EventRenderer(Protocol):
    """What a dialect tells the core about its events."""

    def render(self, occurrence: Occurrence, new_id: Callable[[], str]) -> Sequence[RenderedEvent]:
        """The events of ``occurrence``, in order; ``new_id()`` gives each its ``evt_`` id."""

    def render_customer(
        self, change: CustomerChange, new_id: Callable[[], str]
    ) -> Sequence[RenderedEvent]:
        """The events of a customer's ``change``, in order (``new_id`` as for ``render``)."""

    def signature_headers(
        self, body: bytes, secrets: Sequence[str], timestamp: int
    ) -> dict[str, str]:
        """Every header of one delivery of ``body``, signed with ``secrets`` (HMAC ones)."""

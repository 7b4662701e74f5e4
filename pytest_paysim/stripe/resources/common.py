"""What every resource's handlers share: the request, and reading Stripe's parameters.

A handler takes a :class:`Request` (the simulator, the decoded parameters, the path's id) and
answers ``(status, object)``; these helpers read parameters the way Stripe does and raise the
dialect's errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pytest_paysim.core.models import Customer, Payment
from pytest_paysim.core.simulator import Simulator
from pytest_paysim.errors import ParameterInvalid
from pytest_paysim.errors import ResourceMissing as NativeResourceMissing
from pytest_paysim.stripe import forms, objects, views
from pytest_paysim.stripe.errors import ResourceMissing
from pytest_paysim.stripe.forms import FormValue

__all__ = [
    "MAX_AMOUNT",
    "Answer",
    "Request",
    "amount",
    "customer",
    "customer_param",
    "expand",
    "intent",
    "intent_answer",
    "limit",
    "page",
    "payment_method",
    "scan",
    "string",
    "stripe_payments",
]

Answer = tuple[int, dict[str, Any]]

MAX_AMOUNT = 99_999_999
_SCAN_PAGE = 100


@dataclass
class Request:
    """What a handler knows of its request."""

    sim: Simulator
    params: dict[str, FormValue]
    args: dict[str, str] = field(default_factory=dict)


def expand(params: Mapping[str, FormValue], allowed: tuple[str, ...]) -> set[str]:
    """The names asked for in ``expand[]``, each one of ``allowed``."""
    if "expand" not in params:
        return set()
    wanted = forms.to_string_list(params["expand"], "expand")
    for name in wanted:
        if name not in allowed:
            raise ParameterInvalid(f"This property cannot be expanded ({name}).", param="expand")
    return set(wanted)


def intent(
    sim: Simulator, intent_id: str, *, param: str = "intent", in_body: bool = False
) -> Payment:
    """A Stripe payment (never a native one), or Stripe's ``resource_missing``."""
    try:
        payment = sim.get_payment(intent_id)
    except NativeResourceMissing:
        payment = None
    if payment is None or payment.dialect != "stripe":
        raise ResourceMissing("payment_intent", intent_id, param=param, in_body=in_body)
    return payment


def string(params: Mapping[str, FormValue], name: str, **options: Any) -> str | None:
    """The string parameter ``name``, or ``None`` when absent (see ``forms.to_string``)."""
    if name not in params:
        return None
    return forms.to_string(params[name], name, **options)


def amount(params: Mapping[str, FormValue], name: str) -> int | None:
    """The amount parameter ``name`` (a positive integer in range), or ``None`` when absent."""
    if name not in params:
        return None
    return forms.to_integer(params[name], name, minimum=1, maximum=MAX_AMOUNT)


def payment_method(sim: Simulator, params: Mapping[str, FormValue]) -> str | None:
    """The ``payment_method`` parameter, checked to be a test id or a created method."""
    method = string(params, "payment_method")
    if method is not None:
        views.card_of(sim, method)
    return method


def customer(
    sim: Simulator, customer_id: str, *, param: str = "id", in_body: bool = False
) -> Customer:
    """A customer that is not deleted, or Stripe's ``resource_missing`` naming ``param``."""
    try:
        found = sim.get_customer(customer_id)
    except NativeResourceMissing:
        found = None
    if found is None or found.deleted or found.dialect != "stripe":
        raise ResourceMissing("customer", customer_id, param=param, in_body=in_body)
    return found


def customer_param(
    sim: Simulator, params: Mapping[str, FormValue], *, unsettable: bool = False
) -> str | None:
    """The ``customer`` parameter: the id of a customer that exists (400 otherwise)."""
    customer_id = string(params, "customer", unsettable=unsettable)
    if customer_id is not None:
        customer(sim, customer_id, param="customer", in_body=True)
    return customer_id


def limit(params: Mapping[str, FormValue]) -> int:
    """The ``limit`` of a list (1 to 100; 10 when absent)."""
    if "limit" not in params:
        return 10
    return forms.to_integer(params["limit"], "limit", minimum=1, maximum=100)


def page(items: list[dict[str, Any]], params: Mapping[str, FormValue], url: str) -> dict[str, Any]:
    """A Stripe list page over ``items`` (newest first): limit, starting_after, ending_before."""
    count = limit(params)
    after = string(params, "starting_after")
    before = string(params, "ending_before")
    ids = [item["id"] for item in items]
    if after is not None:
        if after not in ids:
            raise ResourceMissing("object", after, param="starting_after", in_body=True)
        chosen = items[ids.index(after) + 1 :]
        return objects.list_object(chosen[:count], url=url, has_more=len(chosen) > count)
    if before is not None:
        if before not in ids:
            raise ResourceMissing("object", before, param="ending_before", in_body=True)
        chosen = items[: ids.index(before)]
        return objects.list_object(chosen[-count:], url=url, has_more=len(chosen) > count)
    return objects.list_object(items[:count], url=url, has_more=len(items) > count)


class _Record(Protocol):
    @property
    def id(self) -> str: ...


_R = TypeVar("_R", bound=_Record)


def scan(fetch: Callable[[int, str | None], tuple[list[_R], bool]]) -> list[_R]:
    """Every record of a list of the simulator, newest first: ``fetch(limit, starting_after)``
    page after page (a scan: lists of the dialect are for tests, and ``ending_before`` needs
    the whole list; see :func:`page`)."""
    found: list[_R] = []
    after: str | None = None
    while True:
        records, more = fetch(_SCAN_PAGE, after)
        found.extend(records)
        if not more or not records:
            return found
        after = records[-1].id


def stripe_payments(sim: Simulator) -> list[Payment]:
    """Every payment intent, newest first."""
    return scan(
        lambda limit, after: sim.payments(limit=limit, starting_after=after, dialect="stripe")
    )


def intent_answer(sim: Simulator, payment: Payment, expand: set[str]) -> Answer:
    """A payment intent as a 200 answer."""
    return 200, views.payment_intent(payment, sim, expand=expand)

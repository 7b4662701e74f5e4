"""What every resource's handlers share: the request, and reading Stripe's parameters.

A handler takes a :class:`Request` (the simulator, the decoded parameters, the path's id) and
answers ``(status, object)``; these helpers read parameters the way Stripe does and raise the
dialect's errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pytest_paysim.core.currencies import CURRENCIES
from pytest_paysim.core.models import Customer, Payment
from pytest_paysim.core.simulator import Simulator
from pytest_paysim.core.urls import MAX_URL_LENGTH, is_http_url
from pytest_paysim.errors import ParameterInvalid
from pytest_paysim.errors import ResourceMissing as NativeResourceMissing
from pytest_paysim.stripe import forms, objects, views
from pytest_paysim.stripe.errors import EmailInvalid, ResourceMissing
from pytest_paysim.stripe.forms import FormValue

__all__ = [
    "MAX_AMOUNT",
    "Answer",
    "Request",
    "amount",
    "customer",
    "customer_param",
    "email",
    "expand",
    "http_url",
    "intent",
    "intent_answer",
    "limit",
    "list_expand",
    "looks_like_email",
    "metadata",
    "page",
    "payment_method",
    "scan",
    "string",
    "stripe_payments",
    "supported_currency",
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


def list_expand(params: Mapping[str, FormValue], allowed: tuple[str, ...]) -> set[str]:
    """The item fields a list's ``expand[]`` asks for: each ``data.<field>`` with ``field``
    one of ``allowed`` (the 400 of :func:`expand` otherwise); the fields, without ``data.``."""
    listed = expand(params, tuple(f"data.{name}" for name in allowed))
    return {name.removeprefix("data.") for name in listed}


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


def supported_currency(params: Mapping[str, FormValue], name: str = "currency") -> str | None:
    """The currency parameter ``name``, lower-cased: one of the core's ISO 4217 codes (the
    native API's list), or 400 ``parameter_invalid``; ``None`` when absent."""
    text = string(params, name)
    if text is None:
        return None
    code = text.lower()
    if code not in CURRENCIES:
        raise ParameterInvalid(
            f"Invalid currency: {text[:20]}. Give a three-letter ISO 4217 code in lowercase, "
            "such as usd or eur.",
            param=name,
        )
    return code


def looks_like_email(text: str) -> bool:
    """The only check of an email address: ``local@domain``, no spaces."""
    local, at, domain = text.rpartition("@")
    return bool(at and local and domain) and not any(char.isspace() for char in text)


def email(
    params: Mapping[str, FormValue], name: str, *, max_length: int = 512, unsettable: bool = False
) -> str | None:
    """The email parameter ``name`` (400 ``email_invalid`` if it is not ``local@domain``);
    ``None`` when absent (or unset with ``""``, where ``unsettable``)."""
    text = string(params, name, max_length=max_length, unsettable=unsettable)
    if text is not None and not looks_like_email(text):
        raise EmailInvalid(text, param=name)
    return text


def http_url(value: FormValue, name: str, *, example: str = "https://example.com/return") -> str:
    """An absolute http(s) URL with a host and port a client can use (the native API's
    check), or 400 ``parameter_invalid`` naming ``name`` and showing ``example``."""
    url = forms.to_string(value, name, max_length=MAX_URL_LENGTH)
    assert url is not None
    if not is_http_url(url):
        raise ParameterInvalid(
            f"Invalid URL: {url[:200]}. {name} must be an absolute http or https URL, such "
            f"as {example}.",
            param=name,
        )
    return url


def metadata(
    params: Mapping[str, FormValue], current: Mapping[str, str] | None = None
) -> dict[str, str] | None:
    """``current`` metadata after the ``metadata`` parameter (``None`` when it is absent),
    merged as Stripe merges; ``webhook_url``, which receives the object's webhooks, must be
    an absolute http(s) URL, as in the native API."""
    if "metadata" not in params:
        return None
    merged = forms.merge_metadata(current or {}, params["metadata"])
    if "webhook_url" in merged:
        http_url(merged["webhook_url"], "metadata[webhook_url]")
    return merged


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

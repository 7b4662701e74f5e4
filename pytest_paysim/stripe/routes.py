"""The Stripe dialect's routes and handlers: Stripe parameters in, simulator calls, objects out.

Each handler takes a :class:`Request` (the simulator, the decoded parameters, the path's id)
and answers ``(status, object)``. State changes run inside
:meth:`Simulator.execute <pytest_paysim.core.simulator.Simulator.execute>` (the app does that),
so a handler may call several operations and they commit together. A declined confirmation is
an answer, not an error: the failed charge and the intent's new state are kept, and the 402
body is stored under the idempotency key like any answer::

    route, args = match("POST", "/v1/payment_intents/pi_123/confirm")
    status, body = route.handler(Request(simulator, params, args))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_paysim.core.models import Payment
from pytest_paysim.core.outcomes import AUTHENTICATION_OUTCOMES
from pytest_paysim.core.simulator import Simulator
from pytest_paysim.errors import AmountTooLarge, ParameterInvalid, ParameterMissing
from pytest_paysim.errors import ResourceMissing as NativeResourceMissing
from pytest_paysim.stripe import forms, objects, views
from pytest_paysim.stripe.cards import decline_error
from pytest_paysim.stripe.errors import (
    ChargeAlreadyRefunded,
    PaymentIntentUnexpectedState,
    ResourceMissing,
    UnrecognizedUrl,
    render_error,
    unexpected_state,
)
from pytest_paysim.stripe.forms import FormValue

__all__ = ["ROUTES", "Request", "Route", "match"]

Answer = tuple[int, dict[str, Any]]

_CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
_CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_INTENT_EXPANDS = ("latest_charge", "payment_method")
_REFUND_EXPANDS = ("charge", "payment_intent")
_CHARGE_EXPANDS = ("payment_intent",)
_MAX_AMOUNT = 99_999_999
_SCAN_PAGE = 100


@dataclass
class Request:
    """What a handler knows of its request."""

    sim: Simulator
    params: dict[str, FormValue]
    args: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """One method and path pattern of the dialect."""

    method: str
    pattern: re.Pattern[str]
    handler: Callable[[Request], Answer]
    changes_state: bool


# -- reading ------------------------------------------------------------------------------------


def _expand(params: Mapping[str, FormValue], allowed: tuple[str, ...]) -> set[str]:
    if "expand" not in params:
        return set()
    wanted = forms.to_string_list(params["expand"], "expand")
    for name in wanted:
        if name not in allowed:
            raise ParameterInvalid(f"This property cannot be expanded ({name}).", param="expand")
    return set(wanted)


def _intent(
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


def _string(params: Mapping[str, FormValue], name: str, **options: Any) -> str | None:
    if name not in params:
        return None
    return forms.to_string(params[name], name, **options)


def _amount(params: Mapping[str, FormValue], name: str) -> int | None:
    if name not in params:
        return None
    return forms.to_integer(params[name], name, minimum=1, maximum=_MAX_AMOUNT)


def _payment_method(params: Mapping[str, FormValue]) -> str | None:
    method = _string(params, "payment_method")
    if method is not None:
        views.card_of(method)
    return method


def _limit(params: Mapping[str, FormValue]) -> int:
    if "limit" not in params:
        return 10
    return forms.to_integer(params["limit"], "limit", minimum=1, maximum=100)


def _page(items: list[dict[str, Any]], params: Mapping[str, FormValue], url: str) -> dict[str, Any]:
    """A Stripe list page over ``items`` (newest first): limit, starting_after, ending_before."""
    limit = _limit(params)
    after = _string(params, "starting_after")
    before = _string(params, "ending_before")
    ids = [item["id"] for item in items]
    if after is not None:
        if after not in ids:
            raise ResourceMissing("object", after, param="starting_after", in_body=True)
        chosen = items[ids.index(after) + 1 :]
        return objects.list_object(chosen[:limit], url=url, has_more=len(chosen) > limit)
    if before is not None:
        if before not in ids:
            raise ResourceMissing("object", before, param="ending_before", in_body=True)
        chosen = items[: ids.index(before)]
        return objects.list_object(chosen[-limit:], url=url, has_more=len(chosen) > limit)
    return objects.list_object(items[:limit], url=url, has_more=len(items) > limit)


def _stripe_payments(sim: Simulator) -> list[Payment]:
    """Every payment intent, newest first (a scan: lists of the dialect are for tests)."""
    found: list[Payment] = []
    after: str | None = None
    while True:
        page, more = sim.payments(limit=_SCAN_PAGE, starting_after=after, dialect="stripe")
        found.extend(page)
        if not more or not page:
            return found
        after = page[-1].id


def _intent_answer(payment: Payment, expand: set[str]) -> Answer:
    return 200, views.payment_intent(payment, expand=expand)


# -- payment intents ------------------------------------------------------------------------------


def create_intent(request: Request) -> Answer:
    params = request.params
    forms.reject_unknown(
        params,
        (
            "amount",
            "currency",
            "description",
            "metadata",
            "payment_method",
            "customer",
            "capture_method",
            "confirm",
            "return_url",
            "receipt_email",
            "payment_method_types",
            "expand",
        ),
    )
    expand = _expand(params, _INTENT_EXPANDS)
    amount = forms.to_integer(
        forms.require(params, "amount"), "amount", minimum=1, maximum=_MAX_AMOUNT
    )
    currency = forms.to_string(forms.require(params, "currency"), "currency", max_length=3)
    assert currency is not None
    capture_method = "automatic"
    if "capture_method" in params:
        capture_method = forms.to_enum(params["capture_method"], "capture_method", _CAPTURE_METHODS)
    confirm = forms.to_boolean(params["confirm"], "confirm") if "confirm" in params else False
    attributes: dict[str, Any] = {"capture_method": capture_method}
    if "receipt_email" in params:
        attributes["receipt_email"] = _string(params, "receipt_email", unsettable=True)
    if "payment_method_types" in params:
        attributes["payment_method_types"] = forms.to_string_list(
            params["payment_method_types"], "payment_method_types"
        )
    payment = request.sim.create_payment(
        amount=amount,
        currency=currency,
        description=_string(params, "description", unsettable=True),
        metadata=forms.merge_metadata({}, params["metadata"]) if "metadata" in params else None,
        capture_method="manual" if capture_method == "manual" else "automatic",
        return_url=_string(params, "return_url"),
        dialect="stripe",
        payment_method=_payment_method(params),
        customer=_string(params, "customer"),
        attributes=attributes,
    )
    if confirm:
        return _confirm(request.sim, payment, None, expand)
    return _intent_answer(payment, expand)


def retrieve_intent(request: Request) -> Answer:
    forms.reject_unknown(request.params, ("expand", "client_secret"))
    expand = _expand(request.params, _INTENT_EXPANDS)
    return _intent_answer(_intent(request.sim, request.args["id"]), expand)


def update_intent(request: Request) -> Answer:
    params = request.params
    forms.reject_unknown(
        params,
        (
            "amount",
            "currency",
            "description",
            "metadata",
            "payment_method",
            "customer",
            "receipt_email",
            "expand",
        ),
    )
    expand = _expand(params, _INTENT_EXPANDS)
    payment = _intent(request.sim, request.args["id"])
    status = views.status_of(payment)
    allowed = ("requires_payment_method", "requires_confirmation")
    if status not in allowed:
        raise unexpected_state(
            "updated", status, allowed, payment_intent=views.payment_intent(payment)
        )
    changes: dict[str, Any] = {}
    if "amount" in params:
        changes["amount"] = _amount(params, "amount")
    if "currency" in params:
        changes["currency"] = (_string(params, "currency", max_length=3) or "").lower()
    if "description" in params:
        changes["description"] = _string(params, "description", unsettable=True)
    if "metadata" in params:
        changes["metadata"] = forms.merge_metadata(payment.metadata, params["metadata"])
    if "payment_method" in params:
        changes["payment_method"] = _payment_method(params)
    if "customer" in params:
        changes["customer"] = _string(params, "customer", unsettable=True)
    if "receipt_email" in params:
        changes["attributes"] = {"receipt_email": _string(params, "receipt_email", unsettable=True)}
    payment = request.sim.update_payment(payment.id, **changes)
    return _intent_answer(payment, expand)


def list_intents(request: Request) -> Answer:
    params = request.params
    forms.reject_unknown(
        params, ("limit", "starting_after", "ending_before", "customer", "expand", "created")
    )
    customer = _string(params, "customer")
    items = [
        views.payment_intent(payment)
        for payment in _stripe_payments(request.sim)
        if customer is None or payment.customer == customer
    ]
    return 200, _page(items, params, "/v1/payment_intents")


def confirm_intent(request: Request) -> Answer:
    params = request.params
    forms.reject_unknown(params, ("payment_method", "return_url", "expand"))
    expand = _expand(params, _INTENT_EXPANDS)
    payment = _intent(request.sim, request.args["id"])
    method = _payment_method(params)
    return_url = _string(params, "return_url")
    return _confirm(request.sim, payment, method, expand, return_url=return_url)


def _confirm(
    sim: Simulator,
    payment: Payment,
    method: str | None,
    expand: set[str],
    *,
    return_url: str | None = None,
) -> Answer:
    status = views.status_of(payment)
    allowed = ("requires_payment_method", "requires_confirmation")
    if status not in allowed:
        raise unexpected_state(
            "confirmed", status, allowed, payment_intent=views.payment_intent(payment)
        )
    method = method or payment.payment_method
    if method is None:
        raise PaymentIntentUnexpectedState(
            "You cannot confirm this PaymentIntent because it's missing a payment method. To "
            "confirm it, attach a payment method or pass one as `payment_method`.",
            payment_intent=views.payment_intent(payment),
        )
    changes: dict[str, Any] = {"payment_method": method}
    if return_url is not None:
        changes["return_url"] = return_url
    sim.update_payment(payment.id, **changes)
    payment = sim.pay(payment.id, card_number=views.card_of(method).number)
    if payment.status == "failed":
        return _declined(payment)
    return _intent_answer(payment, expand)


def _declined(payment: Payment) -> Answer:
    """The 402 of a declined confirmation, as an answer (the attempt's changes are kept)."""
    intent = views.payment_intent(payment)
    error = intent["last_payment_error"] or {}
    if error.get("code") == views.AUTHENTICATION_FAILURE:
        rendered = render_error(
            PaymentIntentUnexpectedState(error["message"], payment_intent=intent)
        )
        rendered.body["error"]["code"] = views.AUTHENTICATION_FAILURE
        return rendered.status, rendered.body
    declined = decline_error(
        error.get("decline_code", "generic_decline"),
        charge=error.get("charge"),
        payment_intent=intent,
        payment_method=error.get("payment_method"),
    )
    rendered = render_error(declined)
    return rendered.status, rendered.body


def capture_intent(request: Request) -> Answer:
    params = request.params
    forms.reject_unknown(params, ("amount_to_capture", "expand"))
    expand = _expand(params, _INTENT_EXPANDS)
    payment = _intent(request.sim, request.args["id"])
    status = views.status_of(payment)
    if status != "requires_capture":
        raise unexpected_state(
            "captured", status, ("requires_capture",), payment_intent=views.payment_intent(payment)
        )
    amount = _amount(params, "amount_to_capture")
    if amount is not None and amount > payment.amount_capturable:
        raise AmountTooLarge(
            f"The amount to capture ({amount}) is greater than the amount capturable "
            f"({payment.amount_capturable}).",
            param="amount_to_capture",
        )
    return _intent_answer(request.sim.capture(payment.id, amount=amount), expand)


def cancel_intent(request: Request) -> Answer:
    params = request.params
    forms.reject_unknown(params, ("cancellation_reason", "expand"))
    expand = _expand(params, _INTENT_EXPANDS)
    payment = _intent(request.sim, request.args["id"])
    reason = None
    if "cancellation_reason" in params:
        reason = forms.to_enum(
            params["cancellation_reason"], "cancellation_reason", _CANCELLATION_REASONS
        )
    status = views.status_of(payment)
    allowed = (
        "requires_payment_method",
        "requires_capture",
        "requires_confirmation",
        "requires_action",
    )
    if status not in allowed:
        raise unexpected_state(
            "canceled", status, allowed, payment_intent=views.payment_intent(payment)
        )
    return _intent_answer(request.sim.cancel(payment.id, cancellation_reason=reason), expand)


# -- charges -------------------------------------------------------------------------------------


def retrieve_charge(request: Request) -> Answer:
    forms.reject_unknown(request.params, ("expand",))
    expand = _expand(request.params, _CHARGE_EXPANDS)
    charge_id = request.args["id"]
    try:
        record = request.sim.get_charge(charge_id)
    except NativeResourceMissing:
        raise ResourceMissing("charge", charge_id) from None
    payment = request.sim.get_payment(record.payment_id)
    return 200, views.charge(record, payment, expand=expand)


def list_charges(request: Request) -> Answer:
    params = request.params
    forms.reject_unknown(
        params, ("payment_intent", "customer", "limit", "starting_after", "ending_before", "expand")
    )
    intent_id = _string(params, "payment_intent")
    customer = _string(params, "customer")
    if intent_id is not None:
        payments = [_intent(request.sim, intent_id, param="payment_intent", in_body=True)]
    else:
        payments = _stripe_payments(request.sim)
    items = [
        views.charge(charge, payment)
        for payment in payments
        if customer is None or payment.customer == customer
        for charge in reversed(payment.charges)
    ]
    items.sort(key=lambda item: item["created"], reverse=True)  # stable: ties keep their order
    return 200, _page(items, params, "/v1/charges")


# -- refunds -------------------------------------------------------------------------------------


def create_refund(request: Request) -> Answer:
    params = request.params
    forms.reject_unknown(
        params, ("payment_intent", "charge", "amount", "reason", "metadata", "expand")
    )
    expand = _expand(params, _REFUND_EXPANDS)
    sim = request.sim
    intent_id = _string(params, "payment_intent")
    charge_id = _string(params, "charge")
    if intent_id is None and charge_id is None:
        raise ParameterMissing(
            "One of the following params should be provided for this request: payment_intent "
            "or charge.",
            param="payment_intent",
        )
    if intent_id is not None:
        payment = _intent(sim, intent_id, param="payment_intent", in_body=True)
    else:
        assert charge_id is not None
        try:
            payment = sim.get_payment(sim.get_charge(charge_id).payment_id)
        except NativeResourceMissing:
            raise ResourceMissing("charge", charge_id, param="charge", in_body=True) from None
        if intent_id is not None and payment.id != intent_id:
            raise ParameterInvalid("The charge is not of this PaymentIntent.", param="charge")
    captured = next(
        (charge for charge in reversed(payment.charges) if charge.status == "succeeded"), None
    )
    if payment.status not in ("succeeded", "captured", "refunded") or captured is None:
        raise PaymentIntentUnexpectedState(
            f"This PaymentIntent ({payment.id}) does not have a successful charge to refund.",
            payment_intent=views.payment_intent(payment),
        )
    if charge_id is not None and charge_id != captured.id:
        raise ParameterInvalid(f"Charge {charge_id} has no money to refund.", param="charge")
    left = payment.amount_captured - payment.amount_refunded
    if left <= 0:
        raise ChargeAlreadyRefunded(captured.id)
    amount = _amount(params, "amount")
    if amount is not None and amount > left:
        raise AmountTooLarge(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
            param="amount",
        )
    reason = None
    if "reason" in params:
        reason = forms.to_enum(params["reason"], "reason", _REFUND_REASONS)
    metadata = forms.merge_metadata({}, params["metadata"]) if "metadata" in params else None
    refund = sim.refund(payment.id, amount=amount, reason=reason, metadata=metadata)
    payment = sim.get_payment(payment.id)
    return 200, views.refund(refund, payment, expand=expand)


def retrieve_refund(request: Request) -> Answer:
    forms.reject_unknown(request.params, ("expand",))
    expand = _expand(request.params, _REFUND_EXPANDS)
    refund_id = request.args["id"]
    try:
        refund = request.sim.get_refund(refund_id)
        payment = request.sim.get_payment(refund.payment_id)
    except NativeResourceMissing:
        raise ResourceMissing("refund", refund_id) from None
    if payment.dialect != "stripe":
        raise ResourceMissing("refund", refund_id)
    return 200, views.refund(refund, payment, expand=expand)


# -- events --------------------------------------------------------------------------------------


def list_events(request: Request) -> Answer:
    params = request.params
    forms.reject_unknown(params, ("limit", "starting_after", "type"))
    after = _string(params, "starting_after")
    if after is not None:
        _event(request, after, param="starting_after")
    events, more = request.sim.events(
        limit=_limit(params),
        starting_after=after,
        type=_string(params, "type"),
        dialect="stripe",
    )
    return 200, objects.list_object(
        [event.to_dict() for event in events], url="/v1/events", has_more=more
    )


def retrieve_event(request: Request) -> Answer:
    forms.reject_unknown(request.params, ())
    return 200, _event(request, request.args["id"]).to_dict()


def _event(request: Request, event_id: str, *, param: str = "id") -> Any:
    try:
        event = request.sim.get_event(event_id)
    except NativeResourceMissing:
        event = None
    if event is None or event.dialect != "stripe":
        raise ResourceMissing("event", event_id, param=param, in_body=param != "id")
    return event


def authenticate_intent(request: Request) -> Answer:
    """paysim's test helper: complete (``outcome=succeed``) or fail 3-D Secure of an intent in
    ``requires_action``, as its hosted page does (what ``paysim.authenticate`` calls); the
    intent comes back, a failed authentication too."""
    params = request.params
    forms.reject_unknown(params, ("outcome", "expand"))
    expand = _expand(params, _INTENT_EXPANDS)
    payment = _intent(request.sim, request.args["id"])
    outcome = "succeed"
    if "outcome" in params:
        outcome = forms.to_enum(params["outcome"], "outcome", AUTHENTICATION_OUTCOMES)
    status = views.status_of(payment)
    if status != "requires_action":
        raise unexpected_state(
            "authenticated",
            status,
            ("requires_action",),
            payment_intent=views.payment_intent(payment),
        )
    # The intent, failed or not (200): the customer acted, the helper did not confirm.
    return _intent_answer(request.sim.authenticate(payment.id, outcome=outcome), expand)


# -- the table -----------------------------------------------------------------------------------

_ID = r"(?P<id>[^/]+)"


def _route(method: str, path: str, handler: Callable[[Request], Answer]) -> Route:
    pattern = re.compile("^" + path.replace("{id}", _ID) + "$")
    return Route(method, pattern, handler, changes_state=method in ("POST", "DELETE"))


ROUTES: tuple[Route, ...] = (
    _route("POST", "/v1/payment_intents", create_intent),
    _route("GET", "/v1/payment_intents", list_intents),
    _route("GET", "/v1/payment_intents/{id}", retrieve_intent),
    _route("POST", "/v1/payment_intents/{id}", update_intent),
    _route("POST", "/v1/payment_intents/{id}/confirm", confirm_intent),
    _route("POST", "/v1/payment_intents/{id}/capture", capture_intent),
    _route("POST", "/v1/payment_intents/{id}/cancel", cancel_intent),
    _route("POST", "/v1/test_helpers/payment_intents/{id}/authenticate", authenticate_intent),
    _route("GET", "/v1/charges", list_charges),
    _route("GET", "/v1/charges/{id}", retrieve_charge),
    _route("POST", "/v1/refunds", create_refund),
    _route("GET", "/v1/refunds/{id}", retrieve_refund),
    _route("GET", "/v1/events", list_events),
    _route("GET", "/v1/events/{id}", retrieve_event),
)


def match(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route of a request, or Stripe's 404 "Unrecognized request URL" (405s too)."""
    for route in ROUTES:
        if route.method != method:
            continue
        found = route.pattern.match(path)
        if found is not None:
            return route, found.groupdict()
    raise UnrecognizedUrl(method, path)

"""The Stripe dialect's route table: method and path to the handler of its resource.

Handlers live in :mod:`pytest_paysim.stripe.resources`, one module per Stripe resource. State
changes run inside :meth:`Simulator.execute <pytest_paysim.core.simulator.Simulator.execute>`
(the app does that), so a handler may call several operations and they commit together::

    route, args = match("POST", "/v1/payment_intents/pi_123/confirm")
    status, body = route.handler(Request(simulator, params, args))
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pytest_paysim.stripe.errors import UnrecognizedUrl
from pytest_paysim.stripe.resources import (
    charges,
    customers,
    events,
    payment_intents,
    payment_methods,
    refunds,
    webhook_endpoints,
)
from pytest_paysim.stripe.resources.common import Answer, Request

__all__ = ["ROUTES", "Request", "Route", "match"]


@dataclass(frozen=True)
class Route:
    """One method and path pattern of the dialect.

    ``publishable``: the publishable key may call it, with the client secret of the payment
    intent in the path (as Stripe.js does); every other route needs the secret API key.
    """

    method: str
    pattern: re.Pattern[str]
    handler: Callable[[Request], Answer]
    changes_state: bool
    publishable: bool = False


# -- the table -----------------------------------------------------------------------------------

_ID = r"(?P<id>[^/]+)"


def _route(
    method: str, path: str, handler: Callable[[Request], Answer], *, publishable: bool = False
) -> Route:
    pattern = re.compile("^" + path.replace("{id}", _ID) + "$")
    changes_state = method in ("POST", "DELETE")
    return Route(method, pattern, handler, changes_state, publishable=publishable)


ROUTES: tuple[Route, ...] = (
    _route("POST", "/v1/payment_intents", payment_intents.create_intent),
    _route("GET", "/v1/payment_intents", payment_intents.list_intents),
    _route("GET", "/v1/payment_intents/{id}", payment_intents.retrieve_intent, publishable=True),
    _route("POST", "/v1/payment_intents/{id}", payment_intents.update_intent),
    _route(
        "POST",
        "/v1/payment_intents/{id}/confirm",
        payment_intents.confirm_intent,
        publishable=True,
    ),
    _route("POST", "/v1/payment_intents/{id}/capture", payment_intents.capture_intent),
    _route("POST", "/v1/payment_intents/{id}/cancel", payment_intents.cancel_intent),
    _route(
        "POST",
        "/v1/test_helpers/payment_intents/{id}/authenticate",
        payment_intents.authenticate_intent,
    ),
    _route("GET", "/v1/charges", charges.list_charges),
    _route("GET", "/v1/charges/{id}", charges.retrieve_charge),
    _route("POST", "/v1/refunds", refunds.create_refund),
    _route("GET", "/v1/refunds", refunds.list_refunds),
    _route("GET", "/v1/refunds/{id}", refunds.retrieve_refund),
    _route("POST", "/v1/payment_methods", payment_methods.create_payment_method),
    _route("GET", "/v1/payment_methods", payment_methods.list_payment_methods),
    _route("GET", "/v1/payment_methods/{id}", payment_methods.retrieve_payment_method),
    _route("POST", "/v1/payment_methods/{id}/attach", payment_methods.attach_payment_method),
    _route("POST", "/v1/payment_methods/{id}/detach", payment_methods.detach_payment_method),
    _route("POST", "/v1/customers", customers.create_customer),
    _route("GET", "/v1/customers", customers.list_customers),
    _route("GET", "/v1/customers/{id}", customers.retrieve_customer),
    _route("POST", "/v1/customers/{id}", customers.update_customer),
    _route("DELETE", "/v1/customers/{id}", customers.delete_customer),
    _route("GET", "/v1/events", events.list_events),
    _route("GET", "/v1/events/{id}", events.retrieve_event),
    _route("POST", "/v1/webhook_endpoints", webhook_endpoints.create_endpoint),
    _route("GET", "/v1/webhook_endpoints", webhook_endpoints.list_endpoints),
    _route("GET", "/v1/webhook_endpoints/{id}", webhook_endpoints.retrieve_endpoint),
    _route("POST", "/v1/webhook_endpoints/{id}", webhook_endpoints.update_endpoint),
    _route("DELETE", "/v1/webhook_endpoints/{id}", webhook_endpoints.delete_endpoint),
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

"""The route table: every path the server answers, with its auth, parameters and answer.

The WSGI app dispatches from this table and ``openapi.py`` documents it, so the two cannot
drift. Handlers live in ``api.py`` (the ``/v1`` API), ``control.py`` (``/_paysim``) and
``pages.py`` (HTML).
"""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.routing import Map, Rule

from pytest_paysim.http import params as p

__all__ = ["API_PREFIX", "ROUTES", "Route", "url_map"]

API_PREFIX = "/v1/"
"""Where the API lives: requests under it are the API calls a test reads (``paysim.calls``);
``/_paysim`` (the control plane), ``/health``, ``/openapi.json`` and the pages are not."""


@dataclass(frozen=True)
class Route:
    """One method and path."""

    method: str
    path: str
    endpoint: str
    summary: str
    auth: str = "key"
    """``none``, ``key``, ``key_or_secret`` (the payment's client secret too) or ``basic``."""
    body: p.Params | None = None
    query: p.Params = p.EMPTY
    status: int = 200
    response: str = "Payment"
    html: bool = False

    @property
    def idempotent(self) -> bool:
        """Whether an ``Idempotency-Key`` applies (POST under ``/v1``)."""
        return self.method == "POST" and self.path.startswith(API_PREFIX)

    @property
    def changes_state(self) -> bool:
        """Whether the route changes the simulator (POST or DELETE under ``/v1``): it runs
        through the simulator's request entry point."""
        return self.method in ("POST", "DELETE") and self.path.startswith(API_PREFIX)


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "health", "Liveness and version.", auth="none", response="Health"),
    Route("GET", "/openapi.json", "openapi", "This document.", auth="none", response="OpenApi"),
    Route(
        "POST",
        "/v1/payments",
        "create_payment",
        "Create a payment.",
        body=p.CREATE_PAYMENT,
        status=201,
    ),
    Route(
        "GET",
        "/v1/payments",
        "list_payments",
        "List payments, newest first.",
        query=p.LIST_PAYMENTS,
        response="PaymentList",
    ),
    Route(
        "GET",
        "/v1/payments/<id>",
        "get_payment",
        "Retrieve a payment.",
        auth="key_or_secret",
        query=p.SECRET_QUERY,
    ),
    Route(
        "POST",
        "/v1/payments/<id>/pay",
        "pay_payment",
        "Simulate the customer paying (outcome or test card).",
        auth="key_or_secret",
        body=p.PAY_PAYMENT,
        query=p.SECRET_QUERY,
    ),
    Route(
        "POST",
        "/v1/payments/<id>/authenticate",
        "authenticate_payment",
        "Complete or fail 3-D Secure for a payment in requires_action.",
        auth="key_or_secret",
        body=p.AUTHENTICATE_PAYMENT,
        query=p.SECRET_QUERY,
    ),
    Route(
        "POST",
        "/v1/payments/<id>/capture",
        "capture_payment",
        "Capture a payment.",
        body=p.CAPTURE_PAYMENT,
    ),
    Route(
        "POST",
        "/v1/payments/<id>/refund",
        "refund_payment",
        "Refund a payment.",
        body=p.REFUND_PAYMENT,
        status=201,
        response="Refund",
    ),
    Route(
        "POST",
        "/v1/payments/<id>/cancel",
        "cancel_payment",
        "Cancel a payment.",
        body=p.CANCEL_PAYMENT,
    ),
    Route("GET", "/v1/refunds/<id>", "get_refund", "Retrieve a refund.", response="Refund"),
    Route(
        "GET",
        "/v1/events",
        "list_events",
        "List events, newest first.",
        query=p.LIST_EVENTS,
        response="EventList",
    ),
    Route("GET", "/v1/events/<id>", "get_event", "Retrieve an event.", response="Event"),
    Route(
        "POST",
        "/v1/webhook_endpoints",
        "create_endpoint",
        "Register a webhook endpoint.",
        body=p.CREATE_ENDPOINT,
        status=201,
        response="WebhookEndpoint",
    ),
    Route(
        "GET",
        "/v1/webhook_endpoints",
        "list_endpoints",
        "List webhook endpoints, newest first.",
        query=p.LIST_ENDPOINTS,
        response="WebhookEndpointList",
    ),
    Route(
        "DELETE",
        "/v1/webhook_endpoints/<id>",
        "delete_endpoint",
        "Delete a webhook endpoint.",
        response="DeletedWebhookEndpoint",
    ),
    Route(
        "GET",
        "/v1/webhook_deliveries",
        "list_deliveries",
        "List webhook delivery attempts, newest first.",
        query=p.LIST_DELIVERIES,
        response="WebhookDeliveryList",
    ),
    Route(
        "POST",
        "/_paysim/reset",
        "control_reset",
        "Empty everything and restart the seeded generator.",
        body=p.RESET,
        response="ControlState",
    ),
    Route(
        "POST",
        "/_paysim/outcomes",
        "control_outcomes",
        "Force pay or refund outcomes.",
        body=p.OUTCOMES,
        response="ControlState",
    ),
    Route(
        "DELETE",
        "/_paysim/outcomes",
        "control_clear_outcomes",
        "Clear forced outcomes.",
        response="ControlState",
    ),
    Route(
        "POST",
        "/_paysim/faults",
        "control_faults",
        "Inject a fault.",
        body=p.FAULT,
        response="ControlState",
    ),
    Route(
        "DELETE",
        "/_paysim/faults",
        "control_clear_faults",
        "Clear injected faults.",
        response="ControlState",
    ),
    Route(
        "POST",
        "/_paysim/clock",
        "control_clock",
        "Advance, freeze or unfreeze the clock.",
        body=p.CLOCK,
        response="ClockState",
    ),
    Route(
        "GET",
        "/_paysim/clock",
        "control_get_clock",
        "Read the simulator clock.",
        response="ClockState",
    ),
    Route(
        "GET",
        "/_paysim/state",
        "control_state",
        "Secrets, settings and unexpected errors of this run (for remote plugins).",
        response="ControlState",
    ),
    Route(
        "GET",
        "/_paysim/deliveries",
        "control_deliveries",
        "Every delivery attempt of this run, oldest first, with headers and body.",
        response="ControlDeliveries",
    ),
    Route(
        "GET",
        "/_paysim/payments",
        "control_payments",
        "Payments of every front end (native and the Stripe dialect's), newest first.",
        query=p.LIST_PAYMENTS,
        response="ControlPayments",
    ),
    Route(
        "GET",
        "/_paysim/calls",
        "control_calls",
        "Every API request of this run, oldest first, with its answer.",
        response="ControlCalls",
    ),
    Route(
        "POST",
        "/_paysim/rotate_webhook_secret",
        "control_rotate",
        "Rotate the session webhook secret; the old one signs for 24 hours more.",
        body=p.EMPTY,
        response="ControlState",
    ),
    Route("GET", "/pay/<id>", "page_pay", "Hosted payment page.", auth="none", html=True),
    Route(
        "POST",
        "/pay/<id>",
        "page_pay_submit",
        "Hosted payment page form post.",
        auth="none",
        html=True,
    ),
    Route(
        "GET",
        "/authenticate/<id>",
        "page_authenticate",
        "Hosted 3-D Secure page.",
        auth="none",
        html=True,
    ),
    Route(
        "POST",
        "/authenticate/<id>",
        "page_authenticate_submit",
        "Complete or fail 3-D Secure (form post).",
        auth="none",
        html=True,
    ),
    Route("GET", "/dashboard", "dashboard", "Dashboard.", auth="basic", html=True),
    Route(
        "GET",
        "/dashboard/payments/<id>",
        "dashboard_payment",
        "A payment's timeline.",
        auth="basic",
        html=True,
    ),
)

ROUTES_BY_ENDPOINT: dict[str, Route] = {route.endpoint: route for route in ROUTES}


def url_map() -> Map:
    """The werkzeug routing map of :data:`ROUTES`."""
    return Map(
        [Rule(route.path, endpoint=route.endpoint, methods=[route.method]) for route in ROUTES],
        strict_slashes=False,
        merge_slashes=False,
    )

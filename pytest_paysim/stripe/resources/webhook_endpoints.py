"""Webhook endpoints of the dialect: create, retrieve, update, delete, list (newest first).

An endpoint registered here receives the dialect's events only (never the native API's),
each delivery signed with the endpoint's own ``whsec_`` secret in ``Stripe-Signature``; the
secret is in the answer to the creation only, as at Stripe. ``enabled_events`` takes the
event types the dialect sends, or ``*``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_paysim.core.models import ENDPOINT_DISABLED, ENDPOINT_ENABLED, WebhookEndpoint
from pytest_paysim.core.urls import MAX_URL_LENGTH
from pytest_paysim.errors import ParameterInvalid
from pytest_paysim.errors import ResourceMissing as NativeResourceMissing
from pytest_paysim.stripe import events, forms, objects
from pytest_paysim.stripe.errors import ResourceMissing
from pytest_paysim.stripe.forms import FormValue
from pytest_paysim.stripe.resources import common
from pytest_paysim.stripe.resources.common import Answer, Request

__all__ = [
    "MAX_URL_LENGTH",
    "create_endpoint",
    "delete_endpoint",
    "list_endpoints",
    "retrieve_endpoint",
    "update_endpoint",
]

_MAX_DESCRIPTION = 5000
_URL = "/v1/webhook_endpoints"


def create_endpoint(request: Request) -> Answer:
    """``POST /v1/webhook_endpoints``: the answer carries the endpoint's ``secret``."""
    params = request.params
    forms.reject_unknown(params, ("url", "enabled_events", "description", "metadata", "expand"))
    common.expand(params, ())
    url = _endpoint_url(forms.require(params, "url"))
    enabled_events = _enabled_events(forms.require(params, "enabled_events"))
    endpoint = request.sim.create_endpoint(
        url=url,
        enabled_events=enabled_events,
        dialect="stripe",
        description=_description(params),
        metadata=forms.merge_metadata({}, params["metadata"]) if "metadata" in params else None,
    )
    return 200, _object(endpoint, with_secret=True)


def retrieve_endpoint(request: Request) -> Answer:
    """``GET /v1/webhook_endpoints/{id}`` (no secret)."""
    forms.reject_unknown(request.params, ("expand",))
    common.expand(request.params, ())
    return 200, _object(_endpoint(request))


def update_endpoint(request: Request) -> Answer:
    """``POST /v1/webhook_endpoints/{id}``: ``url``, ``enabled_events``, ``description``,
    ``metadata`` (merged), ``disabled``."""
    params = request.params
    forms.reject_unknown(
        params, ("url", "enabled_events", "description", "metadata", "disabled", "expand")
    )
    common.expand(params, ())
    endpoint = _endpoint(request)
    changes: dict[str, Any] = {}
    if "url" in params:
        changes["url"] = _endpoint_url(params["url"])
    if "enabled_events" in params:
        changes["enabled_events"] = _enabled_events(params["enabled_events"])
    if "description" in params:
        changes["description"] = _description(params)
    if "metadata" in params:
        changes["metadata"] = forms.merge_metadata(endpoint.metadata, params["metadata"])
    if "disabled" in params:
        disabled = forms.to_boolean(params["disabled"], "disabled")
        changes["status"] = ENDPOINT_DISABLED if disabled else ENDPOINT_ENABLED
    if changes:
        endpoint = request.sim.update_endpoint(endpoint.id, dialect="stripe", **changes)
    return 200, _object(endpoint)


def delete_endpoint(request: Request) -> Answer:
    """``DELETE /v1/webhook_endpoints/{id}``: attempts still planned to it are not sent."""
    forms.reject_unknown(request.params, ())
    endpoint = _endpoint(request)
    request.sim.delete_endpoint(endpoint.id, dialect="stripe")
    return 200, objects.deleted("webhook_endpoint", endpoint.id)


def list_endpoints(request: Request) -> Answer:
    """``GET /v1/webhook_endpoints``, newest first (``limit`` and both cursors)."""
    params = request.params
    forms.reject_unknown(params, ("limit", "starting_after", "ending_before", "expand"))
    common.expand(params, ())
    endpoints = reversed(request.sim.endpoints(dialect="stripe"))
    return 200, common.page([_object(endpoint) for endpoint in endpoints], params, _URL)


def _endpoint(request: Request) -> WebhookEndpoint:
    """The endpoint of the path (one registered through the dialect), or Stripe's 404."""
    endpoint_id = request.args["id"]
    try:
        return request.sim.get_endpoint(endpoint_id, dialect="stripe")
    except NativeResourceMissing:
        raise ResourceMissing("webhook_endpoint", endpoint_id) from None


def _object(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    return objects.webhook_endpoint(
        id=endpoint.id,
        created=int(endpoint.created_at),
        url=endpoint.url,
        enabled_events=endpoint.enabled_events,
        description=endpoint.description,
        metadata=endpoint.metadata,
        status=endpoint.status,
        secret=endpoint.secret if with_secret else None,
    )


def _endpoint_url(value: FormValue) -> str:
    return common.http_url(value, "url", example="https://example.com/webhook")


def _enabled_events(value: FormValue) -> list[str]:
    """Event types the dialect sends, or ``*``; at least one."""
    types = forms.to_string_list(value, "enabled_events")
    if not types:
        raise ParameterInvalid(
            "Invalid enabled_events: give at least one event type, or '*' for all.",
            param="enabled_events",
        )
    for index, type in enumerate(types):
        if type != "*" and type not in events.EVENT_TYPES:
            raise ParameterInvalid(
                f"Invalid enabled_events[{index}]: {type[:100]!r} is not an event type this "
                f"API sends. Use '*' or some of: {', '.join(events.EVENT_TYPES)}.",
                param=forms.child("enabled_events", index),
            )
    return list(dict.fromkeys(types))


def _description(params: Mapping[str, FormValue]) -> str | None:
    return common.string(params, "description", max_length=_MAX_DESCRIPTION, unsettable=True)

"""Events of the dialect's payments: list (newest first) and retrieve."""

from __future__ import annotations

from typing import Any

from pytest_paysim.errors import ResourceMissing as NativeResourceMissing
from pytest_paysim.stripe import forms, objects
from pytest_paysim.stripe.errors import ResourceMissing
from pytest_paysim.stripe.resources import common
from pytest_paysim.stripe.resources.common import Answer, Request

__all__ = ["list_events", "retrieve_event"]


def list_events(request: Request) -> Answer:
    """``GET /v1/events``, newest first (``type`` filters)."""
    params = request.params
    forms.reject_unknown(params, ("limit", "starting_after", "type"))
    after = common.string(params, "starting_after")
    if after is not None:
        _event(request, after, param="starting_after")
    events, more = request.sim.events(
        limit=common.limit(params),
        starting_after=after,
        type=common.string(params, "type"),
        dialect="stripe",
    )
    return 200, objects.list_object(
        [event.to_dict() for event in events], url="/v1/events", has_more=more
    )


def retrieve_event(request: Request) -> Answer:
    """``GET /v1/events/{id}``."""
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

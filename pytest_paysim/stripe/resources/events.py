"""Events of the dialect: list (newest first; ``type`` or ``types[]``, with Stripe's ``*``
wildcard, and both cursors) and retrieve.

``pending_webhooks`` is what Stripe's is when read: the receivers the event went to that have
not answered one of its attempts with a 2xx yet (the delivered body carries the count of
receivers it was sent to).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_paysim.core.models import Event
from pytest_paysim.core.simulator import Simulator
from pytest_paysim.errors import ParameterInvalid
from pytest_paysim.errors import ResourceMissing as NativeResourceMissing
from pytest_paysim.stripe import forms, objects
from pytest_paysim.stripe.errors import ResourceMissing
from pytest_paysim.stripe.resources import common
from pytest_paysim.stripe.resources.common import Answer, Request

__all__ = ["MAX_TYPES", "list_events", "retrieve_event"]

MAX_TYPES = 20
"""At most this many entries in ``types[]``, as at Stripe."""
_SCAN_PAGE = 100


def list_events(request: Request) -> Answer:
    """``GET /v1/events``, newest first (``type`` or ``types[]`` filter)."""
    params = request.params
    forms.reject_unknown(params, ("limit", "starting_after", "ending_before", "type", "types"))
    count = common.limit(params)
    patterns = _patterns(params)
    after = common.string(params, "starting_after")
    before = common.string(params, "ending_before")
    for cursor, param in ((after, "starting_after"), (before, "ending_before")):
        if cursor is not None:
            _event(request, cursor, param=param)
    exact = len(patterns) <= 1 and not any("*" in item for item in patterns)
    if before is None and exact:
        # One exact type or none, forwards: a page of the store's, O(limit).
        page, more = request.sim.events(
            limit=count,
            starting_after=after,
            type=patterns[0] if patterns else None,
            dialect="stripe",
        )
    else:
        page, more = _filtered_page(request.sim, patterns, count, after, before)
    return 200, objects.list_object(
        [_shown(request.sim, event) for event in page], url="/v1/events", has_more=more
    )


def _filtered_page(
    sim: Simulator, patterns: list[str], count: int, after: str | None, before: str | None
) -> tuple[list[Event], bool]:
    """A page of the events whose type matches ``patterns``, by a scan of every event of the
    dialect (a cursor is a place in time, so it may be an event the filter leaves out)."""
    events = _stripe_events(sim)
    ids = {event.id: index for index, event in enumerate(events)}
    wanted = _matching_type(patterns)
    if after is not None:
        chosen = _matching(events[_index(ids, after, "starting_after") + 1 :], wanted)
        return chosen[:count], len(chosen) > count
    if before is not None:
        chosen = _matching(events[: _index(ids, before, "ending_before")], wanted)
        return chosen[-count:], len(chosen) > count
    chosen = _matching(events, wanted)
    return chosen[:count], len(chosen) > count


def _index(ids: dict[str, int], cursor: str, param: str) -> int:
    if cursor not in ids:  # gone since it was checked: a reset came in between
        raise ResourceMissing("event", cursor, param=param, in_body=True)
    return ids[cursor]


def _matching(events: list[Event], wanted: Callable[[str], bool] | None) -> list[Event]:
    return events if wanted is None else [event for event in events if wanted(event.type)]


def retrieve_event(request: Request) -> Answer:
    """``GET /v1/events/{id}``."""
    forms.reject_unknown(request.params, ())
    return 200, _shown(request.sim, _event(request, request.args["id"]))


def _patterns(params: dict[str, Any]) -> list[str]:
    """The types asked for (``type`` or ``types[]``, not both); empty: every type."""
    if "type" in params and "types" in params:
        raise ParameterInvalid(
            "You may only specify one of these parameters: type, types.", param="types"
        )
    if "type" in params:
        return [_check_pattern(common.string(params, "type") or "", "type")]
    if "types" in params:
        types = forms.to_string_list(params["types"], "types")
        if len(types) > MAX_TYPES:
            raise ParameterInvalid(
                f"Invalid types: at most {MAX_TYPES} event types may be given; you gave "
                f"{len(types)}.",
                param="types",
            )
        if not types:
            raise ParameterInvalid("Invalid types: give at least one event type.", param="types")
        return [
            _check_pattern(item, forms.child("types", index)) for index, item in enumerate(types)
        ]
    return []


def _matching_type(patterns: list[str]) -> Callable[[str], bool] | None:
    """Whether a type is one of ``patterns``: an exact type, ``*`` (every type) or
    ``prefix.*`` (every type under ``prefix.``). Plain string tests, no regular expression:
    a pattern cannot make the match slow."""
    if not patterns or "*" in patterns:
        return None
    exact = {item for item in patterns if not item.endswith(".*")}
    prefixes = tuple(item[:-1] for item in patterns if item.endswith(".*"))  # "charge."
    return lambda type: type in exact or type.startswith(prefixes)


def _check_pattern(pattern: str, param: str) -> str:
    """``pattern`` if it is a type or one of the wildcards Stripe takes (``*`` alone, or a
    ``prefix.*`` suffix); any other ``*`` is 400 naming ``param``."""
    if "*" not in pattern or pattern == "*":
        return pattern
    prefix = pattern[:-2]
    if pattern.endswith(".*") and prefix and "*" not in prefix:
        return pattern
    raise ParameterInvalid(
        f"Invalid {param}: {pattern[:100]!r} is not an event type or a wildcard; use '*' "
        "alone or at the end after a dot, as in 'payment_intent.*'.",
        param=param,
    )


def _stripe_events(sim: Simulator) -> list[Event]:
    """Every event of the dialect, newest first."""
    found: list[Event] = []
    after: str | None = None
    while True:
        page, more = sim.events(limit=_SCAN_PAGE, starting_after=after, dialect="stripe")
        found.extend(page)
        if not more or not page:
            return found
        after = page[-1].id


def _shown(sim: Simulator, event: Event) -> dict[str, Any]:
    """The event as stored, with ``pending_webhooks`` as it is now."""
    shown = event.to_dict()
    sent_to = shown.get("pending_webhooks") or 0
    if sent_to:
        answered = {
            (attempt.url, attempt.endpoint_id)
            for attempt in sim.deliveries(event_id=event.id)
            if attempt.succeeded and attempt.url is not None
        }
        shown["pending_webhooks"] = max(0, sent_to - len(answered))
    return shown


def _event(request: Request, event_id: str, *, param: str = "id") -> Event:
    try:
        event = request.sim.get_event(event_id)
    except NativeResourceMissing:
        event = None
    if event is None or event.dialect != "stripe":
        raise ResourceMissing("event", event_id, param=param, in_body=param != "id")
    return event

"""Handlers of the ``/v1`` API: parameters in, simulator call, JSON-ready dict out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_paysim._version import __version__
from pytest_paysim.core.signing import public_key_for
from pytest_paysim.errors import ResourceMissing, unknown_starting_after

if TYPE_CHECKING:
    from pytest_paysim.http.app import Handler, RequestContext

__all__ = ["HANDLERS"]


def _list(items: list[Any], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": [item.to_dict() for item in items], "has_more": has_more}


def _page(newest_first: list[Any], query: dict[str, Any]) -> dict[str, Any]:
    """A page of an already ordered list: ``limit`` items after ``starting_after``."""
    start = 0
    after = query.get("starting_after")
    if after is not None:
        ids = [item.id for item in newest_first]
        if after not in ids:
            raise unknown_starting_after(after)
        start = ids.index(after) + 1
    limit = query.get("limit", 10)
    chunk = newest_first[start : start + limit]
    return _list(chunk, start + limit < len(newest_first))


def health(ctx: RequestContext) -> tuple[int, Any]:
    return 200, {"status": "ok", "version": __version__}


def openapi(ctx: RequestContext) -> tuple[int, Any]:
    from pytest_paysim.http.openapi import document

    return 200, document(server_url=ctx.sim.config.base_url)


def create_payment(ctx: RequestContext) -> tuple[int, Any]:
    return 201, ctx.sim.create_payment(**ctx.body).to_json()


def list_payments(ctx: RequestContext) -> tuple[int, Any]:
    q = ctx.query
    items, has_more = ctx.sim.payments(
        limit=q.get("limit", 10),
        starting_after=q.get("starting_after"),
        status=q.get("status"),
        dialect="native",
    )
    return 200, _list(items, has_more)


def get_payment(ctx: RequestContext) -> tuple[int, Any]:
    return 200, ctx.sim.get_payment(ctx.args["id"]).to_json()


def pay_payment(ctx: RequestContext) -> tuple[int, Any]:
    body = ctx.body
    payment = ctx.sim.pay(
        ctx.args["id"],
        outcome=body.get("outcome"),
        card_number=body.get("card_number"),
        decline_code=body.get("decline_code"),
    )
    return 200, payment.to_json()


def authenticate_payment(ctx: RequestContext) -> tuple[int, Any]:
    payment = ctx.sim.authenticate(ctx.args["id"], outcome=ctx.body["outcome"])
    return 200, payment.to_json()


def capture_payment(ctx: RequestContext) -> tuple[int, Any]:
    return 200, ctx.sim.capture(ctx.args["id"], amount=ctx.body.get("amount")).to_json()


def refund_payment(ctx: RequestContext) -> tuple[int, Any]:
    refund = ctx.sim.refund(
        ctx.args["id"], amount=ctx.body.get("amount"), reason=ctx.body.get("reason")
    )
    return 201, refund.to_dict()


def cancel_payment(ctx: RequestContext) -> tuple[int, Any]:
    payment = ctx.sim.cancel(
        ctx.args["id"], cancellation_reason=ctx.body.get("cancellation_reason")
    )
    return 200, payment.to_json()


def get_refund(ctx: RequestContext) -> tuple[int, Any]:
    refund = ctx.sim.get_refund(ctx.args["id"])
    if ctx.sim.get_payment(refund.payment_id).dialect != "native":
        raise ResourceMissing(f"No refund with id {ctx.args['id']!r}.", param="id")
    return 200, refund.to_dict()


def list_events(ctx: RequestContext) -> tuple[int, Any]:
    q = ctx.query
    items, has_more = ctx.sim.events(
        limit=q.get("limit", 10),
        starting_after=q.get("starting_after"),
        type=q.get("type"),
        payment_id=q.get("payment_id"),
    )
    return 200, _list(items, has_more)


def get_event(ctx: RequestContext) -> tuple[int, Any]:
    return 200, ctx.sim.get_event(ctx.args["id"]).to_dict()


def create_endpoint(ctx: RequestContext) -> tuple[int, Any]:
    endpoint = ctx.sim.create_endpoint(
        url=ctx.body["url"], enabled_events=ctx.body.get("enabled_events", ["*"])
    )
    result = endpoint.to_dict(with_secret=True)
    if endpoint.secret.startswith("whsk_"):
        result["public_key"] = public_key_for(endpoint.secret)
    return 201, result


def list_endpoints(ctx: RequestContext) -> tuple[int, Any]:
    return 200, _page(list(reversed(ctx.sim.endpoints())), ctx.query)


def delete_endpoint(ctx: RequestContext) -> tuple[int, Any]:
    ctx.sim.delete_endpoint(ctx.args["id"])
    return 200, {"id": ctx.args["id"], "object": "webhook_endpoint", "deleted": True}


def list_deliveries(ctx: RequestContext) -> tuple[int, Any]:
    q = ctx.query
    filters = {
        "event_id": q.get("event_id"),
        "type": q.get("type"),
        "payment_id": q.get("payment_id"),
    }
    if "starting_after" in q:
        # Paging needs the whole filtered list; the first page (the usual call) does not.
        return 200, _page(ctx.sim.deliveries(**filters), q)
    limit = q.get("limit", 10)
    items = ctx.sim.deliveries(**filters, limit=limit + 1)
    return 200, _list(items[:limit], len(items) > limit)


HANDLERS: dict[str, Handler] = {
    "health": health,
    "openapi": openapi,
    "create_payment": create_payment,
    "list_payments": list_payments,
    "get_payment": get_payment,
    "pay_payment": pay_payment,
    "authenticate_payment": authenticate_payment,
    "capture_payment": capture_payment,
    "refund_payment": refund_payment,
    "cancel_payment": cancel_payment,
    "get_refund": get_refund,
    "list_events": list_events,
    "get_event": get_event,
    "create_endpoint": create_endpoint,
    "list_endpoints": list_endpoints,
    "delete_endpoint": delete_endpoint,
    "list_deliveries": list_deliveries,
}
"""The handler of each ``/v1`` route, by the endpoint name in ``routes.ROUTES``."""

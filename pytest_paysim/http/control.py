"""Handlers of the ``/_paysim`` control plane: what the ``paysim`` fixture does, over HTTP.

For non-Python and end-to-end tests, and for ``pytest --paysim-url`` against a running
``paysim serve``.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from pytest_paysim.core.clock import LATEST_TIME, format_time, parse_time
from pytest_paysim.core.faults import Fault
from pytest_paysim.core.models import DeliveryAttempt
from pytest_paysim.errors import ParameterInvalid

if TYPE_CHECKING:
    from pytest_paysim.http.app import Handler, RequestContext

__all__ = ["HANDLERS", "attempt_to_wire"]


def _state(ctx: RequestContext) -> dict[str, Any]:
    sim = ctx.sim
    settings = sim.settings
    return {
        "object": "paysim_state",
        "seed": sim.seed,
        "generation": sim.generation,
        "signature": settings.signature,
        "delivery": settings.delivery,
        "auto_success_rate": settings.auto_success_rate,
        "webhook_secret": sim.webhook_secret,
        "webhook_public_key": sim.webhook_public_key,
        "stripe_webhook_secret": sim.hmac_webhook_secret,
        "publishable_key": sim.publishable_key,
        "faults": sim.faults(),
        **sim.outcomes(),
        "clock": _clock(ctx),
        "unexpected_errors": sim.unexpected_errors(),
        "deliveries_busy": sim.busy(),
    }


def _clock(ctx: RequestContext) -> dict[str, Any]:
    return {"now": format_time(ctx.sim.clock.now()), "frozen": ctx.sim.clock.frozen}


def control_reset(ctx: RequestContext) -> tuple[int, Any]:
    body = ctx.body
    ctx.sim.reset(
        seed=body.get("seed"),
        signature=body.get("signature"),
        delivery=body.get("delivery"),
        auto_success_rate=body.get("auto_success_rate"),
        frozen_at=parse_time(body["clock"]) if "clock" in body else None,
    )
    return 200, _state(ctx)


def control_outcomes(ctx: RequestContext) -> tuple[int, Any]:
    body = ctx.body
    times = body.get("times") if "times" in ctx.body else 1
    required = body.get("required", True)
    if "refund_outcome" in body:
        ctx.sim.force_refund_outcome(body["refund_outcome"], times=times, required=required)
    else:
        ctx.sim.force_outcome(
            body["outcome"],
            payment_id=body.get("payment_id"),
            times=times,
            decline_code=body.get("decline_code"),
            required=required,
        )
    return 200, _state(ctx)


def control_clear_outcomes(ctx: RequestContext) -> tuple[int, Any]:
    ctx.sim.clear_outcomes()
    return 200, _state(ctx)


def control_faults(ctx: RequestContext) -> tuple[int, Any]:
    body = ctx.body
    delay = float(body.get("delay", 0.0))
    drop = bool(body.get("drop_connection", False))
    status = body.get("status")
    if status is None and not (delay and not drop):
        status = 503
    ctx.sim.add_fault(
        Fault(
            method=body.get("method"),
            path=body.get("path"),
            status=status,
            times=body.get("times") if "times" in body else 1,
            when=body.get("when", "before"),
            delay=delay,
            drop_connection=drop,
            required=body.get("required", True),
        )
    )
    return 200, _state(ctx)


def control_clear_faults(ctx: RequestContext) -> tuple[int, Any]:
    ctx.sim.clear_faults()
    return 200, _state(ctx)


def control_clock(ctx: RequestContext) -> tuple[int, Any]:
    body, clock = ctx.body, ctx.sim.clock
    if "advance" in body:
        if clock.now() + body["advance"] >= LATEST_TIME:
            raise ParameterInvalid(
                "`advance` would move the clock past the year 9000; advance it less.",
                param="advance",
            )
        clock.advance(float(body["advance"]))
    elif "freeze" in body:
        clock.freeze(None if body["freeze"] is None else parse_time(body["freeze"]))
    else:
        clock.unfreeze()
    return 200, _clock(ctx)


def control_get_clock(ctx: RequestContext) -> tuple[int, Any]:
    return 200, _clock(ctx)


def control_state(ctx: RequestContext) -> tuple[int, Any]:
    return 200, _state(ctx)


def control_deliveries(ctx: RequestContext) -> tuple[int, Any]:
    return 200, {
        "object": "list",
        "data": [attempt_to_wire(attempt) for attempt in ctx.sim.attempts()],
        "has_more": False,
    }


def control_calls(ctx: RequestContext) -> tuple[int, Any]:
    return 200, {
        "object": "list",
        "data": [call.to_dict() for call in ctx.sim.calls()],
        "has_more": False,
    }


def control_payments(ctx: RequestContext) -> tuple[int, Any]:
    q = ctx.query
    items, has_more = ctx.sim.payments(
        limit=q.get("limit", 10), starting_after=q.get("starting_after"), status=q.get("status")
    )
    # The core's view of each, whatever its front end; ``dialect`` says which one it is.
    data = [{**payment.to_dict(), "dialect": payment.dialect} for payment in items]
    return 200, {"object": "list", "data": data, "has_more": has_more}


def control_rotate(ctx: RequestContext) -> tuple[int, Any]:
    ctx.sim.rotate_webhook_secret()
    return 200, _state(ctx)


def attempt_to_wire(attempt: DeliveryAttempt) -> dict[str, Any]:
    """A delivery attempt with what was sent, for a remote ``WebhookLog``."""
    return {
        **attempt.to_dict(),
        "headers": dict(attempt.headers),
        "body_base64": base64.b64encode(attempt.body).decode(),
        "response_body": attempt.response_body,
        "signed_with": attempt.signed_with,
    }


HANDLERS: dict[str, Handler] = {
    "control_reset": control_reset,
    "control_outcomes": control_outcomes,
    "control_clear_outcomes": control_clear_outcomes,
    "control_faults": control_faults,
    "control_clear_faults": control_clear_faults,
    "control_clock": control_clock,
    "control_get_clock": control_get_clock,
    "control_state": control_state,
    "control_deliveries": control_deliveries,
    "control_calls": control_calls,
    "control_payments": control_payments,
    "control_rotate": control_rotate,
}
"""The handler of each ``/_paysim`` route, by the endpoint name in ``routes.ROUTES``."""

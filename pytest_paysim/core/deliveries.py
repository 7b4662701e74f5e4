"""Webhook deliveries as the core plans them: targets, first attempts, retries, the sink.

The core decides *what* is delivered and *when*; a :class:`DeliverySink` (the webhook
dispatcher) does the sending. The simulator hands the sink each commit's planned attempts,
in event order, and the sink reports each attempt back through the simulator, which answers
with the retry to queue, if any::

    attempts = plan(event, webhook_url=..., endpoints=..., new_id=ids.new, generation=1)
    retry = next_attempt(failed, schedule=(1, 5), now=clock.now(), frozen=False, new_id=...)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Literal, Protocol, get_args

from pytest_paysim.core.models import DeliveryAttempt, Event, WebhookEndpoint

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "DELIVERY_MODES",
    "DeliveryMode",
    "DeliverySink",
    "NoSink",
    "next_attempt",
    "plan",
]

DeliveryMode = Literal["async", "sync"]
"""``async``: sent in the background. ``sync``: first attempts sent before the API answers."""
DELIVERY_MODES: tuple[DeliveryMode, ...] = get_args(DeliveryMode)
DEFAULT_RETRIES: tuple[float, ...] = (0.1, 0.2, 0.4, 0.8)
"""Seconds between attempts; one attempt more than there are delays."""
DEFAULT_TIMEOUT = 2.0
"""Seconds one delivery attempt may take."""


class DeliverySink(Protocol):
    """Where the simulator's planned attempts go (the webhook dispatcher)."""

    def submit(self, attempts: Sequence[DeliveryAttempt], *, sync: bool) -> None:
        """Take planned attempts, in event order.

        Called under the simulator's lock: only queue. With ``sync``, first attempts wait for
        :meth:`flush` in the calling thread.
        """

    def flush(self) -> None:
        """Send this thread's ``sync`` attempts (after the commit, outside the lock)."""

    def reset(self) -> None:
        """Drop everything queued: the run it belonged to is over."""

    def wake(self) -> None:
        """The simulator clock moved: due times may have come."""

    def busy(self) -> bool:
        """Whether an attempt is being sent or is due now."""


class NoSink:
    """The sink of a simulator nobody delivers for (unit tests of the core)."""

    def submit(self, attempts: Sequence[DeliveryAttempt], *, sync: bool) -> None:
        pass

    def flush(self) -> None:
        pass

    def reset(self) -> None:
        pass

    def wake(self) -> None:
        pass

    def busy(self) -> bool:
        return False


def plan(
    event: Event,
    *,
    webhook_url: str | None,
    endpoints: Iterable[WebhookEndpoint],
    new_id: Callable[[], str],
    generation: int,
) -> list[DeliveryAttempt]:
    """The first attempt to each target of ``event``: the payment's own ``webhook_url``, then
    every endpoint that wants the type; with none, one attempt with ``url`` None (captured,
    not sent)."""
    targets: list[tuple[str | None, str | None]] = []
    if webhook_url:
        targets.append((webhook_url, None))
    targets.extend(
        (endpoint.url, endpoint.id) for endpoint in endpoints if endpoint.wants(event.type)
    )
    if not targets:
        targets.append((None, None))
    return [
        DeliveryAttempt(
            id=new_id(),
            event_id=event.id,
            type=event.type,
            payment_id=event.payment_id,
            url=url,
            endpoint_id=endpoint_id,
            attempt=1,
            due_at=event.created_at,
            generation=generation,
            body=event.body,
            dialect=event.dialect,
        )
        for url, endpoint_id in targets
    ]


def next_attempt(
    failed: DeliveryAttempt,
    *,
    schedule: Sequence[float],
    now: float,
    frozen: bool,
    new_id: Callable[[], str],
) -> DeliveryAttempt | None:
    """The attempt after ``failed`` on the retry schedule, or None after the last one.

    Under a frozen clock the schedule runs from each attempt's due time, so one advance past
    the end releases every retry; a running clock counts from now.
    """
    if failed.url is None or failed.attempt > len(schedule):
        return None
    base = failed.due_at if frozen else now
    return DeliveryAttempt(
        id=new_id(),
        event_id=failed.event_id,
        type=failed.type,
        payment_id=failed.payment_id,
        url=failed.url,
        endpoint_id=failed.endpoint_id,
        attempt=failed.attempt + 1,
        due_at=base + schedule[failed.attempt - 1],
        generation=failed.generation,
        body=failed.body,
        dialect=failed.dialect,
    )

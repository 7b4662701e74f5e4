"""Every webhook event type the simulator can send, in every dialect it speaks.

Checks that take an event type from a test (the webhook log's ``wait_for``, ``filter`` and
``assert_*``) refuse one that no dialect sends, at once, instead of waiting for something
that can never come. The native dialect's types come from the transition table; another
front end (the Stripe dialect) registers its own when it is imported::

    register("stripe", ("payment_intent.succeeded", "charge.refunded"))
    check("payment.succeded")   # ValueError: ... did you mean 'payment.succeeded'? ...
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from pytest_paysim.core.transitions import EVENT_TYPES

__all__ = ["DIALECTS", "KNOWN", "check", "register"]

DIALECTS: dict[str, tuple[str, ...]] = {"paysim": EVENT_TYPES}
"""The event types of each dialect, in the order it lists them."""

KNOWN: set[str] = set(EVENT_TYPES)
"""Every event type of every registered dialect."""


def register(dialect: str, types: Iterable[str]) -> None:
    """Add a dialect's event types (again: its list is replaced, the known set grows)."""
    listed = tuple(dict.fromkeys(types))
    DIALECTS[dialect] = listed
    KNOWN.update(listed)


def check(event_type: object) -> None:
    """Raise ``ValueError`` unless ``event_type`` is an event type some dialect sends."""
    if isinstance(event_type, str) and event_type in KNOWN:
        return
    close = (
        difflib.get_close_matches(event_type, sorted(KNOWN), n=1)
        if isinstance(event_type, str)
        else []
    )
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = "; ".join(f"{name}: {', '.join(types)}" for name, types in DIALECTS.items())
    raise ValueError(
        f"unknown event type {event_type!r}{hint} The event types are ({listed})."
        if close
        else f"unknown event type {event_type!r}; the event types are ({listed})."
    )

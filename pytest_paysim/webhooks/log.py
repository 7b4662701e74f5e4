"""The webhook log of one test: every delivery attempt, with helpers to wait and assert.

    def test_paid(paysim, paysim_webhooks):
        payment = paysim.create_payment(amount=1999, currency="usd")
        paysim.pay(payment["id"])
        delivery = paysim_webhooks.wait_for("payment.succeeded", payment_id=payment["id"])
        assert delivery.verify()["data"]["object"]["status"] == "succeeded"

A failed assertion says what was expected and lists what was received. An event type that
no dialect sends (a typo) is refused at once with ``ValueError``, listing the valid ones
(:mod:`pytest_paysim.core.event_types`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol, overload

from pytest_paysim.core import event_types
from pytest_paysim.core.signing import public_key_for, verify

__all__ = ["Delivery", "DeliverySource", "WebhookLog"]

_ANY_URL: Any = object()
_EXPLAIN_MAX_LINES = 50
"""A failure message lists at most this many deliveries (the latest)."""


class Delivery:
    """One attempt to deliver one event: what was sent and what came back."""

    __slots__ = (
        "_event",
        "_verify_key",
        "attempt",
        "body",
        "error",
        "event_id",
        "headers",
        "id",
        "sent_at",
        "status_code",
        "succeeded",
        "type",
        "url",
    )

    def __init__(
        self,
        *,
        id: str,
        event_id: str,
        type: str,
        url: str | None,
        attempt: int,
        headers: dict[str, str],
        body: bytes,
        status_code: int | None,
        error: str | None,
        succeeded: bool | None,
        sent_at: datetime | None,
        verify_key: str | None = None,
    ) -> None:
        self.id = id
        self.event_id = event_id
        self.type = type
        self.url = url
        self.attempt = attempt
        self.headers = headers
        self.body = body
        self.status_code = status_code
        self.error = error
        self.succeeded = succeeded
        self.sent_at = sent_at
        self._verify_key = verify_key
        self._event: dict[str, Any] | None = None

    @property
    def event(self) -> dict[str, Any]:
        """The event as sent (``id``, ``type``, ``created_at``, ``data``)."""
        if self._event is None:
            self._event = json.loads(self.body)
        return self._event

    @property
    def payment(self) -> dict[str, Any]:
        """The payment as of the event (the event's ``data.object``)."""
        payment: dict[str, Any] = self.event["data"]["object"]
        return payment

    @property
    def payment_id(self) -> str:
        """The payment's id; for a Stripe charge or refund, its ``payment_intent``."""
        payment = self.payment
        if payment.get("object") in ("charge", "refund") and payment.get("payment_intent"):
            intent = payment["payment_intent"]
            return str(intent["id"] if isinstance(intent, dict) else intent)
        return str(payment["id"])

    def json(self) -> dict[str, Any]:
        """The body parsed (a new dict each call)."""
        result: dict[str, Any] = json.loads(self.body)
        return result

    def verify(self, secret: str | None = None, *, tolerance: int = 300) -> dict[str, Any]:
        """Check the signature with ``secret`` (default: the one that signed it); the event.

        Raises ``WebhookVerificationError`` when it does not check out. Under ed25519 give the
        ``whpk_`` public key (the ``whsk_`` signing key is turned into it).
        """
        key = secret if secret is not None else self._verify_key
        if key is None:
            raise ValueError("no secret known for this delivery; pass secret=")
        if key.startswith("whsk_"):
            key = public_key_for(key)
        headers = self.headers
        if "Stripe-Signature" in headers:  # the Stripe dialect's: the paysim scheme's bytes
            headers = {"Paysim-Signature": headers["Stripe-Signature"]}
        return verify(self.body, headers, key, tolerance=tolerance)

    def describe(self) -> str:
        """One line: type, payment, url, attempt, status."""
        try:
            payment_id = self.payment_id
        except (ValueError, KeyError, TypeError):
            payment_id = "?"
        if self.url is None:
            outcome = "captured (no target)"
        elif self.status_code is not None:
            outcome = f"status {self.status_code}"
        else:
            outcome = self.error or "pending"
        return f"{self.type} payment={payment_id} url={self.url} attempt={self.attempt} {outcome}"

    def __repr__(self) -> str:
        return f"<Delivery {self.describe()}>"


class DeliverySource(Protocol):
    """Where a log reads its deliveries: the local simulator or a remote server."""

    def deliveries(self) -> list[Delivery]:
        """Every attempt of the current test so far, in the order made."""

    def wait_for_change(self, known: int, timeout: float) -> None:
        """Return when there may be more than ``known`` deliveries, or after ``timeout``."""

    def busy(self) -> bool:
        """Whether an attempt is in flight or due now."""


class WebhookLog(Sequence[Delivery]):
    """The deliveries of this test, in the order they were attempted."""

    __tracebackhide__ = True

    def __init__(self, source: DeliverySource) -> None:
        self._source = source
        self._skip = 0

    # -- the sequence -------------------------------------------------------------------------

    def _all(self) -> list[Delivery]:
        return self._source.deliveries()[self._skip :]

    def __len__(self) -> int:
        return len(self._all())

    @overload
    def __getitem__(self, index: int) -> Delivery: ...
    @overload
    def __getitem__(self, index: slice) -> list[Delivery]: ...
    def __getitem__(self, index: int | slice) -> Delivery | list[Delivery]:
        return self._all()[index]

    def __iter__(self) -> Iterator[Delivery]:
        return iter(self._all())

    def __repr__(self) -> str:
        return f"<WebhookLog {len(self)} deliveries>"

    @property
    def types(self) -> list[str]:
        """Event types of first attempts, in order."""
        return [delivery.type for delivery in self._all() if delivery.attempt == 1]

    @property
    def events(self) -> list[dict[str, Any]]:
        """The distinct events delivered, in order of their first attempt."""
        seen: dict[str, dict[str, Any]] = {}
        for delivery in self._all():
            if delivery.event_id not in seen:
                seen[delivery.event_id] = delivery.event
        return list(seen.values())

    def filter(
        self,
        type: str | None = None,
        *,
        payment_id: str | None = None,
        url: str | None = _ANY_URL,
        succeeded: bool | None = None,
    ) -> list[Delivery]:
        """Deliveries matching all that is given (``url=None``: the captured, unsent ones)."""
        __tracebackhide__ = True
        if type is not None:
            event_types.check(type)
        return [
            delivery
            for delivery in self._all()
            if (type is None or delivery.type == type)
            and (payment_id is None or delivery.payment_id == payment_id)
            and (url is _ANY_URL or delivery.url == url)
            and (succeeded is None or delivery.succeeded is succeeded)
        ]

    # -- waiting ------------------------------------------------------------------------------

    @overload
    def wait_for(
        self,
        type: str,
        *,
        payment_id: str | None = ...,
        count: None = ...,
        timeout: float = ...,
        where: Callable[[Delivery], bool] | None = ...,
    ) -> Delivery: ...
    @overload
    def wait_for(
        self,
        type: str,
        *,
        payment_id: str | None = ...,
        count: int,
        timeout: float = ...,
        where: Callable[[Delivery], bool] | None = ...,
    ) -> Delivery | list[Delivery]: ...
    def wait_for(
        self,
        type: str,
        *,
        payment_id: str | None = None,
        count: int | None = 1,
        timeout: float = 5.0,
        where: Callable[[Delivery], bool] | None = None,
    ) -> Delivery | list[Delivery]:
        """Block until ``count`` matching deliveries exist; the first (a list if count > 1).

        On timeout, raises ``AssertionError`` listing what was received.
        """
        __tracebackhide__ = True
        event_types.check(type)
        wanted = 1 if count is None else count
        deadline = time.monotonic() + timeout
        while True:
            everything = self._source.deliveries()
            matches = [
                delivery
                for delivery in everything[self._skip :]
                if delivery.type == type
                and (payment_id is None or delivery.payment_id == payment_id)
                and (where is None or where(delivery))
            ]
            if len(matches) >= wanted:
                return matches[:wanted] if wanted > 1 else matches[0]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    self._explain(
                        f"expected {wanted} {_plural(wanted)} of {type!r}"
                        + _for(payment_id)
                        + (" matching `where`" if where else "")
                        + f" within {timeout}s, got {len(matches)}"
                    )
                )
            self._source.wait_for_change(len(everything), min(remaining, 0.05))

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until no attempt is in flight or due (retries not yet due are left)."""
        __tracebackhide__ = True
        deadline = time.monotonic() + timeout
        while self._source.busy():
            if time.monotonic() >= deadline:
                raise AssertionError(self._explain(f"deliveries still in flight after {timeout}s"))
            self._source.wait_for_change(len(self._source.deliveries()), 0.02)

    def clear(self) -> None:
        """Forget the deliveries so far (this log only; the server keeps them)."""
        self._skip = len(self._source.deliveries())

    # -- asserting ----------------------------------------------------------------------------

    def assert_received(
        self,
        type: str,
        *,
        payment_id: str | None = None,
        count: int | None = None,
        **fields: Any,
    ) -> list[Delivery]:
        """Assert that events of ``type`` were delivered (``count`` distinct events, if given).

        ``fields`` must equal the payment's fields (``amount=1999``) or, failing that, the
        event's own. Returns the first delivery of each matching event. A failure shows the
        values of ``fields`` in each event of that type.
        """
        __tracebackhide__ = True
        event_types.check(type)
        candidates: dict[str, Delivery] = {}
        for delivery in self._all():
            if delivery.type != type or delivery.event_id in candidates:
                continue
            if payment_id is not None and delivery.payment_id != payment_id:
                continue
            candidates[delivery.event_id] = delivery
        firsts = [
            delivery
            for delivery in candidates.values()
            if all(_field(delivery, name) == value for name, value in fields.items())
        ]
        found = len(firsts)
        if (count is None and found == 0) or (count is not None and found != count):
            expected = "at least 1" if count is None else str(count)
            detail = "".join(f", {name}={value!r}" for name, value in fields.items())
            headline = (
                f"expected {expected} {type!r} {_plural_event(1 if count is None else count)}"
                f"{_for(payment_id)}{detail}, got {found}"
            )
            if fields and candidates:
                headline += _field_values(type, list(candidates.values()), list(fields))
            raise AssertionError(self._explain(headline))
        return firsts

    def assert_not_received(
        self, type: str, *, payment_id: str | None = None, within: float = 0.0
    ) -> None:
        """Assert that no ``type`` delivery arrives, now or during the next ``within`` seconds.

        Fails as soon as one arrives.
        """
        __tracebackhide__ = True
        event_types.check(type)
        deadline = time.monotonic() + within
        while True:
            everything = self._source.deliveries()
            found = [
                delivery
                for delivery in everything[self._skip :]
                if delivery.type == type
                and (payment_id is None or delivery.payment_id == payment_id)
            ]
            if found:
                raise AssertionError(
                    self._explain(
                        f"expected no {type!r} {_plural(2)}{_for(payment_id)}"
                        + (f" within {within}s" if within > 0 else "")
                        + f", got {len(found)}"
                    )
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._source.wait_for_change(len(everything), min(remaining, 0.05))

    def assert_sequence(self, types: Sequence[str], *, payment_id: str | None = None) -> None:
        """Assert the events came in this order (others may come between)."""
        __tracebackhide__ = True
        if isinstance(types, str):
            raise TypeError("assert_sequence takes a list of event types, not one string")
        for event_type in types:
            event_types.check(event_type)
        seen = [
            delivery.type
            for delivery in self._all()
            if delivery.attempt == 1 and (payment_id is None or delivery.payment_id == payment_id)
        ]
        position = 0
        for event_type in seen:
            if position < len(types) and event_type == types[position]:
                position += 1
        if position < len(types):
            raise AssertionError(
                self._explain(
                    f"expected the sequence {list(types)}{_for(payment_id)}; "
                    f"{types[position]!r} (step {position + 1}) never came after "
                    f"{list(types[:position]) or 'the start'}; the order received was {seen}"
                )
            )

    def assert_all_signed(self) -> None:
        """Assert that every delivery's signature verifies with the secret that signed it.

        Fails when there is no delivery at all (wait for the ones you expect first).
        Attempts never sent because their endpoint was deleted carry no signature and are
        not checked.
        """
        __tracebackhide__ = True
        from pytest_paysim.errors import WebhookVerificationError

        received = self._all()
        if not received:
            raise AssertionError(
                self._explain("expected signed deliveries to check")
                + " (wait_for the ones you expect before assert_all_signed)"
            )
        bad: list[str] = []
        for delivery in received:
            if delivery.url is not None and not delivery.headers and delivery.succeeded is False:
                continue  # not sent: nothing was signed
            try:
                delivery.verify()
            except (WebhookVerificationError, ValueError) as error:
                bad.append(f"{delivery.describe()}: {error}")
        if bad:
            raise AssertionError(
                f"expected every delivery to be validly signed; {len(bad)} of {len(received)} "
                "are not:\n  " + "\n  ".join(bad)
            )

    def _explain(self, headline: str) -> str:
        received = self._all()
        separator = "\n" if "\n" in headline else "; "
        if not received:
            return f"{headline}{separator}no webhook deliveries were received in this test"
        lines = [f"{index}. {delivery.describe()}" for index, delivery in enumerate(received, 1)]
        return f"{headline}{separator}received {len(received)}:\n  " + "\n  ".join(
            _last_lines(lines)
        )


def _last_lines(lines: list[str]) -> list[str]:
    if len(lines) <= _EXPLAIN_MAX_LINES:
        return lines
    skipped = len(lines) - _EXPLAIN_MAX_LINES
    return [f"... {skipped} earlier not shown", *lines[-_EXPLAIN_MAX_LINES:]]


def _field_values(type: str, candidates: list[Delivery], names: list[str]) -> str:
    """What each event of the type holds in the asserted fields, one line an event."""
    lines = []
    for index, delivery in enumerate(candidates, 1):
        try:
            payment_id = delivery.payment_id
        except (ValueError, KeyError, TypeError):
            payment_id = "?"
        values = ", ".join(f"{name}={_shown(_field(delivery, name))}" for name in names)
        lines.append(f"{index}. {delivery.event_id} payment={payment_id}: {values}")
    return (
        f"\nthe {len(candidates)} {type!r} {_plural_event(len(candidates))} held:\n  "
        + "\n  ".join(_last_lines(lines))
    )


def _shown(value: Any) -> str:
    return "<missing>" if value is _MISSING else repr(value)


def _field(delivery: Delivery, name: str) -> Any:
    payment = delivery.payment
    if name in payment:
        return payment[name]
    return delivery.event.get(name, _MISSING)


_MISSING = object()


def _plural(count: int) -> str:
    return "delivery" if count == 1 else "deliveries"


def _plural_event(count: int) -> str:
    return "event" if count == 1 else "events"


def _for(payment_id: str | None) -> str:
    return f" for payment {payment_id}" if payment_id else ""


def parse_sent_at(text: str | None) -> datetime | None:
    """An API timestamp back into an aware datetime."""
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)

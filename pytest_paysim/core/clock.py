"""The simulator clock: real time, frozen, or moved by the test.

Timestamps, idempotency expiry and webhook retry times read this clock, so a test can see a
three-day retry schedule at once::

    clock = Clock()
    clock.freeze()
    clock.advance(3 * 86400)   # retries due by then fire now

Listeners (the webhook dispatcher) are told of every change so they can re-check due times.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

__all__ = ["EARLIEST_TIME", "LATEST_TIME", "Clock", "format_time", "in_range", "parse_time"]


def format_time(epoch: float) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``: ``2026-01-02T03:04:05.678Z``."""
    global _last_formatted
    last_epoch, last_text = _last_formatted
    if epoch == last_epoch:
        # An operation shows one time several times (the record's, the event's, the answer's).
        return last_text
    # Microseconds rounded half to even, as datetime.fromtimestamp rounds them.
    seconds = math.floor(epoch)
    micros = round((epoch - seconds) * 1e6)
    if micros >= 1_000_000:
        seconds, micros = seconds + 1, micros - 1_000_000
    moment = time.gmtime(seconds)
    text = "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031 (the fastest of the three)
        moment.tm_year,
        moment.tm_mon,
        moment.tm_mday,
        moment.tm_hour,
        moment.tm_min,
        moment.tm_sec,
        micros // 1000,
    )
    _last_formatted = (epoch, text)
    return text


_last_formatted: tuple[float, str] = (math.nan, "")


_FRACTION = re.compile(r"\.(\d+)(?=[+-]\d\d:?\d\d$|$)")


def parse_time(text: str) -> float:
    """Parse an ISO 8601 time (``Z`` or an offset; naive means UTC) into epoch seconds.

    Raises ``ValueError`` when the text is not such a time.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("expected an ISO 8601 time such as 2026-01-01T00:00:00Z")
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    # Python 3.10's fromisoformat takes only 3 or 6 fraction digits: make it 6.
    value = _FRACTION.sub(lambda match: "." + match.group(1)[:6].ljust(6, "0"), value, count=1)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


EARLIEST_TIME = 0.0
"""1970-01-01T00:00:00Z: the simulator clock never goes before the Unix epoch."""
LATEST_TIME = 221_845_392_000.0
"""9000-01-01T00:00:00Z: the clock stays before it, so every time it shows can be written."""


def in_range(epoch: float) -> bool:
    """Whether the simulator clock may show ``epoch`` (1970 up to, not including, 9000)."""
    return EARLIEST_TIME <= epoch < LATEST_TIME


def _check_range(epoch: float) -> float:
    if not in_range(epoch):
        raise ValueError("the simulator clock must stay between 1970 and the year 9000")
    return epoch


class Clock:
    """Wall-clock time plus an offset, or a frozen instant."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._offset = 0.0
        self._frozen_at: float | None = None
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        """Seconds since the epoch on the simulator clock."""
        frozen_at = self._frozen_at
        if frozen_at is not None:
            return frozen_at
        return self._wall() + self._offset

    @property
    def frozen(self) -> bool:
        """Whether the clock stands still until advanced."""
        return self._frozen_at is not None

    def freeze(self, at: float | None = None) -> float:
        """Stop the clock at ``at`` (epoch seconds), or at the current time."""
        with self._lock:
            self._frozen_at = self.now() if at is None else _check_range(float(at))
            frozen_at = self._frozen_at
        self._changed()
        return frozen_at

    def advance(self, seconds: float) -> float:
        """Move the clock forward; frozen or not, it then reads ``seconds`` later."""
        if seconds < 0:
            raise ValueError("the clock only moves forward: pass seconds >= 0")
        _check_range(self.now() + seconds)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds
        self._changed()
        return self.now()

    def unfreeze(self) -> float:
        """Let the clock run again from where it stood."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - self._wall()
                self._frozen_at = None
        self._changed()
        return self.now()

    def reset(self) -> None:
        """Back to plain wall-clock time."""
        with self._lock:
            self._offset = 0.0
            self._frozen_at = None
        self._changed()

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every change of the clock."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

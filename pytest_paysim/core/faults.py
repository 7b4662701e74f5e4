"""Injected faults: answer a matching request with an error, slowly, or not at all.

A rule names a method and a glob on the request path; the simulator keeps the rules of the
running test (a reset empties them) and a front end asks for the rule that applies to each
request as it arrives. Rules match in the order they were added. Each rule counts how often
it was ``used``, so a test can fail on a ``required`` rule it never needed (strict mode)::

    faults.add(Fault(path="/v1/payments*", status=503, when="after"))
    fault = faults.take("POST", "/v1/payments")   # used up after ``times`` matches
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = ["FAULT_TIMINGS", "Fault", "Faults", "When"]

When = Literal["before", "after"]
"""``before``: the request never executes. ``after``: it executes, then its answer is lost."""
FAULT_TIMINGS: tuple[When, ...] = get_args(When)


@dataclass(slots=True)
class Fault:
    """One rule: for the next ``times`` matching requests (None: always).

    ``times`` counts down as the rule is used; ``used`` counts up. ``required``: the test
    that set the rule expects it to be used up (at least once when ``times`` is None).
    """

    method: str | None = None
    path: str | None = None
    status: int | None = 503
    times: int | None = 1
    when: When = "before"
    delay: float = 0.0
    drop_connection: bool = False
    required: bool = True
    used: int = 0

    @property
    def delay_only(self) -> bool:
        """Only slows the request down; it then runs and answers as usual."""
        return self.status is None and not self.drop_connection

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or fnmatch.fnmatchcase(path, self.path)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "times": self.times,
            "when": self.when,
            "delay": self.delay,
            "drop_connection": self.drop_connection,
            "required": self.required,
            "used": self.used,
        }

    def spec(self) -> dict[str, Any]:
        """What the rule does to a request (a call's ``fault``): no counts."""
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "when": self.when,
            "delay": self.delay,
            "drop_connection": self.drop_connection,
        }


class Faults:
    """The faults of one test, matched in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._rules.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def __bool__(self) -> bool:
        return bool(self._rules)

    def take(self, method: str, path: str) -> Fault | None:
        """The first rule matching the request, counted as used; None when none matches."""
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.used += 1
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self._rules.remove(rule)
                    return rule
        return None

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_dict() for rule in self._rules]

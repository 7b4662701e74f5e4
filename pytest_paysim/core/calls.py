"""The API requests of a run, as a test reads them (``paysim.calls``).

A front end hands the simulator one :class:`Call` per API request, once it has the answer
(:meth:`Simulator.record_call <pytest_paysim.core.simulator.Simulator.record_call>`); the
control plane, the health check, the OpenAPI document and the HTML pages are not API
requests. A reset empties the record. The record is generic, whatever dialect the front end
speaks: a method, a path, what was asked and what was answered. The answer's JSON is parsed
only when a test reads it::

    call = Call("POST", "/v1/payments", 201, request={"amount": 500}, body=b'{"id": "pay_1"}')
    call.response["id"]         # "pay_1", parsed now
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

__all__ = ["MAX_CALLS", "Call", "matching"]

MAX_CALLS = 10_000
"""A run keeps its latest calls up to this many (a server that is never reset stays small)."""

_UNPARSED: Any = object()


class Call:
    """One API request and its answer.

    ``status`` is None when no answer was sent (an injected ``drop_connection``). ``fault``
    is the injected fault that applied (its ``method``, ``path``, ``status``, ``when``,
    ``delay`` and ``drop_connection``), or None. ``request`` is the parsed JSON body, or the
    query as a dict for a request without a body; None when the body was not JSON.
    ``response`` is the answer's parsed JSON (None without one).
    """

    __slots__ = (
        "_body",
        "_response",
        "fault",
        "idempotency_key",
        "method",
        "path",
        "replayed",
        "request",
        "status",
    )

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        *,
        idempotency_key: str | None = None,
        replayed: bool = False,
        fault: dict[str, Any] | None = None,
        request: Any = None,
        body: bytes = b"",
        response: Any = _UNPARSED,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.idempotency_key = idempotency_key
        self.replayed = replayed
        self.fault = fault
        self.request = request
        self._body = body
        self._response = response

    @property
    def response(self) -> Any:
        """The answer's JSON (parsed on first read), or None without a JSON answer."""
        if self._response is _UNPARSED:
            try:
                self._response = json.loads(self._body) if self._body else None
            except ValueError:
                self._response = None
        return self._response

    def matches(self, method: str, path_glob: str) -> bool:
        """Whether the method and path match (both globs; the method in any case)."""
        return fnmatch.fnmatchcase(self.method, method.upper()) and fnmatch.fnmatchcase(
            self.path, path_glob
        )

    def to_dict(self) -> dict[str, Any]:
        """The call as JSON-ready data (the control route ``GET /_paysim/calls``)."""
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "idempotency_key": self.idempotency_key,
            "replayed": self.replayed,
            "fault": self.fault,
            "request": self.request,
            "response": self.response,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Call:
        """A call read back from :meth:`to_dict`."""
        return cls(
            data["method"],
            data["path"],
            data["status"],
            idempotency_key=data.get("idempotency_key"),
            replayed=bool(data.get("replayed")),
            fault=data.get("fault"),
            request=data.get("request"),
            response=data.get("response"),
        )

    def describe(self) -> str:
        """One line: method, path, status, and the key, replay and fault when there is one."""
        answer = "no answer (connection dropped)" if self.status is None else str(self.status)
        text = f"{self.method} {self.path} -> {answer}"
        if self.idempotency_key is not None:
            text += f" key={self.idempotency_key!r}"
        if self.replayed:
            text += " replayed"
        if self.fault is not None:
            text += f" (injected fault, when={self.fault.get('when')})"
        return text

    def __repr__(self) -> str:
        return f"<Call {self.describe()}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Call):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value


def matching(calls: list[Call], method: str, path_glob: str) -> list[Call]:
    """The calls whose method and path match the globs, in order."""
    return [call for call in calls if call.matches(method, path_glob)]

"""An answer of the HTTP front end: status, body bytes, extra headers and content type.

The JSON API and the HTML pages both build these; the WSGI app writes them out::

    Response(201, b'{"id": "pay_..."}')
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Response"]


@dataclass
class Response:
    """A status, headers and the body bytes."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"

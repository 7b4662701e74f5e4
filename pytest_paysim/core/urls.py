"""URLs the simulator sends to or redirects to: absolute http(s), with a host a client can use.

Both front ends check ``return_url``, ``metadata[webhook_url]`` and endpoint URLs with this one
test, so a URL that one API refuses the other refuses too::

    is_http_url("https://example.com/hook")   # True
    is_http_url("http://127.0.0.1:99999/x")   # False: no such port
    is_http_url("javascript:alert(1)")        # False: not http(s)
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["MAX_URL_LENGTH", "is_http_url"]

MAX_URL_LENGTH = 2048
"""The longest URL either API takes."""


def is_http_url(text: str) -> bool:
    """Whether ``text`` is an absolute http(s) URL with a host (IDNA-valid, or an IP address)
    and, if it has one, a port from 0 to 65535; no spaces or control characters.

    The host is encoded as an HTTP client would encode it before sending, so a host no client
    could use (an empty label, one over 63 characters) is refused here rather than when a
    page redirects to it or a webhook is sent.
    """
    if any(ord(char) < 33 or ord(char) == 127 for char in text):
        return False
    try:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        _ = parts.port  # a port that is not a number, or out of range, raises
        parts.hostname.encode("idna")
    except (ValueError, UnicodeError):
        return False
    return True

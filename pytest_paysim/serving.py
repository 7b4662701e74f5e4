"""HTTP/1.1 keep-alive serving for the simulator, on werkzeug's threaded server.

werkzeug's development server answers ``Connection: close`` to every request, because
``http.server`` does not drain an unread request body before reading the next request line.
So every API call pays a TCP connect and a new thread. This module keeps werkzeug (its
``ThreadedWSGIServer``, ``WSGIRequestHandler.make_environ``, the WSGI app) and replaces the
per-request part of the handler so that a connection can safely carry many requests:

- The request body is read before the app runs, up to ``MAX_BODY_BYTES`` (the app's own
  limit), within a deadline, and handed to the app as a ``BytesIO``. Nothing unread is left on
  the connection, so the next request line starts where it should. A body that stops early
  (the client closed it, or stalled past the timeout) or cannot be framed (a malformed
  ``Content-Length`` or chunked body) is answered 400 ``request_malformed`` without the app,
  and the connection is closed.
- A ``Content-Length`` over the limit is not read at all: the app answers 413
  ``body_too_large`` from the header, and the connection is closed without reading the rest
  (werkzeug drains it, so a client that waits for the answer before sending more hangs).
- Chunked bodies are decoded here, up to the limit; after one that also had a
  ``Content-Length``, or went over the limit (413 from the app), the connection is closed.
- Each connection waits at most ``idle_timeout`` seconds for its next request, and each read
  or write of a request at most ``io_timeout`` seconds; a body must arrive within
  ``body_timeout``.
- At most ``max_connections`` connections are open at once; one more is answered 503 JSON
  (``too_many_connections``) and closed, without a thread.
- ``server_close()`` shuts down every idle connection at once, which wakes handler threads
  blocked waiting for a request, lets requests in flight finish for a moment, then shuts the
  rest down and waits a moment for their threads to end.
- Errors found before the app runs (a malformed request line, headers too long) are JSON, like
  every other error of the API.

Usage, as werkzeug's ``make_server``::

    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ...
    server.shutdown()
    server.server_close()
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import re
import socket
import ssl
import sys
import threading
import time
import traceback
from email.utils import formatdate
from http.client import HTTPMessage
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler

from pytest_paysim.http.app import ARRIVED_AT, MAX_BODY_BYTES

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import TracebackType

    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

__all__ = [
    "IDLE_TIMEOUT_SECONDS",
    "MAX_CONNECTIONS",
    "KeepAliveHandler",
    "KeepAliveWSGIServer",
    "QuietHandler",
    "RequestHeaders",
    "make_server",
]

MAX_CONNECTIONS = 64
"""Open connections at once, by default; one more is answered 503 and closed."""
IDLE_TIMEOUT_SECONDS = 5.0
"""How long a connection may wait for its next request, by default."""
IO_TIMEOUT_SECONDS = 10.0
"""How long one read or write of a request (its headers, its body, the answer) may stall."""
BODY_TIMEOUT_SECONDS = 30.0
"""How long a whole request body may take to arrive."""
CLOSE_GRACE_SECONDS = 0.3
"""How long ``server_close()`` lets requests in flight finish before it shuts their
connections too (idle ones are shut at once)."""
CLOSE_WAIT_SECONDS = 0.2
"""How long ``server_close()`` then waits for the last handler threads to end."""

_MAX_LINE = 65536
_MAX_HEADERS = 100
_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")  # what http.server's email parser took
_MAX_CHUNK_LINE = 1024
_MAX_TRAILERS = 100
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_READ_SIZE = 65536
_NO_BODY_STATUSES = frozenset((204, 304))


def _json_error(code: str, message: str, type: str = "invalid_request_error") -> bytes:
    return json.dumps(
        {"error": {"type": type, "code": code, "message": message, "param": None}}
    ).encode()


class QuietHandler(WSGIRequestHandler):
    """No request log lines (they would clutter test output and could show secrets), and JSON
    for the errors found before the app runs."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found before the app runs (a malformed request line, headers too long) are
        JSON like every other error of the API, never http.server's HTML page."""
        self.send_json_error(
            code,
            f"The HTTP request could not be read ({code} {message or ''}); "
            "send a well-formed HTTP/1.1 request with shorter lines.",
            reason=message,
        )

    def send_json_error(self, code: int, message: str, *, reason: str | None = None) -> None:
        """A ``request_malformed`` error with this status and message; the connection closes."""
        body = _json_error("request_malformed", message)
        self.close_connection = True
        if not self.command:  # the request line was refused: answer with a status line anyway
            self.request_version = self.protocol_version
        try:
            self.send_response(code, reason)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass


class RequestHeaders(HTTPMessage):
    """A request's header fields, as ``HTTPMessage`` holds them, with an index by lower-case
    name: ``email.message.Message`` finds a field by lowering every name in turn, and the
    server and the app look up about ten fields a request. Fields come in through
    :meth:`add_field` or ``self[name] = value``; the other mutators of ``Message`` are not
    used on a request's fields."""

    def __init__(self) -> None:
        super().__init__()
        self._index: dict[str, list[str]] = {}

    def add_field(self, name: str, value: str) -> None:
        """One more field (a repeated name keeps each value, in order)."""
        self.set_raw(name, value)
        found = self._index.get(name.lower())
        if found is None:
            self._index[name.lower()] = [value]
        else:
            found.append(value)

    def __setitem__(self, name: str, value: Any) -> None:
        self.add_field(name, value)

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        self._index.pop(name.lower(), None)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    # Values decoded from ISO-8859-1 hold no surrogates, so ``Message``'s policy would hand
    # each back unchanged: they are returned as stored.
    def get(self, name: str, failobj: Any = None) -> Any:
        found = self._index.get(name.lower())
        return found[0] if found else failobj

    def get_all(self, name: str, failobj: Any = None) -> Any:
        found = self._index.get(name.lower())
        return list(found) if found else failobj

    def items(self) -> list[tuple[str, Any]]:
        return list(self.raw_items())


class KeepAliveHandler(QuietHandler):
    """One connection: HTTP/1.1 requests one after the other, each body read in full first."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # answers go out in one write; don't hold the last segment
    server: KeepAliveWSGIServer

    # -- the connection ---------------------------------------------------------------------

    def handle(self) -> None:
        """Requests until the client or the server ends the connection."""
        self.close_connection = True
        try:
            if isinstance(self.connection, ssl.SSLSocket):
                # Handshake here, not in the accept loop, so a silent client blocks nobody.
                self.connection.settimeout(self.server.io_timeout)
                self.connection.do_handshake()
            self.handle_one_request()
            while not self.close_connection and not self.server.stopping:
                self.handle_one_request()
        except (OSError, ValueError) as error:
            # Reset, timed out, TLS failed; or (ValueError) a TLS socket shut by stop.
            if isinstance(error, ValueError) and not self.server.stopping:
                raise
            self.close_connection = True
            self.connection_dropped(error)

    def handle_one_request(self) -> None:
        """Wait (at most ``idle_timeout``) for a request line, then read and answer it."""
        self.close_connection = True
        if not self.server.wait_begins(self.connection):  # the server is stopping
            return
        try:
            self.connection.settimeout(self.server.idle_timeout)
            line = self.rfile.readline(_MAX_LINE + 1)
            for _ in range(4):  # RFC 9112 2.2: ignore empty lines before the request line
                if line not in (b"\r\n", b"\n"):
                    break
                line = self.rfile.readline(_MAX_LINE + 1)
        except (OSError, ValueError):  # idle too long, reset, or shut down by server_close()
            return
        finally:
            self.server.wait_ends(self.connection)
        if not line or self.server.stopping:
            return
        self.connection.settimeout(self.server.io_timeout)
        self.raw_requestline = line
        if len(line) > _MAX_LINE:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():  # the error is sent; close_connection is set
            return
        self.run_wsgi()

    def parse_request(self) -> bool:
        """The request line, checked as ``http.server`` checks it, and the header fields read
        line by line into an ``HTTPMessage`` (``http.server`` runs the email parser on them,
        which costs about 30 µs a request). False, with the error sent, for a bad request."""
        self.command = ""
        self.request_version = self.default_request_version
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if not words:
            return False
        if len(words) >= 3:
            version = _version_number(words[-1])
            if version is None:
                self.send_error(400, f"Bad request version ({words[-1]!r})")
                return False
            if version >= (2, 0):
                self.send_error(505, f"Invalid HTTP version ({words[-1][5:]})")
                return False
            self.close_connection = version < (1, 1)
            self.request_version = words[-1]
        if not 2 <= len(words) <= 3:
            self.send_error(400, f"Bad request syntax ({self.requestline!r})")
            return False
        command, path = words[:2]
        if len(words) == 2:
            self.close_connection = True
            if command != "GET":
                self.send_error(400, f"Bad HTTP/0.9 request type ({command!r})")
                return False
        self.command = command
        # As http.server does: '//host/x' is a path, never an absolute URL to redirect to.
        self.path = "/" + path.lstrip("/") if path.startswith("//") else path
        problem = self._read_fields()
        if problem is not None:
            self.send_error(*problem)
            return False
        connection = self.headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        expect = self.headers.get("Expect", "").lower()
        if expect == "100-continue" and self.request_version >= "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def _read_fields(self) -> tuple[int, str] | None:
        """Read the header fields into ``self.headers``; or the error status and reason."""
        headers = self.headers = RequestHeaders()
        add_field = headers.add_field
        readline = self.rfile.readline
        count = 0
        name = value = ""
        while True:
            line = readline(_MAX_LINE + 1)
            if len(line) > _MAX_LINE:
                return 431, "Line too long"
            if line in (b"\r\n", b"\n", b""):
                break
            count += 1
            if count > _MAX_HEADERS:
                return 431, "Too many headers"
            text = line.decode("iso-8859-1").rstrip("\r\n")
            if text[:1] in (" ", "\t"):  # an obsolete folded line continues the field before
                if not name:
                    return 400, "Bad header line"
                value = value + " " + text.strip(" \t")
                continue
            if name:
                add_field(name, value)
            name, colon, value = text.partition(":")
            if not colon or not _FIELD_NAME.fullmatch(name):
                return 400, "Bad header line"
            value = value.strip(" \t")
        if name:
            add_field(name, value)
        return None

    def handle_expect_100(self) -> bool:
        """``100 Continue`` only for a body that will be read."""
        if self._declared_length() <= MAX_BODY_BYTES:
            return super().handle_expect_100()
        return True

    # -- the request body -------------------------------------------------------------------

    def _declared_length(self) -> int:
        """``Content-Length`` as a number; -1 when absent, -2 when malformed or conflicting."""
        values = self.headers.get_all("Content-Length")
        if not values:
            return -1
        lengths = {part.strip() for value in values for part in str(value).split(",")}
        if len(lengths) != 1:
            return -2
        text = lengths.pop()
        if not text.isdigit() or not text.isascii() or len(text) > 18:
            return -2
        return int(text)

    def _read_body(self, environ: WSGIEnvironment) -> str | None:
        """Read the whole body into ``wsgi.input``; or say why it could not be (the request is
        then answered 400 without the app). Sets ``close_connection`` when the connection
        cannot carry another request after the answer."""
        environ["wsgi.input"] = io.BytesIO(b"")
        transfer = self.headers.get_all("Transfer-Encoding")
        if transfer:
            closes = self.close_connection  # as the request asked (parse_request)
            self.close_connection = True  # unless the body turns out whole and plain
            codings = [c.strip().lower() for v in transfer for c in str(v).split(",")]
            if codings != ["chunked"]:
                return (
                    f"Transfer-Encoding {', '.join(codings)[:100]} is not supported; send the "
                    "body with a Content-Length, or chunked."
                )
            environ.pop("CONTENT_LENGTH", None)  # RFC 9112 6.3: Transfer-Encoding wins
            body, state = self._read_chunked()
            if state == "malformed":
                return (
                    "The chunked body is malformed; send each chunk size in hexadecimal and "
                    "end each line with CRLF."
                )
            if state == "cut":
                return "The chunked body ended before its last chunk; send the whole body."
            environ["wsgi.input"] = io.BytesIO(body)
            environ["wsgi.input_terminated"] = True
            if state == "whole" and self.headers.get("Content-Length") is None:
                # With a Content-Length as well, a client and a proxy may disagree on where
                # this body ends: answer, then close.
                self.close_connection = closes
            return None
        length = self._declared_length()
        if length == -1:
            return None
        if length == -2:
            self.close_connection = True
            return (
                "The Content-Length header is not one non-negative whole number; send the "
                "body's length in bytes."
            )
        environ["CONTENT_LENGTH"] = str(length)  # "5, 5" and repeated fields as one number
        if length > MAX_BODY_BYTES:
            # The app answers 413 from the header; the rest is never read, the connection closes.
            self.close_connection = True
            return None
        body = self._read_exact(length, time.monotonic() + self.server.body_timeout)
        if len(body) < length:
            self.close_connection = True
            return (
                f"The body ended after {len(body)} of the {length} bytes its Content-Length "
                "announced (closed or too slow); send the whole body."
            )
        environ["wsgi.input"] = io.BytesIO(body)
        return None

    def _read_exact(self, size: int, deadline: float) -> bytes:
        """Up to ``size`` bytes: fewer if the client closes, stalls or misses the deadline."""
        if size == 0:
            return b""
        read1 = self.rfile.read1
        io_timeout = self.server.io_timeout
        chunks: list[bytes] = []
        left = size
        while left > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if remaining < io_timeout:
                self.connection.settimeout(remaining)
            try:
                chunk: bytes = read1(min(left, _READ_SIZE))
            except (OSError, ValueError):
                break
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _read_chunked(self) -> tuple[bytes, str]:
        """A chunked body, decoded, up to one byte over the limit, and how it ended: ``whole``,
        ``over`` (the limit), ``cut`` (closed, stalled, too slow) or ``malformed``."""
        deadline = time.monotonic() + self.server.body_timeout
        body = bytearray()
        try:
            while True:
                line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
                if not line.endswith(b"\n"):
                    return bytes(body), _unfinished(line)
                size_text = line.split(b";", 1)[0].strip()
                if not _CHUNK_SIZE.fullmatch(size_text):
                    return bytes(body), "malformed"
                size = int(size_text, 16)
                if size == 0:
                    for _ in range(_MAX_TRAILERS):  # trailer fields, then an empty line
                        trailer = self.rfile.readline(_MAX_CHUNK_LINE + 1)
                        if trailer in (b"\r\n", b"\n"):
                            return bytes(body), "whole"
                        if not trailer.endswith(b"\n"):
                            return bytes(body), _unfinished(trailer)
                    return bytes(body), "malformed"
                wanted = min(size, MAX_BODY_BYTES + 1 - len(body))
                data = self._read_exact(wanted, deadline)
                body += data
                if len(data) < wanted:
                    return bytes(body), "cut"
                if len(body) > MAX_BODY_BYTES:
                    return bytes(body), "over"  # the app answers 413; the rest is never read
                ending = self.rfile.readline(3)
                if ending not in (b"\r\n", b"\n"):
                    return bytes(body), "cut" if not ending else "malformed"
        except (OSError, ValueError):
            return bytes(body), "cut"

    # -- the environ ------------------------------------------------------------------------

    def make_environ(self) -> WSGIEnvironment:
        """werkzeug's environ, built directly for the common request: a plain ASCII path
        without escapes, no ``Transfer-Encoding``, no TLS. Anything else goes to werkzeug's
        ``make_environ`` (which URL-splits and unquotes the path, wraps a chunked body and reads
        a client certificate); ``tests/http/test_serving_environ.py`` checks the two agree."""
        path = self.path
        if (
            not path.startswith("/")
            or path.startswith("//")
            or "%" in path
            or not path.isascii()
            or not path.isprintable()
            or "Transfer-Encoding" in self.headers
            or isinstance(self.connection, ssl.SSLSocket)
            or not isinstance(self.client_address, tuple)
        ):
            return super().make_environ()
        path_info, _, query = path.partition("#")[0].partition("?")
        server = self.server
        environ: WSGIEnvironment = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": self.rfile,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": server.multithread,
            "wsgi.multiprocess": server.multiprocess,
            "wsgi.run_once": False,
            "werkzeug.socket": self.connection,
            "SERVER_SOFTWARE": self.server_version,
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": path_info,
            "QUERY_STRING": query,
            "REQUEST_URI": path,
            "RAW_URI": path,
            "REMOTE_ADDR": self.address_string(),
            "REMOTE_PORT": self.port_integer(),
            "SERVER_NAME": server.server_address[0],
            "SERVER_PORT": str(server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
        }
        for key, value in self.headers.items():
            if "_" in key:
                continue
            key = key.upper().replace("-", "_")
            value = value.replace("\r\n", "")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
                if key in environ:
                    value = f"{environ[key]},{value}"
            environ[key] = value
        return environ

    # -- the app ----------------------------------------------------------------------------

    def run_wsgi(self) -> None:
        """Read the body, call the app, write its answer in as few writes as it allows."""
        environ = self.environ = self.make_environ()
        # When the request arrived (its head read), before a slow body: the app counts the
        # request as of the simulator run it arrived in (see ARRIVED_AT).
        environ[ARRIVED_AT] = time.monotonic()
        problem = self._read_body(environ)
        if problem is not None:
            self.send_json_error(400, problem)
            return
        self.connection.settimeout(self.server.io_timeout)
        state = _Answer(self)

        try:
            self._execute(self.server.app, environ, state)
        except (ConnectionError, TimeoutError, ssl.SSLError) as error:
            self.close_connection = True
            self.connection_dropped(error, environ)
        except Exception:
            self.close_connection = True
            self.server.log("error", f"Error on request:\n{traceback.format_exc()}")
            if state.sent is None:  # nothing went out yet: answer 500
                with contextlib.suppress(Exception):
                    self._execute(_internal_error, environ, _Answer(self))

    def _execute(self, app: WSGIApplication, environ: WSGIEnvironment, state: _Answer) -> None:
        result = app(environ, state.start_response)
        try:
            for data in result:
                if data:
                    state.write(data)
            state.finish()
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


def _version_number(version: str) -> tuple[int, int] | None:
    """``HTTP/1.1`` as ``(1, 1)``; None when it is not an HTTP version (http.server's rule)."""
    if not version.startswith("HTTP/"):
        return None
    parts = version[5:].split(".")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) <= 10 for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def _unfinished(line: bytes) -> str:
    """Why a line of a chunked body has no end: ``cut`` short, or ``malformed`` (too long)."""
    return "cut" if len(line) <= _MAX_CHUNK_LINE else "malformed"


class _Answer:
    """The status, headers and body of one answer, written on the first body bytes."""

    __slots__ = ("chunked", "handler", "header_list", "length", "sent", "status", "written")

    def __init__(self, handler: KeepAliveHandler) -> None:
        self.handler = handler
        self.status: str | None = None
        self.header_list: list[tuple[str, str]] = []
        self.sent: str | None = None
        self.chunked = False
        self.length = -1
        self.written = 0

    def start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: tuple[type[BaseException], BaseException, TracebackType]
        | tuple[None, None, None]
        | None = None,
    ) -> Callable[[bytes], object]:
        if exc_info and exc_info[1] is not None:
            try:
                if self.sent is not None:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("Headers already set")
        self.status = status
        self.header_list = headers
        return self.write

    def _head(self) -> bytes:
        handler = self.handler
        assert self.status is not None, "write() before start_response"
        self.sent = self.status
        code = int(self.status.split(None, 1)[0])
        lines = [
            f"{handler.protocol_version} {self.status}",
            f"Server: {handler.server.version}",
            f"Date: {handler.server.date()}",
        ]
        for name, value in self.header_list:
            lowered = name.lower()
            if lowered == "connection":
                continue
            if lowered == "content-length":
                try:
                    self.length = int(value)
                except ValueError:
                    handler.close_connection = True
            lines.append(f"{name}: {value}")
        no_body = handler.command == "HEAD" or 100 <= code < 200 or code in _NO_BODY_STATUSES
        if no_body:
            self.length = 0
        elif self.length < 0:
            self.chunked = True
            lines.append("Transfer-Encoding: chunked")
        if handler.close_connection:
            lines.append("Connection: close")
        elif handler.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive")  # it asked; HTTP/1.0 closes otherwise
        lines.append("\r\n")
        return "\r\n".join(lines).encode("latin-1")

    def write(self, data: bytes) -> None:
        assert isinstance(data, bytes), "applications must write bytes"
        head = self._head() if self.sent is None else b""
        if self.handler.request_version == "HTTP/0.9":
            head = b""
        if self.chunked and data:
            data = b"%x\r\n%b\r\n" % (len(data), data)
        elif self.length == 0:
            data = b""
        self.written += len(data)
        if head or data:
            self.handler.wfile.write(head + data if head else data)

    def finish(self) -> None:
        """After the last body bytes: the headers if none went out, the last chunk."""
        if self.sent is None:
            self.write(b"")
        if self.chunked:
            self.handler.wfile.write(b"0\r\n\r\n")
        elif self.length >= 0 and self.written != self.length:
            self.handler.close_connection = True  # the framing is off: don't reuse it


def _internal_error(environ: WSGIEnvironment, start_response: Any) -> Iterable[bytes]:
    body = _json_error("internal_error", "The server hit an internal error.", type="api_error")
    start_response(
        "500 Internal Server Error",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


class _BindFailed(Exception):
    """Carries the ``OSError`` of bind or listen past werkzeug, which would exit instead."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class KeepAliveWSGIServer(ThreadedWSGIServer):
    """werkzeug's threaded server with a bounded, tracked set of keep-alive connections.

    ``idle_timeout``, ``io_timeout``, ``body_timeout`` and ``max_connections`` are read for
    every request and connection, so they may be changed on a running server. ``accepted``
    counts the connections accepted since start.
    """

    daemon_threads = True
    block_on_close = False  # server_close() does its own bounded join

    def __init__(
        self,
        host: str,
        port: int,
        app: WSGIApplication,
        handler: type[WSGIRequestHandler] | None = None,
        passthrough_errors: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        *,
        max_connections: int | None = None,
        idle_timeout: float | None = None,
        io_timeout: float | None = None,
        body_timeout: float | None = None,
    ) -> None:
        self.max_connections = MAX_CONNECTIONS if max_connections is None else max_connections
        self.idle_timeout = IDLE_TIMEOUT_SECONDS if idle_timeout is None else idle_timeout
        self.io_timeout = IO_TIMEOUT_SECONDS if io_timeout is None else io_timeout
        self.body_timeout = BODY_TIMEOUT_SECONDS if body_timeout is None else body_timeout
        self.accepted = 0
        self.refused = 0
        self.stopping = False
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._waiting: set[socket.socket] = set()  # idle: waiting for a request line
        self._numbers = itertools.count(1)
        self._date = (0, "")
        super().__init__(
            host, port, app, handler or KeepAliveHandler, passthrough_errors, ssl_context
        )
        if isinstance(self.socket, ssl.SSLSocket):
            # The handshake is done in the handler's thread (typeshed lacks the attribute).
            self.socket.do_handshake_on_connect = False  # type: ignore[attr-defined]
        self.version = f"{self._server_version} Python/{sys.version.split()[0]}"

    def server_bind(self) -> None:
        try:
            super().server_bind()
        except OSError as error:
            raise _BindFailed(error) from error

    def server_activate(self) -> None:
        try:
            super().server_activate()
        except OSError as error:
            raise _BindFailed(error) from error

    def date(self) -> str:
        """The ``Date`` header value, formatted once a second."""
        now = int(time.time())
        cached = self._date
        if cached[0] != now:
            cached = self._date = (now, formatdate(now, usegmt=True))
        return cached[1]

    # -- connections ------------------------------------------------------------------------

    @property
    def open_connections(self) -> int:
        """Connections open now (each has its thread)."""
        with self._lock:
            return len(self._connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread for the connection, or a 503 when ``max_connections`` are open."""
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"paysim-http-{self.port}-{next(self._numbers)}",
            daemon=True,
        )
        with self._lock:
            self.accepted += 1
            full = len(self._connections) >= self.max_connections
            admitted = not full and not self.stopping
            if admitted:
                self._connections[request] = thread
            else:
                self.refused += 1
        if admitted:
            # Started outside the lock: a start waits for the new thread to run, and threads
            # that are done wait on the lock to leave; holding it here made them queue up.
            try:
                thread.start()
                return
            except RuntimeError:  # no thread to be had: as if the bound were reached
                with self._lock:
                    self._connections.pop(request, None)
                full = True
        if full and not self.stopping:
            self._refuse(request)
        self.shutdown_request(request)

    def _refuse(self, request: socket.socket) -> None:
        if isinstance(request, ssl.SSLSocket):
            return  # answering would need a TLS handshake in the accept loop: just close
        body = _json_error(
            "too_many_connections",
            f"The simulator has {self.max_connections} connections open already; close "
            "idle ones (Session.close()) or send requests over fewer connections.",
            type="api_error",
        )
        head = (
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
        )
        try:
            request.setblocking(False)
            request.send(head.encode("latin-1") + body)
        except OSError:
            pass

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            with self._lock:  # forgotten before it is closed: close_connections never sees
                self._connections.pop(request, None)  # a socket whose descriptor was reused
            self.shutdown_request(request)

    def wait_begins(self, connection: socket.socket) -> bool:
        """A handler is about to wait for its next request; False once the server stops."""
        with self._lock:
            if self.stopping:
                return False
            self._waiting.add(connection)
            return True

    def wait_ends(self, connection: socket.socket) -> None:
        with self._lock:
            self._waiting.discard(connection)

    def close_connections(
        self, grace: float = CLOSE_GRACE_SECONDS, wait: float = CLOSE_WAIT_SECONDS
    ) -> None:
        """Stop serving connections: shut idle ones at once (their threads wake up from
        waiting), give requests in flight ``grace`` seconds to be answered, then shut their
        connections too and wait up to ``wait`` seconds more for the threads to end."""
        with self._lock:
            self.stopping = True
            threads = list(self._connections.values())
            for connection in self._waiting:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        self._join(threads, grace)
        with self._lock:
            threads = list(self._connections.values())
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        self._join(threads, wait)

    @staticmethod
    def _join(threads: list[threading.Thread], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        current = threading.current_thread()
        for thread in threads:
            if thread is not current and thread.ident is not None:  # started
                thread.join(max(0.0, deadline - time.monotonic()))

    def server_close(self) -> None:
        """Close the listening socket and every connection (idempotent)."""
        super().server_close()
        self.close_connections()


def make_server(
    host: str,
    port: int,
    app: WSGIApplication,
    *,
    ssl_context: ssl.SSLContext | None = None,
    max_connections: int | None = None,
    idle_timeout: float | None = None,
    io_timeout: float | None = None,
    body_timeout: float | None = None,
) -> BaseWSGIServer:
    """A bound, listening :class:`KeepAliveWSGIServer` (typed as werkzeug's base class, as
    werkzeug's ``make_server`` is); ``OSError`` when the address cannot be used.

    Options left out take the module's defaults (``MAX_CONNECTIONS``, ``IDLE_TIMEOUT_SECONDS``,
    ``IO_TIMEOUT_SECONDS``, ``BODY_TIMEOUT_SECONDS``) as they are at the call.
    """
    try:
        return KeepAliveWSGIServer(
            host,
            port,
            app,
            ssl_context=ssl_context,
            max_connections=max_connections,
            idle_timeout=idle_timeout,
            io_timeout=io_timeout,
            body_timeout=body_timeout,
        )
    except _BindFailed as failed:
        raise failed.error from None

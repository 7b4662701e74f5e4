"""Keep-alive connections to one server, for ``PaysimClient``'s short path.

A call to the simulator's JSON API through ``requests`` spends most of its client time in
``urllib3``'s pool and ``requests``' adapter (retry and timeout objects, a urllib3 response
wrapped in a ``requests`` one, the header and body written in two sends, so the server thread
wakes twice). ``ConnectionPool`` sends the same prepared request over a standard-library
``http.client`` connection kept open between calls, header and body in one write, and answers
with a ``requests.Response`` read whole, as a session gives without ``stream=True``::

    pool = ConnectionPool("http://127.0.0.1:8765")
    response = pool.send(prepared_request, timeout=10, verify=True)
    pool.close()

Failures are ``requests``' own exceptions: ``ConnectTimeout`` and ``ReadTimeout`` (both
``Timeout``), ``SSLError``, and ``ConnectionError`` for a refused, reset or dropped
connection. A connection the server closed while it sat idle is noticed before reuse and
replaced; a request is never sent twice. ``response.raw`` is the ``http.client`` response,
already read. Set-Cookie fields go into ``response.cookies`` and the ``cookies`` jar given.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import zlib
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from requests.cookies import MockRequest, MockResponse, RequestsCookieJar
from requests.sessions import preferred_clock
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3.util.wait import wait_for_read

__all__ = ["ConnectionPool"]

MAX_IDLE = 10
"""Idle connections kept for reuse (``requests``' default pool size); more are closed."""

_Timeout = float | tuple[float | None, float | None] | None


class ConnectionPool:
    """Idle keep-alive connections to the origin of ``base_url`` (http or https), taken by
    one call at a time: any number of threads may send at once."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an absolute http(s) URL, not {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._tls: tuple[str | bool, ssl.SSLContext] | None = None
        self._closed = False

    def send(
        self,
        request: requests.PreparedRequest,
        *,
        timeout: _Timeout,
        verify: str | bool,
        cookies: RequestsCookieJar | None = None,
    ) -> requests.Response:
        """Send ``request`` (its URL on this pool's origin) and read the whole answer."""
        connect_timeout, read_timeout = _timeouts(timeout)
        began = preferred_clock()
        connection = self._take(connect_timeout, verify, request)
        try:
            connection.sock.settimeout(read_timeout)
            connection.request(
                request.method or "GET",
                request.path_url,
                body=request.body,
                headers=dict(request.headers),
            )
            answer = connection.getresponse()
            content = answer.read()
        except TimeoutError as error:
            connection.close()
            raise requests.ReadTimeout(error, request=request) from None
        except ssl.SSLError as error:
            connection.close()
            raise requests.exceptions.SSLError(error, request=request) from None
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise requests.ConnectionError(
                f"Connection aborted: {error!r}", request=request
            ) from None
        except BaseException:
            connection.close()
            raise
        if answer.will_close:
            connection.close()
        else:
            self._give_back(connection)
        response = _response(request, answer, content, cookies)
        response.elapsed = timedelta(seconds=preferred_clock() - began)
        return response

    def close(self) -> None:
        """Close the idle connections; those in use close when their call ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _take(
        self, connect_timeout: float | None, verify: str | bool, request: requests.PreparedRequest
    ) -> http.client.HTTPConnection:
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._connect(connect_timeout, verify, request)
            # Readable while idle means the server closed it (its idle timeout) or broke the
            # protocol: either way it cannot carry this request.
            if connection.sock is not None and not wait_for_read(connection.sock, timeout=0.0):
                return connection
            connection.close()

    def _give_back(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < MAX_IDLE:
                self._idle.append(connection)
                return
        connection.close()

    def _connect(
        self, connect_timeout: float | None, verify: str | bool, request: requests.PreparedRequest
    ) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if self._https:
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=connect_timeout, context=self._context(verify)
            )
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=connect_timeout)
        try:
            connection.connect()
        except TimeoutError as error:
            raise requests.ConnectTimeout(error, request=request) from None
        except ssl.SSLError as error:
            raise requests.exceptions.SSLError(error, request=request) from None
        except OSError as error:
            raise requests.ConnectionError(
                f"cannot connect to {self._host}:{self._port}: {error!r}", request=request
            ) from None
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _context(self, verify: str | bool) -> ssl.SSLContext:
        """The TLS context for ``verify`` as ``requests`` reads it: a CA bundle's path, True
        (the system's CAs) or False (no check)."""
        if self._tls is not None and self._tls[0] == verify:
            return self._tls[1]
        if verify is False:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif isinstance(verify, str):
            context = ssl.create_default_context(cafile=verify)
        else:
            context = ssl.create_default_context()
        self._tls = (verify, context)
        return context


def _timeouts(timeout: _Timeout) -> tuple[float | None, float | None]:
    """``requests``' timeout (one number for both, or ``(connect, read)``) as its two parts."""
    if isinstance(timeout, tuple):
        connect, read = timeout
        return connect, read
    return timeout, timeout


def _response(
    request: requests.PreparedRequest,
    answer: http.client.HTTPResponse,
    content: bytes,
    cookies: RequestsCookieJar | None,
) -> requests.Response:
    response = requests.Response()
    response.status_code = answer.status
    response.reason = answer.reason
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for name, value in answer.msg.items():
        # Repeated fields are joined, as urllib3 gives them to requests.
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    response.headers = headers
    response.encoding = get_encoding_from_headers(headers)
    response._content = _decoded(content, headers.get("Content-Encoding"))
    response._content_consumed = True  # type: ignore[attr-defined]
    response.raw = answer
    response.url = request.url or ""
    response.request = request
    if "Set-Cookie" in headers:
        jar_response = MockResponse(answer.msg)
        response.cookies.extract_cookies(jar_response, MockRequest(request))  # type: ignore[arg-type]
        if cookies is not None:
            cookies.extract_cookies(jar_response, MockRequest(request))  # type: ignore[arg-type]
    return response


def _decoded(content: bytes, encoding: str | None) -> bytes:
    """The body without the ``gzip`` or ``deflate`` coding ``requests`` would undo. paysim
    never compresses; a proxy in front of a remote server might."""
    if not encoding or not content:
        return content
    coding = encoding.strip().lower()
    if coding == "gzip":
        return zlib.decompress(content, 16 + zlib.MAX_WBITS)
    if coding == "deflate":
        try:
            return zlib.decompress(content)
        except zlib.error:  # raw deflate, without the zlib wrapper
            return zlib.decompress(content, -zlib.MAX_WBITS)
    return content

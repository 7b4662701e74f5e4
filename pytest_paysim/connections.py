"""Keep-alive connections to one plain-HTTP server, for ``PaysimClient``'s short path.

A call to the simulator's JSON API through ``requests`` spends most of its client time in
``urllib3``'s pool and ``requests``' adapter (retry and timeout objects, a urllib3 response
wrapped in a ``requests`` one, the header and body written in two sends, so the server thread
wakes twice). ``ConnectionPool`` sends the same prepared request over a standard-library
``http.client`` connection kept open between calls, and answers with a ``requests.Response``
read whole, as a session gives without ``stream=True``::

    pool = ConnectionPool("http://127.0.0.1:8765", adapter=session.get_adapter(url))
    response = pool.send(prepared_request, timeout=10)
    pool.close()

Plain HTTP only: TLS stays with ``urllib3``, whose reading of ``verify`` (certifi, CA
directories, one pool per setting, its warnings) is ``requests``' own. Failures are
``requests``' exceptions, raised where a session raises them: ``ConnectTimeout`` and
``ReadTimeout`` (both ``Timeout``), ``ConnectionError`` for a refused, reset or dropped
connection, ``ChunkedEncodingError`` for a body cut short, ``ContentDecodingError``. As
``urllib3`` does, a server that answers before reading the whole body (413 for a body over the
limit) and closes is read, not reported as a broken pipe. A connection the server closed while
it sat idle is noticed before reuse and replaced; a request is never sent twice.
``response.raw`` is a ``urllib3`` response around the ``http.client`` one, already read, as a
session leaves it; ``Set-Cookie`` fields go into ``response.cookies`` and the ``cookies`` jar
given; a content-coded body is decoded by ``urllib3``'s decoders.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import threading
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.cookies import MockRequest, MockResponse, RequestsCookieJar
from requests.sessions import preferred_clock
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPResponse
from urllib3.exceptions import DecodeError
from urllib3.util.wait import wait_for_read

__all__ = ["ConnectionPool"]

MAX_IDLE = 10
"""Idle connections kept for reuse (``requests``' default pool size); more are closed."""

_Timeout = float | tuple[float | None, float | None] | None


class ConnectionPool:
    """Idle keep-alive connections to the origin of ``base_url`` (``http``), taken by one call
    at a time: any number of threads may send at once. ``adapter`` is the session adapter the
    pool stands in for: answers carry it as ``connection``, as a session's do."""

    def __init__(self, base_url: str, *, adapter: Any = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"base_url must be an absolute http:// URL, not {base_url!r}")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._adapter = adapter
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def send(
        self,
        request: requests.PreparedRequest,
        *,
        timeout: _Timeout,
        cookies: RequestsCookieJar | None = None,
    ) -> requests.Response:
        """Send ``request`` (its URL on this pool's origin) and read the whole answer."""
        connect_timeout, read_timeout = _timeouts(timeout)
        began = preferred_clock()
        connection = self._take(connect_timeout, request)
        try:
            connection.sock.settimeout(read_timeout)
            # A server may answer before reading the whole body and close (413): a broken
            # pipe while sending is not the end, its answer is read.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                connection.request(
                    request.method or "GET",
                    request.path_url,
                    body=request.body,
                    headers=dict(request.headers),
                )
            answer = connection.getresponse()
            elapsed = preferred_clock() - began  # to the answer's head, as a session times it
            content = answer.read()
        except TimeoutError as error:
            connection.close()
            raise requests.ReadTimeout(error, request=request) from None
        except http.client.IncompleteRead as error:
            connection.close()
            raise requests.exceptions.ChunkedEncodingError(
                f"the answer's body was cut short: {error!r}", request=request
            ) from None
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
        response = self._response(request, answer, content, cookies)
        response.elapsed = timedelta(seconds=elapsed)
        return response

    def close(self) -> None:
        """Close the idle connections (those in use close or come back when their call ends);
        the pool can be used again, as a closed ``requests.Session`` can."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _take(
        self, connect_timeout: float | None, request: requests.PreparedRequest
    ) -> http.client.HTTPConnection:
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._connect(connect_timeout, request)
            # Readable while idle means the server closed it (its idle timeout) or broke the
            # protocol: either way it cannot carry this request.
            if connection.sock is not None and not wait_for_read(connection.sock, timeout=0.0):
                return connection
            connection.close()

    def _give_back(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(connection)
                return
        connection.close()

    def _connect(
        self, connect_timeout: float | None, request: requests.PreparedRequest
    ) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection(self._host, self._port, timeout=connect_timeout)
        try:
            connection.connect()
        except TimeoutError as error:
            raise requests.ConnectTimeout(error, request=request) from None
        except OSError as error:
            raise requests.ConnectionError(
                f"cannot connect to {self._host}:{self._port}: {error!r}", request=request
            ) from None
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _response(
        self,
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
        if "Content-Encoding" in headers and content:  # (HEAD, 204, 304: http.client reads none)
            content = _decoded(content, headers, request)
        response._content = content
        response._content_consumed = True  # type: ignore[attr-defined]
        response.url = request.url or ""
        # The raw a session leaves behind: urllib3's response around http.client's, read.
        response.raw = HTTPResponse(
            body=io.BytesIO(),
            headers=dict(headers.items()),
            status=answer.status,
            version=answer.version,
            reason=answer.reason,
            preload_content=False,
            original_response=answer,
            request_method=request.method,
            request_url=response.url,
        )
        response.request = request
        response.connection = self._adapter
        if "Set-Cookie" in headers:
            jar_response = MockResponse(answer.msg)
            response.cookies.extract_cookies(jar_response, MockRequest(request))  # type: ignore[arg-type]
            if cookies is not None:
                cookies.extract_cookies(jar_response, MockRequest(request))  # type: ignore[arg-type]
        return response


def _timeouts(timeout: _Timeout) -> tuple[float | None, float | None]:
    """``requests``' timeout (one number for both, or ``(connect, read)``) as its two parts."""
    if isinstance(timeout, tuple):
        connect, read = timeout
        return connect, read
    return timeout, timeout


def _decoded(
    content: bytes, headers: CaseInsensitiveDict[str], request: requests.PreparedRequest
) -> bytes:
    """The body without its content coding, by ``urllib3``'s decoders (``gzip``, ``x-gzip``,
    ``deflate``, chains of them, ``br`` and ``zstd`` when installed), as a session reads it.
    paysim never compresses; a proxy in front of a remote server might."""
    coded = HTTPResponse(
        body=io.BytesIO(content),
        headers=dict(headers.items()),
        preload_content=False,
        decode_content=True,
    )
    try:
        decoded: bytes = coded.read()
    except DecodeError as error:
        raise requests.exceptions.ContentDecodingError(error, request=request) from None
    return decoded

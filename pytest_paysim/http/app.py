"""The WSGI app of the native API: HTTP in, simulator calls, JSON out.

Every request goes through the same checks, in this order: injected faults, route (404/405),
credentials (401/403), body size and type (413/415), the body and query (400), then the
operation through :meth:`Simulator.execute <pytest_paysim.core.simulator.Simulator.execute>`,
which owns idempotency and the transaction. Any error is an
:class:`~pytest_paysim.errors.ApiError` rendered here in one place; anything else is a bug,
kept by the simulator so the running test fails (and, under ``paysim serve``, logged). Each
API request (under ``/v1/``) is handed to the simulator with its answer, once, for
``paysim.calls`` (:meth:`Simulator.record_call
<pytest_paysim.core.simulator.Simulator.record_call>`)::

    app = PaysimApp(Simulator(SimulatorConfig(seed=1)))
    werkzeug.serving.run_simple("127.0.0.1", 8080, app)
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import parse_qsl

from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound

from pytest_paysim.core.calls import Call
from pytest_paysim.core.faults import Fault
from pytest_paysim.core.idempotency import Answer, Claim, fingerprint
from pytest_paysim.core.models import dump_json
from pytest_paysim.core.simulator import Simulator
from pytest_paysim.errors import (
    ApiError,
    ApiKeyMissing,
    BodyTooLarge,
    ContentTypeUnsupported,
    InjectedFault,
    InternalError,
    InvalidJson,
    MethodNotAllowed,
    ParameterInvalid,
    PaymentUnexpectedState,
    ResourceMissing,
    RouteMissing,
)
from pytest_paysim.http import api, control
from pytest_paysim.http.credentials import check_api_key, check_client_secret
from pytest_paysim.http.pages import PAGE_ENDPOINTS, Pages
from pytest_paysim.http.response import Response
from pytest_paysim.http.routes import API_PREFIX, ROUTES, ROUTES_BY_ENDPOINT, Route, url_map

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["ARRIVED_AT", "MAX_BODY_BYTES", "ConnectionDropped", "PaysimApp", "RequestContext"]

MAX_BODY_BYTES = 1024 * 1024
ARRIVED_AT = "paysim.arrived_at"
"""WSGI environ key: ``time.monotonic()`` when the server read the request's head. A request
whose body was still arriving when the simulator was reset belongs to the run before."""
MAX_JSON_DEPTH = 64
_DIALECT_PREFIXES = ("pi_",)
"""Ids of payments of another front end (the Stripe dialect's): not found here."""
_CLIENT_SECRET = re.compile(rb"(_secret_)[0-9A-Za-z]{8,}")

Handler = Callable[["RequestContext"], tuple[int, Any]]

HANDLERS: dict[str, Handler] = {**api.HANDLERS, **control.HANDLERS}
"""Every JSON route's handler, by endpoint name (each module registers its own)."""

_UNHANDLED = {route.endpoint for route in ROUTES} - set(HANDLERS) - PAGE_ENDPOINTS
if _UNHANDLED:  # pragma: no cover - a programming error, caught at import
    raise RuntimeError(f"routes without a handler: {sorted(_UNHANDLED)}")


class ConnectionDropped(ConnectionResetError):
    """Raised after an injected fault closed the connection without an answer."""


class _Note:
    """What the pipeline learns about an API request on its way, for its :class:`Call`."""

    __slots__ = ("fault", "replayed", "request")

    def __init__(self) -> None:
        self.fault: Fault | None = None
        self.request: Any = None
        self.replayed = False


@dataclass
class RequestContext:
    """What a handler needs to know about its request."""

    app: PaysimApp
    route: Route
    environ: WSGIEnvironment
    args: dict[str, str]
    query: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    credential: str = ""

    @property
    def sim(self) -> Simulator:
        return self.app.simulator


class PaysimApp:
    """The simulator behind HTTP; one instance per server.

    ``error_log``: the log the server writes unexpected errors to (``paysim serve``: standard
    error), named in the 500's message; None under pytest, which fails the running test with
    the traceback instead.
    """

    def __init__(
        self, simulator: Simulator, *, version: str = "0", error_log: TextIO | None = None
    ) -> None:
        self.simulator = simulator
        self.version = version
        self.error_log = error_log
        self.pages = Pages(simulator)
        self.url_map = url_map()
        self._adapter = self.url_map.bind("paysim")
        # Paths without parameters skip werkzeug's matcher; anything else (a parameter, a
        # trailing slash, HEAD, a wrong method) goes through it.
        self._static: dict[tuple[str, str], Route] = {
            (route.method, route.path): route for route in ROUTES if "<" not in route.path
        }
        self._mounts: dict[str, WSGIApplication] = {}

    def mount(self, prefix: str, app: WSGIApplication) -> None:
        """Serve ``prefix`` and every path under it with ``app`` (another front end, such as
        the Stripe dialect under ``/stripe``), before any native routing or fault."""
        prefix = "/" + prefix.strip("/")
        if "/" in prefix[1:]:
            raise ValueError(f"mount at one path segment, such as /stripe, not {prefix!r}")
        self._mounts[prefix] = app

    # -- WSGI ---------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self._mounts:
            mounted = self._mounted(environ)
            if mounted is not None:
                return mounted(environ, start_response)
        response = self.handle(environ)
        status = f"{response.status} {_reason_phrase(response.status)}"
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *response.headers,
        ]
        start_response(status, headers)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return []  # the headers only; a body would corrupt the next answer on the connection
        return [response.body]

    def _mounted(self, environ: WSGIEnvironment) -> WSGIApplication | None:
        """The app mounted at the path's first segment, if any (one dict lookup)."""
        path: str = environ.get("PATH_INFO") or "/"
        return self._mounts.get("/" + path.split("/", 2)[1]) if path.startswith("/") else None

    def _internal_error(self, error: Exception) -> InternalError:
        self.simulator.record_unexpected_error(error)  # and its reporter logs it, if any
        if self.error_log is None:
            return InternalError(
                "The simulator hit an internal error (a bug); under pytest the running test "
                "fails with its traceback."
            )
        return InternalError(
            "The simulator hit an internal error; its traceback is in the server's log "
            "(standard error of paysim serve)."
        )

    def handle(self, environ: WSGIEnvironment) -> Response:
        """One request to one response (raises only ``ConnectionDropped``).

        A bug answers 500 and is kept by the simulator. An API request (under ``/v1/``) is
        recorded with its answer (``paysim.calls``), a dropped one without.
        """
        # A request belongs to the run it arrived in.
        generation = self.simulator.generation_at(environ.get(ARRIVED_AT))
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = _path(environ)
        note = _Note() if path.startswith(API_PREFIX) else None
        try:
            response = self._answer(environ, method, path, generation, note)
        except ConnectionDropped:
            if note is not None:
                self._record(environ, method, path, note, None, generation)
            raise
        except Exception as error:  # a bug: answer 500 and make it seen
            response = self.error_response(self._internal_error(error))
        if note is not None:
            self._record(environ, method, path, note, response, generation)
        return response

    def _record(
        self,
        environ: WSGIEnvironment,
        method: str,
        path: str,
        note: _Note,
        response: Response | None,
        generation: int,
    ) -> None:
        fault = note.fault
        self.simulator.record_call(
            Call(
                method,
                path,
                None if response is None else response.status,
                idempotency_key=_printable(environ.get("HTTP_IDEMPOTENCY_KEY")),
                replayed=note.replayed,
                fault=None if fault is None else fault.spec(),
                request=note.request,
                body=b"" if response is None else response.body,
            ),
            generation=generation,
        )

    def _answer(
        self,
        environ: WSGIEnvironment,
        method: str,
        path: str,
        generation: int,
        note: _Note | None,
    ) -> Response:
        """Injected faults are applied here, and only here.

        ``before``: answered with the fault (after its delay) and never executed. A delay
        alone slows the request just before it executes, after its idempotency key is
        reserved: a duplicate sent meanwhile gets 409 ``idempotency_key_in_use``, as it would
        from a slow gateway. ``after``: executed, then the answer is replaced by the fault
        (the lost-response case).
        """
        fault = None if path.startswith("/_paysim/") else self.simulator.take_fault(method, path)
        if note is not None and fault is not None:
            note.fault = fault
        if fault is not None and fault.when == "before" and not fault.delay_only:
            if note is not None:
                note.request = _unread_request(environ)
            time.sleep(fault.delay)
            return self._fault_response(fault, environ)
        try:
            route, args = self._match(method, path)
            hold = _delay(fault) if fault is not None and fault.when == "before" else None
            if route.html:
                if _declared_length(environ) > MAX_BODY_BYTES:
                    raise _body_too_large()
                if hold is not None:
                    hold()  # a page is held like an API request, and then its run checked
                    self.simulator.require_run(generation)
                return self.pages.render(route, environ, args, generation=generation)
            response = self._api(route, args, environ, generation, hold, note)
        except ApiError as error:
            response = self.error_response(error)
        if fault is not None and fault.when == "after":
            time.sleep(fault.delay)
            if not fault.delay_only:
                return self._fault_response(fault, environ)
        return response

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        static = self._static.get((method, path))
        if static is not None:
            return static, {}
        try:
            endpoint, args = self._adapter.match(path, method)
        except NotFound:
            raise RouteMissing(
                f"No route {method} {path[:200]}; see /openapi.json for the routes.",
            ) from None
        except WerkzeugMethodNotAllowed as error:
            allowed = sorted(set(error.valid_methods or ()) - {"HEAD"})
            raise MethodNotAllowed(
                f"{method} is not allowed on {path[:200]}; use {', '.join(allowed)}.",
                headers={"Allow": ", ".join(allowed)},
            ) from None
        return ROUTES_BY_ENDPOINT[str(endpoint)], dict(args)

    def _api(
        self,
        route: Route,
        args: dict[str, str],
        environ: WSGIEnvironment,
        generation: int,
        hold: Callable[[], None] | None,
        note: _Note | None = None,
    ) -> Response:
        raw = _read_body(environ) if route.body is not None else _no_body(environ)
        query_pairs = _query_pairs(environ)
        query = dict(query_pairs)
        if note is not None and route.body is None:
            note.request = query
        ctx = RequestContext(self, route, environ, args)
        ctx.credential = self._authenticate(route, environ, args, query, raw or b"")
        if args.get("id", "").startswith(_DIALECT_PREFIXES):
            raise ResourceMissing(f"No payment with id {args['id']!r}.", param="id")
        if raw is None:
            raise _body_too_large()
        data = self._parse_body(route, environ, raw)
        if note is not None and route.body is not None:
            note.request = data
        ctx.query = route.query.parse(_unique(query_pairs), from_query=True)
        handler = HANDLERS[route.endpoint]

        def operation() -> Answer:
            if route.body is not None:
                ctx.body = route.body.parse(data)
            status, payload = handler(ctx)
            return Answer(status, _encode(payload))

        if not route.changes_state:
            if hold is not None:
                hold()
                # Held across a reset, a read would show the next test's data.
                self.simulator.require_run(generation)
            answer = operation()
            return Response(answer.status, answer.body)
        key = environ.get("HTTP_IDEMPOTENCY_KEY") if route.idempotent else None
        claim = None
        if key is not None:
            request_fingerprint = fingerprint("POST", _path(environ), data)
            claim = Claim.of(scope=ctx.credential, key=key, fingerprint=request_fingerprint)
        answer = self.simulator.execute(
            operation,
            claim=claim,
            generation=generation,
            hold=hold,
            keep_refusal=self._stored_refusal,
        )
        if answer.replayed:
            if note is not None:
                note.replayed = True
            return Response(answer.status, answer.body, [("Idempotent-Replayed", "true")])
        return Response(answer.status, answer.body)

    def _stored_refusal(self, error: ApiError) -> Answer | None:
        """Which refusals are results kept under an idempotency key: only a 409 on the
        payment's state. 400s (``amount_too_large`` included: a fixed amount with the same
        key must run) and 404s are not kept."""
        if not isinstance(error, PaymentUnexpectedState):
            return None
        response = self.error_response(error)
        return Answer(response.status, response.body)

    # -- credentials and bodies ------------------------------------------------------------

    def _authenticate(
        self,
        route: Route,
        environ: WSGIEnvironment,
        args: dict[str, str],
        query: dict[str, str],
        raw: bytes,
    ) -> str:
        if route.auth == "none":
            return ""
        header = environ.get("HTTP_AUTHORIZATION")
        if header is not None:
            return check_api_key(header, self.simulator)
        secret = query.get("client_secret")
        if secret is None and raw:
            secret = _peek_client_secret(raw)
        if secret is None or route.auth != "key_or_secret":
            raise ApiKeyMissing(
                "Authenticate with `Authorization: Bearer <API key>` (or HTTP Basic with the "
                "key as user name).",
            )
        check_client_secret(self.simulator, args["id"], secret)
        return "client_secret:" + args["id"]

    def _parse_body(self, route: Route, environ: WSGIEnvironment, raw: bytes) -> dict[str, Any]:
        if route.body is None or not raw:
            return {}
        mimetype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if mimetype != "application/json":
            raise ContentTypeUnsupported(
                "Send the body as JSON with `Content-Type: application/json`.",
            )
        return parse_json_object(raw)

    # -- answers ----------------------------------------------------------------------------

    def error_response(self, error: ApiError) -> Response:
        """The JSON answer for ``error``; a secret echoed from the request is masked."""
        body = dump_json(error.to_dict())
        body = body.replace(self.simulator.api_key.encode(), b"sk_test_***")
        body = _CLIENT_SECRET.sub(rb"\1***", body)
        return Response(error.status_code, body, list(error.headers.items()))

    def _fault_response(self, fault: Fault, environ: WSGIEnvironment) -> Response:
        if fault.drop_connection:
            connection = environ.get("werkzeug.socket")
            if isinstance(connection, socket.socket):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            raise ConnectionDropped("connection dropped by an injected fault")
        return self.error_response(InjectedFault(fault.status or 503))


def _delay(fault: Fault) -> Callable[[], None] | None:
    if not fault.delay:
        return None
    return lambda: time.sleep(fault.delay)


def _encode(payload: Any) -> bytes:
    """A handler's answer as bytes (handlers may hand over JSON they already have)."""
    return payload if isinstance(payload, bytes) else dump_json(payload)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object from UTF-8 bytes, or 400 ``invalid_json`` saying what is wrong."""
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise InvalidJson("The body is not UTF-8; send UTF-8 encoded JSON.") from None
    except RecursionError:
        raise InvalidJson(f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.") from None
    except ValueError as error:
        raise InvalidJson(f"The body is not valid JSON: {str(error)[:200]}.") from None
    if not isinstance(value, dict):
        raise InvalidJson('The body must be a JSON object, such as {"amount": 1999}.')
    if b"\\u" in raw and _has_lone_surrogate(value):
        raise InvalidJson(
            "The JSON holds a lone UTF-16 surrogate escape (such as \\ud800), which is not a "
            "character; send text as UTF-8, or escape a character as a surrogate pair."
        )
    # Nesting past the limit needs more brackets than that; most bodies have a handful.
    deep_enough = raw.count(b"{") + raw.count(b"[") > MAX_JSON_DEPTH
    if deep_enough and _depth(value) > MAX_JSON_DEPTH:
        raise InvalidJson(f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    """Whether any string of ``value`` (a key too) cannot be encoded as UTF-8."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise ValueError(f"duplicate key {name[:40]!r}")
            seen.add(name)
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _depth(value: Any) -> int:
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > deepest:
            deepest = level
            if deepest > MAX_JSON_DEPTH:
                return deepest
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


def _path(environ: WSGIEnvironment) -> str:
    raw: str = environ.get("PATH_INFO", "/") or "/"
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return raw


def _query_pairs(environ: WSGIEnvironment) -> list[tuple[str, str]]:
    text = environ.get("QUERY_STRING", "")
    if not text:
        return []
    return parse_qsl(text, keep_blank_values=True, errors="replace")


def _unique(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The query as a dict; a name given twice is 400 (checked after the credentials)."""
    result: dict[str, str] = {}
    for name, value in pairs:
        if name in result:
            raise ParameterInvalid(
                f"Query parameter `{name[:40]}` is given more than once; give it once.",
                param=name[:40],
            )
        result[name] = value
    return result


def _printable(text: str | None) -> str | None:
    """``text`` as recorded: a header that is not text (a lone surrogate, in process) escaped."""
    if text is None:
        return None
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _declared_length(environ: WSGIEnvironment) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _no_body(environ: WSGIEnvironment) -> bytes | None:
    """A route that takes no body ignores one, but over the limit it is refused all the same
    (None: 413), unread."""
    return None if _declared_length(environ) > MAX_BODY_BYTES else b""


def _body_too_large() -> BodyTooLarge:
    return BodyTooLarge(
        f"The body is over {MAX_BODY_BYTES} bytes; send less.",
        headers={"Connection": "close"},
    )


def _read_body(environ: WSGIEnvironment) -> bytes | None:
    """The body; None when it is over the limit (then the rest is never read)."""
    length_text = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if length_text:
        try:
            length = int(length_text)
        except ValueError:
            return b""
        if length > MAX_BODY_BYTES:
            return None
        data: bytes = stream.read(length) if length > 0 else b""
        return data
    if environ.get("wsgi.input_terminated"):
        data = stream.read(MAX_BODY_BYTES + 1)
        return None if len(data) > MAX_BODY_BYTES else data
    return b""


def _unread_request(environ: WSGIEnvironment) -> Any:
    """What a request answered before it was read (an injected fault) asked for, if it can
    be told: its JSON body, or its query; None otherwise."""
    raw = _read_body(environ)
    if raw is None:
        return None  # over the size limit
    if raw:
        try:
            return parse_json_object(raw)
        except ApiError:
            return None
    return dict(_query_pairs(environ))


def _peek_client_secret(raw: bytes) -> str | None:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    secret = value.get("client_secret") if isinstance(value, dict) else None
    return secret if isinstance(secret, str) else None


@functools.lru_cache(maxsize=64)
def _reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"

"""The Stripe dialect's WSGI app: Stripe's wire format in, simulator calls, Stripe's JSON out.

Mounted under ``<server url>/stripe`` (``PaysimApp.mount``), so ``stripe.api_base`` (or
``base_addresses={"api": ...}``) is ``PaysimServer.stripe_url``. Every request goes through
the same steps: an injected fault (path globs see the whole path, ``/stripe/v1/...``), the
route (Stripe's 404 for anything else, a wrong method included), the key (Bearer or Basic: the
secret API key, or the publishable key with a payment intent's ``client_secret`` on the routes
that allow it), the form body or query (:func:`~pytest_paysim.stripe.forms.decode`), then the
handler, through :meth:`Simulator.execute <pytest_paysim.core.simulator.Simulator.execute>`
with a claim when a POST carries an ``Idempotency-Key`` (the fingerprint is over the decoded
parameters; the claim's scope and path carry the prefix, so a key shared with the native API
is two records, one per API). Every error, whatever raised it, is rendered by
:func:`~pytest_paysim.stripe.errors.render_error`, so no answer is ever in the native shape.
Every answer carries ``Request-Id: req_...``; ``Stripe-Version`` is echoed. Each request is
handed to the simulator with its answer for ``paysim.calls``, under its whole path
(``/stripe/v1/...``)::

    app = StripeApp(simulator)          # registers the dialect's events with the simulator
    native_app.mount("/stripe", app)
    second_port_app = at_root(native_app)   # /v1/... there is /stripe/v1/... here
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TextIO

from pytest_paysim.core.calls import Call
from pytest_paysim.core.faults import Fault
from pytest_paysim.core.idempotency import Answer, Claim, fingerprint
from pytest_paysim.core.models import dump_json
from pytest_paysim.core.simulator import Simulator
from pytest_paysim.errors import (
    ApiError,
    ApiKeyMissing,
    BodyTooLarge,
    ClientSecretInvalid,
    ContentTypeUnsupported,
    InjectedFault,
    InternalError,
    ParameterInvalid,
    ParameterMissing,
    PaymentUnexpectedState,
    ResourceMissing,
)
from pytest_paysim.http.app import ARRIVED_AT, MAX_BODY_BYTES, ConnectionDropped
from pytest_paysim.http.credentials import api_key_of, check_api_key, matches
from pytest_paysim.stripe import forms
from pytest_paysim.stripe.errors import (
    PaymentIntentUnexpectedState,
    PublishableKeyForbidden,
    render_error,
)
from pytest_paysim.stripe.events import StripeEvents, requesting
from pytest_paysim.stripe.forms import FormValue
from pytest_paysim.stripe.routes import Request, match

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["PREFIX", "StripeApp", "at_root"]

PREFIX = "/stripe"
_FORM = "application/x-www-form-urlencoded"


class StripeApp:
    """The Stripe dialect over one simulator (one instance per server)."""

    def __init__(
        self, simulator: Simulator, *, prefix: str = PREFIX, error_log: TextIO | None = None
    ) -> None:
        self.simulator = simulator
        self.prefix = prefix
        self.error_log = error_log
        simulator.register_dialect("stripe", StripeEvents(simulator))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request_id = "req_" + secrets.token_hex(7)
        status, body, headers = self.handle(environ, request_id)
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Request-Id", request_id),
            *headers,
        ]
        version = environ.get("HTTP_STRIPE_VERSION")
        if version:
            headers.append(("Stripe-Version", version))
        start_response(f"{status} {_REASONS.get(status, 'Unknown')}", headers)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return []
        return [body]

    def handle(
        self, environ: WSGIEnvironment, request_id: str
    ) -> tuple[int, bytes, list[tuple[str, str]]]:
        """One request to ``(status, body, headers)``, recorded with its answer for
        ``paysim.calls`` (raises only ``ConnectionDropped``, recorded without an answer).

        A bug answers 500 and is kept by the simulator."""
        # A request belongs to the run it arrived in (a reset since: refused, unexecuted).
        generation = self.simulator.generation_at(environ.get(ARRIVED_AT))
        method = environ.get("REQUEST_METHOD", "GET").upper()
        note = _Note()
        try:
            answer = self._answer(environ, method, generation, request_id, note)
        except ConnectionDropped:
            # Recorded before the client can see the connection go, so a test that caught
            # the error finds the call in paysim.calls.
            self._record(environ, method, note, None, generation)
            _shut(environ)
            raise
        except Exception as error:  # a bug: answer 500 and make it seen
            answer = self._error(self._internal_error(error), environ)
        self._record(environ, method, note, answer, generation)
        return answer

    def _answer(
        self,
        environ: WSGIEnvironment,
        method: str,
        generation: int,
        request_id: str,
        note: _Note,
    ) -> tuple[int, bytes, list[tuple[str, str]]]:
        """Faults are applied here only."""
        full_path = environ.get("PATH_INFO", "/") or "/"
        fault = note.fault = self.simulator.take_fault(method, full_path)
        if fault is not None and fault.when == "before" and not fault.delay_only:
            note.request = self._unread_params(environ, method)
            time.sleep(fault.delay)
            return self._fault(fault, environ)
        try:
            hold = _delay(fault) if fault is not None and fault.when == "before" else None
            answer = self._api(environ, method, generation, hold, request_id, note)
        except ApiError as error:
            answer = self._error(error, environ)
        if fault is not None and fault.when == "after":
            time.sleep(fault.delay)
            if not fault.delay_only:
                return self._fault(fault, environ)
        return answer

    def _record(
        self,
        environ: WSGIEnvironment,
        method: str,
        note: _Note,
        answer: tuple[int, bytes, list[tuple[str, str]]] | None,
        generation: int,
    ) -> None:
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        fault = note.fault
        self.simulator.record_call(
            Call(
                method,
                _decoded(environ.get("PATH_INFO", "/") or "/"),
                None if answer is None else answer[0],
                idempotency_key=None if key is None else _printable(key),
                replayed=note.replayed,
                fault=None if fault is None else fault.spec(),
                request=note.request,
                body=b"" if answer is None else answer[1],
            ),
            generation=generation,
        )

    def _api(
        self,
        environ: WSGIEnvironment,
        method: str,
        generation: int,
        hold: Callable[[], None] | None,
        request_id: str,
        note: _Note,
    ) -> tuple[int, bytes, list[tuple[str, str]]]:
        route, args = match(method, self._path(environ))
        header = environ.get("HTTP_AUTHORIZATION")
        if not header:
            raise ApiKeyMissing("no API key")
        publishable = matches(api_key_of(header), self.simulator.publishable_key)
        if publishable:
            if not route.publishable:
                raise PublishableKeyForbidden()
            scope = self.simulator.api_key  # one account, whichever key: as at Stripe
        else:
            scope = check_api_key(header, self.simulator)
        params = note.request = self._params(environ, method)
        if route.publishable:
            _check_client_secret(self.simulator, args["id"], params, required=publishable)
        request = Request(self.simulator, params, args)
        key = environ.get("HTTP_IDEMPOTENCY_KEY") if method == "POST" else None

        def operation() -> Answer:
            with requesting(request_id, key):
                status, payload = route.handler(request)
            return Answer(status, dump_json(payload))

        if not route.changes_state:
            if hold is not None:
                hold()
            answer = operation()
            return answer.status, answer.body, []
        claim = None
        if key is not None:
            # The dialect's keys are its own: the same key sent to the native API (whose
            # routes have the same paths without the prefix) is another record, not a replay.
            # The prefix is the mount's, whichever port the request came in on.
            full_path = self.prefix + self._path(environ)
            claim = Claim.of(
                scope=f"{self.prefix} {scope}",
                key=key,
                fingerprint=fingerprint(method, full_path, params),
            )
        answer = self.simulator.execute(
            operation,
            claim=claim,
            generation=generation,
            hold=hold,
            keep_refusal=lambda error: self._stored_refusal(error, environ),
        )
        headers = [("Idempotency-Key", key)] if key is not None else []
        if answer.replayed:
            note.replayed = True
            headers.append(("Idempotent-Replayed", "true"))
        return answer.status, answer.body, headers

    def _stored_refusal(self, error: ApiError, environ: WSGIEnvironment) -> Answer | None:
        """Refusals kept under an idempotency key: the intent's state did not allow it."""
        if not isinstance(error, PaymentIntentUnexpectedState | PaymentUnexpectedState):
            return None
        status, body, _ = self._error(error, environ)
        return Answer(status, body)

    def _path(self, environ: WSGIEnvironment) -> str:
        path: str = environ.get("PATH_INFO", "/") or "/"
        return path[len(self.prefix) :] or "/"

    def _unread_params(self, environ: WSGIEnvironment, method: str) -> dict[str, Any] | None:
        """What a request answered before it was read (an injected fault) asked for, if it
        can be told."""
        try:
            return self._params(environ, method)
        except ApiError:
            return None

    def _params(self, environ: WSGIEnvironment, method: str) -> dict[str, Any]:
        if method != "POST":
            return forms.decode(environ.get("QUERY_STRING", ""))
        raw = _read_body(environ)
        if not raw:
            return forms.decode(environ.get("QUERY_STRING", ""))
        mimetype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if mimetype not in ("", _FORM):
            raise ContentTypeUnsupported("send the parameters form-encoded")
        return forms.decode(raw)

    # -- answers -------------------------------------------------------------------------------

    def _error(
        self, error: ApiError, environ: WSGIEnvironment
    ) -> tuple[int, bytes, list[tuple[str, str]]]:
        rendered = render_error(
            error,
            method=environ.get("REQUEST_METHOD", "GET"),
            path=self._path(environ),
            idempotency_key=environ.get("HTTP_IDEMPOTENCY_KEY"),
        )
        body = dump_json(rendered.body).replace(self.simulator.api_key.encode(), b"sk_test_***")
        return rendered.status, body, list(rendered.headers.items())

    def _fault(
        self, fault: Fault, environ: WSGIEnvironment
    ) -> tuple[int, bytes, list[tuple[str, str]]]:
        if fault.drop_connection:  # handle() shuts the connection, once the call is recorded
            raise ConnectionDropped("connection dropped by an injected fault")
        return self._error(InjectedFault(fault.status or 503), environ)

    def _internal_error(self, error: Exception) -> InternalError:
        text = self.simulator.record_unexpected_error(error)
        if self.error_log is not None:
            with contextlib.suppress(OSError, ValueError):
                self.error_log.write(f"paysim: unexpected error while answering a request\n{text}")
                self.error_log.flush()
        return InternalError("The simulator hit an internal error; see the test's failure.")


def at_root(app: WSGIApplication, prefix: str = PREFIX) -> WSGIApplication:
    """``app`` (the native app, with the dialect mounted at ``prefix``) seen from the root: a
    request for ``/v1/...`` reaches it as ``/stripe/v1/...``, so faults and ``paysim.calls``
    see the same path whichever way the request came (``paysim serve --stripe-port``,
    ``paysim.intercept_stripe()``)."""

    def rooted(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ["PATH_INFO"] = prefix + (environ.get("PATH_INFO") or "/")
        return app(environ, start_response)

    return rooted


class _Note:
    """What the pipeline learns about a request on its way, for its :class:`Call`."""

    __slots__ = ("fault", "replayed", "request")

    def __init__(self) -> None:
        self.fault: Fault | None = None
        self.request: dict[str, FormValue] | None = None
        self.replayed = False


def _shut(environ: WSGIEnvironment) -> None:
    """Shut the request's connection, if it has one (not in process), without an answer."""
    connection = environ.get("werkzeug.socket")
    if isinstance(connection, socket.socket):
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)


def _check_client_secret(
    simulator: Simulator, intent_id: str, params: dict[str, FormValue], *, required: bool
) -> None:
    """The ``client_secret`` parameter, if given (``required``: with the publishable key), must
    be the intent's. An intent that does not exist is left to the handler's 404."""
    secret = params.get("client_secret")
    if secret is None:
        if required:
            raise ParameterMissing("client_secret is required", param="client_secret")
        return
    if not isinstance(secret, str):
        raise ParameterInvalid("Invalid string: client_secret", param="client_secret")
    try:
        payment = simulator.get_payment(intent_id)
    except ResourceMissing:
        return
    if payment.dialect == "stripe" and not matches(secret, payment.client_secret):
        raise ClientSecretInvalid("client_secret does not match", param="client_secret")


def _decoded(path: str) -> str:
    """A WSGI path (UTF-8 bytes read as latin-1) as text, for the call log."""
    try:
        return path.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return path


def _printable(text: str) -> str:
    """A header as recorded: one that is not text (a lone surrogate, in process) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _delay(fault: Fault) -> Callable[[], None] | None:
    if not fault.delay:
        return None
    return lambda: time.sleep(fault.delay)


def _read_body(environ: WSGIEnvironment) -> bytes:
    length_text = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    try:
        length = int(length_text) if length_text else 0
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise BodyTooLarge(
            f"The body is over {MAX_BODY_BYTES} bytes; send less.",
            headers={"Connection": "close"},
        )
    data: bytes = stream.read(length) if length > 0 else b""
    return data


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

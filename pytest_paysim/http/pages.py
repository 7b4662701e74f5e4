"""HTML pages: the hosted payment page (``/pay/{id}``) and the dashboard (``/dashboard``).

Plain server-rendered HTML that works without JavaScript. The payment page is a form that
posts back to ``/pay/{id}`` and goes through the same :meth:`Simulator.pay` as the API, so
forced outcomes apply. Templates are files in ``templates/`` with ``{name}`` placeholders;
:func:`fill` puts values in through MarkupSafe, which escapes everything that is not already
markup, so a description such as ``<script>`` shows as text::

    fill("notice.html", kind="error", role="alert", message="<b>no</b>")
    # Markup('<div class="notice notice-error" role="alert" ...><p>&lt;b&gt;no&lt;/b&gt;...')

Lists are rendered here from small row templates (``row_*.html``). Double submits pay once:
each form carries a one-time token, and a repeat post of a used token answers with the result
of the first post instead of paying again. Used tokens are kept in memory by the app's
:class:`Pages` (not in the store) and forgotten when the simulator is reset.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote_plus, urlencode, urlsplit, urlunsplit

from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.urls import iri_to_uri
from werkzeug.wrappers import Request

from pytest_paysim.core import transitions as tx
from pytest_paysim.core.cards import TEST_CARDS
from pytest_paysim.core.clock import format_time
from pytest_paysim.core.currencies import format_amount
from pytest_paysim.core.idempotency import Answer
from pytest_paysim.core.models import Payment
from pytest_paysim.core.outcomes import AUTHENTICATION_OUTCOMES
from pytest_paysim.core.urls import is_http_url
from pytest_paysim.errors import (
    ApiError,
    ClientSecretInvalid,
    ParameterInvalid,
    PaymentUnexpectedState,
    ResourceMissing,
    RouteMissing,
)
from pytest_paysim.http.credentials import api_key_of, check_client_secret, matches
from pytest_paysim.http.response import Response

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from pytest_paysim.core.models import DeliveryAttempt
    from pytest_paysim.core.simulator import Simulator
    from pytest_paysim.http.routes import Route

__all__ = [
    "DEFAULT_CARD",
    "HTML_CONTENT_TYPE",
    "PAGE_ENDPOINTS",
    "Pages",
    "fill",
    "return_location",
    "stylesheet",
]

HTML_CONTENT_TYPE = "text/html; charset=utf-8"
DEFAULT_CARD = "4242424242424242"
"""What the Pay button pays with when the card number field is left empty."""

MAX_FORM_BYTES = 64 * 1024
PAYMENTS_SHOWN = 50
RECENT_SHOWN = 25
USED_TOKENS_KEPT = 50
"""Used form tokens remembered per payment (the newest ones)."""
TOKEN_WAIT_SECONDS = 10.0
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_PAYABLE = frozenset(tx.allowed_from("pay"))
_PAGE_HEADERS: tuple[tuple[str, str], ...] = (
    ("Cache-Control", "no-store"),
    # The page URL carries the client secret: never send it on as a referrer.
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "base-uri 'none'; frame-ancestors 'none'",
    ),
)
_TITLES = {
    400: "Bad request",
    401: "Sign in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
}


# -- templates ---------------------------------------------------------------------------


@cache
def _resource(folder: str, name: str) -> str:
    path = resources.files("pytest_paysim.http").joinpath(folder).joinpath(name)
    return path.read_text(encoding="utf-8")


def stylesheet() -> Markup:
    """The pages' CSS (read once), inlined into every page."""
    return Markup(_resource("static", "paysim.css"))


def fill(name: str, **values: Any) -> Markup:
    """Template ``name`` with ``values`` put in, escaped unless already :class:`Markup`."""
    return Markup(_resource("templates", name)).format_map(values)


def _rows(name: str, items: Iterable[Mapping[str, Any]], *, columns: int, empty: str) -> Markup:
    parts = [fill(name, **item) for item in items]
    if not parts:
        return fill("row_empty.html", columns=columns, message=empty)
    return Markup("").join(parts)


def _page(
    status: int,
    title: str,
    content: Markup,
    *,
    body_class: str = "page-message",
    nav: bool = False,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    html = fill(
        "base.html",
        title=title,
        css=stylesheet(),
        body_class=body_class,
        nav=fill("nav.html") if nav else "",
        content=content,
    )
    return Response(status, html.encode("utf-8"), [*_PAGE_HEADERS, *headers], HTML_CONTENT_TYPE)


def _message(
    status: int,
    message: str,
    *,
    heading: str | None = None,
    extra: Markup | str = "",
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    heading = heading or _TITLES.get(status, "Error")
    content = fill("message.html", heading=heading, message=message, extra=extra)
    return _page(status, heading, content, headers=headers)


# -- dispatch ----------------------------------------------------------------------------


class Pages:
    """The HTML front end of one app: its simulator and its one-time form tokens."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self._tokens = _Tokens()
        self._tokens_generation = simulator.generation

    def tokens(self) -> _Tokens:
        """The form tokens of the current run (a reset forgets the used ones)."""
        generation = self.simulator.generation
        if generation != self._tokens_generation:
            self._tokens.clear()
            self._tokens_generation = generation
        return self._tokens

    def check_client_secret(self, payment_id: str, secret: str) -> None:
        """Raise 403 unless ``secret`` is the client secret of ``payment_id``."""
        check_client_secret(self.simulator, payment_id, secret)

    def change(self, generation: int, operation: Callable[[], Payment]) -> Payment:
        """Run a form post's change as one request of the run it arrived in (``generation``):
        a post still arriving when its test ended changes nothing in the next one."""
        changed: list[Payment] = []

        def run() -> Answer:
            changed.append(operation())
            return Answer(200, b"")

        self.simulator.execute(run, generation=generation)
        return changed[0]

    def render(
        self, route: Route, environ: WSGIEnvironment, args: dict[str, str], *, generation: int
    ) -> Response:
        """The page for ``route``; every answer, errors included, is an HTML page.

        ``generation`` is the simulator's run when the request arrived.
        """
        handler = _HANDLERS.get(route.endpoint)
        if handler is None:
            raise RouteMissing(f"No page for {route.endpoint}.")
        try:
            return handler(self, environ, args, generation)
        except RequestEntityTooLarge:
            return _message(413, f"The form is over {MAX_FORM_BYTES} bytes; send less.")
        except ClientSecretInvalid:
            return _message(
                403,
                "This payment link is not valid: its client secret is missing or wrong. "
                "Open the payment's own payment_url.",
                heading="This link is not valid",
            )
        except ResourceMissing:
            return _message(
                404, "No payment with this id exists on this server.", heading="Payment not found"
            )
        except ApiError as error:
            return _message(error.status_code, error.message, headers=list(error.headers.items()))


# -- the hosted payment page ---------------------------------------------------------------


class _Tokens:
    """Used one-time form tokens per payment, and the ones being used right now."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.used: dict[str, OrderedDict[str, None]] = {}
        self.pending: set[tuple[str, str]] = set()

    def clear(self) -> None:
        with self.condition:
            self.used.clear()

    def begin(self, payment_id: str, token: str) -> bool:
        """Claim ``token``; False if it was used (waits while another post is using it)."""
        key = (payment_id, token)
        deadline = time.monotonic() + TOKEN_WAIT_SECONDS
        with self.condition:
            while key in self.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.condition.wait(left)
            if token in self.used.get(payment_id, ()):
                return False
            self.pending.add(key)
            return True

    def finish(self, payment_id: str, token: str, *, used: bool) -> None:
        """Release the claim; a ``used`` token answers every later post with the result."""
        with self.condition:
            self.pending.discard((payment_id, token))
            if used:
                tokens = self.used.setdefault(payment_id, OrderedDict())
                tokens[token] = None
                while len(tokens) > USED_TOKENS_KEPT:
                    tokens.popitem(last=False)
            self.condition.notify_all()


class _FormRequest(Request):
    max_content_length = MAX_FORM_BYTES
    max_form_memory_size = MAX_FORM_BYTES
    max_form_parts = 20


def _opened(
    app: Pages, environ: WSGIEnvironment, args: dict[str, str], *, native_only: bool = False
) -> tuple[Payment, str]:
    """The payment a page link opens, and its client secret (checked: 403 otherwise).

    ``native_only``: a payment of a dialect is not found (404, before the secret is looked
    at): the pay page is the native API's checkout; a dialect pays through its own API."""
    payment_id = args["id"]
    secret = _FormRequest(environ).args.get("client_secret", "")
    payment = _payment(app, payment_id, native_only=native_only)
    app.check_client_secret(payment_id, secret)
    return payment, secret


def _posted(
    app: Pages, environ: WSGIEnvironment, args: dict[str, str], *, native_only: bool = False
) -> tuple[Payment, str, MultiDict[str, str]]:
    """The payment a form post is for, its client secret (checked) and the form
    (``native_only`` as in :func:`_opened`)."""
    form = _FormRequest(environ).form
    payment = _payment(app, args["id"], native_only=native_only)
    secret = form.get("client_secret", "")
    app.check_client_secret(args["id"], secret)
    return payment, secret, form


def _payment(app: Pages, payment_id: str, *, native_only: bool) -> Payment:
    payment = app.simulator.get_payment(payment_id)
    if native_only and payment.dialect != "native":
        raise ResourceMissing(f"No payment {payment_id}.")
    return payment


def _pay_page(
    app: Pages, environ: WSGIEnvironment, args: dict[str, str], generation: int
) -> Response:
    return _checkout(*_opened(app, environ, args, native_only=True))


def _pay_submit(
    app: Pages, environ: WSGIEnvironment, args: dict[str, str], generation: int
) -> Response:
    payment_id = args["id"]
    sim = app.simulator
    payment, secret, form = _posted(app, environ, args, native_only=True)
    card_number = form.get("card_number", "").strip()[:100]
    action = form.get("action", "pay")
    token = form.get("token", "")
    if action not in ("pay", "decline"):
        return _checkout(payment, secret, status=400, error="Choose Pay or Decline.")
    if not _TOKEN.fullmatch(token):
        return _checkout(
            payment,
            secret,
            status=400,
            card_number=card_number,
            error="This form was not loaded from this page or is out of date; submit it again.",
        )

    def pay() -> Payment | Response:
        payment = sim.get_payment(payment_id)
        if payment.status not in _PAYABLE:
            return _checkout(payment, secret, status=409)
        try:
            if action == "decline":
                return app.change(generation, lambda: sim.pay(payment_id, outcome="fail"))
            card = card_number or DEFAULT_CARD
            return app.change(generation, lambda: sim.pay(payment_id, card_number=card))
        except ParameterInvalid as error:
            return _checkout(
                payment, secret, status=400, card_number=card_number, error=error.message
            )
        except PaymentUnexpectedState:  # paid through the API meanwhile
            return _checkout(sim.get_payment(payment_id), secret, status=409)

    return _once(app, payment_id, token, secret, pay)


def _authenticate_page(
    app: Pages, environ: WSGIEnvironment, args: dict[str, str], generation: int
) -> Response:
    return _bank_check(*_opened(app, environ, args))


def _authenticate_submit(
    app: Pages, environ: WSGIEnvironment, args: dict[str, str], generation: int
) -> Response:
    payment_id = args["id"]
    sim = app.simulator
    payment, secret, form = _posted(app, environ, args)
    action = form.get("action", "")
    token = form.get("token", "")
    if action not in AUTHENTICATION_OUTCOMES:
        return _bank_check(
            payment, secret, status=400, error="Choose Complete or Fail authentication."
        )
    if not _TOKEN.fullmatch(token):
        return _bank_check(
            payment,
            secret,
            status=400,
            error="This form was not loaded from this page or is out of date; submit it again.",
        )

    def authenticate() -> Payment | Response:
        try:
            return app.change(generation, lambda: sim.authenticate(payment_id, outcome=action))
        except PaymentUnexpectedState:  # authenticated through the API meanwhile
            return _bank_check(sim.get_payment(payment_id), secret, status=409)

    return _once(app, payment_id, token, secret, authenticate)


def _once(
    app: Pages,
    payment_id: str,
    token: str,
    secret: str,
    attempt: Callable[[], Payment | Response],
) -> Response:
    """Run a form post's ``attempt`` once per form token: a repeat of a token already used
    shows that post's result. ``attempt`` returns the changed payment (the token is then
    used) or a page refusing the post (the token stays free)."""
    tokens = app.tokens()
    if not tokens.begin(payment_id, token):
        return _after_pay(app.simulator.get_payment(payment_id), secret)
    outcome: Payment | Response | None = None
    try:
        outcome = attempt()
    finally:
        tokens.finish(payment_id, token, used=isinstance(outcome, Payment))
    return outcome if isinstance(outcome, Response) else _after_pay(outcome, secret)


def _bank_check(
    payment: Payment, secret: str, *, status: int = 200, error: str | None = None
) -> Response:
    """The 3-D Secure page: the two buttons while authentication is pending, else the status."""
    amount = format_amount(payment.amount, payment.currency)
    pending = payment.status == tx.REQUIRES_ACTION
    if error is not None:
        notice = fill("notice.html", kind="error", role="alert", message=error)
    elif pending:
        notice = Markup("")
    else:
        message = f"This payment has status {payment.status}; there is nothing to confirm."
        notice = fill("notice.html", kind="info", role="status", message=message)
    form: Markup | str = ""
    if pending:
        form = fill(
            "authenticate_form.html",
            payment_id=payment.id,
            client_secret=secret,
            token=secrets.token_urlsafe(18),
        )
    merchant = payment.description or f"Payment {payment.id}"
    content = fill(
        "authenticate.html",
        heading="Confirm this payment" if pending else "Nothing to confirm",
        merchant_line=(
            f"{merchant}: confirm that you are paying {amount}." if pending else merchant
        ),
        amount=amount,
        status=payment.status,
        notice=notice,
        form=form,
    )
    return _page(status, "Confirm the payment", content, body_class="page-pay")


def _after_pay(payment: Payment, secret: str) -> Response:
    """On to the bank's 3-D Secure page, back to the merchant's ``return_url``, or the result
    on this page."""
    if payment.authentication_url is not None:
        return _redirect(payment.authentication_url, "On to your bank to confirm the payment:")
    # Both APIs take only http(s) URLs a browser can open; one kept from before they checked
    # (a database of an older version) shows the result here instead of a redirect to it.
    if not payment.return_url or not is_http_url(payment.return_url):
        return _checkout(payment, secret)
    try:
        location = return_location(payment.return_url, payment.id, payment.status)
    except (UnicodeError, ValueError):  # a URL no browser could open: the result here
        return _checkout(payment, secret)
    return _redirect(location, "Back to the shop:")


def _redirect(location: str, message: str) -> Response:
    link = fill("redirect_link.html", url=location)
    return _page(
        303,
        "Redirecting",
        fill("message.html", heading="Redirecting", message=message, extra=link),
        headers=[("Location", location)],
    )


def return_location(return_url: str, payment_id: str, status: str) -> str:
    """``return_url`` with ``payment_id`` and ``status`` added, its own query kept as is."""
    parts = urlsplit(return_url)
    kept = [
        part
        for part in parts.query.split("&")
        if part and unquote_plus(part.split("=", 1)[0]) not in ("payment_id", "status")
    ]
    kept.append(urlencode({"payment_id": payment_id, "status": status}))
    url = urlunsplit(parts._replace(query="&".join(kept)))
    return quote(iri_to_uri(url), safe=":/?#[]@!$&'()*+,;=%~")


_DONE_HEADINGS: dict[str, str] = {
    tx.REQUIRES_ACTION: "Confirm the payment with your bank",
    tx.AUTHORIZED: "Payment authorized",
    tx.SUCCEEDED: "Payment succeeded",
    tx.CAPTURED: "Payment captured",
    tx.REFUNDED: "Payment refunded",
    tx.CANCELED: "Payment canceled",
}


def _checkout(
    payment: Payment,
    secret: str,
    *,
    status: int = 200,
    card_number: str = "",
    error: str | None = None,
) -> Response:
    """The payment page: the form while the payment can be paid, else its status."""
    amount = format_amount(payment.amount, payment.currency)
    payable = payment.status in _PAYABLE
    if error is not None:
        notice = fill("notice.html", kind="error", role="alert", message=error)
    elif payment.status == tx.FAILED:
        message = f"The payment failed: {payment.failure_message} Try again or use another card."
        notice = fill("notice.html", kind="error", role="alert", message=message)
    elif payable:
        notice = Markup("")
    elif payment.authentication_url is not None:
        message = "This payment waits for 3-D Secure: confirm it with your bank."
        notice = fill("notice.html", kind="info", role="status", message=message) + fill(
            "redirect_link.html", url=payment.authentication_url
        )
    else:
        message = f"This payment has status {payment.status}; there is nothing left to pay."
        kind = "info" if payment.status == tx.CANCELED else "success"
        notice = fill("notice.html", kind=kind, role="status", message=message)
    form: Markup | str = ""
    if payable:
        form = fill(
            "pay_form.html",
            payment_id=payment.id,
            client_secret=secret,
            token=secrets.token_urlsafe(18),
            card_number=card_number,
            invalid=Markup(' aria-invalid="true"') if error and card_number else "",
            amount=amount,
            card_options=_rows("option_card.html", _test_cards(), columns=2, empty=""),
            card_rows=_rows("row_card.html", _test_cards(), columns=2, empty=""),
        )
    if payment.status == tx.FAILED:
        heading = "Payment failed"
    elif payable:
        heading = "Complete your payment"
    else:
        heading = _DONE_HEADINGS.get(payment.status, f"Payment {payment.status}")
    content = fill(
        "pay.html",
        heading=heading,
        description=payment.description or f"Payment {payment.id}",
        amount=amount,
        status=payment.status,
        notice=notice,
        form=form,
    )
    title = f"Pay {amount}" if payable else heading
    return _page(status, title, content, body_class="page-pay")


@cache
def _test_cards() -> tuple[dict[str, str], ...]:
    cards = []
    for number, result in TEST_CARDS.items():
        spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        if result.outcome == "requires_action":
            then = f"declines: {result.decline_code}" if result.decline_code else "succeeds"
            text = f"3-D Secure, then {then}"
        elif result.outcome == "succeed":
            text = "Succeeds"
        else:
            text = f"Declines: {result.decline_code}"
        cards.append({"number": spaced, "result": text})
    return tuple(cards)


# -- the dashboard ---------------------------------------------------------------------------


def _signed_in(app: Pages, environ: WSGIEnvironment) -> bool:
    """Whether the request carries the API key (HTTP Basic user name, or Bearer)."""
    return matches(api_key_of(environ.get("HTTP_AUTHORIZATION", "")), app.simulator.api_key)


def _sign_in_page() -> Response:
    return _message(
        401,
        "Sign in with the API key (PAYSIM_API_KEY) as the user name and an empty password.",
        heading="Sign in to the dashboard",
        headers=[("WWW-Authenticate", 'Basic realm="paysim"')],
    )


def _dashboard(
    app: Pages, environ: WSGIEnvironment, args: dict[str, str], generation: int
) -> Response:
    if not _signed_in(app, environ):
        return _sign_in_page()
    sim = app.simulator
    payments, _ = sim.payments(limit=PAYMENTS_SHOWN)
    total = sim.count_payments()
    events, _ = sim.events(limit=RECENT_SHOWN)
    deliveries = sim.deliveries(limit=RECENT_SHOWN)
    noun = "payment" if total == 1 else "payments"
    summary = f"{total} {noun}"
    if total > len(payments):
        summary += f"; the newest {len(payments)} are shown"
    content = fill(
        "dashboard.html",
        summary=summary + ".",
        payment_rows=_rows(
            "row_payment.html",
            (_payment_row(payment) for payment in payments),
            columns=7,
            empty="No payments yet.",
        ),
        event_rows=_rows(
            "row_event.html",
            (
                {
                    "created": format_time(event.created_at),
                    "id": event.id,
                    "type": event.type,
                    "payment_id": event.payment_id,
                }
                for event in events
            ),
            columns=4,
            empty="No events yet.",
        ),
        delivery_rows=_rows(
            "row_delivery.html",
            (_delivery_row(attempt) for attempt in deliveries),
            columns=8,
            empty="No webhook deliveries yet.",
        ),
    )
    return _page(200, "Dashboard", content, body_class="page-dashboard", nav=True)


def _payment_row(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "description": payment.description or "",
        "amount": format_amount(payment.amount, payment.currency),
        "status": payment.status,
        "captured": format_amount(payment.amount_captured, payment.currency),
        "refunded": format_amount(payment.amount_refunded, payment.currency),
        "created": format_time(payment.created_at),
    }


def _delivery_result(attempt: DeliveryAttempt) -> str:
    if attempt.pending:
        return "pending"
    if attempt.succeeded is None:
        return "captured"
    return "succeeded" if attempt.succeeded else "failed"


def _delivery_row(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {
        "sent": format_time(attempt.sent_at) if attempt.sent_at is not None else "",
        "type": attempt.type,
        "payment_id": attempt.payment_id,
        "url": attempt.url or "none (captured, not sent)",
        "attempt": attempt.attempt,
        "status_code": attempt.status_code if attempt.status_code is not None else "—",
        "result": _delivery_result(attempt),
        "error": attempt.error or "",
    }


def _dashboard_payment(
    app: Pages, environ: WSGIEnvironment, args: dict[str, str], generation: int
) -> Response:
    if not _signed_in(app, environ):
        return _sign_in_page()
    sim = app.simulator
    payment = sim.get_payment(args["id"])
    events = sim.events_of(payment.id)
    attempts = sim.deliveries(payment_id=payment.id)
    pending = sim.pending_deliveries(payment_id=payment.id)
    refunds = list(payment.refunds)
    money = payment.currency

    def amount(value: int) -> str:
        return format_amount(value, money)

    failure = "—"
    if payment.failure_code:
        code = payment.failure_code
        if payment.decline_code:
            code += f" ({payment.decline_code})"
        failure = f"{code}: {payment.failure_message}"
    content = fill(
        "dashboard_payment.html",
        id=payment.id,
        status=payment.status,
        amount=amount(payment.amount),
        capturable=amount(payment.amount_capturable),
        captured=amount(payment.amount_captured),
        refunded=amount(payment.amount_refunded),
        capture_method=payment.capture_method,
        description=payment.description or "—",
        failure=failure,
        cancellation_reason=payment.cancellation_reason or "—",
        return_url=payment.return_url or "—",
        pay_path=f"/pay/{payment.id}?{urlencode({'client_secret': payment.client_secret})}",
        created=format_time(payment.created_at),
        updated=format_time(payment.updated_at),
        metadata_rows=_rows(
            "row_metadata.html",
            ({"key": key, "value": value} for key, value in payment.metadata.items()),
            columns=2,
            empty="No metadata.",
        ),
        timeline_rows=_rows(
            "row_timeline.html",
            _timeline(events, refunds, [*attempts, *pending], amount),
            columns=6,
            empty="Nothing happened yet.",
        ),
    )
    return _page(200, f"Payment {payment.id}", content, body_class="page-dashboard", nav=True)


def _timeline(
    events: list[Any],
    refunds: list[Any],
    attempts: list[DeliveryAttempt],
    amount: Callable[[int], str],
) -> list[dict[str, Any]]:
    """Events, refunds and every delivery attempt, oldest first."""
    order = {event.id: index for index, event in enumerate(events)}
    entries: list[tuple[tuple[float, int, int, int], dict[str, Any]]] = []
    for index, event in enumerate(events):
        entries.append(
            (
                (event.created_at, 0, index, 0),
                {
                    "time": format_time(event.created_at),
                    "kind": "event",
                    "what": f"{event.type} ({event.id})",
                    "attempt": "",
                    "status_code": "",
                    "result": "",
                    "outcome": "event",
                },
            )
        )
    for index, refund in enumerate(refunds):
        what = f"Refund {refund.id} of {amount(refund.amount)}"
        if refund.reason:
            what += f", reason {refund.reason}"
        entries.append(
            (
                (refund.created_at, 1, index, 0),
                {
                    "time": format_time(refund.created_at),
                    "kind": "refund",
                    "what": what,
                    "attempt": "",
                    "status_code": "",
                    "result": refund.status,
                    "outcome": refund.status,
                },
            )
        )
    for attempt in attempts:
        when = attempt.sent_at if attempt.sent_at is not None else attempt.due_at
        target = f"to {attempt.url}" if attempt.url else "captured (no URL)"
        result = _delivery_result(attempt)
        if attempt.error:
            result += f": {attempt.error}"
        entries.append(
            (
                (when, 2, order.get(attempt.event_id, 0), attempt.attempt),
                {
                    "time": format_time(when),
                    "kind": "delivery",
                    "what": f"{attempt.type} {target}",
                    "attempt": attempt.attempt,
                    "status_code": attempt.status_code if attempt.status_code is not None else "—",
                    "result": result,
                    "outcome": _delivery_result(attempt),
                },
            )
        )
    entries.sort(key=lambda entry: entry[0])
    return [row for _, row in entries]


_HANDLERS: dict[str, Callable[[Pages, WSGIEnvironment, dict[str, str], int], Response]] = {
    "page_pay": _pay_page,
    "page_pay_submit": _pay_submit,
    "page_authenticate": _authenticate_page,
    "page_authenticate_submit": _authenticate_submit,
    "dashboard": _dashboard,
    "dashboard_payment": _dashboard_payment,
}
PAGE_ENDPOINTS = frozenset(_HANDLERS)
"""The endpoints of the HTML routes this module answers."""

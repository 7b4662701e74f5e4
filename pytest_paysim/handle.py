"""``Paysim``: the control handle of one test (the ``paysim`` fixture).

    def test_decline(paysim):
        payment = paysim.create_payment(amount=1999, currency="usd")
        paysim.force_outcome("fail", decline_code="insufficient_funds")
        assert paysim.pay(payment["id"])["decline_code"] == "insufficient_funds"

Forcing, faults and time go straight to the simulator; the conveniences (``create_payment``,
``pay``, ...) make real HTTP requests, so they exercise what the application exercises.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from pytest_paysim import errors
from pytest_paysim.core.calls import Call, matching
from pytest_paysim.core.cards import DECLINE_CODES
from pytest_paysim.core.clock import parse_time
from pytest_paysim.core.faults import FAULT_TIMINGS, Fault, When
from pytest_paysim.core.outcomes import AUTHENTICATION_OUTCOMES, FORCED_OUTCOMES
from pytest_paysim.errors import ApiError, ConfigurationError
from pytest_paysim.inprocess import InProcessRouter
from pytest_paysim.webhooks.log import WebhookLog

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    from _typeshed.wsgi import WSGIApplication

    ASGIApplication = Callable[
        [
            MutableMapping[str, Any],
            Callable[[], Awaitable[MutableMapping[str, Any]]],
            Callable[[MutableMapping[str, Any]], Awaitable[None]],
        ],
        Awaitable[None],
    ]

    from pytest_paysim.backends import Backend

__all__ = ["Clock", "Paysim", "TestSettings", "raise_for_error"]

_UNSET: Any = object()
STRIPE_API_BASE = "https://api.stripe.com"
"""The ``stripe`` SDK's default API base, which ``intercept_stripe`` routes."""


class TestSettings:
    """What the ``paysim`` marker may override for one test."""

    __test__ = False  # not a test class, whatever its name

    def __init__(
        self,
        *,
        seed: int,
        outcome: str | None = None,
        signature: str | None = None,
        delivery: str | None = None,
        clock: str | datetime | None = None,
        auto_success_rate: float | None = None,
    ) -> None:
        if outcome is not None and outcome not in FORCED_OUTCOMES:
            raise ConfigurationError(
                f"paysim marker: outcome must be one of {', '.join(FORCED_OUTCOMES)}"
            )
        self.seed = seed
        self.outcome = outcome
        self.signature = signature
        self.delivery = delivery
        self.frozen_at = _to_epoch(clock) if clock is not None else None
        self.auto_success_rate = auto_success_rate


class Clock:
    """The simulator clock, as a test moves it."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def now(self) -> datetime:
        """The simulator's current time (UTC)."""
        return _to_datetime(self._backend.clock_now())

    @property
    def frozen(self) -> bool:
        return self._backend.clock_frozen()

    def freeze(self, at: datetime | str | float | None = None) -> datetime:
        """Stop the clock at ``at`` (a datetime, ISO text or epoch seconds), or now."""
        return _to_datetime(self._backend.clock_freeze(None if at is None else _to_epoch(at)))

    def advance(self, seconds: float | timedelta) -> datetime:
        """Move the clock forward; retries due by then fire."""
        if isinstance(seconds, timedelta):
            seconds = seconds.total_seconds()
        if seconds < 0:
            raise ValueError("the clock only moves forward: pass seconds >= 0")
        return _to_datetime(self._backend.clock_advance(float(seconds)))

    def unfreeze(self) -> datetime:
        """Let the clock run again from where it stands."""
        return _to_datetime(self._backend.clock_unfreeze())


class Paysim:
    """Force outcomes, faults and time for one test; read its webhooks; call the API."""

    def __init__(self, backend: Backend, settings: TestSettings) -> None:
        self._backend = backend
        self._settings = settings
        self._router: InProcessRouter | None = None
        self._reported = 0
        self.client = backend.client
        self.clock = Clock(backend)
        self.webhooks = WebhookLog(backend)
        """This test's deliveries: the same object as the ``paysim_webhooks`` fixture."""
        self.reset()

    # -- state --------------------------------------------------------------------------------

    @property
    def seed(self) -> int:
        """The seed of this test's ids and auto outcomes."""
        return self._settings.seed

    @property
    def url(self) -> str:
        """The simulator's base URL."""
        return self.client.base_url

    @property
    def webhook_secret(self) -> str:
        """The secret signing this test's webhooks (``whsk_`` under ed25519)."""
        return self._backend.webhook_secret()

    @property
    def webhook_public_key(self) -> str:
        """The ``whpk_`` key that verifies ed25519 webhooks."""
        return self._backend.webhook_public_key()

    @property
    def stripe_webhook_secret(self) -> str:
        """The ``whsec_`` secret of the Stripe dialect's deliveries to ``metadata[webhook_url]``
        and captured ones: ``webhook_secret`` under every scheme but ed25519."""
        return self._backend.stripe_webhook_secret()

    def reset(self) -> None:
        """Back to the start of the test: empty state, this test's seed and marker settings."""
        settings = self._settings
        self._backend.reset(
            seed=settings.seed,
            signature=settings.signature,
            delivery=settings.delivery,
            auto_success_rate=settings.auto_success_rate,
            frozen_at=settings.frozen_at,
        )
        self._reported = 0
        self.webhooks.clear()  # the log object stays the one the test holds
        if settings.outcome is not None:
            # A setting of the test (or of a whole module), not an expectation: not strict.
            self.force_outcome(settings.outcome, times=None, required=False)

    @property
    def calls(self) -> list[Call]:
        """The API requests of this test so far, oldest first, each with its answer."""
        return self._backend.calls()

    def assert_called(self, method: str, path_glob: str, *, times: int | None = None) -> list[Call]:
        """Assert that ``method`` ``path_glob`` was called (``times`` times, if given).

        Both are globs (``"POST"``, ``"*"``; ``"/v1/payments/*/refund"``), the method in any
        case. Returns the matching calls; fails listing every call of the test.
        """
        __tracebackhide__ = True
        if times is not None and (isinstance(times, bool) or times < 0):
            raise ValueError("times must be a whole number >= 0, or None for at least once")
        made = self.calls
        found = matching(made, method, path_glob)
        if (times is None and found) or len(found) == times:
            return found
        wanted = "at least once" if times is None else _times(times) if times else "0 times"
        headline = (
            f"expected {method.upper()} {path_glob} to be called {wanted}, "
            f"it was called {_times(len(found))}"
        )
        if not made:
            raise AssertionError(f"{headline}; no API calls were made in this test")
        lines = [f"{index}. {call.describe()}" for index, call in enumerate(made, 1)]
        raise AssertionError(
            f"{headline}; the API calls of this test ({len(made)}):\n  " + "\n  ".join(lines)
        )

    def unexpected_errors(self) -> list[str]:
        """Tracebacks of simulator bugs (500s nobody injected) during this test."""
        return self._backend.unexpected_errors()

    def take_unexpected_errors(self) -> list[str]:
        """The tracebacks not yet taken (the plugin fails the test with them)."""
        errors = self.unexpected_errors()
        new, self._reported = errors[self._reported :], len(errors)
        return new

    # -- forcing ------------------------------------------------------------------------------

    def force_outcome(
        self,
        outcome: str,
        *,
        payment_id: str | None = None,
        times: int | None = 1,
        decline_code: str | None = None,
        required: bool = True,
    ) -> None:
        """The next ``times`` pay attempts (of ``payment_id``, or of any) end in ``outcome``.

        ``requires_action`` sends them to 3-D Secure whatever the card; with a
        ``decline_code`` the card then declines once authenticated. ``required=False``: the
        test may leave it unused (else strict mode fails the test).
        """
        if outcome not in FORCED_OUTCOMES:
            raise ValueError(
                f"outcome must be one of {', '.join(FORCED_OUTCOMES)}, not {outcome!r}"
            )
        _check_text("payment_id", payment_id)
        if decline_code is not None and (
            outcome not in ("fail", "requires_action") or decline_code not in DECLINE_CODES
        ):
            raise ValueError(
                "decline_code goes with outcome='fail' or 'requires_action' and is one of "
                f"{', '.join(DECLINE_CODES)}"
            )
        _check_times(times)
        self._backend.force_outcome(
            outcome,
            payment_id=payment_id,
            times=times,
            decline_code=decline_code,
            required=required,
        )

    def force_refund_outcome(
        self, outcome: str = "fail", *, times: int | None = 1, required: bool = True
    ) -> None:
        """The next ``times`` refunds fail (status ``failed``, ``payment.refund_failed``)."""
        if outcome != "fail":
            raise ValueError("the only refund outcome to force is 'fail'")
        _check_times(times)
        self._backend.force_refund_outcome(outcome, times=times, required=required)

    def clear_outcomes(self) -> None:
        """Forget every forced outcome (pay and refund) of this test."""
        self._backend.clear_outcomes()

    def inject_fault(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = _UNSET,
        times: int | None = 1,
        when: When = "before",
        delay: float = 0.0,
        drop_connection: bool = False,
        required: bool = True,
    ) -> None:
        """Make the next ``times`` matching requests fail (``path`` is a glob).

        ``when="before"``: answered with the fault, never executed. ``when="after"``: executed
        and stored under its idempotency key, then the answer is lost. Only ``delay`` (no
        ``status``): the request is slowed and then runs. ``required=False``: the test may
        leave it unused (else strict mode fails the test).
        """
        _check_text("method", method)
        _check_text("path", path)
        if when not in FAULT_TIMINGS:
            raise ValueError("when must be 'before' or 'after'")
        if delay < 0:
            raise ValueError("delay must be >= 0 seconds")
        _check_times(times)
        if status is _UNSET:
            status = None if (delay and not drop_connection) else 503
        elif status is None:
            if not (delay or drop_connection):
                raise ValueError("a fault needs a status, a delay or drop_connection")
        elif not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status, 400 to 599")
        self._backend.add_fault(
            Fault(
                method=method.upper() if method else None,
                path=path,
                status=status,
                times=times,
                when=when,
                delay=delay,
                drop_connection=drop_connection,
                required=required,
            )
        )

    def clear_faults(self) -> None:
        """Forget every injected fault of this test."""
        self._backend.clear_faults()

    def unused_rules(self) -> list[str]:
        """The required faults and forced outcomes this test has not used up, described as
        the calls that set them, with how often each was used (strict mode)."""
        rules = self._backend.rules()
        found = [_describe_fault(rule) for rule in rules["faults"] if _unused(rule)]
        found += [_describe_outcome(rule) for rule in rules["outcomes"] if _unused(rule)]
        found += [
            _describe_refund_outcome(rule) for rule in rules["refund_outcomes"] if _unused(rule)
        ]
        return found

    def rotate_webhook_secret(self) -> str:
        """A new session secret; old and new both sign until the old one expires (24 h)."""
        return self._backend.rotate_webhook_secret()

    # -- in-process routing -------------------------------------------------------------------

    def intercept(self, base_url: str) -> None:
        """Route ``requests`` and ``httpx`` calls to ``base_url`` into the simulator, in
        process (``httpx`` needs the ``[httpx]`` extra)."""
        if self._backend.local:
            from pytest_paysim.backends import LocalBackend

            assert isinstance(self._backend, LocalBackend)
            self._routes().route(base_url, self._backend.app, httpx=True)
        else:
            self._routes().route(base_url, _Forwarder(self.url), httpx=True)

    def intercept_stripe(self) -> None:
        """Route calls to ``https://api.stripe.com`` (the ``stripe`` SDK's default base) into
        the Stripe dialect, in process, for the rest of the test: an app that never sets
        ``stripe.api_base`` is tested as it is. ``requests`` (the SDK's default sync client)
        and ``httpx`` (its default async one; needs the ``[httpx]`` extra) are routed."""
        from pytest_paysim.stripe.app import PREFIX, at_root

        if self._backend.local:
            from pytest_paysim.backends import LocalBackend

            assert isinstance(self._backend, LocalBackend)
            app: WSGIApplication = at_root(self._backend.app, PREFIX)
        else:
            app = _Forwarder(self.url + PREFIX)
        self._routes().route(STRIPE_API_BASE, app, httpx=True)

    def route_webhooks(self, base_url: str, app: WSGIApplication | ASGIApplication) -> None:
        """Deliver webhooks addressed to ``base_url`` into ``app``, in process: a WSGI app
        (Flask, Django) or an ASGI app (FastAPI, Starlette; needs the ``[asgi]`` extra)."""
        if not self._backend.local:
            raise ConfigurationError(
                "route_webhooks needs the simulator in this process; with --paysim-url the "
                "server delivers over the network, so give it a reachable webhook URL"
            )
        self._routes().route(base_url, app)

    def _routes(self) -> InProcessRouter:
        if self._router is None:
            self._router = InProcessRouter()
        return self._router

    def close(self) -> None:
        """Undo ``intercept``, ``intercept_stripe`` and ``route_webhooks``."""
        if self._router is not None:
            self._router.stop()
            self._router = None

    # -- conveniences over the HTTP API -------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> Any:
        if method == "GET":
            response = self.client.get(path, headers=headers)
        else:
            response = self.client.request(
                method, path, json=body if body is not None else {}, headers=headers
            )
        raise_for_error(response.status_code, response.content)
        return response.json()

    def create_payment(
        self,
        *,
        amount: int,
        currency: str,
        description: str | None = None,
        metadata: dict[str, str] | None = None,
        capture_method: str | None = None,
        return_url: str | None = None,
        simulate: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """``POST /v1/payments``; the created payment. Parameters left as None are not sent."""
        given = {
            "amount": amount,
            "currency": currency,
            "description": description,
            "metadata": metadata,
            "capture_method": capture_method,
            "return_url": return_url,
            "simulate": simulate,
        }
        body = {name: value for name, value in given.items() if value is not None}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        result: dict[str, Any] = self._call("POST", "/v1/payments", body, headers=headers)
        return result

    def pay(
        self, payment_id: str, outcome: str = "succeed", *, card_number: str | None = None
    ) -> dict[str, Any]:
        """``POST /v1/payments/{id}/pay`` with ``outcome`` (or a test ``card_number``)."""
        body = {"card_number": card_number} if card_number is not None else {"outcome": outcome}
        result: dict[str, Any] = self._call("POST", f"/v1/payments/{payment_id}/pay", body)
        return result

    def authenticate(self, payment_id: str, outcome: str = "succeed") -> dict[str, Any]:
        """``POST /v1/payments/{id}/authenticate``: complete (or fail) 3-D Secure.

        A Stripe dialect payment (``pi_``) goes through the dialect's test helper
        ``POST /stripe/v1/test_helpers/payment_intents/{id}/authenticate``; the payment intent
        comes back, a failed authentication too."""
        if outcome not in AUTHENTICATION_OUTCOMES:
            raise ValueError(
                f"outcome must be one of {', '.join(AUTHENTICATION_OUTCOMES)}, not {outcome!r}"
            )
        if payment_id.startswith("pi_"):
            return self._authenticate_intent(payment_id, outcome)
        result: dict[str, Any] = self._call(
            "POST", f"/v1/payments/{payment_id}/authenticate", {"outcome": outcome}
        )
        return result

    def _authenticate_intent(self, intent_id: str, outcome: str) -> dict[str, Any]:
        from pytest_paysim.stripe.app import PREFIX

        response = self.client.request(
            "POST",
            f"{PREFIX}/v1/test_helpers/payment_intents/{intent_id}/authenticate",
            data={"outcome": outcome},
        )
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                code = error["code"]
            except (ValueError, KeyError, TypeError):
                error, code = None, None
            if code in _STRIPE_ERRORS:
                raise _STRIPE_ERRORS[code](
                    str(error["message"]), param=error.get("param"), payment_id=intent_id
                )
            raise_for_error(response.status_code, response.content)
        result: dict[str, Any] = response.json()
        return result

    def capture(self, payment_id: str, amount: int | None = None) -> dict[str, Any]:
        """``POST /v1/payments/{id}/capture``."""
        body = {} if amount is None else {"amount": amount}
        result: dict[str, Any] = self._call("POST", f"/v1/payments/{payment_id}/capture", body)
        return result

    def refund(
        self, payment_id: str, amount: int | None = None, reason: str | None = None
    ) -> dict[str, Any]:
        """``POST /v1/payments/{id}/refund``; the refund."""
        body: dict[str, Any] = {}
        if amount is not None:
            body["amount"] = amount
        if reason is not None:
            body["reason"] = reason
        result: dict[str, Any] = self._call("POST", f"/v1/payments/{payment_id}/refund", body)
        return result

    def cancel(self, payment_id: str, reason: str | None = None) -> dict[str, Any]:
        """``POST /v1/payments/{id}/cancel``."""
        body = {} if reason is None else {"cancellation_reason": reason}
        result: dict[str, Any] = self._call("POST", f"/v1/payments/{payment_id}/cancel", body)
        return result

    def get_payment(self, payment_id: str) -> dict[str, Any]:
        """``GET /v1/payments/{id}``."""
        result: dict[str, Any] = self._call("GET", f"/v1/payments/{payment_id}")
        return result

    def payments(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every payment of this test, newest first (all pages): native ones and the Stripe
        dialect's intents alike, each in the native API's shape with its ``dialect``; ``status``
        is the core's (``authorized``, not Stripe's ``requires_capture``)."""
        found: list[dict[str, Any]] = []
        query = "limit=100" + (f"&status={status}" if status else "")
        while True:
            after = f"&starting_after={found[-1]['id']}" if found else ""
            page = self._call("GET", f"/_paysim/payments?{query}{after}")
            found.extend(page["data"])
            if not page["has_more"]:
                return found

    def add_webhook_endpoint(
        self, url: str, events: tuple[str, ...] | list[str] = ("*",)
    ) -> dict[str, Any]:
        """Register a receiver; the endpoint with its ``secret``."""
        result: dict[str, Any] = self._call(
            "POST", "/v1/webhook_endpoints", {"url": url, "enabled_events": list(events)}
        )
        return result


class _Forwarder:
    """A WSGI app that forwards to a remote simulator (``intercept`` under --paysim-url)."""

    def __init__(self, url: str) -> None:
        import requests

        self.url = url
        self.session = requests.Session()
        self.session.trust_env = False

    def __call__(self, environ: Any, start_response: Any) -> list[bytes]:
        import requests
        from werkzeug.wrappers import Request

        request = Request(environ)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        try:
            response = self.session.request(
                request.method,
                self.url + request.full_path.rstrip("?"),
                data=request.get_data(),
                headers=headers,
                timeout=30,
            )
        except requests.ConnectionError as error:  # an injected drop_connection, most likely
            raise ConnectionResetError(str(error)) from None
        start_response(
            f"{response.status_code} {response.reason}",
            [(k, v) for k, v in response.headers.items() if k.lower() not in _HOP_HEADERS],
        )
        return [response.content]


_HOP_HEADERS = {"connection", "content-length", "transfer-encoding", "content-encoding"}


def raise_for_error(status: int, body: bytes) -> None:
    """Raise the ``ApiError`` subclass that an error answer names (its code picks it)."""
    if status < 400:
        return
    import json

    try:
        error = json.loads(body)["error"]
        code, message = error["code"], error["message"]
    except (ValueError, KeyError, TypeError):
        raise ApiError(f"HTTP {status}: {body[:200]!r}") from None
    cls = _ERRORS_BY_CODE.get(code)
    if cls is None or code == "injected_fault":
        raise errors.InjectedFault(status, message)
    raise cls(message, param=error.get("param"), payment_id=error.get("payment_id"))


_ERRORS_BY_CODE: dict[str, type[ApiError]] = {
    cls.code: cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, ApiError) and cls is not ApiError
}


_STRIPE_ERRORS: dict[str, type[ApiError]] = {
    "resource_missing": errors.ResourceMissing,
    "payment_intent_unexpected_state": errors.PaymentUnexpectedState,
}
"""The Stripe dialect's error codes that the test helper answers with, as the core's errors."""


def _unused(rule: dict[str, Any]) -> bool:
    """A required rule still to use: once at least (``times`` None), or up to ``times``.

    A rule with a number of times leaves the simulator once used up, so one still there is
    not used up.
    """
    if not rule.get("required", True):
        return False
    return rule["times"] is not None or not rule["used"]


def _arguments(rule: dict[str, Any], *positional: Any, **named: Any) -> str:
    """The call that set ``rule``: the arguments given, ``times`` when not the default 1."""
    shown = [repr(value) for value in positional]
    shown += [f"{name}={value!r}" for name, value in named.items() if value is not None]
    times = None if rule["times"] is None else rule["times"] + rule["used"]
    if times != 1:
        shown.append(f"times={times}")
    return ", ".join(shown)


def _usage(rule: dict[str, Any]) -> str:
    used = rule["used"]
    if rule["times"] is None:
        return "never used"
    return (
        f"used {used} of {used + rule['times']} {'time' if used + rule['times'] == 1 else 'times'}"
    )


def _describe_fault(rule: dict[str, Any]) -> str:
    call = _arguments(
        rule,
        method=rule["method"],
        path=rule["path"],
        status=rule["status"],
        when=rule["when"],
        delay=rule["delay"] or None,
        drop_connection=rule["drop_connection"] or None,
    )
    return f"inject_fault({call}): {_usage(rule)}"


def _describe_outcome(rule: dict[str, Any]) -> str:
    call = _arguments(
        rule, rule["outcome"], payment_id=rule["payment_id"], decline_code=rule["decline_code"]
    )
    return f"force_outcome({call}): {_usage(rule)}"


def _describe_refund_outcome(rule: dict[str, Any]) -> str:
    return f"force_refund_outcome({_arguments(rule, rule['refund_outcome'])}): {_usage(rule)}"


def _times(count: int) -> str:
    return {0: "never", 1: "once", 2: "twice"}.get(count, f"{count} times")


def _check_text(name: str, value: str | None) -> None:
    """Refuse text the simulator could not store or show (a lone UTF-16 surrogate)."""
    if value is None:
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} holds a lone UTF-16 surrogate, which is not text") from None


def _check_times(times: int | None) -> None:
    if times is not None and (isinstance(times, bool) or times < 1):
        raise ValueError("times must be a positive number, or None for always")


def _to_epoch(value: datetime | str | float) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    if isinstance(value, str):
        return parse_time(value)
    return float(value)


def _to_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)

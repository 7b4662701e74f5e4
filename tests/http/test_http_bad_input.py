"""SPEC section 13: every bad input on every POST route is a 4xx JSON error of section 5 and
changes nothing; and random JSON thrown at every POST route never yields a 5xx."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_paysim.server import PaysimServer
from tests.support.http import ERROR_TYPES, Http, assert_error, assert_json_error_shape, state_of


@dataclass(frozen=True)
class PostRoute:
    """A POST route, how to get a target for it, and a body it would accept."""

    name: str
    path: str
    valid: dict[str, Any]
    status: str | None = None
    """The payment's status the route needs (None: the path has no payment)."""
    integer: str | None = None
    number: str | None = None
    long_string: tuple[str, Any] | None = None
    fields: tuple[str, ...] = field(default=())

    @property
    def idempotent(self) -> bool:
        return self.path.startswith("/v1/")


ROUTES = [
    PostRoute(
        "create",
        "/v1/payments",
        {"amount": 1000, "currency": "usd"},
        integer="amount",
        long_string=("description", "x" * 1001),
        fields=(
            "amount",
            "currency",
            "description",
            "metadata",
            "capture_method",
            "return_url",
            "simulate",
        ),
    ),
    PostRoute(
        "pay",
        "/v1/payments/{pid}/pay",
        {"outcome": "succeed"},
        "requires_payment_method",
        long_string=("card_number", "4" * 65),
        fields=("outcome", "card_number", "decline_code", "client_secret"),
    ),
    PostRoute(
        "capture",
        "/v1/payments/{pid}/capture",
        {"amount": 500},
        "authorized",
        integer="amount",
        fields=("amount",),
    ),
    PostRoute(
        "refund",
        "/v1/payments/{pid}/refund",
        {"amount": 100},
        "succeeded",
        integer="amount",
        long_string=("reason", "r" * 1001),
        fields=("amount", "reason"),
    ),
    PostRoute(
        "cancel",
        "/v1/payments/{pid}/cancel",
        {"cancellation_reason": "abandoned"},
        "requires_payment_method",
        long_string=("cancellation_reason", "a" * 1001),
        fields=("cancellation_reason",),
    ),
    PostRoute(
        "endpoint",
        "/v1/webhook_endpoints",
        {"url": "https://example.com/hook"},
        long_string=("url", "https://example.com/" + "h" * 2048),
        fields=("url", "enabled_events"),
    ),
    PostRoute(
        "reset",
        "/_paysim/reset",
        {},
        integer="seed",
        long_string=("clock", "2026" + "0" * 2000),
        fields=("seed", "signature", "delivery", "auto_success_rate", "clock"),
    ),
    PostRoute(
        "outcomes",
        "/_paysim/outcomes",
        {"outcome": "fail"},
        integer="times",
        long_string=("payment_id", "p" * 101),
        fields=("outcome", "refund_outcome", "times", "payment_id", "decline_code"),
    ),
    PostRoute(
        "faults",
        "/_paysim/faults",
        {"status": 503, "path": "/nowhere"},
        integer="status",
        long_string=("path", "/" * 501),
        fields=("method", "path", "status", "times", "when", "delay", "drop_connection"),
    ),
    PostRoute(
        "clock",
        "/_paysim/clock",
        {"advance": 60},
        number="advance",
        long_string=("freeze", "2026-01-01T00:00:00" + "0" * 1000),
        fields=("advance", "freeze", "unfreeze"),
    ),
    PostRoute("rotate", "/_paysim/rotate_webhook_secret", {}),
]

JSON_TYPE = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Bad:
    """One bad request: body bytes, extra headers, query string; and the expected code."""

    data: bytes
    code: str
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON_TYPE))
    query: str = ""
    auth: str | None = None


def _with(route: PostRoute, **extra: Any) -> bytes:
    return json.dumps({**route.valid, **extra}).encode()


def _first_field(route: PostRoute) -> str:
    return next(iter(route.valid), route.fields[0] if route.fields else "anything")


def _numeric(route: PostRoute) -> str | None:
    return route.integer or route.number


def _duplicate_keys(route: PostRoute) -> bytes:
    name = _first_field(route)
    pair = json.dumps(name) + ": " + json.dumps(route.valid.get(name, 1))
    return ("{" + pair + ", " + pair + "}").encode()


Case = Callable[[PostRoute], "Bad | None"]

CASES: dict[str, Case] = {
    "truncated-json": lambda r: Bad(_with(r)[:-1], "invalid_json"),
    "truncated-mid-string": lambda r: Bad(b'{"' + _first_field(r).encode(), "invalid_json"),
    "non-utf8": lambda r: Bad(b'{"' + _first_field(r).encode() + b'": "\xff\xfe"}', "invalid_json"),
    "utf16": lambda r: Bad(_with(r).decode().encode("utf-16"), "invalid_json"),
    "json-array": lambda r: Bad(b"[" + _with(r) + b"]", "invalid_json"),
    "json-string": lambda r: Bad(b'"amount"', "invalid_json"),
    "json-null": lambda r: Bad(b"null", "invalid_json"),
    "json-number": lambda r: Bad(b"1999", "invalid_json"),
    "duplicate-keys": lambda r: Bad(_duplicate_keys(r), "invalid_json"),
    "nan": lambda r: Bad(
        b'{"%s": NaN}' % (_numeric(r) or _first_field(r)).encode(), "invalid_json"
    ),
    "infinity": lambda r: Bad(b'{"%s": Infinity}' % (_numeric(r) or "x").encode(), "invalid_json"),
    "minus-infinity": lambda r: Bad(
        b'{"%s": -Infinity}' % (_numeric(r) or "x").encode(), "invalid_json"
    ),
    "65-deep": lambda r: Bad(
        b'{"%s": ' % _first_field(r).encode() + b"[" * 64 + b"]" * 64 + b"}", "invalid_json"
    ),
    "100000-deep": lambda r: Bad(
        b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "invalid_json"
    ),
    "float-for-integer": lambda r: (
        Bad(_with(r, **{r.integer: 1.5}), "parameter_invalid") if r.integer else None
    ),
    "whole-float-for-integer": lambda r: (
        Bad(_with(r, **{r.integer: 100.0}), "parameter_invalid") if r.integer else None
    ),
    "boolean-for-number": lambda r: (
        Bad(_with(r, **{_numeric(r): True}), "parameter_invalid") if _numeric(r) else None
    ),
    "string-for-number": lambda r: (
        Bad(_with(r, **{_numeric(r): "100"}), "parameter_invalid") if _numeric(r) else None
    ),
    "10**30": lambda r: (
        Bad(_with(r, **{_numeric(r): 10**30}), "parameter_invalid") if _numeric(r) else None
    ),
    "-10**30": lambda r: (
        Bad(_with(r, **{_numeric(r): -(10**30)}), "parameter_invalid") if _numeric(r) else None
    ),
    "1e400": lambda r: (
        Bad(b'{"%s": 1e400}' % str(_numeric(r)).encode(), "parameter_invalid")
        if _numeric(r)
        else None
    ),
    "5000-digit-integer": lambda r: Bad(b'{"a": ' + b"9" * 5000 + b"}", "invalid_json"),
    "unknown-field": lambda r: Bad(_with(r, surprise=1), "parameter_unknown"),
    "over-long-string": lambda r: (
        Bad(_with(r, **dict([r.long_string])), "parameter_invalid") if r.long_string else None
    ),
    "null-byte-in-string": lambda r: (
        Bad(_with(r, **{r.long_string[0]: "a\x00b"}), "parameter_invalid")
        if r.long_string and r.name not in ("create", "outcomes", "faults")
        else None
    ),
    "metadata-51-keys": lambda r: (
        Bad(_with(r, metadata={f"k{i}": "v" for i in range(51)}), "parameter_invalid")
        if r.name == "create"
        else None
    ),
    "metadata-long-key": lambda r: (
        Bad(_with(r, metadata={"k" * 41: "v"}), "parameter_invalid") if r.name == "create" else None
    ),
    "metadata-empty-key": lambda r: (
        Bad(_with(r, metadata={"": "v"}), "parameter_invalid") if r.name == "create" else None
    ),
    "metadata-long-value": lambda r: (
        Bad(_with(r, metadata={"k": "v" * 501}), "parameter_invalid")
        if r.name == "create"
        else None
    ),
    "metadata-number-value": lambda r: (
        Bad(_with(r, metadata={"k": 1}), "parameter_invalid") if r.name == "create" else None
    ),
    "metadata-nested": lambda r: (
        Bad(_with(r, metadata={"k": {"a": "b"}}), "parameter_invalid")
        if r.name == "create"
        else None
    ),
    "metadata-array": lambda r: (
        Bad(_with(r, metadata=["a"]), "parameter_invalid") if r.name == "create" else None
    ),
    "idempotency-key-control-char": lambda r: (
        Bad(_with(r), "idempotency_key_invalid", {**JSON_TYPE, "Idempotency-Key": "key\x01"})
        if r.idempotent
        else None
    ),
    "idempotency-key-escape": lambda r: (
        Bad(_with(r), "idempotency_key_invalid", {**JSON_TYPE, "Idempotency-Key": "\x1b[31m"})
        if r.idempotent
        else None
    ),
    "authorization-control-char": lambda r: Bad(_with(r), "api_key_invalid", auth="{key}\x01"),
    "authorization-escape": lambda r: Bad(_with(r), "api_key_invalid", auth="\x1b{key}"),
    "unknown-query-param": lambda r: Bad(_with(r), "parameter_unknown", query="bogus=1"),
    "query-param-not-taken": lambda r: Bad(_with(r), "parameter_unknown", query="limit=10"),
    "query-param-twice": lambda r: Bad(_with(r), "parameter_invalid", query="limit=1&limit=2"),
    "text-plain": lambda r: Bad(
        _with(r), "content_type_unsupported", {"Content-Type": "text/plain"}
    ),
    "form-encoded": lambda r: Bad(
        b"amount=1",
        "content_type_unsupported",
        {"Content-Type": "application/x-www-form-urlencoded"},
    ),
    "json-suffix-type": lambda r: Bad(
        _with(r), "content_type_unsupported", {"Content-Type": "application/jsonx"}
    ),
    "no-content-type": lambda r: Bad(_with(r), "content_type_unsupported", {}),
    "over-1-MiB": lambda r: Bad(_with(r)[:-1] + b" " * (1024 * 1024) + b"}", "body_too_large"),
}

TABLE = [
    pytest.param(route, case, id=f"{route.name}-{name}")
    for route in ROUTES
    for name, case in CASES.items()
    if case(route) is not None
]


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(("route", "case"), TABLE)
def test_bad_input_is_a_4xx_and_changes_nothing(
    anon: Http, server: PaysimServer, route: PostRoute, case: Case
) -> None:
    bad = case(route)
    assert bad is not None
    path = _target(server, route)
    before = state_of(server)
    headers = dict(bad.headers)
    auth = bad.auth or "{key}"
    headers["Authorization"] = "Bearer " + auth.format(key=server.api_key)
    url = path + ("?" + bad.query if bad.query else "")
    response = anon.post(url, data=bad.data, headers=headers)
    assert_error(response, bad.code)
    assert state_of(server) == before


@pytest.mark.parametrize("route", [pytest.param(r, id=r.name) for r in ROUTES])
@pytest.mark.usefixtures("frozen")
def test_the_valid_body_does_change_something(
    api: Http, server: PaysimServer, route: PostRoute
) -> None:
    """The control for the table: its requests, fixed, would have changed the state."""
    path = _target(server, route)
    before = state_of(server)
    response = api.post(path, json=route.valid, headers={"Idempotency-Key": "fine"})
    assert response.status_code in (200, 201), response.text
    assert state_of(server) != before


def test_64_levels_are_allowed(api: Http) -> None:
    body = b'{"metadata": ' + b"[" * 63 + b"]" * 63 + b', "amount": 1, "currency": "usd"}'
    response = api.post("/v1/payments", data=body, headers=JSON_TYPE)
    assert_error(response, "parameter_invalid", param="metadata")


# -- random JSON ------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _bodies(route: PostRoute) -> st.SearchStrategy[Any]:
    names = st.sampled_from(route.fields or ("amount",))
    with_real_names = st.dictionaries(names, JSON_VALUES, max_size=len(route.fields) or 1)
    valid_plus_noise = st.builds(
        lambda extra: {**route.valid, **extra}, st.dictionaries(names, JSON_VALUES, max_size=2)
    )
    return JSON_VALUES | with_real_names | valid_plus_noise


def _target(server: PaysimServer, route: PostRoute) -> str:
    sim = server.simulator
    assert sim is not None
    if route.status is None:
        return route.path
    payment = sim.create_payment(
        amount=5000,
        currency="usd",
        capture_method="manual" if route.status == "authorized" else "automatic",
    )
    if route.status != "requires_payment_method":
        sim.pay(payment.id, outcome="succeed")
    return route.path.format(pid=payment.id)


@pytest.mark.parametrize("route", [pytest.param(r, id=r.name) for r in ROUTES])
def test_random_json_never_yields_a_5xx(api: Http, server: PaysimServer, route: PostRoute) -> None:
    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=_bodies(route))
    def check(body: Any) -> None:
        path = _target(server, route)
        data = json.dumps(body).encode()
        try:
            response = api.post(path, data=data, headers=JSON_TYPE)
        finally:
            if route.name == "faults":  # a random fault must not hit the next request
                api.delete("/_paysim/faults")
        assert response.status_code < 500, response.text
        assert response.headers["Content-Type"] == "application/json"
        if response.status_code >= 400:
            assert_json_error_shape(response)
        else:
            assert isinstance(response.json(), dict)
            assert "error" not in response.json()

    check()


def test_every_known_error_code_has_a_type() -> None:
    assert all(ERROR_TYPES.values())

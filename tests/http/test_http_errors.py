"""Every error of SPEC section 5 over HTTP, the order of the checks (section 3) and the
credentials of section 7: API key as Bearer or Basic, and the payment's client secret."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
import requests

from pytest_paysim.server import PaysimServer
from tests.support.http import Http, assert_error, raw_post

BIG = b"{" + b" " * (1024 * 1024) + b"}"
JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain"}


# -- every code -------------------------------------------------------------------------------


def _pid(api: Http, status: str = "requires_payment_method") -> str:
    payment_id: str = api.payment_in(status)["id"]
    return payment_id


Call = Callable[[Http, Http], requests.Response]

CASES = [
    pytest.param(
        lambda api, anon: api.post("/v1/payments", json={}),
        "parameter_missing",
        "amount",
        id="parameter_missing",
    ),
    pytest.param(
        lambda api, anon: api.post("/v1/payments", json={"currency": "usd"}),
        "parameter_missing",
        "amount",
        id="parameter_missing-no-amount",
    ),
    pytest.param(
        lambda api, anon: api.post("/v1/payments", json={"amount": 1}),
        "parameter_missing",
        "currency",
        id="parameter_missing-currency",
    ),
    pytest.param(
        lambda api, anon: api.post(
            "/v1/payments", json={"amount": 1, "currency": "usd", "colour": "red"}
        ),
        "parameter_unknown",
        "colour",
        id="parameter_unknown",
    ),
    pytest.param(
        lambda api, anon: api.post("/v1/payments", json={"amount": 0, "currency": "usd"}),
        "parameter_invalid",
        "amount",
        id="parameter_invalid-range",
    ),
    pytest.param(
        lambda api, anon: api.post("/v1/payments", json={"amount": 100_000_000, "currency": "usd"}),
        "parameter_invalid",
        "amount",
        id="parameter_invalid-above-range",
    ),
    pytest.param(
        lambda api, anon: api.post("/v1/payments", json={"amount": 1, "currency": "usdx"}),
        "parameter_invalid",
        "currency",
        id="parameter_invalid-currency",
    ),
    pytest.param(
        lambda api, anon: api.post("/v1/payments", json={"amount": 1, "currency": "xyz"}),
        "parameter_invalid",
        "currency",
        id="parameter_invalid-unknown-currency",
    ),
    pytest.param(
        lambda api, anon: api.post(
            "/v1/payments", json={"amount": 1, "currency": "usd", "capture_method": "later"}
        ),
        "parameter_invalid",
        "capture_method",
        id="parameter_invalid-enum",
    ),
    pytest.param(
        lambda api, anon: api.post(
            "/v1/payments", json={"amount": 1, "currency": "usd", "return_url": "ftp://x/y"}
        ),
        "parameter_invalid",
        "return_url",
        id="parameter_invalid-url",
    ),
    pytest.param(
        lambda api, anon: api.post(
            "/v1/payments",
            json={"amount": 1, "currency": "usd", "metadata": {"webhook_url": "/relative"}},
        ),
        "parameter_invalid",
        "metadata[webhook_url]",
        id="parameter_invalid-webhook-url",
    ),
    pytest.param(
        lambda api, anon: api.post(
            f"/v1/payments/{_pid(api, 'succeeded')}/refund", json={"amount": 10**6}
        ),
        "amount_too_large",
        "amount",
        id="amount_too_large",
    ),
    pytest.param(
        lambda api, anon: api.post("/v1/payments", data=b'{"amount": 1,', headers=JSON),
        "invalid_json",
        None,
        id="invalid_json",
    ),
    pytest.param(
        lambda api, anon: api.post(
            "/v1/payments", json={"amount": 1, "currency": "usd"}, headers={"Idempotency-Key": ""}
        ),
        "idempotency_key_invalid",
        "Idempotency-Key",
        id="idempotency_key_invalid",
    ),
    pytest.param(
        lambda api, anon: anon.get("/v1/payments"), "api_key_missing", None, id="api_key_missing"
    ),
    pytest.param(
        lambda api, anon: anon.get(
            "/v1/payments", headers={"Authorization": "Bearer sk_test_" + "x" * 24}
        ),
        "api_key_invalid",
        None,
        id="api_key_invalid",
    ),
    pytest.param(
        lambda api, anon: anon.get(
            f"/v1/payments/{_pid(api)}", params={"client_secret": "pay_x_secret_y"}
        ),
        "client_secret_invalid",
        "client_secret",
        id="client_secret_invalid",
    ),
    pytest.param(
        lambda api, anon: api.get("/v1/payments/pay_" + "0" * 24),
        "resource_missing",
        "id",
        id="resource_missing",
    ),
    pytest.param(
        lambda api, anon: api.get("/v2/payments"), "route_missing", None, id="route_missing"
    ),
    pytest.param(
        lambda api, anon: api.request("PUT", "/v1/payments"),
        "method_not_allowed",
        None,
        id="method_not_allowed",
    ),
    pytest.param(
        lambda api, anon: api.post(
            f"/v1/payments/{_pid(api, 'succeeded')}/pay", json={"outcome": "fail"}
        ),
        "payment_unexpected_state",
        None,
        id="payment_unexpected_state",
    ),
    pytest.param(
        lambda api, anon: api.post("/v1/payments", data=BIG, headers=JSON),
        "body_too_large",
        None,
        id="body_too_large",
    ),
    pytest.param(
        lambda api, anon: api.post("/v1/payments", data=b"amount=1", headers=TEXT),
        "content_type_unsupported",
        None,
        id="content_type_unsupported",
    ),
]


@pytest.mark.parametrize(("call", "code", "param"), CASES)
def test_every_error_code(api: Http, anon: Http, call: Call, code: str, param: str | None) -> None:
    before = api.ok("GET", "/v1/payments", params={"limit": 100})
    error = assert_error(call(api, anon), code, param=param)
    if code == "payment_unexpected_state":
        assert error["payment_id"].startswith("pay_")
    if code not in ("amount_too_large", "payment_unexpected_state", "client_secret_invalid"):
        assert api.ok("GET", "/v1/payments", params={"limit": 100}) == before


def test_idempotency_key_reused_is_422(api: Http) -> None:
    headers = {"Idempotency-Key": "k-422"}
    api.ok("POST", "/v1/payments", 201, json={"amount": 1, "currency": "usd"}, headers=headers)
    reused = api.post("/v1/payments", json={"amount": 2, "currency": "usd"}, headers=headers)
    assert_error(reused, "idempotency_key_reused", param="Idempotency-Key")


@pytest.mark.parametrize(
    ("status", "type"),
    [
        pytest.param(429, "rate_limit_error", id="429"),
        pytest.param(500, "api_error", id="500"),
        pytest.param(502, "api_error", id="502"),
        pytest.param(503, "api_error", id="503"),
    ],
)
def test_injected_faults_use_their_own_types(api: Http, status: int, type: str) -> None:
    api.ok("POST", "/_paysim/faults", json={"status": status, "path": "/v1/payments"})
    response = api.post("/v1/payments", json={"amount": 1, "currency": "usd"})
    assert_error(response, "injected_fault", status=status, type=type)
    assert api.ok("GET", "/v1/payments")["data"] == []


# -- 404 and 405 are JSON too -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        pytest.param("PUT", "/v1/payments", "GET, POST", id="put-payments"),
        pytest.param("DELETE", "/v1/payments/pay_x", "GET", id="delete-payment"),
        pytest.param("GET", "/v1/payments/pay_x/pay", "POST", id="get-pay"),
        pytest.param("PATCH", "/health", "GET", id="patch-health"),
        pytest.param("POST", "/v1/webhook_endpoints/we_x", "DELETE", id="post-endpoint"),
        pytest.param("GET", "/_paysim/reset", "POST", id="get-reset"),
        pytest.param("PUT", "/_paysim/clock", "GET, POST", id="put-clock"),
    ],
)
def test_405_names_the_allowed_methods(anon: Http, method: str, path: str, allow: str) -> None:
    response = anon.request(method, path)
    assert_error(response, "method_not_allowed")
    assert response.headers["Allow"] == allow


@pytest.mark.parametrize(
    "path", ["/", "/v1", "/v1/payment", "/v1/payments/pay_x/explode", "/_paysim/nothing"]
)
def test_unknown_routes_are_json_404(anon: Http, path: str) -> None:
    assert_error(anon.get(path), "route_missing")
    assert_error(anon.post(path, json={}), "route_missing")


# -- the order: route, credentials, body size and type, body ----------------------------------


def test_route_before_credentials(anon: Http) -> None:
    assert_error(anon.get("/v1/nothing"), "route_missing")
    assert_error(anon.request("PUT", "/v1/payments", data=BIG), "method_not_allowed")


@pytest.mark.parametrize(
    ("data", "headers"),
    [
        pytest.param(BIG, JSON, id="too-large"),
        pytest.param(b"{}", TEXT, id="wrong-type"),
        pytest.param(b"{", JSON, id="bad-json"),
        pytest.param(b'{"amount": "x"}', JSON, id="bad-field"),
    ],
)
def test_credentials_before_body(
    anon: Http, api: Http, data: bytes, headers: dict[str, str]
) -> None:
    assert_error(anon.post("/v1/payments", data=data, headers=headers), "api_key_missing")
    bad_key = {**headers, "Authorization": "Bearer sk_test_nope"}
    assert_error(anon.post("/v1/payments", data=data, headers=bad_key), "api_key_invalid")
    pid = _pid(api)
    assert_error(
        anon.post(f"/v1/payments/{pid}/pay?client_secret=wrong", data=data, headers=headers),
        "client_secret_invalid",
    )
    assert_error(
        anon.post(f"/v1/payments/{pid}/capture?client_secret=wrong", data=data, headers=headers),
        "api_key_missing",
    )


def test_credentials_before_query(anon: Http) -> None:
    assert_error(anon.get("/v1/payments?limit=1&limit=2"), "api_key_missing")
    assert_error(anon.get("/v1/payments?bogus=1"), "api_key_missing")
    assert_error(anon.get("/v1/payments?limit=0"), "api_key_missing")


def test_size_before_type_before_body(api: Http) -> None:
    assert_error(api.post("/v1/payments", data=BIG, headers=TEXT), "body_too_large")
    assert_error(api.post("/v1/payments", data=b"{", headers=TEXT), "content_type_unsupported")
    assert_error(api.post("/v1/payments", data=b"{" * 2_000_000, headers=JSON), "body_too_large")
    assert_error(api.post("/v1/payments", data=b"{", headers=JSON), "invalid_json")


def test_exactly_one_mebibyte_is_allowed(api: Http) -> None:
    body = b'{"description": "' + b"x" * (1024 * 1024 - 19) + b'"}'
    assert len(body) == 1024 * 1024
    error = assert_error(api.post("/v1/payments", data=body, headers=JSON), "parameter_missing")
    assert error["param"] == "amount"


def test_body_checks_before_resource_lookup(api: Http) -> None:
    missing = "/v1/payments/pay_" + "0" * 24 + "/pay"
    assert_error(api.post(missing, data=b"{", headers=JSON), "invalid_json")
    assert_error(api.post(missing, json={"outcome": "x"}), "parameter_invalid")
    assert_error(api.post(missing, json={"outcome": "succeed"}), "resource_missing")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "APPLICATION/JSON",
        "application/json; charset=utf-8",
        "Application/Json;charset=UTF-8",
    ],
)
def test_json_content_type_any_case(api: Http, content_type: str) -> None:
    response = api.post(
        "/v1/payments",
        data=b'{"amount": 5, "currency": "usd"}',
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "headers",
    [pytest.param({}, id="no-content-type"), pytest.param(TEXT, id="text-plain")],
)
def test_empty_body_reads_as_empty_object(api: Http, headers: dict[str, str]) -> None:
    error = assert_error(api.post("/v1/payments", data=b"", headers=headers), "parameter_missing")
    assert error["param"] == "amount"
    pid = _pid(api)
    assert api.ok("POST", f"/v1/payments/{pid}/cancel", data=b"", headers=headers)["status"] == (
        "canceled"
    )


# -- the API key ------------------------------------------------------------------------------


def test_bearer_and_basic_both_work(anon: Http, server: PaysimServer) -> None:
    key = server.api_key
    assert anon.get("/v1/payments", headers={"Authorization": f"Bearer {key}"}).ok
    assert anon.get("/v1/payments", headers={"Authorization": f"bearer {key}"}).ok
    assert anon.get("/v1/payments", auth=(key, "")).ok
    assert anon.get("/v1/payments", auth=(key, "anything")).ok
    basic_no_colon = base64.b64encode(key.encode()).decode()
    assert anon.get("/v1/payments", headers={"Authorization": f"Basic {basic_no_colon}"}).ok
    created = anon.post("/v1/payments", json={"amount": 1, "currency": "usd"}, auth=(key, ""))
    assert created.status_code == 201


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Bearer {key}x", id="key-plus-one"),
        pytest.param("Bearer {short}", id="key-minus-one"),
        pytest.param("Bearer {upper}", id="key-upper-case"),
        pytest.param("Token {key}", id="unknown-scheme"),
        pytest.param("{key}", id="no-scheme"),
        pytest.param("Bearer", id="bearer-alone"),
        pytest.param("Bearer ", id="bearer-empty"),
        pytest.param("Basic !!!notbase64", id="basic-garbage"),
        pytest.param("Basic {basic_wrong}", id="basic-wrong-user"),
        pytest.param("Basic {basic_password}", id="basic-key-as-password"),
        pytest.param("", id="empty-header"),
    ],
)
def test_wrong_key_is_401_and_never_echoed(
    anon: Http, server: PaysimServer, authorization: str
) -> None:
    key = server.api_key
    value = authorization.format(
        key=key,
        short=key[:-1],
        upper=key.upper(),
        basic_wrong=base64.b64encode(f"{key}x:".encode()).decode(),
        basic_password=base64.b64encode(f"user:{key}".encode()).decode(),
    )
    response = anon.get("/v1/payments", headers={"Authorization": value})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] in ("api_key_invalid", "api_key_missing")
    assert error["type"] == "authentication_error"
    assert key not in response.text
    assert key[8:] not in response.text
    assert "Bearer" not in (error["param"] or "")


def test_the_key_appears_in_no_error_at_all(api: Http, anon: Http, server: PaysimServer) -> None:
    key = server.api_key
    answers = [
        anon.get("/v1/payments", headers={"Authorization": f"Bearer {key}!"}),
        api.post("/v1/payments", json={key: 1}),
        api.post("/v1/payments", json={"amount": key, "currency": "usd"}),
        api.post("/v1/payments", json={"amount": 1, "currency": key}),
        api.get("/v1/payments", params={key: "1"}),
        api.get(f"/v1/payments/{key}"),
        api.get("/v1/payments", params={"starting_after": key[:40]}),
        api.post(
            "/v1/payments",
            json={"amount": 1, "currency": "usd"},
            headers={"Idempotency-Key": key + "\x01"},
        ),
    ]
    secret = api.create_payment()["client_secret"]
    answers += [
        api.post("/v1/payments", json={secret: 1}),
        api.get("/v1/payments", params={"starting_after": secret}),
        api.post("/v1/webhook_endpoints", json={"url": secret}),
    ]
    for response in answers:
        assert response.status_code >= 400
        assert key not in response.text, response.text
        assert secret not in response.text, response.text


# -- the client secret ------------------------------------------------------------------------


def test_client_secret_works_for_get_and_pay_of_its_payment(api: Http, anon: Http) -> None:
    payment = api.create_payment()
    pid, secret = payment["id"], payment["client_secret"]
    fetched = anon.get(f"/v1/payments/{pid}", params={"client_secret": secret})
    assert fetched.status_code == 200
    assert fetched.json()["id"] == pid
    paid = anon.post(f"/v1/payments/{pid}/pay", json={"outcome": "fail", "client_secret": secret})
    assert paid.status_code == 200
    assert paid.json()["status"] == "failed"
    paid = anon.post(
        f"/v1/payments/{pid}/pay", params={"client_secret": secret}, json={"outcome": "succeed"}
    )
    assert paid.status_code == 200
    assert paid.json()["status"] == "succeeded"


def test_client_secret_of_another_payment_is_403(api: Http, anon: Http) -> None:
    mine = api.create_payment()
    other = api.create_payment()["id"]
    secret = mine["client_secret"]
    for response in (
        anon.get(f"/v1/payments/{other}", params={"client_secret": secret}),
        anon.post(
            f"/v1/payments/{other}/pay", json={"outcome": "succeed", "client_secret": secret}
        ),
        anon.post(
            f"/v1/payments/{other}/pay", params={"client_secret": secret}, json={"outcome": "fail"}
        ),
        anon.get("/v1/payments/pay_" + "0" * 24, params={"client_secret": secret}),
        anon.get(f"/v1/payments/{other}", params={"client_secret": ""}),
    ):
        assert_error(response, "client_secret_invalid", param="client_secret")
        assert secret not in response.text
    assert api.ok("GET", f"/v1/payments/{other}")["status"] == "requires_payment_method"


@pytest.mark.parametrize(
    ("method", "path", "in_body"),
    [
        pytest.param("POST", "/v1/payments/{pid}/capture", True, id="capture"),
        pytest.param("POST", "/v1/payments/{pid}/refund", True, id="refund"),
        pytest.param("POST", "/v1/payments/{pid}/cancel", True, id="cancel"),
        pytest.param("POST", "/v1/payments/{pid}/capture", False, id="capture-query"),
        pytest.param("POST", "/v1/payments", True, id="create"),
        pytest.param("GET", "/v1/payments", False, id="list"),
        pytest.param("GET", "/v1/events", False, id="events"),
        pytest.param("GET", "/v1/refunds/re_x", False, id="refund-get"),
        pytest.param("GET", "/v1/webhook_deliveries", False, id="deliveries"),
        pytest.param("POST", "/v1/webhook_endpoints", True, id="endpoints"),
        pytest.param("POST", "/_paysim/reset", True, id="reset"),
        pytest.param("GET", "/_paysim/clock", False, id="clock"),
    ],
)
def test_client_secret_elsewhere_counts_as_no_credentials(
    api: Http, anon: Http, method: str, path: str, in_body: bool
) -> None:
    payment = api.payment_in("succeeded")
    url = path.format(pid=payment["id"])
    secret = payment["client_secret"]
    kwargs: dict[str, Any] = (
        {"json": {"client_secret": secret}} if in_body else {"params": {"client_secret": secret}}
    )
    before = api.ok("GET", f"/v1/payments/{payment['id']}")
    assert_error(anon.request(method, url, **kwargs), "api_key_missing")
    assert api.ok("GET", f"/v1/payments/{payment['id']}") == before


def test_header_control_characters_are_rejected(server: PaysimServer, api: Http) -> None:
    body = b'{"amount": 1, "currency": "usd"}'
    key = server.api_key.encode()
    for value in (key + b"\x00", key + b"\x01", b"\x7f" + key, key + b"\xff"):
        status, answer = raw_post(
            server,
            "/v1/payments",
            body,
            {"Authorization": b"Bearer " + value, "Content-Type": b"application/json"},
        )
        assert (status, answer["error"]["code"]) == (401, "api_key_invalid")
    assert api.ok("GET", "/v1/payments")["data"] == []

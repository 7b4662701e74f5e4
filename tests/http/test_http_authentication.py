"""3-D Secure over HTTP: ``POST /v1/payments/{id}/authenticate`` against the real server.

Credentials (the API key, the payment's own client secret in the body or the query), the
idempotency of the route, its errors (each leaving the simulator exactly as it was), the
OpenAPI document, forced ``requires_action`` through the control plane, the list filters,
and the signed webhooks of a 3-D Secure flow, in order.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from http_support import PAYMENT_FIELDS, Http, assert_error, state_of
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from pytest_paysim.core.cards import DECLINE_MESSAGES
from pytest_paysim.server import PaysimServer
from pytest_paysim.webhooks import verify

CARD_3184 = "4000002760003184"
CARD_3155 = "4000002500003155"
CARD_3178 = "4000008260003178"
GOOD_CARD = "4242424242424242"
RETURN_URL = "https://shop.test/orders/9/return"
WAIT_SECONDS = 5.0

REQUIRES_ACTION = "requires_action"
SUCCEED = {"outcome": "succeed"}


def key(name: str) -> dict[str, str]:
    return {"Idempotency-Key": name}


def path_of(payment_id: str) -> str:
    return f"/v1/payments/{payment_id}/authenticate"


def waiting(api: Http, *, card: str = CARD_3184, **params: Any) -> dict[str, Any]:
    """A new payment paid with a 3-D Secure card: in ``requires_action``."""
    payment = api.create_payment(**params)
    paid = api.pay(payment["id"], card_number=card)
    assert paid["status"] == REQUIRES_ACTION, paid
    return paid


def event_types(api: Http, payment_id: str) -> list[str]:
    listed = api.ok("GET", "/v1/events", params={"payment_id": payment_id, "limit": 100})
    return [event["type"] for event in reversed(listed["data"])]  # oldest first


def wait_until(probe: Callable[[], Any], *, timeout: float = WAIT_SECONDS) -> Any:
    """Poll ``probe()`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out after {timeout} s"
        time.sleep(0.02)


def auth_url(server: PaysimServer, payment: dict[str, Any]) -> str:
    return f"{server.url}/authenticate/{payment['id']}?client_secret={payment['client_secret']}"


# -- the route and its credentials -----------------------------------------------------------


@pytest.mark.parametrize(
    "credential",
    [
        pytest.param("api-key", id="api-key"),
        pytest.param("secret-in-body", id="secret-in-body"),
        pytest.param("secret-in-query", id="secret-in-query"),
        pytest.param("secret-in-both", id="secret-in-body-and-query"),
    ],
)
def test_authenticate_with_each_accepted_credential(api: Http, anon: Http, credential: str) -> None:
    payment = waiting(api, return_url=RETURN_URL)
    pid, secret = payment["id"], payment["client_secret"]
    body: dict[str, Any] = dict(SUCCEED)
    params: dict[str, str] = {}
    client = anon
    if credential == "api-key":
        client = api
    if credential in ("secret-in-body", "secret-in-both"):
        body["client_secret"] = secret
    if credential in ("secret-in-query", "secret-in-both"):
        params["client_secret"] = secret
    response = client.post(path_of(pid), json=body, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    done = response.json()
    assert set(done) == PAYMENT_FIELDS | {"next_action"}
    assert (done["id"], done["status"], done["amount_captured"]) == (pid, "succeeded", 2000)
    assert done["next_action"] is None
    assert done["return_url"] == RETURN_URL
    assert api.ok("GET", f"/v1/payments/{pid}") == done
    assert event_types(api, pid) == [
        "payment.created",
        "payment.requires_action",
        "payment.succeeded",
    ]


def test_the_customer_reads_next_action_with_the_client_secret(
    server: PaysimServer, api: Http, anon: Http
) -> None:
    payment = waiting(api, return_url=RETURN_URL)
    seen = anon.ok(
        "GET", f"/v1/payments/{payment['id']}", params={"client_secret": payment["client_secret"]}
    )
    assert seen["status"] == REQUIRES_ACTION
    assert seen["next_action"] == {
        "type": "redirect_to_url",
        "redirect_to_url": {"url": auth_url(server, payment), "return_url": RETURN_URL},
    }
    assert payment["next_action"] == seen["next_action"]


@pytest.mark.parametrize(
    ("where", "which", "code"),
    [
        pytest.param("body", "other", "client_secret_invalid", id="other-secret-in-body"),
        pytest.param("query", "other", "client_secret_invalid", id="other-secret-in-query"),
        pytest.param("body", "forged", "client_secret_invalid", id="forged-secret-in-body"),
        pytest.param("query", "empty", "client_secret_invalid", id="empty-secret-in-query"),
        pytest.param(None, None, "api_key_missing", id="no-credentials"),
        pytest.param("bad-key", None, "api_key_invalid", id="wrong-api-key"),
    ],
)
def test_wrong_credentials_are_refused_and_change_nothing(
    server: PaysimServer,
    api: Http,
    anon: Http,
    frozen: float,
    where: str | None,
    which: str | None,
    code: str,
) -> None:
    payment = waiting(api)
    other = api.create_payment()
    secret = {
        "other": other["client_secret"],
        "forged": payment["id"] + "_secret_0000000000000000000000",
        "empty": "",
        None: None,
    }[which]
    before = state_of(server)
    body: dict[str, Any] = dict(SUCCEED)
    params: dict[str, str] = {}
    headers: dict[str, str] = {}
    if where == "body":
        body["client_secret"] = secret
    elif where == "query":
        assert secret is not None
        params["client_secret"] = secret
    elif where == "bad-key":
        headers["Authorization"] = "Bearer sk_test_" + "x" * 24
    response = anon.post(path_of(payment["id"]), json=body, params=params, headers=headers)
    error = assert_error(response, code)
    if code == "client_secret_invalid":
        assert error["param"] == "client_secret"
    assert state_of(server) == before
    assert api.ok("GET", f"/v1/payments/{payment['id']}")["status"] == REQUIRES_ACTION


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        pytest.param("capture", {}, id="capture"),
        pytest.param("refund", {}, id="refund"),
        pytest.param("cancel", {}, id="cancel"),
    ],
)
def test_a_client_secret_cannot_capture_refund_or_cancel_a_waiting_payment(
    server: PaysimServer, api: Http, anon: Http, frozen: float, operation: str, body: dict[str, Any]
) -> None:
    payment = waiting(api)
    before = state_of(server)
    response = anon.post(
        f"/v1/payments/{payment['id']}/{operation}",
        json={**body, "client_secret": payment["client_secret"]},
    )
    assert_error(response, "api_key_missing")
    assert state_of(server) == before


# -- idempotency -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credential", [pytest.param("api-key", id="api-key"), pytest.param("secret", id="secret")]
)
def test_the_same_key_and_body_replays_and_authenticates_once(
    api: Http, anon: Http, credential: str
) -> None:
    payment = waiting(api)
    pid = payment["id"]
    client = api if credential == "api-key" else anon
    body = dict(SUCCEED)
    if credential == "secret":
        body["client_secret"] = payment["client_secret"]
    first = client.post(path_of(pid), json=body, headers=key("auth-1"))
    assert first.status_code == 200, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = client.post(path_of(pid), json=dict(reversed(body.items())), headers=key("auth-1"))
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert event_types(api, pid).count("payment.succeeded") == 1


@pytest.mark.parametrize(
    "second",
    [
        pytest.param({"outcome": "fail"}, id="other-outcome"),
        pytest.param({"outcome": "succeed", "client_secret": "x"}, id="extra-field"),
        pytest.param({}, id="empty-body"),
    ],
)
def test_the_same_key_with_another_body_is_422(api: Http, second: dict[str, Any]) -> None:
    payment = waiting(api)
    pid = payment["id"]
    first = api.ok("POST", path_of(pid), json=SUCCEED, headers=key("auth-2"))
    response = api.post(path_of(pid), json=second, headers=key("auth-2"))
    assert_error(response, "idempotency_key_reused")
    assert api.ok("GET", f"/v1/payments/{pid}") == first


def test_the_same_key_on_another_payment_is_422(api: Http) -> None:
    one, two = waiting(api), waiting(api)
    api.ok("POST", path_of(one["id"]), json=SUCCEED, headers=key("auth-3"))
    response = api.post(path_of(two["id"]), json=SUCCEED, headers=key("auth-3"))
    assert_error(response, "idempotency_key_reused")
    assert api.ok("GET", f"/v1/payments/{two['id']}")["status"] == REQUIRES_ACTION


def test_a_409_payment_unexpected_state_is_stored_and_replayed(api: Http) -> None:
    payment = api.create_payment()
    pid = payment["id"]
    refused = api.post(path_of(pid), json=SUCCEED, headers=key("auth-4"))
    error = assert_error(refused, "payment_unexpected_state")
    assert error["payment_id"] == pid
    assert "`requires_payment_method`" in error["message"]
    assert "Idempotent-Replayed" not in refused.headers
    # The payment now waits for authentication; the key still answers the stored 409.
    api.pay(pid, card_number=CARD_3184)
    replayed = api.post(path_of(pid), json=SUCCEED, headers=key("auth-4"))
    assert replayed.status_code == 409
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.content == refused.content
    assert api.ok("GET", f"/v1/payments/{pid}")["status"] == REQUIRES_ACTION
    # A new key runs.
    assert api.ok("POST", path_of(pid), json=SUCCEED, headers=key("auth-5"))["status"] == (
        "succeeded"
    )


def test_a_400_is_not_stored_under_the_key(api: Http) -> None:
    payment = waiting(api)
    bad = api.post(path_of(payment["id"]), json={"outcome": "maybe"}, headers=key("auth-6"))
    assert_error(bad, "parameter_invalid", param="outcome")
    fixed = api.post(path_of(payment["id"]), json=SUCCEED, headers=key("auth-6"))
    assert fixed.status_code == 200, fixed.text
    assert "Idempotent-Replayed" not in fixed.headers


def test_a_lost_response_is_replayed_and_authenticates_once(
    server: PaysimServer, api: Http
) -> None:
    assert server.simulator is not None
    payment = waiting(api, capture_method="manual")
    pid = payment["id"]
    api.ok(
        "POST",
        "/_paysim/faults",
        json={"method": "POST", "path": "/v1/payments/*/authenticate", "when": "after"},
    )
    lost = api.post(path_of(pid), json=SUCCEED, headers=key("auth-7"))
    assert_error(lost, "injected_fault", status=503, type="api_error")
    again = api.post(path_of(pid), json=SUCCEED, headers=key("auth-7"))
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["status"] == "authorized"
    assert event_types(api, pid) == [
        "payment.created",
        "payment.requires_action",
        "payment.authorized",
    ]


def test_concurrent_authentications_authenticate_once(api: Http, server: PaysimServer) -> None:
    payment = waiting(api)
    pid = payment["id"]
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def post(outcome: str) -> None:
        with Http(server, server.api_key) as client:
            barrier.wait(timeout=WAIT_SECONDS)
            statuses.append(client.post(path_of(pid), json={"outcome": outcome}).status_code)

    threads = [threading.Thread(target=post, args=(("succeed", "fail")[i % 2],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(statuses) == [200, 409, 409, 409, 409, 409]
    types = event_types(api, pid)
    assert types[:2] == ["payment.created", "payment.requires_action"]
    assert len(types) == 3
    assert types[2] in ("payment.succeeded", "payment.failed")


def test_an_authentication_left_behind_by_a_test_never_reaches_the_next(
    server: PaysimServer,
) -> None:
    """SPEC 10: test A's request, whose body still arrives when test B starts, changes nothing
    in B, although B's first payment has A's id and client secret (ids repeat after a reset)."""
    sim = server.simulator
    assert sim is not None
    sim.reset(seed=31)
    with Http(server, server.api_key) as api:
        in_a = waiting(api)
        body = json.dumps({"outcome": "succeed", "client_secret": in_a["client_secret"]}).encode()
        head = (
            f"POST {path_of(in_a['id'])} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT_SECONDS) as sock:
            sock.sendall(head + body[:10])
            time.sleep(0.3)
            sim.reset(seed=31)  # test B starts
            in_b = waiting(api)
            assert (in_b["id"], in_b["client_secret"]) == (in_a["id"], in_a["client_secret"])
            sock.sendall(body[10:])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 409 "), answer[:200]
        assert b'"simulator_reset"' in answer
        assert api.ok("GET", f"/v1/payments/{in_b['id']}")["status"] == REQUIRES_ACTION
        assert event_types(api, in_b["id"]) == ["payment.created", "payment.requires_action"]


# -- errors, each leaving everything as it was -------------------------------------------------

BAD_BODIES = [
    pytest.param({}, "parameter_missing", "outcome", id="missing-outcome"),
    pytest.param({"outcome": None}, "parameter_missing", "outcome", id="null-outcome"),
    pytest.param({"outcome": "maybe"}, "parameter_invalid", "outcome", id="unknown-outcome"),
    pytest.param({"outcome": "abandon"}, "parameter_invalid", "outcome", id="abandon"),
    pytest.param(
        {"outcome": REQUIRES_ACTION}, "parameter_invalid", "outcome", id="requires-action"
    ),
    pytest.param({"outcome": "Succeed"}, "parameter_invalid", "outcome", id="wrong-case"),
    pytest.param({"outcome": 1}, "parameter_invalid", "outcome", id="integer"),
    pytest.param({"outcome": True}, "parameter_invalid", "outcome", id="boolean"),
    pytest.param({"outcome": ["succeed"]}, "parameter_invalid", "outcome", id="list"),
    pytest.param(
        {"outcome": "succeed", "card_number": GOOD_CARD},
        "parameter_unknown",
        "card_number",
        id="unknown-card-number",
    ),
    pytest.param(
        {"outcome": "fail", "decline_code": "lost_card"},
        "parameter_unknown",
        "decline_code",
        id="unknown-decline-code",
    ),
    pytest.param(
        {"outcome": "succeed", "client_secret": 5},
        "parameter_invalid",
        "client_secret",
        id="secret-not-a-string",
    ),
]


@pytest.mark.parametrize(("body", "code", "param"), BAD_BODIES)
def test_a_bad_body_is_400_and_changes_nothing(
    server: PaysimServer, api: Http, frozen: float, body: dict[str, Any], code: str, param: str
) -> None:
    payment = waiting(api)
    before = state_of(server)
    response = api.post(path_of(payment["id"]), json=body, headers=key("bad-body"))
    assert_error(response, code, param=param)
    assert state_of(server) == before
    # Not stored under the key either: the fixed request runs.
    fixed = api.post(path_of(payment["id"]), json=SUCCEED, headers=key("bad-body"))
    assert fixed.status_code == 200, fixed.text


RAW_BAD = [
    pytest.param(b"", "application/json", "parameter_missing", id="no-body"),
    pytest.param(b'{"outcome": "succeed"', "application/json", "invalid_json", id="truncated"),
    pytest.param(b'["succeed"]', "application/json", "invalid_json", id="not-an-object"),
    pytest.param(
        b'{"outcome": "succeed", "outcome": "fail"}',
        "application/json",
        "invalid_json",
        id="duplicate-key",
    ),
    pytest.param(
        b"outcome=succeed",
        "application/x-www-form-urlencoded",
        "content_type_unsupported",
        id="form",
    ),
    pytest.param(b'{"outcome": "\\ud800"}', "application/json", "invalid_json", id="surrogate"),
]


@pytest.mark.parametrize(("raw", "content_type", "code"), RAW_BAD)
def test_malformed_input_is_4xx_and_changes_nothing(
    server: PaysimServer, api: Http, frozen: float, raw: bytes, content_type: str, code: str
) -> None:
    payment = waiting(api)
    before = state_of(server)
    response = api.post(path_of(payment["id"]), data=raw, headers={"Content-Type": content_type})
    assert_error(response, code)
    assert state_of(server) == before


def test_an_unknown_query_parameter_is_400(server: PaysimServer, api: Http, frozen: float) -> None:
    payment = waiting(api)
    before = state_of(server)
    response = api.post(path_of(payment["id"]), json=SUCCEED, params={"outcome": "succeed"})
    assert_error(response, "parameter_unknown", param="outcome")
    assert state_of(server) == before


def test_an_unknown_payment_is_404(server: PaysimServer, api: Http, frozen: float) -> None:
    waiting(api)
    before = state_of(server)
    response = api.post(path_of("pay_000000000000000000000000"), json=SUCCEED, headers=key("k"))
    assert_error(response, "resource_missing", param="id")
    assert state_of(server) == before


@pytest.mark.parametrize(
    "method", [pytest.param(m, id=m.lower()) for m in ("GET", "PUT", "DELETE")]
)
def test_other_methods_on_the_route_are_405(api: Http, method: str) -> None:
    payment = waiting(api)
    response = api.request(method, path_of(payment["id"]))
    assert_error(response, "method_not_allowed")
    assert response.headers["Allow"] == "POST"


def _bring_to(api: Http, status: str) -> dict[str, Any]:
    if status == "failed-by-authentication":
        payment = waiting(api)
        return api.ok("POST", path_of(payment["id"]), json={"outcome": "fail"})
    if status == "authenticated":
        payment = waiting(api)
        return api.ok("POST", path_of(payment["id"]), json=SUCCEED)
    if status == "canceled":
        payment = waiting(api)
        return api.ok("POST", f"/v1/payments/{payment['id']}/cancel", json={})
    return api.payment_in(status)


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        pytest.param("requires_payment_method", "requires_payment_method", id="new"),
        pytest.param("failed", "failed", id="failed"),
        pytest.param("authorized", "authorized", id="authorized"),
        pytest.param("succeeded", "succeeded", id="succeeded"),
        pytest.param("captured", "captured", id="captured"),
        pytest.param("refunded", "refunded", id="refunded"),
        pytest.param("canceled", "canceled", id="canceled-from-requires-action"),
        pytest.param("failed-by-authentication", "failed", id="failed-by-authentication"),
        pytest.param("authenticated", "succeeded", id="already-authenticated"),
    ],
)
def test_authenticate_outside_requires_action_is_409_and_changes_nothing(
    server: PaysimServer, api: Http, frozen: float, status: str, shown: str
) -> None:
    payment = _bring_to(api, status)
    assert payment["status"] == shown
    before = state_of(server)
    response = api.post(path_of(payment["id"]), json={"outcome": "fail"})
    error = assert_error(response, "payment_unexpected_state")
    assert error["payment_id"] == payment["id"]
    assert f"`{shown}`" in error["message"]
    assert state_of(server) == before


@pytest.mark.parametrize(
    ("operation", "body", "status"),
    [
        pytest.param("pay", {"outcome": "succeed"}, 409, id="pay"),
        pytest.param("pay", {"card_number": CARD_3155}, 409, id="pay-3ds-card"),
        pytest.param("capture", {}, 409, id="capture"),
        pytest.param("refund", {}, 409, id="refund"),
        pytest.param("refund", {"amount": 1}, 409, id="refund-part"),
    ],
)
def test_other_operations_in_requires_action_are_409_and_change_nothing(
    server: PaysimServer,
    api: Http,
    frozen: float,
    operation: str,
    body: dict[str, Any],
    status: int,
) -> None:
    payment = waiting(api)
    before = state_of(server)
    response = api.post(f"/v1/payments/{payment['id']}/{operation}", json=body)
    error = assert_error(response, "payment_unexpected_state", status=status)
    assert "`requires_action`" in error["message"]
    assert error["payment_id"] == payment["id"]
    assert state_of(server) == before


def test_a_pay_error_does_not_suggest_an_outcome_pay_refuses(api: Http) -> None:
    """SPEC 5: the message says what to change; pay itself never takes ``requires_action``."""
    payment = api.create_payment()
    response = api.post(
        f"/v1/payments/{payment['id']}/pay",
        json={"outcome": "succeed", "decline_code": "lost_card"},
    )
    error = assert_error(response, "parameter_invalid", param="decline_code")
    assert "fail" in error["message"]
    assert REQUIRES_ACTION not in error["message"], error["message"]
    refused = api.post(
        f"/v1/payments/{payment['id']}/pay",
        json={"outcome": REQUIRES_ACTION, "decline_code": "lost_card"},
    )
    assert_error(refused, "parameter_invalid", param="outcome")


# -- lists ---------------------------------------------------------------------------------


def test_lists_filter_on_requires_action(api: Http) -> None:
    done = api.payment_in("succeeded")
    first, second = waiting(api), waiting(api, card=CARD_3178)
    listed = api.ok("GET", "/v1/payments", params={"status": REQUIRES_ACTION})
    assert [p["id"] for p in listed["data"]] == [second["id"], first["id"]]
    events = api.ok("GET", "/v1/events", params={"type": "payment.requires_action"})
    assert [e["data"]["object"]["id"] for e in events["data"]] == [second["id"], first["id"]]
    assert all(e["data"]["object"]["next_action"] for e in events["data"])
    assert done["id"] not in json.dumps(events)


# -- /openapi.json -----------------------------------------------------------------------------


def test_openapi_describes_the_route_and_next_action(api: Http, anon: Http) -> None:
    document = anon.ok("GET", "/openapi.json")
    operation = document["paths"]["/v1/payments/{id}/authenticate"]["post"]
    assert set(document["paths"]["/v1/payments/{id}/authenticate"]) == {"post"}
    assert operation["operationId"] == "authenticate_payment"
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["outcome"]["enum"] == ["succeed", "fail"]
    assert body["required"] == ["outcome"]
    assert body["additionalProperties"] is False
    assert "client_secret" in body["properties"]
    assert {p["name"] for p in operation["parameters"]} >= {
        "id",
        "client_secret",
        "Idempotency-Key",
    }
    responses = operation["responses"]
    assert {"200", "400", "401", "403", "404", "405", "409", "415", "422"} <= set(responses)
    success = responses["200"]["content"]["application/json"]["schema"]
    assert success == {"$ref": "#/components/schemas/Payment"}

    schemas = document["components"]["schemas"]
    payment_schema = schemas["Payment"]
    assert REQUIRES_ACTION in payment_schema["properties"]["status"]["enum"]
    assert "next_action" in payment_schema["required"]
    options = payment_schema["properties"]["next_action"]["oneOf"]
    assert {"type": "null"} in options
    redirect = next(o for o in options if o.get("type") == "object")
    assert redirect["properties"]["type"] == {"const": "redirect_to_url"}
    assert set(redirect["properties"]["redirect_to_url"]["properties"]) == {"url", "return_url"}
    assert "payment.requires_action" in schemas["Event"]["properties"]["type"]["enum"]
    forced = document["paths"]["/_paysim/outcomes"]["post"]["requestBody"]["content"]
    assert REQUIRES_ACTION in forced["application/json"]["schema"]["properties"]["outcome"]["enum"]
    # A real payment in requires_action has exactly the documented fields.
    payment = waiting(api)
    assert set(payment) == set(payment_schema["properties"])
    assert set(payment["next_action"]) == set(redirect["properties"])


# -- forced requires_action through the control plane --------------------------------------


@pytest.mark.parametrize(
    "request_body",
    [
        pytest.param({"card_number": GOOD_CARD}, id="good-card"),
        pytest.param({"outcome": "succeed"}, id="outcome-succeed"),
        pytest.param({"outcome": "fail", "decline_code": "stolen_card"}, id="outcome-fail"),
        pytest.param({}, id="nothing-asked"),
    ],
)
def test_a_global_forced_requires_action(
    server: PaysimServer, api: Http, request_body: dict[str, Any]
) -> None:
    state = api.ok("POST", "/_paysim/outcomes", json={"outcome": REQUIRES_ACTION})
    assert state["outcomes"] == [
        {
            "outcome": REQUIRES_ACTION,
            "times": 1,
            "payment_id": None,
            "decline_code": None,
            "required": True,
            "used": 0,
        }
    ]
    payment = api.create_payment(return_url=RETURN_URL)
    paid = api.ok("POST", f"/v1/payments/{payment['id']}/pay", json=request_body)
    assert paid["status"] == REQUIRES_ACTION
    assert paid["next_action"]["redirect_to_url"] == {
        "url": auth_url(server, payment),
        "return_url": RETURN_URL,
    }
    assert api.ok("GET", "/_paysim/state")["outcomes"] == []
    done = api.ok("POST", path_of(payment["id"]), json=SUCCEED)
    assert (done["status"], done["decline_code"]) == ("succeeded", None)


def test_a_per_payment_forced_requires_action(api: Http) -> None:
    target, other = api.create_payment(), api.create_payment()
    api.ok(
        "POST",
        "/_paysim/outcomes",
        json={"outcome": REQUIRES_ACTION, "payment_id": target["id"], "times": None},
    )
    assert api.pay(other["id"], card_number=GOOD_CARD)["status"] == "succeeded"
    assert api.pay(target["id"], card_number=GOOD_CARD)["status"] == REQUIRES_ACTION
    api.ok("POST", path_of(target["id"]), json={"outcome": "fail"})
    # times=None: the retry needs authentication again.
    assert api.pay(target["id"], card_number=GOOD_CARD)["status"] == REQUIRES_ACTION


@pytest.mark.parametrize(
    "payment_scoped", [pytest.param(False, id="global"), pytest.param(True, id="per-payment")]
)
def test_a_forced_requires_action_with_a_decline_code(api: Http, payment_scoped: bool) -> None:
    payment = api.create_payment()
    body: dict[str, Any] = {"outcome": REQUIRES_ACTION, "decline_code": "lost_card"}
    if payment_scoped:
        body["payment_id"] = payment["id"]
    api.ok("POST", "/_paysim/outcomes", json=body)
    paid = api.pay(payment["id"], card_number=GOOD_CARD)
    assert (paid["status"], paid["decline_code"]) == (REQUIRES_ACTION, None)
    declined = api.ok("POST", path_of(payment["id"]), json=SUCCEED)
    assert declined["status"] == "failed"
    assert (declined["failure_code"], declined["decline_code"]) == ("card_declined", "lost_card")
    assert declined["failure_message"] == DECLINE_MESSAGES["lost_card"]


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        pytest.param(
            {"outcome": REQUIRES_ACTION, "decline_code": "nope"},
            "parameter_invalid",
            "decline_code",
            id="unknown-decline-code",
        ),
        pytest.param(
            {"outcome": "requires_authentication"},
            "parameter_invalid",
            "outcome",
            id="unknown-outcome",
        ),
        pytest.param(
            {"refund_outcome": "fail", "decline_code": "lost_card"},
            "parameter_invalid",
            "refund_outcome",
            id="decline-code-with-refund",
        ),
    ],
)
def test_a_bad_forced_outcome_is_400_and_changes_nothing(
    server: PaysimServer, api: Http, frozen: float, body: dict[str, Any], code: str, param: str
) -> None:
    before = state_of(server)
    response = api.post("/_paysim/outcomes", json=body)
    assert_error(response, code, param=param)
    assert state_of(server) == before


# -- webhooks ------------------------------------------------------------------------------


class Receiver:
    """A webhook receiver on loopback that keeps every request it gets."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.received.append(
                {"path": request.path, "body": request.get_data(), "headers": dict(request.headers)}
            )
        return Response("{}", status=200, content_type="application/json")(environ, start_response)

    def wait_for(self, path: str, count: int) -> list[dict[str, Any]]:
        def enough() -> list[dict[str, Any]]:
            with self.lock:
                found = [r for r in self.received if r["path"] == path]
            return found if len(found) >= count else []

        found: list[dict[str, Any]] = wait_until(enough)
        return found


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    made.thread.start()
    yield made
    made.server.shutdown()
    made.server.server_close()
    made.thread.join(2)


FLOWS = [
    pytest.param(CARD_3184, "automatic", "succeed", "payment.succeeded", "succeeded", id="3184"),
    pytest.param(CARD_3155, "manual", "succeed", "payment.authorized", "authorized", id="3155"),
    pytest.param(CARD_3178, "automatic", "succeed", "payment.failed", "failed", id="3178"),
    pytest.param(CARD_3184, "automatic", "fail", "payment.failed", "failed", id="auth-fail"),
]


@pytest.mark.parametrize(("card", "capture_method", "outcome", "last", "status"), FLOWS)
def test_webhooks_of_a_3ds_flow_arrive_in_order_and_signed(
    server: PaysimServer,
    api: Http,
    receiver: Receiver,
    request: pytest.FixtureRequest,
    card: str,
    capture_method: str,
    outcome: str,
    last: str,
    status: str,
) -> None:
    path = "/hooks/" + request.node.callspec.id
    payment = waiting(
        api,
        card=card,
        capture_method=capture_method,
        metadata={"webhook_url": receiver.url + path},
        return_url=RETURN_URL,
    )
    api.ok("POST", path_of(payment["id"]), json={"outcome": outcome})
    received = receiver.wait_for(path, 3)
    assert len(received) == 3
    events = [verify(r["body"], r["headers"], server.webhook_secret) for r in received]
    assert [e["type"] for e in events] == ["payment.created", "payment.requires_action", last]
    assert [e["data"]["object"]["status"] for e in events] == [
        "requires_payment_method",
        REQUIRES_ACTION,
        status,
    ]
    assert events[1]["data"]["object"]["next_action"] == {
        "type": "redirect_to_url",
        "redirect_to_url": {"url": auth_url(server, payment), "return_url": RETURN_URL},
    }
    assert events[0]["data"]["object"]["next_action"] is None
    assert events[2]["data"]["object"]["next_action"] is None
    for item in received:
        assert item["headers"]["Paysim-Delivery-Attempt"] == "1"
        assert item["headers"]["Paysim-Event-Id"] == json.loads(item["body"])["id"]
    if outcome == "fail":
        assert events[2]["data"]["object"]["failure_code"] == "authentication_failed"
        assert events[2]["data"]["object"]["decline_code"] is None
    deliveries = api.ok(
        "GET", "/v1/webhook_deliveries", params={"payment_id": payment["id"], "limit": 100}
    )["data"]
    assert sorted(d["type"] for d in deliveries) == sorted(e["type"] for e in events)
    assert all(d["succeeded"] for d in deliveries)


def test_captured_deliveries_of_a_3ds_flow_are_in_the_log_in_order_and_signed(
    server: PaysimServer, api: Http
) -> None:
    sim = server.simulator
    assert sim is not None
    payment = waiting(api, card=CARD_3178)
    api.ok("POST", path_of(payment["id"]), json=SUCCEED)
    attempts = [a for a in sim.attempts() if a.payment_id == payment["id"]]
    assert [a.type for a in attempts] == [
        "payment.created",
        "payment.requires_action",
        "payment.failed",
    ]
    for attempt in attempts:
        assert attempt.url is None  # captured, not sent
        assert attempt.succeeded is None
        event = verify(attempt.body, attempt.headers, server.webhook_secret)
        assert event["id"] == attempt.event_id
    failed = json.loads(attempts[-1].body)["data"]["object"]
    assert (failed["decline_code"], failed["next_action"]) == ("insufficient_funds", None)


def test_an_endpoint_can_subscribe_to_requires_action_only(
    server: PaysimServer, api: Http, receiver: Receiver
) -> None:
    endpoint = api.ok(
        "POST",
        "/v1/webhook_endpoints",
        201,
        json={"url": receiver.url + "/only-3ds", "enabled_events": ["payment.requires_action"]},
    )
    payment = waiting(api)
    api.ok("POST", path_of(payment["id"]), json=SUCCEED)
    (only,) = receiver.wait_for("/only-3ds", 1)
    event = verify(only["body"], only["headers"], endpoint["secret"])
    assert (event["type"], event["data"]["object"]["id"]) == (
        "payment.requires_action",
        payment["id"],
    )
    time.sleep(0.2)  # nothing else comes
    with receiver.lock:
        assert [r for r in receiver.received if r["path"] == "/only-3ds"] == [only]


def test_deliveries_are_filtered_by_the_requires_action_type(api: Http) -> None:
    payment = waiting(api)
    deliveries = api.ok(
        "GET", "/v1/webhook_deliveries", params={"type": "payment.requires_action"}
    )["data"]
    assert [(d["type"], d["payment_id"]) for d in deliveries] == [
        ("payment.requires_action", payment["id"])
    ]

"""Edges found in review: paging of every list, clock range, idempotency of 400s, server
properties that follow the running test's scheme, and the OpenAPI 400s."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_paysim import PaysimServer
from pytest_paysim.http.routes import ROUTES
from tests.support.http import Http, assert_error


def test_webhook_endpoints_page_newest_first(api: Http) -> None:
    made = [
        api.ok("POST", "/v1/webhook_endpoints", 201, json={"url": f"http://127.0.0.1:9/{n}"})
        for n in range(3)
    ]
    newest_first = [endpoint["id"] for endpoint in reversed(made)]
    page = api.ok("GET", "/v1/webhook_endpoints", params={"limit": 2})
    assert [item["id"] for item in page["data"]] == newest_first[:2]
    assert page["has_more"] is True
    rest = api.ok(
        "GET", "/v1/webhook_endpoints", params={"limit": 2, "starting_after": newest_first[1]}
    )
    assert [item["id"] for item in rest["data"]] == newest_first[2:]
    assert rest["has_more"] is False
    assert all("secret" not in item for item in page["data"] + rest["data"])
    assert_error(
        api.get("/v1/webhook_endpoints", params={"starting_after": "we_x"}),
        "parameter_invalid",
        param="starting_after",
    )
    assert_error(api.get("/v1/webhook_endpoints", params={"limit": 0}), "parameter_invalid")


def test_webhook_deliveries_page_with_starting_after(api: Http) -> None:
    payment = api.create_payment(amount=100, currency="usd")
    api.pay(payment["id"], outcome="succeed")
    everything = api.ok("GET", "/v1/webhook_deliveries", params={"limit": 100})["data"]
    assert len(everything) == 2
    first = api.ok("GET", "/v1/webhook_deliveries", params={"limit": 1})
    assert first["has_more"] is True
    second = api.ok(
        "GET",
        "/v1/webhook_deliveries",
        params={"limit": 1, "starting_after": first["data"][0]["id"]},
    )
    assert [item["id"] for item in first["data"] + second["data"]] == [
        item["id"] for item in everything
    ]
    assert second["has_more"] is False


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"freeze": "0001-01-01T00:00:00+01:00"}, id="year-1"),
        pytest.param({"freeze": "0999-06-01T00:00:00Z"}, id="before-1970"),
        pytest.param({"freeze": "9999-01-01T00:00:00Z"}, id="year-9999"),
    ],
)
def test_clock_outside_1970_to_9000_is_refused(api: Http, body: dict[str, Any]) -> None:
    assert_error(api.post("/_paysim/clock", json=body), "parameter_invalid", param="freeze")
    assert_error(api.post("/_paysim/reset", json={"clock": body["freeze"]}), "parameter_invalid")
    assert api.ok("GET", "/_paysim/clock")["frozen"] is False


def test_times_have_four_digit_years(api: Http) -> None:
    api.ok("POST", "/_paysim/clock", json={"freeze": "1970-01-01T00:00:00.5Z"})
    payment = api.create_payment(amount=100, currency="usd")
    assert payment["created_at"] == "1970-01-01T00:00:00.500Z"


def test_a_400_is_not_stored_under_its_idempotency_key(api: Http) -> None:
    payment = api.payment_in("succeeded", amount=100, currency="usd")
    path = f"/v1/payments/{payment['id']}/refund"
    headers = {"Idempotency-Key": "refund-1"}
    assert_error(api.post(path, json={"amount": 1000}, headers=headers), "amount_too_large")
    fixed = api.post(path, json={"amount": 50}, headers=headers)
    assert fixed.status_code == 201, fixed.text
    assert "Idempotent-Replayed" not in fixed.headers
    again = api.post(path, json={"amount": 50}, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == fixed.json()


def test_a_409_state_refusal_is_stored_and_replayed(api: Http) -> None:
    payment = api.create_payment(amount=100, currency="usd")
    path = f"/v1/payments/{payment['id']}/capture"
    headers = {"Idempotency-Key": "capture-1"}
    first = api.post(path, json={}, headers=headers)
    assert_error(first, "payment_unexpected_state")
    again = api.post(path, json={}, headers=headers)
    assert again.status_code == 409
    assert again.headers["Idempotent-Replayed"] == "true"


def test_fault_method_is_any_case(api: Http) -> None:
    api.ok("POST", "/_paysim/faults", json={"method": "post", "path": "/v1/payments"})
    faulted = api.post("/v1/payments", json={"amount": 1, "currency": "usd"})
    assert_error(faulted, "injected_fault", status=503, type="api_error")
    assert_error(
        api.post("/_paysim/faults", json={"method": "FETCH"}), "parameter_invalid", param="method"
    )


def test_server_secrets_follow_the_scheme_in_force(server: PaysimServer) -> None:
    assert server.simulator is not None
    server.simulator.reset(signature="ed25519")
    try:
        assert server.signature == "ed25519"
        assert server.webhook_secret.startswith("whsk_")
        assert server.webhook_public_key is not None
        assert server.webhook_public_key.startswith("whpk_")
    finally:
        server.simulator.reset()
    assert server.webhook_secret.startswith("whsec_")
    assert server.webhook_public_key is None


def test_openapi_documents_400_on_every_route(api: Http) -> None:
    document = api.ok("GET", "/openapi.json")
    for route in ROUTES:
        if route.html:
            continue
        path = route.path.replace("<id>", "{id}")
        responses = document["paths"][path][route.method.lower()]["responses"]
        assert "400" in responses, (route.method, route.path)
        answer = api.request(route.method, route.path.replace("<id>", "x") + "?zz=1")
        assert_error(answer, "parameter_unknown", param="zz")

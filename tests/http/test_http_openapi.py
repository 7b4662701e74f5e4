"""``/openapi.json`` of the live server: it documents exactly the JSON routes, their bodies
and errors, and schemathesis finds no 5xx and no answer outside the document."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from pytest_paysim.http.routes import ROUTES
from pytest_paysim.server import PaysimServer
from tests.support.http import Http

JSON_ROUTES = [route for route in ROUTES if not route.html]


def _openapi_path(path: str) -> str:
    return re.sub(r"<(\w+)>", r"{\1}", path)


@pytest.fixture
def document(anon: Http) -> dict[str, Any]:
    result: dict[str, Any] = anon.ok("GET", "/openapi.json")
    return result


def test_documents_exactly_the_json_routes(document: dict[str, Any]) -> None:
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    routed = {(route.method, _openapi_path(route.path)) for route in JSON_ROUTES}
    assert documented == routed
    assert not any(path.startswith(("/pay/", "/dashboard")) for path in document["paths"])


def test_is_openapi_3_1_with_this_server(document: dict[str, Any], server: PaysimServer) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": server.url}]
    assert {"bearer", "basic"} <= set(document["components"]["securitySchemes"])


@pytest.mark.parametrize("route", [pytest.param(r, id=f"{r.method} {r.path}") for r in JSON_ROUTES])
def test_each_operation_documents_its_success_body_and_errors(
    document: dict[str, Any], route: Any
) -> None:
    operation = document["paths"][_openapi_path(route.path)][route.method.lower()]
    responses = operation["responses"]
    success = responses[str(route.status)]["content"]["application/json"]["schema"]
    assert success == {"$ref": f"#/components/schemas/{route.response}"}
    assert route.response in document["components"]["schemas"]
    errors = {int(status) for status in responses if int(status) >= 400}
    assert {404, 405} <= errors
    if route.auth != "none":
        assert 401 in errors
    if route.auth == "key_or_secret":
        assert 403 in errors
    if route.body is not None:
        assert {400, 413, 415} <= errors
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert set(schema["properties"]) == {param.name for param in route.body.fields}
        assert schema["additionalProperties"] is False
    else:
        assert "requestBody" not in operation
    if route.idempotent:
        assert {409, 422} <= errors
        assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}
    query = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert query == {param.name for param in route.query.fields}
    for status in errors:
        error_schema = responses[str(status)]["content"]["application/json"]["schema"]
        assert error_schema == {"$ref": "#/components/schemas/Error"}


# -- schemathesis -----------------------------------------------------------------------------

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
FUZZED = [
    pytest.param(route, id=f"{route.method} {route.path}")
    for route in JSON_ROUTES
    # Injecting faults would make every later answer a (documented) 5xx on purpose.
    if route.endpoint != "control_faults"
]


@pytest.fixture(scope="module")
def schema(server: PaysimServer) -> Any:
    return schemathesis.openapi.from_url(server.url + "/openapi.json")


@pytest.mark.parametrize("route", FUZZED)
def test_schemathesis(schema: Any, server: PaysimServer, route: Any) -> None:
    operation = schema[_openapi_path(route.path)][route.method]
    headers = {"Authorization": f"Bearer {server.api_key}"}
    has_input = route.body is not None or route.query.fields or "<" in route.path
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if has_input else [])
    for mode in modes:

        @settings(
            max_examples=20 // len(modes),
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            response = case.call(base_url=server.url, headers=headers, timeout=10)
            case.validate_response(response, checks=CHECKS)

        check()


def test_real_answers_of_a_whole_flow_match_the_document(
    schema: Any, server: PaysimServer, api: Http
) -> None:
    """Schemathesis mostly meets random ids (404s); here every success body is checked."""
    headers = {"Authorization": f"Bearer {server.api_key}"}
    seen: set[tuple[str, str]] = set()

    def call(method: str, path: str, body: Any = None, **path_parameters: str) -> Any:
        operation = schema[path][method]
        kwargs: dict[str, Any] = {"path_parameters": path_parameters}
        if body is not None:
            kwargs["body"] = body
            kwargs["media_type"] = "application/json"
        case = operation.Case(**kwargs)
        response = case.call(base_url=server.url, headers=headers, timeout=10)
        assert response.status_code < 400, response.text
        case.validate_response(response, checks=CHECKS)
        seen.add((method.upper(), path))
        return response.json()

    call("GET", "/health")
    call("GET", "/openapi.json")
    manual = call(
        "POST",
        "/v1/payments",
        {
            "amount": 3000,
            "currency": "eur",
            "capture_method": "manual",
            "description": "d",
            "metadata": {"a": "b"},
        },
    )
    call("GET", "/v1/payments/{id}", id=manual["id"])
    call("POST", "/v1/payments/{id}/pay", {"outcome": "succeed"}, id=manual["id"])
    call("POST", "/v1/payments/{id}/capture", {"amount": 2000}, id=manual["id"])
    refund = call(
        "POST", "/v1/payments/{id}/refund", {"amount": 500, "reason": "duplicate"}, id=manual["id"]
    )
    call("GET", "/v1/refunds/{id}", id=refund["id"])
    other = call("POST", "/v1/payments", {"amount": 100, "currency": "usd"})
    call("POST", "/v1/payments/{id}/pay", {"outcome": "fail"}, id=other["id"])
    secure = call("POST", "/v1/payments", {"amount": 700, "currency": "eur"})
    waiting = call(
        "POST", "/v1/payments/{id}/pay", {"card_number": "4000002760003184"}, id=secure["id"]
    )
    assert waiting["next_action"]["type"] == "redirect_to_url"
    call("POST", "/v1/payments/{id}/authenticate", {"outcome": "succeed"}, id=secure["id"])
    call("POST", "/v1/payments/{id}/cancel", {"cancellation_reason": "abandoned"}, id=other["id"])
    call("GET", "/v1/payments")
    events = call("GET", "/v1/events")
    call("GET", "/v1/events/{id}", id=events["data"][0]["id"])
    endpoint = call("POST", "/v1/webhook_endpoints", {"url": "http://127.0.0.1:9/x"})
    call("GET", "/v1/webhook_endpoints")
    call("DELETE", "/v1/webhook_endpoints/{id}", id=endpoint["id"])
    deliveries = call("GET", "/v1/webhook_deliveries")
    assert deliveries["data"]
    call("POST", "/_paysim/outcomes", {"outcome": "fail", "times": None})
    call("DELETE", "/_paysim/outcomes")
    call("POST", "/_paysim/faults", {"path": "/nowhere"})
    call("DELETE", "/_paysim/faults")
    call("POST", "/_paysim/clock", {"advance": 5})
    call("GET", "/_paysim/clock")
    call("GET", "/_paysim/state")
    call("GET", "/_paysim/deliveries")
    calls = call("GET", "/_paysim/calls")
    assert calls["data"][0]["path"] == "/v1/payments"
    every = call("GET", "/_paysim/payments")
    assert {payment["dialect"] for payment in every["data"]} == {"native"}
    call("POST", "/_paysim/rotate_webhook_secret", {})
    call("POST", "/_paysim/reset", {})
    assert seen == {(r.method, _openapi_path(r.path)) for r in JSON_ROUTES}

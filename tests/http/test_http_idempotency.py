"""Idempotency keys over HTTP (SPEC section 6): replays, reuse, what is stored and what is
not, scope, expiry on the simulator clock, and a duplicate that arrives while the first runs."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests

from tests.support.http import Http, assert_error

CREATE = {"amount": 1999, "currency": "usd"}


def key(name: str) -> dict[str, str]:
    return {"Idempotency-Key": name}


def count(api: Http, path: str = "/v1/payments", **params: Any) -> int:
    return len(api.ok("GET", path, params={"limit": 100, **params})["data"])


def test_replay_returns_the_stored_answer_byte_for_byte(api: Http) -> None:
    first = api.post("/v1/payments", json=CREATE, headers=key("create-1"))
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = api.post("/v1/payments", json=CREATE, headers=key("create-1"))
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert count(api) == 1
    assert count(api, "/v1/events") == 1


def test_key_order_and_spacing_do_not_matter(api: Http) -> None:
    first = api.post("/v1/payments", json={"amount": 5, "currency": "usd"}, headers=key("k"))
    reordered = api.post(
        "/v1/payments",
        data=b'{ "currency" : "usd",\n  "amount" : 5 }',
        headers={**key("k"), "Content-Type": "application/json"},
    )
    assert reordered.status_code == 201
    assert reordered.headers["Idempotent-Replayed"] == "true"
    assert reordered.json() == first.json()
    assert count(api) == 1


@pytest.mark.parametrize(
    "second",
    [
        pytest.param({"amount": 6, "currency": "usd"}, id="other-value"),
        pytest.param({"amount": 5, "currency": "USD"}, id="other-case"),
        pytest.param({"amount": 5, "currency": "usd", "description": "x"}, id="extra-field"),
        pytest.param({"amount": 5}, id="missing-field"),
    ],
)
def test_reuse_with_another_body_is_422(api: Http, second: dict[str, Any]) -> None:
    api.ok("POST", "/v1/payments", 201, json={"amount": 5, "currency": "usd"}, headers=key("k"))
    assert_error(api.post("/v1/payments", json=second, headers=key("k")), "idempotency_key_reused")
    assert count(api) == 1


def test_reuse_on_another_path_is_422(api: Http) -> None:
    one, two = api.create_payment()["id"], api.create_payment()["id"]
    body = {"outcome": "abandon"}
    api.ok("POST", f"/v1/payments/{one}/pay", json=body, headers=key("pay"))
    reused = api.post(f"/v1/payments/{two}/pay", json=body, headers=key("pay"))
    assert_error(reused, "idempotency_key_reused", param="Idempotency-Key")
    reused = api.post(f"/v1/payments/{one}/cancel", json={}, headers=key("pay"))
    assert_error(reused, "idempotency_key_reused")
    assert count(api, "/v1/events", payment_id=two) == 1
    assert api.ok("GET", f"/v1/payments/{one}")["status"] == "requires_payment_method"


def test_a_409_state_error_is_stored_and_replayed(api: Http) -> None:
    pid = api.create_payment(capture_method="manual")["id"]
    first = api.post(f"/v1/payments/{pid}/capture", json={}, headers=key("cap"))
    assert_error(first, "payment_unexpected_state")
    api.pay(pid)  # now authorized: a fresh capture would succeed
    again = api.post(f"/v1/payments/{pid}/capture", json={}, headers=key("cap"))
    assert_error(again, "payment_unexpected_state")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert api.ok("GET", f"/v1/payments/{pid}")["status"] == "authorized"


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"amount": 0, "currency": "usd"}, id="out-of-range"),
        pytest.param({"currency": "usd"}, id="missing"),
        pytest.param({"amount": 5, "currency": "usd", "x": 1}, id="unknown"),
    ],
)
def test_a_400_validation_failure_is_not_stored(api: Http, bad: dict[str, Any]) -> None:
    assert api.post("/v1/payments", json=bad, headers=key("fix-me")).status_code == 400
    again = api.post("/v1/payments", json=bad, headers=key("fix-me"))
    assert again.status_code == 400
    assert "Idempotent-Replayed" not in again.headers
    fixed = api.post("/v1/payments", json=CREATE, headers=key("fix-me"))
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed.headers
    assert count(api) == 1


def test_invalid_json_is_not_stored(api: Http) -> None:
    headers = {**key("json"), "Content-Type": "application/json"}
    assert_error(api.post("/v1/payments", data=b"{", headers=headers), "invalid_json")
    assert api.post("/v1/payments", json=CREATE, headers=key("json")).status_code == 201


def test_a_bad_card_is_not_stored(api: Http) -> None:
    pid = api.create_payment()["id"]
    bad = api.post(f"/v1/payments/{pid}/pay", json={"card_number": "1234"}, headers=key("c"))
    assert_error(bad, "parameter_invalid", param="card_number")
    good = api.post(
        f"/v1/payments/{pid}/pay", json={"card_number": "4242424242424242"}, headers=key("c")
    )
    assert good.status_code == 200
    assert good.json()["status"] == "succeeded"


def test_a_404_is_not_stored(api: Http) -> None:
    missing = "/v1/payments/pay_" + "0" * 24 + "/pay"
    assert_error(
        api.post(missing, json={"outcome": "succeed"}, headers=key("k404")), "resource_missing"
    )
    created = api.post("/v1/payments", json=CREATE, headers=key("k404"))
    assert created.status_code == 201
    assert "Idempotent-Replayed" not in created.headers


def test_fault_before_is_not_stored(api: Http) -> None:
    api.ok("POST", "/_paysim/faults", json={"path": "/v1/payments", "status": 503})
    assert_error(
        api.post("/v1/payments", json=CREATE, headers=key("retry")),
        "injected_fault",
        status=503,
        type="api_error",
    )
    assert count(api) == 0
    retry = api.post("/v1/payments", json=CREATE, headers=key("retry"))
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert count(api) == 1


def test_fault_after_replays_the_stored_success(api: Http) -> None:
    api.ok("POST", "/_paysim/faults", json={"path": "/v1/payments", "when": "after"})
    lost = api.post("/v1/payments", json=CREATE, headers=key("lost"))
    assert_error(lost, "injected_fault", status=503, type="api_error")
    assert count(api) == 1
    retry = api.post("/v1/payments", json=CREATE, headers=key("lost"))
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert count(api) == 1
    assert retry.json() == api.ok("GET", "/v1/payments")["data"][0]


def test_fault_after_on_a_refund_refunds_once(api: Http) -> None:
    pid = api.payment_in("succeeded", amount=1000)["id"]
    api.ok(
        "POST",
        "/_paysim/faults",
        json={"path": "/v1/payments/*/refund", "when": "after", "status": 502},
    )
    body = {"amount": 400}
    assert api.post(f"/v1/payments/{pid}/refund", json=body, headers=key("r")).status_code == 502
    retry = api.post(f"/v1/payments/{pid}/refund", json=body, headers=key("r"))
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    payment = api.ok("GET", f"/v1/payments/{pid}")
    assert payment["amount_refunded"] == 400
    assert [r["id"] for r in payment["refunds"]] == [retry.json()["id"]]
    assert count(api, "/v1/events", type="payment.refunded") == 1


def test_dropped_connection_after_execution_replays(api: Http) -> None:
    api.ok(
        "POST",
        "/_paysim/faults",
        json={"path": "/v1/payments", "when": "after", "drop_connection": True},
    )
    with pytest.raises(requests.ConnectionError):
        api.post("/v1/payments", json=CREATE, headers=key("drop"))
    retry = api.post("/v1/payments", json=CREATE, headers=key("drop"))
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert count(api) == 1


def test_keys_on_get_and_delete_are_ignored(api: Http) -> None:
    for bad_key in ("", "x" * 300, "same"):
        response = api.get("/v1/payments", headers=key(bad_key))
        assert response.status_code == 200
        assert "Idempotent-Replayed" not in response.headers
    endpoint = api.ok("POST", "/v1/webhook_endpoints", 201, json={"url": "https://e.com/h"})
    deleted = api.delete(f"/v1/webhook_endpoints/{endpoint['id']}", headers=key("same"))
    assert deleted.status_code == 200
    again = api.delete(f"/v1/webhook_endpoints/{endpoint['id']}", headers=key("same"))
    assert_error(again, "resource_missing")
    created = api.post("/v1/payments", json=CREATE, headers=key("same"))
    assert created.status_code == 201
    assert "Idempotent-Replayed" not in created.headers


def test_keys_on_control_routes_are_ignored(api: Http) -> None:
    for _ in range(2):
        response = api.post("/_paysim/clock", json={"advance": 1}, headers=key(""))
        assert response.status_code == 200
        assert "Idempotent-Replayed" not in response.headers


@pytest.mark.parametrize(
    "bad_key",
    [
        pytest.param("", id="empty"),
        pytest.param("k" * 256, id="256-chars"),
        pytest.param("a\x01b", id="control-char"),
        pytest.param("a\tb", id="tab"),
        pytest.param("a\x7fb", id="delete-char"),
        pytest.param("clé", id="non-ascii"),
    ],
)
def test_invalid_keys_are_400(api: Http, bad_key: str) -> None:
    response = api.post("/v1/payments", json=CREATE, headers=key(bad_key))
    assert_error(response, "idempotency_key_invalid", param="Idempotency-Key")
    assert count(api) == 0


def test_255_printable_characters_are_a_valid_key(api: Http) -> None:
    long_key = ("!~ azAZ09" * 40)[:255]
    assert api.post("/v1/payments", json=CREATE, headers=key(long_key)).status_code == 201
    replay = api.post("/v1/payments", json=CREATE, headers=key(long_key))
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_keys_are_scoped_to_the_credential(api: Http, anon: Http) -> None:
    payment = api.create_payment()
    pid, secret = payment["id"], payment["client_secret"]
    path = f"/v1/payments/{pid}/pay"
    body = {"outcome": "abandon"}
    by_key = api.post(path, json=body, headers=key("shared"))
    assert "Idempotent-Replayed" not in by_key.headers
    by_secret = anon.post(path, json=body, headers=key("shared"), params={"client_secret": secret})
    assert by_secret.status_code == 200
    assert "Idempotent-Replayed" not in by_secret.headers
    assert count(api, "/v1/events", type="payment.requires_payment_method") == 2
    replay = anon.post(path, json=body, headers=key("shared"), params={"client_secret": secret})
    assert replay.headers["Idempotent-Replayed"] == "true"
    replay = api.post(path, json=body, headers=key("shared"))
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert count(api, "/v1/events", type="payment.requires_payment_method") == 2


def test_keys_expire_after_24_hours_on_the_simulator_clock(api: Http) -> None:
    api.ok("POST", "/_paysim/clock", json={"freeze": "2026-05-01T00:00:00Z"})
    first = api.ok("POST", "/v1/payments", 201, json=CREATE, headers=key("day"))
    api.ok("POST", "/_paysim/clock", json={"advance": 24 * 3600 - 1})
    replay = api.post("/v1/payments", json=CREATE, headers=key("day"))
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first["id"]
    api.ok("POST", "/_paysim/clock", json={"advance": 1})
    fresh = api.post("/v1/payments", json=CREATE, headers=key("day"))
    assert fresh.status_code == 201
    assert "Idempotent-Replayed" not in fresh.headers
    assert fresh.json()["id"] != first["id"]
    assert fresh.json()["created_at"] == "2026-05-02T00:00:00.000Z"
    assert count(api) == 2


def test_a_duplicate_in_flight_is_409(api: Http, server: Any) -> None:
    api.ok("POST", "/_paysim/faults", json={"delay": 0.5, "path": "/v1/payments"})
    results: dict[str, requests.Response] = {}

    def first() -> None:
        with Http(server, server.api_key) as client:
            results["first"] = client.post("/v1/payments", json=CREATE, headers=key("slow"))

    thread = threading.Thread(target=first)
    thread.start()
    deadline = time.monotonic() + 5
    while api.ok("GET", "/_paysim/state")["faults"]:  # taken by the first request
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.1)
    duplicate = api.post("/v1/payments", json=CREATE, headers=key("slow"))
    thread.join(10)
    assert not thread.is_alive()
    assert_error(duplicate, "idempotency_key_in_use", param="Idempotency-Key")
    assert results["first"].status_code == 201
    assert count(api) == 1
    after = api.post("/v1/payments", json=CREATE, headers=key("slow"))
    assert after.headers["Idempotent-Replayed"] == "true"
    assert after.content == results["first"].content


def test_delay_only_fault_slows_and_then_runs(api: Http) -> None:
    api.ok("POST", "/_paysim/faults", json={"delay": 0.3, "path": "/v1/payments"})
    started = time.monotonic()
    response = api.post("/v1/payments", json=CREATE)
    elapsed = time.monotonic() - started
    assert response.status_code == 201
    assert 0.3 <= elapsed < 2.0

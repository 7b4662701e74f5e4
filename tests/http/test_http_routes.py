"""Every route of SPEC section 3 over real HTTP: success status and the shape of the answer,
and the test cards and outcome precedence of section 9."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from http_support import (
    DELIVERY_FIELDS,
    ID_RE,
    PAYMENT_FIELDS,
    REFUND_FIELDS,
    TIME_RE,
    Http,
    assert_error,
    raw_request,
)
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from pytest_paysim._version import __version__


def wait_for(probe: Any, timeout: float = 5.0) -> Any:
    """Poll ``probe()`` until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    """A webhook receiver: 200 on /ok, 500 on anything else; its base URL."""

    @Request.application  # type: ignore[arg-type]
    def app(request: Request) -> Response:
        return Response("{}", status=200 if request.path == "/ok" else 500)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(2)


# -- /health and /openapi.json ----------------------------------------------------------------


def test_health_needs_no_key(anon: Http) -> None:
    response = anon.get("/health")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "version": __version__}


def test_openapi_needs_no_key(anon: Http) -> None:
    response = anon.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert "/v1/payments" in document["paths"]


# -- payments ---------------------------------------------------------------------------------


def test_create_answers_201_with_defaults(api: Http, server: Any) -> None:
    response = api.post("/v1/payments", json={"amount": 1999, "currency": "EUR"})
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    payment = response.json()
    assert set(payment) == PAYMENT_FIELDS
    pid = payment["id"]
    assert ID_RE["pay"].match(pid)
    assert payment["client_secret"].startswith(pid + "_secret_")
    assert len(payment["client_secret"]) > len(pid + "_secret_") + 16
    assert payment["payment_url"] == (
        f"{server.url}/pay/{pid}?client_secret={payment['client_secret']}"
    )
    assert {
        key: payment[key]
        for key in PAYMENT_FIELDS
        - {"id", "client_secret", "payment_url", "created_at", "updated_at"}
    } == {
        "object": "payment",
        "amount": 1999,
        "currency": "eur",
        "status": "requires_payment_method",
        "capture_method": "automatic",
        "description": None,
        "metadata": {},
        "return_url": None,
        "amount_capturable": 0,
        "amount_captured": 0,
        "amount_refunded": 0,
        "failure_code": None,
        "decline_code": None,
        "failure_message": None,
        "cancellation_reason": None,
        "refunds": [],
        "next_action": None,
    }
    assert TIME_RE.match(payment["created_at"])
    assert payment["updated_at"] == payment["created_at"]


def test_create_takes_every_field(api: Http) -> None:
    payment = api.create_payment(
        amount=99_999_999,
        currency="jpy",
        description="Order #42 — ünïcode",
        metadata={"order": "42", "webhook_url": "https://example.com/hook"},
        capture_method="manual",
        return_url="https://shop.example/done",
    )
    assert payment["amount"] == 99_999_999
    assert payment["description"] == "Order #42 — ünïcode"
    assert payment["metadata"] == {"order": "42", "webhook_url": "https://example.com/hook"}
    assert payment["capture_method"] == "manual"
    assert payment["return_url"] == "https://shop.example/done"


@pytest.mark.parametrize(
    ("rate", "capture_method", "status"),
    [
        pytest.param(1.0, "automatic", "succeeded", id="auto-succeeds"),
        pytest.param(1.0, "manual", "authorized", id="auto-authorizes"),
        pytest.param(0.0, "automatic", "failed", id="auto-fails"),
    ],
)
def test_simulate_auto_pays_before_the_201(
    api: Http, rate: float, capture_method: str, status: str
) -> None:
    api.ok("POST", "/_paysim/reset", json={"auto_success_rate": rate})
    payment = api.create_payment(simulate="auto", capture_method=capture_method)
    assert payment["status"] == status
    types = [e["type"] for e in api.ok("GET", "/v1/events")["data"]]
    assert types[-1] == "payment.created"
    assert len(types) == 2


def test_list_is_newest_first_and_pages(api: Http) -> None:
    ids = [api.create_payment(amount=100 + n)["id"] for n in range(5)]
    newest_first = ids[::-1]
    page = api.ok("GET", "/v1/payments", params={"limit": 2})
    assert page["object"] == "list"
    assert [p["id"] for p in page["data"]] == newest_first[:2]
    assert page["has_more"] is True
    page = api.ok("GET", "/v1/payments", params={"limit": 2, "starting_after": newest_first[1]})
    assert [p["id"] for p in page["data"]] == newest_first[2:4]
    assert page["has_more"] is True
    page = api.ok("GET", "/v1/payments", params={"limit": 2, "starting_after": newest_first[3]})
    assert [p["id"] for p in page["data"]] == newest_first[4:]
    assert page["has_more"] is False
    whole = api.ok("GET", "/v1/payments", params={"limit": 100})
    assert [p["id"] for p in whole["data"]] == newest_first
    assert whole["has_more"] is False


def test_list_default_limit_is_10(api: Http) -> None:
    for _ in range(11):
        api.create_payment()
    page = api.ok("GET", "/v1/payments")
    assert len(page["data"]) == 10
    assert page["has_more"] is True


def test_list_filters_by_status(api: Http) -> None:
    paid = [api.payment_in("succeeded")["id"] for _ in range(2)]
    api.create_payment()
    failed = api.payment_in("failed")["id"]
    page = api.ok("GET", "/v1/payments", params={"status": "succeeded"})
    assert [p["id"] for p in page["data"]] == paid[::-1]
    page = api.ok("GET", "/v1/payments", params={"status": "failed"})
    assert [p["id"] for p in page["data"]] == [failed]
    page = api.ok("GET", "/v1/payments", params={"status": "succeeded", "limit": 1})
    assert [p["id"] for p in page["data"]] == [paid[1]]
    assert page["has_more"] is True


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        pytest.param({"limit": 0}, "parameter_invalid", "limit", id="limit-0"),
        pytest.param({"limit": 101}, "parameter_invalid", "limit", id="limit-101"),
        pytest.param({"limit": "ten"}, "parameter_invalid", "limit", id="limit-text"),
        pytest.param({"limit": "1.5"}, "parameter_invalid", "limit", id="limit-float"),
        pytest.param({"status": "paid"}, "parameter_invalid", "status", id="unknown-status"),
        pytest.param(
            {"starting_after": "pay_" + "x" * 24},
            "parameter_invalid",
            "starting_after",
            id="unknown-starting-after",
        ),
        pytest.param({"sort": "asc"}, "parameter_unknown", "sort", id="unknown-param"),
    ],
)
def test_list_rejects_bad_query(api: Http, params: dict[str, Any], code: str, param: str) -> None:
    api.create_payment()
    assert_error(api.get("/v1/payments", params=params), code, param=param)


def test_get_payment(api: Http) -> None:
    created = api.create_payment(description="x")
    fetched = api.ok("GET", f"/v1/payments/{created['id']}")
    assert fetched == created
    missing = api.get("/v1/payments/pay_" + "0" * 24)
    assert_error(missing, "resource_missing", param="id")


# -- pay --------------------------------------------------------------------------------------


def test_pay_succeed_captures_automatically(api: Http) -> None:
    payment = api.create_payment(amount=1500)
    paid = api.pay(payment["id"], outcome="succeed")
    assert paid["status"] == "succeeded"
    assert paid["amount_captured"] == 1500
    assert paid["amount_capturable"] == 0
    assert set(paid) == PAYMENT_FIELDS


def test_pay_succeed_under_manual_capture_authorizes(api: Http) -> None:
    payment = api.create_payment(amount=1500, capture_method="manual")
    paid = api.pay(payment["id"], outcome="succeed")
    assert (paid["status"], paid["amount_capturable"], paid["amount_captured"]) == (
        "authorized",
        1500,
        0,
    )


def test_pay_fail_is_a_200_with_the_failure(api: Http) -> None:
    pid = api.create_payment()["id"]
    failed = api.pay(pid, outcome="fail", decline_code="insufficient_funds")
    assert failed["status"] == "failed"
    assert failed["failure_code"] == "card_declined"
    assert failed["decline_code"] == "insufficient_funds"
    assert isinstance(failed["failure_message"], str)
    assert failed["failure_message"]
    again = api.pay(pid, outcome="fail")
    assert again["decline_code"] == "generic_decline"
    paid = api.pay(pid, outcome="succeed")
    assert paid["status"] == "succeeded"
    assert (paid["failure_code"], paid["decline_code"], paid["failure_message"]) == (
        None,
        None,
        None,
    )


def test_pay_abandon_keeps_waiting(api: Http) -> None:
    pid = api.create_payment()["id"]
    assert api.pay(pid, outcome="abandon")["status"] == "requires_payment_method"
    events = api.ok("GET", "/v1/events", params={"payment_id": pid})["data"]
    assert events[0]["type"] == "payment.requires_payment_method"


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        pytest.param({}, "parameter_missing", "outcome", id="nothing"),
        pytest.param(
            {"outcome": "succeed", "card_number": "4242424242424242"},
            "parameter_invalid",
            None,
            id="both",
        ),
        pytest.param({"outcome": "win"}, "parameter_invalid", "outcome", id="unknown-outcome"),
        pytest.param(
            {"outcome": "fail", "decline_code": "bad_luck"},
            "parameter_invalid",
            "decline_code",
            id="unknown-decline-code",
        ),
        pytest.param(
            {"card_number": "4242424242424241"},
            "parameter_invalid",
            "card_number",
            id="luhn",
        ),
        pytest.param({"card_number": "42424242"}, "parameter_invalid", "card_number", id="short"),
        pytest.param(
            {"card_number": "4242x24242424242"},
            "parameter_invalid",
            "card_number",
            id="letters",
        ),
    ],
)
def test_pay_rejects_bad_bodies(
    api: Http, body: dict[str, Any], code: str, param: str | None
) -> None:
    pid = api.create_payment()["id"]
    error = assert_error(api.post(f"/v1/payments/{pid}/pay", json=body), code)
    if param is not None:
        assert error["param"] == param
    assert api.ok("GET", f"/v1/payments/{pid}")["status"] == "requires_payment_method"


@pytest.mark.parametrize(
    ("card", "status", "decline_code"),
    [
        pytest.param("4242424242424242", "succeeded", None, id="visa"),
        pytest.param("5555555555554444", "succeeded", None, id="mastercard"),
        pytest.param("4242 4242-4242 4242", "succeeded", None, id="spaces-and-dashes"),
        pytest.param("378282246310005", "succeeded", None, id="any-other-valid"),
        pytest.param("4000000000000002", "failed", "generic_decline", id="generic"),
        pytest.param("4000000000009995", "failed", "insufficient_funds", id="funds"),
        pytest.param("4000000000009987", "failed", "lost_card", id="lost"),
        pytest.param("4000000000009979", "failed", "stolen_card", id="stolen"),
        pytest.param("4000000000000069", "failed", "expired_card", id="expired"),
        pytest.param("4000000000000127", "failed", "incorrect_cvc", id="cvc"),
        pytest.param("4000000000000119", "failed", "processing_error", id="processing"),
        pytest.param("4100000000000019", "failed", "fraudulent", id="fraudulent"),
    ],
)
def test_test_cards(api: Http, card: str, status: str, decline_code: str | None) -> None:
    pid = api.create_payment()["id"]
    paid = api.pay(pid, card_number=card)
    assert paid["status"] == status
    assert paid["decline_code"] == decline_code
    if status == "failed":
        assert paid["failure_code"] == "card_declined"
        assert paid["failure_message"].endswith(".")


def test_forced_outcome_wins_over_the_request(api: Http) -> None:
    pid = api.create_payment()["id"]
    api.ok("POST", "/_paysim/outcomes", json={"outcome": "fail", "decline_code": "lost_card"})
    paid = api.pay(pid, card_number="4242424242424242")
    assert (paid["status"], paid["decline_code"]) == ("failed", "lost_card")
    assert api.pay(pid, outcome="succeed")["status"] == "succeeded"


def test_pay_with_nothing_uses_the_forced_outcome(api: Http) -> None:
    pid = api.create_payment()["id"]
    api.ok("POST", "/_paysim/outcomes", json={"outcome": "succeed", "payment_id": pid})
    response = api.post(f"/v1/payments/{pid}/pay", json={})
    assert response.status_code == 200
    assert response.json()["status"] == "succeeded"


def test_pay_in_a_final_state_is_409(api: Http) -> None:
    pid = api.payment_in("succeeded")["id"]
    error = assert_error(
        api.post(f"/v1/payments/{pid}/pay", json={"outcome": "succeed"}),
        "payment_unexpected_state",
    )
    assert error["payment_id"] == pid
    assert "`succeeded`" in error["message"]


# -- capture, refund, cancel ------------------------------------------------------------------


def test_capture_partial_releases_the_rest(api: Http) -> None:
    pid = api.payment_in("authorized", amount=3000)["id"]
    captured = api.ok("POST", f"/v1/payments/{pid}/capture", json={"amount": 1000})
    assert (captured["status"], captured["amount_captured"], captured["amount_capturable"]) == (
        "captured",
        1000,
        0,
    )


def test_capture_without_amount_takes_all(api: Http) -> None:
    pid = api.payment_in("authorized", amount=3000)["id"]
    captured = api.ok("POST", f"/v1/payments/{pid}/capture")
    assert (captured["status"], captured["amount_captured"]) == ("captured", 3000)


def test_capture_of_a_succeeded_payment(api: Http) -> None:
    pid = api.payment_in("succeeded", amount=3000)["id"]
    assert_error(
        api.post(f"/v1/payments/{pid}/capture", json={"amount": 2000}),
        "parameter_invalid",
        param="amount",
    )
    captured = api.ok("POST", f"/v1/payments/{pid}/capture", json={"amount": 3000})
    assert (captured["status"], captured["amount_captured"]) == ("captured", 3000)


def test_capture_too_much_or_too_early(api: Http) -> None:
    pid = api.payment_in("authorized", amount=3000)["id"]
    too_much = api.post(f"/v1/payments/{pid}/capture", json={"amount": 3001})
    assert_error(too_much, "amount_too_large", param="amount")
    fresh = api.create_payment()["id"]
    early = assert_error(api.post(f"/v1/payments/{fresh}/capture"), "payment_unexpected_state")
    assert early["payment_id"] == fresh
    assert "`requires_payment_method`" in early["message"]


def test_refund_shape_partial_then_rest(api: Http) -> None:
    pid = api.payment_in("succeeded", amount=3000)["id"]
    response = api.post(f"/v1/payments/{pid}/refund", json={"amount": 1000, "reason": "duplicate"})
    assert response.status_code == 201
    refund = response.json()
    assert set(refund) == REFUND_FIELDS
    assert ID_RE["re"].match(refund["id"])
    assert {k: refund[k] for k in REFUND_FIELDS - {"id", "created_at"}} == {
        "object": "refund",
        "payment_id": pid,
        "amount": 1000,
        "currency": "usd",
        "reason": "duplicate",
        "status": "succeeded",
    }
    assert TIME_RE.match(refund["created_at"])
    payment = api.ok("GET", f"/v1/payments/{pid}")
    assert (payment["status"], payment["amount_refunded"]) == ("succeeded", 1000)
    rest = api.ok("POST", f"/v1/payments/{pid}/refund", 201)
    assert (rest["amount"], rest["reason"]) == (2000, None)
    payment = api.ok("GET", f"/v1/payments/{pid}")
    assert (payment["status"], payment["amount_refunded"]) == ("refunded", 3000)
    assert [r["id"] for r in payment["refunds"]] == [refund["id"], rest["id"]]
    assert api.ok("GET", f"/v1/refunds/{refund['id']}") == refund
    assert_error(api.get("/v1/refunds/re_" + "0" * 24), "resource_missing", param="id")


def test_refund_of_a_captured_payment(api: Http) -> None:
    pid = api.payment_in("captured", amount=3000)["id"]
    refund = api.ok("POST", f"/v1/payments/{pid}/refund", 201, json={"amount": 3000})
    assert refund["status"] == "succeeded"
    assert api.ok("GET", f"/v1/payments/{pid}")["status"] == "refunded"


def test_refund_too_much_or_too_early(api: Http) -> None:
    pid = api.payment_in("succeeded", amount=3000)["id"]
    error = assert_error(
        api.post(f"/v1/payments/{pid}/refund", json={"amount": 3001}), "amount_too_large"
    )
    assert error["param"] == "amount"
    fresh = api.create_payment()["id"]
    assert_error(api.post(f"/v1/payments/{fresh}/refund"), "payment_unexpected_state")
    assert_error(
        api.post("/v1/payments/pay_" + "0" * 24 + "/refund"), "resource_missing", param="id"
    )


def test_forced_refund_failure_is_a_201_listed_in_refunds(api: Http) -> None:
    pid = api.payment_in("succeeded", amount=3000)["id"]
    api.ok("POST", "/_paysim/outcomes", json={"refund_outcome": "fail"})
    refund = api.ok("POST", f"/v1/payments/{pid}/refund", 201, json={"amount": 500})
    assert refund["status"] == "failed"
    payment = api.ok("GET", f"/v1/payments/{pid}")
    assert (payment["status"], payment["amount_refunded"]) == ("succeeded", 0)
    assert payment["refunds"] == [refund]
    event = api.ok("GET", "/v1/events", params={"type": "payment.refund_failed"})["data"][0]
    assert event["data"]["refund"] == refund


@pytest.mark.parametrize("status", ["requires_payment_method", "failed", "authorized"])
def test_cancel(api: Http, status: str) -> None:
    pid = api.payment_in(status)["id"]
    canceled = api.ok(
        "POST", f"/v1/payments/{pid}/cancel", json={"cancellation_reason": "abandoned"}
    )
    assert canceled["status"] == "canceled"
    assert canceled["cancellation_reason"] == "abandoned"
    assert canceled["amount_capturable"] == 0


@pytest.mark.parametrize("status", ["succeeded", "captured", "refunded"])
def test_cancel_after_payment_is_409(api: Http, status: str) -> None:
    pid = api.payment_in(status)["id"]
    error = assert_error(api.post(f"/v1/payments/{pid}/cancel"), "payment_unexpected_state")
    assert error["payment_id"] == pid
    assert f"`{status}`" in error["message"]


# -- events -----------------------------------------------------------------------------------


def test_events_list_filters_and_get(api: Http) -> None:
    first = api.payment_in("succeeded")["id"]
    second = api.create_payment()["id"]
    events = api.ok("GET", "/v1/events")
    assert events["object"] == "list"
    assert [(e["type"], e["data"]["object"]["id"]) for e in events["data"]] == [
        ("payment.created", second),
        ("payment.succeeded", first),
        ("payment.created", first),
    ]
    event = events["data"][1]
    assert set(event) == {"id", "object", "type", "created_at", "data"}
    assert ID_RE["evt"].match(event["id"])
    assert event["object"] == "event"
    assert TIME_RE.match(event["created_at"])
    assert event["data"]["object"]["status"] == "succeeded"
    assert events["data"][2]["data"]["object"]["status"] == "requires_payment_method"
    assert api.ok("GET", f"/v1/events/{event['id']}") == event

    by_type = api.ok("GET", "/v1/events", params={"type": "payment.created"})["data"]
    assert [e["data"]["object"]["id"] for e in by_type] == [second, first]
    by_payment = api.ok("GET", "/v1/events", params={"payment_id": first})["data"]
    assert [e["type"] for e in by_payment] == ["payment.succeeded", "payment.created"]
    page = api.ok("GET", "/v1/events", params={"limit": 1, "starting_after": by_type[0]["id"]})
    assert [e["id"] for e in page["data"]] == [event["id"]]
    assert page["has_more"] is True
    assert_error(api.get("/v1/events", params={"type": "payment.paid"}), "parameter_invalid")
    assert_error(api.get("/v1/events", params={"limit": 0}), "parameter_invalid")
    assert_error(api.get("/v1/events", params={"starting_after": "evt_x"}), "parameter_invalid")
    assert_error(api.get("/v1/events", params={"status": "x"}), "parameter_unknown")
    assert_error(api.get("/v1/events/evt_" + "0" * 24), "resource_missing", param="id")


# -- webhook endpoints and deliveries ---------------------------------------------------------


def test_webhook_endpoints_create_list_delete(api: Http) -> None:
    response = api.post("/v1/webhook_endpoints", json={"url": "https://example.com/hook"})
    assert response.status_code == 201
    endpoint = response.json()
    assert ID_RE["we"].match(endpoint["id"])
    assert endpoint["object"] == "webhook_endpoint"
    assert endpoint["url"] == "https://example.com/hook"
    assert endpoint["enabled_events"] == ["*"]
    assert endpoint["secret"].startswith("whsec_")
    assert TIME_RE.match(endpoint["created_at"])
    other = api.ok(
        "POST",
        "/v1/webhook_endpoints",
        201,
        json={"url": "http://127.0.0.1:1/x", "enabled_events": ["payment.succeeded"]},
    )
    assert other["enabled_events"] == ["payment.succeeded"]

    listed = api.ok("GET", "/v1/webhook_endpoints")
    assert listed["object"] == "list"
    assert [e["id"] for e in listed["data"]] == [other["id"], endpoint["id"]]
    for item in listed["data"]:
        assert "secret" not in item
    assert endpoint["secret"] not in api.get("/v1/webhook_endpoints").text

    deleted = api.delete(f"/v1/webhook_endpoints/{endpoint['id']}")
    assert deleted.status_code == 200
    assert deleted.json() == {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}
    assert [e["id"] for e in api.ok("GET", "/v1/webhook_endpoints")["data"]] == [other["id"]]
    again = api.delete(f"/v1/webhook_endpoints/{endpoint['id']}")
    assert_error(again, "resource_missing", param="id")


def test_webhook_deliveries_items(api: Http, receiver: str) -> None:
    api.ok("POST", "/v1/webhook_endpoints", 201, json={"url": receiver + "/ok"})
    pid = api.create_payment(metadata={"webhook_url": receiver + "/fail"})["id"]

    def deliveries(**params: Any) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = api.ok(
            "GET", "/v1/webhook_deliveries", params={"limit": 100, **params}
        )["data"]
        return data

    def two_attempts_to_fail() -> list[dict[str, Any]]:
        found = [d for d in deliveries() if d["url"].endswith("/fail")]
        return found if len(found) >= 2 else []

    wait_for(two_attempts_to_fail)
    items = deliveries(payment_id=pid)
    for item in items:
        assert set(item) == DELIVERY_FIELDS
        assert ID_RE["whd"].match(item["id"])
        assert item["object"] == "webhook_delivery"
        assert item["type"] == "payment.created"
        assert item["payment_id"] == pid
        assert TIME_RE.match(item["sent_at"])
    ok = [d for d in items if d["url"] == receiver + "/ok"]
    assert len(ok) == 1
    assert ok[0] | {"id": None, "event_id": None, "sent_at": None} == {
        "id": None,
        "object": "webhook_delivery",
        "event_id": None,
        "type": "payment.created",
        "payment_id": pid,
        "url": receiver + "/ok",
        "attempt": 1,
        "status_code": 200,
        "error": None,
        "succeeded": True,
        "sent_at": None,
        "next_attempt_at": None,
    }
    failed = sorted(
        (d for d in items if d["url"] == receiver + "/fail"), key=lambda d: d["attempt"]
    )
    assert [d["attempt"] for d in failed[:2]] == [1, 2]
    assert failed[0]["status_code"] == 500
    assert failed[0]["succeeded"] is False
    assert failed[0]["error"]
    assert TIME_RE.match(failed[0]["next_attempt_at"])
    event_id = ok[0]["event_id"]
    assert ID_RE["evt"].match(event_id)
    assert {d["event_id"] for d in items} == {event_id}
    assert {d["id"] for d in deliveries(event_id=event_id)} >= {d["id"] for d in items}
    assert deliveries(event_id="evt_" + "0" * 24) == []
    assert deliveries(type="payment.succeeded") == []
    assert len(deliveries(limit=1)) == 1


def test_delivery_without_target_is_captured(api: Http) -> None:
    pid = api.create_payment()["id"]
    items = wait_for(
        lambda: api.ok("GET", "/v1/webhook_deliveries", params={"payment_id": pid})["data"]
    )
    assert len(items) == 1
    assert items[0]["url"] is None
    assert items[0]["attempt"] == 1
    assert items[0]["status_code"] is None
    assert items[0]["succeeded"] is None
    assert_error(api.get("/v1/webhook_deliveries", params={"type": "nope"}), "parameter_invalid")
    assert_error(
        api.get("/v1/webhook_deliveries", params={"starting_after": "whd_x"}), "parameter_invalid"
    )


def test_head_answers_headers_only(server: Any) -> None:
    status, body = raw_request(server, b"HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close")
    assert status == 200
    assert body == b""

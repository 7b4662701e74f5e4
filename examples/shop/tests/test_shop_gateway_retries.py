"""The shop's gateway client: retries with one idempotency key, never a double charge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

FAULTS = [
    pytest.param({"status": 503, "when": "before", "times": 2}, id="503-before-twice"),
    pytest.param({"status": 429, "when": "before"}, id="429-rate-limited"),
    pytest.param({"status": 500, "when": "after"}, id="500-lost-response"),
    pytest.param({"drop_connection": True, "when": "before"}, id="dropped-before"),
    pytest.param({"drop_connection": True, "when": "after"}, id="dropped-after"),
]


@pytest.mark.parametrize("fault", FAULTS)
def test_create_payment_retried_with_the_same_key_charges_once(
    paysim: Any,
    paysim_webhooks: Any,
    shop_app: Flask,
    fault: dict[str, Any],
) -> None:
    paysim.inject_fault(method="POST", path="/v1/payments", **fault)

    response = shop_app.test_client().post("/orders", json={"amount": 1999, "currency": "usd"})
    assert response.status_code == 201, response.get_json()
    order = response.get_json()["order"]

    # One payment at the gateway, created once, and it is the order's.
    payments = paysim.payments()
    assert [payment["id"] for payment in payments] == [order["payment_id"]]
    paysim_webhooks.wait_for("payment.created")
    paysim_webhooks.assert_received("payment.created", count=1)

    calls = shop_app.extensions["shop"].gateway.calls
    assert len(calls) == fault.get("times", 1) + 1
    assert len({call.idempotency_key for call in calls}) == 1
    assert calls[-1].outcome == "ok"
    assert calls[-1].replayed is (fault["when"] == "after")


def test_slow_gateway_timeout_then_key_in_use_then_replay(
    paysim: Any, make_shop: Callable[..., Flask]
) -> None:
    # The gateway takes 0.9 s; the shop gives up on an answer after 0.3 s and retries. Until the
    # first request finishes, the gateway answers 409 idempotency_key_in_use; then it replays.
    shop_app = make_shop(timeout=0.3, max_attempts=8)
    paysim.inject_fault(method="POST", path="/v1/payments", delay=0.9)

    response = shop_app.test_client().post("/orders", json={"amount": 1999, "currency": "usd"})
    assert response.status_code == 201, response.get_json()

    assert len(paysim.payments()) == 1
    calls = shop_app.extensions["shop"].gateway.calls
    outcomes = [call.outcome for call in calls]
    assert outcomes[0] == "timeout"
    assert "409 idempotency_key_in_use" in outcomes
    assert (outcomes[-1], calls[-1].replayed) == ("ok", True)
    assert len({call.idempotency_key for call in calls}) == 1


def test_gateway_down_is_a_bounded_clear_error(
    paysim: Any, make_shop: Callable[..., Flask]
) -> None:
    shop_app = make_shop(max_attempts=3, backoff=0.01)
    paysim.inject_fault(method="POST", path="/v1/payments", status=503, times=None)

    response = shop_app.test_client().post("/orders", json={"amount": 1999, "currency": "usd"})
    assert response.status_code == 503
    body = response.get_json()
    assert "no answer after 3 attempts (last: 503 injected_fault)" in body["error"]["message"]
    assert body["order"]["status"] == "payment_error"

    calls = shop_app.extensions["shop"].gateway.calls
    assert [call.outcome for call in calls] == ["503 injected_fault"] * 3
    assert paysim.payments() == []

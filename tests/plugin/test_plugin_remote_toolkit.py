"""The test author's toolkit against a running ``paysim serve`` (``--paysim-url``): calls,
strict mode, clearing rules, the webhook log's checks and ``intercept`` for httpx."""

from __future__ import annotations

from plugin_support import Runner

REMOTE = """
import httpx
import pytest
import requests

from paysim_out import record

FAKE_GATEWAY = "https://gateway.example/api"


def test_1_calls_of_an_earlier_test(paysim):
    paysim.create_payment(amount=100, currency="usd")


def test_2_calls(paysim):
    assert paysim.calls == []  # the reset emptied them on the server
    payment = paysim.create_payment(amount=100, currency="usd", idempotency_key="k-1")
    paysim.inject_fault(method="POST", path="/v1/payments/*/pay", status=502, when="after")
    assert paysim.client.post(f"/v1/payments/{payment['id']}/pay", json={}).status_code == 502
    created, paid = paysim.calls
    assert (created.method, created.path, created.status) == ("POST", "/v1/payments", 201)
    assert (created.idempotency_key, created.response["id"]) == ("k-1", payment["id"])
    assert created.request == {"amount": 100, "currency": "usd"}
    assert (paid.status, paid.fault["when"], paid.request) == (502, "after", {})
    [call] = paysim.assert_called("POST", "/v1/payments/*/pay", times=1)
    assert call == paid
    with pytest.raises(AssertionError, match="the API calls of this test"):
        paysim.assert_called("GET", "/v1/events")


def test_3_strict_fails_at_teardown(paysim):
    paysim.inject_fault(path="/v1/refunds/*", status=500)
    paysim.force_outcome("fail", times=3)


def test_4_clearing_and_not_required(paysim):
    paysim.inject_fault(path="/v1/events")
    paysim.force_outcome("fail")
    paysim.force_refund_outcome("fail")
    paysim.clear_faults()
    paysim.clear_outcomes()
    assert paysim.client.get("/v1/events").status_code == 200
    paysim.inject_fault(path="/v1/events", required=False)
    paysim.force_outcome("abandon", times=None, required=False)
    paysim.force_refund_outcome("fail", required=False)


def test_5_event_types_and_field_values(paysim, paysim_webhooks):
    with pytest.raises(ValueError, match="unknown event type 'payment.refund'"):
        paysim_webhooks.wait_for("payment.refund")
    payment = paysim.pay(paysim.create_payment(amount=100, currency="usd")["id"])
    paysim_webhooks.wait_for("payment.succeeded")
    with pytest.raises(AssertionError, match="amount=100"):
        paysim_webhooks.assert_received("payment.succeeded", amount=99)


def test_6_intercept_routes_httpx_to_the_server(paysim, paysim_server):
    paysim.intercept(FAKE_GATEWAY)
    headers = {"Authorization": "Bearer " + paysim_server.api_key}
    with httpx.Client(base_url=FAKE_GATEWAY, headers=headers) as client:
        made = client.post("/v1/payments", json={"amount": 42, "currency": "usd"})
    assert made.status_code == 201
    assert [p["id"] for p in paysim.payments()] == [made.json()["id"]]
    paysim.assert_called("POST", "/v1/payments")
"""


def test_the_toolkit_through_a_running_server(run: Runner, served: tuple[str, str]) -> None:
    url, key = served
    run.pytester.makepyfile(test_remote=REMOTE)
    result = run("--paysim", "--paysim-url", url, "--paysim-api-key", key)
    result.assert_outcomes(passed=6, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_3_strict_fails_at_teardown*",
            "paysim strict mode: this test set 2 rules it did not use up:",
            "  inject_fault(path='/v1/refunds/*', status=500, when='before'): used 0 of 1 time",
            "  force_outcome('fail', times=3): used 0 of 3 times",
        ]
    )

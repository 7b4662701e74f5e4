import os
import time
from datetime import datetime, timezone

import pytest
import requests
from paysim_out import record

from pytest_paysim import errors
from pytest_paysim.core.ids import IdGenerator

FAKE_GATEWAY = "https://gateway.example/api"


def new(paysim, **params):
    return paysim.create_payment(**{"amount": 1000, "currency": "usd", **params})


def test_1_leaves_state_behind(paysim):
    record("leftover", new(paysim)["id"])
    paysim.force_outcome("fail", times=None, required=False)
    paysim.force_refund_outcome("fail", times=None, required=False)
    paysim.inject_fault(path="/v1/events", times=None, required=False)
    paysim.clock.freeze("2001-01-01T00:00:00Z")
    paysim.add_webhook_endpoint("http://127.0.0.1:9/hooks")
    paysim.rotate_webhook_secret()


def test_2_starts_from_scratch(paysim, paysim_server, paysim_webhooks):
    assert paysim.webhook_secret == paysim_server.webhook_secret
    assert paysim.webhook_secret == os.environ["PAYSIM_WEBHOOK_SECRET"]
    assert paysim.payments() == []
    payment = new(paysim)
    assert paysim.pay(payment["id"])["status"] == "succeeded"
    assert paysim.refund(payment["id"])["status"] == "succeeded"
    assert paysim.client.get("/v1/events").status_code == 200
    assert not paysim.clock.frozen
    assert paysim.client.get("/v1/webhook_endpoints").json()["data"] == []
    paysim_webhooks.wait_for("payment.refunded")
    assert paysim_webhooks.types == ["payment.created", "payment.succeeded", "payment.refunded"]


def test_forcing(paysim):
    one, other = new(paysim), new(paysim)
    paysim.force_outcome("fail", times=2, decline_code="lost_card")
    paysim.force_outcome("abandon", payment_id=one["id"])
    assert paysim.pay(one["id"])["status"] == "requires_payment_method"
    declined = paysim.pay(other["id"])
    assert (declined["status"], declined["decline_code"]) == ("failed", "lost_card")
    assert paysim.pay(one["id"])["status"] == "failed"
    assert paysim.pay(one["id"])["status"] == "succeeded"
    paysim.force_refund_outcome("fail")
    assert paysim.refund(one["id"])["status"] == "failed"
    assert paysim.refund(one["id"])["status"] == "succeeded"


def test_faults(paysim):
    body, headers = {"amount": 300, "currency": "eur"}, {"Idempotency-Key": "k-before"}
    paysim.inject_fault(method="POST", path="/v1/payments", status=503)
    assert paysim.client.post("/v1/payments", json=body, headers=headers).status_code == 503
    assert paysim.payments() == []
    assert paysim.client.post("/v1/payments", json=body, headers=headers).status_code == 201
    paysim.inject_fault(path="/v1/payments", when="after", status=500)
    headers = {"Idempotency-Key": "k-after"}
    assert paysim.client.post("/v1/payments", json=body, headers=headers).status_code == 500
    replay = paysim.client.post("/v1/payments", json=body, headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert len(paysim.payments()) == 2
    paysim.inject_fault(path="/v1/payments", delay=0.3)
    started = time.monotonic()
    new(paysim)
    assert time.monotonic() - started >= 0.3
    paysim.inject_fault(method="GET", path="/v1/payments", drop_connection=True)
    with pytest.raises(requests.ConnectionError):
        paysim.client.get("/v1/payments")
    paysim.inject_fault(path="/v1/payments", status=429)
    with pytest.raises(errors.InjectedFault):
        new(paysim)


def test_clock(paysim):
    paysim.clock.freeze("2030-01-02T03:04:05Z")
    assert paysim.clock.frozen
    assert paysim.clock.now() == datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    payment = new(paysim)
    assert payment["created_at"] == "2030-01-02T03:04:05.000Z"
    paysim.clock.advance(60)
    assert paysim.pay(payment["id"])["updated_at"] == "2030-01-02T03:05:05.000Z"
    paysim.clock.unfreeze()
    assert not paysim.clock.frozen


def test_webhooks_log(paysim, paysim_webhooks):
    payment = paysim.pay(new(paysim)["id"])
    delivery = paysim_webhooks.wait_for("payment.succeeded", payment_id=payment["id"])
    assert delivery.url is None
    assert delivery.verify()["data"]["object"]["status"] == "succeeded"
    assert paysim_webhooks.types == ["payment.created", "payment.succeeded"]
    paysim_webhooks.assert_all_signed()


def test_rotation(paysim, paysim_webhooks):
    old = paysim.webhook_secret
    rotated = paysim.rotate_webhook_secret()
    assert rotated != old
    assert paysim.webhook_secret == rotated
    new(paysim)
    delivery = paysim_webhooks.wait_for("payment.created")
    assert delivery.verify(old) == delivery.verify(rotated)


@pytest.mark.paysim(seed=99, outcome="fail")
def test_marker(paysim):
    payment = new(paysim)
    assert payment["id"] == IdGenerator(99).new("pay")
    assert paysim.pay(payment["id"])["status"] == "failed"


def test_server_members(paysim_server):
    assert paysim_server.url == os.environ["PAYSIM_URL"] == os.environ["SERVED_URL"]
    assert paysim_server.api_key == os.environ["PAYSIM_API_KEY"] == os.environ["SERVED_KEY"]
    assert paysim_server.webhook_secret.startswith("whsec_")
    assert paysim_server.webhook_public_key is None
    assert paysim_server.url_for("/health") == paysim_server.url + "/health"
    assert paysim_server.client.get("/health").json()["status"] == "ok"


def test_intercept_forwards_to_the_server(paysim, paysim_server):
    paysim.intercept(FAKE_GATEWAY)
    made = requests.post(
        FAKE_GATEWAY + "/v1/payments",
        json={"amount": 42, "currency": "usd"},
        headers={"Authorization": "Bearer " + paysim_server.api_key},
    )
    assert made.status_code == 201
    assert [p["id"] for p in paysim.payments()] == [made.json()["id"]]


def test_route_webhooks_needs_the_simulator_in_process(paysim):
    with pytest.raises(errors.ConfigurationError):
        paysim.route_webhooks("https://shop.example", lambda environ, start_response: [])

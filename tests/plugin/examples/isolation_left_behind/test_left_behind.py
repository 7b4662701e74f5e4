import time

import pytest
import requests
from paysim_out import record


def test_a_leaves_a_slow_create_behind(paysim):
    paysim.inject_fault(method="POST", path="/v1/payments", delay=1.0)
    with pytest.raises(requests.Timeout):
        paysim.client.post(
            "/v1/payments",
            json={
                "amount": 500,
                "currency": "usd",
                "metadata": {"webhook_url": "http://127.0.0.1:9/x"},
            },
            headers={"Idempotency-Key": "a-left-this"},
            timeout=0.1,
        )


def test_b_sees_nothing_of_it(paysim, paysim_webhooks):
    time.sleep(1.5)  # A's request wakes up during this test
    record("payments", paysim.payments())
    record("events", paysim.client.get("/v1/events").json()["data"])
    record("deliveries", [d.type for d in paysim_webhooks])
    record("first_id", paysim.create_payment(amount=100, currency="usd")["id"])

import os
import time

import pytest
import requests
from paysim_helpers import closed_port
from paysim_out import record

from pytest_paysim import errors

DEAD = f"http://127.0.0.1:{closed_port()}/hooks"


def test_1_leaves_state_behind(paysim):
    payment = paysim.create_payment(amount=100, currency="usd", metadata={"webhook_url": DEAD})
    paysim.force_outcome("fail", times=None, required=False)
    paysim.force_refund_outcome("fail", times=None, required=False)
    paysim.inject_fault(path="/v1/events", times=None, required=False)
    paysim.clock.freeze("2001-01-01T00:00:00Z")
    paysim.add_webhook_endpoint(DEAD)
    paysim.rotate_webhook_secret()
    record("leftover", payment["id"])


def test_2_starts_from_scratch(paysim, paysim_server, paysim_webhooks):
    with pytest.raises(errors.ResourceMissing):
        paysim.get_payment(LEFTOVER())
    assert paysim.payments() == []
    payment = paysim.create_payment(amount=100, currency="usd")
    assert paysim.pay(payment["id"], "succeed")["status"] == "succeeded"
    assert paysim.refund(payment["id"])["status"] == "succeeded"
    assert paysim.client.get("/v1/events").status_code == 200
    assert not paysim.clock.frozen
    assert abs(paysim.clock.now().timestamp() - time.time()) < 60
    assert paysim.client.get("/v1/webhook_endpoints").json()["data"] == []
    assert paysim.webhook_secret == paysim_server.webhook_secret
    assert paysim.webhook_secret == os.environ["PAYSIM_WEBHOOK_SECRET"]
    time.sleep(0.4)  # test 1's failed deliveries are being retried meanwhile
    assert [d.url for d in paysim_webhooks] == [None, None, None]
    assert paysim_webhooks.types == ["payment.created", "payment.succeeded", "payment.refunded"]
    paysim_webhooks.assert_all_signed()


@pytest.fixture
def order():
    # An application fixture: it pays through the app's own client, not through paysim.
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + os.environ["PAYSIM_API_KEY"]
    url = os.environ["PAYSIM_URL"] + "/v1/payments"
    made = session.post(url, json={"amount": 1, "currency": "usd"})
    return made.json()["id"]


def test_3_the_reset_comes_before_other_fixtures(order, paysim):
    assert [payment["id"] for payment in paysim.payments()] == [order]


def LEFTOVER():
    import json
    import pathlib

    return json.loads((pathlib.Path(os.environ["PLUGIN_TEST_OUT"]) / "leftover.json").read_text())

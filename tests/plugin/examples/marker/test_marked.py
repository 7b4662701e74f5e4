import os
import time
from datetime import datetime, timezone

import pytest
import requests
from paysim_helpers import Receiver

from pytest_paysim.core.ids import IdGenerator


@pytest.mark.paysim(outcome="fail")
def test_outcome_without_asking_for_the_fixture():
    # The marker brings in the paysim fixture: the app's own requests see the forced outcome.
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + os.environ["PAYSIM_API_KEY"]
    url = os.environ["PAYSIM_URL"]
    payment = session.post(url + "/v1/payments", json={"amount": 5, "currency": "usd"}).json()
    for _ in range(2):  # every attempt, not only the first
        paid = session.post(f"{url}/v1/payments/{payment['id']}/pay", json={"outcome": "succeed"})
        assert paid.json()["status"] == "failed"


@pytest.mark.paysim(outcome="abandon")
class TestMarkedClass:
    def test_the_class_marker_applies(self, paysim):
        payment = paysim.create_payment(amount=5, currency="usd")
        assert paysim.pay(payment["id"])["status"] == "requires_payment_method"


@pytest.mark.paysim(seed=1234)
def test_seed(paysim):
    assert paysim.seed == 1234
    assert paysim.create_payment(amount=5, currency="usd")["id"] == IdGenerator(1234).new("pay")


@pytest.mark.paysim(signature="standard")
def test_signature_standard(paysim, paysim_webhooks):
    paysim.create_payment(amount=5, currency="usd")
    delivery = paysim_webhooks.wait_for("payment.created")
    assert delivery.headers["webhook-signature"].startswith("v1,")
    assert delivery.verify()["type"] == "payment.created"


@pytest.mark.paysim(signature="ed25519")
def test_signature_ed25519(paysim, paysim_webhooks):
    paysim.create_payment(amount=5, currency="usd")
    delivery = paysim_webhooks.wait_for("payment.created")
    assert delivery.headers["webhook-signature"].startswith("v1a,")
    assert paysim.webhook_public_key.startswith("whpk_")
    assert delivery.verify(paysim.webhook_public_key)["type"] == "payment.created"


def test_unmarked_uses_the_session_signature(paysim, paysim_webhooks):
    paysim.create_payment(amount=5, currency="usd")
    assert "Paysim-Signature" in paysim_webhooks.wait_for("payment.created").headers


@pytest.mark.paysim(delivery="sync")
def test_delivery_sync(paysim, paysim_webhooks):
    receiver = Receiver(delay=0.3)
    started = time.monotonic()
    paysim.create_payment(amount=5, currency="usd", metadata={"webhook_url": receiver.url})
    assert time.monotonic() - started >= 0.3
    assert [d.status_code for d in paysim_webhooks] == [200]  # delivered before the answer


def test_delivery_async_by_default(paysim, paysim_webhooks):
    receiver = Receiver(delay=3.0)
    started = time.monotonic()
    paysim.create_payment(amount=5, currency="usd", metadata={"webhook_url": receiver.url})
    assert time.monotonic() - started < 2.0  # the answer did not wait for the receiver
    assert len(paysim_webhooks) == 0  # the attempt is still in flight


@pytest.mark.paysim(clock="2031-05-06T07:08:09Z")
def test_clock(paysim):
    assert paysim.clock.frozen
    assert paysim.clock.now() == datetime(2031, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    payment = paysim.create_payment(amount=5, currency="usd")
    assert payment["created_at"] == "2031-05-06T07:08:09.000Z"


@pytest.mark.paysim(auto_success_rate=1.0)
def test_auto_success_rate_one(paysim):
    made = [paysim.create_payment(amount=5, currency="usd", simulate="auto") for _ in range(8)]
    assert {p["status"] for p in made} == {"succeeded"}


@pytest.mark.paysim(auto_success_rate=0.0)
def test_auto_success_rate_zero(paysim):
    made = [paysim.create_payment(amount=5, currency="usd", simulate="auto") for _ in range(8)]
    assert {p["status"] for p in made} == {"failed"}


@pytest.mark.paysim(colour="red")
def test_unknown_marker_argument():
    pass

import os

import requests
from paysim_out import record

from pytest_paysim.webhooks import verify

URL = os.environ["PAYSIM_URL"]
API_KEY = os.environ["PAYSIM_API_KEY"]
WEBHOOK_SECRET = os.environ["PAYSIM_WEBHOOK_SECRET"]
PUBLIC_KEY = os.environ["PAYSIM_WEBHOOK_PUBLIC_KEY"]


def test_import_time_settings_are_the_servers(paysim_server, conftest_settings):
    assert conftest_settings == {
        "url": URL,
        "api_key": API_KEY,
        "webhook_secret": WEBHOOK_SECRET,
        "public_key": PUBLIC_KEY,
    }
    assert (paysim_server.url, paysim_server.api_key) == (URL, API_KEY)
    assert paysim_server.webhook_secret == WEBHOOK_SECRET
    assert WEBHOOK_SECRET.startswith("whsk_")
    assert PUBLIC_KEY.startswith("whpk_")
    assert paysim_server.webhook_public_key == PUBLIC_KEY
    response = requests.get(URL + "/v1/payments", headers={"Authorization": "Bearer " + API_KEY})
    assert response.status_code == 200
    record("env", {"url": URL})


def test_the_public_key_verifies_webhooks(paysim, paysim_webhooks):
    payment = paysim.create_payment(amount=1999, currency="usd")
    delivery = paysim_webhooks.wait_for("payment.created")
    event = verify(delivery.body, delivery.headers, PUBLIC_KEY)
    assert event["data"]["object"]["id"] == payment["id"]

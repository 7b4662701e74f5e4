import os

import requests


def test_https_and_db(paysim, paysim_server):
    assert paysim_server.url.startswith("https://")
    assert os.environ["REQUESTS_CA_BUNDLE"] == paysim_server.ca_file
    assert requests.get(paysim_server.url_for("/health")).json()["status"] == "ok"
    payment = paysim.create_payment(amount=500, currency="eur")
    assert paysim.get_payment(payment["id"])["amount"] == 500
    assert os.path.exists("state.sqlite")

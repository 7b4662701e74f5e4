import os

import pytest
import requests
from paysim_out import record

IMPORTED_URL = os.environ["PAYSIM_URL"]


@pytest.mark.parametrize("n", range(6))
def test_worker(paysim, paysim_server, n):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    assert IMPORTED_URL == os.environ["PAYSIM_URL"] == paysim_server.url
    assert requests.get(paysim_server.url + "/health").status_code == 200
    payment = paysim.create_payment(amount=5, currency="usd")
    assert [p["id"] for p in paysim.payments()] == [payment["id"]]
    record(f"test{n}", {"worker": worker, "url": paysim_server.url, "seed": paysim_server.seed})

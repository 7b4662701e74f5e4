"""Every member of the ``paysim``, ``paysim_server`` and ``paysim_webhooks`` fixtures.

One generated module (run once) holds a test per member; a second one checks that state left
behind by one test is gone in the next.
"""

from __future__ import annotations

from plugin_support import Runner

HELPERS = '''
"""A webhook receiver on a real socket, for the generated tests."""
import http.server
import threading


class Receiver:
    def __init__(self, status=200, delay=0.0):
        self.bodies = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.bodies.append(body)
                if delay:
                    threading.Event().wait(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def closed_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
'''

MEMBERS = """
import os
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
import responses
from requests.adapters import HTTPAdapter

from paysim_helpers import Receiver, closed_port
from paysim_out import record
from pytest_paysim import errors
from pytest_paysim.core.ids import IdGenerator
from pytest_paysim.handle import raise_for_error

REAL_SEND = HTTPAdapter.send
FAKE_GATEWAY = f"http://127.0.0.1:{closed_port()}/gateway"


def new(paysim, **params):
    return paysim.create_payment(**{"amount": 1000, "currency": "usd", **params})


def test_force_outcome_times(paysim):
    payment = new(paysim)
    paysim.force_outcome("fail", times=2)
    assert paysim.pay(payment["id"], "succeed")["status"] == "failed"
    assert paysim.pay(payment["id"], "succeed")["status"] == "failed"
    assert paysim.pay(payment["id"], "succeed")["status"] == "succeeded"


def test_force_outcome_always_with_decline_code(paysim):
    paysim.force_outcome("fail", times=None, decline_code="insufficient_funds")
    for _ in range(3):
        paid = paysim.pay(new(paysim)["id"], "succeed")
        assert (paid["status"], paid["decline_code"]) == ("failed", "insufficient_funds")
        assert paid["failure_code"] == "card_declined"


def test_force_outcome_of_one_payment_comes_first(paysim):
    one, other = new(paysim), new(paysim)
    paysim.force_outcome("fail", times=None)
    paysim.force_outcome("abandon", payment_id=one["id"])
    assert paysim.pay(one["id"])["status"] == "requires_payment_method"
    assert paysim.pay(other["id"])["status"] == "failed"
    assert paysim.pay(one["id"])["status"] == "failed"


def test_forced_outcome_needs_no_outcome_in_the_request(paysim):
    payment = new(paysim)
    paysim.force_outcome("succeed")
    response = paysim.client.post(f"/v1/payments/{payment['id']}/pay", json={})
    assert response.status_code == 200 and response.json()["status"] == "succeeded"


def test_force_refund_outcome(paysim, paysim_webhooks):
    payment = new(paysim)
    paysim.pay(payment["id"])
    paysim.force_refund_outcome("fail")
    failed = paysim.refund(payment["id"])
    assert failed["status"] == "failed"
    assert paysim.get_payment(payment["id"])["amount_refunded"] == 0
    assert paysim.refund(payment["id"], amount=300)["status"] == "succeeded"
    paysim_webhooks.wait_for("payment.refund_failed", payment_id=payment["id"])


def test_fault_before_never_executes_and_a_retry_executes(paysim):
    paysim.inject_fault(method="POST", path="/v1/payments", status=503)
    body, headers = {"amount": 700, "currency": "usd"}, {"Idempotency-Key": "order-1"}
    first = paysim.client.post("/v1/payments", json=body, headers=headers)
    assert first.status_code == 503
    assert first.json()["error"]["code"] == "injected_fault"
    assert paysim.payments() == []
    retry = paysim.client.post("/v1/payments", json=body, headers=headers)
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert [p["id"] for p in paysim.payments()] == [retry.json()["id"]]


def test_fault_after_executes_and_the_retry_replays(paysim):
    payment = new(paysim)
    paysim.pay(payment["id"])
    paysim.inject_fault(path="/v1/payments/*/refund", status=502, when="after")
    path, headers = f"/v1/payments/{payment['id']}/refund", {"Idempotency-Key": "refund-1"}
    lost = paysim.client.post(path, json={"amount": 400}, headers=headers)
    assert lost.status_code == 502
    assert paysim.get_payment(payment["id"])["amount_refunded"] == 400
    retry = paysim.client.post(path, json={"amount": 400}, headers=headers)
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    refunds = paysim.get_payment(payment["id"])["refunds"]
    assert [r["id"] for r in refunds] == [retry.json()["id"]]
    assert paysim.get_payment(payment["id"])["amount_refunded"] == 400


def test_fault_delay_drop_and_status(paysim):
    paysim.inject_fault(path="/v1/payments", delay=0.3)
    started = time.monotonic()
    payment = new(paysim)
    assert time.monotonic() - started >= 0.3
    assert paysim.get_payment(payment["id"])["status"] == "requires_payment_method"
    paysim.inject_fault(method="GET", path="/v1/payments/*", drop_connection=True)
    with pytest.raises(requests.ConnectionError):
        paysim.get_payment(payment["id"])
    assert paysim.get_payment(payment["id"])["id"] == payment["id"]
    paysim.inject_fault(path="/v1/payments", status=429, times=2)
    for _ in range(2):
        with pytest.raises(errors.InjectedFault) as info:
            new(paysim)
        assert info.value.status_code == 429
    assert len(paysim.payments()) == 1
    new(paysim)
    assert len(paysim.payments()) == 2


def test_clock(paysim):
    at = paysim.clock.freeze("2030-01-02T03:04:05Z")
    assert at == paysim.clock.now() == datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert paysim.clock.frozen
    payment = new(paysim)
    assert payment["created_at"] == "2030-01-02T03:04:05.000Z"
    paysim.clock.advance(90)
    assert paysim.pay(payment["id"])["updated_at"] == "2030-01-02T03:05:35.000Z"
    assert paysim.clock.advance(timedelta(days=1)) == datetime(
        2030, 1, 3, 3, 5, 35, tzinfo=timezone.utc
    )
    with pytest.raises(ValueError):
        paysim.clock.advance(-1)
    moved = paysim.clock.unfreeze()
    assert not paysim.clock.frozen
    time.sleep(0.02)
    assert paysim.clock.now() > moved
    paysim.clock.freeze()
    assert paysim.clock.now() == paysim.clock.now()


def test_http_conveniences(paysim):
    first = new(paysim, currency="EUR", capture_method="manual", description="order 1")
    assert (first["currency"], first["description"]) == ("eur", "order 1")
    assert paysim.pay(first["id"])["status"] == "authorized"
    assert paysim.capture(first["id"], amount=600)["amount_captured"] == 600
    refund = paysim.refund(first["id"], amount=100, reason="requested_by_customer")
    assert (refund["object"], refund["amount"]) == ("refund", 100)
    assert refund["reason"] == "requested_by_customer"
    assert paysim.get_payment(first["id"])["amount_refunded"] == 100
    second = new(paysim)
    assert paysim.cancel(second["id"])["status"] == "canceled"
    third = new(paysim)
    declined = paysim.pay(third["id"], card_number="4000 0000 0000 9995")
    assert (declined["status"], declined["decline_code"]) == ("failed", "insufficient_funds")
    assert paysim.capture(paysim.pay(new(paysim)["id"])["id"])["status"] == "captured"
    ids = [p["id"] for p in paysim.payments()]
    assert ids[1:] == [third["id"], second["id"], first["id"]]
    assert [p["id"] for p in paysim.payments(status="canceled")] == [second["id"]]


def test_payments_reads_every_page(paysim):
    made = [new(paysim)["id"] for _ in range(103)]
    assert [p["id"] for p in paysim.payments()] == made[::-1]


def test_errors_are_the_api_error_of_their_code(paysim):
    with pytest.raises(errors.ResourceMissing) as info:
        paysim.get_payment("pay_nothere")
    assert info.value.param == "id"
    missing = paysim.client.post("/v1/payments", json={"currency": "usd"})
    with pytest.raises(errors.ParameterMissing) as info:
        raise_for_error(missing.status_code, missing.content)
    assert info.value.param == "amount"
    payment = new(paysim)
    paysim.cancel(payment["id"])
    with pytest.raises(errors.PaymentUnexpectedState) as info:
        paysim.pay(payment["id"])
    assert info.value.payment_id == payment["id"]
    paid = paysim.pay(new(paysim)["id"])
    with pytest.raises(errors.AmountTooLarge):
        paysim.refund(paid["id"], amount=5000)
    with pytest.raises(ValueError):
        paysim.force_outcome("explode")
    assert issubclass(errors.AmountTooLarge, errors.ApiError)


def test_webhook_endpoint_and_rotation(paysim, paysim_webhooks, paysim_server):
    receiver = Receiver()
    try:
        endpoint = paysim.add_webhook_endpoint(receiver.url, events=["payment.succeeded"])
        assert endpoint["id"].startswith("we_") and endpoint["secret"].startswith("whsec_")
        payment = paysim.pay(new(paysim)["id"])
        delivery = paysim_webhooks.wait_for("payment.succeeded", payment_id=payment["id"])
        assert (delivery.url, delivery.status_code, delivery.succeeded) == (receiver.url, 200, True)
        assert delivery.verify(endpoint["secret"])["type"] == "payment.succeeded"
        assert receiver.bodies == [delivery.body]
        # Not subscribed: payment.created was only captured (signed, not sent).
        assert [d.type for d in paysim_webhooks.filter(url=None)] == ["payment.created"]
    finally:
        receiver.close()
    old = paysim_server.webhook_secret
    assert paysim.webhook_secret == old == os.environ["PAYSIM_WEBHOOK_SECRET"]
    new_secret = paysim.rotate_webhook_secret()
    assert new_secret != old and paysim.webhook_secret == new_secret
    rotated = new(paysim)
    delivery = paysim_webhooks.wait_for("payment.created", payment_id=rotated["id"])
    assert delivery.headers["Paysim-Signature"].count("v1=") == 2
    assert delivery.verify(old) == delivery.verify(new_secret) == delivery.event
    paysim_webhooks.assert_all_signed()


def test_reset_method(paysim, paysim_webhooks, paysim_server):
    first_id = new(paysim)["id"]
    paysim.force_outcome("fail", times=None)
    paysim.inject_fault(path="/v1/events", times=None)
    paysim.clock.freeze("2001-01-01T00:00:00Z")
    paysim.rotate_webhook_secret()
    paysim.reset()
    assert paysim.payments() == [] and len(paysim_webhooks) == 0
    assert paysim_webhooks is paysim.webhooks
    assert paysim.client.get("/v1/events").status_code == 200
    assert not paysim.clock.frozen
    assert paysim.webhook_secret == paysim_server.webhook_secret
    payment = new(paysim)
    assert payment["id"] == first_id  # the generator restarts: ids repeat
    assert paysim.pay(payment["id"])["status"] == "succeeded"
    assert paysim_webhooks.types == ["payment.created", "payment.succeeded"]


def test_seed_makes_the_ids(paysim):
    ids = IdGenerator(paysim.seed)
    assert new(paysim)["id"] == ids.new("pay")


def test_server_members(paysim_server):
    assert paysim_server.url.startswith("http://127.0.0.1:")
    assert paysim_server.api_key.startswith("sk_test_") and len(paysim_server.api_key) == 32
    assert paysim_server.webhook_secret.startswith("whsec_")
    assert paysim_server.webhook_public_key is None
    assert paysim_server.ca_file is None
    assert paysim_server.url_for("/health") == paysim_server.url + "/health"
    assert paysim_server.client.get("/health").json()["status"] == "ok"
    made = paysim_server.client.post("/v1/payments", json={"amount": 5, "currency": "usd"})
    assert made.status_code == 201
    # A test that asks only for the server still starts from a reset simulator (the test
    # before left a payment).
    listed = paysim_server.client.get("/v1/payments").json()["data"]
    assert [p["id"] for p in listed] == [made.json()["id"]]


def test_webhooks_fixture_is_the_handles_log(paysim, paysim_webhooks):
    assert paysim_webhooks is paysim.webhooks
    new(paysim)
    assert paysim_webhooks.types == ["payment.created"]
    paysim.reset()
    assert paysim_webhooks is paysim.webhooks and len(paysim_webhooks) == 0


def test_intercept_routes_a_fake_gateway_into_the_simulator(paysim, paysim_server):
    paysim.intercept(FAKE_GATEWAY)
    auth = {"Authorization": "Bearer " + paysim_server.api_key}
    made = requests.post(FAKE_GATEWAY + "/v1/payments", json={"amount": 9, "currency": "usd"},
                         headers=auth)
    assert made.status_code == 201
    assert [p["id"] for p in paysim.payments()] == [made.json()["id"]]
    fetched = requests.get(f"{FAKE_GATEWAY}/v1/payments/{made.json()['id']}", headers=auth)
    assert fetched.json()["amount"] == 9
    # Everything else goes out as usual.
    assert requests.get(paysim_server.url + "/health").json()["status"] == "ok"


def test_intercept_leaves_the_tests_own_responses_mocks_working(paysim, paysim_server):
    with responses.RequestsMock() as mock:
        mock.get("http://mocked.example/thing", json={"mine": True})
        paysim.intercept(FAKE_GATEWAY)
        assert requests.get("http://mocked.example/thing").json() == {"mine": True}
        health = requests.get(FAKE_GATEWAY + "/health")
        assert health.json()["status"] == "ok"
    # The test's mock ended before the paysim teardown: both undone in the wrong order.


def test_intercept_is_undone_after_the_test():
    assert HTTPAdapter.send is REAL_SEND
    with pytest.raises(requests.ConnectionError):
        requests.get(FAKE_GATEWAY + "/health", timeout=5)


def test_route_webhooks_into_a_wsgi_app(paysim, paysim_webhooks):
    received = []

    def shop(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        received.append((environ["PATH_INFO"], environ["wsgi.input"].read(length)))
        start_response("204 No Content", [])
        return [b""]

    paysim.route_webhooks("https://shop.example", shop)
    payment = new(paysim, metadata={"webhook_url": "https://shop.example/hooks/paysim"})
    paysim.pay(payment["id"])
    delivery = paysim_webhooks.wait_for("payment.succeeded")
    assert (delivery.status_code, delivery.succeeded) == (204, True)
    assert ("/hooks/paysim", delivery.body) in received
    paysim_webhooks.assert_sequence(["payment.created", "payment.succeeded"])
"""

RESET = """
import os
import time

import pytest
import requests

from paysim_out import record
from paysim_helpers import closed_port
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
    import json, pathlib
    return json.loads((pathlib.Path(os.environ["PLUGIN_TEST_OUT"]) / "leftover.json").read_text())
"""


def test_every_member_of_the_fixtures(run: Runner) -> None:
    run.pytester.makepyfile(paysim_helpers=HELPERS, test_members=MEMBERS, test_reset=RESET)
    result = run("--paysim")
    result.assert_outcomes(passed=24)

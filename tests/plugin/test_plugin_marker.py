"""The ``paysim`` marker's per-test overrides, and simulator bugs failing the test."""

from __future__ import annotations

from plugin_support import Runner

MARKED = """
import os
import time
from datetime import datetime, timezone

import pytest
import requests

from paysim_helpers import SlowReceiver
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
    receiver = SlowReceiver(0.3)
    started = time.monotonic()
    paysim.create_payment(amount=5, currency="usd", metadata={"webhook_url": receiver.url})
    assert time.monotonic() - started >= 0.3
    assert [d.status_code for d in paysim_webhooks] == [200]  # delivered before the answer


def test_delivery_async_by_default(paysim, paysim_webhooks):
    receiver = SlowReceiver(3.0)
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
"""

SLOW_RECEIVER = '''
import http.server
import threading


class SlowReceiver:
    """Answers 200 to webhooks after ``delay`` seconds."""

    def __init__(self, delay):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                threading.Event().wait(delay)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.url = f"http://127.0.0.1:{server.server_port}/hooks"
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
'''

BUGS = """
import pytest

from pytest_paysim import errors


def break_get_payment(simulator):
    def broken(payment_id):
        raise RuntimeError("simulated bug in get_payment")

    simulator.get_payment = broken


def test_a_500_fails_a_test_that_passes(paysim, paysim_server):
    payment = paysim.create_payment(amount=5, currency="usd")
    break_get_payment(paysim_server.simulator)
    try:
        response = paysim.client.get(f"/v1/payments/{payment['id']}")
    finally:
        del paysim_server.simulator.get_payment
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "simulated bug" not in response.text  # never a stack trace in the answer


def test_a_500_shows_before_the_tests_own_failure(paysim, paysim_server):
    payment = paysim.create_payment(amount=5, currency="usd")
    break_get_payment(paysim_server.simulator)
    try:
        paysim.get_payment(payment["id"])
    finally:
        del paysim_server.simulator.get_payment


@pytest.fixture
def broken_at_teardown(paysim, paysim_server):
    payment = paysim.create_payment(amount=5, currency="usd")
    yield
    break_get_payment(paysim_server.simulator)
    try:
        paysim.client.get(f"/v1/payments/{payment['id']}")
    finally:
        del paysim_server.simulator.get_payment


def test_a_500_in_teardown_is_an_error(broken_at_teardown):
    pass


def test_injected_faults_are_not_bugs(paysim):
    paysim.inject_fault(path="/v1/payments", status=500)
    with pytest.raises(errors.InjectedFault):
        paysim.create_payment(amount=5, currency="usd")


def test_the_next_test_is_clean(paysim):
    assert paysim.payments() == []
    assert paysim.unexpected_errors() == []
"""


def test_marker_overrides(run: Runner) -> None:
    run.pytester.makepyfile(paysim_helpers=SLOW_RECEIVER, test_marked=MARKED)
    result = run("--paysim")
    result.assert_outcomes(passed=11, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_unknown_marker_argument*",
            "*@pytest.mark.paysim takes keyword arguments only, from auto_success_rate, clock, "
            "delivery, outcome, seed, signature; got colour",
        ]
    )


def test_an_unexpected_simulator_exception_fails_the_test(run: Runner) -> None:
    run.pytester.makepyfile(test_bugs=BUGS)
    result = run("--paysim")
    result.assert_outcomes(passed=3, failed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at teardown of test_a_500_in_teardown_is_an_error _*",
            "the paysim simulator raised an unexpected exception during this test*",
            "RuntimeError: simulated bug in get_payment",
            "*_ test_a_500_fails_a_test_that_passes _*",
            "the paysim simulator raised an unexpected exception during this test "
            "(a 500 nobody injected):",
            "Traceback (most recent call last):",
            "*in get_payment*",
            "RuntimeError: simulated bug in get_payment",
            "*_ test_a_500_shows_before_the_tests_own_failure _*",
            "the paysim simulator raised an unexpected exception during this test*",
            "RuntimeError: simulated bug in get_payment",
            "The test then failed with InternalError: *",
        ]
    )

"""The pytest process ends promptly, whatever is still in flight at the end of the session."""

from __future__ import annotations

from plugin_support import Runner

HANGING = """
import socket
import threading

import pytest

# A receiver that accepts connections and never answers.
LISTENER = socket.socket()
LISTENER.bind(("127.0.0.1", 0))
LISTENER.listen(16)
HANGING_URL = "http://127.0.0.1:%d/hooks" % LISTENER.getsockname()[1]


def test_webhook_to_a_receiver_that_hangs(paysim, paysim_webhooks):
    payment = paysim.create_payment(amount=5, currency="usd", metadata={"webhook_url": HANGING_URL})
    paysim.pay(payment["id"])
    paysim.add_webhook_endpoint(HANGING_URL)
    paysim.create_payment(amount=6, currency="usd")


def test_a_request_still_waiting_on_an_injected_delay(paysim):
    # Not required: the thread below may not reach the server before the test ends.
    paysim.inject_fault(path="/v1/payments", delay=60, required=False)

    def create():
        try:
            paysim.create_payment(amount=5, currency="usd")
        except Exception:
            pass  # the server goes away at the end of the session

    threading.Thread(target=create, daemon=True).start()
"""


def test_no_hang_at_exit(run: Runner) -> None:
    run.pytester.makeini("[pytest]\npaysim_webhook_timeout = 120\n")
    run.pytester.makepyfile(test_hanging=HANGING)
    result = run("--paysim", timeout=60)
    result.assert_outcomes(passed=2, warnings=0)
    assert result.duration < 15, result.duration

import contextlib
import threading
import time

from paysim_out import record


def test_a_leaves_a_slow_request_behind(paysim):
    paysim.inject_fault(method="POST", path="/v1/payments", delay=0.6)

    def send():
        with contextlib.suppress(Exception):
            paysim.client.post("/v1/payments", json={"amount": 1, "currency": "usd"}, timeout=5)

    threading.Thread(target=send, daemon=True).start()
    time.sleep(0.2)  # the request is in the simulator, slowed by the fault


def test_b_never_sees_it(paysim):
    time.sleep(0.8)  # the slow request of test a ends meanwhile
    record("calls", [call.describe() for call in paysim.calls])

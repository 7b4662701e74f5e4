import contextlib
import socket
import threading

# A receiver that accepts connections and never answers.
LISTENER = socket.socket()
LISTENER.bind(("127.0.0.1", 0))
LISTENER.listen(16)
HANGING_URL = f"http://127.0.0.1:{LISTENER.getsockname()[1]}/hooks"


def test_webhook_to_a_receiver_that_hangs(paysim, paysim_webhooks):
    payment = paysim.create_payment(amount=5, currency="usd", metadata={"webhook_url": HANGING_URL})
    paysim.pay(payment["id"])
    paysim.add_webhook_endpoint(HANGING_URL)
    paysim.create_payment(amount=6, currency="usd")


def test_a_request_still_waiting_on_an_injected_delay(paysim):
    # Not required: the thread below may not reach the server before the test ends.
    paysim.inject_fault(path="/v1/payments", delay=60, required=False)

    def create():
        # The server goes away at the end of the session.
        with contextlib.suppress(Exception):
            paysim.create_payment(amount=5, currency="usd")

    threading.Thread(target=create, daemon=True).start()

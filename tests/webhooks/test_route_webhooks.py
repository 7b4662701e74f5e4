"""``paysim.route_webhooks(base_url, wsgi_app)``: deliveries reach a Flask app in process.

The base URL is a loopback port nothing listens on, so a delivery that succeeds there cannot
have used a socket. Other requests (the API calls, deliveries to a real receiver) pass through,
and ``close()`` undoes the routing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
import pytest

from pytest_paysim.errors import WebhookVerificationError
from pytest_paysim.webhooks import verify
from tests.support.receivers import Receiver, closed_port_url
from tests.support.webhooks import Env, stripe_verify

MakeEnv = Callable[..., Env]


def make_app(secret: str) -> tuple[flask.Flask, list[dict[str, Any]]]:
    """A shop's webhook handler: verifies the signature, remembers the event, answers 204."""
    app = flask.Flask("shop")
    seen: list[dict[str, Any]] = []

    @app.post("/webhooks/paysim")
    def paysim_webhook() -> Any:
        body = flask.request.get_data()
        try:
            event = verify(body, flask.request.headers, secret)
        except WebhookVerificationError as error:
            return {"error": str(error)}, 400
        seen.append(
            {
                "event": event,
                "body": body,
                "headers": dict(flask.request.headers),
                "remote": flask.request.remote_addr,
            }
        )
        return "", 204

    return app, seen


@pytest.mark.parametrize("delivery", ["async", "sync"])
def test_deliveries_reach_a_flask_app_in_process(
    make_env: MakeEnv, receiver: Receiver, delivery: str
) -> None:
    env = make_env(delivery=delivery)
    app, seen = make_app(env.paysim.webhook_secret)
    base_url = closed_port_url(path="")
    env.paysim.route_webhooks(base_url, app)

    payment = env.payment(base_url + "/webhooks/paysim")  # the API call itself passes through
    env.paysim.pay(payment["id"])
    delivered = env.webhooks.wait_for("payment.succeeded")

    assert (delivered.status_code, delivered.succeeded, delivered.error) == (204, True, None)
    assert [item["event"]["type"] for item in seen] == ["payment.created", "payment.succeeded"]
    assert seen[1]["body"] == delivered.body  # the exact bytes
    assert seen[1]["headers"]["Paysim-Signature"] == delivered.headers["Paysim-Signature"]
    assert seen[1]["headers"]["Paysim-Delivery-Attempt"] == "1"
    stripe_verify(seen[1]["body"], seen[1]["headers"], env.paysim.webhook_secret)

    # Other requests pass through: a real receiver still gets its deliveries over loopback.
    other = env.payment(receiver.url)
    [got] = receiver.wait_for(1)
    assert got.event()["data"]["object"]["id"] == other["id"]
    assert len(seen) == 2

    # After a rotation the app, holding only the old secret, still accepts (two signatures).
    env.paysim.rotate_webhook_secret()
    env.paysim.cancel(env.payment(base_url + "/webhooks/paysim")["id"])
    assert env.webhooks.wait_for("payment.canceled").status_code == 204

    env.paysim.close()
    after = env.payment(base_url + "/webhooks/paysim")
    refused = env.webhooks.wait_for("payment.created", payment_id=after["id"])
    assert (refused.status_code, refused.error) == (None, "connection error")
    assert len(seen) == 4  # created + canceled of the third payment before close, nothing after


def test_app_answers_are_recorded_and_retried(make_env: MakeEnv) -> None:
    env = make_env()
    app, seen = make_app("whsec_c29tZXRoaW5nIGVsc2U=")  # not the simulator's secret
    base_url = closed_port_url(path="")
    env.paysim.route_webhooks(base_url, app)

    env.payment(base_url + "/webhooks/paysim")
    deliveries = env.webhooks.wait_for("payment.created", count=3)
    assert [d.status_code for d in deliveries] == [400, 400, 400]
    assert [d.succeeded for d in deliveries] == [False] * 3
    assert [d.error for d in deliveries] == ["HTTP 400"] * 3
    assert seen == []

"""Webhook delivery to real receivers over loopback (SPEC section 8).

Targets, the body and headers on the wire, retries and their record, the simulator clock,
slow and dead receivers, order, isolation between tests and the ``sync`` mode.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from webhook_support import (
    DELIVERY_ID_RE,
    EVENT_ID_RE,
    TIME_RE,
    Env,
    Receiver,
    closed_port_url,
    stripe_verify,
)

import stripe
from pytest_paysim import __version__
from pytest_paysim.core.clock import parse_time
from pytest_paysim.webhooks import dispatcher as dispatcher_module

MakeReceiver = Callable[..., Receiver]
MakeEnv = Callable[..., Env]


# -- what goes on the wire ------------------------------------------------------------------


def test_body_and_headers_on_the_wire(env: Env, receiver: Receiver) -> None:
    payment = env.payment(receiver.url)

    [got] = receiver.wait_for(1)
    event = got.event()
    assert got.method == "POST"
    assert got.path == "/hooks"
    assert set(event) == {"id", "object", "type", "created_at", "data"}
    assert EVENT_ID_RE.match(event["id"])
    assert event["object"] == "event"
    assert event["type"] == "payment.created"
    assert TIME_RE.match(event["created_at"])
    assert event["created_at"] == payment["created_at"]
    assert event["data"] == {"object": payment}  # no "refund" outside refund events
    assert got.body.decode("utf-8")  # UTF-8 JSON
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"] == f"paysim/{__version__}"
    assert got.headers["Paysim-Event-Id"] == event["id"]
    assert got.headers["Paysim-Delivery-Attempt"] == "1"
    assert got.headers["Paysim-Signature"].startswith("t=")

    # The log holds exactly what was sent and what came back.
    delivery = env.webhooks.wait_for("payment.created")
    assert DELIVERY_ID_RE.match(delivery.id)
    assert delivery.body == got.body
    assert delivery.event_id == event["id"]
    assert delivery.event == event
    assert delivery.payment == payment
    assert delivery.url == receiver.url
    assert (delivery.attempt, delivery.status_code, delivery.succeeded) == (1, 200, True)
    assert delivery.error is None
    assert delivery.headers["Paysim-Signature"] == got.headers["Paysim-Signature"]

    # The event the API serves is the one delivered.
    served = env.server.client.get(f"/v1/events/{event['id']}").json()
    assert served["type"] == "payment.created"
    assert served["data"]["object"]["id"] == payment["id"]


def test_payment_in_each_event_is_as_of_that_event(env: Env, receiver: Receiver) -> None:
    payment = env.payment(receiver.url, capture_method="manual")
    env.paysim.pay(payment["id"])
    env.paysim.capture(payment["id"], amount=1500)

    events = [r.event() for r in receiver.wait_for(3)]
    assert [e["type"] for e in events] == [
        "payment.created",
        "payment.authorized",
        "payment.captured",
    ]
    statuses = [e["data"]["object"]["status"] for e in events]
    assert statuses == ["requires_payment_method", "authorized", "captured"]
    assert [e["data"]["object"]["amount_capturable"] for e in events] == [0, 1999, 0]
    assert [e["data"]["object"]["amount_captured"] for e in events] == [0, 0, 1500]


# -- targets --------------------------------------------------------------------------------


def test_targets_are_webhook_url_and_matching_endpoints(env: Env, receivers: MakeReceiver) -> None:
    by_url, everything, refunds_only, never = receivers(), receivers(), receivers(), receivers()
    all_endpoint = env.paysim.add_webhook_endpoint(everything.url)
    refund_endpoint = env.paysim.add_webhook_endpoint(refunds_only.url, events=["payment.refunded"])
    env.paysim.add_webhook_endpoint(never.url, events=["payment.canceled"])
    session_secret = env.paysim.webhook_secret
    assert len({session_secret, all_endpoint["secret"], refund_endpoint["secret"]}) == 3

    payment = env.payment(by_url.url)
    env.paysim.pay(payment["id"])
    env.paysim.refund(payment["id"], amount=100)
    other = env.payment()  # no webhook_url: the endpoints only

    expected = ["payment.created", "payment.succeeded", "payment.refunded"]
    assert [r.event()["type"] for r in by_url.wait_for(3)] == expected
    got_all = everything.wait_for(4)
    assert [r.event()["type"] for r in got_all] == [*expected, "payment.created"]
    assert got_all[3].event()["data"]["object"]["id"] == other["id"]
    [refund] = refunds_only.wait_for(1)
    assert refund.event()["type"] == "payment.refunded"
    env.webhooks.drain()
    assert never.count() == 0
    assert by_url.count() == 3
    assert everything.count() == 4
    assert refunds_only.count() == 1
    # Nothing was captured: every event had a target.
    assert env.webhooks.filter(url=None) == []

    # Each target is signed with its own secret, and only with it.
    cases = [
        (by_url.received, session_secret),
        (everything.received, all_endpoint["secret"]),
        (refunds_only.received, refund_endpoint["secret"]),
    ]
    secrets = [secret for _, secret in cases]
    for received, secret in cases:
        for request in received:
            stripe_verify(request.body, request.headers, secret)
            for wrong in secrets:
                if wrong != secret:
                    with pytest.raises(stripe.SignatureVerificationError):
                        stripe_verify(request.body, request.headers, wrong)
    env.webhooks.assert_all_signed()


def test_no_target_is_captured_signed_and_recorded(env: Env) -> None:
    payment = env.payment()

    delivery = env.webhooks.wait_for("payment.created")
    assert delivery.url is None
    assert delivery.succeeded is None
    assert delivery.status_code is None
    assert delivery.attempt == 1
    assert delivery.payment == payment
    assert delivery.headers["Paysim-Delivery-Attempt"] == "1"
    assert delivery.headers["Paysim-Event-Id"] == delivery.event_id
    assert delivery.verify(env.paysim.webhook_secret)["id"] == delivery.event_id
    assert env.webhooks.filter(url=None) == [delivery]
    [record] = env.api_deliveries(payment_id=payment["id"])
    assert record["url"] is None
    assert record["succeeded"] is None
    assert record["status_code"] is None
    assert record["next_attempt_at"] is None
    assert record["attempt"] == 1


def test_deleted_endpoint_gets_no_more_attempts(make_env: MakeEnv, receivers: MakeReceiver) -> None:
    env = make_env(webhook_retries=(0.3,))
    receiver = receivers([500])
    endpoint = env.paysim.add_webhook_endpoint(receiver.url)
    env.payment()
    first = env.webhooks.wait_for("payment.created")
    assert first.status_code == 500
    response = env.server.client.delete(f"/v1/webhook_endpoints/{endpoint['id']}")
    assert response.status_code == 200

    retry = env.webhooks.wait_for("payment.created", count=2, timeout=3)[1]
    assert retry.attempt == 2
    assert retry.succeeded is False
    assert retry.status_code is None
    assert retry.error == "not sent: the webhook endpoint was deleted"
    assert receiver.count() == 1  # never signed with the wrong secret, never sent
    env.webhooks.assert_all_signed()  # the unsent one has nothing to check


# -- retries --------------------------------------------------------------------------------


def test_retries_until_the_receiver_answers_2xx(env: Env, receivers: MakeReceiver) -> None:
    receiver = receivers([500, 500])  # then 200
    payment = env.payment(receiver.url)

    got = receiver.wait_for(3)
    assert [r.attempt for r in got] == [1, 2, 3]
    assert {r.event_id for r in got} == {got[0].event()["id"]}
    assert {r.body for r in got} == {got[0].body}  # the same bytes each time
    for request in got:
        stripe_verify(request.body, request.headers, env.paysim.webhook_secret)

    deliveries = env.webhooks.wait_for("payment.created", count=3)
    assert [d.attempt for d in deliveries] == [1, 2, 3]
    assert [d.status_code for d in deliveries] == [500, 500, 200]
    assert [d.succeeded for d in deliveries] == [False, False, True]
    assert [d.error for d in deliveries] == ["HTTP 500", "HTTP 500", None]
    assert [d.headers["Paysim-Delivery-Attempt"] for d in deliveries] == ["1", "2", "3"]
    assert len({d.id for d in deliveries}) == 3
    assert env.webhooks.types == ["payment.created"]  # first attempts only

    records = env.api_deliveries(payment_id=payment["id"])
    assert [r["attempt"] for r in records] == [3, 2, 1]  # newest first
    assert [r["status_code"] for r in records] == [200, 500, 500]
    assert records[0]["next_attempt_at"] is None
    for failed in records[1:]:
        assert parse_time(failed["next_attempt_at"]) >= parse_time(failed["sent_at"])


def test_after_the_last_attempt_the_delivery_stays_failed(
    env: Env, receivers: MakeReceiver
) -> None:
    receiver = receivers(default=500)
    payment = env.payment(receiver.url)

    deliveries = env.webhooks.wait_for("payment.created", count=3)
    env.webhooks.drain()
    env.webhooks.assert_not_received("payment.succeeded", within=0.2)
    assert receiver.count() == 3  # len(retries) + 1 attempts, no more
    last = deliveries[-1]
    assert (last.attempt, last.status_code, last.succeeded) == (3, 500, False)
    assert env.webhooks.filter(succeeded=False) == deliveries
    assert env.webhooks.filter(succeeded=True) == []

    [record, *_] = env.api_deliveries(payment_id=payment["id"])
    assert record["id"] == last.id
    assert record["attempt"] == 3
    assert record["succeeded"] is False
    assert record["status_code"] == 500
    assert record["error"] == "HTTP 500"
    assert record["next_attempt_at"] is None
    assert len(env.api_deliveries(event_id=last.event_id)) == 3


@pytest.mark.parametrize(
    ("make_url", "error"),
    [
        pytest.param(closed_port_url, "connection error", id="refused"),
        pytest.param(lambda: "http://a..b/hooks", "invalid url", id="unparsable-host"),
    ],
)
@pytest.mark.parametrize("delivery", ["async", "sync"])
def test_unreachable_receiver_is_a_recorded_failure(
    make_env: MakeEnv, make_url: Callable[[], str], error: str, delivery: str
) -> None:
    env = make_env(delivery=delivery)
    url = make_url()
    payment = env.payment(url)  # the API answers normally

    deliveries = env.webhooks.wait_for("payment.created", count=3)
    assert [d.error for d in deliveries] == [error] * 3
    assert [d.status_code for d in deliveries] == [None] * 3
    assert [d.succeeded for d in deliveries] == [False] * 3
    assert {d.url for d in deliveries} == {url}
    assert env.sim.unexpected_errors() == []
    # The URL's worker survived: a later event to it is attempted too.
    env.paysim.cancel(payment["id"])
    assert env.webhooks.wait_for("payment.canceled").error == error


def test_receiver_that_never_answers_times_out(make_env: MakeEnv, receivers: MakeReceiver) -> None:
    env = make_env(webhook_timeout=0.3, webhook_retries=(0.05,))
    receiver = receivers(hang=3.0)
    env.payment(receiver.url)

    started = time.perf_counter()
    deliveries = env.webhooks.wait_for("payment.created", count=2, timeout=3)
    elapsed = time.perf_counter() - started
    assert [d.error for d in deliveries] == ["timeout", "timeout"]
    assert [d.status_code for d in deliveries] == [None, None]
    assert [d.succeeded for d in deliveries] == [False, False]
    assert receiver.count() == 2
    assert 0.55 <= elapsed < 2.0  # two attempts of ~0.3 s each


def test_status_counts_even_if_the_body_never_ends(
    make_env: MakeEnv, receivers: MakeReceiver
) -> None:
    env = make_env(webhook_timeout=0.4)
    receiver = receivers(dribble=0.1)  # 200, then one byte every 0.1 s, forever
    started = time.perf_counter()
    env.payment(receiver.url)

    delivery = env.webhooks.wait_for("payment.created", timeout=3)
    assert time.perf_counter() - started < 1.5  # bounded by the per-attempt timeout
    assert (delivery.status_code, delivery.succeeded) == (200, True)
    assert receiver.count() == 1


# -- the simulator clock ----------------------------------------------------------------------


def test_frozen_clock_retry_fires_only_when_advanced_past_its_due_time(
    make_env: MakeEnv, receivers: MakeReceiver
) -> None:
    env = make_env(webhook_retries=(3600, 86400))
    receiver = receivers([500, 500])  # then 200
    frozen = env.paysim.clock.freeze()
    env.payment(receiver.url)

    first = env.webhooks.wait_for("payment.created")
    assert first.status_code == 500
    [record] = env.api_deliveries()
    assert parse_time(record["next_attempt_at"]) == pytest.approx(frozen.timestamp() + 3600)

    with pytest.raises(AssertionError, match="expected 2 deliveries"):
        env.webhooks.wait_for("payment.created", count=2, timeout=0.3)
    env.paysim.clock.advance(3599)  # one second short
    with pytest.raises(AssertionError, match="expected 2 deliveries"):
        env.webhooks.wait_for("payment.created", count=2, timeout=0.3)
    assert receiver.count() == 1

    env.paysim.clock.advance(1)
    second = env.webhooks.wait_for("payment.created", count=2, timeout=3)[1]
    assert (second.attempt, second.status_code) == (2, 500)
    with pytest.raises(AssertionError, match="expected 3 deliveries"):
        env.webhooks.wait_for("payment.created", count=3, timeout=0.2)

    env.paysim.clock.advance(86400)
    third = env.webhooks.wait_for("payment.created", count=3, timeout=3)[2]
    assert (third.attempt, third.status_code, third.succeeded) == (3, 200, True)
    assert receiver.count() == 3
    # Signed at send time on the wall clock, a day and an hour behind the simulator's.
    for request in receiver.received:
        stripe_verify(request.body, request.headers, env.paysim.webhook_secret)
        assert abs(int(request.headers["Paysim-Signature"][2:12]) - request.wall) < 5


# -- slow receivers delay nothing else ------------------------------------------------------


def test_hanging_receiver_delays_neither_the_api_nor_other_receivers(
    make_env: MakeEnv, receivers: MakeReceiver
) -> None:
    env = make_env(webhook_timeout=0.5, webhook_retries=())
    hanging = receivers(hang=5.0)
    healthy = receivers()
    for _ in range(2):
        env.payment(hanging.url)  # its worker is now stuck for 2 x 0.5 s
    hanging.wait_for(1)
    hang_started = time.perf_counter()

    api_seconds: list[float] = []
    latencies: list[float] = []
    for index in range(20):
        before = time.perf_counter()
        env.payment(healthy.url)
        api_seconds.append(time.perf_counter() - before)
        latencies.append(healthy.wait_for(index + 1, timeout=2)[index].arrived - before)
    window = time.perf_counter() - hang_started

    api_seconds.sort()
    latencies.sort()
    print(
        f"\nduring a hang of 2 x 0.5 s ({window * 1000:.0f} ms measured): "
        f"API p50 {api_seconds[10] * 1000:.1f} ms, max {api_seconds[-1] * 1000:.1f} ms; "
        f"healthy receiver (API call start -> arrival) p50 {latencies[10] * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms"
    )
    # Still hanging at the end: the second attempt waits behind the first's 0.5 s timeout.
    assert len(env.webhooks.filter(url=hanging.url)) < 2
    # Nothing waited for the hang (0.5 s per attempt); typically a few milliseconds.
    assert api_seconds[10] < 0.05
    assert latencies[10] < 0.05
    assert api_seconds[-1] < 0.4
    assert latencies[-1] < 0.4

    timed_out = env.webhooks.wait_for(
        "payment.created", count=2, timeout=3, where=lambda d: d.url == hanging.url
    )
    assert [d.error for d in timed_out] == ["timeout", "timeout"]


# -- order ------------------------------------------------------------------------------------


def test_one_payments_events_arrive_in_order(env: Env, receiver: Receiver) -> None:
    payment = env.payment(receiver.url)
    env.paysim.pay(payment["id"])
    env.paysim.capture(payment["id"])
    refund = env.paysim.refund(payment["id"], amount=500, reason="requested_by_customer")
    env.paysim.force_refund_outcome("fail")
    failed = env.paysim.refund(payment["id"], amount=100)
    assert failed["status"] == "failed"

    events = [r.event() for r in receiver.wait_for(5)]
    assert [e["type"] for e in events] == [
        "payment.created",
        "payment.succeeded",
        "payment.captured",
        "payment.refunded",
        "payment.refund_failed",
    ]
    assert [r.attempt for r in receiver.received] == [1] * 5
    assert [set(e["data"]) for e in events] == [{"object"}] * 3 + [{"object", "refund"}] * 2
    assert events[3]["data"]["refund"] == refund
    assert events[3]["data"]["object"]["amount_refunded"] == 500
    assert events[4]["data"]["refund"] == failed
    assert events[4]["data"]["object"]["amount_refunded"] == 500  # unchanged
    env.webhooks.wait_for("payment.refund_failed")  # the answer is recorded after arrival
    env.webhooks.assert_sequence(
        ["payment.created", "payment.succeeded", "payment.captured", "payment.refunded"],
        payment_id=payment["id"],
    )
    env.webhooks.assert_received("payment.refund_failed", payment_id=payment["id"], count=1)


@pytest.mark.parametrize("frozen", [False, True], ids=["running-clock", "frozen-clock"])
def test_a_burst_to_one_url_arrives_in_event_order(
    env: Env, receiver: Receiver, frozen: bool
) -> None:
    if frozen:
        env.paysim.clock.freeze()
    for _ in range(30):
        env.payment(receiver.url)

    arrived = [r.event_id for r in receiver.wait_for(30)]
    listed = env.server.client.get("/v1/events", params={"limit": "100"}).json()["data"]
    assert arrived == [event["id"] for event in reversed(listed)]


# -- isolation between tests ----------------------------------------------------------------


def test_late_retry_of_an_earlier_test_never_reaches_the_new_log(
    make_env: MakeEnv, receivers: MakeReceiver
) -> None:
    env = make_env(webhook_retries=(0.3,))
    receiver = receivers([500])  # the retry would succeed
    env.payment(receiver.url)
    assert env.webhooks.wait_for("payment.created").status_code == 500

    env.paysim.reset()  # what the paysim fixture does before the next test
    env.webhooks.assert_not_received("payment.created", within=0.6)
    assert len(env.webhooks) == 0
    assert receiver.count() == 1  # the retry was dropped, not sent
    assert env.api_deliveries() == []


def test_attempt_in_flight_during_reset_never_reaches_the_new_log(
    make_env: MakeEnv, receivers: MakeReceiver
) -> None:
    env = make_env(webhook_retries=(0.05,))
    receiver = receivers([500], hang=0.4)  # answers 500 to the first, 200 after, 0.4 s late
    old = env.payment(receiver.url)
    receiver.wait_for(1)  # in flight now

    env.paysim.reset()
    new = env.payment(receiver.url)
    assert new["id"] == old["id"]  # same seed: ids repeat after a reset
    delivery = env.webhooks.wait_for("payment.created")
    assert (delivery.attempt, delivery.status_code) == (1, 200)
    with pytest.raises(AssertionError, match="got 1"):  # the old attempt's answer never shows
        env.webhooks.wait_for("payment.created", count=2, timeout=0.3)
    assert len(env.webhooks) == 1
    assert receiver.count() == 2  # the old attempt got no retry
    assert [r["status_code"] for r in env.api_deliveries()] == [200]


# -- sync mode --------------------------------------------------------------------------------


@pytest.mark.parametrize("configured", ["server", "test"])
def test_sync_delivery_is_recorded_before_the_api_answers(
    make_env: MakeEnv, receiver: Receiver, configured: str
) -> None:
    if configured == "server":
        env = make_env(delivery="sync")
    else:
        env = make_env(test={"delivery": "sync"})

    payment = env.payment(receiver.url, simulate="auto")  # two events in one call
    # No waiting: both were sent and recorded before the 201.
    assert receiver.count() == 2
    assert env.webhooks.types[0] == "payment.created"
    assert env.webhooks.types[1] == f"payment.{payment['status']}"
    assert [d.status_code for d in env.webhooks] == [200, 200]

    env.paysim.cancel(env.payment()["id"])  # captured ones too
    assert [d.url for d in env.webhooks][2:] == [None, None]


def test_sync_failure_is_recorded_before_the_answer_and_retried_later(
    make_env: MakeEnv, receivers: MakeReceiver
) -> None:
    env = make_env(delivery="sync")
    receiver = receivers([500])
    env.payment(receiver.url)
    assert [(d.attempt, d.status_code) for d in env.webhooks] == [(1, 500)]

    retry = env.webhooks.wait_for("payment.created", count=2)[1]
    assert (retry.attempt, retry.status_code, retry.succeeded) == (2, 200, True)


# -- workers --------------------------------------------------------------------------------


def test_idle_worker_ends_and_a_new_one_takes_over(
    env: Env, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatcher_module, "_IDLE_EXIT_SECONDS", 0.2)
    name = f"paysim-webhooks-{receiver.url[:40]}"

    def workers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == name and t.is_alive()]

    env.payment(receiver.url)
    env.webhooks.wait_for("payment.created")
    assert len(workers()) == 1

    deadline = time.monotonic() + 3
    while workers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not workers()

    env.payment(receiver.url)
    assert len(env.webhooks.wait_for("payment.created", count=2)) == 2
    assert receiver.count() == 2

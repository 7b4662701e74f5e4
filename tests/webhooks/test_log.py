"""The webhook log of a test: its sequence, filters, waits and assertions, failure texts included.

A failed assertion must say what was expected and list what was received (type, payment id,
url, attempt, status), so the messages are checked as text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

import pytest
from webhook_support import Env, Receiver

from pytest_paysim.webhooks.log import Delivery

MakeReceiver = Callable[..., Receiver]
MakeEnv = Callable[..., Env]


def failure_text(call: Callable[[], object]) -> str:
    with pytest.raises(AssertionError) as failure:
        call()
    return str(failure.value)


# -- the sequence and its views ---------------------------------------------------------------


def test_log_is_the_attempts_in_order_with_types_events_and_filters(
    env: Env, receivers: MakeReceiver
) -> None:
    flaky = receivers([500])  # the first attempt fails, the retry succeeds
    first = env.payment(flaky.url)
    env.webhooks.wait_for("payment.created")
    second = env.payment()  # captured
    env.paysim.pay(second["id"])
    env.webhooks.wait_for("payment.created", payment_id=first["id"], count=2)
    env.webhooks.wait_for("payment.succeeded")

    log = env.webhooks
    assert len(log) == 4
    assert [(d.type, d.attempt) for d in log] == [
        ("payment.created", 1),
        ("payment.created", 1),
        ("payment.succeeded", 1),
        ("payment.created", 2),
    ] or [(d.type, d.attempt) for d in log] == [
        ("payment.created", 1),
        ("payment.created", 1),
        ("payment.created", 2),
        ("payment.succeeded", 1),
    ]
    assert log[0].payment_id == first["id"]
    assert log[-1] is list(log)[-1]
    assert isinstance(log[0:2], list)
    assert len(log[0:2]) == 2
    assert repr(log) == "<WebhookLog 4 deliveries>"

    # types: first attempts only; events: distinct, in order of first attempt
    assert log.types == ["payment.created", "payment.created", "payment.succeeded"]
    assert [e["type"] for e in log.events] == log.types
    assert [e["data"]["object"]["id"] for e in log.events] == [
        first["id"],
        second["id"],
        second["id"],
    ]

    # filter
    assert log.filter(url=None) == [d for d in log if d.url is None]
    assert {d.payment_id for d in log.filter(url=None)} == {second["id"]}
    assert len(log.filter(url=flaky.url)) == 2
    assert len(log.filter()) == 4
    assert [d.attempt for d in log.filter("payment.created", payment_id=first["id"])] == [1, 2]
    assert [d.status_code for d in log.filter(succeeded=False)] == [500]
    assert [d.status_code for d in log.filter(succeeded=True)] == [200]
    assert log.filter("payment.succeeded", url=flaky.url) == []


def test_delivery_members(env: Env, receiver: Receiver) -> None:
    before = datetime.now(timezone.utc)
    payment = env.payment(receiver.url)
    delivery = env.webhooks.wait_for("payment.created")

    assert isinstance(delivery, Delivery)
    assert delivery.type == "payment.created"
    assert delivery.payment == payment
    assert delivery.payment_id == payment["id"]
    assert delivery.event["id"] == delivery.event_id
    parsed = delivery.json()
    assert parsed == delivery.event
    assert parsed is not delivery.json()
    assert delivery.sent_at is not None
    assert delivery.sent_at.tzinfo is not None
    assert abs((delivery.sent_at - before).total_seconds()) < 5
    assert repr(delivery) == (
        f"<Delivery payment.created payment={payment['id']} url={receiver.url} attempt=1 "
        "status 200>"
    )


# -- waiting ----------------------------------------------------------------------------------


def test_wait_for_returns_one_delivery_or_a_list(env: Env, receiver: Receiver) -> None:
    a = env.payment(receiver.url)
    b = env.payment(receiver.url)
    env.paysim.pay(b["id"])

    one = env.webhooks.wait_for("payment.created")
    assert isinstance(one, Delivery)
    assert one.payment_id == a["id"]
    both = env.webhooks.wait_for("payment.created", count=2)
    assert isinstance(both, list)
    assert [d.payment_id for d in both] == [a["id"], b["id"]]
    assert env.webhooks.wait_for("payment.created", payment_id=b["id"]).payment_id == b["id"]
    picked = env.webhooks.wait_for("payment.created", where=lambda d: d.payment_id == b["id"])
    assert picked.payment_id == b["id"]
    succeeded = env.webhooks.wait_for("payment.succeeded", where=lambda d: d.status_code == 200)
    assert succeeded.payment["status"] == "succeeded"


def test_wait_for_timeout_says_what_was_expected_and_what_came(
    env: Env, receivers: MakeReceiver
) -> None:
    flaky = receivers([500])
    payment = env.payment(flaky.url)
    env.webhooks.wait_for("payment.created", payment_id=payment["id"], count=2)
    captured = env.payment()

    started = time.perf_counter()
    text = failure_text(
        lambda: env.webhooks.wait_for("payment.succeeded", payment_id=payment["id"], timeout=0.2)
    )
    assert 0.2 <= time.perf_counter() - started < 1.5
    assert text.startswith(
        f"expected 1 delivery of 'payment.succeeded' for payment {payment['id']} within 0.2s, "
        "got 0; received 3:\n"
    )
    lines = text.splitlines()[1:]
    assert lines == [
        f"  1. payment.created payment={payment['id']} url={flaky.url} attempt=1 status 500",
        f"  2. payment.created payment={payment['id']} url={flaky.url} attempt=2 status 200",
        f"  3. payment.created payment={captured['id']} url=None attempt=1 captured (no target)",
    ]

    text = failure_text(
        lambda: env.webhooks.wait_for(
            "payment.created", count=3, timeout=0.1, where=lambda d: d.succeeded is not False
        )
    )
    assert text.startswith(
        "expected 3 deliveries of 'payment.created' matching `where` within 0.1s, got 2;"
    )


def test_wait_for_on_an_empty_log_says_so(env: Env) -> None:
    text = failure_text(lambda: env.webhooks.wait_for("payment.created", timeout=0.05))
    assert text == (
        "expected 1 delivery of 'payment.created' within 0.05s, got 0; "
        "no webhook deliveries were received in this test"
    )


def test_timeouts_and_errors_are_listed_in_failures(
    make_env: MakeEnv, receivers: MakeReceiver
) -> None:
    env = make_env(webhook_timeout=0.2, webhook_retries=())
    hanging = receivers(hang=2.0)
    env.payment(hanging.url)
    env.webhooks.wait_for("payment.created")
    text = failure_text(lambda: env.webhooks.assert_received("payment.succeeded"))
    assert f"url={hanging.url} attempt=1 timeout" in text


def test_drain_waits_for_what_is_due_and_says_what_is_stuck(
    make_env: MakeEnv, receiver: Receiver, receivers: MakeReceiver
) -> None:
    env = make_env(webhook_timeout=0.5, webhook_retries=())
    for _ in range(10):
        env.payment(receiver.url)
    env.webhooks.drain()
    assert len(env.webhooks.filter(url=receiver.url)) == 10  # no waiting needed after drain

    hanging = receivers(hang=2.0)
    env.payment(hanging.url)
    text = failure_text(lambda: env.webhooks.drain(timeout=0.1))
    assert text.startswith("deliveries still in flight after 0.1s; received 10:\n")


def test_drain_leaves_retries_that_are_not_due(make_env: MakeEnv, receivers: MakeReceiver) -> None:
    env = make_env(webhook_retries=(3600,))
    receiver = receivers([500])
    env.paysim.clock.freeze()
    env.payment(receiver.url)
    env.webhooks.wait_for("payment.created")

    started = time.perf_counter()
    env.webhooks.drain(timeout=2)
    assert time.perf_counter() - started < 1.0  # the retry an hour ahead is not waited for
    assert len(env.webhooks) == 1
    env.paysim.clock.advance(3600)
    assert env.webhooks.wait_for("payment.created", count=2)[1].succeeded is True


def test_clear_forgets_this_logs_deliveries_only(env: Env) -> None:
    first = env.payment()
    env.webhooks.wait_for("payment.created")
    env.webhooks.clear()

    assert len(env.webhooks) == 0
    assert env.webhooks.types == []
    assert env.webhooks.events == []
    with pytest.raises(AssertionError, match="no webhook deliveries were received"):
        env.webhooks.wait_for("payment.created", timeout=0.05)
    second = env.payment()
    assert env.webhooks.wait_for("payment.created").payment_id == second["id"]
    assert len(env.webhooks) == 1
    # The server keeps them all.
    assert {r["payment_id"] for r in env.api_deliveries()} == {first["id"], second["id"]}


# -- asserting ----------------------------------------------------------------------------------


def test_assert_received_counts_events_and_matches_fields(
    env: Env, receivers: MakeReceiver
) -> None:
    flaky = receivers([500, 500])
    a = env.payment(flaky.url, amount=500)
    env.webhooks.wait_for("payment.created")
    b = env.payment(amount=700, currency="eur")
    env.webhooks.wait_for("payment.created", payment_id=a["id"], count=3)

    # Three attempts of a's event count once.
    firsts = env.webhooks.assert_received("payment.created", count=2)
    assert [d.payment_id for d in firsts] == [a["id"], b["id"]]
    assert all(d.attempt == 1 for d in firsts)
    env.webhooks.assert_received("payment.created", payment_id=a["id"], count=1)
    [eur] = env.webhooks.assert_received("payment.created", currency="eur", amount=700)
    assert eur.payment_id == b["id"]

    text = failure_text(lambda: env.webhooks.assert_received("payment.created", count=3))
    assert text.startswith("expected 3 'payment.created' events, got 2; received 4:\n")
    text = failure_text(
        lambda: env.webhooks.assert_received("payment.created", payment_id=b["id"], amount=1)
    )
    assert text.startswith(
        f"expected at least 1 'payment.created' event for payment {b['id']}, amount=1, got 0\n"
        "the 1 'payment.created' event held:\n"
        f"  1. {eur.event_id} payment={b['id']}: amount=700\n"
        "received 4:\n"
    )
    assert f"payment.created payment={a['id']} url={flaky.url} attempt=2 status 500" in text
    assert f"payment.created payment={b['id']} url=None attempt=1 captured (no target)" in text


def test_assert_not_received_waits_and_fails_as_soon_as_one_comes(
    env: Env, receivers: MakeReceiver
) -> None:
    started = time.perf_counter()
    env.webhooks.assert_not_received("payment.created", within=0.2)
    assert time.perf_counter() - started >= 0.2

    slow = receivers(hang=0.3)
    payment = env.payment(slow.url)
    env.webhooks.assert_not_received("payment.succeeded", payment_id=payment["id"])
    started = time.perf_counter()
    text = failure_text(lambda: env.webhooks.assert_not_received("payment.created", within=5))
    assert time.perf_counter() - started < 2.0  # not the full 5 s
    assert text == (
        "expected no 'payment.created' deliveries within 5s, got 1; received 1:\n"
        f"  1. payment.created payment={payment['id']} url={slow.url} attempt=1 status 200"
    )
    text = failure_text(
        lambda: env.webhooks.assert_not_received("payment.created", payment_id=payment["id"])
    )
    assert text.startswith(
        f"expected no 'payment.created' deliveries for payment {payment['id']}, got 1;"
    )


def test_assert_sequence_allows_others_between_and_names_the_missing_step(
    env: Env, receiver: Receiver
) -> None:
    payment = env.payment(receiver.url)
    other = env.payment()
    env.paysim.pay(payment["id"])
    env.paysim.capture(payment["id"])
    env.webhooks.wait_for("payment.captured")

    env.webhooks.assert_sequence(["payment.created", "payment.captured"])
    env.webhooks.assert_sequence(
        ["payment.created", "payment.succeeded", "payment.captured"], payment_id=payment["id"]
    )
    text = failure_text(
        lambda: env.webhooks.assert_sequence(
            ["payment.succeeded", "payment.created"], payment_id=payment["id"]
        )
    )
    assert text.startswith(
        f"expected the sequence ['payment.succeeded', 'payment.created'] for payment "
        f"{payment['id']}; 'payment.created' (step 2) never came after ['payment.succeeded']; "
        "the order received was ['payment.created', 'payment.succeeded', 'payment.captured']"
    )
    assert f"payment.created payment={other['id']} url=None attempt=1" in text
    text = failure_text(lambda: env.webhooks.assert_sequence(["payment.refunded"]))
    assert "'payment.refunded' (step 1) never came after the start" in text


def test_assert_all_signed(env: Env, receiver: Receiver) -> None:
    text = failure_text(env.webhooks.assert_all_signed)
    assert text.startswith("expected signed deliveries to check; no webhook deliveries")

    env.paysim.add_webhook_endpoint(receiver.url)
    payment = env.payment()
    env.webhooks.wait_for("payment.created")
    env.paysim.rotate_webhook_secret()
    env.paysim.cancel(env.payment(receiver.url)["id"])
    env.webhooks.wait_for("payment.canceled", count=2)
    env.webhooks.assert_all_signed()

    # A delivery whose body no longer matches its signature is named.
    tampered = env.webhooks[0]
    tampered.body = tampered.body.replace(b'"amount":1999', b'"amount":2999')
    text = failure_text(env.webhooks.assert_all_signed)
    assert text.startswith(
        f"expected every delivery to be validly signed; 1 of {len(env.webhooks)}"
    )
    [named] = text.splitlines()[1:]
    assert named.startswith(
        f"  payment.created payment={payment['id']} url={receiver.url} attempt=1 status 200: "
    )
    assert "tampered body or wrong secret" in text


def test_long_failure_lists_show_the_latest(env: Env) -> None:
    for _ in range(60):
        env.payment()
    text = failure_text(lambda: env.webhooks.assert_received("payment.refunded"))
    assert "received 60:\n  ... 10 earlier not shown\n  11. payment.created" in text
    assert text.count("\n") == 51

import time

import pytest
from paysim_out import record

from pytest_paysim.core import event_types


def test_a_misspelt_type_is_refused_at_once(paysim_webhooks):
    started = time.monotonic()
    with pytest.raises(ValueError) as info:
        paysim_webhooks.wait_for("payment.succeded", timeout=5)
    assert time.monotonic() - started < 1  # not after the timeout
    record("misspelt", str(info.value))
    with pytest.raises(ValueError) as info:
        paysim_webhooks.assert_received("order.paid")
    record("unknown", str(info.value))


@pytest.mark.parametrize(
    "check",
    [
        pytest.param(lambda log: log.filter("payment.sucess"), id="filter"),
        pytest.param(lambda log: log.assert_received("payment.refund"), id="assert_received"),
        pytest.param(lambda log: log.assert_not_received("payment.fail"), id="assert_not_received"),
        pytest.param(
            lambda log: log.assert_sequence(["payment.created", "payment.paid"]),
            id="assert_sequence",
        ),
        pytest.param(lambda log: log.wait_for("invoice.paid", count=2), id="wait_for"),
    ],
)
def test_every_check_refuses_it(paysim_webhooks, check):
    with pytest.raises(ValueError, match="unknown event type"):
        check(paysim_webhooks)


def test_known_types_work_and_none_means_any(paysim, paysim_webhooks):
    paysim.create_payment(amount=100, currency="usd")
    paysim_webhooks.wait_for("payment.created")
    assert len(paysim_webhooks.filter()) == 1
    assert paysim_webhooks.filter("payment.refund_failed") == []


def test_a_second_dialect_adds_its_types(paysim_webhooks):
    event_types.register("stripe", ["payment_intent.succeeded", "charge.refunded"])
    with pytest.raises(AssertionError, match=r"within 0\.05s, got 0"):
        paysim_webhooks.wait_for("payment_intent.succeeded", timeout=0.05)
    with pytest.raises(ValueError) as info:
        paysim_webhooks.filter("charge.refund")
    record("two_dialects", str(info.value))


def test_assert_received_shows_the_values_it_found(paysim, paysim_webhooks):
    first = paysim.pay(paysim.create_payment(amount=1000, currency="usd")["id"])
    second = paysim.pay(paysim.create_payment(amount=250, currency="eur")["id"])
    paysim_webhooks.wait_for("payment.succeeded", count=2)
    with pytest.raises(AssertionError) as info:
        paysim_webhooks.assert_received(
            "payment.succeeded", amount=999, currency="usd", no_such_field=1
        )
    record("values", str(info.value))
    record("ids", [first["id"], second["id"]])

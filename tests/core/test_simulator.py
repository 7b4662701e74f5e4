"""SPEC sections 3 and 4 at the core: a new payment, capture and refund arithmetic, cancel,
``amount_too_large``, and the refund total under concurrency."""

from __future__ import annotations

import random
import re
import threading

import pytest

from pytest_paysim.core.simulator import Simulator, SimulatorConfig
from pytest_paysim.errors import (
    AmountTooLarge,
    ApiError,
    ParameterInvalid,
    ParameterMissing,
    PaymentUnexpectedState,
    ResourceMissing,
)
from tests.support.ids import ID_CHARS


@pytest.fixture
def sim() -> Simulator:
    return Simulator(SimulatorConfig(seed=99, base_url="http://127.0.0.1:8765"))


def _event_types(sim: Simulator, payment_id: str) -> list[str]:
    return [event.type for event in sim.events_of(payment_id)]


def _paid(sim: Simulator, amount: int = 1000, *, manual: bool = False) -> str:
    payment = sim.create_payment(
        amount=amount, currency="usd", capture_method="manual" if manual else "automatic"
    )
    sim.pay(payment.id, outcome="succeed")
    return payment.id


def test_new_payment_shape(sim: Simulator) -> None:
    sim.clock.freeze(1_767_323_045.678)
    payment = sim.create_payment(amount=1999, currency="EUR", description="Tea").to_dict()
    assert re.fullmatch(f"pay_{ID_CHARS}", payment["id"])
    assert payment["object"] == "payment"
    assert payment["currency"] == "eur"
    assert payment["status"] == "requires_payment_method"
    assert payment["capture_method"] == "automatic"
    assert payment["description"] == "Tea"
    assert payment["metadata"] == {}
    assert payment["refunds"] == []
    for name in ("amount_capturable", "amount_captured", "amount_refunded"):
        assert payment[name] == 0
    for name in ("failure_code", "decline_code", "failure_message", "cancellation_reason"):
        assert payment[name] is None
    assert re.fullmatch(f"{payment['id']}_secret_{ID_CHARS}", payment["client_secret"])
    assert payment["payment_url"] == (
        f"http://127.0.0.1:8765/pay/{payment['id']}?client_secret={payment['client_secret']}"
    )
    assert payment["created_at"] == payment["updated_at"] == "2026-01-02T03:04:05.678Z"
    assert _event_types(sim, payment["id"]) == ["payment.created"]


def test_metadata_is_copied(sim: Simulator) -> None:
    metadata = {"order": "42"}
    payment = sim.create_payment(amount=100, currency="usd", metadata=metadata)
    metadata["order"] = "changed"
    assert sim.get_payment(payment.id).metadata == {"order": "42"}


def test_updated_at_follows_the_simulator_clock(sim: Simulator) -> None:
    sim.clock.freeze(1_800_000_000.0)
    payment = sim.create_payment(amount=100, currency="usd")
    sim.clock.advance(90.5)
    sim.pay(payment.id, outcome="succeed")
    body = sim.get_payment(payment.id).to_dict()
    assert body["created_at"] == "2027-01-15T08:00:00.000Z"
    assert body["updated_at"] == "2027-01-15T08:01:30.500Z"


def test_event_snapshots_the_payment_as_of_the_event(sim: Simulator) -> None:
    payment_id = _paid(sim)
    sim.refund(payment_id)
    bodies = [event.to_dict() for event in sim.events_of(payment_id)]
    assert [body["type"] for body in bodies] == [
        "payment.created",
        "payment.succeeded",
        "payment.refunded",
    ]
    assert [body["data"]["object"]["status"] for body in bodies] == [
        "requires_payment_method",
        "succeeded",
        "refunded",
    ]
    assert all(re.fullmatch(f"evt_{ID_CHARS}", body["id"]) for body in bodies)


# -- capture ------------------------------------------------------------------------------


def test_partial_capture_releases_the_rest(sim: Simulator) -> None:
    payment_id = _paid(sim, 1000, manual=True)
    assert sim.get_payment(payment_id).amount_capturable == 1000
    payment = sim.capture(payment_id, amount=600)
    assert (payment.status, payment.amount_capturable, payment.amount_captured) == (
        "captured",
        0,
        600,
    )
    # Only what was captured can be refunded.
    with pytest.raises(AmountTooLarge):
        sim.refund(payment_id, amount=601)
    refund = sim.refund(payment_id)
    assert refund.amount == 600
    assert sim.get_payment(payment_id).status == "refunded"


def test_capture_above_capturable_is_amount_too_large(sim: Simulator) -> None:
    payment_id = _paid(sim, 1000, manual=True)
    before = sim.get_payment(payment_id).to_dict()
    with pytest.raises(AmountTooLarge) as info:
        sim.capture(payment_id, amount=1001)
    error = info.value
    assert (error.status_code, error.code, error.param) == (400, "amount_too_large", "amount")
    assert error.payment_id == payment_id
    assert sim.get_payment(payment_id).to_dict() == before
    assert _event_types(sim, payment_id)[-1] == "payment.authorized"
    # The exact capturable amount is fine.
    assert sim.capture(payment_id, amount=1000).amount_captured == 1000


@pytest.mark.parametrize(
    "amount",
    [pytest.param(999, id="less"), pytest.param(1001, id="more"), pytest.param(1, id="one")],
)
def test_capture_of_succeeded_with_another_amount_is_parameter_invalid(
    sim: Simulator, amount: int
) -> None:
    payment_id = _paid(sim, 1000)
    before = sim.get_payment(payment_id).to_dict()
    with pytest.raises(ParameterInvalid) as info:
        sim.capture(payment_id, amount=amount)
    assert (info.value.status_code, info.value.code) == (400, "parameter_invalid")
    assert info.value.param == "amount"
    assert sim.get_payment(payment_id).to_dict() == before
    assert _event_types(sim, payment_id) == ["payment.created", "payment.succeeded"]


def test_capture_of_succeeded_with_the_captured_amount(sim: Simulator) -> None:
    payment_id = _paid(sim, 1000)
    payment = sim.capture(payment_id, amount=1000)
    assert (payment.status, payment.amount_captured, payment.amount_capturable) == (
        "captured",
        1000,
        0,
    )
    with pytest.raises(PaymentUnexpectedState):
        sim.capture(payment_id)


# -- refund -------------------------------------------------------------------------------


def test_partial_refunds_add_up_then_refund_the_rest(sim: Simulator) -> None:
    payment_id = _paid(sim, 1000)
    first = sim.refund(payment_id, amount=100, reason="duplicate")
    second = sim.refund(payment_id, amount=200)
    payment = sim.get_payment(payment_id)
    assert (payment.status, payment.amount_refunded) == ("succeeded", 300)
    assert first.to_dict()["reason"] == "duplicate"
    assert second.reason is None
    assert re.fullmatch(f"re_{ID_CHARS}", first.id)
    assert first.currency == "usd"

    with pytest.raises(AmountTooLarge) as info:
        sim.refund(payment_id, amount=701)
    assert info.value.param == "amount"
    assert info.value.payment_id == payment_id
    assert sim.get_payment(payment_id).amount_refunded == 300

    last = sim.refund(payment_id)  # no amount: all that is left
    assert last.amount == 700
    payment = sim.get_payment(payment_id)
    assert (payment.status, payment.amount_refunded, payment.amount_captured) == (
        "refunded",
        1000,
        1000,
    )
    assert [refund.id for refund in payment.refunds] == [first.id, second.id, last.id]
    assert _event_types(sim, payment_id) == [
        "payment.created",
        "payment.succeeded",
        "payment.refunded",
        "payment.refunded",
        "payment.refunded",
    ]
    with pytest.raises(PaymentUnexpectedState) as conflict:
        sim.refund(payment_id, amount=1)
    assert "`refunded`" in conflict.value.message


def test_refund_of_exactly_what_is_left_refunds_the_payment(sim: Simulator) -> None:
    payment_id = _paid(sim, 500)
    sim.refund(payment_id, amount=499)
    sim.refund(payment_id, amount=1)
    assert sim.get_payment(payment_id).status == "refunded"


def test_forced_refund_failure_changes_no_money(sim: Simulator) -> None:
    payment_id = _paid(sim, 1000)
    sim.force_refund_outcome("fail")
    failed = sim.refund(payment_id, amount=400, reason="fraudulent")
    assert failed.status == "failed"
    payment = sim.get_payment(payment_id)
    assert (payment.status, payment.amount_refunded) == ("succeeded", 0)
    assert [refund.to_dict() for refund in payment.refunds] == [failed.to_dict()]
    event = sim.events_of(payment_id)[-1].to_dict()
    assert event["type"] == "payment.refund_failed"
    assert event["data"]["refund"]["status"] == "failed"
    assert event["data"]["refund"]["id"] == failed.id
    # Forced once: the next refund goes through, and the failed one is still listed.
    done = sim.refund(payment_id)
    assert (done.status, done.amount) == ("succeeded", 1000)
    payment = sim.get_payment(payment_id)
    assert payment.status == "refunded"
    assert [refund.status for refund in payment.refunds] == ["failed", "succeeded"]


def test_forced_refund_failure_is_not_used_by_a_too_large_refund(sim: Simulator) -> None:
    payment_id = _paid(sim, 1000)
    sim.force_refund_outcome("fail")
    with pytest.raises(AmountTooLarge):
        sim.refund(payment_id, amount=1001)
    assert sim.refund(payment_id, amount=10).status == "failed"


# -- cancel -------------------------------------------------------------------------------


def test_cancel_of_authorized_releases_amount_capturable(sim: Simulator) -> None:
    payment_id = _paid(sim, 1000, manual=True)
    payment = sim.cancel(payment_id, cancellation_reason="abandoned")
    assert (payment.status, payment.amount_capturable, payment.amount_captured) == (
        "canceled",
        0,
        0,
    )
    assert payment.cancellation_reason == "abandoned"
    with pytest.raises(PaymentUnexpectedState):
        sim.capture(payment_id)


# -- pay arguments and missing objects ------------------------------------------------------


def test_pay_needs_an_outcome(sim: Simulator) -> None:
    payment = sim.create_payment(amount=100, currency="usd")
    with pytest.raises(ParameterMissing) as info:
        sim.pay(payment.id)
    assert (info.value.code, info.value.param) == ("parameter_missing", "outcome")
    with pytest.raises(ParameterInvalid):
        sim.pay(payment.id, outcome="succeed", card_number="4242424242424242")
    assert sim.get_payment(payment.id).status == "requires_payment_method"
    assert _event_types(sim, payment.id) == ["payment.created"]


def test_fail_with_decline_code_then_succeed_clears_failure(sim: Simulator) -> None:
    payment = sim.create_payment(amount=100, currency="usd")
    sim.pay(payment.id, outcome="fail", decline_code="lost_card")
    failed = sim.get_payment(payment.id)
    assert (failed.failure_code, failed.decline_code) == ("card_declined", "lost_card")
    assert failed.failure_message == "The card was declined because it was reported lost."
    sim.pay(payment.id, outcome="succeed")
    paid = sim.get_payment(payment.id)
    assert paid.status == "succeeded"
    assert (paid.failure_code, paid.decline_code, paid.failure_message) == (None, None, None)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda sim: sim.get_payment("pay_missing"), id="get"),
        pytest.param(lambda sim: sim.pay("pay_missing", outcome="succeed"), id="pay"),
        pytest.param(lambda sim: sim.capture("pay_missing"), id="capture"),
        pytest.param(lambda sim: sim.refund("pay_missing"), id="refund"),
        pytest.param(lambda sim: sim.cancel("pay_missing"), id="cancel"),
        pytest.param(lambda sim: sim.get_refund("re_missing"), id="get-refund"),
        pytest.param(lambda sim: sim.get_event("evt_missing"), id="get-event"),
    ],
)
def test_unknown_ids_are_resource_missing(sim: Simulator, call: object) -> None:
    with pytest.raises(ResourceMissing) as info:
        call(sim)  # type: ignore[operator]
    assert (info.value.status_code, info.value.code, info.value.param) == (
        404,
        "resource_missing",
        "id",
    )


def test_list_payments_newest_first_with_status_filter(sim: Simulator) -> None:
    first = sim.create_payment(amount=100, currency="usd")
    second = _paid(sim)
    third = sim.create_payment(amount=300, currency="usd")
    page, has_more = sim.payments(limit=10)
    assert [p.id for p in page] == [third.id, second, first.id]
    assert not has_more
    page, has_more = sim.payments(status="succeeded")
    assert [p.id for p in page] == [second]


# -- concurrency --------------------------------------------------------------------------


@pytest.mark.parametrize("round_", [pytest.param(n, id=f"round-{n}") for n in range(20)])
def test_concurrent_refunds_never_exceed_the_capture(round_: int) -> None:
    sim = Simulator(SimulatorConfig(seed=round_))
    payment_id = _paid(sim, 1000, manual=True)
    sim.capture(payment_id, amount=900)
    rng = random.Random(round_)
    amounts = [rng.randint(40, 160) for _ in range(16)]
    assert sum(amounts) > 900
    barrier = threading.Barrier(len(amounts))
    succeeded: list[int] = []
    refused: list[ApiError] = []
    unexpected: list[BaseException] = []
    record = threading.Lock()

    def refund(amount: int) -> None:
        try:
            barrier.wait(timeout=5)
            result = sim.refund(payment_id, amount=amount)
        except (AmountTooLarge, PaymentUnexpectedState) as error:
            with record:
                refused.append(error)
        except BaseException as error:  # pragma: no cover - reported below
            with record:
                unexpected.append(error)
        else:
            with record:
                succeeded.append(result.amount)

    threads = [threading.Thread(target=refund, args=(amount,)) for amount in amounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    assert unexpected == []
    assert len(succeeded) + len(refused) == len(amounts)
    assert refused, "the amounts add up past the capture, so some must be refused"

    payment = sim.get_payment(payment_id)
    assert sum(succeeded) <= payment.amount_captured == 900
    assert payment.amount_refunded == sum(succeeded)
    assert sorted(r.amount for r in payment.refunds) == sorted(succeeded)
    assert payment.status == ("refunded" if sum(succeeded) == 900 else "captured")
    assert _event_types(sim, payment_id).count("payment.refunded") == len(succeeded)

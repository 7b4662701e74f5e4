"""SPEC section 9 (and 2): forced outcomes and their precedence, ``times``, and
``simulate="auto"``."""

from __future__ import annotations

import pytest

from pytest_paysim.core.outcomes import PAY_OUTCOMES, ForcedOutcomes, Taken
from pytest_paysim.core.simulator import Simulator, SimulatorConfig
from pytest_paysim.errors import ParameterInvalid, PaymentUnexpectedState


@pytest.fixture
def sim() -> Simulator:
    return Simulator(SimulatorConfig(seed=5))


def _new(sim: Simulator, *, manual: bool = False) -> str:
    method = "manual" if manual else "automatic"
    return sim.create_payment(amount=500, currency="usd", capture_method=method).id


def test_pay_outcomes() -> None:
    assert PAY_OUTCOMES == ("succeed", "fail", "abandon")


def test_per_payment_beats_global_beats_request(sim: Simulator) -> None:
    targeted, other = _new(sim), _new(sim)
    sim.force_outcome("fail", times=None, decline_code="stolen_card")
    sim.force_outcome("abandon", payment_id=targeted)
    # The per-payment rule wins over the global one, and over the request.
    assert sim.pay(targeted, outcome="succeed").status == "requires_payment_method"
    # Used up: now the global rule wins over the request.
    paid = sim.pay(targeted, outcome="succeed")
    assert (paid.status, paid.decline_code) == ("failed", "stolen_card")
    assert sim.pay(other, card_number="4242424242424242").status == "failed"
    sim.clear_outcomes()
    assert sim.pay(other, outcome="succeed").status == "succeeded"


def test_per_payment_rule_leaves_other_payments_alone(sim: Simulator) -> None:
    targeted, other = _new(sim), _new(sim)
    sim.force_outcome("fail", payment_id=targeted)
    assert sim.pay(other, outcome="succeed").status == "succeeded"
    assert sim.pay(targeted, outcome="succeed").status == "failed"


def test_global_beats_request_outcome_and_card(sim: Simulator) -> None:
    first, second = _new(sim), _new(sim)
    sim.force_outcome("succeed", times=2)
    assert sim.pay(first, outcome="fail").status == "succeeded"
    assert sim.pay(second, card_number="4000000000009995").status == "succeeded"
    assert sim.outcomes()["outcomes"] == []


def test_times_counts_attempts(sim: Simulator) -> None:
    payment_id = _new(sim)
    sim.force_outcome("fail", times=3)
    for left in (2, 1):
        assert sim.pay(payment_id, outcome="succeed").status == "failed"
        assert sim.outcomes()["outcomes"][0]["times"] == left
    assert sim.pay(payment_id, outcome="abandon").status == "failed"
    assert sim.outcomes()["outcomes"] == []
    assert sim.pay(payment_id, outcome="succeed").status == "succeeded"


def test_times_none_means_always(sim: Simulator) -> None:
    sim.force_outcome("fail", times=None)
    for _ in range(5):
        assert sim.pay(_new(sim), outcome="succeed").status == "failed"
    assert sim.outcomes()["outcomes"][0]["times"] is None


def test_forced_outcome_makes_the_request_outcome_optional(sim: Simulator) -> None:
    payment_id = _new(sim, manual=True)
    sim.force_outcome("succeed", payment_id=payment_id)
    assert sim.pay(payment_id).status == "authorized"


def test_forced_outcome_is_not_used_by_a_refused_pay(sim: Simulator) -> None:
    payment_id = _new(sim)
    sim.pay(payment_id, outcome="succeed")
    sim.force_outcome("fail")
    with pytest.raises(PaymentUnexpectedState):
        sim.pay(payment_id)
    assert sim.outcomes()["outcomes"][0]["times"] == 1
    assert sim.pay(_new(sim), outcome="succeed").status == "failed"


@pytest.mark.parametrize(
    ("forced_code", "request_code", "expected"),
    [
        pytest.param("insufficient_funds", None, "insufficient_funds", id="forced-code"),
        pytest.param("expired_card", "lost_card", "expired_card", id="forced-code-wins"),
        pytest.param(None, "lost_card", "lost_card", id="request-code-kept"),
        pytest.param(None, None, "generic_decline", id="default"),
    ],
)
def test_forced_decline_code(
    sim: Simulator, forced_code: str | None, request_code: str | None, expected: str
) -> None:
    payment_id = _new(sim)
    sim.force_outcome("fail", decline_code=forced_code)
    payment = sim.pay(payment_id, outcome="fail", decline_code=request_code)
    assert (payment.status, payment.failure_code, payment.decline_code) == (
        "failed",
        "card_declined",
        expected,
    )
    assert payment.failure_message


def test_forced_refund_times(sim: Simulator) -> None:
    payment_id = _new(sim)
    sim.pay(payment_id, outcome="succeed")
    sim.force_refund_outcome("fail", times=2)
    assert [sim.refund(payment_id, amount=10).status for _ in range(3)] == [
        "failed",
        "failed",
        "succeeded",
    ]
    sim.force_refund_outcome("fail", times=None)
    assert [sim.refund(payment_id, amount=10).status for _ in range(3)] == ["failed"] * 3
    assert sim.get_payment(payment_id).amount_refunded == 10


@pytest.mark.parametrize(
    ("rate", "manual", "status"),
    [
        pytest.param(1.0, False, "succeeded", id="always-succeeds"),
        pytest.param(1.0, True, "authorized", id="always-succeeds-manual"),
        pytest.param(0.0, False, "failed", id="always-fails"),
    ],
)
def test_simulate_auto(rate: float, manual: bool, status: str) -> None:
    sim = Simulator(SimulatorConfig(seed=11, auto_success_rate=rate))
    for _ in range(10):
        payment = sim.create_payment(
            amount=100,
            currency="usd",
            capture_method="manual" if manual else "automatic",
            simulate="auto",
        )
        assert payment.status == status
        types = [event.type for event in sim.events_of(payment.id)]
        assert types[0] == "payment.created"
        assert len(types) == 2


def test_simulate_auto_rate_set_by_reset() -> None:
    sim = Simulator(SimulatorConfig(seed=11, auto_success_rate=1.0))
    sim.reset(auto_success_rate=0.0)
    assert sim.create_payment(amount=1, currency="usd", simulate="auto").status == "failed"
    sim.reset()
    assert sim.create_payment(amount=1, currency="usd", simulate="auto").status == "succeeded"


def test_simulate_auto_outcomes_repeat_with_the_seed() -> None:
    def outcomes(seed: int) -> list[str]:
        sim = Simulator(SimulatorConfig(seed=seed))
        return [
            sim.create_payment(amount=1, currency="usd", simulate="auto").status for _ in range(40)
        ]

    first = outcomes(3)
    assert first == outcomes(3)
    assert set(first) == {"succeeded", "failed"}


# -- ForcedOutcomes on its own --------------------------------------------------------------


def _taken(taken: Taken | None) -> tuple[str, str | None] | None:
    return None if taken is None else (taken.outcome, taken.decline_code)


def test_take_pay_outcome_order_and_snapshot() -> None:
    forced = ForcedOutcomes()
    assert forced.take_pay_outcome("pay_a") is None
    assert not forced.has_pay_outcome("pay_a")
    forced.force("fail", decline_code="fraudulent", times=1)
    forced.force("succeed", payment_id="pay_a", times=1)
    assert forced.snapshot() == {
        "outcomes": [
            {
                "outcome": "fail",
                "times": 1,
                "payment_id": None,
                "decline_code": "fraudulent",
                "required": True,
                "used": 0,
            },
            {
                "outcome": "succeed",
                "times": 1,
                "payment_id": "pay_a",
                "decline_code": None,
                "required": True,
                "used": 0,
            },
        ],
        "refund_outcomes": [],
    }
    assert forced.has_pay_outcome("pay_b")
    assert _taken(forced.take_pay_outcome("pay_a")) == ("succeed", None)
    assert _taken(forced.take_pay_outcome("pay_a")) == ("fail", "fraudulent")
    assert forced.take_pay_outcome("pay_a") is None
    forced.force_refund("fail", times=None)
    assert forced.snapshot()["refund_outcomes"] == [
        {"refund_outcome": "fail", "times": None, "required": True, "used": 0}
    ]
    assert _taken(forced.take_refund_outcome()) == ("fail", None)
    forced.clear()
    assert forced.take_refund_outcome() is None
    assert forced.snapshot() == {"outcomes": [], "refund_outcomes": []}


def test_earlier_global_rules_are_used_first() -> None:
    forced = ForcedOutcomes()
    forced.force("fail", times=1)
    forced.force("abandon", times=1)
    assert [_taken(forced.take_pay_outcome("pay_x")) for _ in range(3)] == [
        ("fail", None),
        ("abandon", None),
        None,
    ]


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        pytest.param({"outcome": "explode"}, "outcome", id="outcome"),
        pytest.param({"outcome": "fail", "decline_code": "nope"}, "decline_code", id="code"),
        pytest.param({"outcome": "fail", "times": 0}, "times", id="times-0"),
        pytest.param({"outcome": "fail", "times": -1}, "times", id="times-negative"),
    ],
)
def test_force_rejects_bad_arguments(kwargs: dict[str, object], param: str) -> None:
    forced = ForcedOutcomes()
    with pytest.raises(ParameterInvalid) as info:
        forced.force(**kwargs)  # type: ignore[arg-type]
    assert info.value.param == param
    assert forced.snapshot()["outcomes"] == []


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        pytest.param({"outcome": "succeed"}, "refund_outcome", id="outcome"),
        pytest.param({"outcome": "fail", "times": 0}, "times", id="times-0"),
    ],
)
def test_force_refund_rejects_bad_arguments(kwargs: dict[str, object], param: str) -> None:
    forced = ForcedOutcomes()
    with pytest.raises(ParameterInvalid) as info:
        forced.force_refund(**kwargs)  # type: ignore[arg-type]
    assert info.value.param == param
    assert forced.snapshot()["refund_outcomes"] == []

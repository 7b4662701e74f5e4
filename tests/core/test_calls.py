"""The simulator's record of API calls: runs kept apart, a bounded size, a lazy answer."""

from __future__ import annotations

from pytest_paysim.core.calls import MAX_CALLS, Call, matching
from pytest_paysim.core.simulator import Simulator, SimulatorConfig


def test_a_call_of_a_run_that_is_over_is_dropped() -> None:
    sim = Simulator(SimulatorConfig(seed=1))
    arrived = sim.generation
    sim.record_call(Call("GET", "/v1/payments", 200), generation=arrived)
    sim.reset()
    sim.record_call(Call("POST", "/v1/payments", 201), generation=arrived)  # answered late
    assert sim.calls() == []
    sim.record_call(Call("GET", "/v1/events", 200), generation=sim.generation)
    assert [call.path for call in sim.calls()] == ["/v1/events"]


def test_a_run_keeps_its_latest_calls() -> None:
    sim = Simulator(SimulatorConfig(seed=1))
    for index in range(MAX_CALLS + 5):
        sim.record_call(Call("GET", f"/v1/events/{index}", 404), generation=sim.generation)
    kept = sim.calls()
    assert len(kept) == MAX_CALLS
    assert kept[0].path == "/v1/events/5"


def test_the_answer_is_parsed_when_read() -> None:
    call = Call("POST", "/v1/payments", 201, body=b'{"id": "pay_1"}')
    assert call.response == {"id": "pay_1"}
    assert Call("GET", "/v1/x", None).response is None
    assert Call("GET", "/v1/x", 500, body=b"not json").response is None


def test_to_dict_and_back() -> None:
    call = Call(
        "POST",
        "/v1/payments",
        201,
        idempotency_key="k",
        replayed=True,
        fault={"when": "after"},
        request={"amount": 1},
        body=b'{"id": "pay_1"}',
    )
    again = Call.from_dict(call.to_dict())
    assert again == call
    assert again.describe() == call.describe()
    assert "replayed" in call.describe()
    assert "key='k'" in call.describe()


def test_matching_takes_globs_and_any_case_of_method() -> None:
    made = [Call("POST", "/v1/payments", 201), Call("POST", "/v1/payments/pay_1/refund", 201)]
    assert matching(made, "post", "/v1/payments/*/refund") == made[1:]
    assert matching(made, "*", "/v1/payments*") == made
    assert matching(made, "GET", "*") == []

"""SPEC sections 3 and 9: id format, and seeded determinism of ids, secrets and outcomes."""

from __future__ import annotations

import re

import pytest

from pytest_paysim.core.ids import BASE62, IdGenerator, derive_seed, random_seed
from pytest_paysim.core.simulator import Simulator, SimulatorConfig
from pytest_paysim.errors import ResourceMissing
from tests.support.ids import ID_RE


def _run(sim: Simulator) -> list[str]:
    """The same operations on any simulator; every id and secret they produce."""
    made: list[str] = []
    for capture_method in ("automatic", "manual"):
        payment = sim.create_payment(amount=1000, currency="usd", capture_method=capture_method)
        made += [payment.id, payment.client_secret]
        sim.pay(payment.id, outcome="succeed")
        if capture_method == "manual":
            sim.capture(payment.id, amount=800)
        made.append(sim.refund(payment.id, amount=300).id)
        made += [event.id for event in sim.events_of(payment.id)]
    auto = sim.create_payment(amount=5, currency="usd", simulate="auto")
    made += [auto.id, auto.status]
    made.append(sim.create_endpoint(url="http://127.0.0.1:1/hook", enabled_events=["*"]).id)
    return made


def test_base62() -> None:
    assert len(BASE62) == len(set(BASE62)) == 62
    assert BASE62.isalnum()
    assert BASE62.isascii()


def test_id_format_and_uniqueness() -> None:
    ids = IdGenerator(1)
    made = [(prefix, ids.new(prefix)) for prefix in ID_RE for _ in range(400)]
    assert len({value for _, value in made}) == len(made)
    for prefix, value in made:
        assert ID_RE[prefix].match(value), value
    tokens = [ids.token() for _ in range(200)] + [ids.token(8) for _ in range(200)]
    assert all(re.fullmatch(r"[0-9A-Za-z]+", token) for token in tokens)
    assert {len(token) for token in tokens} == {24, 8}


def test_ids_use_the_whole_alphabet() -> None:
    ids = IdGenerator(2)
    seen = set("".join(ids.new("pay")[4:] for _ in range(300)))
    assert seen == set(BASE62)


def test_same_seed_same_ids_across_runs() -> None:
    # Literal values: the same seed gives the same ids in every process and on every run.
    ids = IdGenerator(42)
    assert ids.new("pay") == "pay_0SBrUlJ9xBs2h0qfci47fVYT"
    assert ids.token() == "tC5b71g5BUSdKZ4Fa35biebl"


def test_two_simulators_with_the_same_seed_agree() -> None:
    first = Simulator(SimulatorConfig(seed=2024))
    second = Simulator(SimulatorConfig(seed=2024))
    assert _run(first) == _run(second)
    assert first.api_key == second.api_key
    assert first.webhook_secret == second.webhook_secret
    assert first.webhook_public_key == second.webhook_public_key
    assert re.fullmatch(r"sk_test_[0-9A-Za-z]{24}", first.api_key)


def test_different_seeds_differ() -> None:
    first = Simulator(SimulatorConfig(seed=1))
    second = Simulator(SimulatorConfig(seed=2))
    a, b = _run(first), _run(second)
    ids_a = {value for value in a if "_" in value}
    ids_b = {value for value in b if "_" in value}
    assert ids_a.isdisjoint(ids_b)
    assert first.api_key != second.api_key
    assert first.webhook_secret != second.webhook_secret


def test_reset_makes_ids_repeat() -> None:
    sim = Simulator(SimulatorConfig(seed=77))
    first = _run(sim)
    assert _run(sim) != first  # without a reset, the generator moves on
    sim.reset()
    assert _run(sim) == first
    assert sim.get_payment(first[0]).status == "succeeded"


def test_reset_with_a_seed() -> None:
    sim = Simulator(SimulatorConfig(seed=77))
    sim.reset(seed=5)
    with_5 = _run(sim)
    sim.reset(seed=6)
    assert _run(sim) != with_5
    sim.reset(seed=5)
    assert _run(sim) == with_5
    # The same as a simulator made with that seed.
    assert _run(Simulator(SimulatorConfig(seed=5))) == with_5
    sim.reset()  # back to the session seed
    assert _run(sim) == _run(Simulator(SimulatorConfig(seed=77)))


def test_reset_empties_the_store() -> None:
    sim = Simulator(SimulatorConfig(seed=3))
    payment_id = _run(sim)[0]
    sim.force_outcome("fail", times=None)
    sim.reset()
    with pytest.raises(ResourceMissing):
        sim.get_payment(payment_id)
    assert sim.payments() == ([], False)
    assert sim.outcomes() == {"outcomes": [], "refund_outcomes": []}


def test_derive_seed_is_stable() -> None:
    assert derive_seed(7, "tests/test_x.py::test_a") == 16843723237656241578 >> 1
    assert derive_seed(0, "") == 13436079590000323820 >> 1
    assert derive_seed(7, "tests/test_x.py::test_a") != derive_seed(7, "tests/test_x.py::test_b")
    assert derive_seed(7, "tests/test_x.py::test_a") != derive_seed(8, "tests/test_x.py::test_a")
    assert 0 <= derive_seed(123, "label") < 2**64


def test_chance_edges_and_repeatability() -> None:
    ids = IdGenerator(9)
    assert not any(ids.chance(0.0) for _ in range(200))
    assert all(ids.chance(1.0) for _ in range(200))
    draws = [IdGenerator(9).chance(0.5) for _ in range(3)]
    assert len(set(draws)) == 1


def test_random_seed_is_in_range() -> None:
    seeds = {random_seed() for _ in range(20)}
    assert all(1 <= seed < 2**32 for seed in seeds)
    assert len(seeds) > 1


def test_api_key_cannot_be_rebuilt_from_the_first_payment_id() -> None:
    sim = Simulator(SimulatorConfig(seed=12345))
    payment_id = sim.create_payment(amount=100, currency="usd").id
    number = 0
    for char in reversed(payment_id[4:]):
        number = number * 62 + BASE62.index(char)
    low, high = number & (2**128 - 1), number >> 128
    candidates = []
    for top in (high * 2, high * 2 + 1):
        value, chars = low | (top << 128), []
        for _ in range(24):
            value, digit = divmod(value, 62)
            chars.append(BASE62[digit])
        candidates.append("sk_test_" + "".join(chars))
    assert sim.api_key not in candidates


@pytest.mark.parametrize("draws", [0, 1, 170, 171, 500])
def test_rewind_draws_the_same_again_across_blocks(draws: int) -> None:
    ids = IdGenerator(7)
    for _ in range(draws):
        ids.token()
    mark = ids.mark()
    first = [ids.new("pay"), ids.randbytes(5000).hex(), str(ids.chance(0.5)), ids.token(8)]
    ids.rewind(mark)
    again = [ids.new("pay"), ids.randbytes(5000).hex(), str(ids.chance(0.5)), ids.token(8)]
    assert again == first
    assert ids.mark() != mark


def test_a_stream_is_the_same_whatever_the_sizes_of_its_draws() -> None:
    whole = IdGenerator(3).randbytes(10_000)
    pieces = IdGenerator(3)
    assert b"".join(pieces.randbytes(size) for size in (1, 4095, 1, 4096, 1807)) == whole


def test_chance_follows_its_probability() -> None:
    ids = IdGenerator(11)
    assert not any(ids.chance(0.0) for _ in range(1000))
    assert all(ids.chance(1.0) for _ in range(1000))
    assert 2700 < sum(ids.chance(0.3) for _ in range(10_000)) < 3300

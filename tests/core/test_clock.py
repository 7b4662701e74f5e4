"""The simulator clock: freeze, advance, unfreeze, reset, listeners, and time text."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_paysim.core.clock import EARLIEST_TIME, LATEST_TIME, Clock, format_time, parse_time


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall() -> Wall:
    return Wall(1_000_000.0)


@pytest.fixture
def clock(wall: Wall) -> Clock:
    return Clock(wall)


def test_follows_the_wall_clock(wall: Wall, clock: Clock) -> None:
    assert clock.now() == 1_000_000.0
    wall.now += 5
    assert clock.now() == 1_000_005.0
    assert not clock.frozen


def test_default_clock_is_real_time() -> None:
    import time

    before = time.time()
    now = Clock().now()
    assert before - 1 <= now <= time.time() + 1


def test_freeze_now_and_at(wall: Wall, clock: Clock) -> None:
    assert clock.freeze() == 1_000_000.0
    assert clock.frozen
    wall.now += 100
    assert clock.now() == 1_000_000.0
    assert clock.freeze(at=5.5) == 5.5
    assert clock.now() == 5.5


def test_advance_frozen_and_running(wall: Wall, clock: Clock) -> None:
    clock.freeze()
    assert clock.advance(3 * 86400) == 1_000_000.0 + 3 * 86400
    assert clock.now() == 1_000_000.0 + 3 * 86400
    clock.reset()
    assert clock.advance(60) == 1_000_060.0
    wall.now += 1
    assert clock.now() == 1_000_061.0
    assert clock.advance(0) == 1_000_061.0


def test_advance_negative_raises_and_changes_nothing(wall: Wall, clock: Clock) -> None:
    calls: list[float] = []
    clock.freeze()
    clock.subscribe(lambda: calls.append(clock.now()))
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    assert clock.now() == 1_000_000.0
    assert calls == []


def test_unfreeze_runs_on_from_where_it_stood(wall: Wall, clock: Clock) -> None:
    clock.freeze(at=2_000_000.0)
    wall.now += 50
    assert clock.unfreeze() == 2_000_000.0
    assert not clock.frozen
    wall.now += 7
    assert clock.now() == 2_000_007.0
    # Unfreezing a running clock changes nothing.
    assert clock.unfreeze() == 2_000_007.0


def test_reset_returns_to_wall_time(wall: Wall, clock: Clock) -> None:
    clock.advance(1000)
    clock.freeze()
    clock.reset()
    assert not clock.frozen
    assert clock.now() == wall.now


def test_listeners_are_called_on_every_change(clock: Clock) -> None:
    seen: list[tuple[float, bool]] = []
    clock.subscribe(lambda: seen.append((clock.now(), clock.frozen)))
    clock.freeze(at=10.0)
    clock.advance(5)
    clock.unfreeze()
    clock.reset()
    assert [frozen for _, frozen in seen] == [True, True, False, False]
    assert [now for now, _ in seen[:2]] == [10.0, 15.0]
    assert len(seen) == 4


@pytest.mark.parametrize(
    ("epoch", "text"),
    [
        pytest.param(0.0, "1970-01-01T00:00:00.000Z", id="epoch"),
        pytest.param(1_767_323_045.678, "2026-01-02T03:04:05.678Z", id="millis"),
        pytest.param(1_767_323_045.0009, "2026-01-02T03:04:05.000Z", id="sub-millis-dropped"),
        pytest.param(1_767_323_045.999, "2026-01-02T03:04:05.999Z", id="999"),
    ],
)
def test_format_time(epoch: float, text: str) -> None:
    assert format_time(epoch) == text


@settings(max_examples=500)
@given(
    st.one_of(
        st.floats(min_value=EARLIEST_TIME, max_value=LATEST_TIME - 1),
        st.integers(min_value=0, max_value=2**33).map(lambda whole: whole + 0.9999995),
    )
)
def test_format_time_agrees_with_datetime(epoch: float) -> None:
    # datetime rounds microseconds half to even; the fast path must show the same millisecond.
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    expected = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    assert format_time(epoch).lstrip("0") == expected.lstrip("0")
    assert format_time(epoch) == format_time(epoch)  # the remembered last answer too


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2026-01-02T03:04:05.678Z", id="millis"),
        pytest.param("2000-02-29T23:59:59.001Z", id="leap-day"),
        pytest.param("2026-12-31T00:00:00.000Z", id="zero-millis"),
    ],
)
def test_round_trip(text: str) -> None:
    epoch = parse_time(text)
    assert format_time(epoch) == text
    assert parse_time(format_time(epoch)) == pytest.approx(epoch, abs=1e-6)


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        pytest.param("2026-01-02T03:04:05Z", 1_767_323_045.0, id="z"),
        pytest.param("2026-01-02T03:04:05z", 1_767_323_045.0, id="lower-z"),
        pytest.param("2026-01-02T03:04:05+00:00", 1_767_323_045.0, id="offset-0"),
        pytest.param("2026-01-02T04:04:05+01:00", 1_767_323_045.0, id="offset-1"),
        pytest.param("2026-01-02T03:04:05", 1_767_323_045.0, id="naive-is-utc"),
        pytest.param(" 2026-01-02T03:04:05.5Z ", 1_767_323_045.5, id="spaces-tenths"),
    ],
)
def test_parse_time(text: str, epoch: float) -> None:
    assert parse_time(text) == pytest.approx(epoch, abs=1e-6)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("yesterday", id="words"),
        pytest.param("2026-13-01T00:00:00Z", id="month-13"),
        pytest.param(None, id="none"),
    ],
)
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text)

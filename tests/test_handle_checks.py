"""The ``paysim`` handle refuses what the simulator could not store, before it is sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_paysim.backends import LocalBackend
from pytest_paysim.handle import Paysim, TestSettings
from pytest_paysim.server import PaysimServer


@pytest.fixture(scope="module")
def handle() -> Iterator[Paysim]:
    with PaysimServer(seed=3) as server:
        yield Paysim(LocalBackend(server), TestSettings(seed=3))


def test_a_forced_outcome_for_a_payment_id_that_is_not_text_is_refused(handle: Paysim) -> None:
    with pytest.raises(ValueError, match="surrogate"):
        handle.force_outcome("fail", payment_id="pay_\ud800")
    assert handle.client.get("/_paysim/state").status_code == 200


@pytest.mark.parametrize("field", ["path", "method"])
def test_a_fault_on_text_that_is_not_text_is_refused(handle: Paysim, field: str) -> None:
    with pytest.raises(ValueError, match="surrogate"):
        handle.inject_fault(**{field: "/x\ud800"})
    assert handle.client.get("/_paysim/state").json()["faults"] == []

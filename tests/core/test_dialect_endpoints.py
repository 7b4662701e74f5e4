"""Webhook endpoints of a dialect in the core: each front end's endpoints are its own (listed,
read, changed and deleted through it only, sent its events only), a dialect's secret is an
HMAC ``whsec_`` one under every scheme, and a change is checked before anything is kept.
The Stripe dialect's renderer is the dialect here; its HTTP side is in ``tests/stripe``."""

from __future__ import annotations

import pytest

from pytest_paysim.core.simulator import Simulator, SimulatorConfig
from pytest_paysim.errors import ConfigurationError, ParameterInvalid, ResourceMissing
from pytest_paysim.stripe.events import StripeEvents

HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture
def sim() -> Simulator:
    simulator = Simulator(SimulatorConfig(seed=5))
    simulator.register_dialect("stripe", StripeEvents(simulator))
    return simulator


def test_an_unregistered_dialect_has_no_endpoints() -> None:
    bare = Simulator(SimulatorConfig(seed=5))
    with pytest.raises(ConfigurationError, match="stripe"):
        bare.create_endpoint(url=HOOK, enabled_events=["*"], dialect="stripe")
    assert bare.endpoints(dialect=None) == []


def test_each_dialect_sees_its_own_endpoints_only(sim: Simulator) -> None:
    native = sim.create_endpoint(url=HOOK, enabled_events=["*"])
    stripe = sim.create_endpoint(
        url=HOOK, enabled_events=["*"], dialect="stripe", description="d", metadata={"k": "v"}
    )
    assert (stripe.dialect, stripe.description, stripe.metadata) == ("stripe", "d", {"k": "v"})
    assert sim.endpoints() == [native]
    assert sim.endpoints(dialect="stripe") == [stripe]
    assert sim.endpoints(dialect=None) == [native, stripe]
    assert sim.get_endpoint(stripe.id, dialect="stripe") == stripe
    for call in (
        lambda: sim.get_endpoint(stripe.id),
        lambda: sim.get_endpoint(native.id, dialect="stripe"),
        lambda: sim.update_endpoint(stripe.id, status="disabled"),
        lambda: sim.delete_endpoint(native.id, dialect="stripe"),
    ):
        with pytest.raises(ResourceMissing):
            call()
    assert sim.delete_endpoint(stripe.id, dialect="stripe") == stripe
    assert sim.endpoints(dialect=None) == [native]


def test_a_dialects_secret_is_hmac_under_every_scheme() -> None:
    sim = Simulator(SimulatorConfig(seed=5, signature="ed25519"))
    sim.register_dialect("stripe", StripeEvents(sim))
    assert sim.webhook_secret.startswith("whsk_")
    assert sim.hmac_webhook_secret.startswith("whsec_")
    assert sim.create_endpoint(url=HOOK, enabled_events=["*"]).secret.startswith("whsk_")
    stripe = sim.create_endpoint(url=HOOK, enabled_events=["*"], dialect="stripe")
    assert stripe.secret.startswith("whsec_")
    assert stripe.secret != sim.hmac_webhook_secret


def test_an_update_is_checked_first_and_changes_a_copy(sim: Simulator) -> None:
    endpoint = sim.create_endpoint(url=HOOK, enabled_events=["*"], dialect="stripe")
    with pytest.raises(ParameterInvalid):
        sim.update_endpoint(endpoint.id, dialect="stripe", status="paused")
    with pytest.raises(ParameterInvalid):
        sim.update_endpoint(endpoint.id, dialect="stripe", secret="whsec_mine")
    assert sim.get_endpoint(endpoint.id, dialect="stripe") == endpoint
    changed = sim.update_endpoint(
        endpoint.id,
        dialect="stripe",
        status="disabled",
        enabled_events=["charge.succeeded"],
        metadata={"a": "b"},
    )
    assert (changed.status, changed.enabled_events, changed.metadata) == (
        "disabled",
        ["charge.succeeded"],
        {"a": "b"},
    )
    assert (endpoint.status, endpoint.enabled_events, endpoint.metadata) == ("enabled", ["*"], {})
    assert not changed.wants("charge.succeeded")  # disabled: nothing
    assert sim.get_endpoint(endpoint.id, dialect="stripe") == changed


def test_planned_attempts_go_to_the_dialects_endpoints_only(sim: Simulator) -> None:
    native = sim.create_endpoint(url=HOOK + "/native", enabled_events=["*"])
    stripe = sim.create_endpoint(url=HOOK + "/stripe", enabled_events=["*"], dialect="stripe")
    paid = sim.create_payment(amount=100, currency="usd")
    intent = sim.create_payment(
        amount=100, currency="usd", dialect="stripe", payment_method="pm_card_visa"
    )
    pending = sim.pending_deliveries()
    assert {attempt.endpoint_id for attempt in pending if attempt.payment_id == paid.id} == {
        native.id
    }
    assert {attempt.endpoint_id for attempt in pending if attempt.payment_id == intent.id} == {
        stripe.id
    }

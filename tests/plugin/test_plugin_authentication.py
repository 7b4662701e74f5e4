"""3-D Secure through the fixtures, in a pytest subprocess: ``paysim.force_outcome(
"requires_action")``, ``paysim.authenticate``, the marker's ``outcome="requires_action"`` and
the webhook log, with the server in process, under xdist, and against ``paysim serve``
(``--paysim-url``, where forcing goes through the control routes)."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from plugin_support import INHERITED, Runner

BANNER_TIMEOUT_SECONDS = 20.0
RUN_TIMEOUT_SECONDS = 90.0

GENERATED = """
import pytest

from paysim_out import record
from pytest_paysim import errors

CARD_3184 = "4000002760003184"
CARD_3178 = "4000008260003178"
SEQUENCE = ["payment.created", "payment.requires_action", "payment.succeeded"]


def new(paysim, **params):
    return paysim.create_payment(**{"amount": 1500, "currency": "eur", **params})


def test_forced_requires_action_then_authenticate(paysim, paysim_webhooks):
    paysim.force_outcome("requires_action")
    payment = new(paysim, return_url="https://shop.test/back")
    waiting = paysim.pay(payment["id"])
    assert waiting["status"] == "requires_action"
    assert waiting["next_action"] == {
        "type": "redirect_to_url",
        "redirect_to_url": {
            "url": paysim.url + "/authenticate/" + payment["id"]
            + "?client_secret=" + payment["client_secret"],
            "return_url": "https://shop.test/back",
        },
    }
    done = paysim.authenticate(payment["id"])
    assert done["status"] == "succeeded"
    assert done["amount_captured"] == 1500
    assert done["next_action"] is None
    paysim_webhooks.wait_for("payment.succeeded", payment_id=payment["id"], timeout=5.0)
    paysim_webhooks.assert_sequence(SEQUENCE)
    paysim_webhooks.assert_sequence(SEQUENCE, payment_id=payment["id"])
    paysim_webhooks.assert_received("payment.requires_action", payment_id=payment["id"], count=1)
    paysim_webhooks.assert_all_signed()
    delivery = paysim_webhooks.wait_for("payment.requires_action", timeout=5.0)
    assert delivery.verify()["data"]["object"]["status"] == "requires_action"
    assert delivery.payment["next_action"] == waiting["next_action"]
    record("forced_types", paysim_webhooks.types)


def test_the_forced_outcome_was_used_up(paysim):
    payment = new(paysim)
    assert paysim.pay(payment["id"])["status"] == "succeeded"


@pytest.mark.paysim(outcome="requires_action")
def test_the_marker_sends_every_pay_to_requires_action(paysim, paysim_webhooks):
    payment = new(paysim, capture_method="manual")
    assert paysim.pay(payment["id"], card_number="4242424242424242")["status"] == "requires_action"
    failed = paysim.authenticate(payment["id"], outcome="fail")
    assert failed["status"] == "failed"
    # Every attempt, not only the first: the retry needs authentication again.
    assert paysim.pay(payment["id"])["status"] == "requires_action"
    assert paysim.authenticate(payment["id"])["status"] == "authorized"
    other = new(paysim)
    assert paysim.pay(other["id"], outcome="fail")["status"] == "requires_action"
    paysim_webhooks.wait_for("payment.requires_action", count=3, timeout=5.0)
    paysim_webhooks.assert_sequence(
        [
            "payment.created",
            "payment.requires_action",
            "payment.failed",
            "payment.requires_action",
            "payment.authorized",
        ],
        payment_id=payment["id"],
    )


@pytest.mark.paysim(outcome="requires_action")
class TestMarkedClass:
    def test_the_class_marker_applies(self, paysim):
        payment = new(paysim)
        assert paysim.pay(payment["id"])["status"] == "requires_action"


def test_the_marker_does_not_leak_into_the_next_test(paysim):
    payment = new(paysim)
    assert paysim.pay(payment["id"])["status"] == "succeeded"


def test_authenticate_fail(paysim, paysim_webhooks):
    payment = new(paysim)
    assert paysim.pay(payment["id"], card_number=CARD_3184)["status"] == "requires_action"
    failed = paysim.authenticate(payment["id"], outcome="fail")
    assert failed["status"] == "failed"
    assert failed["failure_code"] == "authentication_failed"
    assert failed["decline_code"] is None
    assert failed["failure_message"]
    paysim_webhooks.wait_for("payment.failed", payment_id=payment["id"], timeout=5.0)
    paysim_webhooks.assert_sequence(
        ["payment.created", "payment.requires_action", "payment.failed"]
    )
    paysim_webhooks.assert_received("payment.failed", payment_id=payment["id"], count=1)
    # Paying again works.
    assert paysim.pay(payment["id"], card_number="4242424242424242")["status"] == "succeeded"


def test_authenticate_with_a_card_that_declines_afterwards(paysim):
    payment = new(paysim)
    paysim.pay(payment["id"], card_number=CARD_3178)
    declined = paysim.authenticate(payment["id"], outcome="succeed")
    assert (declined["status"], declined["decline_code"]) == ("failed", "insufficient_funds")


@pytest.mark.parametrize("outcome", ["maybe", "abandon", "requires_action", "", "SUCCEED"])
def test_authenticate_rejects_an_unknown_outcome(paysim, outcome):
    payment = new(paysim)
    paysim.pay(payment["id"], card_number=CARD_3184)
    with pytest.raises(ValueError, match="succeed, fail"):
        paysim.authenticate(payment["id"], outcome=outcome)
    assert paysim.get_payment(payment["id"])["status"] == "requires_action"


def test_authenticate_outside_requires_action_raises_the_409(paysim):
    payment = new(paysim)
    with pytest.raises(errors.PaymentUnexpectedState) as refused:
        paysim.authenticate(payment["id"])
    assert "requires_payment_method" in str(refused.value)
    with pytest.raises(errors.ResourceMissing):
        paysim.authenticate("pay_000000000000000000000000")


def test_a_forced_requires_action_per_payment_with_a_decline_code(paysim):
    target, other = new(paysim), new(paysim)
    paysim.force_outcome(
        "requires_action", payment_id=target["id"], times=None, decline_code="stolen_card"
    )
    assert paysim.pay(other["id"])["status"] == "succeeded"
    assert paysim.pay(target["id"])["status"] == "requires_action"
    declined = paysim.authenticate(target["id"])
    assert (declined["status"], declined["decline_code"]) == ("failed", "stolen_card")
    assert paysim.pay(target["id"])["status"] == "requires_action"  # times=None: always


@pytest.mark.parametrize(
    ("outcome", "decline_code"),
    [
        ("requires_authentication", None),
        ("succeed", "lost_card"),
        ("requires_action", "authentication_failed"),
    ],
)
def test_force_outcome_rejects_what_cannot_be_forced(paysim, outcome, decline_code):
    with pytest.raises(ValueError):
        paysim.force_outcome(outcome, decline_code=decline_code)


def test_a_forced_requires_action_with_times_and_a_decline_code(paysim):
    paysim.force_outcome("requires_action", times=2, decline_code="lost_card")
    payment = new(paysim)
    for _ in range(2):
        assert paysim.pay(payment["id"])["status"] == "requires_action"
        assert paysim.authenticate(payment["id"])["decline_code"] == "lost_card"
    assert paysim.pay(payment["id"])["status"] == "succeeded"
"""

GENERATED_TESTS = 18
"""How many tests GENERATED holds (parametrized cases counted)."""

BAD_MARKER = """
import pytest


@pytest.mark.paysim(outcome="requires_authentication")
def test_a_marker_with_an_unknown_outcome(paysim):
    pass
"""


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, str]]:
    """A ``paysim serve`` subprocess (seed 11): its URL and API key, read from its banner."""
    env = {name: value for name, value in os.environ.items() if name not in INHERITED}
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_paysim", "serve", "--port", "0", "--seed", "11"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        url = key = None
        deadline = time.monotonic() + BANNER_TIMEOUT_SECONDS
        banner = []
        while url is None or key is None:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no URL and key from paysim serve: {banner}") from None
            banner.append(line)
            if found := re.match(r"\s*url:\s+(\S+)", line):
                url = found[1]
            if found := re.match(r"\s*api key:\s+(\S+)", line):
                key = found[1]
        yield url, key
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


EXPECTED_TYPES = ["payment.created", "payment.requires_action", "payment.succeeded"]


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(("--paysim", "--paysim-seed", "7"), id="in-process"),
        pytest.param(("--paysim", "--paysim-seed", "7", "--paysim-delivery", "sync"), id="sync"),
        pytest.param(("--paysim", "--paysim-signature", "ed25519"), id="ed25519"),
    ],
)
def test_3ds_through_the_fixtures(run: Runner, options: tuple[str, ...]) -> None:
    run.pytester.makepyfile(test_generated=GENERATED)
    result = run(*options, "-q", timeout=RUN_TIMEOUT_SECONDS)
    result.assert_outcomes(passed=GENERATED_TESTS)
    assert run.recorded("forced_types") == EXPECTED_TYPES


def test_3ds_through_the_fixtures_under_xdist(run: Runner) -> None:
    run.pytester.makepyfile(test_generated=GENERATED)
    result = run("--paysim", "-n", "2", "-q", xdist=True, timeout=RUN_TIMEOUT_SECONDS)
    result.assert_outcomes(passed=GENERATED_TESTS)
    assert run.recorded("forced_types") == EXPECTED_TYPES


def test_3ds_through_the_fixtures_against_paysim_serve(
    run: Runner, served: tuple[str, str]
) -> None:
    url, api_key = served
    run.pytester.makepyfile(test_generated=GENERATED)
    result = run(
        "--paysim",
        "--paysim-url",
        url,
        "--paysim-api-key",
        api_key,
        "-q",
        timeout=RUN_TIMEOUT_SECONDS,
    )
    result.assert_outcomes(passed=GENERATED_TESTS)
    assert run.recorded("forced_types") == EXPECTED_TYPES


def test_a_marker_with_an_unknown_outcome_is_a_setup_error(run: Runner) -> None:
    run.pytester.makepyfile(test_bad_marker=BAD_MARKER)
    result = run("--paysim", timeout=RUN_TIMEOUT_SECONDS)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*paysim marker: outcome must be one of succeed, fail, abandon, requires_action*"]
    )


def test_the_plugin_off_skips_a_3ds_test(run: Runner) -> None:
    run.pytester.makepyfile(test_generated=GENERATED)
    result = run("-q", "-rs", timeout=RUN_TIMEOUT_SECONDS)
    result.assert_outcomes(skipped=GENERATED_TESTS)
    result.stdout.fnmatch_lines(["*paysim is off: run pytest with --paysim*"])

"""The webhook log refuses an event type that does not exist at once, and ``assert_received``
shows the values a failed field match found."""

from __future__ import annotations

from pytest_paysim.stripe.events import EVENT_TYPES as STRIPE_EVENT_TYPES
from tests.support.plugin import Runner


def test_event_types_and_field_values(run: Runner) -> None:
    run.pytester.copy_example("webhook_checks")
    result = run("--paysim")
    result.assert_outcomes(passed=9)

    listed = (
        "paysim: payment.created, payment.succeeded, payment.authorized, payment.failed, "
        "payment.requires_payment_method, payment.requires_action, payment.captured, "
        "payment.refunded, payment.refund_failed, payment.canceled"
    )
    with_stripe = f"{listed}; stripe: {', '.join(STRIPE_EVENT_TYPES)}"  # the server's dialect
    assert run.recorded("misspelt") == (
        "unknown event type 'payment.succeded'; did you mean 'payment.succeeded'? "
        f"The event types are ({with_stripe})."
    )
    assert run.recorded("unknown") == (
        f"unknown event type 'order.paid'; the event types are ({with_stripe})."
    )
    assert run.recorded("two_dialects").endswith(
        f"({listed}; stripe: payment_intent.succeeded, charge.refunded)."
    )
    assert "did you mean 'charge.refunded'?" in run.recorded("two_dialects")

    first, second = run.recorded("ids")
    values = run.recorded("values")
    assert values.startswith(
        "expected at least 1 'payment.succeeded' event, amount=999, currency='usd', "
        "no_such_field=1, got 0\n"
        "the 2 'payment.succeeded' events held:\n"
    )
    assert f"payment={first}: amount=1000, currency='usd', no_such_field=<missing>\n" in values
    assert f"payment={second}: amount=250, currency='eur', no_such_field=<missing>\n" in values
    assert "\nreceived 4:\n  1. payment.created" in values

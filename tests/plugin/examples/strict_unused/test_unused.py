def test_unused_fault(paysim):
    paysim.inject_fault(method="POST", path="/v1/payments/*/refund", status=502, when="after")


def test_unused_outcomes(paysim):
    payment = paysim.create_payment(amount=100, currency="usd")
    paysim.force_outcome("fail", times=2, decline_code="lost_card")
    paysim.pay(payment["id"])  # one of the two
    paysim.force_refund_outcome("fail")


def test_an_always_rule_never_used(paysim):
    paysim.inject_fault(path="/v1/events", status=429, times=None)
    paysim.force_outcome("abandon", payment_id="pay_123", times=None)


def test_a_failing_test_is_not_blamed_twice(paysim):
    paysim.inject_fault(path="/v1/events")
    raise AssertionError("the test's own failure")

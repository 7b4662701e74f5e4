import pytest


def test_used_up_rules_pass(paysim):
    payment = paysim.create_payment(amount=100, currency="usd")
    paysim.force_outcome("fail", times=2)
    paysim.force_outcome("succeed", times=None)
    assert paysim.pay(payment["id"])["status"] == "failed"
    assert paysim.pay(payment["id"])["status"] == "failed"
    assert paysim.pay(payment["id"])["status"] == "succeeded"  # times=None: used once is enough
    paysim.force_refund_outcome("fail")
    assert paysim.refund(payment["id"])["status"] == "failed"
    paysim.inject_fault(path="/v1/events", times=None)
    assert paysim.client.get("/v1/events").status_code == 503


def test_required_false(paysim):
    paysim.inject_fault(path="/v1/events", required=False)
    paysim.force_outcome("fail", required=False)
    paysim.force_refund_outcome("fail", times=None, required=False)


def test_cleared_rules_are_gone(paysim):
    paysim.inject_fault(path="/v1/events")
    paysim.force_outcome("fail")
    paysim.force_refund_outcome("fail")
    paysim.clear_faults()
    paysim.clear_outcomes()
    assert paysim.client.get("/v1/events").status_code == 200
    payment = paysim.create_payment(amount=100, currency="usd")
    assert paysim.pay(payment["id"])["status"] == "succeeded"
    assert paysim.refund(payment["id"])["status"] == "succeeded"


def test_a_reset_takes_them_back(paysim):
    paysim.inject_fault(path="/v1/events")
    paysim.reset()


@pytest.mark.paysim(outcome="fail")
def test_the_marker_outcome_is_a_setting_not_an_expectation(paysim):
    pass


def test_a_rolled_back_attempt_does_not_count(paysim):
    paysim.force_refund_outcome("fail")
    payment = paysim.pay(paysim.create_payment(amount=100, currency="usd")["id"])
    response = paysim.client.post(f"/v1/payments/{payment['id']}/refund", json={"amount": 500})
    assert response.status_code == 400  # too much: nothing happened, the rule is still there
    assert paysim.refund(payment["id"])["status"] == "failed"

def test_a_rolled_back_attempt_leaves_the_rule_unused(paysim):
    paysim.force_refund_outcome("fail")
    payment = paysim.pay(paysim.create_payment(amount=100, currency="usd")["id"])
    response = paysim.client.post(f"/v1/payments/{payment['id']}/refund", json={"amount": 500})
    assert response.status_code == 400

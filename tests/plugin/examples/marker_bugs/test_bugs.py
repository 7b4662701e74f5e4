import pytest

from pytest_paysim import errors


def break_get_payment(simulator):
    def broken(payment_id):
        raise RuntimeError("simulated bug in get_payment")

    simulator.get_payment = broken


def test_a_500_fails_a_test_that_passes(paysim, paysim_server):
    payment = paysim.create_payment(amount=5, currency="usd")
    break_get_payment(paysim_server.simulator)
    try:
        response = paysim.client.get(f"/v1/payments/{payment['id']}")
    finally:
        del paysim_server.simulator.get_payment
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "simulated bug" not in response.text  # never a stack trace in the answer


def test_a_500_shows_before_the_tests_own_failure(paysim, paysim_server):
    payment = paysim.create_payment(amount=5, currency="usd")
    break_get_payment(paysim_server.simulator)
    try:
        paysim.get_payment(payment["id"])
    finally:
        del paysim_server.simulator.get_payment


@pytest.fixture
def broken_at_teardown(paysim, paysim_server):
    payment = paysim.create_payment(amount=5, currency="usd")
    yield
    break_get_payment(paysim_server.simulator)
    try:
        paysim.client.get(f"/v1/payments/{payment['id']}")
    finally:
        del paysim_server.simulator.get_payment


def test_a_500_in_teardown_is_an_error(broken_at_teardown):
    pass


def test_injected_faults_are_not_bugs(paysim):
    paysim.inject_fault(path="/v1/payments", status=500)
    with pytest.raises(errors.InjectedFault):
        paysim.create_payment(amount=5, currency="usd")


def test_the_next_test_is_clean(paysim):
    assert paysim.payments() == []
    assert paysim.unexpected_errors() == []

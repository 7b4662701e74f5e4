import pytest
from paysim_out import record


def ids_of(paysim, paysim_server):
    payment = paysim.create_payment(amount=1000, currency="usd", simulate="auto")
    if payment["status"] == "failed":
        payment = paysim.pay(payment["id"])
    refund = paysim.refund(payment["id"], amount=10)
    events = paysim.client.get("/v1/events").json()["data"]
    endpoint = paysim.add_webhook_endpoint("http://127.0.0.1:9/hooks")
    auto = [
        paysim.create_payment(amount=5, currency="usd", simulate="auto")["status"] for _ in range(6)
    ]
    return {
        "ids": [
            payment["id"],
            payment["client_secret"],
            refund["id"],
            endpoint["id"],
            *[event["id"] for event in events],
        ],
        "secrets": [endpoint["secret"], paysim_server.api_key, paysim_server.webhook_secret],
        "auto": auto,
    }


@pytest.mark.parametrize("name", ["alpha", "beta"])
def test_ids(paysim, paysim_server, name):
    values = ids_of(paysim, paysim_server)
    print(name, values["ids"])
    record(name, values)


def test_gamma(paysim, paysim_server):
    record("gamma", ids_of(paysim, paysim_server))

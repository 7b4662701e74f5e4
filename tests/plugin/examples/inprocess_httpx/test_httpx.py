import asyncio
import os

import httpx
import pytest
import requests
import respx
from paysim_helpers import closed_port

GATEWAY = f"http://127.0.0.1:{closed_port()}/gateway"
ELSEWHERE = f"http://127.0.0.1:{closed_port()}/elsewhere"


def auth():
    return {"Authorization": "Bearer " + os.environ["PAYSIM_API_KEY"]}


def test_a_sync_client(paysim):
    paysim.intercept(GATEWAY)
    with httpx.Client(base_url=GATEWAY, headers=auth()) as client:
        created = client.post("/v1/payments", json={"amount": 700, "currency": "usd"})
        assert created.status_code == 201
        paid = client.post(f"/v1/payments/{created.json()['id']}/pay", json={})
        assert paid.status_code == 400  # the simulator's own answer: outcome missing
        assert paid.json()["error"]["code"] == "parameter_missing"
        listed = client.get("/v1/payments", params={"limit": 1})
    assert [p["id"] for p in listed.json()["data"]] == [created.json()["id"]]
    pay_path = f"/v1/payments/{created.json()['id']}/pay"
    assert [c.path for c in paysim.calls] == ["/v1/payments", pay_path, "/v1/payments"]
    assert paysim.calls[2].request == {"limit": "1"}


def test_an_async_client(paysim):
    paysim.intercept(GATEWAY)

    async def checkout():
        async with httpx.AsyncClient(base_url=GATEWAY, headers=auth()) as client:
            created = await client.post(
                "/v1/payments",
                json={"amount": 300, "currency": "eur"},
                headers={"Idempotency-Key": "order-9"},
            )
            both = await asyncio.gather(
                client.post(f"/v1/payments/{created.json()['id']}/pay", json={"outcome": "fail"}),
                client.get(f"/v1/payments/{created.json()['id']}"),
            )
            return created, both

    created, (paid, got) = asyncio.run(checkout())
    assert created.status_code == 201
    assert paid.json()["status"] == "failed"
    assert got.status_code == 200
    paysim.assert_called("POST", "/v1/payments", times=1)
    assert paysim.calls[0].idempotency_key == "order-9"


def test_requests_still_routed_as_well(paysim):
    paysim.intercept(GATEWAY)
    body = {"amount": 1, "currency": "usd"}
    made = requests.post(GATEWAY + "/v1/payments", json=body, headers=auth())
    assert made.status_code == 201


def test_faults_reach_httpx_clients(paysim):
    paysim.intercept(GATEWAY)
    paysim.inject_fault(method="GET", path="/v1/payments", drop_connection=True)
    paysim.inject_fault(method="POST", path="/v1/payments", status=503)
    with httpx.Client(base_url=GATEWAY, headers=auth()) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/v1/payments")
        assert client.post("/v1/payments", json={"amount": 1, "currency": "usd"}).status_code == 503

    async def dropped():
        paysim.inject_fault(method="GET", path="/v1/events", drop_connection=True)
        async with httpx.AsyncClient(base_url=GATEWAY, headers=auth()) as client:
            await client.get("/v1/events")

    with pytest.raises(httpx.RemoteProtocolError):
        asyncio.run(dropped())


def test_other_requests_pass_through_to_the_network(paysim):
    paysim.intercept(GATEWAY)
    with pytest.raises(httpx.ConnectError):
        httpx.get(ELSEWHERE + "/x")


def test_the_tests_own_respx_routes_keep_working(paysim):
    with respx.mock(assert_all_called=False) as before:  # started before intercept
        before.get(ELSEWHERE + "/before").respond(200, json={"mocked": "before"})
        paysim.intercept(GATEWAY)
        with respx.mock(assert_all_called=False) as after:  # and one started after it
            after.get(ELSEWHERE + "/after").respond(200, json={"mocked": "after"})
            assert httpx.get(ELSEWHERE + "/before").json() == {"mocked": "before"}
            assert httpx.get(ELSEWHERE + "/after").json() == {"mocked": "after"}
            body = {"amount": 5, "currency": "usd"}
            created = httpx.post(GATEWAY + "/v1/payments", json=body, headers=auth())
            assert created.status_code == 201
            with pytest.raises(respx.models.AllMockedAssertionError):
                httpx.get(ELSEWHERE + "/unmocked")  # respx's own check still holds
            assert before.calls.call_count == 1
            assert after.calls.call_count == 1
    assert paysim.assert_called("POST", "/v1/payments", times=1)


def test_teardown_undid_it():
    with pytest.raises(httpx.ConnectError):
        httpx.get(GATEWAY + "/health")


def test_respx_missing_is_a_clear_error(paysim, monkeypatch):
    import sys

    from pytest_paysim.errors import ConfigurationError

    monkeypatch.setitem(sys.modules, "respx", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'pytest-paysim\[httpx\]'"):
        paysim.intercept(GATEWAY)

"""``intercept`` routes httpx calls (sync and async clients) besides ``requests``, leaving a
test's own respx routes working; ``route_webhooks`` takes ASGI apps as well as WSGI ones."""

from __future__ import annotations

from plugin_support import Runner

HELPERS = '''
"""A port nothing listens on, for URLs that must not be reached."""
import socket


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
'''

HTTPX = """
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
                "/v1/payments", json={"amount": 300, "currency": "eur"},
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
            assert before.calls.call_count == 1 and after.calls.call_count == 1
    assert paysim.assert_called("POST", "/v1/payments", times=1)


def test_teardown_undid_it():
    with pytest.raises(httpx.ConnectError):
        httpx.get(GATEWAY + "/health")


def test_respx_missing_is_a_clear_error(paysim, monkeypatch):
    import sys

    from pytest_paysim.errors import ConfigurationError

    monkeypatch.setitem(sys.modules, "respx", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'pytest-paysim\\[httpx\\]'"):
        paysim.intercept(GATEWAY)
"""

ASGI = """
import sys

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pytest_paysim.errors import ConfigurationError
from pytest_paysim.webhooks import verify

received = []


async def hooks(request: Request):
    body = await request.body()
    event = verify(body, request.headers, request.app.state.secret)
    received.append((request.url.path, event["type"]))
    return JSONResponse({"ok": True})


shop = Starlette(routes=[Route("/hooks/paysim", hooks, methods=["POST"])])


async def raw_app(scope, receive, send):
    assert scope["type"] == "http"
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    received.append((scope["path"], body))
    headers = [(b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": 202, "headers": headers})
    await send({"type": "http.response.body", "body": b"accepted"})


def test_a_starlette_app(paysim, paysim_webhooks):
    received.clear()
    shop.state.secret = paysim.webhook_secret
    paysim.route_webhooks("https://shop.example", shop)
    payment = paysim.create_payment(
        amount=100, currency="usd", metadata={"webhook_url": "https://shop.example/hooks/paysim"}
    )
    paysim.pay(payment["id"])
    delivery = paysim_webhooks.wait_for("payment.succeeded")
    assert (delivery.status_code, delivery.succeeded) == (200, True)
    paysim_webhooks.wait_for("payment.created")
    assert sorted(received) == [
        ("/hooks/paysim", "payment.created"),
        ("/hooks/paysim", "payment.succeeded"),
    ]


def test_a_raw_asgi_callable_and_a_wsgi_app_side_by_side(paysim, paysim_webhooks):
    received.clear()
    wsgi_bodies = []

    def wsgi_app(environ, start_response):
        wsgi_bodies.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        start_response("204 No Content", [])
        return [b""]

    paysim.route_webhooks("https://asgi.example", raw_app)
    paysim.route_webhooks("https://wsgi.example", wsgi_app)
    paysim.add_webhook_endpoint("https://asgi.example/in")
    paysim.add_webhook_endpoint("https://wsgi.example/in")
    paysim.create_payment(amount=100, currency="usd")
    first, second = paysim_webhooks.wait_for("payment.created", count=2)
    assert {first.status_code, second.status_code} == {202, 204}
    assert received == [("/in", first.body)]
    assert wsgi_bodies == [first.body]


def test_a2wsgi_missing_is_a_clear_error(paysim, monkeypatch):
    monkeypatch.setitem(sys.modules, "a2wsgi", None)
    needs = r"ASGI app.*pip install 'pytest-paysim\\[asgi\\]'"
    with pytest.raises(ConfigurationError, match=needs):
        paysim.route_webhooks("https://shop.example", raw_app)
"""


def test_intercept_routes_httpx_sync_and_async(run: Runner) -> None:
    run.pytester.makepyfile(paysim_helpers=HELPERS, test_httpx=HTTPX)
    result = run("--paysim")
    result.assert_outcomes(passed=8)


def test_route_webhooks_takes_asgi_apps(run: Runner) -> None:
    run.pytester.makepyfile(test_asgi=ASGI)
    result = run("--paysim")
    result.assert_outcomes(passed=3)

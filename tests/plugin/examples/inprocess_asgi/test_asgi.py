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
    needs = r"ASGI app.*pip install 'pytest-paysim\[asgi\]'"
    with pytest.raises(ConfigurationError, match=needs):
        paysim.route_webhooks("https://shop.example", raw_app)

"""The shop's web app (Flask): orders, the gateway's webhooks, refunds.

    POST /orders                 {"items": [{"sku", "quantity", "unit_amount"}] | "amount",
                                  "currency"} → 201 {"order", "payment_url"}
    GET  /orders/<id>            → the order
    GET  /orders/<id>/return     where the hosted payment page sends the customer back
    POST /orders/<id>/refund     {"amount"?, "reason"?} → {"order", "refund"}
    POST /webhooks/paysim        signed gateway events → 200, or 400 for a bad signature

The order's status follows the gateway's webhooks (the source of truth), not the customer's
browser: ``payment.requires_action`` (3-D Secure) → ``authenticating``, ``payment.succeeded`` →
``paid``, ``payment.failed`` → ``failed``, a full ``payment.refunded`` → ``refunded``.

    app = create_app()          # settings from the environment (see shop.settings)
    app.run()
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from pytest_paysim.webhooks import WebhookVerificationError, verify
from shop import settings
from shop.gateway import GatewayClient, GatewayError, GatewayUnavailable
from shop.store import Order, OrderStore

__all__ = ["Shop", "create_app"]

WEBHOOK_PATH = "/webhooks/paysim"


@dataclass
class Shop:
    """What the app's views share: the orders, the gateway, and a few knobs."""

    store: OrderStore
    gateway: GatewayClient
    public_url: str
    webhook_secret: str
    #: Test hook: answer this many genuine webhook deliveries with 500 (an outage).
    webhook_fail_next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take_webhook_failure(self) -> bool:
        with self._lock:
            if self.webhook_fail_next > 0:
                self.webhook_fail_next -= 1
                return True
            return False


def create_app(
    *,
    public_url: str | None = None,
    gateway: GatewayClient | None = None,
    webhook_secret: str | None = None,
) -> Flask:
    """A new shop with an empty order store; arguments override ``shop.settings``."""
    app = Flask(__name__)
    app.extensions["shop"] = Shop(
        store=OrderStore(),
        gateway=gateway
        or GatewayClient(
            settings.GATEWAY_URL,
            settings.GATEWAY_API_KEY,
            max_attempts=settings.GATEWAY_MAX_ATTEMPTS,
            backoff=settings.GATEWAY_BACKOFF,
            timeout=settings.GATEWAY_TIMEOUT,
        ),
        public_url=(public_url or settings.PUBLIC_URL).rstrip("/"),
        webhook_secret=webhook_secret or settings.WEBHOOK_SECRET,
    )
    app.register_blueprint(views)
    app.register_error_handler(HTTPException, _http_error)
    return app


def get_shop(app: Flask | None = None) -> Shop:
    """The ``Shop`` of ``app`` (default: the current app)."""
    shop: Shop = (app or current_app).extensions["shop"]
    return shop


views = Blueprint("shop", __name__)


def _error(status: int, code: str, message: str, **extra: Any) -> ResponseReturnValue:
    return jsonify(error={"code": code, "message": message}, **extra), status


def _http_error(error: HTTPException) -> ResponseReturnValue:
    return _error(error.code or 500, "http_error", error.description or str(error))


def _order_or_404(order_id: str) -> Order:
    order = get_shop().store.get(order_id)
    if order is None:
        abort(404, description=f"no order {order_id}")
    return order


# -- orders ---------------------------------------------------------------------------------


def _read_order_request(data: Any) -> tuple[int, str, list[dict[str, Any]]] | str:
    """(amount, currency, items) from the request body, or what is wrong with it."""
    if not isinstance(data, dict):
        return "send a JSON object"
    currency = data.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        return "currency must be a three-letter ISO 4217 code"
    items = data.get("items")
    if items is not None:
        if not isinstance(items, list) or not items:
            return "items must be a non-empty list"
        total = 0
        for item in items:
            if not isinstance(item, dict):
                return "each item is an object with sku, quantity and unit_amount"
            quantity, unit = item.get("quantity", 1), item.get("unit_amount")
            if not all(type(n) is int and n > 0 for n in (quantity, unit)):
                return "quantity and unit_amount must be positive integers"
            total += quantity * unit
        return total, currency.lower(), items
    amount = data.get("amount")
    if type(amount) is not int or amount <= 0:
        return "give items, or an amount as a positive integer in minor units"
    return amount, currency.lower(), []


@views.post("/orders")
def create_order() -> ResponseReturnValue:
    shop = get_shop()
    parsed = _read_order_request(request.get_json(silent=True))
    if isinstance(parsed, str):
        return _error(400, "invalid_order", parsed)
    amount, currency, items = parsed
    order = shop.store.create(amount=amount, currency=currency, items=items)
    try:
        payment = shop.gateway.create_payment(
            amount=amount,
            currency=currency,
            description=f"Order {order.id}",
            metadata={
                "order_id": order.id,
                "webhook_url": shop.public_url + WEBHOOK_PATH,
            },
            return_url=f"{shop.public_url}/orders/{order.id}/return",
            # One key per order: a retry (ours, or a later one) can never pay twice.
            idempotency_key=f"{order.id}-create-payment",
        )
    except GatewayError as error:
        shop.store.update(order.id, status="payment_error")
        status = 503 if isinstance(error, GatewayUnavailable) else 502
        return _error(status, "gateway_error", str(error), order=order.to_dict())
    order = shop.store.update(
        order.id, payment_id=payment["id"], payment_url=payment["payment_url"]
    )
    return jsonify(order=order.to_dict(), payment_url=payment["payment_url"]), 201


@views.get("/orders/<order_id>")
def show_order(order_id: str) -> ResponseReturnValue:
    return jsonify(order=_order_or_404(order_id).to_dict())


@views.get("/orders/<order_id>/return")
def payment_return(order_id: str) -> ResponseReturnValue:
    """The customer is back from the hosted page. Its query is a hint, never the truth."""
    order = _order_or_404(order_id)
    messages = {
        "paid": "Thank you, your payment went through.",
        "failed": "Your payment was declined; you can try again.",
        "authenticating": "Please confirm the payment with your bank.",
        "refunded": "This order was refunded.",
    }
    message = messages.get(order.status, "We are confirming your payment.")
    return jsonify(order=order.to_dict(), message=message)


@views.post("/orders/<order_id>/refund")
def refund_order(order_id: str) -> ResponseReturnValue:
    shop = get_shop()
    order = _order_or_404(order_id)
    if order.status != "paid" or order.payment_id is None:
        return _error(409, "order_not_refundable", f"order {order.id} is {order.status}")
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        return _error(400, "invalid_refund", "send a JSON object, or nothing")
    amount = data.get("amount")
    if amount is not None and (type(amount) is not int or amount <= 0):
        return _error(400, "invalid_refund", "amount must be a positive integer")
    try:
        # The client makes one idempotency key for this refund and reuses it on retries.
        refund = shop.gateway.refund(
            order.payment_id, amount=amount, reason=data.get("reason") or "requested_by_customer"
        )
    except GatewayError as error:
        status = 503 if isinstance(error, GatewayUnavailable) else 502
        return _error(status, "gateway_error", str(error))
    if refund["status"] != "succeeded":
        return _error(502, "refund_failed", "the gateway declined the refund", refund=refund)
    # The order becomes "refunded" when the payment.refunded webhook says so.
    return jsonify(order=order.to_dict(), refund=refund)


# -- webhooks -------------------------------------------------------------------------------


@views.post(WEBHOOK_PATH)
def paysim_webhook() -> ResponseReturnValue:
    shop = get_shop()
    try:
        event = verify(request.get_data(), dict(request.headers), shop.webhook_secret)
    except WebhookVerificationError as error:
        return _error(400, "bad_signature", str(error))
    if shop.take_webhook_failure():
        return _error(500, "unavailable", "the shop is having a bad moment; retry later")
    result = shop.store.apply_event(event)
    return jsonify(received=True, result=result)

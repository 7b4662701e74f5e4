"""The shop's web app (Flask), written only against Stripe's official ``stripe`` package.

    POST /orders                 {"amount", "currency"} → 201 {"order", "client_secret"}
    GET  /orders/<id>            → {"order"}
    POST /orders/<id>/pay        {"payment_method"} → {"order", "payment"}; 402 when declined
    GET  /orders/<id>/return     where the customer lands after 3-D Secure
    POST /orders/<id>/refund     {"amount"?} → {"order", "refund"}
    POST /webhooks/stripe        Stripe's events, verified with stripe.Webhook.construct_event

Orders follow Stripe's webhooks, never the answers seen by the browser:
``payment_intent.requires_action`` → ``authenticating``, ``payment_intent.succeeded`` →
``paid``, ``payment_intent.payment_failed`` → ``failed``, a ``charge.refunded`` that refunds
everything → ``refunded``. Register the endpoint for those four event types.

The SDK is configured as Stripe documents it: ``stripe.api_key`` (and
``stripe.max_network_retries``) set once, from the environment. Every POST the SDK sends carries
an idempotency key, reused by its own retries; creating an order's payment intent uses a key of
the order's, so even a retry of the whole request can never make a second intent::

    app = create_app()      # STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET from the environment
    app.run()
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe
from flask import Blueprint, Flask, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from stripe_shop import config
from stripe_shop.store import Order, OrderStore, PaymentNews

__all__ = ["WEBHOOK_EVENTS", "WEBHOOK_PATH", "Shop", "create_app", "get_shop", "news_of"]

WEBHOOK_PATH = "/webhooks/stripe"
WEBHOOK_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.requires_action",
    "charge.refunded",
)
"""The event types the shop's webhook endpoint must be registered for."""


@dataclass
class Shop:
    """What the app's views share."""

    store: OrderStore
    public_url: str
    webhook_secret: str


def create_app(settings: dict[str, Any] | None = None, *, store: OrderStore | None = None) -> Flask:
    """A new shop. ``settings`` default to ``config.from_environment()``; ``store`` to a new,
    empty ``OrderStore``."""
    app = Flask(__name__)
    app.config.from_mapping(settings if settings is not None else config.from_environment())
    # Stripe's documented setup: one key for the process, set where the app is built.
    stripe.api_key = app.config["STRIPE_SECRET_KEY"]
    stripe.max_network_retries = app.config["STRIPE_MAX_NETWORK_RETRIES"]
    app.extensions["stripe_shop"] = Shop(
        store=store if store is not None else OrderStore(),
        public_url=app.config["PUBLIC_URL"],
        webhook_secret=app.config["STRIPE_WEBHOOK_SECRET"],
    )
    app.register_blueprint(views)
    app.register_error_handler(HTTPException, _http_error)
    return app


def get_shop(app: Flask | None = None) -> Shop:
    """The ``Shop`` of ``app`` (default: the current app)."""
    shop: Shop = (app or current_app).extensions["stripe_shop"]
    return shop


views = Blueprint("stripe_shop", __name__)


def _error(status: int, code: str, message: str, **extra: Any) -> ResponseReturnValue:
    return jsonify(error={"code": code, "message": message, **extra}), status


def _http_error(error: HTTPException) -> ResponseReturnValue:
    return _error(error.code or 500, "http_error", error.description or str(error))


def _order_or_404(order_id: str) -> Order:
    order = get_shop().store.get(order_id)
    if order is None:
        abort(404, description=f"no order {order_id}")
    return order


def _stripe_failure(
    error: stripe.StripeError, *, rejected: str | None = None
) -> ResponseReturnValue:
    """The shop's answer when Stripe refused a call, or could not be reached.

    ``rejected``: the code of a 400 for a request Stripe found invalid, when what it refused
    came from the customer (a payment method, an amount); otherwise that is a 502."""
    if isinstance(error, stripe.CardError):
        details = error.error
        return _error(
            402,
            error.code or "card_declined",
            error.user_message or "Your card was declined.",
            decline_code=details.decline_code if details is not None else None,
        )
    if rejected is not None and isinstance(error, stripe.InvalidRequestError):
        return _error(400, rejected, error.user_message or str(error), param=error.param)
    if isinstance(error, stripe.APIConnectionError):
        return _error(503, "payment_provider_unreachable", "Stripe could not be reached")
    current_app.logger.warning("Stripe refused a call: %s", error)
    return _error(502, "payment_provider_error", error.user_message or str(error))


# -- orders ---------------------------------------------------------------------------------


@views.post("/orders")
def create_order() -> ResponseReturnValue:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _error(400, "invalid_order", "send a JSON object")
    amount, currency = data.get("amount"), data.get("currency")
    if type(amount) is not int or amount <= 0:
        return _error(400, "invalid_order", "amount must be a positive integer in minor units")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        return _error(400, "invalid_order", "currency must be a three-letter ISO 4217 code")
    shop = get_shop()
    order = shop.store.create(amount=amount, currency=currency.lower())
    try:
        intent = stripe.PaymentIntent.create(
            amount=order.amount,
            currency=order.currency,
            description=f"Order {order.id}",
            metadata={"order_id": order.id},
            # One key per order: however often this is retried, there is one intent.
            idempotency_key=f"{order.id}-payment-intent",
        )
    except stripe.StripeError as error:
        shop.store.update(order.id, status="payment_error")
        return _stripe_failure(error)
    order = shop.store.update(order.id, payment_intent_id=intent.id)
    # The browser confirms with Stripe.js and the client secret, or pays through /pay.
    return jsonify(order=order.to_dict(), client_secret=intent.client_secret), 201


@views.get("/orders/<order_id>")
def show_order(order_id: str) -> ResponseReturnValue:
    return jsonify(order=_order_or_404(order_id).to_dict())


@views.post("/orders/<order_id>/pay")
def pay_order(order_id: str) -> ResponseReturnValue:
    """Confirm the order's payment intent with the customer's payment method, server side."""
    shop = get_shop()
    order = _order_or_404(order_id)
    if order.payment_intent_id is None or order.status in ("paid", "refunded"):
        return _error(409, "order_not_payable", f"order {order.id} is {order.status}")
    data = request.get_json(silent=True) or {}
    payment_method = data.get("payment_method") if isinstance(data, dict) else None
    if not isinstance(payment_method, str) or not payment_method:
        return _error(400, "invalid_payment", "payment_method (a pm_... id) is required")
    try:
        intent = stripe.PaymentIntent.confirm(
            order.payment_intent_id,
            payment_method=payment_method,
            return_url=f"{shop.public_url}/orders/{order.id}/return",
        )
    except stripe.StripeError as error:
        # A decline is a 402 for the customer now; the order becomes "failed" when the
        # payment_intent.payment_failed webhook says so.
        return _stripe_failure(error, rejected="payment_rejected")
    payment: dict[str, Any] = {"payment_intent": intent.id, "status": intent.status}
    # Stripe sends only the part of next_action for its type: redirect_to_url may be absent.
    redirect = getattr(intent.next_action, "redirect_to_url", None)
    if intent.status == "requires_action" and redirect is not None:
        # Send the customer to their bank; they come back to /orders/<id>/return.
        payment["redirect_url"] = redirect.url
    return jsonify(order=order.to_dict(), payment=payment)


@views.get("/orders/<order_id>/return")
def payment_return(order_id: str) -> ResponseReturnValue:
    """The customer is back from 3-D Secure. The query string is a hint, never the truth."""
    order = _order_or_404(order_id)
    messages = {
        "paid": "Thank you, your payment went through.",
        "failed": "Your payment did not go through; you can try another card.",
        "authenticating": "Please confirm the payment with your bank.",
        "refunded": "This order was refunded.",
    }
    message = messages.get(order.status, "We are confirming your payment.")
    return jsonify(order=order.to_dict(), message=message)


@views.post("/orders/<order_id>/refund")
def refund_order(order_id: str) -> ResponseReturnValue:
    order = _order_or_404(order_id)
    if order.status != "paid" or order.payment_intent_id is None:
        return _error(409, "order_not_refundable", f"order {order.id} is {order.status}")
    data = request.get_json(silent=True) or {}
    amount = data.get("amount") if isinstance(data, dict) else None
    if amount is not None and (type(amount) is not int or amount <= 0):
        return _error(400, "invalid_refund", "amount must be a positive integer")
    params: dict[str, Any] = {
        "payment_intent": order.payment_intent_id,
        "reason": "requested_by_customer",
        "metadata": {"order_id": order.id},
    }
    if amount is not None:
        params["amount"] = amount
    try:
        refund = stripe.Refund.create(**params)
    except stripe.StripeError as error:
        return _stripe_failure(error, rejected="refund_rejected")
    answer = {"id": refund.id, "amount": refund.amount, "status": refund.status}
    if refund.status == "failed":
        return _error(502, "refund_failed", "Stripe could not refund the payment", refund=answer)
    # The order shows the refund when the charge.refunded webhook says so; a pending refund
    # (202) is settled later, by Stripe.
    status = 200 if refund.status == "succeeded" else 202
    return jsonify(order=order.to_dict(), refund=answer), status


# -- webhooks -------------------------------------------------------------------------------


def _order_id(obj: Any) -> str | None:
    metadata = obj.metadata
    return metadata["order_id"] if metadata is not None and "order_id" in metadata else None


def news_of(event: stripe.Event) -> PaymentNews | None:
    """What ``event`` means for an order, or None for an event the shop does not act on."""
    obj = event.data.object
    if event.type == "charge.refunded":
        return PaymentNews(
            event_id=event.id,
            event_type=event.type,
            order_id=_order_id(obj),
            payment_intent_id=obj.payment_intent,
            status="refunded" if obj.refunded else None,
            amount_refunded=obj.amount_refunded,
            created=event.created,
        )
    status = {
        "payment_intent.succeeded": "paid",
        "payment_intent.payment_failed": "failed",
        "payment_intent.requires_action": "authenticating",
    }.get(event.type)
    if status is None:
        return None
    decline_code = None
    error = obj.last_payment_error
    if status == "failed" and error is not None:
        decline_code = getattr(error, "decline_code", None) or getattr(error, "code", None)
    return PaymentNews(
        event_id=event.id,
        event_type=event.type,
        order_id=_order_id(obj),
        payment_intent_id=obj.id,
        status=status,
        decline_code=decline_code,
        created=event.created,
    )


@views.post(WEBHOOK_PATH)
def stripe_webhook() -> ResponseReturnValue:
    shop = get_shop()
    try:
        event = stripe.Webhook.construct_event(
            request.get_data(), request.headers.get("Stripe-Signature", ""), shop.webhook_secret
        )
    except ValueError:
        return _error(400, "invalid_payload", "the body is not a Stripe event")
    except stripe.SignatureVerificationError as error:
        return _error(400, "bad_signature", str(error))
    news = news_of(event)
    if news is None:
        return jsonify(received=True, result="ignored")
    try:
        result = shop.store.apply(news)
    except Exception:
        # Not applied: answer 500 so that Stripe delivers the event again later.
        current_app.logger.exception("could not apply Stripe event %s", event.id)
        return _error(500, "unavailable", "the event could not be applied; retry later")
    return jsonify(received=True, result=result)

// A payment flow with the official stripe-node SDK against `paysim serve --stripe-port`,
// printed as JSON for tests/stripe/test_node_sdk.py to check. Arguments: host, port,
// secret key, publishable key. Everything here is stripe-node's own API; nothing is mocked.
"use strict";

const Stripe = require("stripe");

const [host, port, secretKey, publishableKey] = process.argv.slice(2);
const options = { host, port: Number(port), protocol: "http", maxNetworkRetries: 0 };
const stripe = new Stripe(secretKey, options);
const browser = new Stripe(publishableKey, options);

async function main() {
  const out = {};

  const intent = await stripe.paymentIntents.create({
    amount: 2000,
    currency: "eur",
    capture_method: "manual",
    metadata: { order: "42" },
  });
  out.created = { id: intent.id, status: intent.status, metadata: intent.metadata };

  // As Stripe.js would from a browser: the publishable key and the intent's client secret.
  const seen = await browser.paymentIntents.retrieve(intent.id, {
    client_secret: intent.client_secret,
  });
  out.seen_with_publishable_key = seen.status;
  const confirmed = await browser.paymentIntents.confirm(intent.id, {
    client_secret: intent.client_secret,
    payment_method: "pm_card_visa",
  });
  out.confirmed = { status: confirmed.status, amount_capturable: confirmed.amount_capturable };
  try {
    await browser.paymentIntents.capture(intent.id);
    out.capture_with_publishable_key = "allowed";
  } catch (err) {
    out.capture_with_publishable_key = { type: err.type, statusCode: err.statusCode };
  }

  const captured = await stripe.paymentIntents.capture(intent.id, { amount_to_capture: 1500 });
  out.captured = {
    status: captured.status,
    amount_received: captured.amount_received,
    latest_charge: captured.latest_charge,
  };

  const refund = await stripe.refunds.create(
    { payment_intent: intent.id, amount: 500 },
    { idempotencyKey: "refund-order-42" },
  );
  const again = await stripe.refunds.create(
    { payment_intent: intent.id, amount: 500 },
    { idempotencyKey: "refund-order-42" },
  );
  out.refund = { id: refund.id, status: refund.status, amount: refund.amount, replayed: again.id };

  const events = await stripe.events.list({ limit: 100 });
  out.events = events.data.map((event) => ({ type: event.type, object: event.data.object.id }));

  try {
    await stripe.paymentIntents.create({
      amount: 100,
      currency: "usd",
      payment_method: "pm_card_chargeDeclinedInsufficientFunds",
      confirm: true,
    });
    out.decline = "no error";
  } catch (err) {
    out.decline = {
      is_card_error: err instanceof Stripe.errors.StripeCardError,
      type: err.type,
      statusCode: err.statusCode,
      code: err.code,
      decline_code: err.decline_code,
      payment_intent: err.payment_intent && err.payment_intent.id,
      request_id: err.requestId,
    };
  }

  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});

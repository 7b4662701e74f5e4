"""The Stripe dialect: the simulator's core, speaking a stateful subset of Stripe's API.

The same payments, outcomes, faults, clock and webhook log as the native API, seen through
Stripe's wire format, so that an app using the official ``stripe`` SDK runs unchanged
against the simulator (SPEC section 14). This package holds the dialect's pure building
blocks, none of which imports HTTP code:

- :mod:`~pytest_paysim.stripe.errors`: Stripe's error envelope, the dialect's errors, and the
  one renderer of every ``ApiError``.

    >>> from pytest_paysim.stripe import errors
    >>> error = errors.ResourceMissing("payment_intent", "pi_x", param="intent")
    >>> error.status_code, error.to_dict()["error"]["message"]
    (404, "No such payment_intent: 'pi_x'")
"""

from __future__ import annotations

from pytest_paysim.stripe import errors

__all__ = ["errors"]

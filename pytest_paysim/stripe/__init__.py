"""The Stripe dialect: the simulator's core, speaking a stateful subset of Stripe's API.

The same payments, outcomes, faults, clock and webhook log as the native API, seen through
Stripe's wire format, so that an app using the official ``stripe`` SDK runs unchanged
against the simulator (SPEC section 14). This package holds the dialect's pure building
blocks, none of which imports HTTP code:

- :mod:`~pytest_paysim.stripe.forms`: bracket-notation bodies and query strings, in and out,
  and reading parameters the way Stripe does;
- :mod:`~pytest_paysim.stripe.errors`: Stripe's error envelope, the dialect's errors, and the
  one renderer of every ``ApiError``;
- :mod:`~pytest_paysim.stripe.objects`: one builder per Stripe object, and the status table;
- :mod:`~pytest_paysim.stripe.cards`: the ``pm_card_*`` test payment methods.

Over the core, the dialect's front end (imported by the server, not here):
:mod:`~pytest_paysim.stripe.app` (the WSGI app under ``/stripe``),
:mod:`~pytest_paysim.stripe.routes` (routes and handlers), :mod:`~pytest_paysim.stripe.views`
(core records as Stripe objects) and :mod:`~pytest_paysim.stripe.events` (the events each
transition emits, and their ``Stripe-Signature``).

    >>> from pytest_paysim.stripe import forms, objects
    >>> params = forms.decode("amount=2000&currency=usd&metadata[order]=42")
    >>> forms.to_integer(params["amount"], "amount", minimum=1)
    2000
    >>> objects.intent_status("authorized", has_payment_method=True)
    'requires_capture'
"""

from __future__ import annotations

from pytest_paysim.stripe import cards, errors, forms, objects

__all__ = ["cards", "errors", "forms", "objects"]

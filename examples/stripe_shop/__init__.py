"""An example web shop written only against Stripe: the official ``stripe`` package, nothing else.

``stripe_shop.app.create_app()`` builds the Flask app. It reads its configuration from the
environment (``STRIPE_SECRET_KEY``, ``STRIPE_WEBHOOK_SECRET``, see ``stripe_shop.config``) and
sets ``stripe.api_key`` from it, as a production app does; it never sets an API base, so in
production the SDK talks to ``https://api.stripe.com``. Its tests (``stripe_shop/tests/``) run
the same code against pytest-paysim's Stripe dialect.
"""

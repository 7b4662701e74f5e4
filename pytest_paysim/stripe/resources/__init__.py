"""The dialect's handlers, one module per Stripe resource, over :mod:`.common`.

Each module exports its handlers; :mod:`pytest_paysim.stripe.routes` maps routes to them.
"""

__all__: list[str] = []

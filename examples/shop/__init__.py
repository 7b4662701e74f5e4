"""An example web shop that takes payments through the pytest-paysim gateway.

``shop.app.create_app()`` builds the Flask app; ``shop.settings`` reads the gateway's URL, API
key and webhook secret from the environment at import time, as a real app reads its settings.
"""

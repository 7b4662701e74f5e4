"""The simulator core: models, transition table, store, idempotency, clock, outcomes.

Nothing here imports werkzeug, requests or pytest.
"""

"""An app's own Stripe settings, made at import time as an app's settings module would: each
test must end with them as they were, and with no HTTP patching left behind."""

import pytest
import requests.adapters
import stripe

APP_KEY = "sk_test_the_apps_own"
APP_BASE = "https://stripe-proxy.app.example"
stripe.api_key = APP_KEY
stripe.api_base = APP_BASE
SEND = requests.adapters.HTTPAdapter.send
CA_BUNDLE = stripe.ca_bundle_path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    # After every fixture of the test is torn down, the plugin's included.
    result = yield
    assert (stripe.api_key, stripe.api_base) == (APP_KEY, APP_BASE)
    assert stripe.ca_bundle_path == CA_BUNDLE
    assert requests.adapters.HTTPAdapter.send is SEND
    return result

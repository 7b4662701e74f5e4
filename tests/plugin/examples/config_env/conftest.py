import os

import pytest

# An application's settings module, read when the conftest is imported.
SETTINGS = {
    "url": os.environ["PAYSIM_URL"],
    "api_key": os.environ["PAYSIM_API_KEY"],
    "webhook_secret": os.environ["PAYSIM_WEBHOOK_SECRET"],
    "public_key": os.environ["PAYSIM_WEBHOOK_PUBLIC_KEY"],
}


@pytest.fixture
def conftest_settings():
    return SETTINGS

import os
import threading

import pytest
from requests.adapters import HTTPAdapter


def test_server(paysim_server):
    pass


def test_handle(paysim):
    pass


def test_webhooks(paysim_webhooks):
    pass


@pytest.mark.paysim(outcome="fail")
def test_marked():
    pass


@pytest.fixture
def app(paysim):
    return paysim


def test_indirect(app):
    pass


def test_nothing_started_nor_patched():
    assert not [name for name in os.environ if name.startswith("PAYSIM_")]
    assert HTTPAdapter.send.__module__ == "requests.adapters"
    assert not [t.name for t in threading.enumerate() if t.name.startswith("paysim")]

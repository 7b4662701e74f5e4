import pytest


def test_needs_the_handle(paysim):
    pass


def test_needs_the_log(paysim_webhooks):
    pass


@pytest.mark.paysim(outcome="fail")
def test_marked():
    pass


def test_plain():
    pass


@pytest.mark.skip(reason="something else")
def test_skipped_for_another_reason():
    pass

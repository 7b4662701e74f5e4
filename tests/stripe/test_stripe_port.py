"""``stripe_port`` (``paysim serve --stripe-port``): the dialect at the root of a second port,
over the same simulator, on the same kind of keep-alive server, stopped with the first."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
import stripe

from pytest_paysim.backends import LocalBackend
from pytest_paysim.errors import ConfigurationError
from pytest_paysim.handle import Paysim, TestSettings
from pytest_paysim.server import PaysimServer
from pytest_paysim.serving import KeepAliveWSGIServer


@pytest.fixture(scope="module")
def two_ports() -> Iterator[PaysimServer]:
    with PaysimServer(seed=21, stripe_port=0) as running:
        yield running


@pytest.fixture
def on_two_ports(two_ports: PaysimServer) -> Iterator[Paysim]:
    handle = Paysim(LocalBackend(two_ports), TestSettings(seed=21))
    yield handle
    handle.close()


def _root_client(server: PaysimServer, key: str | None = None) -> stripe.StripeClient:
    assert server.stripe_root_url is not None
    return stripe.StripeClient(
        key or server.api_key,
        base_addresses={"api": server.stripe_root_url},
        max_network_retries=0,
    )


def test_the_root_of_the_second_port_is_the_dialect(
    two_ports: PaysimServer, on_two_ports: Paysim
) -> None:
    assert two_ports.stripe_port not in (None, 0, two_ports.port)
    assert two_ports.stripe_root_url == f"http://127.0.0.1:{two_ports.stripe_port}"
    root = _root_client(two_ports)
    intent = root.v1.payment_intents.create(
        params={
            "amount": 1200,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    assert intent.status == "succeeded"
    # One simulator: the intent is there under <url>/stripe too, and in the core.
    under_prefix = stripe.StripeClient(
        two_ports.api_key, base_addresses={"api": two_ports.stripe_url}, max_network_retries=0
    )
    assert under_prefix.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    assert two_ports.simulator is not None
    assert two_ports.simulator.get_payment(intent.id).status == "succeeded"
    # Calls and faults see the dialect's whole path, whichever port it came in by.
    assert on_two_ports.calls[0].path == "/stripe/v1/payment_intents"
    on_two_ports.inject_fault(path="/stripe/v1/charges", status=503)
    with pytest.raises(stripe.APIError):
        root.v1.charges.list()


def test_the_publishable_key_at_the_root(two_ports: PaysimServer, on_two_ports: Paysim) -> None:
    intent = _root_client(two_ports).v1.payment_intents.create(
        params={"amount": 300, "currency": "eur", "payment_method": "pm_card_visa"}
    )
    confirmed = _root_client(two_ports, two_ports.publishable_key).v1.payment_intents.confirm(
        intent.id, params={"client_secret": intent.client_secret}
    )
    assert confirmed.status == "succeeded"


@pytest.mark.parametrize("path", ["/health", "/v1/payments", "/_paysim/state", "/dashboard"])
def test_only_the_dialect_answers_there(
    two_ports: PaysimServer, on_two_ports: Paysim, path: str
) -> None:
    answer = requests.get(
        f"{two_ports.stripe_root_url}{path}", auth=(two_ports.api_key, ""), timeout=5
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["message"].startswith(f"Unrecognized request URL (GET: {path})")


def test_the_second_port_keeps_connections_alive(
    two_ports: PaysimServer, on_two_ports: Paysim
) -> None:
    server = two_ports._stripe_server
    assert isinstance(server, KeepAliveWSGIServer)  # the same kind as the first port's
    accepted = server.accepted
    with requests.Session() as session:
        session.auth = (two_ports.api_key, "")
        for _ in range(3):
            answer = session.get(f"{two_ports.stripe_root_url}/v1/payment_intents", timeout=5)
            assert answer.status_code == 200
    assert server.accepted == accepted + 1  # three requests, one connection


def _refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_stop_closes_both_ports_quickly_and_leaves_no_thread() -> None:
    before = set(threading.enumerate())
    server = PaysimServer(stripe_port=0).start()
    assert server.stripe_port is not None
    with requests.Session() as idle:  # an idle keep-alive connection on each port
        idle.get(server.url + "/health", timeout=5)
        idle.get(f"{server.stripe_root_url}/v1/events", auth=(server.api_key, ""), timeout=5)
        began = time.monotonic()
        server.stop()
        assert time.monotonic() - began < 1.5
    assert _refused(server.port)
    assert _refused(server.stripe_port)
    left = [thread for thread in set(threading.enumerate()) - before if thread.is_alive()]
    assert left == []


def test_a_stripe_port_in_use_is_a_clear_error_and_leaves_nothing_bound() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = PaysimServer(stripe_port=port)
        with pytest.raises(ConfigurationError, match=r"--stripe-port"):
            server.start()
    assert server.simulator is None
    assert _refused(server.port)


def test_without_stripe_port_there_is_no_second_port(two_ports: PaysimServer) -> None:
    with PaysimServer() as server:
        assert (server.stripe_port, server.stripe_root_url) == (None, None)

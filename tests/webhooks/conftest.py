"""Fixtures of the webhook tests: real receivers over loopback and simulators to feed them.

``receivers`` makes receivers (``receivers([500, 500, 200])``, ``receivers(hang=1.0)``);
``make_env`` starts a :class:`PaysimServer` with the options a test needs (and per-test
settings through ``test=``). Everything is shut down at teardown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from pytest_paysim.backends import LocalBackend
from pytest_paysim.handle import Paysim, TestSettings
from pytest_paysim.server import PaysimServer
from tests.support.receivers import Receiver
from tests.support.webhooks import FAST_RETRIES, Env


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    """Make receivers: ``receivers([500, 500])`` answers 500 twice, then 200."""
    made: list[Receiver] = []

    def make(
        statuses: Sequence[int] = (),
        *,
        default: int = 200,
        hang: float = 0.0,
        dribble: float = 0.0,
    ) -> Receiver:
        receiver = Receiver(list(statuses), default=default, hang=hang, dribble=dribble)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def receiver(receivers: Callable[..., Receiver]) -> Receiver:
    """One receiver that answers 200."""
    return receivers()


@pytest.fixture
def make_env() -> Iterator[Callable[..., Env]]:
    """Start a simulator: ``make_env(signature="standard", webhook_retries=(3600,))``.

    Defaults: seed 1, fast retries (three attempts), ``test={...}`` gives the per-test
    settings of the ``paysim`` handle (``delivery``, ``signature``, ``clock``...).
    """
    started: list[Env] = []

    def make(*, test: dict[str, Any] | None = None, **options: Any) -> Env:
        options.setdefault("seed", 1)
        options.setdefault("webhook_retries", FAST_RETRIES)
        server = PaysimServer(**options).start()
        backend = LocalBackend(server)
        handle = Paysim(backend, TestSettings(seed=options["seed"], **(test or {})))
        env = Env(server, backend, handle)
        started.append(env)
        return env

    yield make
    for env in started:
        env.paysim.close()
        env.server.stop()
        assert env.sim.unexpected_errors() == [], "\n".join(env.sim.unexpected_errors)


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    """A simulator with the defaults: ``paysim`` signatures, async delivery, fast retries."""
    return make_env()

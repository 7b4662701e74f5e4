"""The pytest plugin: ``pytest --paysim`` starts one simulator per session (per xdist worker).

Off, it starts nothing and patches nothing, and tests that need it are skipped. On, the server
starts before collection so that settings read at import time see ``PAYSIM_URL``,
``PAYSIM_API_KEY`` and ``PAYSIM_WEBHOOK_SECRET``; each test then gets a fresh simulator state
through the ``paysim`` fixture::

    def test_checkout(paysim, paysim_webhooks):
        payment = paysim.create_payment(amount=1999, currency="usd")
        paysim.pay(payment["id"])
        paysim_webhooks.wait_for("payment.succeeded")
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

pytest.register_assert_rewrite("pytest_paysim.webhooks.log")

from pytest_paysim.core.ids import derive_seed, random_seed  # noqa: E402
from pytest_paysim.errors import ConfigurationError  # noqa: E402

__all__: list[str] = []

SKIP_REASON = "paysim is off: run pytest with --paysim"
FIXTURES = frozenset({"paysim", "paysim_server", "paysim_webhooks"})
DEFAULT_RETRIES = "0.1,0.2,0.4,0.8"


@dataclass
class Settings:
    """The plugin's options, command line over ini."""

    enabled: bool
    seed: int
    seed_given: bool
    host: str
    port: int
    url: str | None
    api_key: str | None
    signature: str
    delivery: str
    retries: tuple[float, ...]
    timeout: float
    auto_success_rate: float
    db: str | None
    https: bool


@dataclass
class PluginState:
    """What the plugin keeps for the session, in ``config.stash``."""

    settings: Settings
    worker: str
    server: Any = None
    backend: Any = None
    saved_env: dict[str, str | None] = field(default_factory=dict)


STATE_KEY = pytest.StashKey[PluginState]()


# -- options ----------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("paysim", "paysim payment-gateway simulator")
    group.addoption("--paysim", action="store_true", default=None,
                    help="start the payment simulator (ini: paysim = true)")
    group.addoption("--paysim-seed", type=int, default=None, metavar="N",
                    help="seed for ids, secrets and auto outcomes (default: random, printed)")
    group.addoption("--paysim-host", default=None, metavar="H",
                    help="bind address (default 127.0.0.1)")
    group.addoption("--paysim-port", type=int, default=None, metavar="P",
                    help="port (default 0 = a free one; offset by worker number under xdist)")
    group.addoption("--paysim-url", default=None, metavar="URL",
                    help="use an already running `paysim serve` instead of starting one")
    group.addoption("--paysim-api-key", default=None, metavar="K",
                    help="API key (with --paysim-url: the running server's; else PAYSIM_API_KEY)")
    group.addoption("--paysim-signature", default=None,
                    choices=("paysim", "standard", "ed25519"),
                    help="webhook signature scheme (default paysim)")
    group.addoption("--paysim-delivery", default=None, choices=("async", "sync"),
                    help="deliver webhooks in the background or before the answer (default async)")
    group.addoption("--paysim-db", default=None, metavar="PATH",
                    help="keep simulator state in this SQLite file")
    group.addoption("--paysim-https", action="store_true", default=None,
                    help="serve TLS with a certificate made at start")
    parser.addini("paysim", "start the payment simulator", type="bool", default=False)
    parser.addini("paysim_seed", "seed for ids, secrets and auto outcomes", default="")
    parser.addini("paysim_host", "bind address", default="127.0.0.1")
    parser.addini("paysim_port", "port (0 = a free one)", default="0")
    parser.addini("paysim_url", "URL of a running paysim serve", default="")
    parser.addini("paysim_api_key", "API key", default="")
    parser.addini("paysim_signature", "paysim, standard or ed25519", default="paysim")
    parser.addini("paysim_delivery", "async or sync", default="async")
    parser.addini("paysim_webhook_retries", "seconds between webhook attempts",
                  default=DEFAULT_RETRIES)
    parser.addini("paysim_webhook_timeout", "seconds per webhook attempt", default="2.0")
    parser.addini("paysim_auto_success_rate", "chance that simulate=auto succeeds",
                  default="0.5")
    parser.addini("paysim_db", "SQLite file for simulator state", default="")
    parser.addini("paysim_https", "serve TLS", type="bool", default=False)


def _option(config: pytest.Config, name: str) -> Any:
    # Before pytest has parsed the command line into config.option (in the early hook), the
    # values are in known_args_namespace.
    value = config.getoption(name, None)
    if value is None:
        value = getattr(getattr(config, "known_args_namespace", None), name, None)
    return value


def _resolve(config: pytest.Config) -> Settings:
    def option(name: str, ini: str) -> Any:
        value = _option(config, name)
        return config.getini(ini) if value is None else value

    def number(name: str, text: Any, kind: type) -> Any:
        try:
            return kind(text)
        except (TypeError, ValueError):
            raise pytest.UsageError(f"paysim: {name} must be a number, not {text!r}") from None

    seed_text = option("paysim_seed", "paysim_seed")
    seed_given = seed_text not in ("", None)
    retries_text = str(config.getini("paysim_webhook_retries"))
    try:
        from pytest_paysim.cli import parse_retries

        retries = parse_retries(retries_text)
    except Exception:
        raise pytest.UsageError(
            f"paysim: paysim_webhook_retries must be comma-separated seconds, not {retries_text!r}"
        ) from None
    signature = option("paysim_signature", "paysim_signature")
    delivery = option("paysim_delivery", "paysim_delivery")
    if signature not in ("paysim", "standard", "ed25519"):
        raise pytest.UsageError("paysim: paysim_signature must be paysim, standard or ed25519")
    if delivery not in ("async", "sync"):
        raise pytest.UsageError("paysim: paysim_delivery must be async or sync")
    rate = number("paysim_auto_success_rate", config.getini("paysim_auto_success_rate"), float)
    if not 0 <= rate <= 1:
        raise pytest.UsageError("paysim: paysim_auto_success_rate must be between 0 and 1")
    return Settings(
        enabled=bool(option("paysim", "paysim")),
        seed=number("paysim_seed", seed_text, int) if seed_given else random_seed(),
        seed_given=seed_given,
        host=str(option("paysim_host", "paysim_host")),
        port=number("paysim_port", option("paysim_port", "paysim_port"), int),
        url=option("paysim_url", "paysim_url") or None,
        api_key=option("paysim_api_key", "paysim_api_key") or None,
        signature=signature,
        delivery=delivery,
        retries=retries,
        timeout=number("paysim_webhook_timeout", config.getini("paysim_webhook_timeout"), float),
        auto_success_rate=rate,
        db=option("paysim_db", "paysim_db") or None,
        https=bool(option("paysim_https", "paysim_https")),
    )


def _worker_id(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return str(workerinput["workerid"])
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _is_xdist_controller(config: pytest.Config) -> bool:
    if _worker_id(config) != "main":
        return False
    numprocesses = _option(config, "numprocesses")
    return bool(numprocesses) and _option(config, "dist") != "no"


# -- session ----------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    # Before conftest files are imported, so settings they read at import time see the env.
    _start(early_config)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "paysim(outcome=None, seed=None, signature=None, delivery=None, clock=None, "
        "auto_success_rate=None): per-test simulator overrides; brings in the paysim fixture.",
    )
    _start(config)


def _start(config: pytest.Config) -> None:
    if STATE_KEY in config.stash:
        return
    settings = _resolve(config)
    state = PluginState(settings=settings, worker=_worker_id(config))
    config.stash[STATE_KEY] = state
    if not settings.enabled or _is_xdist_controller(config):
        return
    from pytest_paysim.backends import LocalBackend, RemoteBackend, RemoteServer
    from pytest_paysim.server import PaysimServer

    try:
        if settings.url:
            api_key = settings.api_key or os.environ.get("PAYSIM_API_KEY")
            if not api_key:
                raise pytest.UsageError(
                    "paysim: --paysim-url needs the server's key: --paysim-api-key or "
                    "PAYSIM_API_KEY"
                )
            remote = RemoteServer(settings.url, api_key)
            settings.seed = settings.seed if settings.seed_given else remote.seed
            state.server, state.backend = remote, RemoteBackend(remote)
        else:
            port = settings.port
            if port and state.worker.startswith("gw"):
                port += int(state.worker[2:] or 0)
            db = settings.db
            if db and state.worker != "main":
                db = f"{db}.{state.worker}"
            server = PaysimServer(
                host=settings.host,
                port=port,
                seed=settings.seed,
                api_key=settings.api_key,
                signature=settings.signature,
                delivery=settings.delivery,
                webhook_retries=settings.retries,
                webhook_timeout=settings.timeout,
                auto_success_rate=settings.auto_success_rate,
                db=db,
                https=settings.https,
            ).start()
            state.server, state.backend = server, LocalBackend(server)
    except (ConfigurationError, OSError) as error:
        raise pytest.UsageError(f"paysim: could not start the simulator: {error}") from None
    _set_env(state)


def _set_env(state: PluginState) -> None:
    server = state.server
    values = {
        "PAYSIM_URL": server.url,
        "PAYSIM_API_KEY": server.api_key,
        "PAYSIM_WEBHOOK_SECRET": server.webhook_secret,
    }
    if server.webhook_public_key:
        values["PAYSIM_WEBHOOK_PUBLIC_KEY"] = server.webhook_public_key
    if server.ca_file:
        values["REQUESTS_CA_BUNDLE"] = server.ca_file
    for name, value in values.items():
        state.saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is None or state.server is None:
        return
    state.server.stop()
    state.server = state.backend = None
    for name, value in state.saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(STATE_KEY, None)
    if state is None or not state.settings.enabled:
        return None
    if state.server is None:
        return f"paysim: one server per xdist worker, seed={state.settings.seed}"
    return (
        f"paysim: {state.server.url} seed={state.settings.seed} "
        f"signature={state.settings.signature} worker={state.worker}"
    )


# -- fixtures ---------------------------------------------------------------------------------


def _state(config: pytest.Config) -> PluginState:
    state = config.stash.get(STATE_KEY, None)
    if state is None or state.server is None:
        pytest.skip(SKIP_REASON)
    return state


@pytest.fixture(scope="session")
def paysim_server(pytestconfig: pytest.Config) -> Any:
    """The session's simulator server (``url``, ``api_key``, ``webhook_secret``, ``client``)."""
    return _state(pytestconfig).server


@pytest.fixture
def paysim(request: pytest.FixtureRequest, paysim_server: Any) -> Iterator[Any]:
    """Control of this test's simulator: reset before the test, checked after it."""
    from pytest_paysim.handle import Paysim, TestSettings

    state = _state(request.config)
    marker = request.node.get_closest_marker("paysim")
    overrides: dict[str, Any] = dict(marker.kwargs) if marker else {}
    unknown = set(overrides) - {
        "outcome", "seed", "signature", "delivery", "clock", "auto_success_rate",
    }
    if unknown:
        raise pytest.UsageError(f"paysim marker: unknown argument(s) {sorted(unknown)}")
    seed = overrides.pop("seed", None)
    if seed is None:
        seed = derive_seed(state.settings.seed, request.node.nodeid)
    handle = Paysim(state.backend, TestSettings(seed=seed, **overrides))
    request.node.stash[HANDLE_KEY] = handle
    try:
        yield handle
    finally:
        handle.close()


HANDLE_KEY = pytest.StashKey[Any]()


@pytest.fixture
def paysim_webhooks(paysim: Any) -> Any:
    """The ``WebhookLog`` of this test: every delivery attempt, in order."""
    return paysim.webhooks


@pytest.fixture(autouse=True)
def _paysim_marker(request: pytest.FixtureRequest) -> None:
    """The ``paysim`` marker brings in the ``paysim`` fixture by itself."""
    if request.node.get_closest_marker("paysim") is not None:
        request.getfixturevalue("paysim")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is not None and state.settings.enabled:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & FIXTURES or item.get_closest_marker("paysim") is not None:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    result = yield
    handle = item.stash.get(HANDLE_KEY, None)
    if handle is not None:
        errors = handle.unexpected_errors()
        if errors:
            pytest.fail(
                "the paysim simulator raised an unexpected exception during this test "
                "(a 500 nobody injected):\n\n" + "\n".join(errors),
                pytrace=False,
            )
    return result

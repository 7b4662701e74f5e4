"""The pytest plugin: ``pytest --paysim`` starts one simulator per session (per xdist worker).

Off, it starts nothing and patches nothing, and tests that need it are skipped. On, the server
starts before collection so that settings read at import time see ``PAYSIM_URL``,
``PAYSIM_API_KEY``, ``PAYSIM_WEBHOOK_SECRET`` and the Stripe dialect's ``PAYSIM_STRIPE_URL`` and
``PAYSIM_PUBLISHABLE_KEY``; each test then gets a fresh simulator state
through the ``paysim`` fixture::

    def test_checkout(paysim, paysim_webhooks):
        payment = paysim.create_payment(amount=1999, currency="usd")
        paysim.pay(payment["id"])
        paysim_webhooks.wait_for("payment.succeeded")

The session state lives in ``config.stash``. The server starts in
``pytest_load_initial_conftests`` (before any conftest is imported), or in ``pytest_configure``
when the plugin was loaded too late for that hook. Under xdist the controller starts no server;
each worker starts its own.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

pytest.register_assert_rewrite("pytest_paysim.webhooks.log")

from pytest_paysim.core.deliveries import (  # noqa: E402
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    DELIVERY_MODES,
    DeliveryMode,
)
from pytest_paysim.core.ids import derive_seed, random_seed  # noqa: E402
from pytest_paysim.core.outcomes import DEFAULT_AUTO_SUCCESS_RATE  # noqa: E402
from pytest_paysim.core.signing import SCHEMES, Scheme  # noqa: E402

if TYPE_CHECKING:
    import stripe
    from pytest_paysim.backends import Backend, RemoteServer, RunningServer
    from pytest_paysim.handle import Paysim
    from pytest_paysim.server import PaysimServer
    from pytest_paysim.webhooks.log import WebhookLog
from pytest_paysim.errors import ConfigurationError  # noqa: E402

__all__: list[str] = []

SKIP_REASON = "paysim is off: run pytest with --paysim"
FIXTURES = frozenset({"paysim", "paysim_server", "paysim_stripe", "paysim_webhooks"})
MARKER_ARGUMENTS = frozenset(
    {"outcome", "seed", "signature", "delivery", "clock", "auto_success_rate"}
)
WORKER_SEED_ENV = "PYTEST_PAYSIM_WORKER_SEED"
"""How an xdist controller hands its (random) seed to its workers; a worker removes it."""
_SEED_MASK = 2**63 - 1  # per-test seeds fit the control API's seed range


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
    signature: Scheme
    delivery: DeliveryMode
    retries: tuple[float, ...]
    timeout: float
    auto_success_rate: float
    db: str | None
    https: bool
    strict: bool = True


@dataclass
class PluginState:
    """What the plugin keeps for the session, in ``config.stash``."""

    settings: Settings
    worker: str
    controller: bool = False
    server: PaysimServer | RemoteServer | None = None
    backend: Backend | None = None
    saved_env: dict[str, str | None] = field(default_factory=dict)


STATE_KEY = pytest.StashKey[PluginState]()
HANDLE_KEY = pytest.StashKey["Paysim | None"]()
PASSED_KEY = pytest.StashKey[bool]()
"""Set on a test item whose call phase passed (strict mode checks only those)."""


# -- options ----------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("paysim", "paysim: payment-gateway simulator")
    group.addoption(
        "--paysim",
        action="store_true",
        default=None,
        help="start the payment simulator (ini: paysim = true)",
    )
    group.addoption(
        "--paysim-seed",
        type=int,
        default=None,
        metavar="N",
        help="seed for ids, secrets and auto outcomes (default: random, printed in the header)",
    )
    group.addoption(
        "--paysim-host", default=None, metavar="H", help="bind address (default 127.0.0.1)"
    )
    group.addoption(
        "--paysim-port",
        type=int,
        default=None,
        metavar="P",
        help="port (default 0 = a free one; a fixed port is offset by worker number under xdist)",
    )
    group.addoption(
        "--paysim-url",
        default=None,
        metavar="URL",
        help="use an already running `paysim serve` instead of starting one",
    )
    group.addoption(
        "--paysim-api-key",
        default=None,
        metavar="K",
        help="API key (with --paysim-url: the running server's, else PAYSIM_API_KEY is read)",
    )
    group.addoption(
        "--paysim-signature",
        default=None,
        choices=SCHEMES,
        help="webhook signature scheme (default paysim)",
    )
    group.addoption(
        "--paysim-delivery",
        default=None,
        choices=DELIVERY_MODES,
        help="deliver webhooks in the background or before the answer (default async)",
    )
    group.addoption(
        "--paysim-db", default=None, metavar="PATH", help="keep simulator state in this SQLite file"
    )
    group.addoption(
        "--paysim-https",
        action="store_true",
        default=None,
        help="serve TLS with a certificate made at start (sets REQUESTS_CA_BUNDLE)",
    )
    parser.addini("paysim", "start the payment simulator", type="bool", default=False)
    parser.addini("paysim_seed", "seed for ids, secrets and auto outcomes", default="")
    parser.addini("paysim_host", "bind address", default="127.0.0.1")
    parser.addini("paysim_port", "port (0 = a free one)", default="0")
    parser.addini("paysim_url", "URL of a running paysim serve", default="")
    parser.addini("paysim_api_key", "API key", default="")
    parser.addini("paysim_signature", "paysim, standard or ed25519", default="paysim")
    parser.addini("paysim_delivery", "async or sync", default="async")
    parser.addini(
        "paysim_webhook_retries",
        "seconds between webhook attempts (attempts = len + 1)",
        default=",".join(f"{delay:g}" for delay in DEFAULT_RETRIES),
    )
    parser.addini(
        "paysim_webhook_timeout", "seconds per webhook attempt", default=str(DEFAULT_TIMEOUT)
    )
    parser.addini(
        "paysim_auto_success_rate",
        "chance that simulate=auto succeeds",
        default=str(DEFAULT_AUTO_SUCCESS_RATE),
    )
    parser.addini("paysim_db", "SQLite file for simulator state", default="")
    parser.addini("paysim_https", "serve TLS", type="bool", default=False)
    parser.addini(
        "paysim_strict",
        "fail a test that leaves a fault or forced outcome it set unused (default true)",
        type="bool",
        default=True,
    )


def _option(config: pytest.Config, name: str, *, early: bool) -> Any:
    # In pytest_load_initial_conftests the command line is only parsed into
    # known_args_namespace; config.option then holds nothing but defaults.
    if early:
        return getattr(getattr(config, "known_args_namespace", None), name, None)
    return config.getoption(name, None)


def _resolve(config: pytest.Config, *, early: bool) -> Settings:
    def option(name: str, ini: str) -> Any:
        value = _option(config, name, early=early)
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
    if signature not in SCHEMES:
        raise pytest.UsageError(f"paysim: paysim_signature must be one of {', '.join(SCHEMES)}")
    if delivery not in DELIVERY_MODES:
        raise pytest.UsageError(
            f"paysim: paysim_delivery must be one of {', '.join(DELIVERY_MODES)}"
        )
    rate = number("paysim_auto_success_rate", config.getini("paysim_auto_success_rate"), float)
    if not 0 <= rate <= 1:
        raise pytest.UsageError("paysim: paysim_auto_success_rate must be between 0 and 1")
    timeout = number("paysim_webhook_timeout", config.getini("paysim_webhook_timeout"), float)
    if not timeout > 0:
        raise pytest.UsageError("paysim: paysim_webhook_timeout must be > 0 seconds")
    if seed_given:
        seed = number("paysim_seed", seed_text, int)
    else:
        seed = _seed_from_controller()
        seed_given = seed is not None
        if seed is None:
            seed = random_seed()
    return Settings(
        enabled=bool(option("paysim", "paysim")),
        seed=seed,
        seed_given=seed_given,
        host=str(option("paysim_host", "paysim_host")),
        port=number("paysim_port", option("paysim_port", "paysim_port"), int),
        url=option("paysim_url", "paysim_url") or None,
        api_key=option("paysim_api_key", "paysim_api_key") or None,
        signature=signature,
        delivery=delivery,
        retries=retries,
        timeout=timeout,
        auto_success_rate=rate,
        db=option("paysim_db", "paysim_db") or None,
        https=bool(option("paysim_https", "paysim_https")),
        strict=bool(config.getini("paysim_strict")),
    )


def _seed_from_controller() -> int | None:
    """The random seed an xdist controller chose, so every worker uses (and prints) the same.

    Removed from the environment once read, so a pytest started by a test does not inherit it.
    """
    text = os.environ.pop(WORKER_SEED_ENV, None)
    if text is None or not os.environ.get("PYTEST_XDIST_WORKER"):
        return None
    try:
        return int(text)
    except ValueError:
        return None


# -- xdist ------------------------------------------------------------------------------------


def _worker_id(config: pytest.Config, *, early: bool) -> str:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return str(workerinput["workerid"])
    if early:
        # A worker sets this before it parses its command line; it is the only sign of a worker
        # this early. pytest_configure checks the guess (a pytest started from inside a worker
        # inherits the variable).
        return os.environ.get("PYTEST_XDIST_WORKER") or "main"
    return "main"


def _is_xdist_controller(config: pytest.Config, *, early: bool) -> bool:
    if _worker_id(config, early=early) != "main":
        return False
    if not early:
        # xdist's pytest_cmdline_main has turned -n into --tx and --dist by now.
        return _option(config, "dist", early=False) not in (None, "no") and bool(
            _option(config, "tx", early=False)
        )
    numprocesses = _option(config, "numprocesses", early=True)
    if numprocesses in ("auto", "logical"):
        return not _option(config, "usepdb", early=True)
    if numprocesses:
        return True
    dist = _option(config, "dist", early=True)
    distributed = dist not in (None, "no") or bool(_option(config, "distload", early=True))
    return distributed and bool(_option(config, "tx", early=True))


# -- session ----------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    # Before conftest files are imported, so settings they read at import time see the env.
    if STATE_KEY in early_config.stash:
        return
    early_config.stash[STATE_KEY] = _begin(early_config, early=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "paysim(outcome=None, seed=None, signature=None, delivery=None, clock=None, "
        "auto_success_rate=None): per-test simulator overrides; brings in the paysim fixture.",
    )
    state = config.stash.get(STATE_KEY, None)
    if state is None:
        state = config.stash[STATE_KEY] = _begin(config, early=False)
    else:
        # Check the early guess now that xdist has set up the config.
        state.worker = _worker_id(config, early=False)
        controller = _is_xdist_controller(config, early=False)
        if controller and not state.controller:
            _stop(state)
            state.controller = True
            _hand_seed_to_workers(state)
        elif not controller and state.controller:
            state.controller = False
            _launch(state)
    shared = state.controller and state.settings.enabled and state.settings.url
    if shared and len(_option(config, "tx", early=False) or ()) > 1:
        raise pytest.UsageError(
            "paysim: --paysim-url is one simulator with one state; xdist workers would "
            "reset it under each other. Run without -n, or let each worker start its own "
            "server (leave out --paysim-url)."
        )


def _begin(config: pytest.Config, *, early: bool) -> PluginState:
    state = PluginState(
        settings=_resolve(config, early=early),
        worker=_worker_id(config, early=early),
        controller=_is_xdist_controller(config, early=early),
    )
    if _option(config, "help", early=early) or _option(config, "version", early=early):
        state.settings.enabled = False
    if state.controller:
        _hand_seed_to_workers(state)
    else:
        _launch(state)
    return state


def _hand_seed_to_workers(state: PluginState) -> None:
    if state.settings.enabled:
        _setenv(state, {WORKER_SEED_ENV: str(state.settings.seed)})


def _launch(state: PluginState) -> None:
    """Start the server (or connect to ``--paysim-url``) and export its environment."""
    settings = state.settings
    if not settings.enabled or state.server is not None:
        return
    import requests

    from pytest_paysim.backends import LocalBackend, RemoteBackend, RemoteServer
    from pytest_paysim.server import PaysimServer

    port = settings.port
    if port and state.worker.startswith("gw"):
        port += int(state.worker[2:] or 0)
    try:
        if settings.url:
            api_key = settings.api_key or os.environ.get("PAYSIM_API_KEY")
            if not api_key:
                raise pytest.UsageError(
                    "paysim: --paysim-url needs the server's key: --paysim-api-key or "
                    "PAYSIM_API_KEY"
                )
            remote = RemoteServer(settings.url, api_key)
            if not settings.seed_given:
                settings.seed = remote.seed
            state.server, state.backend = remote, RemoteBackend(remote)
        else:
            db = settings.db
            if db and state.worker != "main":
                db = f"{db}.{state.worker}"
            local = PaysimServer(
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
            state.server, state.backend = local, LocalBackend(local)
    except requests.RequestException as error:  # a wrong --paysim-url
        raise pytest.UsageError(
            f"paysim: could not reach the simulator at {settings.url}: {error}"
        ) from None
    except (ConfigurationError, OSError, ValueError) as error:
        raise pytest.UsageError(f"paysim: could not start the simulator: {error}") from None
    server = state.server
    assert server is not None
    values = {
        "PAYSIM_URL": server.url,
        "PAYSIM_STRIPE_URL": server.stripe_url,
        "PAYSIM_API_KEY": server.api_key,
        "PAYSIM_PUBLISHABLE_KEY": server.publishable_key,
        "PAYSIM_WEBHOOK_SECRET": server.webhook_secret,
    }
    if server.webhook_public_key:
        values["PAYSIM_WEBHOOK_PUBLIC_KEY"] = server.webhook_public_key
    if server.ca_file:
        values["REQUESTS_CA_BUNDLE"] = server.ca_file
    _setenv(state, values)


def _setenv(state: PluginState, values: dict[str, str]) -> None:
    for name, value in values.items():
        state.saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value


def _stop(state: PluginState) -> None:
    """Stop the server and put the environment back as it was."""
    if state.server is not None:
        server, state.server, state.backend = state.server, None, None
        server.stop()
    for name, value in state.saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    state.saved_env.clear()


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is not None:
        _stop(state)


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(STATE_KEY, None)
    if state is None or not state.settings.enabled:
        return None
    settings = state.settings
    if state.server is None:
        return (
            f"paysim: one server per xdist worker, seed={settings.seed} "
            f"signature={settings.signature}"
        )
    return (
        f"paysim: {state.server.url} seed={settings.seed} "
        f"signature={settings.signature} worker={state.worker}"
    )


# -- fixtures ---------------------------------------------------------------------------------


def _state(config: pytest.Config) -> PluginState:
    state = config.stash.get(STATE_KEY, None)
    if state is None or state.server is None:
        pytest.skip(SKIP_REASON)
    return state


@pytest.fixture(scope="session")
def paysim_server(pytestconfig: pytest.Config) -> RunningServer:
    """The session's simulator server (``url``, ``api_key``, ``webhook_secret``, ``client``)."""
    server = _state(pytestconfig).server
    assert server is not None
    return server


@pytest.fixture
def paysim(request: pytest.FixtureRequest, paysim_server: RunningServer) -> Iterator[Paysim]:
    """Control of this test's simulator: reset before the test, checked after it."""
    from pytest_paysim.handle import Paysim, TestSettings

    state = _state(request.config)
    marker = request.node.get_closest_marker("paysim")
    overrides: dict[str, Any] = dict(marker.kwargs) if marker else {}
    unknown = set(overrides) - MARKER_ARGUMENTS
    if unknown or (marker is not None and marker.args):
        pytest.fail(
            f"@pytest.mark.paysim takes keyword arguments only, from "
            f"{', '.join(sorted(MARKER_ARGUMENTS))}; got "
            f"{', '.join(sorted(unknown)) or repr(marker.args if marker else ())}",
            pytrace=False,
        )
    seed = overrides.pop("seed", None)
    if seed is None:
        seed = derive_seed(state.settings.seed, request.node.nodeid) & _SEED_MASK
    assert state.backend is not None
    handle = Paysim(state.backend, TestSettings(seed=seed, **overrides))
    request.node.stash[HANDLE_KEY] = handle
    try:
        yield handle
        # Errors after the call phase (in teardown of fixtures using the simulator).
        problem = _simulator_errors(handle)
        if problem:
            pytest.fail(problem, pytrace=False)
        if state.settings.strict and request.node.stash.get(PASSED_KEY, False):
            problem = _unused_rules(handle)
            if problem:
                pytest.fail(problem, pytrace=False)
    finally:
        handle.close()
        request.node.stash[HANDLE_KEY] = None


STRIPE_MISSING = 'paysim_stripe needs the stripe package: pip install "pytest-paysim[stripe]"'


def _stripe_installed() -> bool:
    """Whether the ``stripe`` SDK (an optional extra) can be imported."""
    try:
        import stripe  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture
def paysim_stripe(paysim: Paysim, paysim_server: RunningServer) -> Iterator[stripe.StripeClient]:
    """A ``stripe.StripeClient`` bound to the Stripe dialect (the API key, ``stripe_url``);
    for the test's duration the module-level ``stripe.api_key`` and ``stripe.api_base`` point
    at the dialect too (and ``stripe.ca_bundle_path`` at the server's CA under HTTPS), and are
    put back after it."""
    if not _stripe_installed():
        pytest.fail(STRIPE_MISSING, pytrace=False)
    import stripe

    saved = (stripe.api_key, stripe.api_base, stripe.ca_bundle_path)
    stripe.api_key, stripe.api_base = paysim_server.api_key, paysim_server.stripe_url
    if paysim_server.ca_file:  # the SDK trusts its own CA bundle only, not REQUESTS_CA_BUNDLE
        stripe.ca_bundle_path = paysim_server.ca_file
    try:
        yield stripe.StripeClient(
            paysim_server.api_key, base_addresses={"api": paysim_server.stripe_url}
        )
    finally:
        stripe.api_key, stripe.api_base, stripe.ca_bundle_path = saved


@pytest.fixture
def paysim_webhooks(paysim: Paysim) -> WebhookLog:
    """The ``WebhookLog`` of this test: every delivery attempt, in order."""
    return paysim.webhooks


@pytest.fixture(autouse=True)
def _paysim_when_used(request: pytest.FixtureRequest) -> None:
    """Set up ``paysim`` first for a test that uses the simulator or carries the marker.

    So every test that touches the simulator, even one that asked only for
    ``paysim_server``, starts from a reset state (before its other function fixtures run) and
    fails on a simulator bug.
    """
    if request.node.get_closest_marker("paysim") is not None or FIXTURES.intersection(
        request.fixturenames
    ):
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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Off, say how many tests were skipped for it and how to turn it on (no ``-rs`` needed)."""
    state = terminalreporter.config.stash.get(STATE_KEY, None)
    if state is not None and state.settings.enabled:
        return
    skipped = sum(
        _skipped_for_paysim(report) for report in terminalreporter.stats.get("skipped", ())
    )
    if skipped:
        tests = "1 test that needs it was" if skipped == 1 else f"{skipped} tests that need it were"
        terminalreporter.write_line(
            f"paysim is off: {tests} skipped; turn it on with `pytest --paysim`, "
            "or `paysim = true` in the ini file"
        )


def _skipped_for_paysim(report: Any) -> bool:
    longrepr = getattr(report, "longrepr", None)
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else longrepr
    return SKIP_REASON in str(reason)


def _simulator_errors(handle: Any) -> str | None:
    errors: list[str] = handle.take_unexpected_errors()
    if not errors:
        return None
    return (
        "the paysim simulator raised an unexpected exception during this test "
        "(a 500 nobody injected):\n\n" + "\n".join(errors)
    )


def _unused_rules(handle: Paysim) -> str | None:
    unused = handle.unused_rules()
    if not unused:
        return None
    return (
        f"paysim strict mode: this test set {len(unused)} "
        f"{'rule' if len(unused) == 1 else 'rules'} it did not use up:\n"
        + "".join(f"  {rule}\n" for rule in unused)
        + "Use them, take them back (paysim.clear_faults(), paysim.clear_outcomes()), pass "
        "required=False when a rule may go unused, or set paysim_strict = false in the ini file."
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    handle = item.stash.get(HANDLE_KEY, None)
    try:
        result = yield
    except (Exception, pytest.fail.Exception) as error:
        # The test failed too, most likely because of the bug: show the bug first.
        problem = _simulator_errors(handle) if handle is not None else None
        if problem:
            raise pytest.fail.Exception(
                f"{problem}\nThe test then failed with {type(error).__name__}: {error}",
                pytrace=False,
            ) from None
        raise
    problem = _simulator_errors(handle) if handle is not None else None
    if problem:
        pytest.fail(problem, pytrace=False)
    item.stash[PASSED_KEY] = True
    return result

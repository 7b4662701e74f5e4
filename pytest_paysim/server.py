"""``PaysimServer``: the simulator on werkzeug's threaded server, in a daemon thread.

The same server the pytest plugin starts, usable from unittest, scripts or anything else::

    with PaysimServer(seed=42) as server:
        server.client.post("/v1/payments", json={"amount": 1999, "currency": "usd"})

Port 0 (the default) binds a free port, read back into ``url``. Shutdown polls every 50 ms,
so leaving the ``with`` block takes well under a second. ``stripe_port`` serves the Stripe
dialect at the root of a second port as well (``stripe_root_url``), for SDKs that take a host
and port but no path (stripe-node, stripe-go)::

    with PaysimServer(stripe_port=0) as server:
        stripe_node_options = {"host": "127.0.0.1", "port": server.stripe_port, "protocol": "http"}
"""

from __future__ import annotations

import contextlib
import json as _json
import os
import shutil
import ssl
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO, cast

import requests
from requests.adapters import HTTPAdapter
from requests.hooks import default_hooks
from requests.structures import CaseInsensitiveDict
from requests.utils import check_header_validity, requote_uri
from werkzeug.serving import BaseWSGIServer

from pytest_paysim._version import __version__
from pytest_paysim.connections import ConnectionPool
from pytest_paysim.core.deliveries import DEFAULT_RETRIES, DEFAULT_TIMEOUT, DeliveryMode
from pytest_paysim.core.ids import random_seed
from pytest_paysim.core.outcomes import DEFAULT_AUTO_SUCCESS_RATE
from pytest_paysim.core.signing import Scheme
from pytest_paysim.core.simulator import Simulator, SimulatorConfig
from pytest_paysim.core.store import MemoryStore, Store
from pytest_paysim.errors import ConfigurationError
from pytest_paysim.http.app import PaysimApp
from pytest_paysim.serving import make_server
from pytest_paysim.stripe.app import PREFIX as STRIPE_PREFIX
from pytest_paysim.stripe.app import StripeApp, at_root
from pytest_paysim.webhooks.dispatcher import Dispatcher

__all__ = ["PaysimClient", "PaysimServer"]

POLL_INTERVAL_SECONDS = 0.05


class PaysimClient:
    """A small ``requests`` client with the server's base URL and API key applied.

    On a plain-HTTP server, a call to the JSON API or the control plane (``/v1/...``,
    ``/_paysim/...``) with nothing but ``json``, ``data`` (bytes or text), ``headers`` and a
    numeric ``timeout`` takes a short path: the request is prepared here, as
    ``requests.Session.request`` would after merging settings, cookies, proxies and hooks, none
    of which such a call has, and sent over a keep-alive ``http.client`` connection of
    :class:`~pytest_paysim.connections.ConnectionPool` instead of the session's ``urllib3``
    adapter, for about a third of the client's cost. Anything else goes through the session:
    an ``https`` server (TLS and ``verify`` stay ``requests``' own), another argument, a session
    someone gave cookies, auth, hooks, proxies, params, a client certificate or an adapter of
    their own, and any call while ``requests``' adapter is patched (``responses``, or
    ``paysim.intercept``), so that a test's mocks see every call.
    """

    def __init__(self, base_url: str, api_key: str, *, verify: str | bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {api_key}"
        self.session.verify = verify
        self._adapter = self.session.get_adapter(self.base_url + "/")
        self._short_path_prefixes = (self.base_url + "/v1/", self.base_url + "/_paysim/")
        self._pool: ConnectionPool | None = None  # https: TLS stays the session's
        if self.base_url.startswith("http://"):
            self._pool = ConnectionPool(self.base_url, adapter=self._adapter)

    def url_for(self, path: str) -> str:
        """The absolute URL of ``path``."""
        return self.base_url + "/" + path.lstrip("/")

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Any request; ``timeout`` defaults to 10 seconds."""
        kwargs.setdefault("timeout", 10)
        url = self.url_for(path)
        if (
            kwargs.keys() <= _SHORT_PATH_KWARGS
            and isinstance(kwargs["timeout"], (int, float, tuple, type(None)))
            and self._short_path(url, kwargs.get("data"))
        ):
            return self._send(method.upper(), url, **kwargs)
        return self.session.request(method, url, **kwargs)

    def _short_path(self, url: str, data: Any) -> bool:
        session = self.session
        return (
            self._pool is not None
            and url.startswith(self._short_path_prefixes)  # these never redirect; pages do
            and isinstance(data, (bytes, str, type(None)))
            and not session.trust_env
            and session.auth is None
            and not session.cookies
            and not session.proxies
            and not session.params
            and session.cert is None
            and session.stream is False
            and not any(session.hooks.values())
            and session.get_adapter(url) is self._adapter  # none mounted over it
            and HTTPAdapter.send is _UNPATCHED_SEND  # no mock in the way (responses, intercept)
        )

    def _send(
        self,
        method: str,
        url: str,
        *,
        timeout: Any,
        json: Any = None,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = requote_uri(url)
        prepared.headers = CaseInsensitiveDict(cast("dict[str, str]", self.session.headers))
        if headers:
            for name, value in headers.items():
                if value is None:
                    prepared.headers.pop(name, None)
                else:
                    check_header_validity((name, value))  # InvalidHeader, as the session says
                    prepared.headers[name] = value
        body: bytes | str | None = data
        if data is None and json is not None:
            body = _json.dumps(json, allow_nan=False).encode("utf-8")
            prepared.headers.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body:
            prepared.headers["Content-Length"] = str(len(body))
        elif method not in ("GET", "HEAD"):
            prepared.headers["Content-Length"] = "0"
        prepared.body = body or None
        prepared.hooks = default_hooks()
        assert self._pool is not None  # the short path is for plain-HTTP servers
        return self._pool.send(prepared, timeout=timeout, cookies=self.session.cookies)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        """Close the connections kept open; the client can still be used, and opens new ones."""
        if self._pool is not None:
            self._pool.close()
        self.session.close()


_SHORT_PATH_KWARGS = frozenset({"json", "data", "headers", "timeout"})
_UNPATCHED_SEND = HTTPAdapter.send


class PaysimServer:
    """A running simulator: ``url``, ``api_key``, ``webhook_secret``, ``client``.

    ``error_log``: where the traceback of an unexpected error (a simulator bug) is written
    as it happens (``paysim serve`` passes standard error). Either way it is kept, and the
    pytest plugin fails the running test with it. ``stripe_port``: also serve the Stripe
    dialect at the root of this port (0: a free one, read back into ``stripe_port``); None,
    the default: no second port.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        api_key: str | None = None,
        signature: Scheme = "paysim",
        delivery: DeliveryMode = "async",
        webhook_retries: tuple[float, ...] | list[float] = DEFAULT_RETRIES,
        webhook_timeout: float = DEFAULT_TIMEOUT,
        auto_success_rate: float = DEFAULT_AUTO_SUCCESS_RATE,
        db: str | os.PathLike[str] | None = None,
        https: bool = False,
        cert_dir: str | os.PathLike[str] | None = None,
        error_log: TextIO | None = None,
        stripe_port: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.stripe_port = stripe_port
        self.seed = random_seed() if seed is None else seed
        self.https = https
        self.ca_file: str | None = None
        self._cert_dir = cert_dir
        self._temporary_cert_dir: Path | None = None
        self._options: dict[str, Any] = {
            "api_key": api_key,
            "signature": signature,
            "delivery": delivery,
            "webhook_retries": tuple(webhook_retries),
            "webhook_timeout": webhook_timeout,
            "auto_success_rate": auto_success_rate,
        }
        self.db = db
        self.error_log = error_log
        self._url: str | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._stripe_root_url: str | None = None
        self._stripe_server: BaseWSGIServer | None = None
        self._stripe_thread: threading.Thread | None = None
        self.simulator: Simulator | None = None
        self.app: PaysimApp | None = None
        self.dispatcher: Dispatcher | None = None
        self._client: PaysimClient | None = None
        if api_key is not None and not api_key.startswith("sk_test_"):
            raise ConfigurationError("api_key must start with sk_test_")

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> PaysimServer:
        """Bind, build the simulator and serve in a daemon thread."""
        if self._server is not None:
            return self
        ssl_context = self._ssl_context() if self.https else None
        try:
            server = make_server(self.host, self.port, _not_ready, ssl_context=ssl_context)
        except OSError:
            self._remove_certificates()
            raise ConfigurationError(
                f"cannot listen on {self.host}:{self.port}: the address is in use or not "
                "available; choose another port (0 picks a free one)"
            ) from None
        server.daemon_threads = True  # type: ignore[attr-defined]
        url = self._url_of(server)
        self.port = server.server_port
        stripe_server = None
        try:
            if self.stripe_port is not None:
                stripe_server = self._bind_stripe_port(ssl_context)
            config = SimulatorConfig(seed=self.seed, base_url=url, **self._options)
            self.simulator = Simulator(config, store=self._store())
        except BaseException:
            server.server_close()
            if stripe_server is not None:
                stripe_server.server_close()
            self._remove_certificates()
            raise
        self._url = url
        if self.error_log is not None:
            self.simulator.report_errors_to(self._log_error)
        self.app = PaysimApp(self.simulator, version=__version__, error_log=self.error_log)
        self.app.mount(STRIPE_PREFIX, StripeApp(self.simulator, error_log=self.error_log))
        self.dispatcher = Dispatcher(self.simulator)
        self.simulator.connect(self.dispatcher)  # the store's outbox (a restart) goes first
        server.app = self.app
        self._server = server
        self._thread = _serve(server, "paysim-server")
        if stripe_server is not None:
            stripe_server.app = at_root(self.app)
            self._stripe_server = stripe_server
            self._stripe_root_url = self._url_of(stripe_server)
            self.stripe_port = stripe_server.server_port
            self._stripe_thread = _serve(stripe_server, "paysim-stripe-server")
        return self

    def _url_of(self, server: BaseWSGIServer) -> str:
        scheme = "https" if self.https else "http"
        host = self.host if ":" not in self.host else f"[{self.host}]"
        if self.https and self.host in ("127.0.0.1", "0.0.0.0"):
            host = "localhost" if self.host == "0.0.0.0" else "127.0.0.1"
        return f"{scheme}://{host}:{server.server_port}"

    def _bind_stripe_port(self, ssl_context: ssl.SSLContext | None) -> BaseWSGIServer:
        """The second server (same kind, same TLS), bound; it answers 503 until started."""
        try:
            server = make_server(
                self.host, self.stripe_port or 0, _not_ready, ssl_context=ssl_context
            )
        except OSError:
            raise ConfigurationError(
                f"cannot listen on {self.host}:{self.stripe_port} for the Stripe dialect: the "
                "address is in use or not available; choose another --stripe-port (0 picks a "
                "free one)"
            ) from None
        server.daemon_threads = True  # type: ignore[attr-defined]
        return server

    def _store(self) -> Store:
        if self.db is None:
            return MemoryStore()
        from pytest_paysim.core.sqlite_store import SqliteStore

        return SqliteStore(Path(self.db))

    def _log_error(self, traceback_text: str) -> None:
        """Write an unexpected error (a request's, or a webhook worker's) to the error log."""
        log = self.error_log
        if log is None:
            return
        with contextlib.suppress(OSError, ValueError):
            log.write(f"paysim: unexpected error\n{traceback_text}")
            log.flush()

    def _ssl_context(self) -> ssl.SSLContext:
        from pytest_paysim.tls import make_certificates

        cert_dir = Path(self._cert_dir) if self._cert_dir else None
        files = make_certificates(cert_dir)
        self.ca_file = str(files.ca_file)
        if cert_dir is None:
            self._temporary_cert_dir = files.ca_file.parent
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(files.cert_file), str(files.key_file))
        return context

    def _remove_certificates(self) -> None:
        if self._temporary_cert_dir is not None:
            shutil.rmtree(self._temporary_cert_dir, ignore_errors=True)
            self._temporary_cert_dir = None

    def stop(self) -> None:
        """Stop serving and delivering; returns in well under a second."""
        if self._server is None:
            return
        servers = [(self._server, self._thread), (self._stripe_server, self._stripe_thread)]
        for server, _ in servers:
            if server is not None:
                server.shutdown()
        for server, thread in servers:
            if server is not None:
                server.server_close()
            if thread is not None:
                thread.join(1.0)
        if self.dispatcher is not None:
            self.dispatcher.close(timeout=0.5)
        if self.simulator is not None:
            self.simulator.close()
        if self._client is not None:
            self._client.close()
        self._remove_certificates()
        self._server = self._stripe_server = None

    def __enter__(self) -> PaysimServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what tests use -----------------------------------------------------------------------

    @property
    def _sim(self) -> Simulator:
        if self.simulator is None:
            raise ConfigurationError(
                "the server is not started: call start(), or use it as a context manager"
            )
        return self.simulator

    @property
    def url(self) -> str:
        """The base URL (``http://127.0.0.1:<port>``), known once the server is started."""
        if self._url is None:
            raise ConfigurationError(
                "the server is not started, so it has no URL yet: call start(), or use it as "
                "a context manager"
            )
        return self._url

    @property
    def stripe_url(self) -> str:
        """Where the Stripe dialect answers: ``stripe.api_base`` for the official SDK."""
        return self.url + STRIPE_PREFIX

    @property
    def stripe_root_url(self) -> str | None:
        """The Stripe dialect at the root of the second port (``http://127.0.0.1:<stripe
        port>``), once a server given ``stripe_port`` is started; else None."""
        return self._stripe_root_url

    @property
    def api_key(self) -> str:
        """The API key (``sk_test_...``)."""
        return self._sim.api_key

    @property
    def publishable_key(self) -> str:
        """The publishable key (``pk_test_...``): with a payment intent's ``client_secret`` it
        may retrieve and confirm that intent in the Stripe dialect, as Stripe.js does."""
        return self._sim.publishable_key

    @property
    def signature(self) -> Scheme:
        """The signature scheme in force (the session's, or the running test's marker's)."""
        return self._sim.settings.signature

    @property
    def webhook_secret(self) -> str:
        """The secret signing webhooks now: ``whsec_...``, or ``whsk_...`` under ed25519."""
        return self._sim.webhook_secret

    @property
    def webhook_public_key(self) -> str | None:
        """``whpk_...`` while the ed25519 scheme is in force, else None."""
        if self._sim.settings.signature != "ed25519":
            return None
        return self._sim.webhook_public_key

    @property
    def stripe_webhook_secret(self) -> str:
        """The ``whsec_`` secret signing the Stripe dialect's deliveries to
        ``metadata[webhook_url]`` and captured ones (``webhook_secret`` except under ed25519)."""
        return self._sim.hmac_webhook_secret

    def url_for(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return self.url + "/" + path.lstrip("/")

    @property
    def client(self) -> PaysimClient:
        """A ``requests`` client with the base URL and API key applied."""
        if self._client is None:
            self._client = PaysimClient(self.url, self.api_key, verify=self.ca_file or True)
        return self._client


def _serve(server: BaseWSGIServer, name: str) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": POLL_INTERVAL_SECONDS},
        name=name,
        daemon=True,
    )
    thread.start()
    return thread


def _not_ready(environ: Any, start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "application/json")])
    return [b'{"error":{"type":"api_error","code":"starting","message":"starting","param":null}}']

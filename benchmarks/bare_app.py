"""The baseline: a bare werkzeug app that does the least a create endpoint can do.

Same werkzeug threaded server, same routing depth (a ``Map`` with as many rules as the
simulator's, the same paths and methods), a dict as the store, and for ``POST /v1/payments``:
a bearer-token check, ``json.loads`` of the body, a payment dict with the simulator's fields,
``json.dumps`` of it. No validation, idempotency, events or webhooks — that is what the ratio
simulator/bare prices::

    with BareServer() as bare:
        requests.post(bare.url + "/v1/payments", json=PAYMENT_BODY, headers=bare.headers)

``python -m benchmarks.bare_app [--port P]`` serves it in a process of its own (as ``paysim
serve`` does the simulator), printing ``url:`` and ``api key:`` lines, until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, make_server

from benchmarks.common import QuietHandler
from pytest_paysim.http.routes import ROUTES

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["BareApp", "BareServer", "main"]

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
API_KEY = "sk_test_bare000000000000000000000"


class BareApp:
    """A WSGI app: the simulator's route map, a dict store, JSON in and out."""

    def __init__(self, base_url: str = "http://127.0.0.1") -> None:
        self.base_url = base_url
        self.url_map = Map(
            [Rule(route.path, endpoint=route.endpoint, methods=[route.method]) for route in ROUTES],
            strict_slashes=False,
            merge_slashes=False,
        )
        self.adapter = self.url_map.bind("bare")
        self.payments: dict[str, dict[str, Any]] = {}
        self.random = random.Random(1)
        self.lock = threading.Lock()
        self.expected_auth = f"Bearer {API_KEY}"

    def _token(self) -> str:
        with self.lock:
            number = self.random.getrandbits(143)
        return "".join(BASE62[(number >> (6 * i)) % 62] for i in range(24))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            endpoint, args = self.adapter.match(
                environ.get("PATH_INFO", "/"), environ.get("REQUEST_METHOD", "GET")
            )
        except HTTPException as error:
            return self._answer(start_response, error.code or 500, {"error": error.name})
        if environ.get("HTTP_AUTHORIZATION") != self.expected_auth:
            return self._answer(start_response, 401, {"error": "api_key_invalid"})
        if endpoint == "create_payment":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            return self._answer(start_response, 201, self._create(body))
        if endpoint == "get_payment":
            payment = self.payments.get(args["id"])
            if payment is None:
                return self._answer(start_response, 404, {"error": "resource_missing"})
            return self._answer(start_response, 200, payment)
        return self._answer(start_response, 501, {"error": "not in the bare app"})

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        payment_id = "pay_" + self._token()
        secret = f"{payment_id}_secret_{self._token()}"
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        payment = {
            "id": payment_id,
            "object": "payment",
            "amount": body.get("amount"),
            "currency": str(body.get("currency", "")).lower(),
            "status": "requires_payment_method",
            "capture_method": body.get("capture_method", "automatic"),
            "description": body.get("description"),
            "metadata": dict(body.get("metadata") or {}),
            "client_secret": secret,
            "payment_url": f"{self.base_url}/pay/{payment_id}?client_secret={secret}",
            "return_url": body.get("return_url"),
            "amount_capturable": 0,
            "amount_captured": 0,
            "amount_refunded": 0,
            "failure_code": None,
            "decline_code": None,
            "failure_message": None,
            "cancellation_reason": None,
            "refunds": [],
            "created_at": now,
            "updated_at": now,
        }
        with self.lock:
            self.payments[payment_id] = payment
        return payment

    def _answer(
        self, start_response: StartResponse, status: int, payload: dict[str, Any]
    ) -> list[bytes]:
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        start_response(
            f"{status} {'Created' if status == 201 else 'OK' if status == 200 else 'Error'}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
        )
        return [data]


class BareServer:
    """:class:`BareApp` on werkzeug's threaded server in a daemon thread (as ``PaysimServer``)."""

    api_key = API_KEY

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.app = BareApp()

    def clear(self) -> None:
        """Forget every payment (as a simulator reset does)."""
        with self.app.lock:
            self.app.payments.clear()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

    def start(self) -> BareServer:
        server = make_server(
            self.host, self.port, app=BareApp(), threaded=True, request_handler=QuietHandler
        )
        server.daemon_threads = True  # type: ignore[attr-defined]
        self.port = server.server_port
        self.url = f"http://{self.host}:{self.port}"
        self.app = server.app = BareApp(self.url)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(1.0)
        self._server = None

    def __enter__(self) -> BareServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the bare app until SIGINT or SIGTERM (for a benchmark's server process)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare_app")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with BareServer(port=args.port) as bare:
        print(f"bare werkzeug app serving\n  url:     {bare.url}\n  api key: {API_KEY}", flush=True)
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

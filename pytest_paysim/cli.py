"""The ``paysim`` command: ``paysim serve`` runs the simulator until SIGINT or SIGTERM::

    paysim serve --port 8080 --seed 42 --db paysim.sqlite

It prints a banner (URL, API key, webhook secret, dashboard URL), ending with ``BANNER_END``,
and exits 0 on SIGINT or SIGTERM after closing the server and its database. Bad options and
settings the server cannot use exit 2 with a message.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from pytest_paysim._version import __version__
from pytest_paysim.core.signing import SCHEMES as SIGNATURE_SCHEMES
from pytest_paysim.errors import PaysimError
from pytest_paysim.server import PaysimServer

__all__ = ["BANNER_END", "main", "parse_retries"]

BANNER_END = "Press Ctrl-C (or send SIGTERM) to stop."
"""The banner's last line: a program reading the banner stops there."""


def parse_retries(text: str) -> tuple[float, ...]:
    """``"0.1,0.2"`` → ``(0.1, 0.2)``; an empty string means no retries."""
    if not text.strip():
        return ()
    try:
        delays = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated seconds such as 1,5,30, not {text!r}"
        ) from None
    if any(delay < 0 or not math.isfinite(delay) for delay in delays):
        raise argparse.ArgumentTypeError(
            f"retry delays must be finite numbers of seconds >= 0, not {text!r}"
        )
    return delays


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, not {text!r}")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paysim", description="A payment-gateway simulator.")
    parser.add_argument("--version", action="version", version=f"paysim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the simulator until SIGINT or SIGTERM")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=0, help="port (default 0: a free one)")
    serve.add_argument("--seed", type=int, default=None, help="seed for ids and secrets")
    serve.add_argument("--api-key", default=None, help="API key (default: made from the seed)")
    serve.add_argument("--db", default=None, help="keep state in this SQLite file")
    serve.add_argument("--signature", choices=SIGNATURE_SCHEMES, default="paysim")
    serve.add_argument("--delivery", choices=("async", "sync"), default="async")
    serve.add_argument("--https", action="store_true", help="serve TLS with a fresh CA")
    serve.add_argument(
        "--webhook-retries",
        type=parse_retries,
        default=(0.1, 0.2, 0.4, 0.8),
        help="seconds between webhook attempts, e.g. 1,5,30",
    )
    serve.add_argument("--webhook-timeout", type=float, default=2.0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Before starting, so that a signal arriving during start still ends in a clean exit 0.
    previous = {
        signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        server = PaysimServer(
            host=args.host,
            port=args.port,
            seed=args.seed,
            api_key=args.api_key,
            db=args.db,
            signature=args.signature,
            delivery=args.delivery,
            https=args.https,
            webhook_retries=args.webhook_retries,
            webhook_timeout=args.webhook_timeout,
        ).start()
    except (PaysimError, OSError) as error:
        _restore(previous)
        print(f"paysim: {error}", file=sys.stderr)
        return 2
    except SystemExit:  # werkzeug's make_server exits when it cannot bind (it says why)
        _restore(previous)
        print(f"paysim: cannot listen on {args.host} port {args.port}", file=sys.stderr)
        return 2
    try:
        print(_banner(server, args), flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
        _restore(previous)
    print("paysim stopped", flush=True)
    return 0


def _banner(server: PaysimServer, args: argparse.Namespace) -> str:
    """What a user needs to connect: URL, API key, secrets, dashboard."""
    rows = [
        ("url", server.url),
        ("api key", server.api_key),
        ("webhook secret", server.webhook_secret),
    ]
    if server.webhook_public_key:
        rows.append(("public key", server.webhook_public_key))
    if server.ca_file:
        rows.append(("ca file", server.ca_file))
    rows += [
        ("dashboard", server.url_for("/dashboard")),
        ("seed", str(server.seed)),
        ("webhook retries", ", ".join(f"{d:g}s" for d in args.webhook_retries) or "none"),
    ]
    if args.db:
        rows.append(("database", args.db))
    width = max(len(name) for name, _ in rows) + 2
    lines = [f"paysim {__version__} serving"]
    lines += [f"  {name + ':':<{width}}{value}" for name, value in rows]
    lines.append(BANNER_END)
    return "\n".join(lines)


def _restore(handlers: dict[signal.Signals, Any]) -> None:
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

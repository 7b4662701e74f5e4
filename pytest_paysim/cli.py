"""The ``paysim`` command: ``paysim serve`` runs the simulator until SIGINT or SIGTERM::

    paysim serve --port 8080 --seed 42 --db paysim.sqlite

It prints a banner (URL, Stripe URL, API key, publishable key, webhook secret, dashboard URL
and how to log in to it), ending with ``BANNER_END``, and exits 0 on SIGINT or SIGTERM after
closing the server and its database. Bad options and settings the server cannot use exit 2
with a message. ``paysim`` without a command prints the help, which lists the commands, to
stderr and exits 2.
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
from pytest_paysim.core.deliveries import DEFAULT_RETRIES, DEFAULT_TIMEOUT, DELIVERY_MODES
from pytest_paysim.core.signing import SCHEMES
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


SERVE_DESCRIPTION = """\
Run the payment-gateway simulator as its own process, for end-to-end tests
and for tests not written in Python. It prints the URL, the API key, the
webhook secret and the dashboard URL, then serves until SIGINT (Ctrl-C) or
SIGTERM, and exits 0. The /_paysim/* control routes drive it over HTTP, and
`pytest --paysim-url URL` points the pytest plugin at it. If it cannot start
(a port in use, an unusable --db file), it exits 2 and says why."""

SERVE_EPILOG = """\
The dashboard (/dashboard) asks for HTTP Basic authentication: give the API key
as the user name and leave the password empty.

example:
  paysim serve --port 8080 --seed 42 --db paysim.sqlite --webhook-retries 1,5,30"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paysim",
        description="A stateful payment-gateway simulator for tests (pytest-paysim).",
        epilog="Run `paysim serve --help` for the server's options.",
    )
    parser.add_argument("--version", action="version", version=f"paysim {__version__}")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the simulator until SIGINT or SIGTERM",
        description=SERVE_DESCRIPTION,
        epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=_port, default=0, help="port (default 0: a free one, printed)"
    )
    serve.add_argument(
        "--stripe-port",
        type=_port,
        default=None,
        metavar="P",
        help="also serve the Stripe dialect at the root of this port, for SDKs that take a "
        "host and port but no path, such as stripe-node (0: a free one, printed; default: "
        "no second port; the dialect is always at <url>/stripe)",
    )
    serve.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed for ids, the API key, secrets and auto outcomes; the same seed gives the "
        "same values on every run (default: a random seed, printed in the banner)",
    )
    serve.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help="the API key: sk_test_ followed by anything (default: made from the seed)",
    )
    serve.add_argument(
        "--db",
        default=None,
        metavar="PATH",
        help="keep state in this SQLite file, kept across restarts (default: in memory)",
    )
    serve.add_argument(
        "--signature",
        choices=SCHEMES,
        default="paysim",
        help="how webhooks are signed (default paysim): paysim (a Paysim-Signature header "
        "in the format of Stripe's), standard (Standard Webhooks, HMAC) or ed25519 (Standard "
        "Webhooks, asymmetric; the banner prints the public key)",
    )
    serve.add_argument(
        "--delivery",
        choices=DELIVERY_MODES,
        default="async",
        help="when webhooks go out (default async): async, in the background; sync, the first "
        "attempt of each webhook before the API answers",
    )
    serve.add_argument(
        "--https", action="store_true", help="serve TLS with a fresh CA (its file is printed)"
    )
    serve.add_argument(
        "--webhook-retries",
        type=parse_retries,
        default=DEFAULT_RETRIES,
        metavar="SECONDS",
        help="seconds between webhook attempts, e.g. 1,5,30; attempts = count + 1; an "
        "empty string means no retries (default "
        + ",".join(f"{delay:g}" for delay in DEFAULT_RETRIES)
        + ")",
    )
    serve.add_argument(
        "--webhook-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="seconds to wait for the receiver's answer to each delivery attempt; no answer "
        f"in time counts as a failed attempt (default {DEFAULT_TIMEOUT})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `paysim`: show the commands, as a usage error
        parser.print_help(sys.stderr)
        return 2
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
            error_log=sys.stderr,
            stripe_port=args.stripe_port,
        ).start()
    except (PaysimError, OSError) as error:
        _restore(previous)
        print(f"paysim: {error}", file=sys.stderr)
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
    rows = [("url", server.url), ("stripe url", server.stripe_url)]
    if server.stripe_root_url:
        rows.append(("stripe port url", server.stripe_root_url))
    rows += [
        ("api key", server.api_key),
        ("publishable key", server.publishable_key),
        ("webhook secret", server.webhook_secret),
    ]
    if server.webhook_public_key:
        rows.append(("public key", server.webhook_public_key))
    if server.ca_file:
        rows.append(("ca file", server.ca_file))
    rows += [
        ("dashboard", server.url_for("/dashboard")),
        ("dashboard login", "HTTP Basic: the API key as user name, an empty password"),
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

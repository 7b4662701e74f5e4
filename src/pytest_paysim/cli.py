"""The ``paysim`` command: ``paysim serve`` runs the simulator until SIGINT or SIGTERM.

    paysim serve --port 8080 --seed 42 --db paysim.sqlite
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from pytest_paysim._version import __version__
from pytest_paysim.core.simulator import SIGNATURE_SCHEMES
from pytest_paysim.errors import PaysimError
from pytest_paysim.server import PaysimServer

__all__ = ["main", "parse_retries"]


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
    if any(delay < 0 or delay != delay for delay in delays):
        raise argparse.ArgumentTypeError("retry delays must be >= 0 seconds")
    return delays


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paysim", description="A payment-gateway simulator.")
    parser.add_argument("--version", action="version", version=f"paysim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the simulator until SIGINT or SIGTERM")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
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
        print(f"paysim: {error}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    lines = [
        f"paysim {__version__} serving",
        f"  url:            {server.url}",
        f"  api key:        {server.api_key}",
        f"  webhook secret: {server.webhook_secret}",
    ]
    if server.webhook_public_key:
        lines.append(f"  public key:     {server.webhook_public_key}")
    if server.ca_file:
        lines.append(f"  ca file:        {server.ca_file}")
    lines += [
        f"  dashboard:      {server.url_for('/dashboard')}",
        f"  seed:           {server.seed}",
    ]
    if args.db:
        lines.append(f"  database:       {args.db}")
    print("\n".join(lines), flush=True)
    try:
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
    print("paysim stopped", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

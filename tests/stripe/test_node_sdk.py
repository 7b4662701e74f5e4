"""A second real client: the official ``stripe`` package for Node (stripe-node), installed with
npm into a temporary folder, drives ``paysim serve --stripe-port`` (the dialect at the root of a
port: stripe-node takes a host and a port, no path). The script ``node/stripe_flow.js`` creates,
confirms with the publishable key, captures, refunds, lists events and meets a decline; this
test checks its JSON, and the server's state through the Python side.

Marked ``node`` (``-m "not node"`` leaves it out): it needs Node.js 20+, npm and the npm
registry, and skips saying which one is missing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.plugin import paysim_serve

pytestmark = [pytest.mark.node, pytest.mark.timeout(300)]

SCRIPT = Path(__file__).parent / "node" / "stripe_flow.js"
STRIPE_NODE = "stripe@^23"
INSTALL_TIMEOUT_SECONDS = 180
SCRIPT_TIMEOUT_SECONDS = 60
# npm's ways of saying the registry could not be reached.
NO_NETWORK = re.compile(r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH")


@pytest.fixture(scope="session")
def stripe_node(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The command that runs the flow script, beside its own install of stripe-node."""
    node, npm = shutil.which("node"), shutil.which("npm")
    missing = [name for name, path in (("node", node), ("npm", npm)) if path is None]
    if node is None or npm is None:
        pytest.skip(f"stripe-node needs Node.js and npm; not on PATH: {' and '.join(missing)}")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    found = re.match(r"v(\d+)\.", version.stdout)
    if found is None or int(found[1]) < 20:
        pytest.skip(f"stripe-node 23 needs Node.js 20 or later; found {version.stdout.strip()!r}")
    folder = tmp_path_factory.mktemp("stripe-node")
    command = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", STRIPE_NODE]
    try:
        installed = subprocess.run(
            command, cwd=folder, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        pytest.skip(
            f"npm install {STRIPE_NODE} took over {INSTALL_TIMEOUT_SECONDS} s: the npm registry "
            "is out of reach"
        )
    if installed.returncode != 0:
        output = installed.stderr + installed.stdout
        if NO_NETWORK.search(output):
            pytest.skip(
                f"npm install {STRIPE_NODE}: no network to the npm registry ({output[-300:]})"
            )
        pytest.fail(f"npm install {STRIPE_NODE} failed:\n{output[-3000:]}")
    script = folder / SCRIPT.name
    shutil.copy(SCRIPT, script)  # beside node_modules, where require() looks
    return [node, str(script)]


def _run_flow(command: list[str], banner: dict[str, str]) -> dict[str, Any]:
    root = banner["stripe port url"]
    host, port = root.removeprefix("http://").rsplit(":", 1)
    done = subprocess.run(
        [*command, host, port, banner["api key"], banner["publishable key"]],
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_SECONDS,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_stripe_node_runs_a_whole_flow_against_the_stripe_port(stripe_node: list[str]) -> None:
    with paysim_serve("--stripe-port", "0", "--seed", "31") as banner:
        out = _run_flow(stripe_node, banner)
        intent_id = out["created"]["id"]
        auth = (banner["api key"], "")
        seen = requests.get(
            f"{banner['stripe url']}/v1/payment_intents/{intent_id}", auth=auth, timeout=5
        ).json()
        calls = requests.get(f"{banner['url']}/_paysim/calls", auth=auth, timeout=5).json()

    assert intent_id.startswith("pi_")
    assert out["created"]["status"] == "requires_payment_method"
    assert out["created"]["metadata"] == {"order": "42"}
    assert out["seen_with_publishable_key"] == "requires_payment_method"
    assert out["confirmed"] == {"status": "requires_capture", "amount_capturable": 2000}
    assert out["capture_with_publishable_key"] == {
        "type": "StripeAuthenticationError",
        "statusCode": 401,
    }
    charge = out["captured"]["latest_charge"]
    assert out["captured"] == {
        "status": "succeeded",
        "amount_received": 1500,
        "latest_charge": charge,
    }
    refund = out["refund"]
    assert (refund["status"], refund["amount"]) == ("succeeded", 500)
    assert refund["replayed"] == refund["id"]  # the same Idempotency-Key: the same refund
    assert out["events"] == [
        {"type": "charge.refunded", "object": charge},
        {"type": "refund.created", "object": refund["id"]},
        {"type": "payment_intent.succeeded", "object": intent_id},
        {"type": "charge.captured", "object": charge},
        {"type": "payment_intent.amount_capturable_updated", "object": intent_id},
        {"type": "charge.succeeded", "object": charge},
        {"type": "payment_intent.created", "object": intent_id},
    ]
    decline = out["decline"]
    assert decline["is_card_error"] is True
    assert (decline["type"], decline["statusCode"]) == ("StripeCardError", 402)
    assert (decline["code"], decline["decline_code"]) == ("card_declined", "insufficient_funds")
    assert decline["payment_intent"].startswith("pi_")
    assert decline["request_id"].startswith("req_")

    # The same simulator, read through <url>/stripe and the control routes.
    assert (seen["status"], seen["amount_received"]) == ("succeeded", 1500)
    paths = [(call["method"], call["path"], call["status"]) for call in calls["data"]]
    assert ("POST", f"/stripe/v1/payment_intents/{intent_id}/confirm", 200) in paths
    assert ("POST", f"/stripe/v1/payment_intents/{intent_id}/capture", 401) in paths
    assert ("POST", "/stripe/v1/payment_intents", 402) in paths

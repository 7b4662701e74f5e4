"""SIGKILL ``paysim serve --db`` under load at random moments: every answered request survives.

Four clients create, pay and partially refund payments, each request with an
``Idempotency-Key``. The server is killed while they run, then started again on the same file.
Each request that got a 2xx before the kill must be there exactly: its records, its events, and
its stored answer, replayed byte for byte. Nothing may be half applied: no payment refunds more
than it captured, and its refunds add up to ``amount_refunded``.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

CLIENTS = 4


@dataclass
class Answered:
    """A request that got a 2xx before the kill."""

    kind: str  # create, pay or refund
    path: str
    body: dict[str, Any]
    key: str
    status: int
    content: bytes

    @property
    def json(self) -> dict[str, Any]:
        import json

        result: dict[str, Any] = json.loads(self.content)
        return result


def drive(url: str, api_key: str, client: int, stop: threading.Event, out: list[Answered]) -> None:
    """Create, pay, refund in parts, until the server dies or ``stop`` is set."""
    rng = random.Random(client)
    session = requests.Session()
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {api_key}"
    counter = 0

    def post(kind: str, path: str, body: dict[str, Any]) -> Answered | None:
        nonlocal counter
        counter += 1
        key = f"client-{client}-{counter}"
        try:
            response = session.post(
                url + path, json=body, headers={"Idempotency-Key": key}, timeout=10
            )
        except requests.RequestException:
            stop.set()  # the server is gone
            return None
        if not 200 <= response.status_code < 300:
            return None
        answered = Answered(kind, path, body, key, response.status_code, response.content)
        out.append(answered)
        return answered

    with session:
        while not stop.is_set():
            amount = rng.randint(400, 5000)
            created = post("create", "/v1/payments", {"amount": amount, "currency": "eur"})
            if created is None:
                continue
            pid = created.json["id"]
            if post("pay", f"/v1/payments/{pid}/pay", {"outcome": "succeed"}) is None:
                continue
            for _ in range(rng.randint(1, 4)):
                part = rng.randint(1, amount // 3)
                if post("refund", f"/v1/payments/{pid}/refund", {"amount": part}) is None:
                    break


def all_payments(session: requests.Session, url: str) -> list[dict[str, Any]]:
    payments: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = session.get(f"{url}/v1/payments", params=params, timeout=10).json()
        payments += page["data"]
        if not page["has_more"]:
            return payments
        params["starting_after"] = page["data"][-1]["id"]


@pytest.mark.slow
@pytest.mark.parametrize("run", [pytest.param(run, id=f"kill-{run}") for run in range(5)])
def test_a_kill_loses_no_answered_request(
    run: int, tmp_path: Path, serve: Callable[..., Any]
) -> None:
    db = tmp_path / "crash.sqlite"
    runs_for = random.Random(1000 + run).uniform(0.3, 1.5)
    server = serve("--db", db, "--seed", 1)
    answered: list[Answered] = []
    stop = threading.Event()
    clients = [
        threading.Thread(target=drive, args=(server.url, server.api_key, n, stop, answered))
        for n in range(CLIENTS)
    ]
    for thread in clients:
        thread.start()
    time.sleep(runs_for)
    server.kill()  # SIGKILL, mid-request for some of the clients
    stop.set()
    for thread in clients:
        thread.join(15)
        assert not thread.is_alive()
    assert len(answered) > 10, f"too little load before the kill after {runs_for:.2f} s"

    restarted = serve("--db", db, "--seed", 1)
    assert restarted.api_key == server.api_key
    session = restarted.session()
    url = restarted.url

    # Records: every answered operation is there, at least in the state it answered with.
    payments = {payment["id"]: payment for payment in all_payments(session, url)}
    paid = {a.json["id"] for a in answered if a.kind == "pay"}
    for item in answered:
        if item.kind == "create":
            assert item.json["id"] in payments, f"payment of {item.key} lost"
        elif item.kind == "pay":
            assert payments[item.json["id"]]["status"] in ("succeeded", "refunded")
        else:
            refund = item.json
            assert session.get(f"{url}/v1/refunds/{refund['id']}", timeout=10).json() == refund
            listed = [r["id"] for r in payments[refund["payment_id"]]["refunds"]]
            assert refund["id"] in listed, f"refund of {item.key} missing from its payment"

    # Nothing half applied.
    for payment in payments.values():
        succeeded = sum(r["amount"] for r in payment["refunds"] if r["status"] == "succeeded")
        assert payment["amount_refunded"] <= payment["amount_captured"], payment
        assert succeeded == payment["amount_refunded"], payment
        if payment["id"] in paid:
            assert payment["amount_captured"] == payment["amount"]

    # Events: one for every answered operation.
    events: dict[str, list[dict[str, Any]]] = {}
    for item in answered:
        pid = item.json["payment_id"] if item.kind == "refund" else item.json["id"]
        if pid not in events:
            page = session.get(
                f"{url}/v1/events", params={"payment_id": pid, "limit": 100}, timeout=10
            ).json()
            events[pid] = page["data"]
        found = events[pid]
        if item.kind == "create":
            assert "payment.created" in [e["type"] for e in found], item.key
        elif item.kind == "pay":
            assert "payment.succeeded" in [e["type"] for e in found], item.key
        else:
            refund_ids = [e["data"].get("refund", {}).get("id") for e in found]
            assert item.json["id"] in refund_ids, f"no event for the refund of {item.key}"

    # Stored answers: replayed byte for byte, nothing executed again.
    for item in answered:
        replay = session.post(
            url + item.path, json=item.body, headers={"Idempotency-Key": item.key}, timeout=10
        )
        assert replay.headers.get("Idempotent-Replayed") == "true", (item.key, replay.text)
        assert (replay.status_code, replay.content) == (item.status, item.content), item.key
    assert len(all_payments(session, url)) == len(payments), "a replay created a payment"
    session.close()

"""A server on a SQLite file, stopped (or killed) and started again: nothing is lost."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_paysim import PaysimServer
from pytest_paysim.webhooks import verify
from tests.support.receivers import Receiver


def test_state_and_secrets_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    requests_made: list[tuple[str, dict[str, Any], str, requests.Response]] = []

    with PaysimServer(seed=11, db=db) as first:
        client = first.client

        def post(path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
            response = client.post(path, json=body, headers={"Idempotency-Key": key})
            assert response.status_code in (200, 201), response.text
            requests_made.append((path, body, key, response))
            result: dict[str, Any] = response.json()
            return result

        created = post(
            "/v1/payments",
            {"amount": 5000, "currency": "EUR", "metadata": {"order": "o-1"}},
            "create-1",
        )
        pid = created["id"]
        post(f"/v1/payments/{pid}/pay", {"outcome": "succeed"}, "pay-1")
        refund = post(f"/v1/payments/{pid}/refund", {"amount": 1200}, "refund-1")
        failed = client.post("/v1/payments", json={"amount": 700, "currency": "usd"}).json()
        client.post(f"/v1/payments/{failed['id']}/pay", json={"outcome": "fail"})
        endpoint = client.post(
            "/v1/webhook_endpoints", json={"url": "http://127.0.0.1:9/hook"}
        ).json()
        before = {
            "payment": client.get(f"/v1/payments/{pid}").json(),
            "payments": client.get("/v1/payments").json(),
            "failed": client.get("/v1/payments", params={"status": "failed"}).json(),
            "refund": client.get(f"/v1/refunds/{refund['id']}").json(),
            "events": client.get("/v1/events", params={"limit": 100}).json(),
            "endpoints": client.get("/v1/webhook_endpoints").json(),
        }
        assert first.simulator is not None
        kept = (first.api_key, first.webhook_secret, first.simulator.webhook_public_key)

    assert [e["type"] for e in before["events"]["data"]] == [
        "payment.failed",
        "payment.created",
        "payment.refunded",
        "payment.succeeded",
        "payment.created",
    ]
    # Another seed: the webhook secrets come from the file; the API key is never stored, so
    # it is that seed's own.
    with PaysimServer(seed=12, db=db) as other:
        assert other.simulator is not None
        assert (other.webhook_secret, other.simulator.webhook_public_key) == kept[1:]
        assert other.api_key != kept[0]
    with PaysimServer(seed=11, db=db) as second:  # the same seed: the same API key
        assert second.simulator is not None
        again = (second.api_key, second.webhook_secret, second.simulator.webhook_public_key)
        assert again == kept
        client = second.client
        assert client.get(f"/v1/payments/{pid}").json() == before["payment"]
        assert client.get("/v1/payments").json() == before["payments"]
        assert client.get("/v1/payments", params={"status": "failed"}).json() == before["failed"]
        assert client.get(f"/v1/refunds/{refund['id']}").json() == before["refund"]
        assert client.get("/v1/events", params={"limit": 100}).json() == before["events"]
        assert client.get("/v1/webhook_endpoints").json() == before["endpoints"]
        assert before["endpoints"]["data"][0]["id"] == endpoint["id"]
        assert before["payment"]["amount_refunded"] == 1200

        for path, body, key, answer in requests_made:
            replay = client.post(path, json=body, headers={"Idempotency-Key": key})
            assert replay.status_code == answer.status_code
            assert replay.content == answer.content
            assert replay.headers.get("Idempotent-Replayed") == "true", path
        reused = client.post(
            "/v1/payments",
            json={"amount": 1, "currency": "eur"},
            headers={"Idempotency-Key": "create-1"},
        )
        assert reused.status_code == 422
        assert reused.json()["error"]["code"] == "idempotency_key_reused"
        assert client.get(f"/v1/payments/{pid}").json() == before["payment"], "a replay ran"


def test_a_restart_with_the_same_seed_never_reuses_a_stored_id(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    with PaysimServer(seed=5, db=db) as first:
        old = first.client.post("/v1/payments", json={"amount": 1000, "currency": "eur"}).json()
    with PaysimServer(seed=5, db=db) as second:
        new = second.client.post("/v1/payments", json={"amount": 7, "currency": "eur"}).json()
        kept = second.client.get(f"/v1/payments/{old['id']}").json()
    assert new["id"] != old["id"]
    assert kept["amount"] == 1000


# -- undelivered webhooks resume ---------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver whose port is reserved but refuses connections until activated."""
    made = Receiver(listening=False)
    yield made
    made.close()


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def failed_first_attempt(session: requests.Session, url: str, pid: str) -> Any:
    """The failed first attempt once its retry is planned (same transaction), else None."""
    items = session.get(
        f"{url}/v1/webhook_deliveries", params={"payment_id": pid}, timeout=5
    ).json()["data"]
    return [i for i in items if i["attempt"] == 1 and i["next_attempt_at"] is not None]


@pytest.mark.parametrize("ending", ["sigkill", "stop"])
def test_a_planned_webhook_retry_is_sent_after_a_restart(
    ending: str, tmp_path: Path, receiver: Receiver, serve: Callable[..., Any]
) -> None:
    db = tmp_path / "p.sqlite"
    # The retry is due 2 s after the refused first attempt; the server is gone well before.
    if ending == "sigkill":
        process = serve("--db", db, "--seed", 3, "--webhook-retries", "2,2")
        url, session = process.url, process.session()
        secret = process.banner["webhook secret"]
    else:
        first = PaysimServer(seed=3, db=db, webhook_retries=(2, 2)).start()
        url, session, secret = first.url, first.client.session, first.webhook_secret
    created = session.post(
        f"{url}/v1/payments",
        json={"amount": 900, "currency": "eur", "metadata": {"webhook_url": receiver.url}},
        timeout=5,
    ).json()
    pid = created["id"]
    [failed] = wait_for(
        lambda: failed_first_attempt(session, url, pid), 10, "the refused first attempt"
    )
    assert failed["error"] == "connection error"
    if ending == "sigkill":
        process.kill()
    else:
        first.stop()
    session.close()
    assert not receiver.received

    receiver.activate()
    with PaysimServer(db=db) as restarted:
        [retried] = receiver.wait_for(1, timeout=10)  # the planned retry, after the restart
        headers, body = retried.headers, retried.body
        event = verify(body, headers, secret)
        assert restarted.webhook_secret == secret
        assert (event["type"], event["data"]["object"]["id"]) == ("payment.created", pid)
        assert event["id"] == failed["event_id"]
        assert headers["Paysim-Delivery-Attempt"] == "2"
        assert json.loads(body) == event
        [resent] = wait_for(
            lambda: [
                item
                for item in restarted.client.get(
                    "/v1/webhook_deliveries", params={"payment_id": pid}
                ).json()["data"]
                if item["attempt"] == 2 and item["succeeded"]
            ],
            5,
            "the resent attempt in /v1/webhook_deliveries",
        )
        assert resent["event_id"] == failed["event_id"]
        assert resent["status_code"] == 200
    assert len(receiver.received) == 1

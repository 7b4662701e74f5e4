"""Concurrent duplicates over real HTTP: one execution per idempotency key, and refunds that
never add up past what was captured."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests

from pytest_paysim.server import PaysimServer
from tests.support.http import Http, assert_error

pytestmark = pytest.mark.slow

ROUNDS = 10
JOIN_TIMEOUT = 20.0


def run_together(
    count: int, work: Callable[[int, Http], requests.Response], server: PaysimServer
) -> list[requests.Response]:
    """Run ``work`` in ``count`` threads released at once; every answer, in thread order."""
    barrier = threading.Barrier(count, timeout=10)
    answers: list[requests.Response | BaseException | None] = [None] * count

    def worker(index: int) -> None:
        try:
            with Http(server, server.api_key) as client:
                client.get("/health")  # connect before the barrier
                barrier.wait()
                answers[index] = work(index, client)
        except BaseException as error:
            answers[index] = error

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
    return [answer for answer in answers if isinstance(answer, requests.Response)]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_32_duplicate_creates_execute_once(api: Http, server: PaysimServer, round_: int) -> None:
    slow = bool(round_ % 2)
    if slow:  # every other round, whoever holds the key holds it for a moment
        api.ok(
            "POST",
            "/_paysim/faults",
            json={"delay": 0.2, "path": "/v1/payments", "times": None},
        )
    body = {"amount": 1000 + round_, "currency": "usd", "metadata": {"round": str(round_)}}
    headers = {"Idempotency-Key": f"same-{round_}"}

    answers = run_together(
        32, lambda _, client: client.post("/v1/payments", json=body, headers=headers), server
    )

    created = [a for a in answers if a.status_code == 201]
    executed = [a for a in created if "Idempotent-Replayed" not in a.headers]
    assert len(executed) == 1
    for answer in created:
        assert answer.content == executed[0].content
    in_use = [a for a in answers if a.status_code != 201]
    for answer in in_use:
        assert_error(answer, "idempotency_key_in_use")
    if slow:
        assert in_use, "no duplicate arrived while the first one was running"
    payments = api.ok("GET", "/v1/payments", params={"limit": 100})["data"]
    assert [p["id"] for p in payments] == [executed[0].json()["id"]]
    assert len(api.ok("GET", "/v1/events")["data"]) == 1


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_16_concurrent_refunds_never_exceed_the_capture(
    api: Http, server: PaysimServer, round_: int
) -> None:
    payment = api.payment_in("succeeded", amount=10_000)
    pid = payment["id"]
    amounts = [random.Random(round_ * 100 + i).randint(500, 2000) for i in range(16)]
    assert sum(amounts) > 10_000

    answers = run_together(
        16,
        lambda i, client: client.post(f"/v1/payments/{pid}/refund", json={"amount": amounts[i]}),
        server,
    )

    succeeded: list[dict[str, Any]] = []
    for answer in answers:
        if answer.status_code == 201:
            succeeded.append(answer.json())
        elif answer.status_code == 400:
            assert_error(answer, "amount_too_large", param="amount")
        else:
            assert_error(answer, "payment_unexpected_state")
    assert all(refund["status"] == "succeeded" for refund in succeeded)
    total = sum(refund["amount"] for refund in succeeded)
    final = api.ok("GET", f"/v1/payments/{pid}")
    assert total <= final["amount_captured"] == 10_000
    assert final["amount_refunded"] == total
    assert sorted(r["id"] for r in final["refunds"]) == sorted(r["id"] for r in succeeded)
    assert final["status"] == ("refunded" if total == 10_000 else "succeeded")
    events = api.ok("GET", "/v1/events", params={"type": "payment.refunded", "limit": 100})
    assert len(events["data"]) == len(succeeded)

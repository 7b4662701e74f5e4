"""Delivering webhooks: sign each attempt, send it, record it, retry on the schedule.

One worker thread per receiver URL sends that URL's attempts in order of due time (so first
attempts go out in event order) and never waits on another URL: a dead or hanging receiver
only delays itself, by at most the per-attempt timeout. Due times are on the simulator clock;
under a frozen clock a retry waits until the clock is advanced past it::

    dispatcher = Dispatcher(simulator)     # subscribes itself to the simulator
    ...
    dispatcher.close()
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from typing import Any

import requests

from pytest_paysim._version import __version__
from pytest_paysim.core.models import DeliveryAttempt
from pytest_paysim.core.simulator import Simulator
from pytest_paysim.webhooks.signing import sign

__all__ = ["Dispatcher"]

_IDLE_POLL_SECONDS = 0.25
_RESPONSE_KEEP_CHARS = 1000


class _Worker:
    """The queue and thread of one (run, URL)."""

    def __init__(self, dispatcher: Dispatcher, url: str, generation: int) -> None:
        self.dispatcher = dispatcher
        self.url = url
        self.generation = generation
        self.queue: list[tuple[float, int, DeliveryAttempt]] = []
        self.busy = False
        self.stopped = False
        self.thread = threading.Thread(
            target=self._run, name=f"paysim-webhooks-{url[:40]}", daemon=True
        )

    def _run(self) -> None:
        dispatcher = self.dispatcher
        cond = dispatcher.condition
        clock = dispatcher.simulator.clock
        session = requests.Session()
        session.trust_env = False
        try:
            while True:
                with cond:
                    attempt = None
                    while attempt is None:
                        if self.stopped or dispatcher.closed:
                            return
                        if not self.queue:
                            cond.wait(_IDLE_POLL_SECONDS)
                            continue
                        wait = self.queue[0][0] - clock.now()
                        if wait > 0:
                            cond.wait(_IDLE_POLL_SECONDS if clock.frozen else min(wait, 0.25))
                            continue
                        attempt = heapq.heappop(self.queue)[2]
                    self.busy = True
                try:
                    dispatcher.send(attempt, session)
                finally:
                    with cond:
                        self.busy = False
                        cond.notify_all()
        finally:
            session.close()

    def due(self, now: float) -> bool:
        return self.busy or bool(self.queue and self.queue[0][0] <= now)


class Dispatcher:
    """Sends the simulator's planned delivery attempts."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.condition = threading.Condition()
        self.closed = False
        self._workers: dict[str, _Worker] = {}
        self._sequence = itertools.count()
        simulator.delivery_listeners.append(self.submit)
        simulator.reset_listeners.append(self._on_reset)
        simulator.clock.subscribe(self._wake)
        simulator.deliveries_busy = self.busy

    # -- planning ----------------------------------------------------------------------------

    def submit(self, planned: list[DeliveryAttempt]) -> None:
        """Take planned attempts: capture the unsent, send or queue the rest."""
        sync = self.simulator.settings.delivery == "sync"
        for attempt in planned:
            if attempt.url is None:
                self._capture(attempt)
            elif sync and attempt.attempt == 1:
                session = requests.Session()
                session.trust_env = False
                with session:
                    self.send(attempt, session)
            else:
                self._enqueue(attempt)

    def _enqueue(self, attempt: DeliveryAttempt) -> None:
        assert attempt.url is not None
        with self.condition:
            if self.closed:
                return
            worker = self._workers.get(attempt.url)
            if worker is None or worker.generation != attempt.generation:
                if worker is not None:
                    worker.stopped = True
                worker = _Worker(self, attempt.url, attempt.generation)
                self._workers[attempt.url] = worker
                worker.thread.start()
            heapq.heappush(worker.queue, (attempt.due_at, next(self._sequence), attempt))
            self.condition.notify_all()

    def _capture(self, attempt: DeliveryAttempt) -> None:
        sim = self.simulator
        attempt.headers = self._headers(attempt)
        attempt.sent_at = sim.clock.now()
        sim.record_attempt(attempt)

    # -- sending ----------------------------------------------------------------------------

    def _headers(self, attempt: DeliveryAttempt) -> dict[str, str]:
        sim = self.simulator
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"paysim/{__version__}",
            "Paysim-Event-Id": attempt.event_id,
            "Paysim-Delivery-Attempt": str(attempt.attempt),
        }
        secrets = sim.secrets_for(attempt)
        attempt.signed_with = secrets[0]
        headers.update(
            sign(
                attempt.body,
                secrets,
                scheme=sim.settings.signature,
                timestamp=int(time.time()),
                msg_id=attempt.event_id,
            )
        )
        return headers

    def send(self, attempt: DeliveryAttempt, session: requests.Session) -> None:
        """Make one attempt now, record it, and plan the retry if it failed."""
        sim = self.simulator
        if attempt.generation != sim.generation:
            return
        assert attempt.url is not None
        attempt.headers = self._headers(attempt)
        attempt.sent_at = sim.clock.now()
        try:
            response = session.post(
                attempt.url,
                data=attempt.body,
                headers=attempt.headers,
                timeout=sim.config.webhook_timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            attempt.error = _describe(error)
            attempt.succeeded = False
        else:
            attempt.status_code = response.status_code
            attempt.succeeded = 200 <= response.status_code < 300
            attempt.response_body = response.text[:_RESPONSE_KEEP_CHARS]
            if not attempt.succeeded:
                attempt.error = f"HTTP {response.status_code}"
        if sim.record_attempt(attempt) and not attempt.succeeded:
            sim.plan_retry(attempt)

    # -- waiting and lifecycle -----------------------------------------------------------------

    def busy(self) -> bool:
        """Whether any attempt is being sent or is due now."""
        now = self.simulator.clock.now()
        with self.condition:
            return any(worker.due(now) for worker in self._workers.values() if not worker.stopped)

    def _wake(self) -> None:
        with self.condition:
            self.condition.notify_all()

    def _on_reset(self, generation: int) -> None:
        with self.condition:
            for worker in self._workers.values():
                worker.stopped = True
            self._workers = {}
            self.condition.notify_all()

    def close(self, timeout: float = 1.0) -> None:
        """Stop every worker; an attempt in flight is abandoned after ``timeout``."""
        with self.condition:
            self.closed = True
            workers = list(self._workers.values())
            self.condition.notify_all()
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.thread.join(max(0.0, deadline - time.monotonic()))

    def stats(self) -> dict[str, Any]:
        """Queue lengths per URL, for the dashboard and debugging."""
        with self.condition:
            return {url: len(worker.queue) for url, worker in self._workers.items()}


def _describe(error: requests.RequestException) -> str:
    if isinstance(error, requests.Timeout):
        return "timeout"
    if isinstance(error, requests.ConnectionError):
        return "connection error"
    return type(error).__name__

"""Delivering webhooks: the simulator's delivery sink. Send each attempt, report it back.

One worker thread per receiver URL sends that URL's attempts in order of due time (so first
attempts go out in event order) and never waits on another URL: a dead or hanging receiver
only delays itself, by at most the per-attempt timeout. Due times are on the simulator clock;
under a frozen clock a retry waits until the clock is advanced past it::

    dispatcher = Dispatcher(simulator)
    simulator.connect(dispatcher)          # planned attempts now come here
    ...
    dispatcher.close()

The simulator hands over planned attempts; for each, the dispatcher asks the simulator for
the signed attempt (:meth:`~pytest_paysim.core.simulator.Simulator.prepare_attempt`), sends
it, and reports what came back (``record_attempt``), which answers with the retry to queue.

Each worker sleeps on its own condition (sharing the dispatcher's lock), so a new attempt wakes
only the worker of its URL; a worker with nothing to do for a while ends, and the next attempt
to its URL starts a new one. Nothing that goes wrong while sending kills a worker: network
errors and URLs the HTTP stack cannot parse are failed attempts, and any other exception is
kept by the simulator as an unexpected error (which fails the running test).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Sequence

import requests
import urllib3

from pytest_paysim.core.models import DeliveryAttempt
from pytest_paysim.core.simulator import Simulator

__all__ = ["Dispatcher"]

_POLL_SECONDS = 0.25
"""Longest sleep of a worker between checks (due times, the clock, stopping)."""
_IDLE_EXIT_SECONDS = 10.0
"""A worker with an empty queue for this long ends (a long-running server sees many URLs)."""
_RESPONSE_KEEP_BYTES = 1000
"""How much of a receiver's answer is read and kept; the rest is never read."""


class _Worker:
    """The queue and thread of one (run, URL)."""

    def __init__(self, dispatcher: Dispatcher, url: str, generation: int) -> None:
        self.dispatcher = dispatcher
        self.url = url
        self.generation = generation
        self.queue: list[tuple[float, int, DeliveryAttempt]] = []
        self.busy = False
        self.stopped = False
        self.wakeup = threading.Condition(dispatcher.lock)
        self.thread = threading.Thread(
            target=self._run, name=f"paysim-webhooks-{url[:40]}", daemon=True
        )

    def _next(self) -> DeliveryAttempt | None:
        """Wait (holding the lock) for the next due attempt; None when this worker ends."""
        dispatcher = self.dispatcher
        clock = dispatcher.simulator.clock
        idle_since: float | None = None
        while True:
            if self.stopped or dispatcher.closed:
                return None
            if not self.queue:
                now = time.monotonic()
                if idle_since is None:
                    idle_since = now
                elif now - idle_since >= _IDLE_EXIT_SECONDS:
                    self.stopped = True
                    if dispatcher._workers.get(self.url) is self:
                        del dispatcher._workers[self.url]
                    return None
                self.wakeup.wait(_POLL_SECONDS)
                continue
            idle_since = None
            wait = self.queue[0][0] - clock.now()
            if wait > 0:
                self.wakeup.wait(_POLL_SECONDS if clock.frozen else min(wait, _POLL_SECONDS))
                continue
            self.busy = True
            return heapq.heappop(self.queue)[2]

    def _run(self) -> None:
        dispatcher = self.dispatcher
        session = _new_session()
        try:
            while True:
                with dispatcher.lock:
                    attempt = self._next()
                if attempt is None:
                    return
                try:
                    dispatcher.send(attempt, session)
                except Exception as error:  # a bug: report it to the test, keep the worker
                    dispatcher.simulator.record_unexpected_error(error)
                finally:
                    with dispatcher.lock:
                        self.busy = False
                        dispatcher._finished(attempt)
        finally:
            session.close()

    def due(self, now: float) -> bool:
        return self.busy or bool(self.queue and self.queue[0][0] <= now)


class Dispatcher:
    """Sends the simulator's planned delivery attempts (a ``DeliverySink``)."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.timeout = simulator.config.webhook_timeout
        self.lock = threading.Lock()
        self.closed = False
        self._workers: dict[str, _Worker] = {}
        self._sequence = itertools.count()
        self._sync_pending = threading.local()
        self._sent: dict[str, threading.Event] = {}
        """Sync first attempts not made yet, by id: their request waits for them in flush."""

    # -- the sink ------------------------------------------------------------------------------

    def submit(self, attempts: Sequence[DeliveryAttempt], *, sync: bool) -> None:
        """Take planned attempts (called under the simulator's lock, so it only queues).

        Every attempt goes to its URL's worker, in the order given (event order). With
        ``sync``, the calling request also waits in :meth:`flush` until its first attempts
        are made, so they are sent before the API answers and still in event order.
        """
        for attempt in attempts:
            try:
                if sync and attempt.attempt == 1 and not self.closed:
                    sent = threading.Event()
                    with self.lock:
                        self._sent[attempt.id] = sent
                    self._pending_sync().append(sent)
                self._enqueue(attempt)
            except Exception as error:  # a bug: the API call itself went through
                self.simulator.record_unexpected_error(error)

    def flush(self) -> None:
        """Wait until this thread's ``sync`` first attempts are made (outside the simulator's
        lock); each may take the attempt timeout, so the wait is bounded by that."""
        pending = self._pending_sync()
        if not pending:
            return
        waiting, pending[:] = list(pending), []
        deadline = time.monotonic() + (self.timeout + 1.0) * len(waiting)
        for sent in waiting:
            sent.wait(max(0.0, deadline - time.monotonic()))

    def _finished(self, attempt: DeliveryAttempt) -> None:
        """An attempt was made or dropped (called with ``lock`` held): release its waiter."""
        sent = self._sent.pop(attempt.id, None)
        if sent is not None:
            sent.set()

    def _release_all(self) -> None:
        """Nothing queued will be sent (reset, close): release every waiter."""
        for sent in self._sent.values():
            sent.set()
        self._sent.clear()

    def reset(self) -> None:
        """Stop every worker: what they had queued belongs to a run that is over."""
        with self.lock:
            for worker in self._workers.values():
                worker.stopped = True
            self._notify_workers()
            self._workers = {}
            self._release_all()

    def wake(self) -> None:
        """The clock moved: every worker re-checks its due times."""
        with self.lock:
            self._notify_workers()

    def busy(self) -> bool:
        """Whether any attempt is being sent or is due now."""
        now = self.simulator.clock.now()
        with self.lock:
            return any(worker.due(now) for worker in self._workers.values() if not worker.stopped)

    # -- queues --------------------------------------------------------------------------------

    def _pending_sync(self) -> list[threading.Event]:
        """This thread's sync first attempts, not yet waited for in ``flush``."""
        pending: list[threading.Event] | None = getattr(self._sync_pending, "attempts", None)
        if pending is None:
            pending = self._sync_pending.attempts = []
        return pending

    def _enqueue(self, attempt: DeliveryAttempt) -> None:
        assert attempt.url is not None
        with self.lock:
            if self.closed or attempt.generation != self.simulator.generation:
                self._finished(attempt)
                return
            worker = self._workers.get(attempt.url)
            if worker is None or worker.stopped or worker.generation != attempt.generation:
                if worker is not None:
                    worker.stopped = True
                    worker.wakeup.notify()
                worker = _Worker(self, attempt.url, attempt.generation)
                self._workers[attempt.url] = worker
                worker.thread.start()
            heapq.heappush(worker.queue, (attempt.due_at, next(self._sequence), attempt))
            worker.wakeup.notify()

    # -- sending ------------------------------------------------------------------------------

    def send(self, attempt: DeliveryAttempt, session: requests.Session) -> None:
        """Make one attempt now, report it, and queue its retry if it failed."""
        signed = self.simulator.prepare_attempt(attempt)
        if signed is None:
            return  # its run is over, or its endpoint was deleted (recorded as not sent)
        signed.sent_at = self.simulator.clock.now()
        self._post(signed, session)
        retry = self.simulator.record_attempt(signed)
        if retry is not None:
            self._enqueue(retry)

    def _post(self, attempt: DeliveryAttempt, session: requests.Session) -> None:
        """POST the attempt; fill in status, error and the start of the answer."""
        assert attempt.url is not None
        timeout = self.timeout
        deadline = time.monotonic() + timeout
        try:
            response = session.post(
                attempt.url,
                data=attempt.body,
                headers=attempt.headers,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
            attempt.status_code = response.status_code
            kept = _read_some(response, deadline)
        except requests.RequestException as error:
            attempt.error = _describe(error)
            attempt.succeeded = False
            return
        except ValueError:
            # urllib3 parses some hosts more strictly than the API's URL check (``a..b``).
            attempt.error = "invalid url"
            attempt.succeeded = False
            return
        attempt.succeeded = 200 <= attempt.status_code < 300
        attempt.response_body = kept.decode(response.encoding or "utf-8", errors="replace")
        if not attempt.succeeded:
            attempt.error = f"HTTP {attempt.status_code}"

    # -- lifecycle ---------------------------------------------------------------------------

    def _notify_workers(self) -> None:
        for worker in self._workers.values():
            worker.wakeup.notify()

    def close(self, timeout: float = 1.0) -> None:
        """Stop every worker; an attempt in flight is abandoned after ``timeout``."""
        with self.lock:
            self.closed = True
            workers = list(self._workers.values())
            self._notify_workers()
            self._release_all()
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.thread.join(max(0.0, deadline - time.monotonic()))


def _new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment for loopback receivers
    return session


def _read_some(response: requests.Response, deadline: float) -> bytes:
    """Up to ``_RESPONSE_KEEP_BYTES`` of the answer, reading no later than ``deadline``.

    A receiver that sends its status and then dribbles (or never ends) its body does not hold
    the worker past the attempt's timeout, and a huge answer is never read; its status still
    counts. A short answer read to its end leaves the connection open for the next attempt.
    """
    raw = response.raw
    read = getattr(raw, "read1", raw.read)  # read1: what has arrived, without waiting for more
    kept = b""
    try:
        while len(kept) < _RESPONSE_KEEP_BYTES and time.monotonic() < deadline:
            chunk = read(_RESPONSE_KEEP_BYTES - len(kept))
            if not chunk:
                raw.release_conn()  # all read: keep the connection alive
                return kept
            kept += chunk
    except (urllib3.exceptions.HTTPError, OSError):
        pass  # the status came back; a broken or late body does not change it
    response.close()  # unread rest: drop the connection
    return kept


def _describe(error: requests.RequestException) -> str:
    if isinstance(error, requests.Timeout):
        return "timeout"
    if isinstance(error, requests.ConnectionError):
        return "connection error"
    if isinstance(error, requests.exceptions.InvalidURL):
        return "invalid url"
    return type(error).__name__

"""The simulator: the core's one boundary, over payments, refunds, customers, payment methods,
events and endpoints.

It knows nothing of HTTP or pytest. Front ends (the native API, the pages, the control plane,
the test fixture) call its methods and nothing else: no front end takes its lock, reads its
store or drives its idempotency table.

- Operations (``create_payment``, ``pay``, ``refund``, ``create_customer``, ...) each run
  under one lock and inside one store transaction: every change is kept, or, when anything
  inside raises, none is — in the store, the seeded generators, the forced outcomes and the
  planned deliveries.
- :meth:`Simulator.execute` runs a front end's request: it checks that the request belongs
  to the current run (a request that outlived its test changes nothing), replays or reserves
  its idempotency key, runs the operation and stores its answer in the same transaction.
- Queries (``get_payment``, ``payments``, ``events``, ``deliveries``, ...) read whole records.
- After each commit, the planned webhook deliveries go to the one :class:`DeliverySink`
  connected (the dispatcher), which reports each attempt back with :meth:`record_attempt`.

Example::

    sim = Simulator(SimulatorConfig(seed=7))
    payment = sim.create_payment(amount=1999, currency="usd")
    sim.pay(payment.id, outcome="succeed")
    sim.refund(payment.id, amount=500)
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from pytest_paysim.core import transitions as tx
from pytest_paysim.core.calls import MAX_CALLS, Call
from pytest_paysim.core.cards import (
    AUTHENTICATION_FAILED_MESSAGE,
    DECLINE_MESSAGES,
    card_result,
    normalize_card_number,
)
from pytest_paysim.core.clock import Clock, format_time
from pytest_paysim.core.deliveries import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    DELIVERY_MODES,
    DeliveryMode,
    DeliverySink,
    NoSink,
    next_attempt,
    plan,
)
from pytest_paysim.core.events import (
    CustomerAction,
    CustomerChange,
    EventRenderer,
    Occurrence,
    RenderedEvent,
)
from pytest_paysim.core.faults import Fault, Faults
from pytest_paysim.core.idempotency import Answer, Claim, IdempotencyKeys
from pytest_paysim.core.ids import IdGenerator, derive_seed
from pytest_paysim.core.models import (
    DIALECTS,
    ENDPOINT_ENABLED,
    ENDPOINT_STATUSES,
    REFUND_FAILED,
    REFUND_SUCCEEDED,
    Charge,
    Customer,
    DeliveryAttempt,
    Event,
    Payment,
    PaymentMethod,
    Refund,
    WebhookEndpoint,
    dump_json,
)
from pytest_paysim.core.outcomes import (
    AUTHENTICATION_OUTCOMES,
    DEFAULT_AUTO_SUCCESS_RATE,
    PAY_OUTCOMES,
    ForcedOutcomes,
)
from pytest_paysim.core.secrets import ROTATION_GRACE_SECONDS, STORED_SECRETS, Secrets
from pytest_paysim.core.signing import (
    SCHEMES,
    Scheme,
    delivery_headers,
    generate_hmac_secret,
    generate_signing_key,
)
from pytest_paysim.core.store import MemoryStore, Store
from pytest_paysim.errors import (
    AmountTooLarge,
    ApiError,
    ConfigurationError,
    ParameterInvalid,
    ParameterMissing,
    ResourceMissing,
    SimulatorReset,
)

__all__ = ["RunSettings", "Simulator", "SimulatorConfig"]

DELETED_ENDPOINT = "not sent: the webhook endpoint was deleted"
DISABLED_ENDPOINT = "not sent: the webhook endpoint is disabled"
_ENDPOINT_CHANGES = frozenset({"url", "enabled_events", "description", "metadata", "status"})
_ID_PREFIXES = {"stripe": "pi"}
"""The id prefix of each dialect's payments (native: ``pay``)."""
MAX_UNEXPECTED_ERRORS = 100
_CUSTOMER_FIELDS = frozenset({"email", "name", "description", "phone", "metadata"})
"""What ``update_customer`` may change."""
_SCAN_PAGE = 100


@dataclass(frozen=True)
class SimulatorConfig:
    """Settings of one simulator; the ``RunSettings`` ones may be overridden by ``reset``."""

    seed: int
    api_key: str | None = None
    base_url: str = "http://127.0.0.1"
    signature: Scheme = "paysim"
    delivery: DeliveryMode = "async"
    auto_success_rate: float = DEFAULT_AUTO_SUCCESS_RATE
    webhook_retries: tuple[float, ...] = DEFAULT_RETRIES
    webhook_timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        if self.signature not in SCHEMES:
            raise ConfigurationError(
                f"signature must be one of {', '.join(SCHEMES)}, not {self.signature!r}"
            )
        if self.delivery not in DELIVERY_MODES:
            raise ConfigurationError(
                f"delivery must be one of {', '.join(DELIVERY_MODES)}, not {self.delivery!r}"
            )
        if not 0.0 <= self.auto_success_rate <= 1.0:
            raise ConfigurationError("auto_success_rate must be between 0 and 1")
        if any(delay < 0 for delay in self.webhook_retries):
            raise ConfigurationError("webhook retry delays must be >= 0 seconds")
        if self.webhook_timeout <= 0:
            raise ConfigurationError("webhook_timeout must be > 0 seconds")


@dataclass(frozen=True)
class RunSettings:
    """What a run (a test, or the session) may set: scheme, delivery mode, auto success rate."""

    signature: Scheme
    delivery: DeliveryMode
    auto_success_rate: float

    @classmethod
    def of(cls, config: SimulatorConfig) -> RunSettings:
        return cls(config.signature, config.delivery, config.auto_success_rate)


class Simulator:
    """The state of one simulated gateway and the operations on it."""

    def __init__(
        self,
        config: SimulatorConfig,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or Clock()
        """The simulator clock (thread-safe: tests freeze and advance it)."""
        self._store: Store = store if store is not None else MemoryStore()
        self._lock = threading.RLock()
        self._log_changed = threading.Condition(self._lock)
        self._forced = ForcedOutcomes()
        self._faults = Faults()
        self._keys = IdempotencyKeys(self.clock)
        self._sink: DeliverySink = NoSink()
        self._generation = 0
        self._reset_at = time.monotonic()
        self._session_secrets = self._load_secrets()
        self._secrets = replace(self._session_secrets, previous=[])
        self._settings = RunSettings.of(config)
        self._start_run(self._first_run_seed())
        # The transaction in progress (all under the lock): changes outside the store that a
        # failure takes back, and what a commit hands on.
        self._depth = 0
        self._undo: list[Callable[[], None]] = []
        self._generators_saved: tuple[tuple[int, int], tuple[int, int]] | None = None
        self._planned: list[DeliveryAttempt] = []
        self._made: list[DeliveryAttempt] = []
        self._log: list[DeliveryAttempt] = []
        self._unexpected: list[str] = []
        self._error_reporter: Callable[[str], None] | None = None
        # The run's API calls: a lock of their own, so recording one never waits for an
        # operation; ``reset`` swaps the deque after moving the generation on.
        self._calls_lock = threading.Lock()
        self._calls: deque[Call] = deque(maxlen=MAX_CALLS)
        self._renderers: dict[str, EventRenderer] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def _load_secrets(self) -> Secrets:
        """Secrets from the seed; webhook secrets from the store when it has them (a restart)."""
        made = Secrets.made(seed=self.config.seed, api_key=self.config.api_key)
        with self._store.transaction():
            for name in STORED_SECRETS:
                stored = self._store.get_setting(name)
                if stored is not None:
                    setattr(made, name, stored)
                else:
                    self._store.set_setting(name, getattr(made, name))
        return made

    def _first_run_seed(self) -> int:
        """The seed of the ids made before the first reset.

        A persistent store outlives the process; restarting the generators from the same seed
        would make ids that are already stored, so every later start on the same store draws
        from its own stream.
        """
        with self._store.transaction():
            starts = int(self._store.get_setting("starts") or 0)
            self._store.set_setting("starts", str(starts + 1))
        if starts == 0:
            return self.config.seed
        return derive_seed(self.config.seed, f"start:{starts}")

    def _start_run(self, seed: int) -> None:
        self._seed = seed
        self._ids = IdGenerator(seed)
        self._delivery_ids = IdGenerator(derive_seed(seed, "deliveries"))

    def connect(self, sink: DeliverySink) -> None:
        """Send planned deliveries to ``sink`` from now on, starting with the store's outbox
        (attempts a persistent store still had planned when the last process stopped)."""
        with self._lock:
            self._sink = sink
            self.clock.subscribe(sink.wake)
            pending = [
                replace(attempt, generation=self._generation)
                for attempt in self._store.pending_deliveries()
            ]
            if pending:
                sink.submit(pending, sync=False)

    def register_dialect(self, dialect: str, renderer: EventRenderer) -> None:
        """Let payments of ``dialect`` exist; ``renderer`` makes their events (wiring time)."""
        if dialect not in DIALECTS or dialect == "native":
            raise ConfigurationError(f"unknown dialect {dialect!r}")
        with self._lock:
            self._renderers[dialect] = renderer

    def close(self) -> None:
        """Release the store (a server stopping)."""
        with self._lock:
            self._store.close()

    def reset(
        self,
        *,
        seed: int | None = None,
        signature: Scheme | None = None,
        delivery: DeliveryMode | None = None,
        auto_success_rate: float | None = None,
        frozen_at: float | None = None,
    ) -> None:
        """Empty everything and restart the seeded generators; apply per-test settings.

        Waits for an operation in progress (it holds the lock); a request that arrived before
        the reset and has not started changes nothing (see :meth:`execute`).
        """
        config = self.config
        # replace() runs SimulatorConfig's checks on the overrides before anything changes.
        checked = replace(
            config,
            signature=signature or config.signature,
            delivery=delivery or config.delivery,
            auto_success_rate=(
                config.auto_success_rate if auto_success_rate is None else auto_success_rate
            ),
        )
        with self._lock:
            with self._store.transaction():
                self._store.clear()
            self._forced.clear()
            self._faults.clear()
            self._keys.clear()
            self._secrets.restore(self._session_secrets)
            self._settings = RunSettings.of(checked)
            self._start_run(self.config.seed if seed is None else seed)
            self._generation += 1
            self._reset_at = time.monotonic()
            with self._calls_lock:
                self._calls = deque(maxlen=MAX_CALLS)
            self._unexpected.clear()
            self._log = []
            self._log_changed.notify_all()
            self._sink.reset()
            self.clock.reset()
            if frozen_at is not None:
                self.clock.freeze(frozen_at)

    def report_errors_to(self, reporter: Callable[[str], None] | None) -> None:
        """Also hand each unexpected error's traceback to ``reporter`` as it happens
        (``paysim serve`` prints them on standard error)."""
        self._error_reporter = reporter

    def record_unexpected_error(self, error: BaseException) -> str:
        """Keep the traceback of a bug so the running test can fail with it; returns it.

        A run keeps the first ``MAX_UNEXPECTED_ERRORS`` (a server nobody resets must not
        grow without end); the reporter, if any, sees every one.
        """
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        with self._lock:
            if len(self._unexpected) < MAX_UNEXPECTED_ERRORS:
                self._unexpected.append(text)
            reporter = self._error_reporter
        if reporter is not None:
            reporter(text)
        return text

    def record_call(self, call: Call, *, generation: int) -> None:
        """Keep an API request of the run it arrived in (``generation`` as it was then).

        A front end calls this once per API request, with the answer; a request of a run
        that is over (a reset came in between) is dropped, so a test never sees the
        requests of an earlier one.
        """
        with self._calls_lock:
            if generation == self._generation:
                self._calls.append(call)

    # -- the entry point of a front end's request ----------------------------------------------

    @property
    def generation(self) -> int:
        """Counts resets: a front end notes it when a request arrives (see :meth:`execute`)."""
        return self._generation

    def execute(
        self,
        operation: Callable[[], Answer],
        *,
        claim: Claim | None = None,
        generation: int | None = None,
        hold: Callable[[], None] | None = None,
        keep_refusal: Callable[[ApiError], Answer | None] | None = None,
    ) -> Answer:
        """Run ``operation`` (which calls this simulator's operations) as one request.

        ``generation`` is :attr:`generation` as it was when the request arrived: if the
        simulator was reset since, the request belonged to a test that is over, and it is
        refused (409 ``simulator_reset``) before anything happens. With a ``claim``, a stored
        answer is replayed, a key in use is refused, and otherwise the key is reserved and
        ``operation``'s answer stored with its changes, in one transaction. ``hold`` runs
        after the key is reserved and before the operation (an injected delay): a slow
        request holds its key, as at a real gateway. An ``ApiError`` raised by ``operation``
        leaves no trace; with a claim, ``keep_refusal`` may turn it into an answer to store
        under the key (a refusal that is a result, such as a 409 on the payment's state),
        which is stored in a transaction of its own and returned.
        """
        if claim is not None:
            with self._lock:
                self._check_generation(generation)
                try:
                    with self._store.transaction():  # may delete an expired record
                        replayed = self._keys.begin(self._store, claim)
                except BaseException:
                    self._keys.release(claim)  # reserved, then the commit failed
                    raise
            if replayed is not None:
                return replayed
        try:
            if hold is not None:
                hold()
            try:
                with self._atomic():
                    self._check_generation(generation)
                    answer = operation()
                    if claim is not None:
                        self._keys.store(self._store, claim, answer)
            except ApiError as error:
                refusal = keep_refusal(error) if claim and keep_refusal else None
                if refusal is None:
                    raise
                with self._atomic():
                    self._check_generation(generation)
                    self._keys.store(self._store, claim, refusal)  # type: ignore[arg-type]
                return refusal
        finally:
            if claim is not None:
                self._keys.release(claim)
        return answer

    def generation_at(self, arrived_at: float | None) -> int:
        """The generation of a request that arrived at ``arrived_at`` (``time.monotonic()``;
        None: now). After a reset since then it matches no run: it is refused, unexecuted."""
        with self._lock:
            if arrived_at is not None and arrived_at < self._reset_at:
                return -1
            return self._generation

    def require_run(self, generation: int) -> None:
        """Raise 409 ``simulator_reset`` unless the run is still ``generation`` (for a front
        end's read that waited, e.g. on an injected delay)."""
        with self._lock:
            self._check_generation(generation)

    def _check_generation(self, generation: int | None) -> None:
        if generation is not None and generation != self._generation:
            raise SimulatorReset(
                "The simulator was reset (a new test began) while this request waited; "
                "nothing was done. Send it again if it is still wanted."
            )

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        """One lock and one store transaction; nested calls join the outer one.

        On an error everything is taken back: the store's changes (its transaction), the
        generators' draws, used-up forced outcomes and planned deliveries. On success the
        made attempts join the log, and planned ones go to the sink under the lock (so they
        reach it in event order); ``sync`` ones are sent after the lock is released.
        """
        with self._lock:
            self._depth += 1
            if self._depth > 1:
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            try:
                with self._store.transaction():
                    yield
            except BaseException:
                self._roll_back()
                raise
            finally:
                self._depth -= 1
            planned = self._commit()
        if planned:
            self._sink.flush()

    def _roll_back(self) -> None:
        for step in reversed(self._undo):
            step()
        if self._generators_saved is not None:
            ids_mark, delivery_mark = self._generators_saved
            self._ids.rewind(ids_mark)
            self._delivery_ids.rewind(delivery_mark)
        self._undo.clear()
        self._generators_saved = None
        self._planned.clear()
        self._made.clear()

    def _commit(self) -> bool:
        self._undo.clear()
        self._generators_saved = None
        if self._made:
            self._log.extend(self._made)
            self._made.clear()
            self._log_changed.notify_all()
        if not self._planned:
            return False
        planned, self._planned = self._planned, []
        self._sink.submit(planned, sync=self._settings.delivery == "sync")
        return True

    def _on_rollback(self, step: Callable[[], None]) -> None:
        self._undo.append(step)

    def _new_id(self, prefix: str) -> str:
        self._save_generators()
        return self._ids.new(prefix)

    def _save_generators(self) -> None:
        if self._generators_saved is None:
            self._generators_saved = (self._ids.mark(), self._delivery_ids.mark())

    # -- payments ----------------------------------------------------------------------------

    def create_payment(
        self,
        *,
        amount: int,
        currency: str,
        description: str | None = None,
        metadata: dict[str, str] | None = None,
        capture_method: str = "automatic",
        return_url: str | None = None,
        simulate: str | None = None,
        dialect: str = "native",
        payment_method: str | None = None,
        customer: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Payment:
        """A new payment awaiting a payment method (paid at once with ``simulate="auto"``).

        ``dialect``: the front end it belongs to (``stripe``: a ``pi_`` id, charges, that
        dialect's events; see :meth:`register_dialect`).
        """
        if dialect != "native":
            self._check_dialect(dialect)
        with self._atomic():
            now = self.clock.now()
            payment_id = self._new_id("pay" if dialect == "native" else _ID_PREFIXES[dialect])
            client_secret = f"{payment_id}_secret_{self._ids.token(24)}"
            payment = Payment(
                id=payment_id,
                amount=amount,
                currency=currency.lower(),
                client_secret=client_secret,
                payment_url=f"{self.config.base_url}/pay/{payment_id}?client_secret={client_secret}",
                created_at=now,
                updated_at=now,
                capture_method=capture_method,
                description=description,
                metadata=dict(metadata or {}),
                return_url=return_url,
                status=tx.REQUIRES_PAYMENT_METHOD,
                dialect=dialect,
                payment_method=payment_method,
                customer=customer,
                attributes=dict(attributes or {}),
            )
            self._store.save_payment(payment)
            if dialect == "native":
                self._emit(tx.CREATE.event, payment)
            else:
                self._emit_dialect(tx.CREATE, payment, None)
            if simulate == "auto":
                auto = "succeed" if self._ids.chance(self._settings.auto_success_rate) else "fail"
                return self.pay(payment.id, outcome=auto)
            return payment

    def pay(
        self,
        payment_id: str,
        *,
        outcome: str | None = None,
        card_number: str | None = None,
        decline_code: str | None = None,
    ) -> Payment:
        """Simulate the customer paying; forced outcomes win over what was asked."""
        if outcome is not None and card_number is not None:
            raise ParameterInvalid(
                "Pass either `outcome` or `card_number`, not both.", param="card_number"
            )
        if outcome is not None and outcome not in PAY_OUTCOMES:
            raise ParameterInvalid(
                f"`outcome` must be one of {', '.join(PAY_OUTCOMES)}.", param="outcome"
            )
        if decline_code is not None and decline_code not in DECLINE_MESSAGES:
            raise ParameterInvalid(
                f"`decline_code` must be one of {', '.join(DECLINE_MESSAGES)}.",
                param="decline_code",
            )
        card = card_result(card_number) if card_number is not None else None
        with self._atomic():
            payment = self._payment_to_change(payment_id)
            if outcome is None and card is None and not self._forced.has_pay_outcome(payment_id):
                raise ParameterMissing(
                    "Pass `outcome` (succeed, fail or abandon) or a test `card_number`.",
                    param="outcome",
                )
            tx.require("pay", payment.status, payment_id=payment_id)
            forced = self._forced.take_pay_outcome(payment_id)
            if forced is not None:
                self._on_rollback(forced.give_back)
                if forced.outcome != "fail":
                    decline_code = None  # a request's decline code goes with its own "fail"
                outcome, decline_code = forced.outcome, forced.decline_code or decline_code
            elif card is not None:
                outcome, decline_code = card.outcome, card.decline_code
            if outcome == "succeed":
                row = self._succeed(payment, tx.PAY_SUCCEED_MANUAL, tx.PAY_SUCCEED_AUTOMATIC)
            elif outcome == "fail":
                row = tx.enter(tx.PAY_FAIL, payment.status, payment_id=payment_id)
                _decline(payment, decline_code or "generic_decline")
            elif outcome == "requires_action":
                row = tx.enter(tx.PAY_REQUIRES_ACTION, payment.status, payment_id=payment_id)
                # A new attempt is under way: an earlier decline no longer describes it.
                payment.failure_code = payment.decline_code = payment.failure_message = None
                payment.authentication_url = (
                    f"{self.config.base_url}/authenticate/{payment.id}"
                    f"?client_secret={payment.client_secret}"
                )
                payment.decline_after_authentication = decline_code
            else:
                row = tx.enter(tx.PAY_ABANDON, payment.status, payment_id=payment_id)
            return self._move(payment, row, charge=self._attempt_charge(payment, row))

    def authenticate(self, payment_id: str, *, outcome: str = "succeed") -> Payment:
        """Complete (``succeed``) or fail 3-D Secure for a payment in ``requires_action``.

        Success continues as a successful pay under the payment's capture method, unless the
        card declines once authenticated; failure leaves the payment ``failed`` with
        ``failure_code: authentication_failed``.
        """
        if outcome not in AUTHENTICATION_OUTCOMES:
            raise ParameterInvalid(
                f"`outcome` must be one of {', '.join(AUTHENTICATION_OUTCOMES)}.", param="outcome"
            )
        with self._atomic():
            payment = self._payment_to_change(payment_id)
            tx.require("authenticate", payment.status, payment_id=payment_id)
            decline_code = payment.decline_after_authentication
            payment.authentication_url = payment.decline_after_authentication = None
            if outcome == "fail":
                row = tx.enter(tx.AUTHENTICATE_FAIL, payment.status, payment_id=payment_id)
                payment.failure_code = "authentication_failed"
                payment.decline_code = None
                payment.failure_message = AUTHENTICATION_FAILED_MESSAGE
            elif decline_code is not None:
                row = tx.enter(tx.AUTHENTICATE_DECLINED, payment.status, payment_id=payment_id)
                _decline(payment, decline_code)
            else:
                row = self._succeed(
                    payment, tx.AUTHENTICATE_SUCCEED_MANUAL, tx.AUTHENTICATE_SUCCEED_AUTOMATIC
                )
            return self._move(payment, row, charge=self._attempt_charge(payment, row))

    def _attempt_charge(self, payment: Payment, row: tx.Transition) -> Charge | None:
        """The charge of a confirmation attempt (payments of a dialect only): succeeded or
        failed; none while authentication is pending or when it failed. A failed attempt
        detaches the payment method (kept as ``attributes["last_payment_method"]``)."""
        if payment.dialect == "native":
            return None
        if row.target == tx.FAILED:
            payment.attributes["last_payment_method"] = payment.payment_method
            payment.payment_method = None
        if row in (tx.PAY_REQUIRES_ACTION, tx.PAY_ABANDON, tx.AUTHENTICATE_FAIL):
            return None
        failed = row.target == tx.FAILED
        captured = row.target == tx.SUCCEEDED
        charge = Charge(
            id=self._new_id("ch"),
            payment_id=payment.id,
            amount=payment.amount,
            currency=payment.currency,
            status="failed" if failed else "succeeded",
            created_at=self.clock.now(),
            payment_method=(
                payment.attributes.get("last_payment_method") if failed else payment.payment_method
            ),
            captured=captured,
            amount_captured=payment.amount if captured else 0,
            failure_code=payment.failure_code if failed else None,
            decline_code=payment.decline_code if failed else None,
            failure_message=payment.failure_message if failed else None,
            three_d_secure=row.operation == "authenticate",
        )
        payment.charges.append(charge)
        self._store.save_charge(charge)
        return charge

    def _change_charge(self, payment: Payment, charge_id: str | None, **changes: Any) -> Charge:
        """Replace a charge of ``payment`` with a changed copy (records never change in place)."""
        for index, charge in enumerate(payment.charges):
            if charge.id == charge_id:
                changed = replace(charge, **changes)
                payment.charges[index] = changed
                self._store.save_charge(changed)
                return changed
        raise ResourceMissing(f"No charge with id {charge_id!r}.", param="charge")

    def _captured_charge(self, payment: Payment) -> Charge | None:
        """The charge that took the money: the last succeeded one."""
        for charge in reversed(payment.charges):
            if charge.status == "succeeded":
                return charge
        return None

    def update_payment(self, payment_id: str, **changes: Any) -> Payment:
        """Change a payment not yet paid (``requires_payment_method`` or ``failed``): any of
        ``amount``, ``currency``, ``description``, ``metadata`` (replaced whole),
        ``payment_method``, ``customer``, ``return_url``, ``attributes`` (merged). No event."""
        allowed = {"amount", "currency", "description", "metadata", "payment_method"}
        allowed |= {"customer", "return_url", "attributes"}
        unknown = set(changes) - allowed
        if unknown:
            raise ParameterInvalid(f"cannot update {sorted(unknown)}", param=sorted(unknown)[0])
        with self._atomic():
            payment = self._payment_to_change(payment_id)
            if payment.status not in (tx.REQUIRES_PAYMENT_METHOD, tx.FAILED):
                tx.require("pay", payment.status, payment_id=payment_id)
            for name, value in changes.items():
                if name == "attributes":
                    payment.attributes.update(value)
                elif name == "metadata":
                    payment.metadata = dict(value)
                else:
                    setattr(payment, name, value)
            payment.updated_at = self.clock.now()
            self._store.save_payment(payment)
            return payment

    def _succeed(
        self, payment: Payment, manual_row: tx.Transition, automatic_row: tx.Transition
    ) -> tx.Transition:
        """The money of a successful payment: held (manual capture) or captured at once."""
        manual = payment.capture_method == "manual"
        row = tx.enter(
            manual_row if manual else automatic_row, payment.status, payment_id=payment.id
        )
        payment.failure_code = payment.decline_code = payment.failure_message = None
        if manual:
            payment.amount_capturable = payment.amount
        else:
            payment.amount_captured = payment.amount
        return row

    def capture(self, payment_id: str, *, amount: int | None = None) -> Payment:
        """Capture an authorized payment (the rest is released), or confirm a succeeded one."""
        with self._atomic():
            payment = self._payment_to_change(payment_id)
            tx.require("capture", payment.status, payment_id=payment_id)
            if payment.status == tx.AUTHORIZED:
                row = tx.enter(tx.CAPTURE_AUTHORIZED, payment.status, payment_id=payment_id)
                amount = payment.amount_capturable if amount is None else amount
                if amount > payment.amount_capturable:
                    raise AmountTooLarge(
                        f"`amount` {amount} is more than the {payment.amount_capturable} that "
                        "can be captured; capture at most `amount_capturable`.",
                        param="amount",
                        payment_id=payment_id,
                    )
                payment.amount_captured = amount
                payment.amount_capturable = 0
                charge = self._captured_charge(payment)
                if charge is not None:
                    charge = self._change_charge(
                        payment, charge.id, captured=True, amount_captured=amount
                    )
                return self._move(payment, row, charge=charge)
            else:
                row = tx.enter(tx.CAPTURE_SUCCEEDED, payment.status, payment_id=payment_id)
                if amount is not None and amount != payment.amount_captured:
                    raise ParameterInvalid(
                        f"This payment already captured {payment.amount_captured}; pass that "
                        "amount or no `amount` at all.",
                        param="amount",
                        payment_id=payment_id,
                    )
            return self._move(payment, row)

    def refund(
        self,
        payment_id: str,
        *,
        amount: int | None = None,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Refund:
        """Refund part or all of what is left; a forced failure leaves the payment as it was."""
        with self._atomic():
            payment = self._payment_to_change(payment_id)
            tx.require("refund", payment.status, payment_id=payment_id)
            left = payment.amount_captured - payment.amount_refunded
            amount = left if amount is None else amount
            if amount > left:
                raise AmountTooLarge(
                    f"`amount` {amount} is more than the {left} left to refund; refund at most "
                    "`amount_captured` - `amount_refunded`.",
                    param="amount",
                    payment_id=payment_id,
                )
            forced = self._forced.take_refund_outcome()
            if forced is not None:
                self._on_rollback(forced.give_back)
                row = tx.REFUND_FAILED
            else:
                row = tx.REFUND_ALL if amount == left else tx.REFUND_PART
            tx.enter(row, payment.status, payment_id=payment_id)
            refund = Refund(
                id=self._new_id("re"),
                payment_id=payment_id,
                amount=amount,
                currency=payment.currency,
                reason=reason,
                status=REFUND_FAILED if forced is not None else REFUND_SUCCEEDED,
                created_at=self.clock.now(),
                metadata=dict(metadata or {}),
            )
            if forced is None:
                payment.amount_refunded += amount
            charge = self._captured_charge(payment)
            if charge is not None:
                refund.charge_id = charge.id
                if forced is None:
                    charge = self._change_charge(
                        payment, charge.id, amount_refunded=charge.amount_refunded + amount
                    )
            payment.refunds.append(refund)
            self._store.save_refund(refund)
            self._move(payment, row, refund, charge=charge)
            return refund

    def cancel(self, payment_id: str, *, cancellation_reason: str | None = None) -> Payment:
        """Cancel a payment that has not been captured; an authorization is released."""
        with self._atomic():
            payment = self._payment_to_change(payment_id)
            row = tx.enter(tx.CANCEL, payment.status, payment_id=payment_id)
            payment.amount_capturable = 0
            payment.authentication_url = payment.decline_after_authentication = None
            payment.cancellation_reason = cancellation_reason
            payment.canceled_at = self.clock.now()
            return self._move(payment, row)

    def _check_dialect(self, dialect: str) -> None:
        if dialect not in self._renderers:
            raise ConfigurationError(f"no front end registered the dialect {dialect!r}")

    # -- customers and payment methods -------------------------------------------------------

    def create_customer(
        self,
        *,
        dialect: str,
        email: str | None = None,
        name: str | None = None,
        description: str | None = None,
        phone: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Customer:
        """A new customer of ``dialect`` (its registered renderer makes the customer's events:
        the native API has no customers)."""
        self._check_dialect(dialect)
        with self._atomic():
            now = self.clock.now()
            customer = Customer(
                id=self._new_id("cus"),
                created_at=now,
                email=email,
                name=name,
                description=description,
                phone=phone,
                metadata=dict(metadata or {}),
                dialect=dialect,
            )
            self._store.save_customer(customer)
            self._emit_customer("created", customer, None, now)
            return customer

    def update_customer(self, customer_id: str, **changes: Any) -> Customer:
        """Change a customer that is not deleted: any of ``email``, ``name``, ``description``,
        ``phone`` (None unsets) and ``metadata`` (merged: an empty value removes its key).
        An update that changes something emits the dialect's update event."""
        unknown = set(changes) - _CUSTOMER_FIELDS
        if unknown:
            raise ParameterInvalid(f"cannot update {sorted(unknown)}", param=sorted(unknown)[0])
        with self._atomic():
            before = self._live_customer(customer_id)
            customer = replace(before, metadata=dict(before.metadata))
            for name, value in changes.items():
                if name == "metadata":
                    for key, item in value.items():
                        if item == "":
                            customer.metadata.pop(key, None)
                        else:
                            customer.metadata[key] = item
                else:
                    setattr(customer, name, value)
            if customer != before:
                self._store.save_customer(customer)
                self._emit_customer("updated", customer, before, self.clock.now())
            return customer

    def delete_customer(self, customer_id: str) -> Customer:
        """Delete a customer (kept as deleted: it can be read, never listed or changed); its
        payment methods are detached."""
        with self._atomic():
            before = self._live_customer(customer_id)
            deleted = replace(before, metadata=dict(before.metadata), deleted=True)
            self._store.save_customer(deleted)
            for method in self._attached_methods(customer_id):
                self._store.save_payment_method(replace(method, customer=None))
            self._emit_customer("deleted", deleted, before, self.clock.now())
            return deleted

    def _attached_methods(self, customer_id: str) -> list[PaymentMethod]:
        """Every payment method attached to the customer (read whole before any changes)."""
        found: list[PaymentMethod] = []
        after: str | None = None
        while True:
            page, more = self._store.list_payment_methods(
                limit=_SCAN_PAGE, starting_after=after, customer=customer_id
            )
            found.extend(page)
            if not more or not page:
                return found
            after = page[-1].id

    def _live_customer(self, customer_id: str, *, param: str = "id") -> Customer:
        customer = self._store.get_customer(customer_id)
        if customer is None or customer.deleted:
            raise ResourceMissing(f"No customer with id {customer_id!r}.", param=param)
        return customer

    def create_payment_method(
        self, *, card_number: str, exp_month: int, exp_year: int
    ) -> PaymentMethod:
        """A card payment method, attached to no customer. Paying with it pays with
        ``card_number`` (a test card of section 9, or any other valid number)."""
        number = normalize_card_number(card_number)
        if not 1 <= exp_month <= 12:
            raise ParameterInvalid("`exp_month` must be 1 to 12.", param="exp_month")
        with self._atomic():
            method = PaymentMethod(
                id=self._new_id("pm"),
                card_number=number,
                exp_month=exp_month,
                exp_year=exp_year,
                created_at=self.clock.now(),
            )
            self._store.save_payment_method(method)
            return method

    def attach_payment_method(self, payment_method_id: str, customer_id: str) -> PaymentMethod:
        """Attach a payment method to a customer (again: nothing changes)."""
        with self._atomic():
            method = self._stored_payment_method(payment_method_id)
            self._live_customer(customer_id, param="customer")
            if method.customer == customer_id:
                return method
            if method.customer is not None:
                raise ParameterInvalid(
                    f"Payment method {payment_method_id!r} is attached to another customer; "
                    "detach it first.",
                    param="customer",
                )
            attached = replace(method, customer=customer_id)
            self._store.save_payment_method(attached)
            return attached

    def detach_payment_method(self, payment_method_id: str) -> PaymentMethod:
        """Detach a payment method from its customer."""
        with self._atomic():
            method = self._stored_payment_method(payment_method_id)
            if method.customer is None:
                raise ParameterInvalid(
                    f"Payment method {payment_method_id!r} is attached to no customer.",
                    param="id",
                )
            detached = replace(method, customer=None)
            self._store.save_payment_method(detached)
            return detached

    def _stored_payment_method(self, payment_method_id: str) -> PaymentMethod:
        method = self._store.get_payment_method(payment_method_id)
        if method is None:
            raise ResourceMissing(f"No payment method with id {payment_method_id!r}.", param="id")
        return method

    def _payment_to_change(self, payment_id: str) -> Payment:
        """A copy of the stored payment: the operation changes it and saves it whole."""
        return self._stored_payment(payment_id).copy()

    def _stored_payment(self, payment_id: str) -> Payment:
        payment = self._store.get_payment(payment_id)
        if payment is None:
            raise ResourceMissing(f"No payment with id {payment_id!r}.", param="id")
        return payment

    def _move(
        self,
        payment: Payment,
        row: tx.Transition,
        refund: Refund | None = None,
        *,
        charge: Charge | None = None,
    ) -> Payment:
        if row.target is not None:
            payment.status = row.target
        payment.updated_at = self.clock.now()
        if payment.dialect == "native":
            self._store.save_payment(payment)
            self._emit(row.event, payment, refund)
        else:
            before = self._store.get_payment(payment.id)
            self._store.save_payment(payment)
            self._emit_dialect(row, payment, before, refund, charge)
        return payment

    # -- events and their deliveries -----------------------------------------------------------

    def _emit(self, event_type: str, payment: Payment, refund: Refund | None = None) -> None:
        now = payment.updated_at  # the change's own time: the event and the payment agree
        event_id = self._new_id("evt")
        # The payment's JSON is made once: the request's answer shows the same record.
        refund_json = b',"refund":' + dump_json(refund.to_dict()) if refund is not None else b""
        body = b"".join(
            (
                b'{"id":"',
                event_id.encode(),
                b'","object":"event","type":"',
                event_type.encode(),
                b'","created_at":"',
                format_time(now).encode(),
                b'","data":{"object":',
                payment.to_json(),
                refund_json,
                b"}}",
            )
        )
        event = Event(event_id, event_type, payment.id, now, body)
        self._store.add_event(event)
        attempts = plan(
            event,
            webhook_url=payment.webhook_url,
            endpoints=self._endpoints_of("native"),
            new_id=lambda: self._delivery_ids.new("whd"),
            generation=self._generation,
        )
        self._deliver(attempts, now)

    def _deliver(self, attempts: list[DeliveryAttempt], now: float) -> None:
        for attempt in attempts:
            if attempt.url is None:
                # Nobody to send to: signed and kept at once, and in the log once committed.
                # The attempt is new (not stored yet), so it is completed in place.
                secrets = self._signing_secrets(attempt)
                attempt.headers = self._signature(attempt, secrets, self._settings.signature)
                attempt.signed_with = secrets[0]
                attempt.sent_at = now
                self._made.append(attempt)
            else:
                self._planned.append(attempt)
            self._store.save_delivery(attempt)

    def _emit_dialect(
        self,
        row: tx.Transition,
        payment: Payment,
        before: Payment | None,
        refund: Refund | None = None,
        charge: Charge | None = None,
    ) -> None:
        """The events of a dialect's payment, as its renderer makes them, and their
        deliveries (see :meth:`_keep_dialect_events`)."""
        now = payment.updated_at  # the change's own time: the events and the payment agree
        endpoints = self._endpoints_of(payment.dialect)
        targets = _target_counter(endpoints, payment.webhook_url)
        occurrence = Occurrence(row, payment, before, now, refund, charge, targets)
        rendered = self._renderers[payment.dialect].render(occurrence, lambda: self._new_id("evt"))
        self._keep_dialect_events(
            rendered, payment.id, payment.dialect, endpoints, payment.webhook_url, now
        )

    def _emit_customer(
        self, action: CustomerAction, customer: Customer, before: Customer | None, now: float
    ) -> None:
        """The events of a customer's change (made at ``now``), as its dialect's renderer
        makes them."""
        endpoints = self._endpoints_of(customer.dialect)
        webhook_url = customer.metadata.get("webhook_url")
        targets = _target_counter(endpoints, webhook_url)
        change = CustomerChange(action, customer, before, now, targets)
        renderer = self._renderers[customer.dialect]
        rendered = renderer.render_customer(change, lambda: self._new_id("evt"))
        self._keep_dialect_events(
            rendered, customer.id, customer.dialect, endpoints, webhook_url, now
        )

    def _keep_dialect_events(
        self,
        rendered: Iterable[RenderedEvent],
        subject_id: str,
        dialect: str,
        endpoints: list[WebhookEndpoint],
        webhook_url: str | None,
        now: float,
    ) -> None:
        """Store a dialect's events about ``subject_id`` (a payment or a customer) and plan
        their deliveries: to ``webhook_url`` and the ``endpoints`` registered through that
        dialect (never native ones), or captured when there is none."""
        for item in rendered:
            event = Event(item.id, item.type, subject_id, now, item.body, dialect)
            self._store.add_event(event)
            attempts = plan(
                event,
                webhook_url=webhook_url,
                endpoints=endpoints,
                new_id=lambda: self._delivery_ids.new("whd"),
                generation=self._generation,
            )
            self._deliver(attempts, now)

    def _endpoints_of(self, dialect: str) -> list[WebhookEndpoint]:
        """The endpoints registered through ``dialect``, oldest first."""
        return [item for item in self._store.list_endpoints() if item.dialect == dialect]

    def _signing_secrets(self, attempt: DeliveryAttempt) -> tuple[str, ...]:
        """An endpoint's own secret, or the session's (with those a rotation keeps valid):
        for a dialect's event the HMAC ``whsec_`` ones whatever the scheme, as its signature
        header is Stripe's."""
        if attempt.endpoint_id is not None:
            endpoint = self._store.get_endpoint(attempt.endpoint_id)
            if endpoint is not None:
                return (endpoint.secret,)
        if attempt.dialect != "native":
            return self._secrets.signing("paysim", self.clock.now())  # the HMAC ones
        return self._secrets.signing(self._settings.signature, self.clock.now())

    def prepare_attempt(self, attempt: DeliveryAttempt) -> DeliveryAttempt | None:
        """The attempt, signed, ready to send now; None when it must not be sent.

        Not sent: an attempt of a run that was reset since (dropped), or to an endpoint that
        was deleted or disabled since it was planned (recorded as a failed attempt, with no
        retry).
        """
        with self._lock:
            if attempt.generation != self._generation:
                return None
            if attempt.endpoint_id is not None:
                endpoint = self._store.get_endpoint(attempt.endpoint_id)
                unsent = None
                if endpoint is None:
                    unsent = DELETED_ENDPOINT
                elif endpoint.status != ENDPOINT_ENABLED:
                    unsent = DISABLED_ENDPOINT
                if unsent is not None:
                    with self._atomic():
                        made = replace(
                            attempt, sent_at=self.clock.now(), succeeded=False, error=unsent
                        )
                        self._store.save_delivery(made)
                        self._made.append(made)
                    return None
            secrets = self._signing_secrets(attempt)
            scheme = self._settings.signature
        return self._sign(attempt, secrets, scheme)  # outside the lock: Ed25519 takes a while

    def _sign(
        self, attempt: DeliveryAttempt, secrets: tuple[str, ...], scheme: Scheme
    ) -> DeliveryAttempt:
        """A copy of ``attempt`` signed now."""
        headers = self._signature(attempt, secrets, scheme)
        return replace(attempt, headers=headers, signed_with=secrets[0])

    def _signature(
        self, attempt: DeliveryAttempt, secrets: tuple[str, ...], scheme: Scheme
    ) -> dict[str, str]:
        """The headers that sign ``attempt`` now: on the wall clock, which receivers check the
        timestamp against, whatever the simulator clock says; a dialect's renderer makes its
        own (``Stripe-Signature``)."""
        if attempt.dialect != "native":
            return self._renderers[attempt.dialect].signature_headers(
                attempt.body, secrets, int(time.time())
            )
        return delivery_headers(
            attempt.body,
            event_id=attempt.event_id,
            attempt=attempt.attempt,
            scheme=scheme,
            secrets=secrets,
            timestamp=int(time.time()),
        )

    def record_attempt(self, made: DeliveryAttempt) -> DeliveryAttempt | None:
        """Keep what an attempt sent and what came back; returns the retry to send, if any.

        One transaction: a kill never leaves a failed attempt recorded without its retry.
        Records nothing when the attempt's run was reset meanwhile.
        """
        with self._atomic():
            if made.generation != self._generation:
                return None
            retry = None
            endpoint_gone = (
                made.endpoint_id is not None and self._store.get_endpoint(made.endpoint_id) is None
            )
            if made.succeeded is False and not endpoint_gone:
                self._save_generators()
                retry = next_attempt(
                    made,
                    schedule=self.config.webhook_retries,
                    now=self.clock.now(),
                    frozen=self.clock.frozen,
                    new_id=lambda: self._delivery_ids.new("whd"),
                )
                if retry is not None:
                    made = replace(made, next_attempt_at=retry.due_at)
                    self._store.save_delivery(retry)
            self._store.save_delivery(made)
            self._made.append(made)
            return retry

    def rotate_webhook_secret(self, *, expires_in: float = ROTATION_GRACE_SECONDS) -> str:
        """A new session secret; the old one keeps signing for ``expires_in`` seconds."""
        with self._atomic():
            self._save_generators()
            before = replace(self._secrets, previous=list(self._secrets.previous))
            self._on_rollback(lambda: self._restore_secrets(before))
            return self._secrets.rotate(
                self._settings.signature,
                self._ids,
                now=self.clock.now(),
                grace=expires_in,
            )

    def _restore_secrets(self, before: Secrets) -> None:
        self._secrets = before

    # -- webhook endpoints ---------------------------------------------------------------------

    def create_endpoint(
        self,
        *,
        url: str,
        enabled_events: list[str],
        dialect: str = "native",
        description: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> WebhookEndpoint:
        """Register a webhook receiver for the events of ``dialect``, with a secret of its own
        drawn from the seed: a native one's suits the current signature scheme, a dialect's is
        always an HMAC ``whsec_`` secret (its deliveries carry Stripe's header)."""
        if dialect != "native" and dialect not in self._renderers:
            raise ConfigurationError(f"no front end registered the dialect {dialect!r}")
        with self._atomic():
            self._save_generators()
            rng = self._ids
            if dialect == "native" and self._settings.signature == "ed25519":
                secret = generate_signing_key(rng)
            else:
                secret = generate_hmac_secret(rng)
            endpoint = WebhookEndpoint(
                id=self._new_id("we"),
                url=url,
                enabled_events=list(enabled_events),
                secret=secret,
                created_at=self.clock.now(),
                dialect=dialect,
                description=description,
                metadata=dict(metadata or {}),
            )
            self._store.save_endpoint(endpoint)
            return endpoint

    def update_endpoint(
        self, endpoint_id: str, *, dialect: str = "native", **changes: Any
    ) -> WebhookEndpoint:
        """Change an endpoint of ``dialect``: any of ``url``, ``enabled_events``,
        ``description``, ``metadata`` (replaced whole) and ``status`` (``enabled`` or
        ``disabled``); 404 for an endpoint of another dialect. Attempts already planned to a
        disabled endpoint are not sent."""
        unknown = set(changes) - _ENDPOINT_CHANGES
        if unknown:
            raise ParameterInvalid(f"cannot update {sorted(unknown)}", param=sorted(unknown)[0])
        if "status" in changes and changes["status"] not in ENDPOINT_STATUSES:
            raise ParameterInvalid(
                f"`status` must be one of {', '.join(ENDPOINT_STATUSES)}.", param="status"
            )
        with self._atomic():
            endpoint = self._stored_endpoint(endpoint_id, dialect)
            if "metadata" in changes:
                changes["metadata"] = dict(changes["metadata"])
            if "enabled_events" in changes:
                changes["enabled_events"] = list(changes["enabled_events"])
            changed = replace(endpoint, **changes)
            self._store.save_endpoint(changed)
            return changed

    def delete_endpoint(self, endpoint_id: str, *, dialect: str = "native") -> WebhookEndpoint:
        """Remove a webhook receiver of ``dialect`` (the one removed), or 404."""
        with self._atomic():
            endpoint = self._stored_endpoint(endpoint_id, dialect)
            self._store.delete_endpoint(endpoint_id)
            return endpoint

    def get_endpoint(self, endpoint_id: str, *, dialect: str = "native") -> WebhookEndpoint:
        """The webhook endpoint, or 404 (for one of another dialect too)."""
        with self._lock:
            return self._stored_endpoint(endpoint_id, dialect)

    def _stored_endpoint(self, endpoint_id: str, dialect: str) -> WebhookEndpoint:
        endpoint = self._store.get_endpoint(endpoint_id)
        if endpoint is None or endpoint.dialect != dialect:
            raise ResourceMissing(f"No webhook endpoint with id {endpoint_id!r}.", param="id")
        return endpoint

    # -- forced outcomes and faults ------------------------------------------------------------

    def force_outcome(
        self,
        outcome: str,
        *,
        payment_id: str | None = None,
        times: int | None = 1,
        decline_code: str | None = None,
        required: bool = True,
    ) -> None:
        """The next ``times`` pay attempts (of ``payment_id``, or of any) end in ``outcome``.

        ``required``: the test expects the rule to be used up (its ``used`` count says).
        """
        self._forced.force(
            outcome,
            payment_id=payment_id,
            times=times,
            decline_code=decline_code,
            required=required,
        )

    def force_refund_outcome(
        self, outcome: str, *, times: int | None = 1, required: bool = True
    ) -> None:
        """The next ``times`` refunds end in ``outcome`` (``"fail"``)."""
        self._forced.force_refund(outcome, times=times, required=required)

    def clear_outcomes(self) -> None:
        """Forget every forced outcome."""
        self._forced.clear()

    def add_fault(self, fault: Fault) -> None:
        """Answer the next matching requests with ``fault`` (until a reset)."""
        self._faults.add(fault)

    def clear_faults(self) -> None:
        """Forget every fault."""
        self._faults.clear()

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The fault for a request arriving now (counted as used), or None."""
        return self._faults.take(method, path) if self._faults else None

    # -- queries -------------------------------------------------------------------------------

    @property
    def seed(self) -> int:
        """The seed of the current run's ids."""
        return self._seed

    @property
    def settings(self) -> RunSettings:
        """The current run's signature scheme, delivery mode and auto success rate."""
        return self._settings

    @property
    def api_key(self) -> str:
        """The API key (``sk_test_...``)."""
        return self._secrets.api_key

    @property
    def publishable_key(self) -> str:
        """The publishable key (``pk_test_...``): with a payment intent's client secret, it
        may retrieve and confirm that intent in the Stripe dialect, and nothing else."""
        return self._secrets.publishable_key

    @property
    def webhook_secret(self) -> str:
        """The secret signing webhooks now: ``whsec_...``, or ``whsk_...`` under ed25519."""
        with self._lock:
            return self._secrets.current(self._settings.signature)

    @property
    def hmac_webhook_secret(self) -> str:
        """The session's HMAC ``whsec_`` secret: it signs a dialect's deliveries that have no
        endpoint of their own, whatever the scheme (``webhook_secret`` too, except under
        ed25519)."""
        with self._lock:
            return self._secrets.current("paysim")

    @property
    def webhook_public_key(self) -> str:
        """The ``whpk_`` key that verifies the session's ed25519 signatures."""
        with self._lock:
            return self._secrets.public_key

    def outcomes(self) -> dict[str, Any]:
        """The forced outcomes in force: ``outcomes`` and ``refund_outcomes``, each rule with
        the ``times`` left, how often it was ``used`` and whether it is ``required``."""
        return self._forced.snapshot()

    def faults(self) -> list[dict[str, Any]]:
        """The faults in force, each with the ``times`` left, ``used`` and ``required``."""
        return self._faults.snapshot()

    def get_payment(self, payment_id: str) -> Payment:
        """The payment, or 404 ``resource_missing``."""
        with self._lock:
            return self._stored_payment(payment_id)

    def payments(
        self,
        *,
        limit: int = 10,
        starting_after: str | None = None,
        status: str | None = None,
        dialect: str | None = None,
    ) -> tuple[list[Payment], bool]:
        """A page of payments (of ``dialect``, or of every front end), newest first, and
        whether more follow."""
        with self._lock:
            return self._store.list_payments(
                limit=limit, starting_after=starting_after, status=status, dialect=dialect
            )

    def count_payments(self) -> int:
        """How many payments exist."""
        with self._lock:
            return self._store.count_payments()

    def get_charge(self, charge_id: str) -> Charge:
        """The charge, or 404."""
        with self._lock:
            charge = self._store.get_charge(charge_id)
        if charge is None:
            raise ResourceMissing(f"No charge with id {charge_id!r}.", param="id")
        return charge

    def get_refund(self, refund_id: str) -> Refund:
        """The refund, or 404."""
        with self._lock:
            refund = self._store.get_refund(refund_id)
        if refund is None:
            raise ResourceMissing(f"No refund with id {refund_id!r}.", param="id")
        return refund

    def refunds(
        self,
        *,
        limit: int = 10,
        starting_after: str | None = None,
        payment_id: str | None = None,
        charge_id: str | None = None,
        dialect: str | None = None,
    ) -> tuple[list[Refund], bool]:
        """A page of refunds (of the payments of ``dialect``, or of every front end), newest
        first, and whether more follow; failed refunds too."""
        with self._lock:
            return self._store.list_refunds(
                limit=limit,
                starting_after=starting_after,
                payment_id=payment_id,
                charge_id=charge_id,
                dialect=dialect,
            )

    def get_customer(self, customer_id: str) -> Customer:
        """The customer (a deleted one too: ``deleted`` is set), or 404."""
        with self._lock:
            customer = self._store.get_customer(customer_id)
        if customer is None:
            raise ResourceMissing(f"No customer with id {customer_id!r}.", param="id")
        return customer

    def customers(
        self,
        *,
        limit: int = 10,
        starting_after: str | None = None,
        email: str | None = None,
        dialect: str | None = None,
    ) -> tuple[list[Customer], bool]:
        """A page of the customers not deleted (with this ``email``, if given), newest first,
        and whether more follow."""
        with self._lock:
            return self._store.list_customers(
                limit=limit, starting_after=starting_after, email=email, dialect=dialect
            )

    def get_payment_method(self, payment_method_id: str) -> PaymentMethod:
        """The payment method, or 404."""
        with self._lock:
            return self._stored_payment_method(payment_method_id)

    def payment_methods(
        self,
        *,
        customer: str | None = None,
        limit: int = 10,
        starting_after: str | None = None,
    ) -> tuple[list[PaymentMethod], bool]:
        """A page of payment methods (attached to ``customer``, if given), newest first, and
        whether more follow."""
        with self._lock:
            return self._store.list_payment_methods(
                limit=limit, starting_after=starting_after, customer=customer
            )

    def get_event(self, event_id: str) -> Event:
        """The event, or 404."""
        with self._lock:
            event = self._store.get_event(event_id)
        if event is None:
            raise ResourceMissing(f"No event with id {event_id!r}.", param="id")
        return event

    def events(
        self,
        *,
        limit: int = 10,
        starting_after: str | None = None,
        type: str | None = None,
        payment_id: str | None = None,
        dialect: str = "native",
    ) -> tuple[list[Event], bool]:
        """A page of the events of ``dialect``, newest first, and whether more follow."""
        with self._lock:
            return self._store.list_events(
                limit=limit,
                starting_after=starting_after,
                type=type,
                payment_id=payment_id,
                dialect=dialect,
            )

    def events_of(self, payment_id: str) -> list[Event]:
        """Every event of a payment, oldest first."""
        with self._lock:
            return self._store.events_of(payment_id)

    def endpoints(self, *, dialect: str | None = "native") -> list[WebhookEndpoint]:
        """The webhook endpoints of ``dialect`` (None: of every front end), oldest first."""
        with self._lock:
            if dialect is None:
                return self._store.list_endpoints()
            return self._endpoints_of(dialect)

    def deliveries(
        self,
        *,
        event_id: str | None = None,
        type: str | None = None,
        payment_id: str | None = None,
        limit: int | None = None,
    ) -> list[DeliveryAttempt]:
        """Attempts made (not the planned ones), newest first."""
        with self._lock:
            return self._store.list_deliveries(
                event_id=event_id, type=type, payment_id=payment_id, limit=limit
            )

    def pending_deliveries(self, *, payment_id: str | None = None) -> list[DeliveryAttempt]:
        """Attempts planned and not made yet, oldest first."""
        with self._lock:
            pending = self._store.pending_deliveries()
        if payment_id is None:
            return pending
        return [attempt for attempt in pending if attempt.payment_id == payment_id]

    def attempts(self) -> list[DeliveryAttempt]:
        """This run's delivery attempts, in the order they were made (the webhook log)."""
        with self._lock:
            return list(self._log)

    def wait_for_attempts(self, known: int, timeout: float) -> None:
        """Block until the log has more than ``known`` attempts, or ``timeout`` passes."""
        with self._log_changed:
            if len(self._log) <= known:
                self._log_changed.wait(timeout)

    def calls(self) -> list[Call]:
        """This run's API requests, oldest first (the latest ``MAX_CALLS``)."""
        with self._calls_lock:
            return list(self._calls)

    def unexpected_errors(self) -> list[str]:
        """Tracebacks of the bugs met in this run."""
        with self._lock:
            return list(self._unexpected)

    def busy(self) -> bool:
        """Whether a delivery is being sent or is due now."""
        return self._sink.busy()


def _decline(payment: Payment, decline_code: str) -> None:
    payment.failure_code = "card_declined"
    payment.decline_code = decline_code
    payment.failure_message = DECLINE_MESSAGES[decline_code]


def _target_counter(
    endpoints: list[WebhookEndpoint], webhook_url: str | None
) -> Callable[[str], int]:
    """How many receivers an event of a type goes to: the endpoints that want it, and
    ``webhook_url`` (a renderer's ``pending_webhooks``)."""

    def targets(event_type: str) -> int:
        wanting = sum(1 for endpoint in endpoints if endpoint.wants(event_type))
        return wanting + (1 if webhook_url else 0)

    return targets

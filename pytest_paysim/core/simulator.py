"""The payment simulator: every operation on payments, refunds, events and endpoints.

It knows nothing of HTTP or pytest. Each operation runs under one lock and inside one store
transaction, checks the transition table before it changes anything, records its events and
plans their webhook deliveries (the outbox); after the transaction commits, the planned
deliveries go to whoever listens (the webhook dispatcher)::

    sim = Simulator(SimulatorConfig(seed=7))
    payment = sim.create_payment(amount=1999, currency="usd")
    sim.pay(payment.id, outcome="succeed")
    sim.refund(payment.id, amount=500)
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import TracebackType

from pytest_paysim.core import transitions as tx
from pytest_paysim.core.cards import DECLINE_MESSAGES, card_result
from pytest_paysim.core.clock import Clock, format_time
from pytest_paysim.core.compact import is_packed, pack
from pytest_paysim.core.idempotency import IdempotencyKeys
from pytest_paysim.core.ids import IdGenerator, derive_seed
from pytest_paysim.core.models import (
    DeliveryAttempt,
    Event,
    Payment,
    Refund,
    WebhookEndpoint,
    dump_json,
)
from pytest_paysim.core.outcomes import PAY_OUTCOMES, ForcedOutcomes
from pytest_paysim.core.store import MemoryStore, Store
from pytest_paysim.errors import (
    AmountTooLarge,
    ConfigurationError,
    ParameterInvalid,
    ParameterMissing,
    ResourceMissing,
)
from pytest_paysim.webhooks.signing import (
    generate_hmac_secret,
    generate_signing_key,
    public_key_for,
)

__all__ = ["DELIVERY_MODES", "SIGNATURE_SCHEMES", "Secrets", "Simulator", "SimulatorConfig"]

SIGNATURE_SCHEMES: tuple[str, ...] = ("paysim", "standard", "ed25519")
DELIVERY_MODES: tuple[str, ...] = ("async", "sync")
DEFAULT_RETRIES: tuple[float, ...] = (0.1, 0.2, 0.4, 0.8)
ROTATION_GRACE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class SimulatorConfig:
    """Settings of one simulator; ``per_test`` ones may be overridden by ``reset``."""

    seed: int
    api_key: str | None = None
    base_url: str = "http://127.0.0.1"
    signature: str = "paysim"
    delivery: str = "async"
    auto_success_rate: float = 0.5
    webhook_retries: tuple[float, ...] = DEFAULT_RETRIES
    webhook_timeout: float = 2.0

    def __post_init__(self) -> None:
        if self.signature not in SIGNATURE_SCHEMES:
            raise ConfigurationError(
                f"signature must be one of {', '.join(SIGNATURE_SCHEMES)}, not {self.signature!r}"
            )
        if self.delivery not in DELIVERY_MODES:
            raise ConfigurationError(f"delivery must be 'async' or 'sync', not {self.delivery!r}")
        if not 0.0 <= self.auto_success_rate <= 1.0:
            raise ConfigurationError("auto_success_rate must be between 0 and 1")
        if any(delay < 0 for delay in self.webhook_retries):
            raise ConfigurationError("webhook retry delays must be >= 0 seconds")
        if self.webhook_timeout <= 0:
            raise ConfigurationError("webhook_timeout must be > 0 seconds")


@dataclass
class Secrets:
    """The session's API key and webhook signing secrets (HMAC and Ed25519)."""

    api_key: str
    hmac_secret: str
    signing_key: str
    previous: list[tuple[str, float]] = field(default_factory=list)
    """Secrets replaced by a rotation, with the simulator time at which they expire."""

    @property
    def public_key(self) -> str:
        return public_key_for(self.signing_key)

    def current(self, scheme: str) -> str:
        """The secret that signs under ``scheme`` (``whsk_`` under ed25519)."""
        return self.signing_key if scheme == "ed25519" else self.hmac_secret


@dataclass
class RunSettings:
    """What a run (a test, or the session) may set: scheme, delivery mode, auto success rate."""

    signature: str
    delivery: str
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
        self.store: Store = store if store is not None else MemoryStore()
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self.forced = ForcedOutcomes()
        self.idempotency = IdempotencyKeys(self.clock)
        self.generation = 0
        self.secrets = self._load_secrets()
        self._session_secrets = (self.secrets.hmac_secret, self.secrets.signing_key)
        self.settings = RunSettings.of(config)
        self._run_seed = self._first_run_seed()
        self.ids = IdGenerator(self._run_seed)
        self._delivery_ids = IdGenerator(derive_seed(self._run_seed, "deliveries"))
        self._depth = 0
        self._planned: list[DeliveryAttempt] = []
        self._snapshots = threading.local()
        self._unpacked: list[tuple[Event, list[DeliveryAttempt]]] = []
        self._captured: list[DeliveryAttempt] = []
        self._secret_tuples: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.delivery_listeners: list[Callable[[list[DeliveryAttempt]], None]] = []
        """Called with each commit's planned attempts, under the lock: keep them quick."""
        self.after_commit_listeners: list[Callable[[], None]] = []
        """Called after a commit that planned attempts, outside the lock (sync sending)."""
        self.reset_listeners: list[Callable[[int], None]] = []
        self.unexpected_errors: list[str] = []
        self.attempts: list[DeliveryAttempt] = []
        """This run's delivery attempts, in the order they were made (the webhook log)."""
        self.attempts_changed = threading.Condition(self.lock)
        self.deliveries_busy: Callable[[], bool] = lambda: False
        """Whether a delivery is in flight or due (the dispatcher sets this)."""

    # -- lifecycle ------------------------------------------------------------------------

    def _load_secrets(self) -> Secrets:
        """Secrets from the seed, or from the store when it already has them (a restart)."""
        rng = IdGenerator(derive_seed(self.config.seed, "secrets")).random
        made = Secrets(
            api_key=self.config.api_key
            or "sk_test_" + IdGenerator(derive_seed(self.config.seed, "api_key")).token(24),
            hmac_secret=generate_hmac_secret(rng),
            signing_key=generate_signing_key(rng),
        )
        with self.store.transaction():
            for name in ("api_key", "hmac_secret", "signing_key"):
                stored = self.store.get_setting(name)
                if stored is not None and not (name == "api_key" and self.config.api_key):
                    setattr(made, name, stored)
                else:
                    self.store.set_setting(name, getattr(made, name))
        return made

    def _first_run_seed(self) -> int:
        """The seed of the ids made before the first reset.

        A persistent store outlives the process; restarting the generators from the same seed
        would make ids that are already stored, so every later start on the same store draws
        from its own stream.
        """
        with self.store.transaction():
            starts = int(self.store.get_setting("starts") or 0)
            self.store.set_setting("starts", str(starts + 1))
        if starts == 0:
            return self.config.seed
        return derive_seed(self.config.seed, f"start:{starts}")

    def reset(
        self,
        *,
        seed: int | None = None,
        signature: str | None = None,
        delivery: str | None = None,
        auto_success_rate: float | None = None,
        frozen_at: float | None = None,
    ) -> None:
        """Empty everything and restart the seeded generators; apply per-test settings."""
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
        with self.lock:
            with self.store.transaction():
                self.store.clear()
            self.forced.clear()
            self.idempotency.clear()
            self.clock.reset()
            if frozen_at is not None:
                self.clock.freeze(frozen_at)
            self.secrets.previous.clear()
            self.secrets.hmac_secret, self.secrets.signing_key = self._session_secrets
            self.settings = RunSettings.of(checked)
            run_seed = self.config.seed if seed is None else seed
            self.ids = IdGenerator(run_seed)
            self._delivery_ids = IdGenerator(derive_seed(run_seed, "deliveries"))
            self.generation += 1
            self.unexpected_errors.clear()
            self._planned.clear()
            self._captured.clear()
            self.attempts = []
            self.attempts_changed.notify_all()
            generation = self.generation
        for listener in list(self.reset_listeners):
            listener(generation)

    def record_unexpected_error(self, error: BaseException) -> None:
        """Keep the traceback of a bug so the running test can fail with it."""
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        with self.lock:
            self.unexpected_errors.append(text)

    def atomic(self) -> _Atomic:
        """One lock and one store transaction; planned deliveries go out after commit.

        Re-entrant: nested calls join the outer transaction.
        """
        return _Atomic(self)

    # -- payments -------------------------------------------------------------------------

    def get_payment(self, payment_id: str) -> Payment:
        """The payment, or 404 ``resource_missing``."""
        payment = self.store.get_payment(payment_id)
        if payment is None:
            raise ResourceMissing(f"No payment with id {payment_id!r}.", param="id")
        return payment

    def list_payments(
        self, *, limit: int = 10, starting_after: str | None = None, status: str | None = None
    ) -> tuple[list[Payment], bool]:
        """A page of payments, newest first."""
        with self.lock:
            return self.store.list_payments(
                limit=limit, starting_after=starting_after, status=status
            )

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
    ) -> Payment:
        """A new payment awaiting a payment method (paid at once with ``simulate="auto"``)."""
        with self.atomic():
            now = self.clock.now()
            payment_id = self.ids.new("pay")
            client_secret = f"{payment_id}_secret_{self.ids.token(24)}"
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
            )
            row = tx.TRANSITIONS[0]
            payment.status = row.target or tx.REQUIRES_PAYMENT_METHOD
            self.store.save_payment(payment)
            self._emit(row.event, payment)
            if simulate == "auto":
                auto = "succeed" if self.ids.chance(self.settings.auto_success_rate) else "fail"
                self.pay(payment.id, outcome=auto)
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
        with self.atomic():
            payment = self.get_payment(payment_id)
            if outcome is None and card is None and not self.forced.has_pay_outcome(payment_id):
                raise ParameterMissing(
                    "Pass `outcome` (succeed, fail or abandon) or a test `card_number`.",
                    param="outcome",
                )
            tx.require("pay", payment.status, payment_id=payment_id)
            forced = self.forced.take_pay_outcome(payment_id)
            if forced is not None:
                outcome, forced_code = forced
                decline_code = forced_code or decline_code
            elif card is not None:
                outcome, decline_code = card.outcome, card.decline_code
            assert outcome is not None
            self._apply_pay(payment, outcome, decline_code)
            return payment

    def _apply_pay(self, payment: Payment, outcome: str, decline_code: str | None) -> None:
        if outcome == "succeed":
            manual = payment.capture_method == "manual"
            case = "succeed, manual capture" if manual else "succeed, automatic capture"
            row = tx.transition("pay", case, payment.status, payment_id=payment.id)
            payment.failure_code = payment.decline_code = payment.failure_message = None
            if manual:
                payment.amount_capturable = payment.amount
            else:
                payment.amount_captured = payment.amount
        elif outcome == "fail":
            row = tx.transition("pay", "fail", payment.status, payment_id=payment.id)
            code = decline_code or "generic_decline"
            payment.failure_code = "card_declined"
            payment.decline_code = code
            payment.failure_message = DECLINE_MESSAGES[code]
        else:
            row = tx.transition("pay", "abandon", payment.status, payment_id=payment.id)
        self._move(payment, row)

    def capture(self, payment_id: str, *, amount: int | None = None) -> Payment:
        """Capture an authorized payment (the rest is released), or confirm a succeeded one."""
        with self.atomic():
            payment = self.get_payment(payment_id)
            tx.require("capture", payment.status, payment_id=payment_id)
            if payment.status == tx.AUTHORIZED:
                row = tx.transition(
                    "capture", "full or partial", payment.status, payment_id=payment_id
                )
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
            else:
                row = tx.transition(
                    "capture", "the captured amount", payment.status, payment_id=payment_id
                )
                if amount is not None and amount != payment.amount_captured:
                    raise ParameterInvalid(
                        f"This payment already captured {payment.amount_captured}; pass that "
                        "amount or no `amount` at all.",
                        param="amount",
                        payment_id=payment_id,
                    )
            self._move(payment, row)
            return payment

    def refund(
        self, payment_id: str, *, amount: int | None = None, reason: str | None = None
    ) -> Refund:
        """Refund part or all of what is left; a forced failure leaves the payment as it was."""
        with self.atomic():
            payment = self.get_payment(payment_id)
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
            failed = self.forced.take_refund_outcome() == "fail"
            if failed:
                case = "forced to fail"
            else:
                case = "all that is left" if amount == left else "part of what is left"
            row = tx.transition("refund", case, payment.status, payment_id=payment_id)
            refund = Refund(
                id=self.ids.new("re"),
                payment_id=payment_id,
                amount=amount,
                currency=payment.currency,
                reason=reason,
                status="failed" if failed else "succeeded",
                created_at=self.clock.now(),
            )
            if not failed:
                payment.amount_refunded += amount
            payment.refunds.append(refund)
            self.store.save_refund(refund)
            self._move(payment, row, refund)
            return refund

    def cancel(self, payment_id: str, *, cancellation_reason: str | None = None) -> Payment:
        """Cancel a payment that has not been captured; an authorization is released."""
        with self.atomic():
            payment = self.get_payment(payment_id)
            row = tx.transition("cancel", "", payment.status, payment_id=payment_id)
            payment.amount_capturable = 0
            payment.cancellation_reason = cancellation_reason
            self._move(payment, row)
            return payment

    def get_refund(self, refund_id: str) -> Refund:
        """The refund, or 404."""
        refund = self.store.get_refund(refund_id)
        if refund is None:
            raise ResourceMissing(f"No refund with id {refund_id!r}.", param="id")
        return refund

    def _move(self, payment: Payment, row: tx.Transition, refund: Refund | None = None) -> None:
        if row.target is not None:
            payment.status = row.target
        payment.revision += 1
        payment.updated_at = self.clock.now()
        self.store.save_payment(payment)
        self._emit(row.event, payment, refund)

    # -- events and their deliveries ---------------------------------------------------------

    def _emit(self, event_type: str, payment: Payment, refund: Refund | None = None) -> Event:
        now = self.clock.now()
        event_id = self.ids.new("evt")
        payment_json = dump_json(payment.to_dict())
        self._snapshots.last = (payment, payment.revision, payment_json)
        # Assembled from the payment's JSON (ids, type and time need no escaping), so the
        # payment is serialised once for the event and, through payment_json, the answer.
        body = b"".join(
            (
                b'{"id":"',
                event_id.encode(),
                b'","object":"event","type":"',
                event_type.encode(),
                b'","created_at":"',
                format_time(now).encode(),
                b'","data":{"object":',
                payment_json,
                b',"refund":' + dump_json(refund.to_dict()) if refund is not None else b"",
                b"}}",
            )
        )
        # Kept plain for now: it is packed after commit, outside the lock (see _Atomic).
        event = Event(event_id, event_type, payment.id, now, body)
        self.store.add_event(event)
        attempts = self._plan_deliveries(event, payment)
        self._unpacked.append((event, attempts))
        return event

    def payment_json(self, payment: Payment) -> bytes:
        """The payment as JSON bytes: this thread's last event snapshot when still current."""
        last = getattr(self._snapshots, "last", None)
        if last is not None and last[0] is payment and last[1] == payment.revision:
            json_bytes: bytes = last[2]
            return json_bytes
        with self.lock:  # never a payment half-way through an operation
            return dump_json(payment.to_dict())

    def _plan_deliveries(self, event: Event, payment: Payment) -> list[DeliveryAttempt]:
        targets: list[tuple[str | None, str | None]] = []
        if payment.webhook_url:
            targets.append((payment.webhook_url, None))
        for endpoint in self.store.list_endpoints():
            if endpoint.wants(event.type):
                targets.append((endpoint.url, endpoint.id))
        if not targets:
            targets.append((None, None))
        attempts = []
        for url, endpoint_id in targets:
            attempt = DeliveryAttempt(
                id=self._delivery_ids.new("whd"),
                event_id=event.id,
                type=event.type,
                payment_id=event.payment_id,
                url=url,
                endpoint_id=endpoint_id,
                attempt=1,
                due_at=event.created_at,
                generation=self.generation,
                packed=event.packed,
            )
            if url is None:
                # Nobody to send to: signed and stored at once, in this transaction, and
                # shown in the log once it commits.
                self.sign_attempt(attempt)
                attempt.sent_at = event.created_at
                self.store.save_delivery(attempt)
                self._captured.append(attempt)
            else:
                self.store.save_delivery(attempt)
                self._planned.append(attempt)
            attempts.append(attempt)
        return attempts

    def _pack_bodies(self, fresh: list[tuple[Event, list[DeliveryAttempt]]]) -> None:
        """Pack the bodies of a commit's events, outside the lock (the CPU-heavy part).

        Readers meanwhile see the plain bytes, which ``unpack`` passes through; swapping a
        reference is atomic, so nobody sees a half-made value.
        """
        for event, attempts in fresh:
            if is_packed(event.packed):
                continue
            packed = pack(event.packed)
            event.packed = packed
            for attempt in attempts:
                attempt.packed = packed

    def plan_retry(self, failed: DeliveryAttempt) -> DeliveryAttempt | None:
        """After a failed attempt, the next one on the retry schedule (None after the last)."""
        schedule = self.config.webhook_retries
        if failed.attempt > len(schedule) or failed.url is None:
            return None
        with self.atomic():
            if failed.generation != self.generation:
                return None
            if (
                failed.endpoint_id is not None
                and self.store.get_endpoint(failed.endpoint_id) is None
            ):
                return None  # the endpoint was deleted: nobody to retry to
            # Under a frozen clock the schedule runs from each attempt's due time, so one
            # advance past the end releases every retry; a running clock counts from now.
            base = failed.due_at if self.clock.frozen else self.clock.now()
            due = base + schedule[failed.attempt - 1]
            failed.next_attempt_at = due
            self.store.save_delivery(failed)
            retry = DeliveryAttempt(
                id=self._delivery_ids.new("whd"),
                event_id=failed.event_id,
                type=failed.type,
                payment_id=failed.payment_id,
                url=failed.url,
                endpoint_id=failed.endpoint_id,
                attempt=failed.attempt + 1,
                due_at=due,
                generation=failed.generation,
                packed=failed.packed,
            )
            self.store.save_delivery(retry)
            self._planned.append(retry)
            return retry

    def record_attempt(self, attempt: DeliveryAttempt) -> bool:
        """Store what an attempt sent and what came back, and plan the retry of a failure.

        One transaction: a kill can never leave a failed attempt recorded without its retry.
        Returns False (and records nothing) if the attempt's run was reset meanwhile.
        """
        with self.atomic():
            if attempt.generation != self.generation:
                return False
            self.store.save_delivery(attempt)
            self.attempts.append(attempt)
            self.attempts_changed.notify_all()
            if attempt.succeeded is False:
                self.plan_retry(attempt)
            return True

    def secrets_for(self, attempt: DeliveryAttempt) -> list[str]:
        """The secrets that sign ``attempt``: its endpoint's, or the session's (with rotation)."""
        if attempt.endpoint_id is not None:
            endpoint = self.store.get_endpoint(attempt.endpoint_id)
            if endpoint is not None:
                return [endpoint.secret]
        scheme = self.settings.signature
        now = self.clock.now()
        current = self.secrets.current(scheme)
        previous = [secret for secret, expires in self.secrets.previous if expires > now]
        return [current, *[s for s in previous if _same_kind(s, current)]]

    def sign_attempt(self, attempt: DeliveryAttempt) -> None:
        """Sign ``attempt`` now (wall clock: receivers check it against theirs).

        Its headers follow from the recorded scheme, secrets and time.
        """
        with self.lock:
            secrets = tuple(self.secrets_for(attempt))
            # Attempts signed alike share one tuple: thousands of attempts, one copy.
            secrets = self._secret_tuples.setdefault(secrets, secrets)
            attempt.signed_with = secrets[0]
            attempt.signature = (self.settings.signature, secrets, int(time.time()))

    def rotate_webhook_secret(self, *, expires_in: float = ROTATION_GRACE_SECONDS) -> str:
        """A new session secret; the old one keeps signing for ``expires_in`` seconds."""
        with self.lock:
            scheme = self.settings.signature
            old = self.secrets.current(scheme)
            self.secrets.previous.append((old, self.clock.now() + expires_in))
            rng = self.ids.random
            if scheme == "ed25519":
                self.secrets.signing_key = generate_signing_key(rng)
            else:
                self.secrets.hmac_secret = generate_hmac_secret(rng)
            return self.secrets.current(scheme)

    # -- endpoints, events, deliveries ---------------------------------------------------------

    def create_endpoint(self, *, url: str, enabled_events: list[str]) -> WebhookEndpoint:
        """Register a webhook receiver; its secret suits the current signature scheme."""
        with self.atomic():
            rng = self.ids.random
            if self.settings.signature == "ed25519":
                secret = generate_signing_key(rng)
            else:
                secret = generate_hmac_secret(rng)
            endpoint = WebhookEndpoint(
                id=self.ids.new("we"),
                url=url,
                enabled_events=list(enabled_events),
                secret=secret,
                created_at=self.clock.now(),
            )
            self.store.save_endpoint(endpoint)
            return endpoint

    def delete_endpoint(self, endpoint_id: str) -> None:
        """Remove a webhook receiver, or 404."""
        with self.atomic():
            if self.store.get_endpoint(endpoint_id) is None:
                raise ResourceMissing(f"No webhook endpoint with id {endpoint_id!r}.", param="id")
            self.store.delete_endpoint(endpoint_id)

    def get_event(self, event_id: str) -> Event:
        """The event, or 404."""
        event = self.store.get_event(event_id)
        if event is None:
            raise ResourceMissing(f"No event with id {event_id!r}.", param="id")
        return event


def _same_kind(secret: str, other: str) -> bool:
    return secret.split("_", 1)[0] == other.split("_", 1)[0]


class _Atomic:
    """The context manager of :meth:`Simulator.atomic` (a class: it is on every hot path)."""

    __slots__ = ("_sim", "_transaction")

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._transaction: contextlib.AbstractContextManager[None] | None = None

    def __enter__(self) -> None:
        sim = self._sim
        sim.lock.acquire()
        sim._depth += 1
        if sim._depth == 1:
            try:
                transaction = sim.store.transaction()
                transaction.__enter__()
            except BaseException:
                sim._depth -= 1
                sim.lock.release()
                raise
            self._transaction = transaction

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        sim = self._sim
        planned: list[DeliveryAttempt] = []
        fresh: list[tuple[Event, list[DeliveryAttempt]]] = []
        try:
            if self._transaction is not None:
                fresh, sim._unpacked = sim._unpacked, []
                try:
                    self._transaction.__exit__(exc_type, exc, tb)
                except BaseException:
                    sim._planned.clear()
                    sim._captured.clear()
                    raise
                if exc_type is not None:
                    sim._planned.clear()
                    sim._captured.clear()
                else:
                    if sim._captured:
                        sim.attempts.extend(sim._captured)
                        sim._captured = []
                        sim.attempts_changed.notify_all()
                    planned, sim._planned = sim._planned, []
                    # Handed over while the lock is still held, so attempts reach the
                    # dispatcher in the order their events happened.
                    if planned:
                        for listener in list(sim.delivery_listeners):
                            listener(planned)
        finally:
            sim._depth -= 1
            sim.lock.release()
        if fresh:
            sim._pack_bodies(fresh)
        if planned:
            for after in list(sim.after_commit_listeners):
                after()

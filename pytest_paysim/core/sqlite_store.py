"""The persistent store: the same records as ``MemoryStore``, in one SQLite file (WAL).

``paysim serve --db FILE`` and ``PaysimServer(db=FILE)`` use it. Each simulator operation runs
inside one ``transaction()``, so a payment, its refund, its event, the idempotency record of
the request and the planned webhook deliveries are written together or not at all; after a
kill and a restart on the same file everything a client got an answer for is there, and
``pending_deliveries()`` hands back the outbox::

    store = SqliteStore(Path("paysim.sqlite"))
    with store.transaction():
        store.save_payment(payment)
    store.close()

A transaction costs one ``BEGIN IMMEDIATE`` and one ``COMMIT`` around its writes, and nothing
when it only reads: ``BEGIN IMMEDIATE`` is sent with its first write (before it, the store's
lock, held for the whole transaction, already keeps every other thread out, and one file is
for one server). Each write is one statement, prepared once: every statement's text is a
constant, so ``sqlite3``'s statement cache (``_CACHED_STATEMENTS``, twice the texts the store
has) keeps them all. A create is 7 statements: the idempotency lookup, then ``BEGIN IMMEDIATE``,
one ``INSERT`` each for the payment, its event, its delivery attempt and the stored answer,
and ``COMMIT``. ``tests/persistence/test_sqlite_statements.py`` pins each operation's list.

Records are kept as columns, one per field (a dict or list field as JSON), so saving one binds
values instead of serialising it and loading one builds it from the row. Every table has an
``INTEGER PRIMARY KEY`` sequence (no ``AUTOINCREMENT``, which costs a write to
``sqlite_sequence`` per insert: the number of a deleted newest row may come again, and no page
holds a deleted row), so a page is an index range: newest first,
``starting_after`` resolved to its sequence once, ``WHERE seq < ? ORDER BY seq DESC LIMIT
?``; lookups and list filters each have an index. A request costs the same with a thousand or
a million stored payments. A delivery attempt whose body is its event's (all of them, as the
simulator works) keeps no copy of it: the store remembers the bodies of the events it added or
read lately and compares with those (the same object, as a rule), and asks the file only about
an event it does not remember.

Records come back as fresh objects (the simulator changes the payment it got, then saves it),
except that inside one transaction ``get_payment`` returns the object saved or read earlier in
that transaction, as ``MemoryStore`` does: an operation that reads a payment twice sees its own
changes. The webhook endpoints are read from the file once and kept until one changes.

Durability: ``synchronous=NORMAL`` by default. In WAL mode a commit is written to the WAL file
before ``COMMIT`` returns, and only the ``fsync`` is skipped; a killed process (SIGKILL, a crash,
an OOM kill) loses nothing that was committed, because the data is already in the operating
system's page cache. Only an operating-system crash or power loss can drop the last commits,
never corrupt the file. Pass ``synchronous="FULL"`` to survive those too, at the cost of an
``fsync`` per operation. Checkpoints (copying the WAL into the database file, with an
``fsync`` of each) are run by a thread of the store, with a connection of its own, every
``_CHECKPOINT_EVERY`` commits, so a request does not wait for one; only when writes never pause
and the WAL passes ``_WAL_PAGES_LIMIT`` pages does the thread hold requests back while it copies
the last commits (see ``_Checkpointer``). A checkpoint changes nothing a reader sees, and one
cut short by a kill is redone on the next start.

One connection serves every thread (the checkpoint thread has its own, and only checkpoints
with it); a lock of the store's own serialises its use (the
simulator's lock already does for writes, but some reads run without it) and is held for a
whole transaction, so no reader sees a transaction half done. One file is for one server at a
time.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pytest_paysim.core.models import (
    Charge,
    Customer,
    DeliveryAttempt,
    Event,
    IdempotencyRecord,
    Payment,
    PaymentMethod,
    Refund,
    WebhookEndpoint,
)
from pytest_paysim.errors import ConfigurationError, unknown_starting_after

__all__ = ["SCHEMA_VERSION", "SqliteStore"]

SCHEMA_VERSION = 7
"""Stored in ``PRAGMA user_version``; a file of another version is refused, not migrated.

5: records as columns instead of JSON, no ``AUTOINCREMENT``, idempotency records in a rowid
table.
6: dialects: a ``dialect`` column on payments, events and deliveries, the Stripe fields of a
payment and a refund, a charges table.
7: customers and payment methods tables; refunds listed by payment and by charge."""

_SYNCHRONOUS = ("NORMAL", "FULL")
_WAL_SIZE_LIMIT = 64 * 1024 * 1024
_CACHED_STATEMENTS = 224
"""Prepared statements kept by the connection: about twice the distinct texts the store sends
(111, every list filter and ``limit`` included; a test counts them)."""
_CHECKPOINT_EVERY = 100
"""Commits between two checkpoints of the checkpoint thread (a create writes ~17 WAL pages)."""
_WAL_PAGES_LIMIT = 4000
"""WAL pages (16 MiB) past which the checkpoint thread copies the rest holding the store's lock:
writes that never pause leave it no moment to copy the whole WAL, and only a whole copy lets
the WAL start over."""
_REMEMBERED_BODIES = 512
"""Event bodies kept to tell a delivery attempt that carries its event's body."""

# Columns are in the order of the record's fields (a test checks it); a column without a type
# keeps a value as it was given (no conversion to text or number). ``seq`` orders pages.
_SCHEMA = """
CREATE TABLE payments (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    amount, currency, client_secret, payment_url, created_at, updated_at, capture_method,
    status TEXT NOT NULL,
    description,
    metadata,  -- JSON object
    return_url, amount_capturable, amount_captured, amount_refunded, failure_code, decline_code,
    failure_message, cancellation_reason,
    refunds,  -- JSON array of refunds, each an array of the refund's fields
    authentication_url, decline_after_authentication,
    dialect TEXT NOT NULL,
    payment_method, customer, canceled_at,
    charges,  -- JSON array of charges, each an array of the charge's fields
    attributes  -- JSON object
);
CREATE INDEX payments_by_status ON payments (status, seq);
CREATE INDEX payments_by_dialect ON payments (dialect, seq);

CREATE TABLE refunds (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    payment_id, amount, currency, reason, status, created_at, charge_id,
    metadata  -- JSON object
);
CREATE INDEX refunds_by_payment ON refunds (payment_id, seq);
CREATE INDEX refunds_by_charge ON refunds (charge_id, seq);

CREATE TABLE charges (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    payment_id, amount, currency, status, created_at, payment_method, captured,
    amount_captured, amount_refunded, failure_code, decline_code, failure_message,
    three_d_secure
);

CREATE TABLE customers (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    created_at, email, name, description, phone,
    metadata,  -- JSON object
    deleted,
    dialect TEXT NOT NULL
);
CREATE INDEX customers_by_email ON customers (email, seq);

CREATE TABLE payment_methods (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    card_number, exp_month, exp_year, created_at,
    customer
);
CREATE INDEX payment_methods_by_customer ON payment_methods (customer, seq);

CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    created_at,
    body BLOB NOT NULL,
    dialect TEXT NOT NULL
);
CREATE INDEX events_by_dialect ON events (dialect, seq);
CREATE INDEX events_by_type ON events (type, seq);
CREATE INDEX events_by_payment ON events (payment_id, seq);

CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint, status, body, created_at,
    UNIQUE (scope, key)
);

CREATE TABLE endpoints (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    url,
    enabled_events,  -- JSON array
    secret, created_at
);

CREATE TABLE deliveries (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    url, endpoint_id, attempt, due_at, generation,
    headers,  -- JSON object
    status_code, error, succeeded, sent_at, next_attempt_at, response_body, signed_with, dialect,
    body BLOB  -- NULL: the same bytes as its event's body (stored once, there)
);
CREATE INDEX deliveries_by_event ON deliveries (event_id, seq);
CREATE INDEX deliveries_by_type ON deliveries (type, seq);
CREATE INDEX deliveries_by_payment ON deliveries (payment_id, seq);
CREATE INDEX deliveries_pending ON deliveries (seq) WHERE sent_at IS NULL;

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"""

_RECORD_TABLES = (
    "payments",
    "refunds",
    "charges",
    "customers",
    "payment_methods",
    "events",
    "idempotency",
    "endpoints",
    "deliveries",
)


def _upsert(table: str, columns: str, key: str, *, last: str | None = None) -> str:
    """``INSERT`` of ``columns`` (numbered parameters in order), or an update of every column
    of the row with the same ``key``; ``last`` replaces the last value."""
    names = [name.strip() for name in columns.split(",")]
    values = [f"?{number}" for number in range(1, len(names) + 1)]
    if last is not None:
        values[-1] = last
    keys = {name.strip() for name in key.split(",")}
    updates = ", ".join(f"{name} = excluded.{name}" for name in names if name not in keys)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(values)}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


_PAYMENT_COLUMNS = (
    "id, amount, currency, client_secret, payment_url, created_at, updated_at, capture_method, "
    "status, description, metadata, return_url, amount_capturable, amount_captured, "
    "amount_refunded, failure_code, decline_code, failure_message, cancellation_reason, refunds, "
    "authentication_url, decline_after_authentication, dialect, payment_method, customer, "
    "canceled_at, charges, attributes"
)
_REFUND_COLUMNS = (
    "id, payment_id, amount, currency, reason, status, created_at, charge_id, metadata"
)
_CHARGE_COLUMNS = (
    "id, payment_id, amount, currency, status, created_at, payment_method, captured, "
    "amount_captured, amount_refunded, failure_code, decline_code, failure_message, "
    "three_d_secure"
)
_CUSTOMER_COLUMNS = "id, created_at, email, name, description, phone, metadata, deleted, dialect"
_PAYMENT_METHOD_COLUMNS = "id, card_number, exp_month, exp_year, created_at, customer"
_EVENT_COLUMNS = "id, type, payment_id, created_at, body, dialect"
_IDEMPOTENCY_COLUMNS = "scope, key, fingerprint, status, body, created_at"
_ENDPOINT_COLUMNS = "id, url, enabled_events, secret, created_at"
_DELIVERY_COLUMNS = (
    "id, event_id, type, payment_id, url, endpoint_id, attempt, due_at, generation, headers, "
    "status_code, error, succeeded, sent_at, next_attempt_at, response_body, signed_with, dialect, "
    "body"
)

_SAVE_PAYMENT = _upsert("payments", _PAYMENT_COLUMNS, "id")
_SAVE_REFUND = _upsert("refunds", _REFUND_COLUMNS, "id")
_SAVE_CHARGE = _upsert("charges", _CHARGE_COLUMNS, "id")
_SAVE_CUSTOMER = _upsert("customers", _CUSTOMER_COLUMNS, "id")
_SAVE_PAYMENT_METHOD = _upsert("payment_methods", _PAYMENT_METHOD_COLUMNS, "id")
_ADD_EVENT = _upsert("events", _EVENT_COLUMNS, "id")
_SAVE_IDEMPOTENCY = _upsert("idempotency", _IDEMPOTENCY_COLUMNS, "scope, key")
_SAVE_ENDPOINT = _upsert("endpoints", _ENDPOINT_COLUMNS, "id")
_SAVE_DELIVERY = _upsert("deliveries", _DELIVERY_COLUMNS, "id")
"""The body parameter is NULL when the body is its event's (known to the store)."""
_SAVE_DELIVERY_CHECKED = _upsert(
    "deliveries",
    _DELIVERY_COLUMNS,
    "id",
    last="CASE WHEN ?19 = (SELECT body FROM events WHERE id = ?2) THEN NULL ELSE ?19 END",
)
"""For an attempt of an event the store does not remember: the file tells whether the body is
the event's."""

_GET_PAYMENT = f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE id = ?"
_GET_REFUND = f"SELECT {_REFUND_COLUMNS} FROM refunds WHERE id = ?"
_GET_CHARGE = f"SELECT {_CHARGE_COLUMNS} FROM charges WHERE id = ?"
_GET_CUSTOMER = f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE id = ?"
_GET_PAYMENT_METHOD = f"SELECT {_PAYMENT_METHOD_COLUMNS} FROM payment_methods WHERE id = ?"
_GET_EVENT = f"SELECT {_EVENT_COLUMNS} FROM events WHERE id = ?"
_GET_IDEMPOTENCY = f"SELECT {_IDEMPOTENCY_COLUMNS} FROM idempotency WHERE scope = ? AND key = ?"
_GET_ENDPOINT = f"SELECT {_ENDPOINT_COLUMNS} FROM endpoints WHERE id = ?"
_EVENTS_OF = f"SELECT {_EVENT_COLUMNS} FROM events WHERE payment_id = ? ORDER BY seq"
_LIST_ENDPOINTS = f"SELECT {_ENDPOINT_COLUMNS} FROM endpoints ORDER BY seq"
_DELIVERIES = (
    "SELECT "
    + ", ".join(f"d.{name.strip()}" for name in _DELIVERY_COLUMNS.split(",")[:-1])
    + ", d.body IS NULL, coalesce(d.body, e.body) "
    "FROM deliveries AS d LEFT JOIN events AS e ON e.id = d.event_id"
)
"""Delivery attempts with their body (kept once, with the event, when it is the same), and
whether it is the event's."""

_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
"""One encoder for every JSON column (``json.dumps`` with options makes one a call)."""


class SqliteStore:
    """The simulator's records in a SQLite file; the same interface as ``MemoryStore``."""

    def __init__(self, path: Path, *, synchronous: str = "NORMAL") -> None:
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ConfigurationError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._begun = False
        """Whether the running transaction has sent ``BEGIN IMMEDIATE`` (it has written)."""
        self._payments: dict[str, Payment] = {}
        """Payments read or saved in the running transaction (what ``get_payment`` returns)."""
        self._bodies: dict[str, bytes] = {}
        """Bodies of events added or read lately, by event id (as stored in the file)."""
        self._endpoints: list[Any] | None = None
        """The rows of every webhook endpoint, once read; None when one changed since."""
        self._commits = 0
        self._checkpointer: _Checkpointer | None = None
        _create_private(self.path)
        try:
            self._conn = sqlite3.connect(
                str(self.path),
                check_same_thread=False,
                isolation_level=None,
                timeout=10.0,
                cached_statements=_CACHED_STATEMENTS,
            )
        except sqlite3.Error as error:
            raise ConfigurationError(
                f"cannot open the database {str(self.path)!r}: {error}"
            ) from None
        try:
            self._setup(synchronous.upper())
        except sqlite3.Error as error:
            self._conn.close()
            raise ConfigurationError(
                f"cannot use {str(self.path)!r} as a paysim database: {error}"
            ) from None
        except BaseException:
            self._conn.close()
            raise
        self._checkpointer = _Checkpointer(self.path, synchronous.upper(), self._lock)

    def _setup(self, synchronous: str) -> None:
        conn = self._conn
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise ConfigurationError(f"{str(self.path)!r} cannot be put in WAL mode ({mode})")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        # After a checkpoint, a WAL that one big transaction blew up is cut back to this size.
        conn.execute(f"PRAGMA journal_size_limit={_WAL_SIZE_LIMIT}")
        # Checkpoints run in a thread of their own (see _Checkpointer), never in a commit.
        conn.execute("PRAGMA wal_autocheckpoint=0")
        # 64 MiB of page cache (the default is 2 MiB), so the indexes of a large store stay in
        # memory and a lookup costs the same at 100k payments as at 1k.
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if tables:
                    raise ConfigurationError(
                        f"{str(self.path)!r} is a SQLite database of something else; give "
                        "paysim a new file or one it made"
                    )
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                # A file paysim fills for the first time is its own, whoever made it empty
                # (mktemp, touch): readable by its owner only, like a file it creates.
                for path in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                    if path.exists():
                        os.chmod(path, 0o600)
            elif version != SCHEMA_VERSION:
                raise ConfigurationError(
                    f"{str(self.path)!r} was made by another paysim version (schema {version}, "
                    f"this one reads {SCHEMA_VERSION}); give it a new file"
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- transactions and lifecycle ------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One ``BEGIN IMMEDIATE`` (sent with the first write) ... ``COMMIT``; an exception
        rolls everything back. Nested calls join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._depth = 1
            try:
                yield
            except BaseException:
                self._end(rolled_back=True)
                raise
            self._end(rolled_back=False)

    def _begin(self) -> None:
        """Start the running transaction's writes (call under the lock)."""
        self._conn.execute("BEGIN IMMEDIATE")
        self._begun = True

    def _end(self, *, rolled_back: bool) -> None:
        begun = self._begun
        self._depth = 0
        self._begun = False
        self._payments.clear()
        if not begun:
            return  # it only read: nothing to commit or take back
        if rolled_back:
            self._undo()
            return
        try:
            self._conn.execute("COMMIT")
        except BaseException:
            self._undo()
            raise
        self._committed()

    def _undo(self) -> None:
        """Roll back, and forget what the store remembers of records written meanwhile."""
        self._bodies.clear()
        self._endpoints = None
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _committed(self) -> None:
        self._commits += 1
        if self._commits >= _CHECKPOINT_EVERY and self._checkpointer is not None:
            self._commits = 0
            self._checkpointer.request()

    def _write(self, sql: str, params: Sequence[Any]) -> None:
        with self._lock:
            if self._depth and not self._begun:
                self._begin()
            self._conn.execute(sql, params)
            if not self._depth:
                self._committed()  # a write outside a transaction commits at once

    def clear(self) -> None:
        """Remove every record (settings stay)."""
        with self.transaction():
            for table in _RECORD_TABLES:
                self._write(f"DELETE FROM {table}", ())
            self._payments.clear()
            self._bodies.clear()
            self._endpoints = None

    def close(self) -> None:
        """Close the connection; a clean close also folds the WAL file into the database."""
        # The checkpoint thread first (it may be waiting for the lock): the connection closed
        # last checkpoints the rest and removes the WAL file.
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.close()
        with self._lock:
            if self._depth and self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._depth = 0
            self._begun = False
            self._payments.clear()
            self._conn.close()

    def trace(self, callback: Callable[[str], object] | None) -> None:
        """Call ``callback`` with each statement the store runs (its text, values filled in);
        None stops. For tests and benchmarks: the checkpoint thread's statements are not
        included."""
        with self._lock:
            self._conn.set_trace_callback(callback)

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def _page(
        self,
        table: str,
        columns: str,
        where: list[str],
        params: list[Any],
        limit: int,
        starting_after: str | None,
    ) -> tuple[list[Any], bool]:
        """Rows newest first after ``starting_after``; one more than ``limit`` tells has_more."""
        with self._lock:
            if starting_after is not None:
                row = self._conn.execute(
                    f"SELECT seq FROM {table} WHERE id = ?",
                    (starting_after,),
                ).fetchone()
                if row is None:
                    raise unknown_starting_after(starting_after)
                where = [*where, "seq < ?"]
                params = [*params, row[0]]
            clause = f" WHERE {' AND '.join(where)}" if where else ""
            rows = self._conn.execute(
                f"SELECT {columns} FROM {table}{clause} ORDER BY seq DESC LIMIT ?",
                [*params, limit + 1],
            ).fetchall()
        return rows[:limit], len(rows) > limit

    # -- payments and refunds ------------------------------------------------------------------

    def get_payment(self, payment_id: str) -> Payment | None:
        with self._lock:
            cached = self._payments.get(payment_id)
            if cached is not None:
                return cached
            row = self._conn.execute(_GET_PAYMENT, (payment_id,)).fetchone()
            if row is None:
                return None
            payment = _payment(row)
            if self._depth:
                self._payments[payment_id] = payment
            return payment

    def save_payment(self, payment: Payment) -> None:
        with self._lock:
            self._write(_SAVE_PAYMENT, _payment_row(payment))
            if self._depth:
                self._payments[payment.id] = payment

    def list_payments(
        self,
        *,
        limit: int,
        starting_after: str | None,
        status: str | None,
        dialect: str | None = None,
    ) -> tuple[list[Payment], bool]:
        where, params = ([], []) if status is None else (["status = ?"], [status])
        if dialect is not None:
            where.append("dialect = ?")
            params.append(dialect)
        rows, has_more = self._page(
            "payments", _PAYMENT_COLUMNS, where, params, limit, starting_after
        )
        return [_payment(row) for row in rows], has_more

    def count_payments(self) -> int:
        row = self._one("SELECT count(*) FROM payments")
        return int(row[0])

    def get_refund(self, refund_id: str) -> Refund | None:
        row = self._one(_GET_REFUND, (refund_id,))
        return None if row is None else _refund(row)

    def save_refund(self, refund: Refund) -> None:
        self._write(_SAVE_REFUND, _refund_row(refund))

    def list_refunds(
        self,
        *,
        limit: int,
        starting_after: str | None,
        payment_id: str | None,
        charge_id: str | None,
        dialect: str | None = None,
    ) -> tuple[list[Refund], bool]:
        where: list[str] = []
        params: list[Any] = []
        if payment_id is not None:
            where.append("payment_id = ?")
            params.append(payment_id)
        if charge_id is not None:
            where.append("charge_id = ?")
            params.append(charge_id)
        if dialect is not None:
            # One lookup in the payments' id index per refund read.
            where.append(
                "(SELECT p.dialect FROM payments AS p WHERE p.id = refunds.payment_id) = ?"
            )
            params.append(dialect)
        rows, has_more = self._page(
            "refunds", _REFUND_COLUMNS, where, params, limit, starting_after
        )
        return [_refund(row) for row in rows], has_more

    def get_charge(self, charge_id: str) -> Charge | None:
        row = self._one(_GET_CHARGE, (charge_id,))
        return None if row is None else _charge(row)

    def save_charge(self, charge: Charge) -> None:
        self._write(_SAVE_CHARGE, _charge_row(charge))

    # -- customers and payment methods ---------------------------------------------------------

    def get_customer(self, customer_id: str) -> Customer | None:
        row = self._one(_GET_CUSTOMER, (customer_id,))
        return None if row is None else _customer(row)

    def save_customer(self, customer: Customer) -> None:
        self._write(
            _SAVE_CUSTOMER,
            (
                customer.id,
                customer.created_at,
                customer.email,
                customer.name,
                customer.description,
                customer.phone,
                _JSON.encode(customer.metadata) if customer.metadata else "{}",
                customer.deleted,
                customer.dialect,
            ),
        )

    def list_customers(
        self,
        *,
        limit: int,
        starting_after: str | None,
        email: str | None,
        dialect: str | None = None,
    ) -> tuple[list[Customer], bool]:
        where = ["deleted = 0"]
        params: list[Any] = []
        if email is not None:
            where.append("email = ?")
            params.append(email)
        if dialect is not None:
            where.append("dialect = ?")
            params.append(dialect)
        rows, has_more = self._page(
            "customers", _CUSTOMER_COLUMNS, where, params, limit, starting_after
        )
        return [_customer(row) for row in rows], has_more

    def get_payment_method(self, payment_method_id: str) -> PaymentMethod | None:
        row = self._one(_GET_PAYMENT_METHOD, (payment_method_id,))
        return None if row is None else PaymentMethod(*row)

    def save_payment_method(self, payment_method: PaymentMethod) -> None:
        self._write(
            _SAVE_PAYMENT_METHOD,
            (
                payment_method.id,
                payment_method.card_number,
                payment_method.exp_month,
                payment_method.exp_year,
                payment_method.created_at,
                payment_method.customer,
            ),
        )

    def list_payment_methods(
        self, *, limit: int, starting_after: str | None, customer: str | None
    ) -> tuple[list[PaymentMethod], bool]:
        where, params = ([], []) if customer is None else (["customer = ?"], [customer])
        rows, has_more = self._page(
            "payment_methods", _PAYMENT_METHOD_COLUMNS, where, params, limit, starting_after
        )
        return [PaymentMethod(*row) for row in rows], has_more

    # -- events --------------------------------------------------------------------------------

    def get_event(self, event_id: str) -> Event | None:
        row = self._one(_GET_EVENT, (event_id,))
        return None if row is None else Event(*row)

    def add_event(self, event: Event) -> None:
        with self._lock:
            self._write(
                _ADD_EVENT,
                (
                    event.id,
                    event.type,
                    event.payment_id,
                    event.created_at,
                    event.body,
                    event.dialect,
                ),
            )
            self._remember_body(event.id, event.body)

    def _remember_body(self, event_id: str, body: bytes) -> None:
        bodies = self._bodies
        bodies[event_id] = body
        if len(bodies) > _REMEMBERED_BODIES:
            del bodies[next(iter(bodies))]

    def list_events(
        self,
        *,
        limit: int,
        starting_after: str | None,
        type: str | None,
        payment_id: str | None,
        dialect: str | None = None,
    ) -> tuple[list[Event], bool]:
        where: list[str] = []
        params: list[Any] = []
        if dialect is not None:
            where.append("dialect = ?")
            params.append(dialect)
        if type is not None:
            where.append("type = ?")
            params.append(type)
        if payment_id is not None:
            where.append("payment_id = ?")
            params.append(payment_id)
        rows, has_more = self._page("events", _EVENT_COLUMNS, where, params, limit, starting_after)
        return [Event(*row) for row in rows], has_more

    def events_of(self, payment_id: str) -> list[Event]:
        return [Event(*row) for row in self._all(_EVENTS_OF, (payment_id,))]

    # -- idempotency records -------------------------------------------------------------------

    def get_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None:
        row = self._one(_GET_IDEMPOTENCY, (scope, key))
        return None if row is None else IdempotencyRecord(*row)

    def save_idempotency(self, record: IdempotencyRecord) -> None:
        self._write(
            _SAVE_IDEMPOTENCY,
            (
                record.scope,
                record.key,
                record.fingerprint,
                record.status,
                record.body,
                record.created_at,
            ),
        )

    def delete_idempotency(self, scope: str, key: str) -> None:
        self._write("DELETE FROM idempotency WHERE scope = ? AND key = ?", (scope, key))

    # -- webhook endpoints ---------------------------------------------------------------------

    def get_endpoint(self, endpoint_id: str) -> WebhookEndpoint | None:
        row = self._one(_GET_ENDPOINT, (endpoint_id,))
        return None if row is None else _endpoint(row)

    def save_endpoint(self, endpoint: WebhookEndpoint) -> None:
        with self._lock:
            self._endpoints = None
            self._write(
                _SAVE_ENDPOINT,
                (
                    endpoint.id,
                    endpoint.url,
                    _JSON.encode(endpoint.enabled_events),
                    endpoint.secret,
                    endpoint.created_at,
                ),
            )

    def delete_endpoint(self, endpoint_id: str) -> None:
        with self._lock:
            self._endpoints = None
            self._write("DELETE FROM endpoints WHERE id = ?", (endpoint_id,))

    def list_endpoints(self) -> list[WebhookEndpoint]:
        """Every endpoint, oldest first (from memory: read once, again after a change)."""
        with self._lock:
            rows = self._endpoints
            if rows is None:
                rows = self._conn.execute(_LIST_ENDPOINTS).fetchall()
                self._endpoints = rows
            return [_endpoint(row) for row in rows]

    # -- delivery attempts (made and planned) --------------------------------------------------

    def save_delivery(self, attempt: DeliveryAttempt) -> None:
        with self._lock:
            body: bytes | None = attempt.body
            known = self._bodies.get(attempt.event_id)
            if known is None:
                sql = _SAVE_DELIVERY_CHECKED
            else:
                sql = _SAVE_DELIVERY
                if body == known:  # the same object, as a rule: no bytes compared
                    body = None
            self._write(
                sql,
                (
                    attempt.id,
                    attempt.event_id,
                    attempt.type,
                    attempt.payment_id,
                    attempt.url,
                    attempt.endpoint_id,
                    attempt.attempt,
                    attempt.due_at,
                    attempt.generation,
                    _JSON.encode(attempt.headers) if attempt.headers else "{}",
                    attempt.status_code,
                    attempt.error,
                    attempt.succeeded,
                    attempt.sent_at,
                    attempt.next_attempt_at,
                    attempt.response_body,
                    attempt.signed_with,
                    attempt.dialect,
                    body,
                ),
            )

    def list_deliveries(
        self,
        *,
        event_id: str | None,
        type: str | None,
        payment_id: str | None,
        limit: int | None = None,
    ) -> list[DeliveryAttempt]:
        """Attempts made (not the planned ones), newest first."""
        where = ["d.sent_at IS NOT NULL"]
        params: list[Any] = []
        for column, value in (("event_id", event_id), ("type", type), ("payment_id", payment_id)):
            if value is not None:
                where.append(f"d.{column} = ?")
                params.append(value)
        sql = f"{_DELIVERIES} WHERE {' AND '.join(where)} ORDER BY d.seq DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return self._deliveries(sql, params)

    def pending_deliveries(self) -> list[DeliveryAttempt]:
        """The outbox: planned attempts not made yet, oldest first."""
        return self._deliveries(f"{_DELIVERIES} WHERE d.sent_at IS NULL ORDER BY d.seq", ())

    def _deliveries(self, sql: str, params: Sequence[Any]) -> list[DeliveryAttempt]:
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
            result = []
            for row in rows:
                attempt = _delivery(row)
                if row[18] and row[19] is not None:  # the event's body: remember it, to
                    self._remember_body(attempt.event_id, row[19])  # know it when saved
                result.append(attempt)
            return result

    # -- settings ------------------------------------------------------------------------------

    def get_setting(self, name: str) -> str | None:
        row = self._one("SELECT value FROM settings WHERE name = ?", (name,))
        return None if row is None else str(row[0])

    def set_setting(self, name: str, value: str) -> None:
        self._write("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, value))


class _Checkpointer:
    """Checkpoints the WAL in a daemon thread, with a connection of its own, when asked.

    ``PASSIVE``: it copies the WAL into the database file (with its two ``fsync``) while the
    store goes on committing. The WAL starts over (the store's next write rewinds it) only once
    a checkpoint has copied all of it, which never happens while commits keep coming in during
    each checkpoint; so when the WAL has grown past ``_WAL_PAGES_LIMIT`` pages, the thread
    copies what is left holding the store's lock, which lets no commit in meanwhile.
    """

    def __init__(self, path: Path, synchronous: str, store_lock: threading.RLock) -> None:
        self._store_lock = store_lock
        self._wanted = threading.Event()
        self._closing = False
        self.runs = 0
        """Checkpoints done (for tests)."""
        self._conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=10.0
        )
        self._conn.execute(f"PRAGMA synchronous={synchronous}")
        self._conn.execute("PRAGMA wal_autocheckpoint=0")
        self._thread = threading.Thread(target=self._run, name="paysim-checkpoint", daemon=True)
        self._thread.start()

    def request(self) -> None:
        self._wanted.set()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._closing:
                return
            with contextlib.suppress(Exception):  # busy, or closing: the next one will do
                self.checkpoint()

    def checkpoint(self) -> None:
        """Copy the WAL; all of it, under the store's lock, when it has grown too big."""
        if self._passive() >= _WAL_PAGES_LIMIT:
            while not self._closing:  # a store closing may hold its lock: wait in steps
                if self._store_lock.acquire(timeout=0.05):
                    try:
                        self._passive()
                    finally:
                        self._store_lock.release()
                    break
        self.runs += 1

    def _passive(self) -> int:
        """One ``PASSIVE`` checkpoint; returns the pages the WAL held."""
        _, frames, _ = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(frames)

    def close(self) -> None:
        self._closing = True
        self._wanted.set()
        self._thread.join(10.0)
        self._conn.close()


# -- records to and from rows ------------------------------------------------------------------


def _create_private(path: Path) -> None:
    """Create the file readable and writable by its owner only (SQLite gives its WAL and
    shared-memory files the same mode); an existing file keeps its mode."""
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        raise ConfigurationError(f"cannot create the database {str(path)!r}: {error}") from None
    os.close(descriptor)


def _payment_row(payment: Payment) -> tuple[Any, ...]:
    refunds = payment.refunds
    return (
        payment.id,
        payment.amount,
        payment.currency,
        payment.client_secret,
        payment.payment_url,
        payment.created_at,
        payment.updated_at,
        payment.capture_method,
        payment.status,
        payment.description,
        _JSON.encode(payment.metadata) if payment.metadata else "{}",
        payment.return_url,
        payment.amount_capturable,
        payment.amount_captured,
        payment.amount_refunded,
        payment.failure_code,
        payment.decline_code,
        payment.failure_message,
        payment.cancellation_reason,
        _JSON.encode([_refund_row(refund) for refund in refunds]) if refunds else "[]",
        payment.authentication_url,
        payment.decline_after_authentication,
        payment.dialect,
        payment.payment_method,
        payment.customer,
        payment.canceled_at,
        _JSON.encode([_charge_row(charge) for charge in payment.charges])
        if payment.charges
        else "[]",
        _JSON.encode(payment.attributes) if payment.attributes else "{}",
    )


def _payment(row: Sequence[Any]) -> Payment:
    (
        payment_id,
        amount,
        currency,
        client_secret,
        payment_url,
        created_at,
        updated_at,
        capture_method,
        status,
        description,
        metadata,
        return_url,
        amount_capturable,
        amount_captured,
        amount_refunded,
        failure_code,
        decline_code,
        failure_message,
        cancellation_reason,
        refunds,
        authentication_url,
        decline_after_authentication,
        dialect,
        payment_method,
        customer,
        canceled_at,
        charges,
        attributes,
    ) = row
    return Payment(
        payment_id,
        amount,
        currency,
        client_secret,
        payment_url,
        created_at,
        updated_at,
        capture_method,
        status,
        description,
        {} if metadata == "{}" else json.loads(metadata),
        return_url,
        amount_capturable,
        amount_captured,
        amount_refunded,
        failure_code,
        decline_code,
        failure_message,
        cancellation_reason,
        [] if refunds == "[]" else [_refund(refund) for refund in json.loads(refunds)],
        authentication_url,
        decline_after_authentication,
        dialect,
        payment_method,
        customer,
        canceled_at,
        [] if charges == "[]" else [_charge(charge) for charge in json.loads(charges)],
        {} if attributes == "{}" else json.loads(attributes),
    )


def _refund_row(refund: Refund) -> tuple[Any, ...]:
    return (
        refund.id,
        refund.payment_id,
        refund.amount,
        refund.currency,
        refund.reason,
        refund.status,
        refund.created_at,
        refund.charge_id,
        _JSON.encode(refund.metadata) if refund.metadata else "{}",
    )


def _refund(row: Sequence[Any]) -> Refund:
    refund_id, payment_id, amount, currency, reason, status, created_at, charge_id, metadata = row
    return Refund(
        refund_id,
        payment_id,
        amount,
        currency,
        reason,
        status,
        created_at,
        charge_id,
        {} if metadata == "{}" else json.loads(metadata),
    )


def _charge_row(charge: Charge) -> tuple[Any, ...]:
    return (
        charge.id,
        charge.payment_id,
        charge.amount,
        charge.currency,
        charge.status,
        charge.created_at,
        charge.payment_method,
        charge.captured,
        charge.amount_captured,
        charge.amount_refunded,
        charge.failure_code,
        charge.decline_code,
        charge.failure_message,
        charge.three_d_secure,
    )


def _charge(row: Sequence[Any]) -> Charge:
    (
        charge_id,
        payment_id,
        amount,
        currency,
        status,
        created_at,
        payment_method,
        captured,
        amount_captured,
        amount_refunded,
        failure_code,
        decline_code,
        failure_message,
        three_d_secure,
    ) = row
    return Charge(
        charge_id,
        payment_id,
        amount,
        currency,
        status,
        created_at,
        payment_method,
        bool(captured),
        amount_captured,
        amount_refunded,
        failure_code,
        decline_code,
        failure_message,
        bool(three_d_secure),
    )


def _customer(row: Sequence[Any]) -> Customer:
    customer_id, created_at, email, name, description, phone, metadata, deleted, dialect = row
    return Customer(
        customer_id,
        created_at,
        email,
        name,
        description,
        phone,
        {} if metadata == "{}" else json.loads(metadata),
        bool(deleted),
        dialect,
    )


def _endpoint(row: Sequence[Any]) -> WebhookEndpoint:
    endpoint_id, url, enabled_events, secret, created_at = row
    return WebhookEndpoint(endpoint_id, url, json.loads(enabled_events), secret, created_at)


def _delivery(row: Sequence[Any]) -> DeliveryAttempt:
    """An attempt from a ``_DELIVERIES`` row (its 18 columns, the event-body flag, the body)."""
    (
        attempt_id,
        event_id,
        type,
        payment_id,
        url,
        endpoint_id,
        attempt,
        due_at,
        generation,
        headers,
        status_code,
        error,
        succeeded,
        sent_at,
        next_attempt_at,
        response_body,
        signed_with,
        dialect,
        _,
        body,
    ) = row
    return DeliveryAttempt(
        attempt_id,
        event_id,
        type,
        payment_id,
        url,
        endpoint_id,
        attempt,
        due_at,
        generation,
        b"" if body is None else body,
        {} if headers == "{}" else json.loads(headers),
        status_code,
        error,
        None if succeeded is None else bool(succeeded),
        sent_at,
        next_attempt_at,
        response_body,
        signed_with,
        dialect,
    )

"""The persistent store: the same records as ``MemoryStore``, in one SQLite file (WAL).

``paysim serve --db FILE`` and ``PaysimServer(db=FILE)`` use it. Each simulator operation runs
inside one ``transaction()`` (``BEGIN IMMEDIATE`` ... ``COMMIT``), so a payment, its refund,
its event, the idempotency record of the request and the planned webhook deliveries are
written together or not at all; after a kill and a restart on the same file everything a
client got an answer for is there, and ``pending_deliveries()`` hands back the outbox::

    store = SqliteStore(Path("paysim.sqlite"))
    with store.transaction():
        store.save_payment(payment)
    store.close()

Records are kept whole, as JSON (bytes fields in a ``body`` blob), next to the few columns that
lookups and list filters need, each with an index; a delivery attempt whose body is its event's
(all of them, as the simulator works) keeps no copy of it. Every table has an ``INTEGER
PRIMARY KEY`` sequence, so a page is an index range: newest first, ``starting_after`` resolved
to its sequence once, ``WHERE seq < ? ORDER BY seq DESC LIMIT ?``. A request costs the same
with a thousand or a million stored payments.

Records come back as fresh objects (the simulator changes the payment it got, then saves it),
except that inside one transaction ``get_payment`` returns the object saved or read earlier in
that transaction, as ``MemoryStore`` does: an operation that reads a payment twice sees its own
changes.

Durability: ``synchronous=NORMAL`` by default. In WAL mode a commit is written to the WAL file
before ``COMMIT`` returns, and only the ``fsync`` is skipped; a killed process (SIGKILL, a crash,
an OOM kill) loses nothing that was committed, because the data is already in the operating
system's page cache. Only an operating-system crash or power loss can drop the last commits,
never corrupt the file. Pass ``synchronous="FULL"`` to survive those too, at the cost of an
``fsync`` per operation.

One connection serves every thread; a lock of the store's own serialises its use (the
simulator's lock already does for writes, but some reads run without it) and is held for a
whole transaction, so no reader sees a transaction half done. One file is for one server at a
time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pytest_paysim.core.models import (
    Charge,
    DeliveryAttempt,
    Event,
    IdempotencyRecord,
    Payment,
    Refund,
    WebhookEndpoint,
)
from pytest_paysim.errors import ConfigurationError, unknown_starting_after

__all__ = ["SCHEMA_VERSION", "SqliteStore"]

SCHEMA_VERSION = 5
"""Stored in ``PRAGMA user_version``; a file of another version is refused, not migrated."""

_SYNCHRONOUS = ("NORMAL", "FULL")
_WAL_SIZE_LIMIT = 64 * 1024 * 1024

_SCHEMA = """
CREATE TABLE payments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    dialect TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX payments_by_status ON payments (status, seq);
CREATE INDEX payments_by_dialect ON payments (dialect, seq);

CREATE TABLE refunds (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    payment_id TEXT NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE charges (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    payment_id TEXT NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    dialect TEXT NOT NULL,
    data TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX events_by_dialect ON events (dialect, seq);
CREATE INDEX events_by_type ON events (type, seq);
CREATE INDEX events_by_payment ON events (payment_id, seq);

CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    data TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;

CREATE TABLE endpoints (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL
);

CREATE TABLE deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    sent_at REAL,
    data TEXT NOT NULL,
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

_DELIVERIES = (
    "SELECT d.data, coalesce(d.body, e.body) FROM deliveries AS d "
    "LEFT JOIN events AS e ON e.id = d.event_id"
)
"""Delivery attempts with their body (kept once, with the event, when it is the same)."""

_RECORD_TABLES = (
    "payments",
    "refunds",
    "charges",
    "events",
    "idempotency",
    "endpoints",
    "deliveries",
)

_R = TypeVar("_R")


class SqliteStore:
    """The simulator's records in a SQLite file; the same interface as ``MemoryStore``."""

    def __init__(self, path: Path, *, synchronous: str = "NORMAL") -> None:
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ConfigurationError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._payments: dict[str, Payment] = {}
        """Payments read or saved in the running transaction (what ``get_payment`` returns)."""
        _create_private(self.path)
        try:
            self._conn = sqlite3.connect(
                str(self.path), check_same_thread=False, isolation_level=None, timeout=10.0
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

    def _setup(self, synchronous: str) -> None:
        conn = self._conn
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise ConfigurationError(f"{str(self.path)!r} cannot be put in WAL mode ({mode})")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        # After a checkpoint, a WAL that one big transaction blew up is cut back to this size.
        conn.execute(f"PRAGMA journal_size_limit={_WAL_SIZE_LIMIT}")
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
        """One ``BEGIN IMMEDIATE`` ... ``COMMIT``; an exception rolls everything back.

        Nested calls join the outer transaction.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._end()
                self._conn.execute("ROLLBACK")
                raise
            self._end()
            try:
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _end(self) -> None:
        self._depth = 0
        self._payments.clear()

    def clear(self) -> None:
        """Remove every record (settings stay)."""
        with self.transaction():
            for table in _RECORD_TABLES:
                self._conn.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        """Close the connection; a clean close also folds the WAL file into the database."""
        with self._lock:
            if self._depth and self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._end()
            self._conn.close()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def _write(self, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> None:
        with self._lock:
            self._conn.execute(sql, params)

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
            row = self._one("SELECT data FROM payments WHERE id = ?", (payment_id,))
            if row is None:
                return None
            payment = _load_payment(row[0])
            if self._depth:
                self._payments[payment_id] = payment
            return payment

    def save_payment(self, payment: Payment) -> None:
        with self._lock:
            self._write(
                "INSERT INTO payments (id, status, dialect, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET status = excluded.status, data = excluded.data",
                (payment.id, payment.status, payment.dialect, _dump_payment(payment)),
            )
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
        rows, has_more = self._page("payments", "data", where, params, limit, starting_after)
        return [_load_payment(row[0]) for row in rows], has_more

    def count_payments(self) -> int:
        row = self._one("SELECT count(*) FROM payments")
        return int(row[0])

    def get_refund(self, refund_id: str) -> Refund | None:
        row = self._one("SELECT data FROM refunds WHERE id = ?", (refund_id,))
        return None if row is None else _load(Refund, row[0])

    def save_refund(self, refund: Refund) -> None:
        self._write(
            "INSERT INTO refunds (id, payment_id, data) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET payment_id = excluded.payment_id, data = excluded.data",
            (refund.id, refund.payment_id, _dump(refund)),
        )

    def get_charge(self, charge_id: str) -> Charge | None:
        row = self._one("SELECT data FROM charges WHERE id = ?", (charge_id,))
        return None if row is None else _load(Charge, row[0])

    def save_charge(self, charge: Charge) -> None:
        self._write(
            "INSERT INTO charges (id, payment_id, data) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET payment_id = excluded.payment_id, data = excluded.data",
            (charge.id, charge.payment_id, _dump(charge)),
        )

    # -- events --------------------------------------------------------------------------------

    def get_event(self, event_id: str) -> Event | None:
        row = self._one("SELECT data, body FROM events WHERE id = ?", (event_id,))
        return None if row is None else _load(Event, row[0], body=row[1])

    def add_event(self, event: Event) -> None:
        self._write(
            "INSERT INTO events (id, type, payment_id, dialect, data, body) "
            "VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET type = excluded.type, "
            "payment_id = excluded.payment_id, dialect = excluded.dialect, "
            "data = excluded.data, body = excluded.body",
            (event.id, event.type, event.payment_id, event.dialect, _dump(event), event.body),
        )

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
        rows, has_more = self._page("events", "data, body", where, params, limit, starting_after)
        return [_load(Event, data, body=body) for data, body in rows], has_more

    def events_of(self, payment_id: str) -> list[Event]:
        rows = self._all(
            "SELECT data, body FROM events WHERE payment_id = ? ORDER BY seq", (payment_id,)
        )
        return [_load(Event, data, body=body) for data, body in rows]

    # -- idempotency records -------------------------------------------------------------------

    def get_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None:
        row = self._one(
            "SELECT data, body FROM idempotency WHERE scope = ? AND key = ?", (scope, key)
        )
        return None if row is None else _load(IdempotencyRecord, row[0], body=row[1])

    def save_idempotency(self, record: IdempotencyRecord) -> None:
        self._write(
            "INSERT OR REPLACE INTO idempotency (scope, key, data, body) VALUES (?, ?, ?, ?)",
            (record.scope, record.key, _dump(record), record.body),
        )

    def delete_idempotency(self, scope: str, key: str) -> None:
        self._write("DELETE FROM idempotency WHERE scope = ? AND key = ?", (scope, key))

    # -- webhook endpoints ---------------------------------------------------------------------

    def get_endpoint(self, endpoint_id: str) -> WebhookEndpoint | None:
        row = self._one("SELECT data FROM endpoints WHERE id = ?", (endpoint_id,))
        return None if row is None else _load(WebhookEndpoint, row[0])

    def save_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._write(
            "INSERT INTO endpoints (id, data) VALUES (?, ?) "
            "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (endpoint.id, _dump(endpoint)),
        )

    def delete_endpoint(self, endpoint_id: str) -> None:
        self._write("DELETE FROM endpoints WHERE id = ?", (endpoint_id,))

    def list_endpoints(self) -> list[WebhookEndpoint]:
        rows = self._all("SELECT data FROM endpoints ORDER BY seq")
        return [_load(WebhookEndpoint, row[0]) for row in rows]

    # -- delivery attempts (made and planned) --------------------------------------------------

    def save_delivery(self, attempt: DeliveryAttempt) -> None:
        self._write(
            "INSERT INTO deliveries (id, event_id, type, payment_id, sent_at, data, body) "
            "VALUES (:id, :event_id, :type, :payment_id, :sent_at, :data, "
            "CASE WHEN :body = (SELECT body FROM events WHERE id = :event_id) "
            "THEN NULL ELSE :body END) "
            "ON CONFLICT (id) DO UPDATE SET "
            "event_id = excluded.event_id, type = excluded.type, "
            "payment_id = excluded.payment_id, sent_at = excluded.sent_at, "
            "data = excluded.data, body = excluded.body",
            {
                "id": attempt.id,
                "event_id": attempt.event_id,
                "type": attempt.type,
                "payment_id": attempt.payment_id,
                "sent_at": attempt.sent_at,
                "data": _dump(attempt),
                "body": attempt.body,
            },
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
        return [_load_delivery(data, body) for data, body in self._all(sql, params)]

    def pending_deliveries(self) -> list[DeliveryAttempt]:
        """The outbox: planned attempts not made yet, oldest first."""
        rows = self._all(f"{_DELIVERIES} WHERE d.sent_at IS NULL ORDER BY d.seq")
        return [_load_delivery(data, body) for data, body in rows]

    # -- settings ------------------------------------------------------------------------------

    def get_setting(self, name: str) -> str | None:
        row = self._one("SELECT value FROM settings WHERE name = ?", (name,))
        return None if row is None else str(row[0])

    def set_setting(self, name: str, value: str) -> None:
        self._write("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, value))


# -- records to and from JSON ------------------------------------------------------------------

_FIELDS: dict[type, tuple[str, ...]] = {}


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


def _fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(field.name for field in dataclasses.fields(cls))
    return names


def _values(record: Any) -> dict[str, Any]:
    """The fields of a record, without ``body`` (bytes live in their own column)."""
    return {name: getattr(record, name) for name in _fields(type(record)) if name != "body"}


def _dump(record: Any) -> str:
    return json.dumps(_values(record), separators=(",", ":"), ensure_ascii=False)


def _load(cls: type[_R], text: str, **extra: Any) -> _R:
    """A record from its JSON; fields unknown to this version are dropped, missing ones default."""
    names = _fields(cls)
    data = {name: value for name, value in json.loads(text).items() if name in names}
    data.update(extra)
    return cls(**data)


def _dump_payment(payment: Payment) -> str:
    data = _values(payment)
    data["refunds"] = [_values(refund) for refund in payment.refunds]
    data["charges"] = [_values(charge) for charge in payment.charges]
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _load_payment(text: str) -> Payment:
    names = _fields(Payment)
    data = {name: value for name, value in json.loads(text).items() if name in names}
    refund_names = _fields(Refund)
    data["refunds"] = [
        Refund(**{name: value for name, value in refund.items() if name in refund_names})
        for refund in data.get("refunds", ())
    ]
    charge_names = _fields(Charge)
    data["charges"] = [
        Charge(**{name: value for name, value in charge.items() if name in charge_names})
        for charge in data.get("charges", ())
    ]
    return Payment(**data)


def _load_delivery(text: str, body: bytes | None) -> DeliveryAttempt:
    return _load(DeliveryAttempt, text, body=b"" if body is None else body)

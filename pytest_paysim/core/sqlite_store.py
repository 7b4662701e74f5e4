"""The persistent store: the records of ``MemoryStore``, kept in a SQLite file (WAL) as well.

``paysim serve --db FILE`` and ``PaysimServer(db=FILE)`` use it. The records live in memory,
as in ``MemoryStore`` (which this store is, plus the file): reads never touch the file, and a
request costs the same with a thousand or a million stored records. The file is their journal:
each operation's changes — a payment, its refund, its event, the idempotency record of the
request, the planned webhook deliveries — are appended to it in one SQLite transaction when the
operation commits, or not at all. Opening the file replays the journal, so after a kill at any
moment and a restart on the same file every answered request's effects are there and
``pending_deliveries()`` hands back the outbox::

    store = SqliteStore(Path("paysim.sqlite"))
    with store.transaction():
        store.save_payment(payment)   # in memory now, in the file when the block ends
    store.close()

Why a journal rather than a table per record with its indexes: a commit writes every B-tree
it touches, and an indexed table per record made a create write about 18 WAL pages across
14 B-trees, at 0.5 x the memory store's speed. Appending one row to one table writes one
page, or three when the row begins a new page (that page, its parent and the file's header),
with one statement (``docs/performance.md``, section 8). The costs: the records
are in memory (as with the memory store), and opening a file reads all of it. A record
changed many times is in the journal once per change; opening a file whose journal holds more
than twice the changes it needs rewrites it with one change per record.

A journal row is one operation: ``changes`` is a list of ``(kind, values)`` entries, ``kind``
naming the record type (or a deletion) and ``values`` the record's fields in their order; an
event, an idempotency record or a delivery attempt adds its ``bytes`` body, ``(kind, values,
body)``. The list is pickled (protocol 5, which every Python from 3.8 reads the same): bytes go
in as they are, not escaped, and it costs a sixth or less of a JSON encoding. Only plain
values go in (None, bool, int, float, str, bytes, list, tuple, dict, and the set, frozenset and
bytearray that pickle writes on its own): writing anything else fails the operation, and so does
a record body that is not ``bytes``. Reading a row runs a restricted unpickler that refuses
every global, so a file can never make the process import or call anything; a crafted or
damaged row (one with an impossible length too) is reported as a damaged row. A body is
kept once: an attempt whose body is its event's (every attempt's is) keeps none, and a body
that is part of an earlier body of the same row (the stored answer to a create is the payment's
JSON, which its event's body holds too) is kept as ``(position, start, stop)``, a slice of the
body of the row's change at ``position``. A commit is that one ``INSERT``, which SQLite makes
a transaction of its own; ``BEGIN IMMEDIATE`` and ``COMMIT`` are sent only when settings or a
``clear()`` go with it. ``tests/persistence/test_sqlite_statements.py`` pins each operation's
statements. ``clear()`` empties the journal. Settings (the seed and the secrets' inputs, never
the API key itself) are a table of their own.

Durability: ``synchronous=NORMAL`` by default. In WAL mode a commit is written to the WAL file
before ``COMMIT`` returns, and only the ``fsync`` is skipped; a killed process (SIGKILL, a crash,
an OOM kill) loses nothing that was committed, because the data is already in the operating
system's page cache. Only an operating-system crash or power loss can drop the last commits,
never corrupt the file. Pass ``synchronous="FULL"`` to survive those too, at the cost of an
``fsync`` per operation. Checkpoints (copying the WAL into the database file, with an
``fsync`` of each) are run by a thread of the store, with a connection of its own, every
``_CHECKPOINT_EVERY`` commits, so a request does not wait for one; only when writes never pause
and the WAL passes ``_WAL_PAGES_LIMIT`` pages does the thread hold requests back while it copies
the last commits (see ``_Checkpointer``). One file is for one server at a time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import operator
import os
import pickle
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
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
from pytest_paysim.core.store import MemoryStore
from pytest_paysim.errors import ConfigurationError

__all__ = ["SCHEMA_VERSION", "SqliteStore"]

SCHEMA_VERSION = 9
"""Stored in ``PRAGMA user_version``; a file of another version is refused, not migrated.

5: records as columns instead of JSON, no ``AUTOINCREMENT``, idempotency records in a rowid
table.
6: dialects: a ``dialect`` column on payments, events and deliveries, the Stripe fields of a
payment and a refund, a charges table.
7: one journal of every change instead of a table per record (records live in memory);
customers and payment methods.
8: a webhook endpoint's ``dialect``, ``description``, ``metadata`` and ``status``.
9: a journal row is one pickled list of changes (plain values only), bodies inside it, a body
that is part of an earlier one kept as a slice of it."""

_SYNCHRONOUS = ("NORMAL", "FULL")
_WAL_SIZE_LIMIT = 64 * 1024 * 1024
_CHECKPOINT_EVERY = 200
"""Commits between two checkpoints of the checkpoint thread (a create writes 1-2 WAL pages)."""
_WAL_PAGES_LIMIT = 4000
"""WAL pages (16 MiB) past which the checkpoint thread copies the rest holding the store's lock:
writes that never pause leave it no moment to copy the whole WAL, and only a whole copy lets
the WAL start over."""
_COMPACT_ABOVE = 1000
"""Changes below which opening never rewrites the journal."""
_COMPACT_ROW = 500
"""Records a row of a rewritten journal holds."""

_SCHEMA = """
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY,
    changes BLOB NOT NULL  -- one operation's changes, in their order, pickled (plain values)
);
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"""

_APPEND = "INSERT INTO journal (changes) VALUES (?)"
_SAVE_SETTING = "INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)"

_Change = tuple[Any, ...]
"""``(kind, values)``, or ``(kind, values, body)`` for a record with a ``bytes`` field: the
bytes, or ``(position, start, stop)``, a slice of the body of the row's change at ``position``."""

_PROTOCOL = 5
_SHARED_BODY_MIN = 64
"""Bodies shorter than this are kept as they are, never looked for in the row's other bodies."""
_SHARED_BODY_LOOKBACK = 4
"""How many of a row's earlier bodies a body is looked for in."""


class _RowPickler(pickle.Pickler):
    """Pickles plain values only: a value of any other type (a class, an enum, a subclass of
    ``str``) fails the write, since reading it back would need a global. (``set``,
    ``frozenset`` and ``bytearray`` never reach :meth:`reducer_override`: pickle writes them
    itself, and they read back without a global.)"""

    def reducer_override(self, obj: Any) -> Any:
        # Called only for the types pickle has no fast path of its own for: never a plain one.
        raise TypeError(
            f"a journal row holds plain values only, not {type(obj).__module__}."
            f"{type(obj).__qualname__}"
        )


class _Encoder:
    """One reused pickler and buffer (used under the store's lock). The pickler runs in fast
    mode, without a memo: a row's values hold no cycles, and half its cost is the memo."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._pickler = self._new_pickler()

    def _new_pickler(self) -> _RowPickler:
        pickler = _RowPickler(self._buffer, _PROTOCOL)
        pickler.fast = True
        return pickler

    def encode(self, changes: list[_Change]) -> bytes:
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        try:
            self._pickler.dump(changes)
        except BaseException:
            self._pickler = self._new_pickler()  # a failed dump may leave it mid-way
            raise
        return buffer.getvalue()


class _RowUnpickler(pickle.Unpickler):
    """Reads a journal row, refusing every global: a row can make lists, dicts, strings and
    numbers, never import or call anything."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(
            f"a journal row names {module}.{name}; paysim rows hold plain values only"
        )


def _decode(blob: bytes) -> list[Any]:
    """The changes of a journal row; ``ValueError`` when it is not a list of changes."""
    try:
        changes = _RowUnpickler(io.BytesIO(blob)).load()
    except (OverflowError, MemoryError) as error:  # a length no row can have: damaged bytes
        raise ValueError(f"a length in the row is impossible ({error!r})") from None
    if not isinstance(changes, list):
        raise ValueError(f"a journal row is a list of changes, not {type(changes).__name__}")
    return changes


class _Codec:
    """How one record type becomes a journal change and back: its fields in their order, but
    the ``bytes`` field (``body``), which the change carries after them; ``nested`` list fields
    hold other records (a payment's refunds and charges)."""

    def __init__(
        self, kind: str, record_type: type, *, body: str | None = None, **nested: _Codec
    ) -> None:
        self.kind = kind
        self.record_type = record_type
        self.fields = tuple(f.name for f in dataclasses.fields(record_type) if f.init)
        self.body = body
        kept = [name for name in self.fields if name != body]
        self._values = operator.attrgetter(*kept)  # one C call for every field
        self._nested = tuple((kept.index(name), codec) for name, codec in nested.items())
        self._body_position = None if body is None else self.fields.index(body)

    def values(self, record: Any) -> Sequence[Any]:
        """The record's fields, but its body, as plain values (nested records as lists)."""
        fields: tuple[Any, ...] = self._values(record)
        if not self._nested:
            return fields
        values = list(fields)
        for position, codec in self._nested:
            if values[position]:
                values[position] = [codec.values(item) for item in values[position]]
        return values

    def record(self, stored: Sequence[Any], body: bytes | None = None) -> Any:
        """The record of ``stored`` (as :meth:`values` made them) and its ``body``."""
        values = list(stored)
        for position, codec in self._nested:
            values[position] = [codec.record(item) for item in values[position]]
        if self._body_position is not None:
            values.insert(self._body_position, b"" if body is None else body)
        return self.record_type(*values)


_REFUND = _Codec("refund", Refund)
_CHARGE = _Codec("charge", Charge)
_PAYMENT = _Codec("payment", Payment, refunds=_REFUND, charges=_CHARGE)
_EVENT = _Codec("event", Event, body="body")
_IDEMPOTENCY = _Codec("idempotency", IdempotencyRecord, body="body")
_ENDPOINT = _Codec("endpoint", WebhookEndpoint)
_DELIVERY = _Codec("delivery", DeliveryAttempt, body="body")
_CUSTOMER = _Codec("customer", Customer)
_PAYMENT_METHOD = _Codec("payment_method", PaymentMethod)
_CODECS = {
    codec.kind: codec
    for codec in (
        _REFUND,
        _CHARGE,
        _PAYMENT,
        _EVENT,
        _IDEMPOTENCY,
        _ENDPOINT,
        _DELIVERY,
        _CUSTOMER,
        _PAYMENT_METHOD,
    )
}
_DELETE_IDEMPOTENCY = "-idempotency"
_DELETE_ENDPOINT = "-endpoint"


class SqliteStore(MemoryStore):
    """The simulator's records in memory and in a SQLite file; the interface of ``MemoryStore``."""

    def __init__(self, path: Path, *, synchronous: str = "NORMAL") -> None:
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ConfigurationError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        super().__init__()
        self.path = Path(path)
        self._lock = threading.RLock()
        self._unwritten: list[tuple[Any, Any]] = []
        """The running transaction's changes, in order: ``(codec, record)`` for a record
        saved, ``(kind, values)`` for a deletion. The commit makes them its journal row."""
        self._encoder = _Encoder()
        self._block = _Transaction(self)
        self._settings_written: dict[str, str] = {}
        self._cleared = False
        self._commits = 0
        self._checkpointer: _Checkpointer | None = None
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
            self._load()
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

    def _load(self) -> None:
        """Replay the journal into memory; rewrite it when most of its changes are superseded."""
        changes = 0
        for seq, blob in self._conn.execute("SELECT seq, changes FROM journal ORDER BY seq"):
            try:
                row = _decode(blob)
                for position, change in enumerate(row):
                    body = None
                    if len(change) > 2:
                        body = change[2]
                        if type(body) is tuple:
                            source, start, stop = body
                            if not 0 <= source < position:
                                raise ValueError(f"a body is a slice of change {source}")
                            body = row[source][2][start:stop]
                        if type(body) is not bytes:
                            raise ValueError(f"a body is bytes, not {type(body).__name__}")
                    self._replay(change[0], change[1], body)
                    changes += 1
            except (
                pickle.UnpicklingError,
                EOFError,
                ValueError,
                TypeError,
                KeyError,
                IndexError,
                AttributeError,
                RecursionError,
            ) as error:
                raise ConfigurationError(
                    f"{str(self.path)!r} has a damaged journal row ({seq}): {error!r}"
                ) from None
        for name, value in self._conn.execute("SELECT name, value FROM settings"):
            MemoryStore.set_setting(self, name, value)
        stored = sum(len(records) for _, records in self._stored())
        if changes > _COMPACT_ABOVE and changes > 2 * stored:
            live = list(self._live_changes())  # encoded only when the journal is rewritten
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("DELETE FROM journal")
                for start in range(0, len(live), _COMPACT_ROW):
                    row = live[start : start + _COMPACT_ROW]
                    self._conn.execute(_APPEND, (self._encoder.encode(row),))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def _replay(self, kind: str, values: Sequence[Any], body: bytes | None) -> None:
        if kind == _DELETE_IDEMPOTENCY:
            MemoryStore.delete_idempotency(self, values[0], values[1])
        elif kind == _DELETE_ENDPOINT:
            MemoryStore.delete_endpoint(self, values[0])
        elif kind == "delivery":
            if body is None:
                event = self.get_event(values[1])
                body = None if event is None else event.body
            MemoryStore.save_delivery(self, _DELIVERY.record(values, body))
        elif kind == "event":
            MemoryStore.add_event(self, _EVENT.record(values, body))
        else:
            codec = _CODECS[kind]
            saver = getattr(MemoryStore, f"save_{kind}")
            saver(self, codec.record(values, body))

    def _stored(self) -> tuple[tuple[_Codec, Mapping[Any, Any]], ...]:
        """Each kind of record and where memory keeps it, events before their deliveries."""
        return (
            (_PAYMENT, self._payments),
            (_REFUND, self._refunds),
            (_CHARGE, self._charges),
            (_EVENT, self._events),
            (_IDEMPOTENCY, self._idempotency),
            (_ENDPOINT, self._endpoints),
            (_DELIVERY, self._deliveries),
            (_CUSTOMER, self._customers),
            (_PAYMENT_METHOD, self._payment_methods),
        )

    def _live_changes(self) -> Iterator[_Change]:
        """One change per stored record, in stored order."""
        for codec, records in self._stored():
            for record in records.values():
                yield self._change(codec, record)

    def _change(self, codec: _Codec, record: Any, *, event_to_come: bool = False) -> _Change:
        """The journal entry of ``record``. An attempt's body is left to its event unless the
        event comes later in the same row (``event_to_come``): replay would meet the attempt
        first, with no event to take the body from."""
        if codec.body is None:
            return (codec.kind, codec.values(record))
        body: bytes = getattr(record, codec.body)
        if codec is _DELIVERY and not event_to_come:
            event = self.get_event(record.event_id)
            if event is not None and (event.body is body or event.body == body):
                return (codec.kind, codec.values(record))  # kept once, with the event
        return (codec.kind, codec.values(record), body)

    # -- transactions and lifecycle ------------------------------------------------------------

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Changes in memory at once and in the file when the outermost block ends, as one
        journal row. An exception, or a failed write of the file, takes everything back in
        both. Nested calls join the outer one."""
        return self._block

    def _begin(self) -> None:
        self._unwritten = []
        self._undo = []  # MemoryStore's undo log: how to take each change back

    def _end(self, committing: bool) -> None:
        """Write the row (when ``committing``), or take memory back; then leave the block."""
        undo = self._undo
        try:
            if committing:
                try:
                    self._write()
                except BaseException:
                    committing = False
                    raise
        finally:
            try:
                if not committing and undo:
                    for step in reversed(undo):
                        step()
            finally:  # after the undo: a clear() taken back puts back all it found
                self._undo = None
                self._unwritten = []
                self._settings_written = {}
                self._cleared = False

    def _write(self) -> None:
        pending, settings = self._unwritten, self._settings_written
        if not pending and not settings and not self._cleared:
            return  # it only read
        conn = self._conn
        if pending and not settings and not self._cleared:
            # One statement: SQLite makes it a transaction of its own (no BEGIN, no COMMIT).
            conn.execute(_APPEND, (self._encoder.encode(self._row(pending)),))
        else:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if self._cleared:
                    conn.execute("DELETE FROM journal")
                if pending:
                    conn.execute(_APPEND, (self._encoder.encode(self._row(pending)),))
                if settings:
                    conn.executemany(_SAVE_SETTING, settings.items())
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        self._commits += 1
        if self._commits >= _CHECKPOINT_EVERY and self._checkpointer is not None:
            self._commits = 0
            self._checkpointer.request()

    def _row(self, pending: list[tuple[Any, Any]]) -> list[_Change]:
        """The journal row of a transaction's changes: each body kept once."""
        row: list[_Change] = []
        bodies: list[tuple[int, bytes]] = []  # the bodies the row keeps, and where
        events_to_come = {record.id for codec, record in pending if codec is _EVENT}
        for first, second in pending:
            if first.__class__ is not _Codec:
                row.append((first, second))  # a deletion
                continue
            if first is _EVENT:
                events_to_come.discard(second.id)
            later = first is _DELIVERY and second.event_id in events_to_come
            change = self._change(first, second, event_to_come=later)
            if len(change) < 3:
                row.append(change)
                continue
            body: bytes = change[2]
            if type(body) is not bytes:
                # Read back, anything else would make the file refuse to open.
                raise TypeError(f"a record's body is bytes, not {type(body).__name__}")
            if len(body) >= _SHARED_BODY_MIN:
                for position, earlier in reversed(bodies[-_SHARED_BODY_LOOKBACK:]):
                    start = earlier.find(body)
                    if start >= 0:  # kept once: as a slice of the earlier body
                        change = (change[0], change[1], (position, start, start + len(body)))
                        break
                else:
                    bodies.append((len(row), body))
            row.append(change)
        return row

    def clear(self) -> None:
        """Remove every record (settings stay)."""
        with self.transaction():
            super().clear()
            self._unwritten.clear()  # the journal is emptied first: earlier rows would go too
            self._cleared = True

    def close(self) -> None:
        """Close the connection; a clean close also folds the WAL file into the database."""
        # The checkpoint thread first (it may be waiting for the lock): the connection closed
        # last checkpoints the rest and removes the WAL file.
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.close()
        with self._lock:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._conn.close()

    def trace(self, callback: Callable[[str], object] | None) -> None:
        """Call ``callback`` with each statement the store runs (its text, values filled in);
        None stops. For tests and benchmarks: the checkpoint thread's statements are not
        included."""
        with self._lock:
            self._conn.set_trace_callback(callback)

    # -- changes: in memory (MemoryStore), then a journal row ------------------------------------

    def save_payment(self, payment: Payment) -> None:
        with self._block:  # joins the running one, or is its own
            super().save_payment(payment)
            self._unwritten.append((_PAYMENT, payment))

    def save_refund(self, refund: Refund) -> None:
        with self._block:  # joins the running one, or is its own
            super().save_refund(refund)
            self._unwritten.append((_REFUND, refund))

    def save_charge(self, charge: Charge) -> None:
        with self._block:  # joins the running one, or is its own
            super().save_charge(charge)
            self._unwritten.append((_CHARGE, charge))

    def add_event(self, event: Event) -> None:
        with self._block:  # joins the running one, or is its own
            super().add_event(event)
            self._unwritten.append((_EVENT, event))

    def save_idempotency(self, record: IdempotencyRecord) -> None:
        with self._block:  # joins the running one, or is its own
            super().save_idempotency(record)
            self._unwritten.append((_IDEMPOTENCY, record))

    def delete_idempotency(self, scope: str, key: str) -> None:
        with self._block:  # joins the running one, or is its own
            super().delete_idempotency(scope, key)
            self._unwritten.append((_DELETE_IDEMPOTENCY, (scope, key)))

    def save_endpoint(self, endpoint: WebhookEndpoint) -> None:
        with self._block:  # joins the running one, or is its own
            super().save_endpoint(endpoint)
            self._unwritten.append((_ENDPOINT, endpoint))

    def delete_endpoint(self, endpoint_id: str) -> None:
        with self._block:  # joins the running one, or is its own
            super().delete_endpoint(endpoint_id)
            self._unwritten.append((_DELETE_ENDPOINT, (endpoint_id,)))

    def save_delivery(self, attempt: DeliveryAttempt) -> None:
        with self._block:  # joins the running one, or is its own
            super().save_delivery(attempt)
            self._unwritten.append((_DELIVERY, attempt))

    def save_customer(self, customer: Customer) -> None:
        with self._block:  # joins the running one, or is its own
            super().save_customer(customer)
            self._unwritten.append((_CUSTOMER, customer))

    def save_payment_method(self, payment_method: PaymentMethod) -> None:
        with self._block:  # joins the running one, or is its own
            super().save_payment_method(payment_method)
            self._unwritten.append((_PAYMENT_METHOD, payment_method))

    def set_setting(self, name: str, value: str) -> None:
        with self.transaction():
            super().set_setting(name, value)
            self._settings_written[name] = value


class _Transaction:
    """The block of :meth:`SqliteStore.transaction`: a class rather than a generator, since
    every operation enters it (a request with an ``Idempotency-Key`` twice) and every change
    too (a change made outside a transaction is one of its own, so that memory is taken back
    when the file write fails). The store's lock is held inside; only the outermost block
    begins and ends the transaction."""

    __slots__ = ("_depth", "_store")

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._depth = 0

    def __enter__(self) -> None:
        self._store._lock.acquire()
        self._depth += 1
        if self._depth == 1:
            self._store._begin()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self._depth -= 1
            if self._depth == 0:
                self._store._end(exc_type is None)
        finally:
            self._store._lock.release()


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


# -- files --------------------------------------------------------------------------------------


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

"""Edge cases of the journal's rows (schema 9): damaged lengths, an attempt saved before its
event, and what the row pickler takes."""

from __future__ import annotations

import pickle
import sqlite3
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from pytest_paysim.core.sqlite_store import SqliteStore
from pytest_paysim.errors import ConfigurationError
from tests.persistence.test_store_contract import delivery, event, payment


def _append_row(path: Path, blob: bytes) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("INSERT INTO journal (changes) VALUES (?)", (blob,))
        conn.commit()
    finally:
        conn.close()


_HEADER = b"\x80\x05"


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(_HEADER + pickle.FRAME + struct.pack("<Q", 2**63 + 1) + b".", id="frame"),
        pytest.param(
            _HEADER + pickle.BINBYTES8 + struct.pack("<Q", 2**63 + 1) + b"x.", id="bytes-overflow"
        ),
        pytest.param(
            _HEADER + pickle.BINUNICODE8 + struct.pack("<Q", 2**63 + 1) + b"x.", id="str-overflow"
        ),
        pytest.param(
            _HEADER + pickle.BINBYTES8 + struct.pack("<Q", 2**62) + b"x.", id="bytes-too-large"
        ),
    ],
)
def test_a_row_with_an_impossible_length_is_reported_as_damaged(tmp_path: Path, row: bytes) -> None:
    db = tmp_path / "s.db"
    SqliteStore(db).close()
    _append_row(db, row)
    with pytest.raises(ConfigurationError, match=r"damaged journal row \(1\)"):
        SqliteStore(db)


def test_an_attempt_saved_before_its_event_keeps_its_body_in_the_file(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    created = event(1, payment(1).id)
    store = SqliteStore(db)
    with store.transaction():
        store.save_delivery(delivery(1, created))
        store.add_event(created)
    assert [attempt.body for attempt in store.pending_deliveries()] == [created.body]
    store.close()
    reopened = SqliteStore(db)
    try:
        assert [attempt.body for attempt in reopened.pending_deliveries()] == [created.body]
    finally:
        reopened.close()


def test_a_body_that_is_not_bytes_fails_the_write_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    created = event(1, payment(1).id)
    store = SqliteStore(db)
    try:
        with pytest.raises(TypeError, match="body is bytes, not bytearray"):
            store.add_event(replace(created, body=bytearray(created.body)))  # type: ignore[arg-type]
        assert store.get_event(created.id) is None
        store.add_event(created)  # the next write works
    finally:
        store.close()
    reopened = SqliteStore(db)
    try:
        found = reopened.get_event(created.id)
        assert found is not None
        assert found.body == created.body
    finally:
        reopened.close()


@pytest.mark.parametrize("value", [{1, 2}, frozenset({"a"}), bytearray(b"x")], ids=repr)
def test_the_containers_pickle_writes_itself_read_back_unchanged(
    tmp_path: Path, value: object
) -> None:
    db = tmp_path / "s.db"
    kept = replace(payment(1), attributes={"v": value})
    store = SqliteStore(db)
    store.save_payment(kept)
    store.close()
    reopened = SqliteStore(db)
    try:
        found = reopened.get_payment(kept.id)
        assert found is not None
        assert found.attributes == {"v": value}
        assert type(found.attributes["v"]) is type(value)
    finally:
        reopened.close()

"""Review of schema 9 (67bc95f..c38bb40): each test fails on main and names a finding."""

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
    conn.execute("INSERT INTO journal (changes) VALUES (?)", (blob,))
    conn.commit()
    conn.close()


# F1: a 16-byte row escapes as OverflowError / MemoryError, not "damaged journal row".
@pytest.mark.parametrize(
    "row",
    [
        pytest.param(
            b"\x80\x05" + pickle.FRAME + struct.pack("<Q", 2**63 + 1) + b".", id="frame-overflow"
        ),
        pytest.param(
            b"\x80\x05" + pickle.BINBYTES8 + struct.pack("<Q", 2**63 + 1) + b"x.",
            id="binbytes8-overflow",
        ),
        pytest.param(
            b"\x80\x05" + pickle.BINUNICODE8 + struct.pack("<Q", 2**63 + 1) + b"x.",
            id="binunicode8-overflow",
        ),
        pytest.param(
            b"\x80\x05" + pickle.BINBYTES8 + struct.pack("<Q", 2**62) + b"x.",
            id="binbytes8-memoryerror",
        ),
    ],
)
def test_a_row_with_an_impossible_length_is_a_damaged_row(tmp_path: Path, row: bytes) -> None:
    db = tmp_path / "s.db"
    SqliteStore(db).close()
    _append_row(db, row)
    with pytest.raises(ConfigurationError, match=r"damaged journal row \(1\)"):
        SqliteStore(db)


# F2: a delivery saved before its event in the same transaction loses its body on reopen
# (its body is dropped at commit because the event is in memory by then; replay finds no
# event yet). The change was made into a journal entry at save time before 091eb35.
def test_a_delivery_saved_before_its_event_keeps_its_body(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    ev = event(1, payment(1).id)
    store = SqliteStore(db)
    with store.transaction():
        store.save_delivery(delivery(1, ev))
        store.add_event(ev)
    assert [a.body for a in store.pending_deliveries()] == [ev.body]
    store.close()
    reopened = SqliteStore(db)
    try:
        assert [a.body for a in reopened.pending_deliveries()] == [ev.body]
    finally:
        reopened.close()


# F3: the writer accepts set, frozenset and bytearray (pickle's own fast paths, before
# reducer_override); docs say only None/bool/int/float/str/bytes/list/tuple/dict go in.
# A bytearray body is written and then refused on reopen: the file no longer opens.
def test_a_bytearray_body_is_refused_on_write_or_read_back(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    ev = event(1, payment(1).id)
    store = SqliteStore(db)
    try:
        store.add_event(replace(ev, body=bytearray(ev.body)))  # type: ignore[arg-type]
    except TypeError:
        store.close()
        return  # refused at the write: fine
    store.close()
    SqliteStore(db).close()  # fails on main: "a body is bytes, not bytearray"


@pytest.mark.parametrize("value", [{1, 2}, frozenset({1}), bytearray(b"x")], ids=repr)
def test_only_the_documented_plain_types_are_written(tmp_path: Path, value: object) -> None:
    store = SqliteStore(tmp_path / "s.db")
    try:
        with pytest.raises(TypeError, match="plain values only"):
            store.save_payment(replace(payment(1), attributes={"v": value}))
    finally:
        store.close()

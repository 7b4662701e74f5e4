"""The ``--db`` file: readable by its owner only, and no API key in it."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from pytest_paysim.core import sqlite_store
from pytest_paysim.server import PaysimServer

API_KEY = "sk_test_" + "K" * 24


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "paysim.sqlite"
    old_umask = os.umask(0o022)  # the usual umask would make a world-readable file
    try:
        with PaysimServer(seed=3, db=db) as server:
            server.client.post("/v1/payments", json={"amount": 100, "currency": "usd"})
            files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
            present = [path for path in files if path.exists()]
            assert db in present
            assert len(present) == 3, present  # WAL mode: both side files exist while open
            for path in present:
                assert _mode(path) == 0o600, (path, oct(_mode(path)))
    finally:
        os.umask(old_umask)
    assert _mode(db) == 0o600


def test_the_api_key_is_nowhere_in_the_file(tmp_path: Path) -> None:
    db = tmp_path / "paysim.sqlite"
    with PaysimServer(seed=3, db=db, api_key=API_KEY) as server:
        created = server.client.post(
            "/v1/payments",
            json={"amount": 100, "currency": "usd"},
            headers={"Idempotency-Key": "order-1"},
        )
        assert created.status_code == 201
    raw = db.read_bytes() + (Path(f"{db}-wal").read_bytes() if Path(f"{db}-wal").exists() else b"")
    assert API_KEY.encode() not in raw
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT changes FROM journal").fetchall()
        changes = [change for (blob,) in rows for change in sqlite_store._decode(blob)]
        scopes = [values[0] for kind, values, *_ in changes if kind == "idempotency"]
        settings = dict(conn.execute("SELECT name, value FROM settings").fetchall())
    assert len(scopes) == 1
    assert API_KEY not in scopes[0]
    assert "api_key" not in settings
    assert API_KEY not in settings.values()


def test_a_restart_with_the_same_key_replays_stored_answers(tmp_path: Path) -> None:
    db = tmp_path / "paysim.sqlite"
    body = {"amount": 100, "currency": "usd"}
    with PaysimServer(seed=3, db=db, api_key=API_KEY) as first:
        made = first.client.post("/v1/payments", json=body, headers={"Idempotency-Key": "k1"})
    with PaysimServer(seed=8, db=db, api_key=API_KEY) as second:
        again = second.client.post("/v1/payments", json=body, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == made.json()


def test_an_empty_file_paysim_fills_becomes_private(tmp_path: Path) -> None:
    db = tmp_path / "paysim.sqlite"
    db.touch()
    os.chmod(db, 0o644)  # as mktemp or touch may leave it
    with PaysimServer(seed=3, db=db):
        pass
    assert _mode(db) == 0o600


def test_a_paysim_database_keeps_the_mode_its_owner_gave_it(tmp_path: Path) -> None:
    db = tmp_path / "paysim.sqlite"
    with PaysimServer(seed=3, db=db):
        pass
    os.chmod(db, 0o640)
    with PaysimServer(seed=3, db=db):
        pass
    assert _mode(db) == 0o640

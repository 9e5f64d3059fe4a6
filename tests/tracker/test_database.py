"""The storage layer: migrations, durability settings, append-only audit log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tracker_service.lib.db import Database, SchemaTooNew
from tracker_service.lib.schema import MIGRATIONS


def test_new_database_is_migrated_wal_with_foreign_keys(tmp_path: Path) -> None:
    """A new file gets every migration, WAL journaling and enforced foreign keys."""
    db = Database(tmp_path / "t.db")
    assert db.schema_version == len(MIGRATIONS)
    with db.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(sqlite3.IntegrityError), db.transaction() as tx:
        tx.execute(
            "INSERT INTO holds (metrc_number, grams_mg, reason, created_by, created_at)"
            " VALUES ('NOPE', 1, 'r', 'me', 'now')"
        )
    db.close()
    assert Database(tmp_path / "t.db").schema_version == len(MIGRATIONS)  # reopening is a no-op


def test_database_from_a_newer_tracker_is_refused(tmp_path: Path) -> None:
    """An older tracker will not write to a schema it does not know."""
    path = tmp_path / "t.db"
    Database(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(SchemaTooNew, match="upgrade preroll-tracker"):
        Database(path)


def test_audit_log_is_append_only(tmp_path: Path) -> None:
    """UPDATE and DELETE on the audit log are refused by the database itself."""
    db = Database(tmp_path / "t.db")
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO audit_log (metrc_number, at, actor, action, field, reason)"
            " VALUES ('X', 'now', 'me', 'adjust', 'current_grams', 'Waste')"
        )
    for statement in ("UPDATE audit_log SET reason = 'Theft'", "DELETE FROM audit_log"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"), db.transaction() as tx:
            tx.execute(statement)
    with db.read() as conn:
        assert conn.execute("SELECT reason FROM audit_log").fetchall()[0][0] == "Waste"


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    """An exception inside a transaction rolls back every statement of it."""
    db = Database(tmp_path / "t.db")
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
        raise RuntimeError("boom")
    with db.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM settings").fetchone()[0] == 0

"""The storage layer: migrations, durability settings, append-only audit log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tracker_service.finished_goods.repository import load_package
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


def test_an_existing_database_upgrades_keeping_its_lines(tmp_path: Path) -> None:
    """A database of the first release (schema 3) opens under this tracker: packages get their
    strain key, lines released by silence become 'released' by ApexAPI, open ones stay open
    with their grams on their package."""
    from tracker_service.lib.db import _statements

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        for script in MIGRATIONS[:3]:
            for statement in _statements(script):
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 3")
        conn.execute(
            "INSERT INTO packages (metrc_number, strain, status, initial_mg, current_mg,"
            " created_at, updated_at, status_changed_at)"
            " VALUES ('AAAAAAAAAA01', 'Blue-Dream', 'active', 5000, 5000, 't', 't', 't')"
        )
        for item_id, state in ((1, "open"), (2, "removed")):
            conn.execute(
                "INSERT INTO order_lines (item_id, order_id, invoice_number, store, strain, sku,"
                " units_ordered, units_packed, metrc_number, state, reserved_mg, first_seen_at,"
                " updated_at) VALUES (?, 1, 'INV-1', 'Shop', 'Blue Dream', 'singles_1g', 2, 0,"
                " 'AAAAAAAAAA01', ?, ?, 't', 'u')",
                (item_id, state, 2000 if state == "open" else 0),
            )
    db = Database(path)
    assert db.schema_version == len(MIGRATIONS)
    with db.read() as conn:
        assert conn.execute("SELECT strain_key FROM packages").fetchone()[0] == "blue dream"
        lines = conn.execute(
            "SELECT item_id, state, reserved_mg, released_by, released_at FROM order_lines"
            " ORDER BY item_id"
        ).fetchall()
        parts = conn.execute("SELECT * FROM order_line_parts ORDER BY item_id").fetchall()
        package = load_package(conn, "AAAAAAAAAA01")
    assert [tuple(row) for row in lines] == [
        (1, "open", 2000, None, None),
        (2, "released", 0, "apexapi (no longer reported)", "u"),
    ]
    assert [(p["item_id"], p["metrc_number"], p["reserved_mg"]) for p in parts] == [
        (1, "AAAAAAAAAA01", 2000)
    ]
    assert package is not None and package.lines_reserved_mg == 2000, (
        "the open line still holds its grams on the package"
    )
    db.close()

"""SQL for packages, holds, decrements and the audit log. Functions take a connection so that
services decide the transaction boundaries."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from tracker_service.finished_goods.records import Hold, PackageRecord
from tracker_service.finished_goods.skus import SkuSetting, SkuType

__all__ = [
    "AuditEntry",
    "append_audit",
    "insert_package",
    "load_package",
    "load_packages",
    "update_package",
]

_settings_decoder = msgspec.json.Decoder(dict[str, SkuSetting])
_custom_decoder = msgspec.json.Decoder(dict[str, SkuType])
_encoder = msgspec.json.Encoder()

_SELECT = """
SELECT p.*,
    COALESCE((SELECT SUM(reserved_mg) FROM order_lines l
              WHERE l.metrc_number = p.metrc_number AND l.state = 'open'), 0) AS lines_reserved_mg,
    COALESCE((SELECT SUM(packed_mg) FROM order_lines l
              WHERE l.metrc_number = p.metrc_number AND l.state = 'open'), 0) AS packed_mg
FROM packages p
"""


def _holds_by_package(
    conn: sqlite3.Connection, metrcs: Iterable[str] | None
) -> dict[str, list[Hold]]:
    if metrcs is None:
        rows = conn.execute("SELECT * FROM holds ORDER BY id").fetchall()
    else:
        wanted = list(metrcs)
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = conn.execute(
            f"SELECT * FROM holds WHERE metrc_number IN ({marks}) ORDER BY id", wanted
        ).fetchall()
    holds: dict[str, list[Hold]] = {}
    for row in rows:
        holds.setdefault(row["metrc_number"], []).append(
            Hold(row["id"], row["grams_mg"], row["reason"], row["created_by"], row["created_at"])
        )
    return holds


def _record(row: sqlite3.Row, holds: list[Hold]) -> PackageRecord:
    return PackageRecord(
        metrc_number=row["metrc_number"],
        strain=row["strain"],
        status=row["status"],
        initial_mg=row["initial_mg"],
        current_mg=row["current_mg"],
        override_mg=row["override_mg"],
        sold_mg=row["sold_mg"],
        lines_reserved_mg=row["lines_reserved_mg"],
        packed_mg=row["packed_mg"],
        holds=tuple(holds),
        settings=_settings_decoder.decode(row["sku_settings"]),
        custom_skus=_custom_decoder.decode(row["custom_skus"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status_changed_at=row["status_changed_at"],
    )


def load_package(conn: sqlite3.Connection, metrc_number: str) -> PackageRecord | None:
    row = conn.execute(_SELECT + " WHERE p.metrc_number = ?", (metrc_number,)).fetchone()
    if row is None:
        return None
    return _record(row, _holds_by_package(conn, [metrc_number]).get(metrc_number, []))


def load_packages(
    conn: sqlite3.Connection,
    *,
    metrc_numbers: Iterable[str] | None = None,
    where: str = "",
    params: tuple[Any, ...] = (),
) -> list[PackageRecord]:
    """Packages in creation order; ``metrc_numbers`` or a ``where`` clause narrow the set."""
    sql = _SELECT
    wanted: list[str] | None = None
    if metrc_numbers is not None:
        wanted = list(metrc_numbers)
        if not wanted:
            return []
        sql += f" WHERE p.metrc_number IN ({','.join('?' * len(wanted))})"
        params = tuple(wanted)
    elif where:
        sql += " WHERE " + where
    rows = conn.execute(sql + " ORDER BY p.created_at, p.metrc_number", params).fetchall()
    holds = _holds_by_package(conn, wanted if wanted is not None else None)
    return [_record(row, holds.get(row["metrc_number"], [])) for row in rows]


def insert_package(conn: sqlite3.Connection, record: PackageRecord) -> None:
    conn.execute(
        """INSERT INTO packages (metrc_number, strain, status, initial_mg, current_mg,
               override_mg, sold_mg, sku_settings, custom_skus, created_at, updated_at,
               status_changed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            record.metrc_number,
            record.strain,
            record.status,
            record.initial_mg,
            record.current_mg,
            record.override_mg,
            record.sold_mg,
            _encoder.encode(record.settings).decode(),
            _encoder.encode(record.custom_skus).decode(),
            record.created_at,
            record.updated_at,
            record.status_changed_at,
        ),
    )


_UPDATABLE = frozenset(
    {"strain", "status", "current_mg", "override_mg", "sold_mg", "status_changed_at"}
)


def update_package(
    conn: sqlite3.Connection,
    metrc_number: str,
    updated_at: str,
    columns: Mapping[str, object] | None = None,
    *,
    settings: dict[str, SkuSetting] | None = None,
    custom_skus: dict[str, SkuType] | None = None,
) -> None:
    """Set ``columns`` (and the JSON settings) of one package and bump its ``updated_at``."""
    columns = columns or {}
    unknown = set(columns) - _UPDATABLE
    if unknown:  # pragma: no cover - programming error
        raise ValueError(f"not updatable: {sorted(unknown)}")
    values: dict[str, object] = dict(columns)
    if settings is not None:
        values["sku_settings"] = _encoder.encode(settings).decode()
    if custom_skus is not None:
        values["custom_skus"] = _encoder.encode(custom_skus).decode()
    values["updated_at"] = updated_at
    assignments = ", ".join(f"{name} = ?" for name in values)
    conn.execute(
        f"UPDATE packages SET {assignments} WHERE metrc_number = ?",
        (*values.values(), metrc_number),
    )


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a package's append-only history."""

    metrc_number: str
    actor: str
    action: str
    field: str
    reason: str
    before_mg: int | None = None
    after_mg: int | None = None
    before_text: str | None = None
    after_text: str | None = None
    note: str | None = None


def append_audit(conn: sqlite3.Connection, at: str, entry: AuditEntry) -> None:
    conn.execute(
        """INSERT INTO audit_log (metrc_number, at, actor, action, field, before_mg, after_mg,
               before_text, after_text, reason, note)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            entry.metrc_number,
            at,
            entry.actor,
            entry.action,
            entry.field,
            entry.before_mg,
            entry.after_mg,
            entry.before_text,
            entry.after_text,
            entry.reason,
            entry.note,
        ),
    )


def load_history(conn: sqlite3.Connection, metrc_number: str) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT * FROM audit_log WHERE metrc_number = ? ORDER BY id", (metrc_number,)
    ).fetchall()

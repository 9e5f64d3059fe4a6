"""SQL for packages, holds, decrements and the audit log: typed query functions that take a
connection, so services decide the transaction boundaries and never see SQL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from preroll_contract import strain_key as key_of_strain
from tracker_service.finished_goods.records import AuditRow, Hold, PackageRecord
from tracker_service.finished_goods.skus import SkuSetting, SkuType
from tracker_service.lib.db import Conn

__all__ = [
    "AuditEntry",
    "DecrementRow",
    "add_to_initial",
    "append_audit",
    "delete_hold",
    "find_decrement",
    "insert_decrement",
    "insert_hold",
    "insert_package",
    "load_active_by_strain",
    "load_active_packages",
    "load_history",
    "load_package",
    "load_packages",
    "load_packages_by_tag",
    "load_sellable_or_retired_since",
    "update_package",
]

_settings_decoder = msgspec.json.Decoder(dict[str, SkuSetting])
_custom_decoder = msgspec.json.Decoder(dict[str, SkuType])
_encoder = msgspec.json.Encoder()

_SELECT = """
SELECT p.*,
    COALESCE((SELECT SUM(t.reserved_mg) FROM order_line_parts t JOIN order_lines l USING (item_id)
              WHERE t.metrc_number = p.metrc_number AND l.state = 'open'), 0) AS lines_reserved_mg,
    COALESCE((SELECT SUM(t.packed_mg) FROM order_line_parts t JOIN order_lines l USING (item_id)
              WHERE t.metrc_number = p.metrc_number AND l.state = 'open'), 0) AS packed_mg
FROM packages p
"""
_ORDER = " ORDER BY p.created_at, p.metrc_number"


def _holds_by_package(conn: Conn, metrcs: list[str] | None) -> dict[str, list[Hold]]:
    if metrcs is None:
        rows = conn.execute("SELECT * FROM holds ORDER BY id").fetchall()
    elif not metrcs:
        return {}
    else:
        marks = ",".join("?" * len(metrcs))
        rows = conn.execute(
            f"SELECT * FROM holds WHERE metrc_number IN ({marks}) ORDER BY id", metrcs
        ).fetchall()
    holds: dict[str, list[Hold]] = {}
    for row in rows:
        holds.setdefault(row["metrc_number"], []).append(
            Hold(row["id"], row["grams_mg"], row["reason"], row["created_by"], row["created_at"])
        )
    return holds


def _json_columns(row: Any) -> tuple[dict[str, SkuSetting], dict[str, SkuType], str | None]:
    """The SKU settings and custom SKUs of a row; a column that cannot be read is a problem
    of that package alone (reported in its /apex-calculate entry), never an error for all."""
    try:
        settings = _settings_decoder.decode(row["sku_settings"])
    except (msgspec.DecodeError, msgspec.ValidationError, TypeError) as exc:
        return {}, {}, f"the stored SKU settings cannot be read ({exc}); save them again"
    try:
        custom = _custom_decoder.decode(row["custom_skus"])
    except (msgspec.DecodeError, msgspec.ValidationError, TypeError) as exc:
        return settings, {}, f"the stored custom SKUs cannot be read ({exc}); save them again"
    return settings, custom, None


_MG_COLUMNS = (
    "initial_mg",
    "current_mg",
    "override_mg",
    "sold_mg",
    "lines_reserved_mg",
    "packed_mg",
)


def _milligrams(row: Any) -> tuple[dict[str, Any], str | None]:
    """The gram columns as integers; one that is not (a hand edit) becomes 0 and a problem."""
    values: dict[str, Any] = {}
    problem = None
    for name in _MG_COLUMNS:
        value = row[name]
        if value is None and name == "override_mg":
            values[name] = None
        elif isinstance(value, int) and not isinstance(value, bool):
            values[name] = value
        else:
            values[name] = 0
            problem = problem or f"the stored {name} is {value!r}, not a number of milligrams"
    return values, problem


def _record(row: Any, holds: list[Hold]) -> PackageRecord:
    settings, custom, problem = _json_columns(row)
    amounts, not_numbers = _milligrams(row)
    return PackageRecord(
        metrc_number=row["metrc_number"],
        strain=row["strain"],
        status=row["status"],
        **amounts,
        holds=tuple(holds),
        settings=settings,
        custom_skus=custom,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status_changed_at=row["status_changed_at"],
        load_problem=not_numbers or problem,
    )


def _select(
    conn: Conn, where: str, params: tuple[Any, ...], tags: list[str] | None = None
) -> list[PackageRecord]:
    rows = conn.execute(_SELECT + where + _ORDER, params).fetchall()
    holds = _holds_by_package(conn, tags)
    return [_record(row, holds.get(row["metrc_number"], [])) for row in rows]


def load_package(conn: Conn, metrc_number: str) -> PackageRecord | None:
    found = _select(conn, " WHERE p.metrc_number = ?", (metrc_number,), [metrc_number])
    return found[0] if found else None


def load_packages(
    conn: Conn, *, status: str | None = None, strain_key: str | None = None
) -> list[PackageRecord]:
    """Every package in creation order, narrowed by status and strain when given."""
    clauses, params = [], []
    if status is not None:
        clauses.append("p.status = ?")
        params.append(status)
    if strain_key is not None:
        clauses.append("p.strain_key = ?")
        params.append(strain_key)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return _select(conn, where, tuple(params))


def load_packages_by_tag(conn: Conn, metrc_numbers: Iterable[str]) -> list[PackageRecord]:
    tags = list(metrc_numbers)
    if not tags:
        return []
    marks = ",".join("?" * len(tags))
    return _select(conn, f" WHERE p.metrc_number IN ({marks})", tuple(tags), tags)


def load_active_packages(conn: Conn) -> list[PackageRecord]:
    return load_packages(conn, status="active")


def load_active_by_strain(conn: Conn, strain_key: str) -> list[PackageRecord]:
    """Active packages of one strain (by ``preroll_contract.strain_key``), oldest first."""
    return load_packages(conn, status="active", strain_key=strain_key)


def load_sellable_or_retired_since(conn: Conn, since: str) -> list[PackageRecord]:
    """Active packages, plus those archived or orphaned at ``since`` or later."""
    return _select(conn, " WHERE p.status = 'active' OR p.status_changed_at >= ?", (since,))


def insert_package(conn: Conn, record: PackageRecord) -> None:
    conn.execute(
        """INSERT INTO packages (metrc_number, strain, strain_key, status, initial_mg,
               current_mg, override_mg, sold_mg, sku_settings, custom_skus, created_at,
               updated_at, status_changed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            record.metrc_number,
            record.strain,
            record.strain_key,
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
    conn: Conn,
    metrc_number: str,
    updated_at: str,
    columns: dict[str, object] | None = None,
    *,
    settings: dict[str, SkuSetting] | None = None,
    custom_skus: dict[str, SkuType] | None = None,
) -> None:
    """Set ``columns`` (and the JSON settings) of one package and bump its ``updated_at``."""
    values: dict[str, object] = dict(columns or {})
    unknown = set(values) - _UPDATABLE
    if unknown:  # pragma: no cover - programming error
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if "strain" in values:
        values["strain_key"] = key_of_strain(str(values["strain"]))
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


def add_to_initial(conn: Conn, metrc_number: str, milligrams: int) -> None:
    """Production added to a package: ``initial_mg`` counts everything ever produced into it."""
    conn.execute(
        "UPDATE packages SET initial_mg = initial_mg + ? WHERE metrc_number = ?",
        (milligrams, metrc_number),
    )


def insert_hold(
    conn: Conn, metrc_number: str, grams_mg: int, reason: str, actor: str, at: str
) -> Hold:
    cursor = conn.execute(
        "INSERT INTO holds (metrc_number, grams_mg, reason, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (metrc_number, grams_mg, reason, actor, at),
    )
    return Hold(int(cursor.lastrowid or 0), grams_mg, reason, actor, at)


def delete_hold(conn: Conn, hold_id: int) -> None:
    conn.execute("DELETE FROM holds WHERE id = ?", (hold_id,))


class DecrementRow(msgspec.Struct, frozen=True):
    """An apex-decrement already applied under one idempotency key."""

    sku: str
    units: int
    grams_mg: int


def find_decrement(conn: Conn, metrc_number: str, key: str) -> DecrementRow | None:
    row = conn.execute(
        "SELECT sku, units, grams_mg FROM decrements"
        " WHERE metrc_number = ? AND idempotency_key = ?",
        (metrc_number, key),
    ).fetchone()
    return None if row is None else DecrementRow(row["sku"], row["units"], row["grams_mg"])


def insert_decrement(
    conn: Conn, metrc_number: str, key: str, sku: str, units: int, grams_mg: int, at: str
) -> None:
    conn.execute(
        "INSERT INTO decrements (metrc_number, idempotency_key, sku, units, grams_mg,"
        " applied_at) VALUES (?, ?, ?, ?, ?, ?)",
        (metrc_number, key, sku, units, grams_mg, at),
    )


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One line to add to a package's append-only history."""

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


def append_audit(conn: Conn, at: str, entry: AuditEntry) -> None:
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


def load_history(conn: Conn, metrc_number: str) -> list[AuditRow]:
    rows = conn.execute(
        "SELECT * FROM audit_log WHERE metrc_number = ? ORDER BY id", (metrc_number,)
    )
    return [
        AuditRow(
            id=row["id"],
            metrc_number=row["metrc_number"],
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            field=row["field"],
            before_mg=row["before_mg"],
            after_mg=row["after_mg"],
            before_text=row["before_text"],
            after_text=row["after_text"],
            reason=row["reason"],
            note=row["note"],
        )
        for row in rows
    ]

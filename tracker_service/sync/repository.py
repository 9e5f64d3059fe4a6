"""SQL for the sync lease and the stored order lines: typed query functions over a connection."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import msgspec

from tracker_service.lib.db import Conn

__all__ = [
    "LeaseRow",
    "LinePart",
    "StoredLine",
    "delete_lease",
    "load_lease",
    "load_lines",
    "load_lines_by_id",
    "load_open_lines",
    "save_lease",
    "save_line",
]


class LeaseRow(msgspec.Struct, frozen=True):
    holder: str
    expires_at: float


def load_lease(conn: Conn) -> LeaseRow | None:
    row = conn.execute("SELECT holder, expires_at FROM sync_lease WHERE id = 1").fetchone()
    return None if row is None else LeaseRow(row["holder"], row["expires_at"])


def save_lease(conn: Conn, holder: str, expires_at: float) -> None:
    conn.execute(
        "INSERT INTO sync_lease (id, holder, expires_at) VALUES (1, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET holder = excluded.holder,"
        " expires_at = excluded.expires_at",
        (holder, expires_at),
    )


def delete_lease(conn: Conn) -> None:
    conn.execute("DELETE FROM sync_lease")


class LinePart(msgspec.Struct, frozen=True):
    """The grams one package holds for an order line (milligrams)."""

    metrc_number: str
    reserved_mg: int = 0
    packed_mg: int = 0
    shipped_mg: int = 0


class StoredLine(msgspec.Struct, frozen=True, kw_only=True):
    """An order line as the tracker keeps it (grams in milligrams).

    ``parts`` say which packages hold its grams, first package first; ``metrc_number`` and the
    gram columns are their first package and totals. ``short_units`` is what no package could
    cover when it was last placed.
    """

    item_id: int
    order_id: int
    invoice_number: str
    store: str
    strain: str
    sku: str
    units_ordered: int
    units_packed: int
    requested_metrc: str | None
    metrc_number: str | None
    state: str  # open, shipped, cancelled, released
    reserved_mg: int
    packed_mg: int
    shipped_mg: int
    missing_since: str | None = None
    released_by: str | None = None
    released_at: str | None = None
    reported_after_release_at: str | None = None
    short_units: int = 0
    first_seen_at: str = ""
    updated_at: str = ""
    parts: tuple[LinePart, ...] = ()


_COLUMNS: Final = tuple(name for name in StoredLine.__struct_fields__ if name != "parts")
_CHUNK: Final = 500


def _with_parts(conn: Conn, rows: Iterable[Any]) -> list[StoredLine]:
    """Lines from their rows, each with its parts (one query per 500 lines)."""
    fields = [{name: row[name] for name in _COLUMNS} for row in rows]
    parts: dict[int, list[LinePart]] = {}
    ids = [f["item_id"] for f in fields]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found = conn.execute(
            "SELECT * FROM order_line_parts"
            f" WHERE item_id IN ({','.join('?' * len(chunk))}) ORDER BY item_id, position",
            chunk,
        )
        for row in found:
            parts.setdefault(row["item_id"], []).append(
                LinePart(
                    row["metrc_number"], row["reserved_mg"], row["packed_mg"], row["shipped_mg"]
                )
            )
    return [StoredLine(**f, parts=tuple(parts.get(f["item_id"], ()))) for f in fields]


def load_open_lines(conn: Conn) -> list[StoredLine]:
    """Every line holding a reservation (open, reported or missing)."""
    return _with_parts(conn, conn.execute("SELECT * FROM order_lines WHERE state = 'open'"))


def load_lines_by_id(conn: Conn, item_ids: Iterable[int]) -> dict[int, StoredLine]:
    found: list[StoredLine] = []
    wanted = list(item_ids)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(f"SELECT * FROM order_lines WHERE item_id IN ({marks})", chunk)
        found += _with_parts(conn, rows.fetchall())
    return {line.item_id: line for line in found}


def load_lines(
    conn: Conn,
    *,
    states: Iterable[str],
    missing: bool | None = None,
    short: bool = False,
    limit: int = 5000,
) -> list[StoredLine]:
    """Lines in ``states``, oldest order first; ``missing`` narrows open lines to those absent
    from ApexAPI's last report (True) or present in it (False); ``short`` to those no package
    could fully cover."""
    chosen = list(states)
    sql = f"SELECT * FROM order_lines WHERE state IN ({','.join('?' * len(chosen))})"
    if missing is not None:
        sql += " AND missing_since IS NOT NULL" if missing else " AND missing_since IS NULL"
    if short:
        sql += " AND short_units > 0"
    rows = conn.execute(sql + " ORDER BY order_id, item_id LIMIT ?", (*chosen, limit))
    return _with_parts(conn, rows.fetchall())


def save_line(conn: Conn, line: StoredLine) -> None:
    """Insert or replace one line and its parts (its ``first_seen_at`` is kept when it
    exists)."""
    values = tuple(getattr(line, name) for name in _COLUMNS)
    updates = ", ".join(
        f"{c} = excluded.{c}" for c in _COLUMNS if c not in ("item_id", "first_seen_at")
    )
    conn.execute(
        f"INSERT INTO order_lines ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
        f" ON CONFLICT (item_id) DO UPDATE SET {updates}",
        values,
    )
    conn.execute("DELETE FROM order_line_parts WHERE item_id = ?", (line.item_id,))
    conn.executemany(
        "INSERT INTO order_line_parts (item_id, metrc_number, position, reserved_mg, packed_mg,"
        " shipped_mg) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (line.item_id, p.metrc_number, i, p.reserved_mg, p.packed_mg, p.shipped_mg)
            for i, p in enumerate(line.parts)
        ],
    )

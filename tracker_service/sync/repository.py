"""SQL for the sync lease and the stored order lines: typed query functions over a connection."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import msgspec

from tracker_service.lib.db import Conn

__all__ = [
    "LeaseRow",
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


class StoredLine(msgspec.Struct, frozen=True, kw_only=True):
    """An order line as the tracker keeps it (grams in milligrams)."""

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
    first_seen_at: str = ""
    updated_at: str = ""


_COLUMNS: Final = StoredLine.__struct_fields__


def _line(row: Any) -> StoredLine:
    return StoredLine(**{name: row[name] for name in _COLUMNS})


def load_open_lines(conn: Conn) -> list[StoredLine]:
    """Every line holding a reservation (open, reported or missing)."""
    return [_line(r) for r in conn.execute("SELECT * FROM order_lines WHERE state = 'open'")]


def load_lines_by_id(conn: Conn, item_ids: Iterable[int]) -> dict[int, StoredLine]:
    found: dict[int, StoredLine] = {}
    wanted = list(item_ids)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT * FROM order_lines WHERE item_id IN ({marks})", chunk):
            found[row["item_id"]] = _line(row)
    return found


def load_lines(
    conn: Conn, *, states: Iterable[str], missing: bool | None = None, limit: int = 5000
) -> list[StoredLine]:
    """Lines in ``states``, oldest order first; ``missing`` narrows open lines to those absent
    from ApexAPI's last report (True) or present in it (False)."""
    chosen = list(states)
    sql = f"SELECT * FROM order_lines WHERE state IN ({','.join('?' * len(chosen))})"
    if missing is not None:
        sql += " AND missing_since IS NOT NULL" if missing else " AND missing_since IS NULL"
    rows = conn.execute(sql + " ORDER BY order_id, item_id LIMIT ?", (*chosen, limit))
    return [_line(row) for row in rows]


def save_line(conn: Conn, line: StoredLine) -> None:
    """Insert or replace one line (its ``first_seen_at`` is kept when it exists)."""
    values = msgspec.structs.astuple(line)
    updates = ", ".join(
        f"{c} = excluded.{c}" for c in _COLUMNS if c not in ("item_id", "first_seen_at")
    )
    conn.execute(
        f"INSERT INTO order_lines ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
        f" ON CONFLICT (item_id) DO UPDATE SET {updates}",
        values,
    )

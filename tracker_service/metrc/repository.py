"""SQL of the METRC sync: its settings and status, what METRC last said of each package,
drift, and the outbox. Typed functions over a connection; services own the transactions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from tracker_service.lib.db import Conn
from tracker_service.lib.repository import load_settings, save_setting
from tracker_service.metrc.schemas import MetrcSettings, OutboxCounts, OutboxState

__all__ = [
    "DriftRow",
    "KnownPackage",
    "OutboxEntry",
    "PullStatus",
    "count_outbox",
    "delete_drift",
    "earliest_attempt",
    "insert_entry",
    "load_drift",
    "load_entries",
    "load_entry",
    "load_known",
    "load_metrc_settings",
    "load_package_grams",
    "load_pull_status",
    "next_sendable",
    "save_metrc_settings",
    "save_pull_status",
    "unsent_labels",
    "update_entry",
    "upsert_drift",
    "upsert_known",
]

_SETTINGS = "metrc.settings"
_STATUS = "metrc.status"


class PullStatus(msgspec.Struct, kw_only=True):
    """What the last pulls left behind: windows already read, and how the last one went."""

    last_pull_at: str | None = None
    last_pull_ok: bool | None = None
    message: str = "not pulled yet"
    failing_since: str | None = None
    #: list name → the end of the last window read (ISO); the next starts 5 minutes before
    windows: dict[str, str] = {}
    #: when the whole active list was last read (to find packages that left it unreported)
    full_listing_at: float = 0.0
    reasons: list[tuple[str, bool]] = []  # METRC's adjustment reasons: (name, requires note)
    items: list[tuple[str, str]] = []  # pre-roll items: (name, strain)


class KnownPackage(msgspec.Struct, frozen=True):
    metrc_number: str
    metrc_id: int
    metrc_mg: int
    unit: str
    item_name: str
    last_modified: str
    active: bool
    #: a counted package's weight per unit (Each), from its item's UnitWeight
    unit_weight_mg: int | None = None


class DriftRow(msgspec.Struct, frozen=True):
    metrc_number: str
    tracker_mg: int
    metrc_mg: int
    since: str


class OutboxEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: str
    metrc_number: str
    body: dict[str, Any]
    delta_mg: int
    state: OutboxState
    attempts: int
    last_error: str | None
    uncertain: bool
    before_mg: int | None
    next_attempt_at: float
    metrc_ids: list[int] | None
    created_at: str
    created_by: str
    reviewed_by: str | None
    sent_at: str | None


# -- settings and status ---------------------------------------------------------------------


def load_metrc_settings(conn: Conn) -> MetrcSettings:
    text = load_settings(conn, [_SETTINGS]).get(_SETTINGS)
    return msgspec.json.decode(text, type=MetrcSettings) if text else MetrcSettings()


def save_metrc_settings(conn: Conn, settings: MetrcSettings) -> None:
    save_setting(conn, _SETTINGS, msgspec.json.encode(settings).decode())


def load_pull_status(conn: Conn) -> PullStatus:
    text = load_settings(conn, [_STATUS]).get(_STATUS)
    return msgspec.json.decode(text, type=PullStatus) if text else PullStatus()


def save_pull_status(conn: Conn, status: PullStatus) -> None:
    save_setting(conn, _STATUS, msgspec.json.encode(status).decode())


# -- what METRC said -------------------------------------------------------------------------


def load_known(conn: Conn, labels: Iterable[str] | None = None) -> dict[str, KnownPackage]:
    if labels is None:
        rows = conn.execute("SELECT * FROM metrc_packages").fetchall()
    else:
        wanted = list(labels)
        rows = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows += conn.execute(
                f"SELECT * FROM metrc_packages WHERE metrc_number IN ({marks})", chunk
            ).fetchall()
    return {
        row["metrc_number"]: KnownPackage(
            row["metrc_number"],
            row["metrc_id"],
            row["metrc_mg"],
            row["unit"],
            row["item_name"],
            row["last_modified"],
            bool(row["active"]),
            row["unit_weight_mg"],
        )
        for row in rows
    }


def load_package_grams(conn: Conn) -> dict[str, tuple[str, int]]:
    """Every tracker package: its status and current grams (what a pull compares)."""
    rows = conn.execute("SELECT metrc_number, status, current_mg FROM packages")
    return {str(r[0]): (str(r[1]), int(r[2])) for r in rows}


def upsert_known(conn: Conn, package: KnownPackage, at: str) -> None:
    conn.execute(
        "INSERT INTO metrc_packages (metrc_number, metrc_id, metrc_mg, unit, item_name,"
        " unit_weight_mg, last_modified, active, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (metrc_number) DO UPDATE SET metrc_id = excluded.metrc_id,"
        " metrc_mg = excluded.metrc_mg, unit = excluded.unit, item_name = excluded.item_name,"
        " unit_weight_mg = excluded.unit_weight_mg, last_modified = excluded.last_modified,"
        " active = excluded.active, seen_at = excluded.seen_at",
        (
            package.metrc_number,
            package.metrc_id,
            package.metrc_mg,
            package.unit,
            package.item_name,
            package.unit_weight_mg,
            package.last_modified,
            int(package.active),
            at,
        ),
    )


# -- drift -----------------------------------------------------------------------------------


def load_drift(conn: Conn) -> list[DriftRow]:
    rows = conn.execute("SELECT * FROM metrc_drift ORDER BY since, metrc_number").fetchall()
    return [DriftRow(r["metrc_number"], r["tracker_mg"], r["metrc_mg"], r["since"]) for r in rows]


def upsert_drift(conn: Conn, label: str, tracker_mg: int, metrc_mg: int, at: str) -> None:
    """A new disagreement starts its ``since``; a changing one keeps it."""
    conn.execute(
        "INSERT INTO metrc_drift (metrc_number, tracker_mg, metrc_mg, since) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (metrc_number) DO UPDATE SET tracker_mg = excluded.tracker_mg,"
        " metrc_mg = excluded.metrc_mg",
        (label, tracker_mg, metrc_mg, at),
    )


def delete_drift(conn: Conn, label: str) -> None:
    conn.execute("DELETE FROM metrc_drift WHERE metrc_number = ?", (label,))


# -- the outbox ------------------------------------------------------------------------------

_entry_body = msgspec.json.Decoder(dict[str, Any])
_ids = msgspec.json.Decoder(list[int])


def _entry(row: Any) -> OutboxEntry:
    return OutboxEntry(
        id=row["id"],
        kind=row["kind"],
        metrc_number=row["metrc_number"],
        body=_entry_body.decode(row["body"]),
        delta_mg=row["delta_mg"],
        state=row["state"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        uncertain=bool(row["uncertain"]),
        before_mg=row["before_mg"],
        next_attempt_at=row["next_attempt_at"],
        metrc_ids=_ids.decode(row["metrc_ids"]) if row["metrc_ids"] else None,
        created_at=row["created_at"],
        created_by=row["created_by"],
        reviewed_by=row["reviewed_by"],
        sent_at=row["sent_at"],
    )


def insert_entry(
    conn: Conn,
    *,
    kind: str,
    label: str,
    body: dict[str, Any],
    delta_mg: int,
    state: OutboxState,
    actor: str,
    at: str,
) -> int:
    cursor = conn.execute(
        "INSERT INTO metrc_outbox (kind, metrc_number, body, delta_mg, state, created_at,"
        " created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (kind, label, msgspec.json.encode(body).decode(), delta_mg, state, at, actor),
    )
    return int(cursor.lastrowid or 0)


def load_entry(conn: Conn, entry_id: int) -> OutboxEntry | None:
    row = conn.execute("SELECT * FROM metrc_outbox WHERE id = ?", (entry_id,)).fetchone()
    return _entry(row) if row else None


def load_entries(
    conn: Conn, states: Iterable[str] | None = None, limit: int = 500
) -> list[OutboxEntry]:
    if states is None:
        rows = conn.execute(
            "SELECT * FROM metrc_outbox ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
    else:
        wanted = list(states)
        marks = ",".join("?" * len(wanted))
        rows = conn.execute(
            f"SELECT * FROM metrc_outbox WHERE state IN ({marks}) ORDER BY id LIMIT ?",
            (*wanted, limit),
        ).fetchall()
    return [_entry(row) for row in rows]


#: Pending entries at the head of their package's line: a package's entries go one at a
#: time, in order, and none passes an earlier one still waiting for review.
_HEADS = (
    "FROM metrc_outbox o WHERE o.state = 'pending'"
    " AND NOT EXISTS (SELECT 1 FROM metrc_outbox e WHERE e.metrc_number = o.metrc_number"
    "   AND e.id < o.id AND e.state IN ('pending', 'awaiting_review'))"
)


def next_sendable(conn: Conn, now: float, limit: int) -> list[OutboxEntry]:
    """The head entries whose turn has come (``next_attempt_at`` passed), oldest first."""
    rows = conn.execute(
        f"SELECT o.* {_HEADS} AND o.next_attempt_at <= ? ORDER BY o.id LIMIT ?", (now, limit)
    ).fetchall()
    return [_entry(row) for row in rows]


def earliest_attempt(conn: Conn) -> float | None:
    """When the next head entry may be tried (None when nothing is pending)."""
    row = conn.execute(f"SELECT MIN(o.next_attempt_at) {_HEADS}").fetchone()
    return None if row[0] is None else float(row[0])


def update_entry(conn: Conn, entry_id: int, **columns: object) -> None:
    if "metrc_ids" in columns and columns["metrc_ids"] is not None:
        columns["metrc_ids"] = msgspec.json.encode(columns["metrc_ids"]).decode()
    if "uncertain" in columns:
        columns["uncertain"] = int(bool(columns["uncertain"]))
    assignments = ", ".join(f"{name} = ?" for name in columns)
    conn.execute(
        f"UPDATE metrc_outbox SET {assignments} WHERE id = ?", (*columns.values(), entry_id)
    )


def count_outbox(conn: Conn) -> OutboxCounts:
    rows = dict(
        conn.execute(
            "SELECT state, COUNT(*) FROM metrc_outbox WHERE state != 'sent' GROUP BY state"
        ).fetchall()
    )
    return OutboxCounts(
        pending=rows.get("pending", 0),
        awaiting_review=rows.get("awaiting_review", 0),
        failed=rows.get("failed", 0),
    )


def unsent_labels(conn: Conn) -> set[str]:
    """Packages with changes METRC does not have yet (pending or awaiting review)."""
    rows = conn.execute(
        "SELECT DISTINCT metrc_number FROM metrc_outbox"
        " WHERE state IN ('pending', 'awaiting_review')"
    )
    return {str(row[0]) for row in rows}

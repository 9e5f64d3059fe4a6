"""SQL of the reports: completed batches in a period, each package's amounts as of a moment
(from the append-only audit log), and the audit log itself for an inspection."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from preroll_contract import FORMULA_STARTS
from tracker_service.lib.db import Conn

__all__ = [
    "CompletedBatch",
    "PackageOnDate",
    "audit_rows",
    "completed_batches",
    "formula_safe",
    "packages_on",
]


class CompletedBatch(msgspec.Struct, frozen=True):
    strain: str
    completed_at: str
    prerolls_out: int
    flower_in_mg: int
    waste_mg: int
    preroll_size_mg: int


class PackageOnDate(msgspec.Struct, frozen=True):
    metrc_number: str
    strain: str
    status: str
    current_mg: int
    override_mg: int | None
    ordered_mg: int
    packed_mg: int
    held_mg: int


def completed_batches(conn: Conn, start: str, end: str) -> list[CompletedBatch]:
    """Batches completed in [start, end) (ISO times)."""
    rows = conn.execute(
        "SELECT strain, completed_at, prerolls_out, flower_in_mg, waste_mg, preroll_size_mg"
        " FROM batches WHERE stage = 'complete' AND completed_at >= ? AND completed_at < ?"
        " ORDER BY completed_at",
        (start, end),
    )
    return [CompletedBatch(*row) for row in rows]


_LAST = (
    "(SELECT {column} FROM audit_log a WHERE a.metrc_number = p.metrc_number"
    " AND a.field = '{field}' AND a.at < :end ORDER BY a.id DESC LIMIT 1)"
)


def packages_on(conn: Conn, end: str) -> list[PackageOnDate]:
    """Every package that existed before ``end``, with its amounts as the audit log had them
    then (the last value of each field written before ``end``)."""
    rows = conn.execute(
        "SELECT p.metrc_number, p.strain,"
        f" {_LAST.format(column='after_text', field='status')} AS status,"
        f" {_LAST.format(column='after_mg', field='current_grams')} AS current_mg,"
        f" {_LAST.format(column='after_mg', field='physical_override_grams')} AS override_mg,"
        f" {_LAST.format(column='after_mg', field='grams_ordered')} AS ordered_mg,"
        f" {_LAST.format(column='after_mg', field='grams_packed')} AS packed_mg,"
        f" {_LAST.format(column='after_mg', field='grams_held')} AS held_mg"
        " FROM packages p WHERE p.created_at < :end ORDER BY p.strain, p.created_at",
        {"end": end},
    )
    return [
        PackageOnDate(
            metrc_number=row["metrc_number"],
            strain=row["strain"],
            status=row["status"] or "active",
            current_mg=row["current_mg"] or 0,
            override_mg=row["override_mg"],
            ordered_mg=row["ordered_mg"] or 0,
            packed_mg=row["packed_mg"] or 0,
            held_mg=row["held_mg"] or 0,
        )
        for row in rows
    ]


def formula_safe(column: str) -> str:
    """``column`` with the spreadsheet rule applied in SQL (preroll_contract.FORMULA_STARTS):
    a year's export is 200,000 rows, too many to check cell by cell in Python."""
    starts = ", ".join(f"char({ord(c)})" for c in FORMULA_STARTS)
    quoted = f"char(39) || {column}"
    return f"CASE WHEN substr({column}, 1, 1) IN ({starts}) THEN {quoted} ELSE {column} END"


#: The audit log as the export lists it: grams where a field holds an amount, else its text.
_EXPORT = (
    f"SELECT id, at, {formula_safe('actor')}, {formula_safe('action')},"
    f" {formula_safe('metrc_number')}, {formula_safe('field')},"
    f" CASE WHEN before_mg IS NULL THEN {formula_safe('before_text')} ELSE before_mg / 1000.0 END,"
    f" CASE WHEN after_mg IS NULL THEN {formula_safe('after_text')} ELSE after_mg / 1000.0 END,"
    f" {formula_safe('reason')}, {formula_safe('note')} FROM audit_log"
)


def audit_rows(
    conn: Conn, start: str, end: str, metrc_number: str | None = None
) -> Iterator[tuple[object, ...]]:
    """The audit log in [start, end), oldest first (one package's only, when given), as plain
    tuples in the export's column order: a year is 200,000 rows, read without row objects."""
    cursor = conn.cursor()
    cursor.row_factory = None
    if metrc_number is None:
        cursor.execute(f"{_EXPORT} WHERE at >= ? AND at < ? ORDER BY at, id", (start, end))
    else:
        cursor.execute(
            f"{_EXPORT} WHERE metrc_number = ? AND at >= ? AND at < ? ORDER BY at, id",
            (metrc_number, start, end),
        )
    yield from cursor

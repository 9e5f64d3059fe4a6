"""Plan one packing-list poll: merge the sheet with ApexAPI's rows, cell by cell. Pure.

Editable cells (PACKED, Delivery Date, Delivery Notes, Internal Notes) are merged against the
value last synced with this store: a change on one side wins; a change on both sides to
different values keeps the sheet's (the floor's word) and reports a conflict. Everything else
is ApexAPI's and is rewritten when it differs. Rows are found by the Key column, so staff may
sort or move them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import msgspec

from sync_engine.actions import DeleteRows, SheetAction, WriteCells
from sync_engine.orders.packing import COLUMNS, Editable, PackingRow

__all__ = [
    "DELIVERY_HEADER",
    "HISTORY_HEADER",
    "PACKING_HEADER",
    "SheetPlan",
    "plan_packing_sheet",
    "week_of",
]

PACKING_HEADER = (*COLUMNS, "Key")
HISTORY_HEADER = (*COLUMNS, "Week")
DELIVERY_HEADER = ("Store", "Invoice #", "Delivery Date", "Items", "Status", "Delivery Notes")
EDITABLE = {
    "PACKED": "packed",
    "Delivery Date": "delivery_date",
    "Delivery Notes": "delivery_notes",
    "Internal Notes": "internal_notes",
}
_COL = {name: index + 1 for index, name in enumerate(PACKING_HEADER)}
_KEY = _COL["Key"]
TAB = "Packing List"


class SheetPlan(msgspec.Struct):
    actions: list[SheetAction]
    edits: dict[int, Editable]
    base: dict[str, dict[str, str]]
    attention: list[str]
    conflicts: list[str]


def _app_values(row: PackingRow) -> dict[str, str]:
    """ApexAPI's side of the editable cells (its rows already hold the dashboard's edits)."""
    return {
        "PACKED": str(row.packed),
        "Delivery Date": row.delivery_date,
        "Delivery Notes": row.delivery_notes,
        "Internal Notes": row.internal_notes,
    }


def _owned(row: PackingRow, packed: int) -> dict[str, str]:
    return {
        "Product": row.product,
        "Store": row.store,
        "Ordered": str(row.ordered),
        "Needs Production": str(max(0, row.ordered - packed - row.available)),
        "Invoice #": row.invoice,
        "Batch #": row.batch_no,
        "Date": row.date,
        "Key": str(row.key),
    }


def _formula(n: int) -> str:
    return f"=MAX(0,C{n}-D{n})"


def _cell(grid_row: Sequence[str], column: str) -> str:
    index = _COL[column] - 1
    return grid_row[index].strip() if index < len(grid_row) else ""


def _whole_number(text: str) -> int | None:
    cleaned = text.strip()
    if cleaned.endswith(".0"):
        cleaned = cleaned[:-2]
    return int(cleaned) if cleaned.isdigit() else None


def plan_packing_sheet(
    grid: Sequence[Sequence[str]],
    rows: Sequence[PackingRow],
    base: Mapping[str, Mapping[str, str]],
) -> SheetPlan:
    """The writes for this poll, the merged edits, the new base, and what needs a person."""
    positions: dict[int, int] = {}
    attention: list[str] = []
    for number, grid_row in enumerate(grid[1:], start=2):
        key_text = _cell(grid_row, "Key")
        if key_text.isdigit():
            if int(key_text) in positions:
                attention.append(f"row {number}: order item {key_text} appears twice; delete one")
            positions.setdefault(int(key_text), number)
    actions: list[SheetAction] = []
    new_base: dict[str, dict[str, str]] = {}
    merged: dict[int, Editable] = {}
    conflicts: list[str] = []
    wanted = [row for row in rows if row.state == "open"]
    next_row = len(grid) + 1
    for row in wanted:
        app = _app_values(row)
        found = positions.get(row.key)
        if found is None:
            values = dict(app)
            number, next_row = next_row, next_row + 1
            written = {
                **_owned(row, int(values["PACKED"])),
                **values,
                "Needs Packing": _formula(number),
            }
            actions.append(WriteCells(TAB, number, 1, tuple(written[c] for c in PACKING_HEADER)))
        else:
            number = found
            grid_row = grid[number - 1]
            values = _merge_editables(
                row, grid_row, base.get(str(row.key), {}), app, number, attention, conflicts
            )
            desired = {**_owned(row, int(values["PACKED"])), **{c: values[c] for c in EDITABLE}}
            for column, value in desired.items():
                if values.get(f"_invalid:{column}"):
                    continue
                if _cell(grid_row, column) != value:
                    actions.append(WriteCells(TAB, number, _COL[column], (value,)))
            if not _cell(grid_row, "Needs Packing").startswith("="):
                actions.append(WriteCells(TAB, number, _COL["Needs Packing"], (_formula(number),)))
        clean = {c: values[c] for c in EDITABLE}
        new_base[str(row.key)] = clean
        merged[row.key] = Editable(
            packed=int(clean["PACKED"]),
            delivery_date=clean["Delivery Date"],
            delivery_notes=clean["Delivery Notes"],
            internal_notes=clean["Internal Notes"],
        )
    keep = {row.key for row in wanted}
    gone = tuple(sorted(n for key, n in positions.items() if key not in keep))
    if gone:
        actions.append(DeleteRows(gone))
    return SheetPlan(actions, merged, new_base, attention, conflicts)


def _merge_editables(
    row: PackingRow,
    grid_row: Sequence[str],
    base: Mapping[str, str],
    app: dict[str, str],
    number: int,
    attention: list[str],
    conflicts: list[str],
) -> dict[str, str]:
    values: dict[str, str] = {}
    for column in EDITABLE:
        sheet, app_value = _cell(grid_row, column), app[column]
        last = base.get(column, app_value)
        if column == "PACKED" and sheet != last and _whole_number(sheet) is None:
            attention.append(
                f"row {number} ({row.product}, {row.invoice}): PACKED {sheet!r} is "
                "not a whole number of units; it is not synced until corrected"
            )
            values[column] = app_value
            values[f"_invalid:{column}"] = "1"
            continue
        if column == "PACKED" and _whole_number(sheet) is not None:
            sheet = str(_whole_number(sheet))
        sheet_changed, app_changed = sheet != last, app_value != last
        if sheet_changed and app_changed and sheet != app_value:
            conflicts.append(
                f"row {number} ({row.product}, {row.invoice}) {column}: sheet says "
                f"{sheet!r}, dashboard said {app_value!r}; the sheet's value was kept"
            )
        values[column] = sheet if sheet_changed else app_value
    return values


def week_of(day: str, fallback: date) -> str:
    """The Monday of the ISO week of ``day`` (YYYY-MM-DD), or of ``fallback``."""
    try:
        when = date.fromisoformat(day[:10]) if day else fallback
    except ValueError:
        when = fallback
    return (when - timedelta(days=when.weekday())).isoformat()

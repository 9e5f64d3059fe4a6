"""Where the packing list lives: one interface, three backends (memory, Excel, Google Sheets).

A store knows tabs of string cells and nothing about orders: ``read`` returns one tab's grid
(one request for Sheets), ``apply`` performs a whole list of sheet actions
(:data:`~sync_engine.actions.SheetAction`) at once (one values request, plus one for formulas
and one structural request when rows are deleted).

Cells are data (docs/apexapi.md, "Spreadsheet cells are data"): every value is stored as the
text it is, never parsed as a formula or a date; whole numbers are stored as numbers so the
sheet can add them up. The one formula is the Packing List's Needs Packing
(:func:`is_formula_cell`).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from sync_engine.actions import DeleteRows, ReplaceTab, SheetAction, WriteCells
from sync_engine.errors import EngineError

__all__ = [
    "TABS",
    "ExcelStore",
    "MemoryStore",
    "PackingStore",
    "StoreError",
    "cell_value",
    "column_letter",
    "is_formula_cell",
]

PACKING, HISTORY, DELIVERY = "Packing List", "History", "Delivery"
TABS = (PACKING, HISTORY, DELIVERY)
#: The Packing List's Needs Packing column (F), the only one ApexAPI writes a formula into.
NEEDS_PACKING_COLUMN = 6
_NEEDS_PACKING = re.compile(r"^=MAX\(0,C(\d+)-D\1\)$")
_WHOLE_NUMBER = re.compile(r"^(0|[1-9]\d{0,14})$")


def is_formula_cell(tab: str, col: int, value: str) -> bool:
    """True only for the Needs Packing formula in its own column; any other text is data."""
    return tab == PACKING and col == NEEDS_PACKING_COLUMN and bool(_NEEDS_PACKING.match(value))


def cell_value(value: str) -> str | int:
    """A data cell as stored: a whole number (no leading zero) as a number, the rest as text."""
    return int(value) if _WHOLE_NUMBER.match(value) else value


class StoreError(EngineError):
    """The store cannot be used; ``kind`` says why and the message says what to do."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # credentials, forbidden, not_found, rate_limit, unavailable


def column_letter(index: int) -> str:
    """1 → A, 13 → M, 27 → AA."""
    text = ""
    while index:
        index, rem = divmod(index - 1, 26)
        text = chr(65 + rem) + text
    return text


class PackingStore(Protocol):
    name: str

    def prepare(self, headers: Mapping[str, Sequence[str]]) -> None:
        """Make sure every tab exists and starts with its header row."""

    def read(self, tab: str) -> list[list[str]]:
        """The tab's cells, header included, as the store holds them (formulas as written)."""

    def apply(self, actions: Sequence[SheetAction]) -> None:
        """Perform every action together: cell writes, then row deletions, then whole tabs."""


def _apply_to_grids(grids: dict[str, list[list[str]]], actions: Sequence[SheetAction]) -> None:
    for action in ordered(actions):
        match action:
            case WriteCells(tab=tab, row=number, col=col, values=values):
                rows = grids[tab]
                while len(rows) < number:
                    rows.append([])
                row = rows[number - 1]
                while len(row) < col - 1 + len(values):
                    row.append("")
                row[col - 1 : col - 1 + len(values)] = list(values)
            case DeleteRows(rows=numbers):
                for index in sorted(numbers, reverse=True):
                    del grids[PACKING][index - 1]
            case ReplaceTab(tab=tab, rows=content):
                grids[tab] = [list(r) for r in content]


def ordered(actions: Sequence[SheetAction]) -> list[SheetAction]:
    """Cell writes first (their row numbers are the grid's as read), then deletions, then
    whole tabs."""

    def rank(action: SheetAction) -> int:
        match action:
            case WriteCells():
                return 0
            case DeleteRows():
                return 1
            case ReplaceTab():
                return 2

    return sorted(actions, key=rank)


class MemoryStore:
    """For tests and as the dashboard-only mode: nothing leaves the process."""

    name = "memory"

    def __init__(self) -> None:
        self.grids: dict[str, list[list[str]]] = {}

    def prepare(self, headers: Mapping[str, Sequence[str]]) -> None:
        for tab, header in headers.items():
            self.grids.setdefault(tab, [list(header)])

    def read(self, tab: str) -> list[list[str]]:
        return [list(r) for r in self.grids[tab]]

    def apply(self, actions: Sequence[SheetAction]) -> None:
        _apply_to_grids(self.grids, actions)


class ExcelStore:
    """The same tabs in a local ``.xlsx`` (the fallback when Google Sheets fails)."""

    name = "excel"

    def __init__(self, path: Path) -> None:
        self.path = path
        # The last grids read or written, with the file's stat then: an unchanged workbook is
        # not parsed again at every poll (idle CPU).
        self._cache: tuple[tuple[int, int], dict[str, list[list[str]]]] | None = None

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def _load(self) -> dict[str, list[list[str]]]:
        import openpyxl

        stamp = self._stamp()
        if stamp is None:
            return {}
        if self._cache is None or self._cache[0] != stamp:
            try:
                workbook = openpyxl.load_workbook(self.path)
            except PermissionError:
                raise self._locked() from None
            except Exception as exc:  # not a workbook: zip, XML or file errors of any kind
                raise StoreError(
                    "unavailable",
                    f"{self.path} cannot be read as a workbook ({exc}); move it away and "
                    "ApexAPI writes a new one",
                ) from None
            grids = {}
            for sheet in workbook.worksheets:
                grids[sheet.title] = [
                    [_as_text(v) for v in row] for row in sheet.iter_rows(values_only=True)
                ]
            self._cache = (stamp, grids)
        return {tab: [list(row) for row in rows] for tab, rows in self._cache[1].items()}

    def _save(self, grids: dict[str, list[list[str]]]) -> None:
        import openpyxl

        workbook = openpyxl.Workbook()
        workbook.remove(workbook.active)
        for tab in [*TABS, *(t for t in grids if t not in TABS)]:
            if tab in grids:
                sheet = workbook.create_sheet(tab)
                for r, row in enumerate(grids[tab], start=1):
                    for c, value in enumerate(row, start=1):
                        _write_cell(sheet.cell(row=r, column=c), tab, c, value)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Write next to the target and swap: a crash never leaves half a workbook, and no
        # error (disk full, a locked file) leaves the temporary file behind.
        handle, temp = tempfile.mkstemp(dir=self.path.parent, suffix=".xlsx")
        os.close(handle)
        try:
            workbook.save(temp)
            os.replace(temp, self.path)
        except PermissionError:
            raise self._locked() from None
        except OSError as exc:
            raise StoreError("unavailable", f"{self.path} cannot be written ({exc})") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        stamp = self._stamp()
        if stamp is not None:
            # As a re-read would give them back: "7" was stored as the number 7.
            saved = {
                t: [[_as_text(cell_value(v)) for v in r] for r in rows] for t, rows in grids.items()
            }
            self._cache = (stamp, saved)

    def _locked(self) -> StoreError:
        return StoreError(
            "unavailable",
            f"{self.path} is open in Excel or read-only; close it so ApexAPI can save the "
            "packing list",
        )

    def prepare(self, headers: Mapping[str, Sequence[str]]) -> None:
        grids = self._load()
        changed = False
        for tab, header in headers.items():
            if not grids.get(tab):
                grids[tab] = [list(header)]
                changed = True
        if changed:
            self._save(grids)

    def read(self, tab: str) -> list[list[str]]:
        return _trim(self._load().get(tab, []))

    def apply(self, actions: Sequence[SheetAction]) -> None:
        grids = self._load()
        _apply_to_grids(grids, actions)
        self._save(grids)


def _write_cell(cell: Any, tab: str, col: int, value: str) -> None:
    """Excel's counterpart of RAW: text stays text (``=``, ``+``, ``-``, ``@`` included, with
    Excel's quote prefix so editing it keeps it text); only Needs Packing is a formula."""
    if value == "":
        return
    if is_formula_cell(tab, col, value):
        cell.value = value
        return
    stored = cell_value(value)
    cell.value = stored
    if isinstance(stored, str):
        cell.data_type = "s"
        if stored[:1] in ("=", "+", "-", "@"):
            cell.quotePrefix = True


def _as_text(value: object) -> str:
    """A workbook value as the text a person typed: dates as YYYY-MM-DD, 7.0 as 7."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _trim(rows: list[list[str]]) -> list[list[str]]:
    out = [row[: max((i + 1 for i, v in enumerate(row) if v != ""), default=0)] for row in rows]
    while out and not out[-1]:
        out.pop()
    return out

"""A local Google Sheets v4 API: enough for gspread (docs/apexapi.md), with fault switches.

Cells are typed as Google types them. Written with ``valueInputOption=RAW`` a JSON string stays
a string (``=IMAGE(...)`` is text), a number a number; with ``USER_ENTERED`` (and when a person
types, :meth:`SheetsState.set_cell`) text is parsed as Google's editor does: ``=...`` is a
formula, ``12`` a number, ``2026-05-01`` or ``5/1/2026`` a date (a serial number that keeps the
format typed), ``TRUE`` a boolean, ``'text`` text. Reads honour ``valueRenderOption`` (FORMULA,
UNFORMATTED_VALUE, FORMATTED_VALUE) and ``dateTimeRenderOption`` (SERIAL_NUMBER,
FORMATTED_STRING). The only formula computed is ``=MAX(0,C2-D2)`` (the packing list's Needs
Packing); other formulas show ``#NAME?``. Switches: ``forbidden`` (403, not shared),
``rate_limited`` (429), ``outage`` (503). Unknown spreadsheet ids answer 404 as Google does.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import unquote

import msgspec
from litestar import Litestar, Request, Response, route
from litestar.datastructures import State
from litestar.params import FromPath

__all__ = ["Cell", "SheetsState", "create_sheets_app"]

AnyRequest = Request[Any, Any, Any]
_A1 = re.compile(r"^([A-Z]+)?(\d+)?(?::([A-Z]+)?(\d+)?)?$")
_MAX_FORMULA = re.compile(r"^=MAX\(0,\s*([A-Z]+)(\d+)\s*-\s*([A-Z]+)(\d+)\)$", re.I)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_EPOCH = date(1899, 12, 30)  # Google's (and Excel's) day 0


@dataclass(frozen=True)
class Cell:
    """One cell as Google keeps it: a kind (string, number, bool, formula, date) and a value.

    A date is a number of days since 1899-12-30 that remembers how it was typed."""

    kind: str
    value: Any
    shown_as: str = ""

    @staticmethod
    def typed(text: str) -> Cell:
        """What Google's editor makes of ``text`` (USER_ENTERED)."""
        if text.startswith("'"):
            return Cell("string", text[1:])
        if text.startswith("=") and len(text) > 1:
            return Cell("formula", text)
        if text.upper() in ("TRUE", "FALSE"):
            return Cell("bool", text.upper() == "TRUE")
        if _NUMBER.match(text):
            number = float(text)
            return Cell("number", int(number) if number.is_integer() else number)
        for pattern, order in ((_ISO_DATE, (0, 1, 2)), (_US_DATE, (2, 0, 1))):
            if match := pattern.match(text):
                year, month, day = (int(match.group(i + 1)) for i in order)
                try:
                    serial = (date(year, month, day) - _EPOCH).days
                except ValueError:
                    break
                return Cell("date", serial, text)
        return Cell("string", text)

    @staticmethod
    def raw(value: Any) -> Cell:
        """A JSON value written with RAW: stored as it is, never parsed."""
        if isinstance(value, bool):
            return Cell("bool", value)
        if isinstance(value, int | float):
            return Cell("number", value)
        return Cell("string", "" if value is None else str(value))


EMPTY = Cell("string", "")


@dataclass
class Tab:
    sheet_id: int
    title: str
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass
class SheetsState:
    spreadsheets: dict[str, dict[str, Tab]] = field(default_factory=dict)
    forbidden: bool = False
    rate_limited: bool = False
    outage: bool = False
    requests: list[tuple[float, str, str]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _next_id: int = 100

    def create(self, spreadsheet_id: str, *tabs: str) -> None:
        with self.lock:
            self.spreadsheets[spreadsheet_id] = {}
            for title in tabs or ("Sheet1",):
                self.add_tab(spreadsheet_id, title)

    def add_tab(self, spreadsheet_id: str, title: str) -> Tab:
        with self.lock:
            self._next_id += 1
            tab = Tab(self._next_id, title)
            self.spreadsheets[spreadsheet_id][title] = tab
            return tab

    def tab(self, spreadsheet_id: str, title: str) -> Tab:
        return self.spreadsheets[spreadsheet_id][title]

    def values(self, spreadsheet_id: str, title: str) -> list[list[str]]:
        """What a person sees: formulas computed, dates as typed, trailing empties trimmed."""
        with self.lock:
            tab = self.tab(spreadsheet_id, title)
            return _trim([[_shown(tab, cell) for cell in row] for row in tab.rows])

    def cell(self, spreadsheet_id: str, title: str, row: int, col: int) -> Cell:
        """The stored cell (1-based row and column)."""
        with self.lock:
            rows = self.tab(spreadsheet_id, title).rows
            if row > len(rows) or col > len(rows[row - 1]):
                return EMPTY
            return rows[row - 1][col - 1]

    def set_cell(self, spreadsheet_id: str, title: str, row: int, col: int, value: str) -> None:
        """A person typing into a cell (1-based row and column): parsed like USER_ENTERED."""
        with self.lock:
            _put(self.tab(spreadsheet_id, title), row - 1, col - 1, [[value]], "USER_ENTERED")

    def requests_in(self, seconds: float) -> int:
        cutoff = time.time() - seconds
        return sum(1 for at, _, _ in self.requests if at >= cutoff)


def _col(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number - 1


def _split_range(text: str) -> tuple[str, tuple[int, int, int | None, int | None]]:
    """``'Packing List'!A2:M`` → (title, (row0, col0, row1 or None, col1 or None))."""
    title, _, cells = unquote(text).partition("!")
    title = title.strip("'").replace("''", "'")
    match = _A1.match(cells.upper()) if cells else None
    if not cells or match is None:
        return title, (0, 0, None, None)
    c0, r0, c1, r1 = match.groups()
    start_row, start_col = int(r0 or 1) - 1, _col(c0) if c0 else 0
    if ":" not in cells:
        return title, (start_row, start_col, start_row, start_col)
    return title, (start_row, start_col, int(r1) - 1 if r1 else None, _col(c1) if c1 else None)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _computed(tab: Tab, cell: Cell) -> Any:
    """A formula's value (only =MAX(0,Xn-Yn) is known), or the cell's own value."""
    if cell.kind != "formula":
        return cell.value
    match = _MAX_FORMULA.match(cell.value)
    if match is None:
        return "#NAME?"
    operands = []
    for letters, row in ((match[1], match[2]), (match[3], match[4])):
        r, c = int(row) - 1, _col(letters)
        other = tab.rows[r][c] if r < len(tab.rows) and c < len(tab.rows[r]) else EMPTY
        if other.kind in ("number", "date"):
            operands.append(float(other.value))
        elif other.kind == "string" and (other.value == "" or _NUMBER.match(other.value)):
            operands.append(float(other.value or 0))  # Google reads numeric text in arithmetic
        else:
            return "#VALUE!"
    result = max(0.0, operands[0] - operands[1])
    return int(result) if result.is_integer() else result


def _shown(tab: Tab, cell: Cell) -> str:
    """FORMATTED_VALUE: the text a person sees."""
    if cell.kind == "date":
        return cell.shown_as
    value = _computed(tab, cell)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return _number_text(value)
    return str(value)


def _rendered(tab: Tab, cell: Cell, render: str, dates: str) -> Any:
    """One cell as the API answers it for ``valueRenderOption`` and ``dateTimeRenderOption``."""
    if render == "FORMATTED_VALUE":
        return _shown(tab, cell)
    if cell.kind == "formula" and render == "FORMULA":
        return cell.value
    if cell.kind == "date":
        return cell.shown_as if dates == "FORMATTED_STRING" else cell.value
    return _computed(tab, cell)


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    trimmed = [row[: max((i + 1 for i, v in enumerate(row) if v != ""), default=0)] for row in rows]
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    return trimmed


def _put(tab: Tab, row0: int, col0: int, values: list[list[Any]], input_option: str) -> None:
    """Write a block; ``null`` leaves a cell as it is (as the Sheets API does)."""
    for r, row in enumerate(values):
        while len(tab.rows) <= row0 + r:
            tab.rows.append([])
        target = tab.rows[row0 + r]
        for c, value in enumerate(row):
            if value is None:
                continue
            while len(target) <= col0 + c:
                target.append(EMPTY)
            raw = input_option == "RAW" or not isinstance(value, str)
            target[col0 + c] = Cell.raw(value) if raw else Cell.typed(value)


def _read(
    tab: Tab, bounds: tuple[int, int, int | None, int | None], render: str, dates: str
) -> list[list[Any]]:
    r0, c0, r1, c1 = bounds
    rows = tab.rows[r0 : None if r1 is None else r1 + 1]
    cells = [
        [_rendered(tab, cell, render, dates) for cell in row[c0 : None if c1 is None else c1 + 1]]
        for row in rows
    ]
    return _trim(cells)


def _error(status: int, message: str, reason: str) -> Response[Any]:
    return Response(
        {"error": {"code": status, "message": message, "status": reason}}, status_code=status
    )


def _metadata(spreadsheet_id: str, tabs: dict[str, Tab]) -> dict[str, Any]:
    return {
        "spreadsheetId": spreadsheet_id,
        "properties": {
            "title": f"Spreadsheet {spreadsheet_id}",
            "locale": "en_US",
            "timeZone": "Etc/GMT",
        },
        "sheets": [
            {
                "properties": {
                    "sheetId": tab.sheet_id,
                    "title": tab.title,
                    "index": index,
                    "sheetType": "GRID",
                    "gridProperties": {"rowCount": max(1000, len(tab.rows)), "columnCount": 26},
                }
            }
            for index, tab in enumerate(tabs.values())
        ],
    }


@route("/v4/spreadsheets/{rest:path}", http_method=["GET", "POST", "PUT"], sync_to_thread=False)
def spreadsheets(request: AnyRequest, rest: FromPath[str]) -> Response[Any]:
    state: SheetsState = request.app.state.sheets
    path = rest.lstrip("/")
    with state.lock:
        state.requests.append((time.time(), request.method, path))
        if state.outage:
            return _error(503, "The service is currently unavailable.", "UNAVAILABLE")
        if state.rate_limited:
            return _error(
                429, "Quota exceeded for quota metric 'Read requests'.", "RESOURCE_EXHAUSTED"
            )
        if state.forbidden:
            return _error(403, "The caller does not have permission", "PERMISSION_DENIED")
        sid, _, tail = path.partition("/")
        sid, _, action = sid.partition(":")
        tabs = state.spreadsheets.get(sid)
        if tabs is None:
            return _error(404, "Requested entity was not found.", "NOT_FOUND")
        return _dispatch(state, sid, tabs, request, action, tail)


def _dispatch(
    state: SheetsState, sid: str, tabs: dict[str, Tab], request: AnyRequest, action: str, tail: str
) -> Response[Any]:
    query = request.query_params
    render = str(query.get("valueRenderOption") or "FORMATTED_VALUE")
    dates = str(query.get("dateTimeRenderOption") or "SERIAL_NUMBER")
    raw = getattr(request, "_body", None)
    data = raw if isinstance(raw, bytes) else b""
    body = msgspec.json.decode(data) if data else {}
    if not tail and not action:
        return Response(_metadata(sid, tabs))
    if action == "batchUpdate":
        replies = []
        for item in body.get("requests", []):
            if "addSheet" in item:
                title = item["addSheet"]["properties"]["title"]
                if title in tabs:
                    return _error(
                        400, f'A sheet with the name "{title}" already exists.', "INVALID_ARGUMENT"
                    )
                tab = state.add_tab(sid, title)
                replies.append(
                    {"addSheet": {"properties": {"sheetId": tab.sheet_id, "title": title}}}
                )
            elif "deleteDimension" in item:
                rng = item["deleteDimension"]["range"]
                tab = next(t for t in tabs.values() if t.sheet_id == rng["sheetId"])
                del tab.rows[rng["startIndex"] : rng["endIndex"]]
                replies.append({})
            else:
                replies.append({})
        return Response({"spreadsheetId": sid, "replies": replies})
    if tail == "values:batchGet":
        ranges = query.getall("ranges", [])
        out = []
        for text in ranges:
            title, bounds = _split_range(text)
            if title not in tabs:
                return _error(400, f"Unable to parse range: {text}", "INVALID_ARGUMENT")
            out.append(
                {
                    "range": text,
                    "majorDimension": "ROWS",
                    "values": _read(tabs[title], bounds, render, dates),
                }
            )
        return Response({"spreadsheetId": sid, "valueRanges": out})
    if tail == "values:batchUpdate":
        option = body.get("valueInputOption")
        if option not in ("RAW", "USER_ENTERED"):
            return _error(400, "Invalid valueInputOption", "INVALID_ARGUMENT")
        for item in body.get("data", []):
            title, (r0, c0, _, _) = _split_range(item["range"])
            if title not in tabs:
                return _error(400, f"Unable to parse range: {item['range']}", "INVALID_ARGUMENT")
            _put(tabs[title], r0, c0, item.get("values", []), option)
        return Response({"spreadsheetId": sid, "totalUpdatedCells": 0})
    if tail.startswith("values/"):
        text, verb = tail[len("values/") :], ""
        for suffix in (":append", ":clear"):
            if text.endswith(suffix):
                text, verb = text[: -len(suffix)], suffix[1:]
        title, bounds = _split_range(text)
        if title not in tabs:
            return _error(400, f"Unable to parse range: {text}", "INVALID_ARGUMENT")
        tab = tabs[title]
        option = str(query.get("valueInputOption") or "RAW")
        if verb == "append":
            _put(tab, len(_trim(tab.rows)), bounds[1], body.get("values", []), option)
            return Response({"spreadsheetId": sid, "updates": {}})
        if verb == "clear":
            r0, c0, r1, c1 = bounds
            for r in range(r0, len(tab.rows) if r1 is None else min(r1 + 1, len(tab.rows))):
                row = tab.rows[r]
                for c in range(c0, len(row) if c1 is None else min(c1 + 1, len(row))):
                    row[c] = EMPTY
            return Response({"spreadsheetId": sid, "clearedRange": text})
        if request.method == "PUT":
            _put(tab, bounds[0], bounds[1], body.get("values", []), option)
            return Response({"spreadsheetId": sid, "updatedRange": text})
        return Response(
            {
                "range": text,
                "majorDimension": "ROWS",
                "values": _read(tab, bounds, render, dates),
            }
        )
    return _error(404, f"no such method {action or tail}", "NOT_FOUND")


def create_sheets_app(state: SheetsState) -> Litestar:
    async def read_body(request: AnyRequest) -> None:
        await request.body()  # cached on the request for the sync handler

    return Litestar(
        [spreadsheets],
        state=State({"sheets": state}),
        before_request=read_body,
        openapi_config=None,
    )

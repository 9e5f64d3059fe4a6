"""The packing list in Google Sheets through gspread; Google's errors become the guide's
§6.4 messages, each with its fix.

Values are written with ``valueInputOption=RAW``, so Google never parses them: a store named
``=IMAGE(...)`` stays text and ``2026-05-01`` stays the text typed. Only the Needs Packing
formulas go with ``USER_ENTERED``. Reads ask for formulas as written and dates as shown, so a
date a person types into the sheet comes back as they typed it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import gspread
import requests
from gspread.exceptions import APIError, SpreadsheetNotFound

from sync_engine.actions import DeleteRows, ReplaceTab, SheetAction, WriteCells
from sync_engine.sheets.gspread_client import open_client
from sync_engine.sheets.stores import (
    PACKING,
    TABS,
    StoreError,
    cell_value,
    column_letter,
    is_formula_cell,
)

__all__ = ["GoogleSheetsStore"]

T = TypeVar("T")


def _quoted(tab: str) -> str:
    return "'" + tab.replace("'", "''") + "'"


class GoogleSheetsStore:
    name = "google_sheets"

    def __init__(
        self,
        spreadsheet_ids: dict[str, str],
        credentials_path: Path,
        api_base_url: str | None,
        auto_create: bool = True,
    ) -> None:
        self._ids = spreadsheet_ids  # tab → spreadsheet id (empty ids already resolved)
        self._credentials = credentials_path
        self._base = api_base_url
        self._auto_create = auto_create
        self._client: gspread.Client | None = None
        self._books: dict[str, gspread.Spreadsheet] = {}
        self._sheet_ids: dict[str, int] = {}
        self._written_rows: dict[str, int] = {}
        self.requests = 0

    def _call(self, what: Callable[[], T]) -> T:
        self.requests += 1
        try:
            return what()
        except SpreadsheetNotFound:
            raise self._not_found() from None
        except PermissionError:  # gspread's open_by_key turns a 403 into this
            raise self._translate_status(403, "permission denied") from None
        except APIError as exc:
            raise self._translate(exc) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise StoreError("unavailable", f"Google Sheets cannot be reached ({exc})") from None

    def _not_found(self) -> StoreError:
        return StoreError(
            "not_found",
            "404 Not Found: no spreadsheet with that id; check "
            "google_sheets.packing_list_sheet_id against the sheet's URL "
            "(docs.google.com/spreadsheets/d/<id>/edit)",
        )

    def _translate(self, exc: APIError) -> StoreError:
        return self._translate_status(exc.response.status_code, str(exc))

    def _translate_status(self, status: int, detail: str) -> StoreError:
        if status == 403:
            return StoreError(
                "forbidden",
                "403 Forbidden: the spreadsheet is not shared with "
                "the service account; share it (Editor) with the client_email "
                "in the credentials file",
            )
        if status == 404:
            return self._not_found()
        if status == 429:
            return StoreError(
                "rate_limit",
                "Rate limit exceeded (429): Google's quota was "
                "used up; increase google_sheets.poll_interval_seconds",
            )
        return StoreError("unavailable", f"Google Sheets error {status}: {detail}")

    def _book(self, tab: str) -> gspread.Spreadsheet:
        if self._client is None:
            try:
                self._client = open_client(self._credentials, self._base)
            except FileNotFoundError:
                raise StoreError(
                    "credentials",
                    f"credentials.json not found at "
                    f"{self._credentials}: correct google_sheets.credentials_path",
                ) from None
            except ValueError as exc:
                raise StoreError(
                    "credentials", f"{self._credentials} is not a service-account key file ({exc})"
                ) from None
        key = self._ids[tab]
        if key not in self._books:
            client = self._client
            self._books[key] = self._call(lambda: client.open_by_key(key))
        return self._books[key]

    def prepare(self, headers: Mapping[str, Sequence[str]]) -> None:
        for tab in TABS:
            book = self._book(tab)
            existing = {w.title: w for w in self._call(book.worksheets)}
            if tab not in existing:
                if not self._auto_create:
                    raise StoreError(
                        "not_found",
                        f"the spreadsheet has no tab {tab!r}; add it "
                        "or set google_sheets.auto_create_sheets to true",
                    )
                sheet = self._call(partial(book.add_worksheet, tab, rows=1000, cols=20))
                self._sheet_ids[tab] = sheet.id
            else:
                self._sheet_ids[tab] = existing[tab].id
            if not self.read(tab):
                header = [list(headers[tab])]
                self._call(
                    partial(
                        book.values_update,
                        f"{_quoted(tab)}!A1",
                        params={"valueInputOption": "RAW"},
                        body={"values": header},
                    )
                )

    def read(self, tab: str) -> list[list[str]]:
        book = self._book(tab)
        params: dict[str, Any] = {
            "valueRenderOption": "FORMULA",
            "dateTimeRenderOption": "FORMATTED_STRING",
        }
        answer: dict[str, Any] = self._call(
            lambda: book.values_get(f"{_quoted(tab)}!A1:Z", params=params)
        )
        return [["" if v is None else str(v) for v in row] for row in answer.get("values", [])]

    def apply(self, actions: Sequence[SheetAction]) -> None:
        data: dict[str, list[dict[str, Any]]] = {}  # spreadsheet id → RAW ranges
        formulas: dict[str, list[dict[str, Any]]] = {}  # spreadsheet id → USER_ENTERED ranges
        deletions: list[int] = []
        for action in actions:
            match action:
                case WriteCells():
                    self._cells(action, data, formulas)
                case DeleteRows(rows=rows):
                    deletions += rows
                case ReplaceTab(tab=tab, rows=rows):
                    # Pad with blank rows so a shorter table leaves nothing stale behind it.
                    width = max((len(r) for r in rows), default=1)
                    extra = max(0, self._written_rows.get(tab, 0) - len(rows))
                    padded = [*rows, *[("",) * width] * extra]
                    self._written_rows[tab] = len(rows)
                    data.setdefault(self._ids[tab], []).append(
                        {
                            "range": f"{_quoted(tab)}!A1",
                            "values": [[cell_value(v) for v in r] for r in padded],
                        }
                    )
        # Formulas first: once a row's data is visible, its Needs Packing formula is there too
        # (the two input options cannot share one request).
        for option, by_book in (("USER_ENTERED", formulas), ("RAW", data)):
            for key, ranges in by_book.items():
                book = self._books[key]
                body = {"valueInputOption": option, "data": ranges}
                self._call(partial(book.values_batch_update, body))
        if deletions:
            self._delete_rows(deletions)

    def _cells(
        self,
        write: WriteCells,
        data: dict[str, list[dict[str, Any]]],
        formulas: dict[str, list[dict[str, Any]]],
    ) -> None:
        key, start = self._ids[write.tab], f"{_quoted(write.tab)}!"
        row: list[Any] = []
        for col, value in enumerate(write.values, start=write.col):
            if is_formula_cell(write.tab, col, value):
                cell = f"{start}{column_letter(col)}{write.row}"
                formulas.setdefault(key, []).append({"range": cell, "values": [[value]]})
                row.append(None)  # left as it is by the RAW write
            else:
                row.append(cell_value(value))
        if any(value is not None for value in row):
            data.setdefault(key, []).append(
                {"range": f"{start}{column_letter(write.col)}{write.row}", "values": [row]}
            )

    def _delete_rows(self, rows: list[int]) -> None:
        book = self._book(PACKING)
        sheet_id = self._sheet_ids[PACKING]
        requests_ = [
            {
                "deleteDimension": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "ROWS",
                        "startIndex": row - 1,
                        "endIndex": row,
                    }
                }
            }
            for row in sorted(rows, reverse=True)
        ]
        self._call(lambda: book.batch_update({"requests": requests_}))

"""One contract, three packing-list stores: memory, Excel (openpyxl) and Google Sheets (real
gspread against the Sheets simulator)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.serve import ServerThread
from simulators.sheets.app import SheetsState, create_sheets_app
from sync_engine.sheets.google_store import GoogleSheetsStore
from sync_engine.sheets.stores import (
    TABS,
    CellWrite,
    ExcelStore,
    MemoryStore,
    PackingStore,
    StoreError,
    WriteBatch,
)

HEADERS = {
    "Packing List": ["Product", "Store", "Ordered", "PACKED", "Needs Packing", "Key"],
    "History": ["Product", "Week"],
    "Delivery": ["Store", "Invoice #"],
}


@pytest.fixture
def sheets() -> Iterator[tuple[SheetsState, str]]:
    state = SheetsState()
    state.create("packing-sheet", "Sheet1")
    with ServerThread(create_sheets_app(state)) as url:
        yield state, url


def google(sheets: tuple[SheetsState, str], sheet_id: str = "packing-sheet") -> GoogleSheetsStore:
    return GoogleSheetsStore(dict.fromkeys(TABS, sheet_id), Path("unused.json"), sheets[1])


@pytest.fixture(params=["memory", "excel", "google"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> PackingStore:
    if request.param == "memory":
        return MemoryStore()
    if request.param == "excel":
        return ExcelStore(tmp_path / "new folder" / "packing_list.xlsx")
    return google(request.getfixturevalue("sheets"))


class TestStoreContract:
    def test_prepare_creates_tabs_with_headers_once(self, store: PackingStore) -> None:
        """Every tab exists with its header; preparing again changes nothing."""
        store.prepare(HEADERS)
        store.apply(WriteBatch(cells=[CellWrite("Packing List", 2, 1, ("Gelato",))]))
        store.prepare(HEADERS)
        assert store.read("Packing List") == [HEADERS["Packing List"], ["Gelato"]]
        assert store.read("History") == [HEADERS["History"]]

    def test_cells_formulas_and_deletions(self, store: PackingStore) -> None:
        """Row segments land where asked, formulas read back as written, deletes close gaps."""
        store.prepare(HEADERS)
        store.apply(
            WriteBatch(
                cells=[
                    CellWrite(
                        "Packing List", 2, 1, ("A", "Store 1", "5", "2", "=MAX(0,C2-D2)", "11")
                    ),
                    CellWrite(
                        "Packing List", 3, 1, ("B", "Store 2", "7", "0", "=MAX(0,C3-D3)", "12")
                    ),
                    CellWrite(
                        "Packing List", 4, 1, ("C", "Store 3", "1", "1", "=MAX(0,C4-D4)", "13")
                    ),
                ]
            )
        )
        store.apply(WriteBatch(cells=[CellWrite("Packing List", 3, 4, ("6",))], delete_rows=[2]))
        rows = store.read("Packing List")
        assert [r[0] for r in rows[1:]] == ["B", "C"]
        assert rows[1][3] == "6" and rows[1][4].upper().startswith("=MAX(0,C3-D3)")

    def test_replacing_a_tab_leaves_nothing_stale(self, store: PackingStore) -> None:
        """A shorter History replaces a longer one without old rows showing through."""
        store.prepare(HEADERS)
        store.apply(
            WriteBatch(
                replace={"History": [["Product", "Week"], ["A", "2026-11-16"], ["B", "2026-11-23"]]}
            )
        )
        store.apply(WriteBatch(replace={"History": [["Product", "Week"], ["C", "2026-11-23"]]}))
        assert store.read("History") == [["Product", "Week"], ["C", "2026-11-23"]]


def test_sheets_errors_are_the_guides_messages(
    sheets: tuple[SheetsState, str], tmp_path: Path
) -> None:
    """403, 404, 429 and missing credentials each say what is wrong and the fix (guide §6.4)."""
    state = sheets[0]
    state.forbidden = True
    with pytest.raises(StoreError) as error:
        google(sheets).prepare(HEADERS)
    assert error.value.kind == "forbidden"
    assert "not shared with the service account" in str(error.value)
    state.forbidden = False
    with pytest.raises(StoreError) as error:
        google(sheets, "wrong-id").prepare(HEADERS)
    assert error.value.kind == "not_found"
    assert "packing_list_sheet_id" in str(error.value)
    state.rate_limited = True
    with pytest.raises(StoreError, match=r"increase google_sheets\.poll_interval_seconds"):
        google(sheets).prepare(HEADERS)
    state.rate_limited = False
    missing = GoogleSheetsStore(dict.fromkeys(TABS, "x"), tmp_path / "credentials.json", None)
    with pytest.raises(StoreError, match=r"credentials\.json not found"):
        missing.prepare(HEADERS)


def test_excel_reads_what_a_fresh_open_reads_and_sees_outside_edits(tmp_path: Path) -> None:
    """The unchanged workbook is not parsed again, yet answers as a fresh open would."""
    import openpyxl

    path = tmp_path / "packing_list.xlsx"
    store = ExcelStore(path)
    store.prepare(HEADERS)
    store.apply(WriteBatch(cells=[CellWrite("Packing List", 2, 1, ("Gelato", "Store", "007"))]))
    assert store.read("Packing List") == ExcelStore(path).read("Packing List")
    workbook = openpyxl.load_workbook(path)  # someone edits the file in Excel
    workbook["Packing List"]["D2"] = 4
    workbook.save(path)
    assert store.read("Packing List")[1] == ["Gelato", "Store", "7", "4"]

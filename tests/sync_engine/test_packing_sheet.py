"""The packing list in Google Sheets (real gspread against the simulator) and its Excel
fallback, driven by the engine with the tracker and the Apex simulator (docs/apexapi.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import msgspec
import pytest
from openpyxl import load_workbook

from simulators.serve import ServerThread
from simulators.sheets.app import SheetsState, create_sheets_app
from sync_engine.actions import WriteCells
from sync_engine.config import Config
from sync_engine.orders.packing import Editable, PackingRow
from sync_engine.sheets.merge import PACKING_HEADER, SheetPlan, plan_packing_sheet, week_of
from tests.conftest import RunningTracker, wait_until
from tests.sync_engine.conftest import EngineThread, RunningApex, engine_config

SHEET = "packing-sheet"
WEDDING_CAKE = "1A40603000123456"


def row(key: int, **fields: object) -> PackingRow:
    values = {
        "key": key,
        "order_id": 1,
        "state": "open",
        "product": "CannaDart - Gelato 1g",
        "store": "Green Leaf",
        "ordered": 10,
        "packed": 0,
        "needs_production": 0,
        "delivery_date": "",
        "delivery_notes": "",
        "internal_notes": "",
        "invoice": "INV-1",
        "batch_no": "B-1",
        "date": "2026-11-20",
        "strain": "Gelato",
        "sku": "singles_1g",
        "available": 100,
    } | fields
    return PackingRow(**values)


def cells(plan: SheetPlan) -> list[WriteCells]:
    return [action for action in plan.actions if isinstance(action, WriteCells)]


def test_merge_keeps_both_sides_and_the_sheet_wins_a_real_conflict() -> None:
    """Different cells edited on both sides are both kept; the same cell keeps the sheet's."""
    first = plan_packing_sheet([list(PACKING_HEADER)], [row(5)], {})
    grid = [list(PACKING_HEADER), list(cells(first)[0].values)]
    grid[1][3] = "4"  # staff type PACKED 4 in the sheet
    grid[1][8] = "from the floor"  # and an internal note
    dashboard = row(5, delivery_notes="leave at back door", internal_notes="from the office")
    plan = plan_packing_sheet(grid, [dashboard], first.base)
    assert plan.edits[5] == Editable(
        packed=4, delivery_notes="leave at back door", internal_notes="from the floor"
    )
    assert len(plan.conflicts) == 1 and "Internal Notes" in plan.conflicts[0]
    written = {(c.row, c.col): c.values for c in cells(plan)}
    assert written[(2, 8)] == ("leave at back door",)


def test_bad_packed_value_is_reported_and_not_synced() -> None:
    """A PACKED cell that is not a whole number is listed for attention and left alone."""
    first = plan_packing_sheet([list(PACKING_HEADER)], [row(5, packed=2)], {})
    grid = [list(PACKING_HEADER), list(cells(first)[0].values)]
    grid[1][3] = "four"
    plan = plan_packing_sheet(grid, [row(5, packed=2)], first.base)
    assert plan.edits[5].packed == 2
    assert "PACKED 'four' is not a whole number" in plan.attention[0]
    assert all(c.col != 4 for c in cells(plan))  # the typed text stays for a person


def test_rows_are_matched_by_key_after_sorting() -> None:
    """Staff re-ordering rows changes nothing but the positions ApexAPI writes to."""
    first = plan_packing_sheet([list(PACKING_HEADER)], [row(1), row(2, store="Zed")], {})
    grid = [list(PACKING_HEADER), *[list(c.values) for c in cells(first)]]
    grid[1:] = grid[1:][::-1]  # sorted by store, descending
    grid[1][3] = "7"  # PACKED of key 2, now on row 2
    plan = plan_packing_sheet(grid, [row(1), row(2, store="Zed")], first.base)
    assert plan.edits[2].packed == 7 and plan.edits[1].packed == 0
    assert cells(plan) == []  # same values, new places: nothing to write
    assert week_of("2026-11-26", date(2026, 1, 1)) == "2026-11-23"
    assert week_of("", date(2026, 11, 29)) == "2026-11-23"


@pytest.fixture
def sheets() -> Iterator[tuple[SheetsState, str]]:
    state = SheetsState()
    state.create(SHEET, "Sheet1")
    with ServerThread(create_sheets_app(state)) as url:
        yield state, url


def sheet_config(
    tracker: RunningTracker, apex: RunningApex, sheets_url: str, excel: Path
) -> Config:
    config = engine_config(tracker, apex, orders=True, enabled=False)
    data = msgspec.to_builtins(config) | {
        "google_sheets": {
            "enabled": True,
            "packing_list_sheet_id": SHEET,
            "api_base_url": sheets_url,
            "poll_interval_seconds": 1,
            "excel_path": str(excel),
        }
    }
    return msgspec.convert(data, Config)


def packing(state: SheetsState) -> list[list[str]]:
    if "Packing List" not in state.spreadsheets[SHEET]:
        return []
    return state.values(SHEET, "Packing List")


def find(rows: list[list[str]], key: int) -> tuple[int, list[str]]:
    for number, cells in enumerate(rows, start=1):
        if cells and cells[-1] == str(key):
            return number, cells
    raise AssertionError(f"no row with key {key}")


def test_sheet_rows_edits_history_and_outage(
    tracker: RunningTracker, apex: RunningApex, sheets: tuple[SheetsState, str], tmp_path: Path
) -> None:
    """Rows appear; PACKED typed in the sheet reaches the tracker; a dashboard edit reaches
    the sheet; a shipped order moves to History; during an outage the workbook takes over and
    its edits are merged back when Sheets returns."""
    state, url = sheets
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    tracker.create("1A4060300002EE1000012345", strain="Blue Dream", grams=1000)
    excel = tmp_path / "fallback" / "packing_list.xlsx"
    with EngineThread(sheet_config(tracker, apex, url, excel), tmp_path / "s.json") as running:
        wait_until(lambda: len(packing(state)) == 5)  # header + 4 pre-roll items of open orders
        assert packing(state)[0] == list(PACKING_HEADER)
        number, cells = find(packing(state), 90011)
        assert cells[:6] == [
            "CannaDart - Wedding Cake 0.5g",
            "Green Leaf Dispensary",
            "24",
            "0",
            "0",
            "24",
        ]
        state.set_cell(SHEET, "Packing List", number, 4, "10")  # the floor packs 10
        wait_until(lambda: tracker.package(WEDDING_CAKE)["grams_packed"] == 5)
        assert find(packing(state), 90011)[1][5] == "14"  # Needs Packing formula
        running.call(lambda e: e.edit_row(90021, Editable(packed=0, delivery_notes="Dock 3")))
        wait_until(lambda: find(packing(state), 90021)[1][7] == "Dock 3")
        state.outage = True
        wait_until(lambda: running.engine.status.sheets.state == "fallback")
        assert "503" in running.engine.status.sheets.reason
        wait_until(lambda: excel.exists(), timeout=20)
        time.sleep(2.5)  # let the fallback settle (a person and ApexAPI saving at once would race)
        workbook = load_workbook(excel)
        sheet = workbook["Packing List"]
        for cells in sheet.iter_rows(min_row=2):
            if str(cells[12].value) == "90021":
                cells[3].value = 4  # packed during the outage, typed in Excel
        workbook.save(excel)
        wait_until(
            lambda: tracker.package("1A4060300002EE1000012345")["grams_packed"] == 4, timeout=20
        )
        state.outage = False
        wait_until(lambda: running.engine.status.sheets.state == "connected", timeout=15)
        wait_until(lambda: find(packing(state), 90021)[1][3] == "4")  # merged back into Sheets
        time.sleep(1.1)
        apex.state.update_order(9001, status_id=5)  # Delivered
        running.call(lambda e: e.refresh_orders())
        # 9004 was delivered from the start; 9001's two pre-roll items join it.
        wait_until(lambda: len(state.values(SHEET, "History")) == 4)
        history = state.values(SHEET, "History")
        assert sorted((line[9], line[0]) for line in history[1:]) == [
            ("INV-9001", "CannaDart - Wedding Cake 0.5g"),
            ("INV-9001", "Mag Box (6) Blue Dream .5g"),
            ("INV-9004", "Pre-Roll | Sour Diesel | 1g"),
        ]
        assert all(
            line[-1] == week_of("", time.gmtime() and __import__("datetime").date.today())
            for line in history[1:]
        )
        wait_until(lambda: all(c[-1] not in ("90011", "90012") for c in packing(state)[1:]))


IMAGE_STORE = '=IMAGE("http://example.invalid/x")'


def test_cells_are_data_in_the_sheet_the_workbook_and_back(
    tracker: RunningTracker, apex: RunningApex, sheets: tuple[SheetsState, str], tmp_path: Path
) -> None:
    """A store named like a formula and a delivery date typed into the sheet round-trip
    unchanged: Sheets (which parses what it is given as a person's typing) shows the text, the
    Excel workbook holds text cells, and both come back to the sheet as they were."""
    state, url = sheets
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    order = apex.state.add_order(
        buyer=IMAGE_STORE, items=[{"product_id": 102, "quantity": 3, "id": 77001}]
    )
    excel = tmp_path / "packing_list.xlsx"
    with EngineThread(sheet_config(tracker, apex, url, excel), tmp_path / "s.json") as running:
        wait_until(lambda: any(c and c[-1] == "77001" for c in packing(state)))
        number, cells = find(packing(state), 77001)
        assert (cells[1], cells[9]) == (IMAGE_STORE, f"INV-{order}")  # text, not #NAME?
        assert state.cell(SHEET, "Packing List", number, 2).kind == "string"
        assert state.cell(SHEET, "Packing List", number, 6).kind == "formula"  # Needs Packing
        assert state.cell(SHEET, "Packing List", number, 3).kind == "number"  # Ordered sums
        state.set_cell(SHEET, "Packing List", number, 7, "2026-05-01")  # typed on the floor
        assert state.cell(SHEET, "Packing List", number, 7).kind == "date"
        running.call(lambda e: e.edit_row(77001, Editable(internal_notes="=1+1")))
        wait_until(lambda: running.engine.state.edits().get(77001, Editable()).delivery_date)
        assert running.engine.state.edits()[77001] == Editable(
            delivery_date="2026-05-01", internal_notes="=1+1"
        )
        wait_until(lambda: find(packing(state), 77001)[1][8] == "=1+1")
        assert state.cell(SHEET, "Packing List", number, 9).kind == "string"

        state.outage = True
        wait_until(lambda: running.engine.status.sheets.state == "fallback")
        wait_until(lambda: excel.exists(), timeout=20)
        workbook = load_workbook(excel)
        cells = next(
            r for r in workbook["Packing List"].iter_rows(min_row=2) if r[12].value == 77001
        )
        assert [(cells[i].value, cells[i].data_type) for i in (1, 6, 8)] == [
            (IMAGE_STORE, "s"),
            ("2026-05-01", "s"),
            ("=1+1", "s"),
        ]
        assert cells[5].data_type == "f" and cells[1].quotePrefix
        state.outage = False
        wait_until(lambda: running.engine.status.sheets.state == "connected", timeout=15)
        time.sleep(2.5)  # a few polls: nothing may change
        number, cells = find(packing(state), 77001)
        assert [cells[1], cells[6], cells[8]] == [IMAGE_STORE, "2026-05-01", "=1+1"]
        assert running.engine.state.edits()[77001] == Editable(
            delivery_date="2026-05-01", internal_notes="=1+1"
        )


def test_pick_lists_escape_markup_and_number_the_pages() -> None:
    """Store names and notes are text on the printed page, never markup."""
    from sync_engine.orders.pick_lists import pick_lists, pick_lists_html

    row = PackingRow(
        key=1, order_id=1, state="open", product="<b>Gelato</b> 0.5g", store="=1+1 <script>",
        ordered=3, packed=0, needs_production=0, delivery_date="2026-12-01",
        delivery_notes="<img src=x>", internal_notes="", invoice="INV-1", batch_no="1A4",
        date="2026-11-29", strain="Gelato", sku="singles_0_5g",
    )  # fmt: skip
    html = pick_lists_html(pick_lists([row]), "2026-11-29 10:00 UTC")
    assert "<script>" not in html and "<img" not in html and "<b>Gelato" not in html
    assert "&lt;b&gt;Gelato&lt;/b&gt; 0.5g" in html and "Page 1 of 1" in html

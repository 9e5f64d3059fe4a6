"""One contract, three packing-list stores: memory, Excel (openpyxl) and Google Sheets (real
gspread against the Sheets simulator)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.serve import ServerThread
from simulators.sheets.app import SheetsState, create_sheets_app
from sync_engine.actions import DeleteRows, ReplaceTab, WriteCells
from sync_engine.sheets.google_store import GoogleSheetsStore
from sync_engine.sheets.stores import (
    TABS,
    ExcelStore,
    MemoryStore,
    PackingStore,
    StoreError,
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
        store.apply([WriteCells("Packing List", 2, 1, ("Gelato",))])
        store.prepare(HEADERS)
        assert store.read("Packing List") == [HEADERS["Packing List"], ["Gelato"]]
        assert store.read("History") == [HEADERS["History"]]

    def test_cells_formulas_and_deletions(self, store: PackingStore) -> None:
        """Row segments land where asked, formulas read back as written, deletes close gaps."""
        store.prepare(HEADERS)
        store.apply(
            [
                WriteCells("Packing List", 2, 1, ("A", "Store 1", "5", "2", "=MAX(0,C2-D2)", "11")),
                WriteCells("Packing List", 3, 1, ("B", "Store 2", "7", "0", "=MAX(0,C3-D3)", "12")),
                WriteCells("Packing List", 4, 1, ("C", "Store 3", "1", "1", "=MAX(0,C4-D4)", "13")),
            ]
        )
        store.apply([DeleteRows((2,)), WriteCells("Packing List", 3, 4, ("6",))])
        rows = store.read("Packing List")
        assert [r[0] for r in rows[1:]] == ["B", "C"]
        assert rows[1][3] == "6" and rows[1][4].upper().startswith("=MAX(0,C3-D3)")

    def test_replacing_a_tab_leaves_nothing_stale(self, store: PackingStore) -> None:
        """A shorter History replaces a longer one without old rows showing through."""
        store.prepare(HEADERS)
        store.apply(
            [ReplaceTab("History", (("Product", "Week"), ("A", "2026-11-16"), ("B", "2026-11-23")))]
        )
        store.apply([ReplaceTab("History", (("Product", "Week"), ("C", "2026-11-23")))])
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
    """The unchanged workbook is not parsed again, yet answers as a fresh open would (an
    invoice number "007" stays "007": cells are data)."""
    import openpyxl

    path = tmp_path / "packing_list.xlsx"
    store = ExcelStore(path)
    store.prepare(HEADERS)
    store.apply([WriteCells("Packing List", 2, 1, ("Gelato", "Store", "007"))])
    assert store.read("Packing List") == ExcelStore(path).read("Packing List")
    workbook = openpyxl.load_workbook(path)  # someone edits the file in Excel
    workbook["Packing List"]["D2"] = 4
    workbook.save(path)
    assert store.read("Packing List")[1] == ["Gelato", "Store", "007", "4"]  # text stays text


class TestCellsAreData:
    """Values that look like formulas, dates or padded numbers are stored as the text they are
    (the only formula is Needs Packing); whole numbers are numbers so the sheet can add them."""

    ROW = ('=IMAGE("http://example.invalid/x")', "+1", "2026-05-01", "007", "12", "@x", "-5")

    def test_every_store_reads_back_what_was_written(self, store: PackingStore) -> None:
        store.prepare(HEADERS)
        store.apply([WriteCells("History", 2, 1, self.ROW)])
        store.apply([ReplaceTab("Delivery", (tuple(HEADERS["Delivery"]), self.ROW))])
        assert store.read("History")[1] == list(self.ROW)
        assert store.read("Delivery")[1] == list(self.ROW)

    def test_sheets_is_given_raw_values_and_only_the_formula_is_parsed(
        self, sheets: tuple[SheetsState, str]
    ) -> None:
        """What a person sees in Sheets is the text; Needs Packing is computed."""
        state, _ = sheets
        store = google(sheets)
        store.prepare({"Packing List": ["A", "B", "C", "D", "E", "F"], **HEADERS})
        values = ("=IMAGE(1)", "2026-05-01", "10", "4", "x", "=MAX(0,C2-D2)")
        store.apply([WriteCells("Packing List", 2, 1, values)])
        assert state.values("packing-sheet", "Packing List")[1] == [
            "=IMAGE(1)", "2026-05-01", "10", "4", "x", "6"
        ]  # fmt: skip
        kinds = [state.cell("packing-sheet", "Packing List", 2, c).kind for c in range(1, 7)]
        assert kinds == ["string", "string", "number", "number", "string", "formula"]
        assert store.read("Packing List")[1] == list(values)


def _service_account_file(folder: Path) -> Path:
    """A real-looking service-account key (a fresh RSA key); nothing is sent with it."""
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = folder / "credentials.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "demo",
                "private_key_id": "1",
                "private_key": pem,
                "client_email": "apexapi@demo.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


def test_google_requests_give_up_on_a_hung_connection(tmp_path: Path) -> None:
    """Google's own client and the redirected one both time out after 10 s: a server that
    accepts the connection and never answers is 'unavailable' in time for the fallback."""
    import socket
    import threading
    import time

    from sync_engine.sheets.gspread_client import NETWORK_TIMEOUT_SECONDS, open_client

    google_client = open_client(_service_account_file(tmp_path), None)
    assert google_client.http_client.timeout == NETWORK_TIMEOUT_SECONDS == 10
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    hung = GoogleSheetsStore(
        dict.fromkeys(TABS, "sheet"), tmp_path, f"http://127.0.0.1:{listener.getsockname()[1]}"
    )
    started = time.monotonic()
    with pytest.raises(StoreError) as failed:
        hung.prepare(HEADERS)
    assert failed.value.kind == "unavailable"
    assert 9 <= time.monotonic() - started < 15
    listener.close()

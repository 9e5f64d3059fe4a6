"""``make bench`` (packing list part): Google Sheets requests per minute at a 2 s poll with 300
open rows, and the time for a PACKED edit in the sheet to reach the tracker."""

from __future__ import annotations

import logging
import random
import tempfile
import time
from pathlib import Path

import httpx
import msgspec

from bench._harness import publish
from bench.sync_engine import config, tracker, wait_for
from simulators.apex.app import create_apex_app
from simulators.apex.state import ApexState
from simulators.serve import ServerThread
from simulators.sheets.app import SheetsState, create_sheets_app
from sync_engine.config import Config
from tests.fakes.engine_thread import EngineThread

SHEET = "bench-packing-list"
STRAINS = 30


def main() -> None:
    logging.disable(logging.INFO)
    apex = ApexState()
    products = [apex.add_product(f"CannaDart - Strain{i:02d} 1g") for i in range(STRAINS)]
    for i, product in enumerate(products):
        apex.add_batch(product, 0, batch_id=100 + i)
    for order in range(100):  # 100 open orders x 3 items = 300 rows
        apex.add_order(
            buyer=f"Store {order}",
            items=[
                {
                    "id": 10_000 + order * 3 + k,
                    "product_id": products[(order + k) % STRAINS],
                    "batch_id": 100 + (order + k) % STRAINS,
                    "quantity": 5,
                }
                for k in range(3)
            ],
        )
    sheets = SheetsState()
    sheets.create(SHEET, "Sheet1")
    packages = [(f"1A40603000{i:06d}", f"Strain{i:02d}", 10_000) for i in range(STRAINS)]
    with (
        tempfile.TemporaryDirectory() as tmp,
        ServerThread(create_apex_app(apex)) as apex_url,
        ServerThread(create_sheets_app(sheets)) as sheets_url,
        tracker(Path(tmp), packages) as (url, key),
    ):
        base = msgspec.to_builtins(
            config(url, key, f"{apex_url}/api", order_refresh=120, enabled=False)
        )
        base["google_sheets"] = {
            "enabled": True,
            "packing_list_sheet_id": SHEET,
            "api_base_url": sheets_url,
            "poll_interval_seconds": 2,
            "excel_path": str(Path(tmp) / "fallback.xlsx"),
        }
        with (
            EngineThread(msgspec.convert(base, Config), Path(tmp) / "s.json", long_poll=25),
            httpx.Client(base_url=url, headers={"X-API-Key": key}) as client,
        ):
            wait_for(
                lambda: (
                    "Packing List" in sheets.spreadsheets[SHEET]
                    and len(sheets.values(SHEET, "Packing List")) == 301
                ),
                120,
            )
            time.sleep(4)  # let the first full write settle
            start = len(sheets.requests)
            time.sleep(60)
            per_minute = len(sheets.requests) - start
            latencies = []
            rng = random.Random(5)
            for i in range(20):
                grid = sheets.values(SHEET, "Packing List")
                number = 2 + (i * 13) % 300
                key_ = int(grid[number - 1][-1])
                product = grid[number - 1][0]
                tag = packages[int(product.split("Strain")[1][:2])][0]
                before = client.get(f"/api/finished-goods/{tag}").json()["grams_packed"]
                time.sleep(rng.uniform(0, 2))  # type at any moment of the 2 s poll
                sheets.set_cell(SHEET, "Packing List", number, 4, "2")
                typed = time.monotonic()
                wait_for(
                    lambda t=tag, b=before: (
                        client.get(f"/api/finished-goods/{t}").json()["grams_packed"] == b + 2
                    ),
                    30,
                )
                latencies.append(time.monotonic() - typed)
                del key_
    latencies.sort()
    text = "\n".join(
        [
            "",
            "Packing list in Google Sheets (simulator, real gspread), 300 open rows, 2 s poll",
            f"  Sheets API requests in one quiet minute: {per_minute}   (target <= 60)",
            f"  PACKED typed in the sheet -> tracker grams_packed ({len(latencies)} edits): "
            f"p50 {latencies[len(latencies) // 2]:.2f} s, p95 "
            f"{latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]:.2f} s, "
            f"max {latencies[-1]:.2f} s",
        ]
    )
    publish("packing_sheet", text)


if __name__ == "__main__":
    main()

"""Whatever is stored, /apex-calculate answers (docs/api.md): rows planted straight into SQLite
that no door would accept are reported in their own entry; every other package is served, by a
running tracker and by one starting on that database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import msgspec

from tests.conftest import RunningTracker, running_tracker
from tests.tracker.serve_process import ServeProcess
from tracker_service.auth.api_keys import ApiKeyStore
from tracker_service.lib.db import Database

GOOD, ZERO_PACK, NEGATIVE, GARBLED = (
    "1A4060300003BB1000000001",
    "1A4060300003BB1000000002",
    "1A4060300003BB1000000003",
    "1A4060300003BB1000000004",
)


def _plant(db_path: Path) -> None:
    """What a hand edit of the database (or a bug of an older release) could leave behind."""
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "UPDATE packages SET custom_skus = ? WHERE metrc_number = ?",
            (
                '{"cannadart_0_8g": {"name": "CannaDart", "mg_per_unit": 800, "pack_size": 0}}',
                ZERO_PACK,
            ),
        )
        conn.execute(
            "UPDATE packages SET sku_settings = ? WHERE metrc_number = ?",
            ('{"singles_1g": {"excluded": false, "manual_units": -50}}', NEGATIVE),
        )
        conn.execute(
            "UPDATE packages SET sku_settings = 'not json', current_mg = 'lots'"
            " WHERE metrc_number = ?",
            (GARBLED,),
        )
        conn.execute(
            "INSERT INTO changes (metrc_number, kind, at) SELECT metrc_number, 'x', ''"
            " FROM packages"
        )


def _seed(tracker: RunningTracker) -> None:
    for tag in (GOOD, ZERO_PACK, NEGATIVE, GARBLED):
        tracker.create(tag, strain="Blue Dream", grams=100)


def _check(body: dict) -> None:
    assert body[GOOD] == {
        "strain": "Blue Dream",
        "status": "active",
        "available_grams": 100,
        "units": {"singles_0_5g": 200, "singles_1g": 100, "box_0_5g_6pk": 33, "box_0_5g_12pk": 16},
    }
    assert "pack size 0" in body[ZERO_PACK]["problem"]
    assert "manual units -50" in body[NEGATIVE]["problem"]
    assert "not a number of milligrams" in body[GARBLED]["problem"]
    for tag in (ZERO_PACK, NEGATIVE, GARBLED):
        assert set(body[tag]["units"].values()) <= {0}, body[tag]
        assert body[tag]["available_grams"] == 0


def test_a_running_tracker_reports_impossible_rows_and_serves_the_rest(tmp_path: Path) -> None:
    """Planted rows appear with their problem and no units; /apex-calculate stays 200, the
    package pages say what to fix, a sale on such a package is refused, and the log says why."""
    with running_tracker(tmp_path) as tracker:
        _seed(tracker)
        _plant(tracker.db_path)
        response = tracker.client.get("/apex-calculate")
        assert response.status_code == 200
        _check(response.json())
        package = tracker.package(ZERO_PACK)
        assert "pack size 0" in package["problem"]
        listed = tracker.client.get("/api/finished-goods")
        assert listed.status_code == 200 and len(listed.json()) == 4
        sale = tracker.client.post(
            f"/api/finished-goods/{ZERO_PACK}/apex-decrement",
            json={"sku": "singles_1g", "units": 1, "idempotency_key": "k"},
        )
        assert sale.status_code == 409 and "sells nothing until fixed" in sale.json()["detail"]


def test_serve_starts_on_a_database_holding_impossible_rows(tmp_path: Path) -> None:
    """`preroll-tracker serve` starts (it used to exit 3) and answers /apex-calculate; the log
    names the package that sells nothing and why."""
    db_path = tmp_path / "tracker.db"
    with running_tracker(tmp_path) as tracker:
        _seed(tracker)
    _plant(db_path)
    database = Database(db_path)
    key = ApiKeyStore(database).rotate("test")
    database.close()
    with ServeProcess(db_path) as server:
        response = httpx.get(f"{server.base_url}/apex-calculate", headers={"X-API-Key": key})
        assert response.status_code == 200
        _check(msgspec.json.decode(response.content))
    assert f"{ZERO_PACK} sells nothing" in server.output

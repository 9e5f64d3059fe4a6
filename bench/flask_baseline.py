"""The straightforward way to serve /apex-calculate: Flask, stdlib json, compute per request.

Reads the same SQLite file as the tracker (``BENCH_DB``) and gives the same answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from datetime import UTC, datetime, timedelta

from flask import Flask, Response, request

DEFAULTS = {
    "singles_0_5g": (0.5, 1),
    "singles_1g": (1.0, 1),
    "box_0_5g_6pk": (0.5, 6),
    "box_0_5g_12pk": (0.5, 12),
}
DB = os.environ.get("BENCH_DB", "tracker.db")

app = Flask(__name__)


@app.get("/apex-calculate")
def apex_calculate() -> Response:
    conn = sqlite3.connect(DB)
    conn.row_factory = sqlite3.Row
    try:
        digest = hashlib.sha256(request.headers.get("X-API-Key", "").encode()).hexdigest()
        if not conn.execute(
            "SELECT 1 FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (digest,)
        ).fetchone():
            return Response(json.dumps({"error": "unauthorized"}), 401, mimetype="application/json")
        cutoff = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        rows = conn.execute(
            """SELECT p.*,
                 COALESCE((SELECT SUM(grams_mg) FROM holds h
                           WHERE h.metrc_number = p.metrc_number), 0) AS held,
                 COALESCE((SELECT SUM(reserved_mg + packed_mg) FROM order_lines l
                           WHERE l.metrc_number = p.metrc_number AND l.state = 'open'), 0)
                   AS lines
               FROM packages p WHERE p.status = 'active' OR p.status_changed_at >= ?
               ORDER BY p.created_at, p.metrc_number""",
            (cutoff,),
        ).fetchall()
        result = {}
        for row in rows:
            effective = row["override_mg"] if row["override_mg"] is not None else row["current_mg"]
            available = max(0, effective - row["sold_mg"] - row["lines"] - row["held"]) / 1000
            settings = json.loads(row["sku_settings"])
            skus = dict(DEFAULTS)
            for key, sku in sorted(json.loads(row["custom_skus"]).items()):
                skus[key] = (sku["mg_per_unit"] / 1000, sku["pack_size"])
            units = {}
            for key, (grams, pack) in skus.items():
                setting = settings.get(key, {})
                if row["status"] != "active" or setting.get("excluded"):
                    units[key] = 0
                elif setting.get("manual_units") is not None:
                    units[key] = setting["manual_units"]
                else:
                    units[key] = int(available // (grams * pack))
            result[row["metrc_number"]] = {
                "strain": row["strain"],
                "status": row["status"],
                "available_grams": available if row["status"] == "active" else 0,
                "units": units,
            }
        return Response(json.dumps(result), mimetype="application/json")
    finally:
        conn.close()

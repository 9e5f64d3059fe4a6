"""A year of a pre-roll floor in a tracker database, written straight into SQLite (seeded):
completed batches, finished-goods packages and their audit log, for the report tests and the
report benchmark. Rows look like the services write them (same columns, same timestamp text)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tracker_service.lib.db import Database

__all__ = ["STRAINS", "fill_year"]

STRAINS = ["Wedding Cake", "Blue Dream", "Gelato", "Sour Diesel", "Northern Lights", "Runtz"]


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fill_year(
    db_path: Path,
    *,
    batches: int = 5000,
    packages: int = 2000,
    audit_rows: int = 200_000,
    end: datetime | None = None,
    seed: int = 11,
) -> None:
    rng = random.Random(seed)
    end = end or datetime.now(UTC)
    start = end - timedelta(days=365)
    db = Database(db_path)
    with db.transaction() as conn:
        package_rows = []
        for n in range(packages):
            created = start + timedelta(seconds=rng.random() * 365 * 86400)
            strain = STRAINS[n % len(STRAINS)]
            grams = rng.randint(200, 2000) * 1000
            package_rows.append((f"1A4060300YEAR{n:011d}", strain, grams, _at(created)))
        conn.executemany(
            "INSERT INTO packages (metrc_number, strain, strain_key, status, initial_mg,"
            " current_mg, created_at, updated_at, status_changed_at)"
            " VALUES (?, ?, lower(?), 'active', ?, ?, ?, ?, ?)",
            [(t, s, s, g, g, at, at, at) for t, s, g, at in package_rows],
        )
        batch_rows = []
        for n in range(batches):
            completed = start + timedelta(seconds=rng.random() * 365 * 86400)
            flower = rng.randint(400, 1200) * 1000
            size = rng.choice((500, 1000))
            out = int(flower * rng.uniform(0.82, 0.95) / size)
            strain = STRAINS[rng.randrange(len(STRAINS))]
            at = _at(completed)
            batch_rows.append(
                (f"B{n:06d}", strain, flower, size, out, out, flower - out * size, at, at, at)
            )
        conn.executemany(
            "INSERT INTO batches (code, strain, flower_in_mg, preroll_size_mg, target_count,"
            " prerolls_out, waste_mg, stage, created_by, created_at, updated_at, completed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'complete', 'floor', ?, ?, ?)",
            batch_rows,
        )
        # The audit log: each package's history in time order (adjustments, reservations).
        per_package = audit_rows // packages
        audit = []
        for tag, _strain, grams, created in package_rows:
            moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
            current, ordered = grams, 0
            audit.append(
                (
                    tag,
                    created,
                    "floor",
                    "create",
                    "current_grams",
                    None,
                    grams,
                    "Package created",
                    None,
                )
            )
            for _ in range(per_package - 1):
                moment += timedelta(seconds=rng.randint(60, 86400))
                if moment > end:
                    break
                if rng.random() < 0.5:
                    delta = -rng.randint(1, 20) * 500
                    if current + delta < 0:
                        continue
                    audit.append(
                        (
                            tag,
                            _at(moment),
                            "maria",
                            "adjust",
                            "current_grams",
                            current,
                            current + delta,
                            rng.choice(("Damage", "Waste", "=1+1 test")),
                            None,
                        )
                    )
                    current += delta
                else:
                    change = rng.randint(1, 10) * 1000
                    after = max(0, ordered + (change if rng.random() < 0.6 else -change))
                    audit.append(
                        (
                            tag,
                            _at(moment),
                            "apexapi",
                            "order_lines",
                            "grams_ordered",
                            ordered,
                            after,
                            "Order lines",
                            None,
                        )
                    )
                    ordered = after
            conn.execute(
                "UPDATE packages SET current_mg = ? WHERE metrc_number = ?", (current, tag)
            )
        conn.executemany(
            "INSERT INTO audit_log (metrc_number, at, actor, action, field, before_mg,"
            " after_mg, reason, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            audit,
        )
    db.close()

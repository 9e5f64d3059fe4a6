"""Build a tracker database with N active packages for the benchmarks (one transaction)."""

from __future__ import annotations

import random
from pathlib import Path

from tracker_service.finished_goods import repository as repo
from tracker_service.finished_goods.records import PackageRecord
from tracker_service.finished_goods.skus import SkuSetting, SkuType
from tracker_service.lib.clock import now_iso
from tracker_service.services import Services

STRAINS = [
    "Wedding Cake",
    "Blue Dream",
    "Gelato",
    "Sour Diesel",
    "Northern Lights",
    "Gorilla Glue",
    "Pineapple Express",
    "Zkittlez",
    "Runtz",
    "Mimosa",
]
CUSTOM = {
    "cannadart_0_8g": SkuType("CannaDart", 800, 1),
    "cocoa_blunt_1g": SkuType("Cocoa Blunt", 1000, 1),
}


def build(path: Path, packages: int, seed: int = 1) -> str:
    """Create ``path`` with ``packages`` active packages; return a valid API key."""
    rng = random.Random(seed)
    services = Services.open(path)
    at = now_iso()
    with services.db.transaction() as conn:
        for i in range(packages):
            grams = rng.randint(10_000, 2_000_000)
            record = PackageRecord(
                metrc_number=f"1A4060300002EE10{i:08d}",
                strain=rng.choice(STRAINS),
                status="active",
                initial_mg=grams,
                current_mg=grams,
                override_mg=grams - 1000 if i % 10 == 0 else None,
                sold_mg=rng.randint(0, 5000),
                lines_reserved_mg=0,
                packed_mg=0,
                holds=(),
                settings={"singles_1g": SkuSetting(excluded=True)} if i % 7 == 0 else {},
                custom_skus=CUSTOM if i % 3 == 0 else {},
                created_at=at,
                updated_at=at,
                status_changed_at=at,
            )
            repo.insert_package(conn, record)
            if i % 5 == 0:
                conn.execute(
                    "INSERT INTO holds (metrc_number, grams_mg, reason, created_by, created_at)"
                    " VALUES (?, ?, 'bench hold', 'bench', ?)",
                    (record.metrc_number, 1500, at),
                )
    key = services.api_keys.rotate(created_by="bench")
    services.close()
    return key

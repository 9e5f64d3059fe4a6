"""The /apex-calculate body is rebuilt only from what changed, and ages out retired packages."""

from __future__ import annotations

import time
from pathlib import Path

import msgspec

from tracker_service.finished_goods.calculation_cache import ApexCalculateCache
from tracker_service.finished_goods.schemas import AdjustRequest, PackageCreate, PackageUpdate
from tracker_service.services import Services


def make(services: Services, tag: str, grams: float = 100) -> None:
    services.finished_goods.create(
        PackageCreate(metrc_number=tag, strain="Gelato", initial_grams=grams), "test"
    )


def test_retired_package_leaves_the_answer_after_30_days(tmp_path: Path) -> None:
    """An archived package shows with 0 units for 30 days, then drops out with no write."""
    services = Services.open(tmp_path / "t.db")
    now = [time.time()]
    cache = ApexCalculateCache(services.db, clock=lambda: now[0])
    make(services, "AAAAAAAAAA01")
    make(services, "AAAAAAAAAA02")
    services.finished_goods.update("AAAAAAAAAA02", PackageUpdate(status="archived"), "test")
    body, _ = cache.current()
    assert sorted(msgspec.json.decode(body)) == ["AAAAAAAAAA01", "AAAAAAAAAA02"]
    now[0] += 29 * 86400
    assert sorted(msgspec.json.decode(cache.current()[0])) == ["AAAAAAAAAA01", "AAAAAAAAAA02"]
    now[0] += 2 * 86400
    assert sorted(msgspec.json.decode(cache.current()[0])) == ["AAAAAAAAAA01"]


def test_unrelated_commit_keeps_the_etag(tmp_path: Path) -> None:
    """A commit that changes no package (a new API key) leaves body and ETag as they were."""
    services = Services.open(tmp_path / "t.db")
    make(services, "AAAAAAAAAA01")
    first = services.calculation.current()
    services.api_keys.rotate("test")
    assert services.calculation.current() == first
    services.finished_goods.adjust(
        "AAAAAAAAAA01", AdjustRequest(delta_grams=-0.5, reason="Waste"), "t"
    )
    body, etag = services.calculation.current()
    assert etag != first[1]
    assert msgspec.json.decode(body)["AAAAAAAAAA01"]["available_grams"] == 99.5


def test_incremental_refresh_matches_a_full_rebuild(tmp_path: Path) -> None:
    """After many small changes the cached body equals one built from scratch."""
    services = Services.open(tmp_path / "t.db")
    for i in range(30):
        make(services, f"AAAAAAAA{i:04d}", grams=10 + i)
    services.calculation.current()
    for i in range(0, 30, 3):
        services.finished_goods.adjust(
            f"AAAAAAAA{i:04d}", AdjustRequest(delta_grams=-1.25, reason="Damage"), "t"
        )
    services.finished_goods.update("AAAAAAAA0007", PackageUpdate(status="orphaned"), "t")
    incremental = msgspec.json.decode(services.calculation.current()[0])
    fresh = msgspec.json.decode(ApexCalculateCache(services.db).current()[0])
    assert incremental == fresh
    assert incremental["AAAAAAAA0003"]["available_grams"] == 11.75

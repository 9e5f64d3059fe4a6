"""A 9-hour METRC outage in compressed time (the clocks jump 5 minutes a step): adjustments
recorded meanwhile wait, are retried at most every 5 minutes, and once METRC is back all of
them arrive, each once, in the order they were made (docs/metrc.md, "Outbox")."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.fakes.metrc import sim_settings
from tests.tracker.metrc.test_exactly_once import world
from tracker_service.finished_goods.schemas import AdjustRequest, PackageCreate
from tracker_service.services import Services

WEDDING_CAKE = "1A40603000123456"
GELATO = "1A4060300002EE1000012346"
HOUR = 3600


def test_a_nine_hour_outage_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    with world(tmp_path) as (metrc, clock, url):
        services = Services.open_with(tmp_path / "tracker.db", clock=clock)
        for label, strain, grams in [(WEDDING_CAKE, "Wedding Cake", 500), (GELATO, "Gelato", 320)]:
            services.finished_goods.create(
                PackageCreate(metrc_number=label, strain=strain, initial_grams=grams), "maria"
            )
        services.metrc.save_settings(sim_settings(url), "maria")
        worker = services.metrc_worker
        asyncio.run(worker.pull_now())
        outage_ends = clock() + 9 * HOUR
        metrc.faults.down_until = outage_ends
        made = 0
        while clock() < outage_ends:  # one adjustment every 5 minutes, on alternating packages
            label = (WEDDING_CAKE, GELATO)[made % 2]
            services.finished_goods.adjust(
                label, AdjustRequest(delta_grams=-0.5, reason="Damage"), "maria"
            )
            made += 1
            asyncio.run(worker.step())
            clock.now += 300
        during = [r for r in metrc.requests if r.status == 503]
        assert services.metrc.status().outbox.pending == made == 108
        assert metrc.adjustments == []
        # Retried all along (each package's first entry about every 5 minutes), never in a burst.
        assert 100 <= len(during) <= 3 * 108
        for _ in range(5):  # METRC is back
            clock.now += 300
            asyncio.run(worker.step())
        assert services.metrc.status().outbox.pending == 0
        assert metrc.quantity(WEDDING_CAKE) == 500 - 0.5 * 54
        assert metrc.quantity(GELATO) == 320 - 0.5 * 54
        notes = [a["AdjustmentNote"] for a in metrc.adjustments]
        assert len(notes) == len(set(notes)) == made  # every change once
        ids = [int(note.removeprefix("PRT-")) for note in notes]
        for label in (WEDDING_CAKE, GELATO):
            mine = [
                i for i, a in zip(ids, metrc.adjustments, strict=True) if a["PackageLabel"] == label
            ]
            assert mine == sorted(mine)  # in the order they were made
        services.close()


def test_a_package_transferred_out_is_archived_at_the_daily_full_listing(tmp_path: Path) -> None:
    """A package that leaves the license without being finished shows in no changed list; the
    whole active list, read once a day, finds it gone and the tracker archives it."""
    with world(tmp_path) as (metrc, clock, url):
        services = Services.open_with(tmp_path / "tracker.db", clock=clock)
        services.finished_goods.create(
            PackageCreate(metrc_number=GELATO, strain="Gelato", initial_grams=320), "maria"
        )
        services.metrc.save_settings(sim_settings(url), "maria")
        worker = services.metrc_worker
        asyncio.run(worker.pull_now())
        with metrc.lock:  # transferred to another license
            package_id = next(k for k, p in metrc.packages.items() if p["Label"] == GELATO)
            metrc.licenses[package_id] = "OTHER-LICENSE"
        clock.now += 2 * HOUR
        asyncio.run(worker.pull_now())
        assert services.finished_goods.get(GELATO).status == "active"  # not seen yet
        clock.now += 23 * HOUR
        asyncio.run(worker.pull_now())
        assert services.finished_goods.get(GELATO).status == "archived"
        services.close()


def test_the_worker_wakes_for_the_soonest_retry_of_any_package(tmp_path: Path) -> None:
    """Packages back off apart: a later entry due in 2 s is not kept waiting behind an older
    one of another package due in 5 minutes."""
    from tracker_service.metrc import repository as repo

    with world(tmp_path) as (metrc, clock, url):
        services = Services.open_with(tmp_path / "tracker.db", clock=clock)
        for label, strain in [(WEDDING_CAKE, "Wedding Cake"), (GELATO, "Gelato")]:
            services.finished_goods.create(
                PackageCreate(metrc_number=label, strain=strain, initial_grams=100), "maria"
            )
        services.metrc.save_settings(sim_settings(url), "maria")
        asyncio.run(services.metrc_worker.pull_now())
        metrc.faults.down_until = clock() + HOUR
        for label in (WEDDING_CAKE, GELATO):
            services.finished_goods.adjust(
                label, AdjustRequest(delta_grams=-1, reason="Damage"), "maria"
            )
        first, second = sorted(e.id for e in services.metrc.outbox())
        with services.db.transaction() as conn:
            repo.update_entry(conn, first, next_attempt_at=clock() + 300)
            repo.update_entry(conn, second, next_attempt_at=clock() + 2)
        delay = asyncio.run(services.metrc_worker.step())
        assert 1.5 <= delay <= 2.0
        services.close()

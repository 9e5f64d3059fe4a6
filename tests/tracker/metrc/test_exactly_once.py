"""Exactly once, whatever happens: any sequence of tracker adjustments, batch completions,
pulls and METRC faults (outages, lost answers, 429, 5xx, a tight object limit) and tracker
restarts ends, once the faults stop, with METRC's quantities equal to the tracker's and every
change applied exactly once (the simulator's own records). Time is compressed: the tracker's
and METRC's clocks jump ahead at every step, so hours of outage pass in milliseconds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators.metrc import MetrcState, create_metrc_app
from simulators.metrc.seed import LICENSE, seed_metrc
from simulators.serve import ServerThread
from tests.fakes.metrc import sim_settings
from tracker_service.batches.schemas import AdvanceRequest, BatchCreate, BatchUpdate
from tracker_service.finished_goods.schemas import AdjustRequest, PackageCreate
from tracker_service.metrc.quantities import MG_PER_UNIT
from tracker_service.services import Services

PACKAGES = ["1A40603000123456", "1A4060300002EE1000012346", "1A4060300002EE1000012348"]
HOUR = 3600.0


class Clock:
    """Shared by the tracker and the simulator; tests move it forward."""

    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("adjust"),
            st.sampled_from(PACKAGES),
            st.sampled_from([-7.5, -3, -1.25, -0.5, 0.75, 2, 4.5]),
        ),
        st.tuples(st.just("complete")),
        st.tuples(st.just("pull")),
        st.tuples(st.just("step")),
        st.tuples(st.just("restart")),
        st.tuples(
            st.just("fault"),
            st.sampled_from(["outage", "lose", "busy", "error", "tight"]),
        ),
    ),
    min_size=1,
    max_size=25,
)


@contextmanager
def world(folder: Path) -> Iterator[tuple[MetrcState, Clock, str]]:
    clock = Clock()
    state = seed_metrc(MetrcState(clock=clock))
    with ServerThread(create_metrc_app(state)) as url:
        yield state, clock, url


def open_tracker(folder: Path, clock: Clock) -> Services:
    return Services.open_with(folder / "tracker.db", clock=clock)


def step(services: Services) -> None:
    asyncio.run(services.metrc_worker.step())


def complete_batch(services: Services, flower: str, tag: str) -> None:
    batches = services.batches
    row = batches.create(
        BatchCreate(
            strain="Gelato",
            flower_grams_in=100,
            preroll_size_g=0.5,
            target_count=180,
            source_metrc=flower,
        ),
        "maria",
    )
    batches.update(row.id, BatchUpdate(prerolls_out=180), "maria")
    for _ in range(2):
        batches.advance(row.id, AdvanceRequest(), "maria", is_admin=True)
    batches.advance(
        row.id, AdvanceRequest(override=True, reason="checked by hand"), "maria", is_admin=True
    )
    batches.advance(row.id, AdvanceRequest(finished_metrc=tag), "maria", is_admin=True)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=operations)
def test_any_sequence_of_changes_faults_and_restarts_ends_in_step_exactly_once(
    tmp_path_factory, plan
) -> None:
    folder = tmp_path_factory.mktemp("exactly-once")
    with world(folder) as (metrc, clock, url):
        services = open_tracker(folder, clock)
        for label, strain, grams in [
            (PACKAGES[0], "Wedding Cake", 500),
            (PACKAGES[1], "Gelato", 320),
            (PACKAGES[2], "Sour Diesel", 75),
        ]:
            services.finished_goods.create(
                PackageCreate(metrc_number=label, strain=strain, initial_grams=grams), "maria"
            )
        services.metrc.save_settings(sim_settings(url, pull_interval_seconds=3600), "maria")
        asyncio.run(services.metrc_worker.pull_now())
        flower = next(
            p["Label"] for p in metrc.packages.values() if p["UnitOfMeasureName"] == "Pounds"
        )
        tags = sorted(metrc.tags[LICENSE])
        created: list[str] = []
        for operation in plan:
            match operation:
                case ("adjust", label, grams):
                    current = services.finished_goods.get(label).current_mg
                    if current + grams * 1000 >= 0:
                        services.finished_goods.adjust(
                            label, AdjustRequest(delta_grams=grams, reason="Damage"), "maria"
                        )
                case ("complete",):
                    tag = tags[len(created)]
                    complete_batch(services, flower, tag)
                    created.append(tag)
                case ("pull",):
                    asyncio.run(services.metrc_worker.pull_now())
                case ("step",):
                    step(services)
                case ("restart",):
                    services.close()
                    services = open_tracker(folder, clock)
                case ("fault", "outage"):
                    metrc.faults.down_until = clock() + 9 * HOUR
                case ("fault", "lose"):
                    metrc.faults.lose_answers += 1
                case ("fault", "busy"):
                    metrc.faults.rate_limited += 2
                case ("fault", "error"):
                    metrc.faults.errors_5xx += 1
                case ("fault", "tight"):
                    metrc.faults.object_limit = 1
            clock.now += 600
        # The faults stop; the outbox drains.
        metrc.faults.down_until = 0
        metrc.faults.lose_answers = metrc.faults.rate_limited = metrc.faults.errors_5xx = 0
        for _ in range(40):
            clock.now += 600
            step(services)
            if not services.metrc.status().outbox.pending:
                break
        asyncio.run(services.metrc_worker.pull_now())
        entries = services.metrc.outbox(10_000)
        assert [e.last_error for e in entries if e.state != "sent"] == []
        for label in PACKAGES + created:
            in_metrc = metrc.quantity(label) * float(MG_PER_UNIT["Grams"])
            assert round(in_metrc) == services.finished_goods.get(label).current_mg, label
        markers = [a["AdjustmentNote"] or "" for a in metrc.adjustments]
        for entry in entries:
            if entry.kind == "adjust":
                assert sum(f"PRT-{entry.id}" in m for m in markers) == 1, entry
        assert sorted(
            p["Label"] for p in metrc.packages.values() if p["Label"] in created
        ) == sorted(created)
        assert services.metrc.drift() == []
        services.close()

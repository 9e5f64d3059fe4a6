"""Tracker + Apex simulator + engine over loopback (issue 4's end-to-end cases)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import RunningTracker, wait_until
from tests.sync_engine.conftest import EngineThread, RunningApex, engine_config

WEDDING_CAKE = "1A40603000123456"
WC_BATCHES = {"singles_0_5g": 1001, "singles_1g": 1002, "box_0_5g_6pk": 1003, "box_0_5g_12pk": 1004}


def quantities(apex: RunningApex, ids: list[int]) -> list[float | None]:
    return [apex.state.quantity(i) for i in ids]


def patches(apex: RunningApex) -> list:
    return apex.state.requests_matching("PATCH", "/api/v2/batches/")


def test_decrement_reaches_the_right_apex_batches(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """Units flow to the four Wedding Cake batches; a decrement changes them within moments."""
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    ids = list(WC_BATCHES.values())
    with EngineThread(engine_config(tracker, apex), tmp_path / "state.json"):
        wait_until(lambda: quantities(apex, ids) == [1000, 500, 166, 83])
        tracker.client.post(
            f"/api/finished-goods/{WEDDING_CAKE}/apex-decrement",
            json={"sku": "singles_1g", "units": 10, "idempotency_key": "s1"},
        )
        started = time.monotonic()
        wait_until(lambda: quantities(apex, ids) == [980, 490, 163, 81], timeout=5)
        assert time.monotonic() - started < 3  # well within moments (bench/ measures it)
    # Batches of strains the tracker does not have were left alone.
    assert apex.state.quantity(1011) == 100
    assert apex.state.quantity(2001) == 300


def test_new_apex_batch_is_picked_up_after_a_mapping_refresh(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """A batch created in Apex later gets its quantity once the mapping is refreshed."""
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    with EngineThread(engine_config(tracker, apex), tmp_path / "state.json") as running:
        wait_until(lambda: apex.state.quantity(1001) == 1000)
        product = apex.state.add_product("Cocoa Blunt - Wedding Cake 1g")
        new_batch = apex.state.add_batch(product, 0)
        tracker.client.put(
            f"/api/finished-goods/{WEDDING_CAKE}/custom-skus",
            json={"key": "cocoa_blunt_1g", "name": "Cocoa Blunt", "grams_per_unit": 1},
        )
        time.sleep(1.0)
        assert apex.state.quantity(new_batch) == 0  # not yet: the mapping is 5 minutes old
        running.call(lambda engine: engine.refresh_mapping())
        wait_until(lambda: apex.state.quantity(new_batch) == 500)


def test_archived_package_drives_its_batches_to_zero(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """Archiving the package sets every Apex batch of its strain to 0."""
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    ids = list(WC_BATCHES.values())
    with EngineThread(engine_config(tracker, apex), tmp_path / "state.json"):
        wait_until(lambda: quantities(apex, ids) == [1000, 500, 166, 83])
        tracker.client.patch(f"/api/finished-goods/{WEDDING_CAKE}", json={"status": "archived"})
        wait_until(lambda: quantities(apex, ids) == [0, 0, 0, 0])


def test_tracker_outage_and_500_change_no_batch(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """With the tracker failing, the engine reports it and sends no PATCH at all."""
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    ids = list(WC_BATCHES.values())
    with EngineThread(engine_config(tracker, apex), tmp_path / "state.json") as running:
        wait_until(lambda: quantities(apex, ids) == [1000, 500, 166, 83])
        sent = len(patches(apex))
        original = tracker.services.calculation.current

        def broken(*_: object, **__: object) -> tuple[bytes, str]:
            raise RuntimeError("database is on fire")

        tracker.services.calculation.current = broken  # type: ignore[method-assign]
        try:
            running.call(lambda engine: engine.sync_now())
            status = lambda: running.engine.status.tracker  # noqa: E731
            wait_until(lambda: status().state == "failing")
            time.sleep(1.5)
            assert len(patches(apex)) == sent
            assert quantities(apex, ids) == [1000, 500, 166, 83]
        finally:
            tracker.services.calculation.current = original  # type: ignore[method-assign]
        wait_until(lambda: status().state == "connected", timeout=15)


@pytest.mark.parametrize(("token", "apex_light"), [("sim-token", "connected"), ("bad", "failing")])
def test_tracker_down_entirely_changes_no_batch(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path, token: str, apex_light: str
) -> None:
    """An engine that cannot reach the tracker at all never pushes (not even zeros); the Apex
    light still tells whether Apex takes the token (it used to wait for the tracker)."""
    config = engine_config(tracker, apex)
    config = type(config)(
        **{
            **{f: getattr(config, f) for f in config.__struct_fields__},
            "dashboard_url": "http://127.0.0.1:9",
            "api_token": token,
        }
    )
    with EngineThread(config, tmp_path / "state.json") as running:
        wait_until(lambda: running.engine.status.tracker.state == "failing")
        assert "Cannot connect to PreRollTracker" in running.engine.status.tracker.reason
        wait_until(lambda: running.engine.status.apex.state == apex_light)
        time.sleep(1.0)
    assert patches(apex) == []


def test_rate_limit_storm_and_5xx_are_ridden_out(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """429 storms and 5xx bursts delay the sync; quantities converge once they stop."""
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    ids = list(WC_BATCHES.values())
    apex.state.faults.storm_until = time.time() + 2.0
    apex.state.faults.errors_5xx = 6
    with EngineThread(engine_config(tracker, apex), tmp_path / "state.json"):
        wait_until(lambda: quantities(apex, ids) == [1000, 500, 166, 83], timeout=30)
        apex.state.faults.errors_5xx = 3
        apex.state.faults.malformed = 1
        tracker.client.post(
            f"/api/finished-goods/{WEDDING_CAKE}/adjust",
            json={"delta_grams": -100, "reason": "Damage"},
        )
        wait_until(lambda: quantities(apex, ids) == [800, 400, 133, 66], timeout=30)
    statuses = [r.status for r in apex.state.requests]
    assert 429 in statuses and 500 in statuses


def test_only_the_lease_holder_pushes(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """Two installations against one tracker: one pushes, the other says who does."""
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    first = EngineThread(engine_config(tracker, apex), tmp_path / "a.json")
    second = EngineThread(engine_config(tracker, apex), tmp_path / "b.json")
    with first, second:
        wait_until(lambda: apex.state.quantity(1001) == 1000)
        holders = {first.engine.holder: first, second.engine.holder: second}
        wait_until(lambda: first.engine.status.lease_holder and second.engine.status.lease_holder)
        assert first.engine.status.lease_holder == second.engine.status.lease_holder
        waiting = second if first.engine.status.has_lease else first
        assert not waiting.engine.status.has_lease
        assert holders[waiting.engine.status.lease_holder] is not waiting
        tracker.client.post(
            f"/api/finished-goods/{WEDDING_CAKE}/adjust",
            json={"delta_grams": -50, "reason": "Waste"},
        )
        wait_until(lambda: apex.state.quantity(1001) == 900)
        time.sleep(1.0)
        assert waiting.engine.status.batches_changed_total == 0

"""The engine never stops silently, never pushes without the lease, and copes with Apex batches
that disappear: end to end against the tracker and the Apex simulator."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import pytest

from sync_engine.status import EngineStatus, LoopFailure, overall_state
from tests.conftest import RunningTracker, wait_until
from tests.fakes.faulty_transport import FaultyTransport
from tests.sync_engine.conftest import EngineThread, RunningApex, engine_config

WEDDING_CAKE = "1A40603000123456"


def _decrement(tracker: RunningTracker, units: int, key: str) -> None:
    response = tracker.client.post(
        f"/api/finished-goods/{WEDDING_CAKE}/apex-decrement",
        json={"sku": "singles_1g", "units": units, "idempotency_key": key},
    )
    assert response.status_code == 200, response.text


def test_a_loop_failure_is_red_with_the_reason() -> None:
    """The tray's colour and tooltip name the loop that failed and why."""
    status = EngineStatus(sync_enabled=True)
    status.tracker.ok()
    status.apex.ok()
    status.loop_failures["sync cycle"] = LoopFailure("OSError: disk full", "now", 2)
    assert overall_state(status).colour == "red"
    assert overall_state(status).reason == (
        "ApexAPI's sync cycle loop failed (OSError: disk full); retrying"
    )


def test_failures_nobody_expected_are_shown_and_the_engine_recovers(
    tracker: RunningTracker,
    apex: RunningApex,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The state file cannot be written (disk full) three times, and the tracker once sends a
    body that cannot be decoded: the status shows each, cycles go on, and the numbers arrive."""
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    transport = FaultyTransport()
    config = engine_config(tracker, apex)
    with EngineThread(config, tmp_path / "state.json", transport=transport) as running:
        engine = running.engine
        assert engine is not None
        wait_until(lambda: apex.state.quantity(1002) == 500)
        flush, failures = engine.state.flush, [3]

        def full_disk() -> None:
            if failures[0] > 0:
                failures[0] -= 1
                raise OSError(28, "No space left on device")
            flush()

        engine.state.flush = full_disk  # type: ignore[method-assign]
        _decrement(tracker, 10, "s1")
        failed = wait_until(lambda: engine.status.loop_failures.get("sync cycle"))
        assert "No space left on device" in failed.reason
        assert overall_state(engine.status).colour == "red"
        wait_until(lambda: not engine.status.loop_failures, timeout=15)
        wait_until(lambda: apex.state.quantity(1002) == 490)

        transport.fail_next["/apex-calculate"] = lambda request: httpx.DecodingError(
            "Error -3 while decompressing data: incorrect header check", request=request
        )
        _decrement(tracker, 10, "s2")
        wait_until(lambda: engine.status.tracker.state == "failing")
        assert "cannot be read" in engine.status.tracker.reason
        wait_until(lambda: engine.status.tracker.state == "connected", timeout=15)
        wait_until(lambda: apex.state.quantity(1002) == 480)
    logged = [r for r in caplog.records if "the sync cycle loop failed" in r.getMessage()]
    assert logged and all(r.exc_info for r in logged)  # with the traceback
    assert any("the sync cycle loop works again" in r.getMessage() for r in caplog.records)


def test_an_installation_that_lost_the_tracker_pushes_nothing_after_its_lease_ran_out(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """Two engines, one tracker. The holder is cut off from the tracker for longer than the
    lease while a slow Apex holds its retries; the other takes over; after the first one's
    lease ran out it starts no request to Apex, retries included."""
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    cut_off = FaultyTransport()
    other = FaultyTransport()
    tracker_host = httpx.URL(tracker.base_url)
    config = engine_config(tracker, apex)
    first = EngineThread(config, tmp_path / "a.json", transport=cut_off, lease_ttl=3)
    with first:
        wait_until(lambda: apex.state.quantity(1002) == 500)
        assert first.engine is not None and first.engine.lease.held
        second = EngineThread(config, tmp_path / "b.json", transport=other, lease_ttl=3)
        with second:
            assert second.engine is not None
            wait_until(lambda: second.engine.status.lease_holder == first.engine.holder)
            # Apex answers the holder slowly and with 5xx: its PATCHes are retried for a while.
            cut_off.slow[("PATCH", "/api/v2/batches/")] = 1.5
            apex.state.faults.errors_5xx = 40  # every attempt fails until the handover
            decremented = time.monotonic()
            _decrement(tracker, 10, "s1")
            wait_until(lambda: cut_off.started("PATCH", "/v2/batches/", after=decremented), 10)
            cut_off.cut.add(f"{tracker_host.host}:{tracker_host.port}")
            lost_at = time.monotonic()
            wait_until(lambda: not first.engine.lease.held, timeout=10)
            ran_out = time.monotonic()
            assert ran_out - lost_at <= 3.5  # within the lease, measured from the last renewal
            wait_until(lambda: second.engine.lease.held, timeout=15)
            apex.state.faults.errors_5xx = 0
            _decrement(tracker, 10, "s2")
            wait_until(lambda: apex.state.quantity(1002) == 480, timeout=15)
            time.sleep(3.0)  # the cut-off engine's retries would have gone out by now
            assert cut_off.started("PATCH", "/v2/batches/", after=ran_out) == []
            assert first.engine.status.has_lease is False
            assert first.engine.status.tracker.state == "failing"


def test_a_deleted_apex_batch_is_dropped_and_its_replacement_updated(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """Someone deletes the Wedding Cake 1 g batch in Apex and creates a new one for the same
    product: the 404 drops the old batch at once (one more request at most), a full listing
    finds the new one, and it shows the tracker's units within the mapping lifetime plus a
    cycle. Without any 404 a full listing still runs every 6 mapping lifetimes."""
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    config = engine_config(tracker, apex, mapping_ttl_seconds=2)
    with EngineThread(config, tmp_path / "state.json") as running:
        engine = running.engine
        assert engine is not None
        wait_until(lambda: apex.state.quantity(1002) == 500)
        apex.state.delete_batch(1002)
        deleted_at = time.time()
        replacement = apex.state.add_batch(102, 0)  # same product, a new batch
        _decrement(tracker, 10, "s1")
        started = time.monotonic()
        wait_until(lambda: apex.state.quantity(replacement) == 490, timeout=10)
        assert time.monotonic() - started <= 2 + 1 + 1  # mapping lifetime + a cycle + slack
        _decrement(tracker, 10, "s2")
        wait_until(lambda: apex.state.quantity(replacement) == 480)
        late = [
            r for r in apex.state.requests if "/v2/batches/1002" in r.path and r.at > deleted_at
        ]
        assert len(late) <= 1 and all(r.status == 404 for r in late)
        assert 1002 not in engine.state.batches()
        listed = engine.mapping.full_listings
        wait_until(lambda: engine.mapping.full_listings > listed, timeout=2 * 6 + 5)


def test_an_ambiguity_caused_by_a_replacement_checks_the_old_batch_first(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """A new batch for a product that already has one would be ambiguous; when the old one
    is gone (404 on reading it again) the new one is simply mapped, not blocked."""
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    config = engine_config(tracker, apex, mapping_ttl_seconds=300)
    with EngineThread(config, tmp_path / "state.json") as running:
        wait_until(lambda: apex.state.quantity(1003) == 166)
        apex.state.delete_batch(1003)
        replacement = apex.state.add_batch(103, 0)
        running.call(lambda engine: engine.refresh_mapping())  # incremental: cannot see the delete
        wait_until(lambda: apex.state.quantity(replacement) == 166)
        assert running.engine is not None
        assert not [p for p in running.engine.status.problems if p.kind == "ambiguous"]
        rereads = apex.state.requests_matching("GET", "/api/v2/batches/1003")
        assert [r.status for r in rereads] == [404]


def test_no_batch_found_is_logged_once_per_strain_per_mapping(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The guide's troubleshooting looks in the log for "no batch found for strain"."""
    tracker.create("1A4060300002EE1000099999", strain="Purple Haze", grams=100)
    caplog.set_level(logging.WARNING)
    with EngineThread(engine_config(tracker, apex), tmp_path / "state.json") as running:
        assert running.engine is not None
        wait_until(lambda: running.engine.cycles >= 4)
    found = [
        r for r in caplog.records if "no batch found for strain 'Purple Haze'" in r.getMessage()
    ]
    assert len(found) == 1

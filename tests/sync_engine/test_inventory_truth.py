"""Inventory truth end to end (docs/apexapi.md): orders reach every SKU in seconds, oversold
demand stops the strain being advertised, split allocation never advertises more grams than
there are, and a quantity changed in Apex by hand is set back and listed. A real tracker
process, the Apex simulator and the engine on its own thread."""

from __future__ import annotations

from pathlib import Path

import msgspec

from sync_engine.config import Config
from sync_engine.kinds import BatchState, Command, NoticeKind
from tests.conftest import RunningTracker, wait_until
from tests.fakes.engine_thread import EngineThread
from tests.sync_engine.conftest import RunningApex, engine_config

WEDDING_CAKE = "1A40603000123456"
BLUE_DREAM = "1A4060300002EE1000012345"
WEDDING_BATCHES = (1001, 1002, 1003, 1004)  # 0.5 g, 1 g, 6 x 0.5 g, 12 x 0.5 g
BLUE_BATCHES = {1011: 500, 1012: 1000, 1013: 3000}  # batch → grams per sale unit


def with_settings(config: Config, **top: object) -> Config:
    return msgspec.convert(msgspec.to_builtins(config) | top, Config)


def quantities(apex: RunningApex, batches: tuple[int, ...]) -> list[float | None]:
    return [apex.state.quantity(b) for b in batches]


def wedding_cake_units(grams: float) -> list[int]:
    return [int(grams * 2), int(grams), int(grams / 3), int(grams / 6)]


def test_an_order_placed_in_apex_reaches_every_batch_of_its_strain_while_orders_flow(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """Orders are fetched every 30 s here; the orders already there at start do not count as
    flowing. Once a new order came in, the engine looks every 5 s: the next order is reserved
    and every Wedding Cake batch shows it long before 30 s."""
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    config = with_settings(engine_config(tracker, apex, orders=True), order_refresh_seconds=30)
    with EngineThread(config, tmp_path / "state.json") as running:
        wait_until(lambda: quantities(apex, WEDDING_BATCHES) == wedding_cake_units(488))
        engine = running.engine
        assert engine is not None
        assert engine.status.order_poll_seconds == 30
        apex.state.add_order(
            buyer="Corner Store", items=[{"product_id": 102, "batch_id": 1002, "quantity": 10}]
        )
        engine.command(Command.REFRESH_ORDERS)  # as the dashboard's button does
        wait_until(lambda: engine.status.order_poll_seconds == 5)
        wait_until(lambda: quantities(apex, WEDDING_BATCHES) == wedding_cake_units(478))
        apex.state.add_order(
            buyer="Uptown Store", items=[{"product_id": 101, "batch_id": 1001, "quantity": 4}]
        )
        wait_until(lambda: quantities(apex, WEDDING_BATCHES) == wedding_cake_units(476), timeout=15)
        assert tracker.package(WEDDING_CAKE)["grams_ordered"] == 24


def test_an_order_beyond_the_stock_stops_the_strain_and_tells_a_person(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """600 x 1 g of Wedding Cake when 488 g are free: the tracker holds all of it for the
    order, every Wedding Cake batch goes to 0, the shortfall is shown and a notice is due."""
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    tracker.create(BLUE_DREAM, strain="Blue Dream", grams=100)  # the seeded orders fit
    tracker.create("1A4060300002EE1000099999", strain="Gelato", grams=100)
    config = engine_config(tracker, apex, orders=True)
    with EngineThread(config, tmp_path / "state.json") as running:
        wait_until(lambda: quantities(apex, WEDDING_BATCHES) == wedding_cake_units(488))
        order = apex.state.add_order(
            buyer="Big Buyer", items=[{"id": 77001, "product_id": 102, "quantity": 600}]
        )
        wait_until(lambda: quantities(apex, WEDDING_BATCHES) == [0, 0, 0, 0], timeout=15)
        engine = running.engine
        assert engine is not None
        assert tracker.package(WEDDING_CAKE)["available_grams"] == 0
        wait_until(lambda: engine.status.short_strains == {"Wedding Cake": 112})
        [short] = [line for line in engine.status.unassigned_lines if line.item_id == 77001]
        assert (short.short_units, short.on_a_package) == (112, True)
        wait_until(lambda: NoticeKind.OVERCOMMITTED in {n.kind for n in engine.status.notices})
        notice = next(n for n in engine.status.notices if n.kind == NoticeKind.OVERCOMMITTED)
        assert "Wedding Cake (112 short)" in notice.message
        packing = engine.packing
        assert packing is not None
        [row] = [r for r in packing.rows if r.order_id == order]
        assert row.needs_production == 112


def test_split_allocation_never_advertises_more_grams_than_the_strain_has(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """Blue Dream's 100 g, split: the batches together show at most 100 g, every one shows
    some; a sale rebalances them all."""
    tracker.create(BLUE_DREAM, strain="Blue Dream", grams=100)
    config = engine_config(tracker, apex, allocation="split")

    def advertised_mg() -> int:
        return sum(int(apex.state.quantity(b) or 0) * g for b, g in BLUE_BATCHES.items())

    with EngineThread(config, tmp_path / "state.json") as running:
        wait_until(lambda: apex.state.quantity(1011) not in (100, None))
        wait_until(lambda: 99_000 <= advertised_mg() <= 100_000)
        assert all(apex.state.quantity(b) for b in BLUE_BATCHES)
        tracker.client.post(
            f"/api/finished-goods/{BLUE_DREAM}/apex-decrement",
            json={"sku": "singles_1g", "units": 10, "idempotency_key": "sale-1"},
        )
        wait_until(lambda: 89_000 <= advertised_mg() <= 90_000)
        engine = running.engine
        assert engine is not None and engine.status.allocation == "split"


def test_a_quantity_changed_in_apex_by_hand_is_set_back_and_listed(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """Someone types 999 into an Apex batch: at the next listing the engine sees it, sets it
    back to the tracker's number and lists the correction; the table is in step again."""
    tracker.create(WEDDING_CAKE, strain="Wedding Cake", grams=500)
    config = engine_config(tracker, apex)
    with EngineThread(config, tmp_path / "state.json") as running:
        wait_until(lambda: quantities(apex, WEDDING_BATCHES) == wedding_cake_units(500))
        engine = running.engine
        assert engine is not None
        wait_until(lambda: any(r.batch_id == 1001 for r in engine.status.batches))
        rows = {r.batch_id: r for r in engine.status.batches}
        assert rows[1001].state == BatchState.IN_STEP and rows[1001].target == 1000
        assert rows[1011].state == BatchState.NO_PACKAGE  # no Blue Dream in this tracker
        apex.state.update_batch(1001, {"quantity": 999})
        running.call(lambda e: e.command(Command.REFRESH_MAPPING))
        wait_until(lambda: engine.status.drift_corrected != [])
        assert apex.state.quantity(1001) == 1000
        assert (
            "showed 999 in Apex, changed by hand; set back to 1000"
            in (engine.status.drift_corrected[-1])
        )
        wait_until(
            lambda: {r.batch_id: r.state for r in engine.status.batches}[1001] == BatchState.IN_STEP
        )

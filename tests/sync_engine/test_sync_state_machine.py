"""Stateful property: whatever the tracker does and however Apex fails, once the faults stop
the Apex quantities equal the tracker's units (planner + applier against the simulator)."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import msgspec
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from simulators.apex.app import create_apex_app
from simulators.apex.state import ApexState
from sync_engine.applier import Applier
from sync_engine.clients.apex import ApexClient
from sync_engine.clients.rate_limit import SlidingWindowLimiter
from sync_engine.clients.retry import PeerWait
from sync_engine.clients.tracker import TrackerClient
from sync_engine.mapping.service import BatchMappingService
from sync_engine.planners.inventory import InventorySettings, plan_inventory
from sync_engine.state import EngineState
from sync_engine.status import StatusStore
from sync_engine.tracker_models import PackageCalc
from tracker_service.finished_goods.schemas import (
    AdjustRequest,
    DecrementRequest,
    PackageCreate,
    PackageUpdate,
    SkuSettingUpdate,
)
from tracker_service.lib.errors import TrackerError
from tracker_service.services import Services

STRAINS = ["Wedding Cake", "Blue Dream", "Gelato"]
SKUS = ["singles_0_5g", "singles_1g", "box_0_5g_6pk", "box_0_5g_12pk"]
PRODUCTS = {
    "singles_0_5g": "CannaDart - {s} 0.5g",
    "singles_1g": "CannaDart - {s} 1g",
    "box_0_5g_6pk": "Magnetic Box - {s} 6pk",
    "box_0_5g_12pk": "Magnetic Box - {s} 12pk",
}


class SyncMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.tracker = Services.open(Path(self.folder.name) / "t.db")
        self.apex = ApexState(rate_limit_per_second=10_000)
        self.batch_of: dict[tuple[str, str], int] = {}
        for strain in STRAINS:
            for sku, pattern in PRODUCTS.items():
                product = self.apex.add_product(pattern.format(s=strain))
                self.batch_of[(strain, sku)] = self.apex.add_batch(product, 7)
        self.state = EngineState()
        self.tags: list[str] = []
        self.count = 0

    def teardown(self) -> None:
        self.tracker.close()
        self.folder.cleanup()

    def _cycle(self) -> None:
        async def run() -> None:
            transport = httpx.ASGITransport(app=create_apex_app(self.apex))
            async with httpx.AsyncClient(transport=transport) as http:
                client = ApexClient(
                    http,
                    "http://apex/api",
                    "sim-token",
                    attempts=1,
                    limiter=SlidingWindowLimiter(10_000),
                    wait=PeerWait(initial=0.01, cap=0.01),
                )
                mapping = await BatchMappingService(client, self.state, 300).refresh()
                body = self.tracker.calculation.current()[0]
                packages = msgspec.json.decode(body, type=dict[str, PackageCalc])
                plan = plan_inventory(
                    packages,
                    mapping,
                    self.state.confirmed(),
                    InventorySettings(max_zero_share=1.0),
                )
                unused = TrackerClient(http, "http://tracker.invalid", "unused")
                applier = Applier(
                    client, unused, self.state, StatusStore(), holder="m", fence=lambda: True
                )
                await applier.inventory(plan.actions)

        try:
            # Its own thread: Playwright's sync API may hold an event loop on this one.
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(asyncio.run, run()).result()
        except Exception as exc:
            self.last_error = exc

    @rule(strain=st.sampled_from(STRAINS), grams=st.integers(0, 2000))
    def create_package(self, strain: str, grams: int) -> None:
        self.count += 1
        tag = f"1A40603000{self.count:06d}"
        self.tracker.finished_goods.create(
            PackageCreate(metrc_number=tag, strain=strain, initial_grams=grams), "machine"
        )
        self.tags.append(tag)

    @rule(data=st.data(), delta=st.integers(-300, 300))
    def adjust(self, data: st.DataObject, delta: int) -> None:
        if self.tags and delta:
            tag = data.draw(st.sampled_from(self.tags))
            with contextlib.suppress(TrackerError):  # below zero: refused, nothing changed
                self.tracker.finished_goods.adjust(
                    tag, AdjustRequest(delta_grams=delta, reason="Inventory Audit"), "machine"
                )

    @rule(data=st.data(), status=st.sampled_from(["active", "archived", "orphaned"]))
    def set_status(self, data: st.DataObject, status: str) -> None:
        if self.tags:
            tag = data.draw(st.sampled_from(self.tags))
            self.tracker.finished_goods.update(tag, PackageUpdate(status=status), "machine")

    @rule(
        data=st.data(),
        sku=st.sampled_from(SKUS),
        excluded=st.booleans(),
        manual=st.none() | st.integers(0, 50),
    )
    def sku_setting(
        self, data: st.DataObject, sku: str, excluded: bool, manual: int | None
    ) -> None:
        if self.tags:
            tag = data.draw(st.sampled_from(self.tags))
            self.tracker.finished_goods.update_settings(
                tag, {sku: SkuSettingUpdate(excluded=excluded, manual_units=manual)}, "machine"
            )

    @rule(data=st.data(), sku=st.sampled_from(SKUS), units=st.integers(1, 30))
    def decrement(self, data: st.DataObject, sku: str, units: int) -> None:
        if self.tags:
            tag = data.draw(st.sampled_from(self.tags))
            self.count += 1
            with contextlib.suppress(TrackerError):  # over-decrement or archived: refused
                self.tracker.finished_goods.decrement(
                    tag,
                    DecrementRequest(sku=sku, units=units, idempotency_key=f"k{self.count}"),
                    "machine",
                )

    @rule(errors=st.integers(0, 6), malformed=st.integers(0, 2))
    def apex_faults(self, errors: int, malformed: int) -> None:
        self.apex.faults.errors_5xx = errors
        self.apex.faults.malformed = malformed

    @rule()
    def sync_cycle(self) -> None:
        self._cycle()

    @invariant()
    def quantities_never_exceed_what_some_cycle_wanted(self) -> None:
        for quantity in (b["quantity"] for b in self.apex.batches.values()):
            assert quantity is None or quantity >= 0

    def converged(self) -> None:
        self.apex.faults.clear()
        for _ in range(2):
            self._cycle()
        packages = msgspec.json.decode(self.tracker.calculation.current()[0])
        for (strain, sku), batch_id in self.batch_of.items():
            mine = [p for p in packages.values() if p["strain"] == strain]
            if not mine:
                continue  # no package of the strain: left alone
            expected = sum(p["units"][sku] for p in mine)
            assert self.apex.quantity(batch_id) == expected, (strain, sku)


class ConvergingMachine(SyncMachine):
    def teardown(self) -> None:
        if hasattr(self, "tracker"):
            self.converged()
            super().teardown()


ConvergingMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None
)
TestSyncConverges = ConvergingMachine.TestCase

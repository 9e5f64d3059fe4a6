"""Everything a running tracker holds: the database and the services built on it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tracker_service.auth.api_keys import ApiKeyStore
from tracker_service.auth.sessions import SessionStore
from tracker_service.auth.throttle import SignIn
from tracker_service.auth.users import UserStore
from tracker_service.batches.service import BatchService
from tracker_service.finished_goods.calculation_cache import ApexCalculateCache
from tracker_service.finished_goods.service import FinishedGoodsService
from tracker_service.lib.changes import ChangeSignal, WaitSlots
from tracker_service.lib.db import Database
from tracker_service.metrc.outbox import MetrcLink
from tracker_service.metrc.sender import OutboxSender
from tracker_service.metrc.service import MetrcService
from tracker_service.metrc.worker import MetrcWorker
from tracker_service.reports.service import ReportService
from tracker_service.sync.lease import LeaseService
from tracker_service.sync.order_lines import OrderLineService

__all__ = ["Services"]


class Services:
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], float] = time.time,
        metrc_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.db = db
        self.signal = ChangeSignal()
        self.waits = WaitSlots()
        self.calculation = ApexCalculateCache(db)
        self.api_keys = ApiKeyStore(db)
        self.users = UserStore(db)
        self.sign_in = SignIn(self.users)
        self.sessions = SessionStore(db)
        self.finished_goods = FinishedGoodsService(db, self._after_commit)
        self.lease = LeaseService(db)
        self.order_lines = OrderLineService(db, self.lease, self._after_commit)
        self.batches = BatchService(db, self._after_commit)
        self.metrc = MetrcService(db, self._after_commit)
        self.reports = ReportService(db)
        link = MetrcLink()
        self.finished_goods.metrc = link
        self.batches.metrc = link
        self.metrc_worker = MetrcWorker(
            self.metrc,
            OutboxSender(db, clock, lambda: None),
            clock=clock,
            transport=metrc_transport,
        )

    def _after_commit(self) -> None:
        # Compute on write: the /apex-calculate body is ready before long-polls wake up.
        self.calculation.current()
        self.signal.notify()
        self.metrc_worker.wake()  # an adjustment or a completion may wait in the outbox

    @classmethod
    def open(cls, db_path: Path | str) -> Services:
        return cls(Database(db_path))

    @classmethod
    def open_with(cls, db_path: Path | str, *, clock: Callable[[], float]) -> Services:
        """The same, on another clock (the METRC sync's tests compress time)."""
        return cls(Database(db_path), clock=clock)

    def close(self) -> None:
        self.db.close()

"""Everything a running tracker holds: the database and the services built on it."""

from __future__ import annotations

from pathlib import Path

from tracker_service.auth.api_keys import ApiKeyStore
from tracker_service.auth.sessions import SessionStore
from tracker_service.auth.throttle import SignIn
from tracker_service.auth.users import UserStore
from tracker_service.batches.service import BatchService
from tracker_service.finished_goods.calculation_cache import ApexCalculateCache
from tracker_service.finished_goods.service import FinishedGoodsService
from tracker_service.lib.changes import ChangeSignal, WaitSlots
from tracker_service.lib.db import Database
from tracker_service.sync.lease import LeaseService
from tracker_service.sync.order_lines import OrderLineService

__all__ = ["Services"]


class Services:
    def __init__(self, db: Database) -> None:
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

    def _after_commit(self) -> None:
        # Compute on write: the /apex-calculate body is ready before long-polls wake up.
        self.calculation.current()
        self.signal.notify()

    @classmethod
    def open(cls, db_path: Path | str) -> Services:
        return cls(Database(db_path))

    def close(self) -> None:
        self.db.close()

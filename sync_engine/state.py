"""The engine's local state in tinydb: confirmed Apex quantities, cached batches and products,
and cursors. Kept next to the config (or in the user's data folder) so a restart re-downloads
nothing it already has.

The file is replaced whole on every flush (a temporary file, fsync, ``os.replace``), so a crash
or a power cut at any moment leaves either the previous state or the new one, never half of
either. A file that cannot be read anyway (written by something else) is set aside with a
warning and the engine starts afresh: it re-reads Apex, which is slower, never wrong.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec
from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import MemoryStorage, Storage
from tinydb.table import Document

from sync_engine.apex_models import ApexBatch, ApexProduct
from sync_engine.orders.models import ApexOrder
from sync_engine.orders.packing import Editable

__all__ = ["AtomicJSONStorage", "EngineState"]

log = logging.getLogger(__name__)


class AtomicJSONStorage(Storage):
    """tinydb storage that replaces its file whole on every write."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            return None
        data: dict[str, dict[str, Any]] = msgspec.json.decode(raw)
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        payload = msgspec.json.encode(data)
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".state-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(payload)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        _sync_folder(self.path.parent)

    def close(self) -> None:
        pass


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; Windows has no folder handles to sync)."""
    if os.name != "posix":
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _clear_leftovers(folder: Path) -> None:
    """Temporary files of writes a crash interrupted: garbage, the state file is whole."""
    for leftover in folder.glob(".state-*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _readable(path: Path) -> None:
    """Set aside a state file that cannot be read, so the engine starts instead of failing."""
    try:
        AtomicJSONStorage(path).read()
    except (msgspec.DecodeError, OSError, UnicodeDecodeError) as exc:
        aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        with contextlib.suppress(OSError):
            os.replace(path, aside)
        log.warning(
            "the state file %s could not be read (%s); it was moved to %s and ApexAPI starts "
            "afresh (it reads Apex again)",
            path,
            exc,
            aside,
        )


class EngineState:
    """Writes are cached in memory and reach the file on :meth:`flush` (after every cycle)."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            self._db = TinyDB(storage=MemoryStorage)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            _clear_leftovers(path.parent)
            _readable(path)
            self._db = TinyDB(path, storage=CachingMiddleware(AtomicJSONStorage))  # type: ignore[no-untyped-call]
        self._confirmed = self._db.table("confirmed_quantities")
        self._batches = self._db.table("apex_batches")
        self._products = self._db.table("apex_products")
        self._meta = self._db.table("meta")
        self._orders = self._db.table("apex_orders")
        self._edits = self._db.table("packing_edits")
        self._pushes = self._db.table("last_pushes")

    def confirmed(self) -> dict[int, int | None]:
        return {doc.doc_id: doc["quantity"] for doc in self._confirmed.all()}

    def set_confirmed(self, batch_id: int, quantity: float | None) -> None:
        value = None if quantity is None else int(quantity)
        self._confirmed.upsert(Document({"quantity": value}, doc_id=batch_id))

    def pushes(self) -> dict[int, tuple[int | None, str]]:
        """batch id → (the quantity last pushed to it, when)."""
        return {doc.doc_id: (doc["quantity"], doc["at"]) for doc in self._pushes.all()}

    def set_pushed(self, batch_id: int, quantity: int | None, at: str) -> None:
        self._pushes.upsert(Document({"quantity": quantity, "at": at}, doc_id=batch_id))

    def order(self, order_id: int) -> ApexOrder | None:
        doc = self._orders.get(doc_id=order_id)
        return None if doc is None else msgspec.convert(dict(doc), ApexOrder)

    def batches(self) -> dict[int, ApexBatch]:
        return {doc.doc_id: msgspec.convert(dict(doc), ApexBatch) for doc in self._batches.all()}

    def save_batches(self, batches: list[ApexBatch]) -> None:
        for batch in batches:
            self._batches.upsert(Document(msgspec.to_builtins(batch), doc_id=batch.id))

    def forget_batches(self, batch_ids: Iterable[int]) -> None:
        """Batches Apex no longer has: neither mapped nor remembered as confirmed."""
        for batch_id in batch_ids:
            for table in (self._batches, self._confirmed, self._pushes):
                if table.contains(doc_id=batch_id):
                    table.remove(doc_ids=[batch_id])

    def products(self) -> dict[int, ApexProduct]:
        return {doc.doc_id: msgspec.convert(dict(doc), ApexProduct) for doc in self._products.all()}

    def save_products(self, products: list[ApexProduct]) -> None:
        for product in products:
            self._products.upsert(Document(msgspec.to_builtins(product), doc_id=product.id))

    def orders(self) -> dict[int, ApexOrder]:
        return {doc.doc_id: msgspec.convert(dict(doc), ApexOrder) for doc in self._orders.all()}

    def save_orders(self, orders: list[ApexOrder]) -> None:
        for order in orders:
            self._orders.upsert(Document(msgspec.to_builtins(order), doc_id=order.id))

    def edits(self) -> dict[int, Editable]:
        return {doc.doc_id: msgspec.convert(dict(doc), Editable) for doc in self._edits.all()}

    def save_edit(self, item_id: int, edit: Editable) -> None:
        self._edits.upsert(Document(msgspec.to_builtins(edit), doc_id=item_id))

    def meta(self, key: str, default: Any = None) -> Any:
        doc = self._meta.get(doc_id=1)
        return default if doc is None else doc.get(key, default)

    def set_meta(self, key: str, value: Any) -> None:
        doc = dict(self._meta.get(doc_id=1) or {})
        doc[key] = value
        self._meta.upsert(Document(doc, doc_id=1))

    def flush(self) -> None:
        storage = self._db.storage
        if isinstance(storage, CachingMiddleware):
            storage.flush()  # type: ignore[no-untyped-call]

    def close(self) -> None:
        self._db.close()

"""The engine's local state in tinydb: confirmed Apex quantities, cached batches and products,
and cursors. Kept next to the config (or in the user's data folder) so a restart re-downloads
nothing it already has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import JSONStorage, MemoryStorage
from tinydb.table import Document

from sync_engine.apex_models import ApexBatch, ApexProduct
from sync_engine.orders.models import ApexOrder
from sync_engine.orders.packing import Editable

__all__ = ["EngineState"]


class EngineState:
    """Writes are cached in memory and reach the file on :meth:`flush` (after every cycle)."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            self._db = TinyDB(storage=MemoryStorage)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = TinyDB(path, storage=CachingMiddleware(JSONStorage))  # type: ignore[no-untyped-call]
        self._confirmed = self._db.table("confirmed_quantities")
        self._batches = self._db.table("apex_batches")
        self._products = self._db.table("apex_products")
        self._meta = self._db.table("meta")
        self._orders = self._db.table("apex_orders")
        self._edits = self._db.table("packing_edits")

    def confirmed(self) -> dict[int, int | None]:
        return {doc.doc_id: doc["quantity"] for doc in self._confirmed.all()}

    def set_confirmed(self, batch_id: int, quantity: float | None) -> None:
        value = None if quantity is None else int(quantity)
        self._confirmed.upsert(Document({"quantity": value}, doc_id=batch_id))

    def batches(self) -> dict[int, ApexBatch]:
        return {doc.doc_id: msgspec.convert(dict(doc), ApexBatch) for doc in self._batches.all()}

    def save_batches(self, batches: list[ApexBatch]) -> None:
        for batch in batches:
            self._batches.upsert(Document(msgspec.to_builtins(batch), doc_id=batch.id))

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

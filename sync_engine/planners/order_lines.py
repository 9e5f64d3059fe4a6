"""``plan_order_lines``: the packing list, and the order lines to send when they changed. Pure."""

from __future__ import annotations

import hashlib

import msgspec

from sync_engine.actions import PutLines
from sync_engine.orders.packing import Packing, build_packing
from sync_engine.snapshot import Snapshot

__all__ = ["plan_order_lines"]


def plan_order_lines(snapshot: Snapshot) -> tuple[Packing, PutLines | None]:
    """Rows for every pre-roll order item, and a PUT of every line unless the tracker already
    has exactly these lines."""
    packages = snapshot.tracker.packages if snapshot.tracker else {}
    packing = build_packing(snapshot.orders, packages, snapshot.edits, snapshot.placed)
    digest = hashlib.sha256(msgspec.json.encode(packing.lines)).hexdigest()
    if digest == snapshot.lines_digest:
        return packing, None
    return packing, PutLines(tuple(packing.lines), digest)

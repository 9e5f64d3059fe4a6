"""What planners ask for and the applier does: tagged unions, matched by the applier.

Planners are pure: they look at a :class:`~sync_engine.snapshot.Snapshot` and return these.
Only :class:`~sync_engine.applier.Applier` (and, for sheet actions, a packing store) performs
them.
"""

from __future__ import annotations

import msgspec

from preroll_contract import OrderLine

__all__ = [
    "DeleteRows",
    "HoldBack",
    "InventoryAction",
    "PutLines",
    "ReplaceTab",
    "SetQuantity",
    "SheetAction",
    "WriteCells",
]


class SetQuantity(msgspec.Struct, frozen=True, tag="set_quantity"):
    """PATCH one Apex batch's quantity."""

    batch_id: int
    quantity: int
    previous: int | None
    strain: str
    sku_key: str


class HoldBack(msgspec.Struct, frozen=True, tag="hold_back"):
    """Push nothing: the cycle would zero too many batches at once; a person confirms."""

    reason: str
    zeroing: tuple[SetQuantity, ...]


InventoryAction = SetQuantity | HoldBack


class PutLines(msgspec.Struct, frozen=True, tag="put_lines"):
    """Tell the tracker every order line (replace semantics), as the lease holder."""

    lines: tuple[OrderLine, ...]
    #: Of the lines sent: the next plan sends nothing while it is unchanged.
    digest: str


class WriteCells(msgspec.Struct, frozen=True, tag="write_cells"):
    """Cells of one row, from ``col`` rightwards (1-based)."""

    tab: str
    row: int
    col: int
    values: tuple[str, ...]


class DeleteRows(msgspec.Struct, frozen=True, tag="delete_rows"):
    """Rows of the Packing List (1-based) that no longer belong there."""

    rows: tuple[int, ...]


class ReplaceTab(msgspec.Struct, frozen=True, tag="replace_tab"):
    """A whole write-only tab (History, Delivery)."""

    tab: str
    rows: tuple[tuple[str, ...], ...]


SheetAction = WriteCells | DeleteRows | ReplaceTab

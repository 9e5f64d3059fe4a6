"""How ``split`` allocation weighs a strain's SKUs (docs/apexapi.md, "Allocation"). Pure.

``batch_inventory_sync.split_shares`` fixes the weights (SKU key → weight; a SKU it does not
name weighs 0 and gets only grams no other SKU can use). Without it, half of a strain's grams
are split equally between its SKUs (the floor: every SKU stays on sale) and half follow the
grams ordered per SKU in the last 30 days: this strain's orders, or, when the strain has none,
every strain's; with no orders at all the split is equal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from fractions import Fraction

from sync_engine.mapping.mapping import BatchInfo
from sync_engine.mapping.parser import ParsedProduct, PreRollProductParser
from sync_engine.orders.models import ApexOrder

__all__ = ["DEMAND_DAYS", "Demand", "ordered_grams", "split_weights"]

DEMAND_DAYS = 30
#: (strain key, SKU key) → grams ordered.
Demand = Mapping[tuple[str, str], int]
_parser = PreRollProductParser()


def ordered_grams(orders: Iterable[ApexOrder], today: date) -> dict[tuple[str, str], int]:
    """Grams ordered per strain and SKU in the last ``DEMAND_DAYS`` days (cancelled orders
    left out)."""
    since = (today - timedelta(days=DEMAND_DAYS)).isoformat()
    grams: dict[tuple[str, str], int] = defaultdict(int)
    for order in orders:
        if order.cancelled or (order.order_date or "")[:10] < since:
            continue
        for item in order.items:
            parsed = _parser.parse(item.product_name)
            if isinstance(parsed, ParsedProduct):
                unit = parsed.mg_per_unit * parsed.pack_size
                grams[(parsed.strain_key, parsed.sku_key)] += item.units * unit
    return dict(grams)


def split_weights(
    strain_key: str,
    batches: Sequence[BatchInfo],
    demand: Demand,
    fixed: Mapping[str, float] | None = None,
) -> dict[int, Fraction]:
    """batch id → weight for the batches of one strain."""
    if fixed is not None:
        return {b.batch_id: Fraction(fixed.get(b.sku_key, 0)) for b in batches}
    own = {b.batch_id: demand.get((strain_key, b.sku_key), 0) for b in batches}
    if not any(own.values()):
        everyone: dict[str, int] = defaultdict(int)
        for (_, sku), grams in demand.items():
            everyone[sku] += grams
        own = {b.batch_id: everyone.get(b.sku_key, 0) for b in batches}
    count = len(batches)
    total = sum(own.values())
    if not count:
        return {}
    floor = Fraction(1, 2 * count)
    if not total:
        return {b.batch_id: Fraction(1, count) for b in batches}
    return {b.batch_id: floor + Fraction(own[b.batch_id], 2 * total) for b in batches}

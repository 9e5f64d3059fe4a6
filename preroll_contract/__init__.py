"""What PreRollTracker and ApexAPI must agree on, written once (docs/api.md).

Both applications import this package; it imports nothing but msgspec and does no I/O. It holds
the SKU table and its aliases, grams per sale unit, the strain-matching rule, exact gram
conversion and the wire shapes of ``/apex-calculate``, the change feed, the sync lease and the
order lines.
"""

from preroll_contract._csv import FORMULA_STARTS, spreadsheet_csv
from preroll_contract._grams import MAX_GRAMS, grams_from_mg, mg_from_grams
from preroll_contract._skus import (
    DEFAULT_SKUS,
    SKU_ALIASES,
    SkuType,
    canonical_sku_key,
    default_sku_key,
)
from preroll_contract._strains import strain_key
from preroll_contract._wire import (
    NOT_LEASE_HOLDER,
    ApexCalculation,
    Change,
    ChangeFeed,
    CustomSkuRead,
    Input,
    LeaseGrant,
    LeaseRequest,
    LinePartRead,
    LineResult,
    LineState,
    OrderLine,
    OrderLineRead,
    OrderLinesPut,
    OrderLinesResult,
    UnassignedLine,
)

__all__ = [
    "DEFAULT_SKUS",
    "FORMULA_STARTS",
    "MAX_GRAMS",
    "NOT_LEASE_HOLDER",
    "SKU_ALIASES",
    "ApexCalculation",
    "Change",
    "ChangeFeed",
    "CustomSkuRead",
    "Input",
    "LeaseGrant",
    "LeaseRequest",
    "LinePartRead",
    "LineResult",
    "LineState",
    "OrderLine",
    "OrderLineRead",
    "OrderLinesPut",
    "OrderLinesResult",
    "SkuType",
    "UnassignedLine",
    "canonical_sku_key",
    "default_sku_key",
    "grams_from_mg",
    "mg_from_grams",
    "spreadsheet_csv",
    "strain_key",
]

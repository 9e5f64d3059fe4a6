"""PreRollTracker's wire shapes as the engine reads them: the shared contract's Structs
(``preroll_contract``, docs/api.md). Decoding is strict: an answer that does not fit is an
error, never a guess."""

from __future__ import annotations

import msgspec

from preroll_contract import ApexCalculation, ChangeFeed, CustomSkuRead, OrderLinesResult

__all__ = ["ChangeFeed", "CustomSku", "OrderLinesAnswer", "PackageCalc", "PackageSkus"]

#: One package's ``/apex-calculate`` entry.
PackageCalc = ApexCalculation
#: A custom SKU as the tracker defines it on a package.
CustomSku = CustomSkuRead
#: The tracker's answer to ``PUT /api/sync/order-lines``.
OrderLinesAnswer = OrderLinesResult


class PackageSkus(msgspec.Struct, frozen=True):
    """The part of a package read that says which custom SKUs it has."""

    metrc_number: str
    custom_skus: dict[str, CustomSku]

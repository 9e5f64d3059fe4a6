"""PreRollTracker's wire shapes as the engine reads them: the shared contract's Structs
(``preroll_contract``, docs/api.md). Decoding is strict: an answer that does not fit is an
error, never a guess."""

from __future__ import annotations

from preroll_contract import ApexCalculation, ChangeFeed, CustomSkuRead, OrderLinesResult

__all__ = ["ChangeFeed", "CustomSku", "OrderLinesAnswer", "PackageCalc"]

#: One package's ``/apex-calculate`` entry.
PackageCalc = ApexCalculation
#: A custom SKU as the tracker defines it on a package.
CustomSku = CustomSkuRead
#: The tracker's answer to ``PUT /api/sync/order-lines``.
OrderLinesAnswer = OrderLinesResult

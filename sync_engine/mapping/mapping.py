"""``build_mapping``: Apex batches + their products → strain → batches, with the problems.

Pure: the :class:`~sync_engine.mapping.service.BatchMappingService` fetches and caches; this
decides. An Apex batch belongs to a product, and the product's name is what gets parsed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import msgspec

from sync_engine.apex_models import ApexBatch, ApexProduct
from sync_engine.kinds import ProblemKind
from sync_engine.mapping.parser import ParsedProduct, PreRollProductParser, Rejected

__all__ = ["BatchInfo", "BatchMapping", "MappingProblem", "build_mapping"]


class BatchInfo(msgspec.Struct, frozen=True, kw_only=True):
    batch_id: int
    product_id: int
    product_name: str
    strain: str
    family: str
    mg_per_unit: int
    pack_size: int
    sku_key: str


class MappingProblem(msgspec.Struct, frozen=True, kw_only=True):
    kind: ProblemKind
    strain: str
    detail: str
    batch_ids: tuple[int, ...] = ()


class BatchMapping(msgspec.Struct, frozen=True):
    """strain key → the Apex batches to update for it; plus what could not be mapped."""

    by_strain: dict[str, tuple[BatchInfo, ...]]
    problems: tuple[MappingProblem, ...]
    #: (strain key, sku key) pairs that more than one batch claims: never updated.
    ambiguous: frozenset[tuple[str, str]]

    @property
    def batch_count(self) -> int:
        return sum(len(batches) for batches in self.by_strain.values())


def build_mapping(
    batches: Iterable[ApexBatch],
    products: Mapping[int, ApexProduct],
    parser: PreRollProductParser | None = None,
) -> BatchMapping:
    parser = parser or PreRollProductParser()
    by_strain: dict[str, list[BatchInfo]] = defaultdict(list)
    problems: list[MappingProblem] = []
    for batch in sorted(batches, key=lambda b: b.id):
        if batch.archived or batch.unlimited_quantity:
            continue  # nothing to count: archived, or Apex sells it without a quantity
        product = products.get(batch.product_id)
        if product is None:
            problems.append(
                MappingProblem(
                    kind=ProblemKind.SKIPPED_PRODUCT,
                    strain="",
                    detail=f"batch {batch.id}: product {batch.product_id} not found in Apex",
                    batch_ids=(batch.id,),
                )
            )
            continue
        parsed = parser.parse(product.name)
        if isinstance(parsed, Rejected):
            if not parsed.reason.startswith("not a pre-roll"):
                problems.append(
                    MappingProblem(
                        kind=ProblemKind.SKIPPED_PRODUCT,
                        strain="",
                        detail=f"{product.name!r} (batch {batch.id}): {parsed.reason}",
                        batch_ids=(batch.id,),
                    )
                )
            continue
        by_strain[parsed.strain_key].append(_info(batch, product, parsed))
    ambiguous: set[tuple[str, str]] = set()
    for strain_key, infos in by_strain.items():
        claims: dict[str, list[BatchInfo]] = defaultdict(list)
        for info in infos:
            claims[info.sku_key].append(info)
        for sku_key, claimants in claims.items():
            if len(claimants) > 1:
                ambiguous.add((strain_key, sku_key))
                names = "; ".join(f"{c.product_name!r} (batch {c.batch_id})" for c in claimants)
                problems.append(
                    MappingProblem(
                        kind=ProblemKind.AMBIGUOUS,
                        strain=claimants[0].strain,
                        batch_ids=tuple(c.batch_id for c in claimants),
                        detail=f"{len(claimants)} Apex batches are {claimants[0].strain} "
                        f"{sku_key}: {names}. None is updated, so the quantity is not advertised "
                        "twice; archive the extra batch in Apex or rename its product",
                    )
                )
    return BatchMapping(
        by_strain={k: tuple(v) for k, v in by_strain.items()},
        problems=tuple(problems),
        ambiguous=frozenset(ambiguous),
    )


def _info(batch: ApexBatch, product: ApexProduct, parsed: ParsedProduct) -> BatchInfo:
    return BatchInfo(
        batch_id=batch.id,
        product_id=product.id,
        product_name=product.name,
        strain=parsed.strain,
        family=parsed.family,
        mg_per_unit=parsed.mg_per_unit,
        pack_size=parsed.pack_size,
        sku_key=parsed.sku_key,
    )

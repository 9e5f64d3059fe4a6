"""``plan_inventory``: (tracker units, mapping, last confirmed Apex quantities) → actions. Pure.

Targets: with ``shared`` allocation every batch gets the units of its SKU summed over the
strain's packages (the guide's rule); with ``split`` the strain's grams are divided between its
batches (:mod:`sync_engine.planners.allocation`), so together they never advertise more grams
than the strain has.

Safety rails (docs/apexapi.md): a strain with no package in the tracker answer is left alone;
a batch is only driven to 0 by the tracker saying so (units 0, or the package archived or
orphaned); a plan that would zero more than ``max_zero_share`` of the mapped batches at once is
held back (:class:`~sync_engine.actions.HoldBack`) for a person to confirm.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Protocol

import msgspec

from preroll_contract import mg_from_grams
from preroll_contract import strain_key as key_of
from sync_engine.actions import HoldBack, InventoryAction, SetQuantity
from sync_engine.kinds import ProblemKind
from sync_engine.mapping.mapping import BatchInfo, BatchMapping, MappingProblem
from sync_engine.planners.allocation import Claim, allocate_split
from sync_engine.planners.shares import Demand, split_weights
from sync_engine.tracker_models import PackageCalc

__all__ = [
    "MIN_MASS_ZERO",
    "InventoryPlan",
    "InventorySettings",
    "ProductSpec",
    "plan_inventory",
    "sku_for",
    "units_for",
]

#: Zeroing fewer batches than this at once is never "mass" zeroing.
MIN_MASS_ZERO = 3

Packages = list[tuple[str, PackageCalc]]


class InventorySettings(msgspec.Struct, frozen=True, kw_only=True):
    allocation: str = "shared"
    split_shares: dict[str, float] | None = None
    max_zero_share: float = 0.5


class InventoryPlan(msgspec.Struct, frozen=True):
    #: The PATCHes to send, or one HoldBack instead of them.
    actions: tuple[InventoryAction, ...]
    #: batch id → the quantity the tracker's numbers call for.
    targets: dict[int, int]
    problems: tuple[MappingProblem, ...]

    @property
    def held_back(self) -> HoldBack | None:
        return next((a for a in self.actions if isinstance(a, HoldBack)), None)


class ProductSpec(Protocol):
    """What identifies a sellable product: an Apex batch's product, or an order item's."""

    @property
    def family(self) -> str: ...
    @property
    def mg_per_unit(self) -> int: ...
    @property
    def pack_size(self) -> int: ...
    @property
    def sku_key(self) -> str: ...


def sku_for(batch: ProductSpec, package: PackageCalc) -> str | None:
    """The package's SKU key that sells what this Apex batch sells, if it has one."""
    custom = package.custom_skus
    if batch.sku_key in package.units and batch.sku_key not in custom:
        return batch.sku_key  # a default SKU
    family = key_of(batch.family).replace(" ", "")
    for key, sku in sorted(custom.items()):
        same_family = key_of(sku.name).replace(" ", "") == family
        if (
            same_family
            and sku.mg_per_unit == batch.mg_per_unit
            and sku.pack_size == batch.pack_size
        ):
            return key if key in package.units else None
    return batch.sku_key if batch.sku_key in package.units else None


def units_for(batch: ProductSpec, packages: Packages) -> int | None:
    """Sum of the units of every package of the strain that sells this batch's SKU."""
    total, matched = 0, False
    for _, package in packages:
        key = sku_for(batch, package)
        if key is not None:
            matched = True
            total += package.units[key]
    if not matched and all(p.status != "active" for _, p in packages):
        return 0  # every package of the strain is archived/orphaned: sell none
    return total if matched else None


def available_mg(packages: Packages) -> int:
    """The strain's grams Apex may advertise: active packages the tracker can compute."""
    return sum(
        mg_from_grams(p.available_grams)
        for _, p in packages
        if p.status == "active" and not p.problem
    )


def plan_inventory(
    packages: Mapping[str, PackageCalc],
    mapping: BatchMapping,
    confirmed: Mapping[int, int | None],
    settings: InventorySettings,
    *,
    demand: Demand | None = None,
    allow_mass_zero: bool = False,
) -> InventoryPlan:
    by_strain: dict[str, Packages] = defaultdict(list)
    for tag, package in packages.items():
        by_strain[key_of(package.strain)].append((tag, package))
    problems = list(mapping.problems)
    problems += [
        MappingProblem(
            kind=ProblemKind.PACKAGE_PROBLEM,
            strain=package.strain,
            detail=f"package {tag} sells nothing until it is fixed in the tracker: "
            f"{package.problem}",
        )
        for tag, package in sorted(packages.items())
        if package.problem
    ]
    targets: dict[int, int] = {}
    for strain_key, batches in sorted(mapping.by_strain.items()):
        strain_packages = by_strain.get(strain_key)
        if not strain_packages:
            problems.append(_no_package(batches))
            continue
        shared: dict[int, int] = {}
        for batch in batches:
            if (strain_key, batch.sku_key) in mapping.ambiguous:
                continue
            target = units_for(batch, strain_packages)
            if target is None:
                problems.append(_no_sku(batch))
                continue
            shared[batch.batch_id] = target
        if settings.allocation == "split":
            shared = _split(strain_key, batches, shared, strain_packages, settings, demand or {})
        targets.update(shared)
    problems += _unmatched(by_strain, mapping)
    info = {b.batch_id: b for batches in mapping.by_strain.values() for b in batches}
    actions = tuple(
        SetQuantity(
            batch_id,
            quantity,
            confirmed.get(batch_id),
            info[batch_id].strain,
            info[batch_id].sku_key,
        )
        for batch_id, quantity in sorted(targets.items())
        if confirmed.get(batch_id) != quantity
    )
    zeroing = tuple(a for a in actions if a.quantity == 0 and (a.previous or 0) > 0)
    if (
        not allow_mass_zero
        and len(zeroing) >= MIN_MASS_ZERO
        and len(zeroing) > settings.max_zero_share * max(1, mapping.batch_count)
    ):
        reason = (
            f"held back: this cycle would set {len(zeroing)} of {mapping.batch_count} Apex "
            "batches to 0 at once; check the tracker, then confirm to push"
        )
        return InventoryPlan((HoldBack(reason, zeroing),), targets, tuple(problems))
    return InventoryPlan(actions, targets, tuple(problems))


def _split(
    strain_key: str,
    batches: tuple[BatchInfo, ...],
    shared: dict[int, int],
    packages: Packages,
    settings: InventorySettings,
    demand: Demand,
) -> dict[int, int]:
    """The strain's grams divided between its batches (each at most its shared target)."""
    sold = [b for b in batches if b.batch_id in shared]
    weights = split_weights(strain_key, sold, demand, settings.split_shares)
    claims = [
        Claim(b.batch_id, b.mg_per_unit * b.pack_size, shared[b.batch_id], weights[b.batch_id])
        for b in sold
    ]
    return allocate_split(claims, available_mg(packages))


def _no_package(batches: tuple[BatchInfo, ...]) -> MappingProblem:
    return MappingProblem(
        kind=ProblemKind.NO_PACKAGE,
        strain=batches[0].strain,
        detail=f"no package for strain {batches[0].strain!r} in the tracker; its Apex "
        "batches are left as they are",
        batch_ids=tuple(b.batch_id for b in batches),
    )


def _no_sku(batch: BatchInfo) -> MappingProblem:
    return MappingProblem(
        kind=ProblemKind.NO_SKU,
        strain=batch.strain,
        detail=f"no package of {batch.strain!r} has a SKU for {batch.product_name!r}; add a "
        f"custom SKU ({batch.family}, {batch.mg_per_unit / 1000:g} g, pack {batch.pack_size}) "
        "to the package",
        batch_ids=(batch.batch_id,),
    )


def _unmatched(by_strain: Mapping[str, Packages], mapping: BatchMapping) -> list[MappingProblem]:
    problems = []
    for strain_key, strain_packages in sorted(by_strain.items()):
        sells = any(p.status == "active" and any(p.units.values()) for _, p in strain_packages)
        if strain_key not in mapping.by_strain and sells:
            strain = strain_packages[0][1].strain
            problems.append(
                MappingProblem(
                    kind=ProblemKind.UNMATCHED_STRAIN,
                    strain=strain,
                    detail=f"no batch found for strain {strain!r} in Apex Trading",
                )
            )
    return problems

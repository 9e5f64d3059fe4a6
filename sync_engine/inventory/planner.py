"""``plan_sync``: (tracker units, mapping, last confirmed Apex quantities) → actions. Pure.

Safety rails (docs/apexapi.md): a strain with no package in the tracker answer is left alone;
a batch is only driven to 0 by the tracker saying so (units 0, or the package archived or
orphaned); a plan that would zero more than ``max_zero_share`` of the mapped batches at once is
held back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Protocol

import msgspec

from preroll_contract import strain_key as key_of
from sync_engine.mapping.mapping import BatchMapping, MappingProblem
from sync_engine.tracker_models import CustomSku, PackageCalc

__all__ = [
    "MIN_MASS_ZERO",
    "Plan",
    "ProductSpec",
    "SetQuantity",
    "plan_sync",
    "sku_for",
    "units_for",
]

#: Zeroing fewer batches than this at once is never "mass" zeroing.
MIN_MASS_ZERO = 3


class SetQuantity(msgspec.Struct, frozen=True):
    batch_id: int
    quantity: int
    previous: int | None
    strain: str
    sku_key: str


class Plan(msgspec.Struct, frozen=True):
    actions: tuple[SetQuantity, ...]
    targets: dict[int, int]
    problems: tuple[MappingProblem, ...]
    held_back: str | None = None
    #: When held back: the batches it would set to 0 (a person confirms them).
    zeroing: tuple[SetQuantity, ...] = ()


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


def sku_for(
    batch: ProductSpec, package: PackageCalc, custom: Mapping[str, CustomSku]
) -> str | None:
    """The package's SKU key that sells what this Apex batch sells, if it has one."""
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


def plan_sync(
    packages: Mapping[str, PackageCalc],
    custom_skus: Mapping[str, Mapping[str, CustomSku]],
    mapping: BatchMapping,
    confirmed: Mapping[int, int | None],
    *,
    max_zero_share: float = 0.5,
    allow_mass_zero: bool = False,
) -> Plan:
    by_strain: dict[str, list[tuple[str, PackageCalc]]] = defaultdict(list)
    for tag, package in packages.items():
        by_strain[key_of(package.strain)].append((tag, package))
    problems = list(mapping.problems)
    problems += [
        MappingProblem(
            kind="package_problem",
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
            problems.append(
                MappingProblem(
                    kind="no_package",
                    strain=batches[0].strain,
                    detail=f"no package for strain {batches[0].strain!r} in the "
                    "tracker; its Apex batches are left as they are",
                    batch_ids=tuple(b.batch_id for b in batches),
                )
            )
            continue
        for batch in batches:
            if (strain_key, batch.sku_key) in mapping.ambiguous:
                continue
            target = units_for(batch, strain_packages, custom_skus)
            if target is None:
                problems.append(
                    MappingProblem(
                        kind="no_sku",
                        strain=batch.strain,
                        detail=f"no package of {batch.strain!r} has a SKU for "
                        f"{batch.product_name!r}; add a custom SKU ({batch.family}, "
                        f"{batch.mg_per_unit / 1000:g} g, pack {batch.pack_size}) to "
                        "the package",
                        batch_ids=(batch.batch_id,),
                    )
                )
                continue
            targets[batch.batch_id] = target
    for strain_key, strain_packages in sorted(by_strain.items()):
        sells = any(p.status == "active" and any(p.units.values()) for _, p in strain_packages)
        if strain_key not in mapping.by_strain and sells:
            strain = strain_packages[0][1].strain
            problems.append(
                MappingProblem(
                    kind="unmatched_strain",
                    strain=strain,
                    detail=f"no batch found for strain {strain!r} in Apex Trading",
                )
            )
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
    zeroing = [a for a in actions if a.quantity == 0 and (a.previous or 0) > 0]
    if (
        not allow_mass_zero
        and len(zeroing) >= MIN_MASS_ZERO
        and len(zeroing) > max_zero_share * max(1, mapping.batch_count)
    ):
        reason = (
            f"held back: this cycle would set {len(zeroing)} of {mapping.batch_count} Apex "
            "batches to 0 at once; check the tracker, then confirm to push"
        )
        return Plan(
            actions=(),
            targets=targets,
            problems=tuple(problems),
            held_back=reason,
            zeroing=tuple(zeroing),
        )
    return Plan(actions=actions, targets=targets, problems=tuple(problems))


def units_for(
    batch: ProductSpec,
    packages: list[tuple[str, PackageCalc]],
    custom_skus: Mapping[str, Mapping[str, CustomSku]],
) -> int | None:
    """Sum of the units of every package of the strain that sells this batch's SKU."""
    total, matched = 0, False
    for tag, package in packages:
        key = sku_for(batch, package, custom_skus.get(tag, {}))
        if key is not None:
            matched = True
            total += package.units[key]
    if not matched and all(p.status != "active" for _, p in packages):
        return 0  # every package of the strain is archived/orphaned: sell none
    return total if matched else None

"""The pull planner: what METRC's packages mean for the tracker's (pure; docs/metrc.md, "Pull").

Given the packages one pull brought (those changed in METRC within its windows), what the
tracker holds, what METRC said before and the changes still on their way to METRC, it returns
actions; ``MetrcService`` applies them in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import msgspec

from tracker_service.metrc.models import MetrcPackage
from tracker_service.metrc.quantities import UnknownUnit, package_mg, to_mg
from tracker_service.metrc.repository import KnownPackage

__all__ = [
    "Archive",
    "ClearDrift",
    "Import",
    "InFlight",
    "MarkDrift",
    "PullAction",
    "Remember",
    "Skip",
    "TakeQuantity",
    "TrackerSide",
    "plan_pull",
]


class TrackerSide(msgspec.Struct, frozen=True):
    """What the pull needs of a tracker package."""

    status: str
    current_mg: int


class InFlight(msgspec.Struct, frozen=True):
    """A package's changes not yet confirmed by METRC: their sum, and the one whose outcome
    is unknown (it may already be in METRC's number)."""

    unsent_mg: int
    uncertain_mg: int | None = None


class Import(msgspec.Struct, frozen=True, tag=True):
    label: str
    strain: str
    mg: int
    item_name: str


class TakeQuantity(msgspec.Struct, frozen=True, tag=True):
    label: str
    before_mg: int
    mg: int


class MarkDrift(msgspec.Struct, frozen=True, tag=True):
    label: str
    tracker_mg: int
    metrc_mg: int


class ClearDrift(msgspec.Struct, frozen=True, tag=True):
    label: str


class Archive(msgspec.Struct, frozen=True, tag=True):
    label: str


class Remember(msgspec.Struct, frozen=True, tag=True):
    package: KnownPackage


class Skip(msgspec.Struct, frozen=True, tag=True):
    """A package the tracker cannot take, and why (shown in the status message)."""

    label: str
    reason: str


PullAction = Import | TakeQuantity | MarkDrift | ClearDrift | Archive | Remember | Skip


def plan_pull(
    active: Iterable[MetrcPackage],
    finished: Iterable[MetrcPackage],
    tracker: Mapping[str, TrackerSide],
    in_flight: Mapping[str, InFlight],
    item_filter: str,
    gone: Iterable[str] = (),
) -> list[PullAction]:
    """``gone``: packages a full listing no longer shows as active (transferred out,
    discontinued) that no other list reported."""
    wanted = re.compile(item_filter)
    actions: list[PullAction] = []
    for package in active:
        label = package.label
        mine = label in tracker
        if not mine and not _matches(package, wanted):
            continue
        try:
            mg = package_mg(package)
        except UnknownUnit as exc:
            actions.append(Skip(label, str(exc)))
            continue
        actions.append(Remember(_known(package, mg, active=True)))
        if not mine:
            strain = (package.item.strain_name or package.item.name).strip()
            actions.append(Import(label, strain, mg, package.item.name))
            continue
        side = tracker[label]
        if side.status != "active":
            continue
        actions.extend(_compare(label, side.current_mg, mg, in_flight.get(label)))
    for package in finished:
        label = package.label
        if label not in tracker:
            continue
        try:
            mg = package_mg(package)
        except UnknownUnit:
            mg = 0
        actions.append(Remember(_known(package, mg, active=False)))
        if tracker[label].status == "active":
            actions.append(Archive(label))
    reported = {a.label for a in actions if isinstance(a, Archive)}
    for label in gone:
        if label in tracker and tracker[label].status == "active" and label not in reported:
            actions.append(Archive(label))
    return actions


def _compare(
    label: str, tracker_mg: int, metrc_mg: int, flight: InFlight | None
) -> list[PullAction]:
    if flight is None:
        if tracker_mg == metrc_mg:
            return [ClearDrift(label)]
        return [TakeQuantity(label, tracker_mg, metrc_mg), ClearDrift(label)]
    # Changes on their way: METRC agrees when its number plus them is ours (with or without
    # the one whose answer was lost, which METRC may already hold).
    expected = {metrc_mg + flight.unsent_mg}
    if flight.uncertain_mg is not None:
        expected.add(metrc_mg + flight.unsent_mg - flight.uncertain_mg)
    if tracker_mg in expected:
        return [ClearDrift(label)]
    return [MarkDrift(label, tracker_mg, metrc_mg)]


def _matches(package: MetrcPackage, wanted: re.Pattern[str]) -> bool:
    item = package.item
    return bool(wanted.search(item.name) or wanted.search(item.product_category_name or ""))


def _known(package: MetrcPackage, mg: int, *, active: bool) -> KnownPackage:
    item = package.item
    each = None
    if package.unit_of_measure_name == "Each" and item.unit_weight is not None:
        each = to_mg(item.unit_weight, item.unit_weight_unit_of_measure_name or "Grams")
    return KnownPackage(
        metrc_number=package.label,
        metrc_id=package.id,
        metrc_mg=mg,
        unit=package.unit_of_measure_name,
        item_name=package.item.name,
        last_modified=package.last_modified,
        active=active and not package.is_finished,
        unit_weight_mg=each,
    )

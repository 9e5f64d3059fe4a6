"""The METRC client against the simulator: auth and license refusals told apart, paging and
windows, writes chunked to the object limit, METRC's row errors, outages and lost answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest

from simulators.metrc.seed import LICENSE
from tests.fakes.metrc import RunningMetrc
from tracker_service.metrc.client import MetrcClient, MetrcCredentials
from tracker_service.metrc.errors import (
    KeysRefused,
    LicenseRefused,
    MetrcUnavailable,
    OutcomeUnknown,
    PermissionMissing,
    Rejected,
)
from tracker_service.metrc.quantities import adjustment_quantity, package_mg

T = TypeVar("T")
DAY = timedelta(days=1)
WEDDING_CAKE = "1A40603000123456"


def run(credentials: MetrcCredentials, use: Callable[[MetrcClient], Awaitable[T]]) -> T:
    async def scenario() -> T:
        async with httpx.AsyncClient(timeout=5) as http:
            return await use(MetrcClient(credentials, http))

    return asyncio.run(scenario())


def everything(client: MetrcClient, which: str = "active") -> Awaitable[list[Any]]:
    now = datetime.now(UTC)

    async def collect() -> list[Any]:
        return [p async for p in client.packages(which, now - DAY, now + DAY)]

    return collect()


def adjustment(label: str, grams: str, reason: str = "Damage", **extra: str) -> dict[str, Any]:
    return {
        "Label": label,
        "Quantity": Decimal(grams),
        "UnitOfMeasure": "Grams",
        "AdjustmentReason": reason,
        "AdjustmentDate": "2026-11-29",
    } | extra


def test_every_active_package_arrives_over_pages_of_twenty(metrc: RunningMetrc) -> None:
    """A license with 44 active packages is read in 3 pages; each request names the license."""
    item = next(iter(metrc.state.items))
    for n in range(32):
        metrc.state.add_package(LICENSE, f"1A4060300002EE5{n:09d}", item, 10)
    packages = run(metrc.credentials(), everything)
    assert len(packages) == 44  # 12 seeded and 32 new
    lists = [r for r in metrc.state.requests if r.path == "/packages/v2/active"]
    assert [r.query.count("pageSize=20") for r in lists] == [1, 1, 1]
    assert all(f"licenseNumber={LICENSE}" in r.query for r in lists)
    assert all("lastModifiedStart=" in r.query and "lastModifiedEnd=" in r.query for r in lists)


def test_a_window_returns_only_packages_changed_within_it(metrc: RunningMetrc) -> None:
    """Packages last modified before the window are not sent again."""
    later = datetime.now(UTC) + timedelta(seconds=2)

    async def window(client: MetrcClient) -> list[str]:
        return [p.label async for p in client.packages("active", later, later + DAY)]

    assert run(metrc.credentials(), window) == []


def test_quantities_become_exact_milligrams(metrc: RunningMetrc) -> None:
    """Grams, pounds by their legal definition, and counted boxes by their unit weight."""
    packages = {p.label: p for p in run(metrc.credentials(), everything)}
    assert package_mg(packages["1A4060300002EE1000012345"]) == 1_248_500
    flower = next(p for p in packages.values() if p.unit_of_measure_name == "Pounds")
    assert package_mg(flower) == 1_133_981  # 2.5 lb = 1,133.980925 g
    assert package_mg(packages["1A4060300002EE1000012351"]) == 72_000  # 24 boxes x 3 g
    boxes = packages["1A4060300002EE1000012351"]
    assert adjustment_quantity(-6000, boxes) == (Decimal(-2), "Each")
    with pytest.raises(ValueError, match="not a whole number"):
        adjustment_quantity(-1000, boxes)


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"vendor_key": "wrong"}, KeysRefused, "vendor key"),
        ({"user_key": "wrong"}, KeysRefused, "user key"),
        ({"license_number": "OTHER-LIC"}, LicenseRefused, "license"),
    ],
)
def test_refusals_say_which_key_or_license_is_wrong(
    metrc: RunningMetrc, changes: dict[str, str], error: type[Exception], words: str
) -> None:
    """Each refusal is its own error, and its message names what to fix."""
    with pytest.raises(error, match=words):
        run(metrc.credentials(**changes), everything)


def test_a_missing_permission_is_named(metrc: RunningMetrc) -> None:
    """A user without "Manage Packages Inventory" can read but not adjust."""
    metrc.state.users["viewer-key"] = ({LICENSE}, frozenset({"View Packages"}))
    credentials = metrc.credentials(user_key="viewer-key")
    assert len(run(credentials, everything)) == 12
    with pytest.raises(PermissionMissing, match="Manage Packages Inventory"):
        run(credentials, lambda c: c.adjust([adjustment(WEDDING_CAKE, "-1")]))


def test_an_adjustment_is_applied_and_returns_its_id(metrc: RunningMetrc) -> None:
    """-2.5 g lands on the package; METRC answers with the adjustment's id."""
    ids = run(metrc.credentials(), lambda c: c.adjust([adjustment(WEDDING_CAKE, "-2.5")]))
    assert len(ids) == 1
    assert metrc.state.quantity(WEDDING_CAKE) == 497.5


def test_writes_are_chunked_to_the_object_limit(metrc: RunningMetrc) -> None:
    """25 adjustments with a limit of 10 go as 10 + 10 + 5; none is refused as too large."""
    rows = [adjustment(WEDDING_CAKE, "-1") for _ in range(25)]
    ids = run(metrc.credentials(), lambda c: c.adjust(rows))
    assert len(ids) == 25
    sent = [r.status for r in metrc.state.requests if r.path == "/packages/v2/adjust"]
    assert sent == [200, 200, 200]
    assert metrc.state.quantity(WEDDING_CAKE) == 475


def test_metrcs_row_errors_come_back_by_row_and_nothing_is_applied(metrc: RunningMetrc) -> None:
    """Below zero, a reason needing a note, an unknown label: METRC's words, per row."""
    rows = [adjustment(WEDDING_CAKE, "-1"), adjustment(WEDDING_CAKE, "-1", reason="Theft")]
    with pytest.raises(Rejected, match="row 1: Reason Note is required") as refused:
        run(metrc.credentials(), lambda c: c.adjust(rows))
    assert refused.value.rows == {1: "Reason Note is required for this adjustment reason."}
    assert metrc.state.quantity(WEDDING_CAKE) == 500
    with pytest.raises(Rejected, match="negative"):
        run(metrc.credentials(), lambda c: c.adjust([adjustment(WEDDING_CAKE, "-500.001")]))


def test_an_outage_and_a_rate_limit_are_unavailable_not_refusals(metrc: RunningMetrc) -> None:
    """503 while METRC is down, 429 when it is busy: try again later; nothing was decided."""
    metrc.state.faults.down_until = metrc.state.clock() + 60
    with pytest.raises(MetrcUnavailable, match="503"):
        run(metrc.credentials(), everything)
    metrc.state.faults.down_until = 0
    metrc.state.faults.rate_limited = 1
    with pytest.raises(MetrcUnavailable, match="slow down"):
        run(metrc.credentials(), everything)


def test_a_write_whose_answer_is_lost_is_outcome_unknown(metrc: RunningMetrc) -> None:
    """METRC applied it, the answer never came: the client says it cannot know."""
    metrc.state.faults.lose_answers = 1
    with pytest.raises(OutcomeUnknown):
        run(metrc.credentials(), lambda c: c.adjust([adjustment(WEDDING_CAKE, "-1")]))
    assert metrc.state.quantity(WEDDING_CAKE) == 499  # it was applied


def test_a_package_is_created_from_its_source_and_the_tag_is_used(metrc: RunningMetrc) -> None:
    """Creating a pre-roll package debits the flower package and takes the tag off the list."""
    flower = next(p for p in metrc.state.packages.values() if p["UnitOfMeasureName"] == "Pounds")
    tag = "1A4060300002EE4000000001"
    row = {
        "Tag": tag,
        "Item": "Wedding Cake Pre-Roll Bulk",
        "Quantity": Decimal("200"),
        "UnitOfMeasure": "Grams",
        "ActualDate": "2026-11-29",
        "Ingredients": [
            {
                "Package": flower["Label"],
                "Quantity": Decimal("226.796185"),
                "UnitOfMeasure": "Grams",
            }
        ],
    }
    run(metrc.credentials(), lambda c: c.create([row]))
    assert metrc.state.quantity(tag) == 200
    assert metrc.state.quantity(flower["Label"]) == 2.0  # 2.5 lb less half a pound
    with pytest.raises(Rejected, match="not available"):
        run(metrc.credentials(), lambda c: c.create([row]))

"""Order-line sync, change feed and sync lease over real HTTP (docs/api.md)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.conftest import RunningTracker

OLD = "AAAAAAAAAA01"
NEW = "AAAAAAAAAA02"


def line(item_id: int, **fields: object) -> dict:
    return {
        "order_id": 10,
        "item_id": item_id,
        "invoice_number": "INV-10",
        "store": "Green Leaf",
        "strain": "Blue Dream",
        "sku": "singles_1g",
        "units_ordered": 10,
        "units_packed": 0,
        "metrc_number": None,
        "state": "open",
    } | fields


HOLDER = "office-pc"


def put_lines(tracker: RunningTracker, *lines: dict, holder: str = HOLDER) -> dict:
    """PUT the lines as the lease holder (taking or renewing the lease first)."""
    lease = tracker.client.post("/api/sync/lease", json={"holder": holder, "ttl_seconds": 60})
    assert lease.status_code == 200, lease.text
    body = {"holder": holder, "lines": list(lines)}
    response = tracker.client.put("/api/sync/order-lines", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def grams(tracker: RunningTracker, tag: str) -> tuple[float, float, float, float]:
    p = tracker.package(tag)
    return p["current_grams"], p["grams_ordered"], p["grams_packed"], p["available_grams"]


@pytest.fixture
def two_packages(tracker: RunningTracker) -> RunningTracker:
    tracker.create(OLD, strain="Blue Dream", grams=50)
    tracker.create(NEW, strain="blue dream", grams=500)
    return tracker


def test_reserve_pack_ship_lifecycle(two_packages: RunningTracker) -> None:
    """Ordered grams are reserved, packing moves them to packed, shipping removes them once."""
    t = two_packages
    result = put_lines(t, line(1))
    assert result["lines"] == [
        {
            "item_id": 1,
            "state": "open",
            "metrc_number": OLD,
            "reserved_grams": 10,
            "packed_grams": 0,
            "shipped_grams": 0,
            "short_units": 0,
        }
    ]
    assert grams(t, OLD) == (50, 10, 0, 40)
    put_lines(t, line(1, units_packed=4))
    assert grams(t, OLD) == (50, 6, 4, 40)
    put_lines(t, line(1, units_packed=10, state="shipped"))
    assert grams(t, OLD) == (40, 0, 0, 40)
    put_lines(t, line(1, units_packed=10, state="shipped"))
    assert grams(t, OLD) == (40, 0, 0, 40)
    fields = [
        (h["field"], h["before"], h["after"])
        for h in t.client.get(f"/api/finished-goods/{OLD}/history").json()[1:]
    ]
    assert fields == [
        ("grams_ordered", 0, 10),
        ("grams_ordered", 10, 6),
        ("grams_packed", 0, 4),
        ("grams_ordered", 6, 0),
        ("grams_packed", 4, 0),
        ("current_grams", 50, 40),
    ]


def test_replaying_the_same_put_changes_nothing(two_packages: RunningTracker) -> None:
    """Replace semantics are idempotent: no gram, history or change-feed entry on a replay."""
    t = two_packages
    put_lines(t, line(1, units_packed=3), line(2, sku="box_0_5g_6pk", units_ordered=2))
    before = (t.snapshot(OLD), t.snapshot(NEW))
    again = put_lines(t, line(1, units_packed=3), line(2, sku="box_0_5g_6pk", units_ordered=2))
    assert (t.snapshot(OLD), t.snapshot(NEW)) == before
    assert (again["reserved_grams"], again["packed_grams"], again["shipped_grams"]) == (13, 3, 0)


def test_sticky_assignment_to_oldest_package_with_enough_grams(
    two_packages: RunningTracker,
) -> None:
    """Oldest package that can cover the line wins; the line stays there when grams change."""
    t = two_packages
    result = put_lines(t, line(1, units_ordered=30), line(2, units_ordered=30))
    assert [r["metrc_number"] for r in result["lines"]] == [OLD, NEW]
    # More grams appear on OLD later; line 2 must not jump back.
    t.client.post(
        f"/api/finished-goods/{OLD}/adjust", json={"delta_grams": 100, "reason": "Inventory Audit"}
    )
    result = put_lines(t, line(1, units_ordered=30), line(2, units_ordered=30))
    assert [r["metrc_number"] for r in result["lines"]] == [OLD, NEW]


def test_explicit_metrc_number_wins(two_packages: RunningTracker) -> None:
    """A line that names its METRC package is reserved there, and moves if the tag changes."""
    t = two_packages
    put_lines(t, line(1, metrc_number=NEW.lower()))
    assert (grams(t, OLD)[1], grams(t, NEW)[1]) == (0, 10)
    put_lines(t, line(1, metrc_number=OLD))
    assert (grams(t, OLD)[1], grams(t, NEW)[1]) == (10, 0)


def test_unassignable_lines_are_reported(two_packages: RunningTracker) -> None:
    """No package of the strain, unknown tag or SKU: listed with the reason, nothing held."""
    t = two_packages
    result = put_lines(
        t,
        line(1, strain="Gelato"),
        line(3, metrc_number="ZZZZZZZZZZZZ"),
        line(4, sku="cocoa_blunt_1g"),
    )
    reasons = {u["item_id"]: u["reason"] for u in result["unassigned"]}
    assert sorted(reasons) == [1, 3, 4]
    assert "no active package of strain 'Gelato'" in reasons[1]
    assert reasons[3] == "package ZZZZZZZZZZZZ not found"
    assert "cocoa_blunt_1g" in reasons[4]
    assert grams(t, OLD) == (50, 0, 0, 50)
    assert grams(t, NEW) == (500, 0, 0, 500)


def test_oversold_demand_takes_what_the_strain_has_and_reports_the_shortfall(
    two_packages: RunningTracker,
) -> None:
    """A line no single package covers reserves every gram of the strain, oldest package
    first; the strain then sells nothing and the shortfall is reported (docs/api.md)."""
    t = two_packages
    result = put_lines(t, line(2, units_ordered=600))
    assert grams(t, OLD) == (50, 50, 0, 0)
    assert grams(t, NEW) == (500, 500, 0, 0)
    [placed] = result["lines"]
    assert (placed["metrc_number"], placed["reserved_grams"], placed["short_units"]) == (
        OLD,
        550,
        50,
    )
    [short] = result["unassigned"]
    assert short["item_id"] == 2 and short["reason"].startswith("short by 50 x singles_1g")
    units = t.client.get("/apex-calculate").json()
    assert all(units[tag]["units"]["singles_1g"] == 0 for tag in (OLD, NEW))
    read = t.client.get("/api/sync/order-lines", params={"state": "short"}).json()
    assert [(r["item_id"], r["short_units"]) for r in read] == [(2, 50)]
    assert [(p["metrc_number"], p["reserved_grams"]) for p in read[0]["packages"]] == [
        (OLD, 50),
        (NEW, 500),
    ]
    # Production adds a package: the line takes what it lacks from it, the rest stays free.
    t.create("AAAAAAAAAA03", strain="Blue Dream", grams=80)
    again = put_lines(t, line(2, units_ordered=600))
    assert (again["unassigned"], again["lines"][0]["short_units"]) == ([], 0)
    assert grams(t, "AAAAAAAAAA03") == (80, 50, 0, 30)
    # Packed, then shipped: each package gives what it held, nothing is lost or counted twice.
    put_lines(t, line(2, units_ordered=600, units_packed=600, state="shipped"))
    assert [grams(t, tag) for tag in (OLD, NEW, "AAAAAAAAAA03")] == [
        (0, 0, 0, 0),
        (0, 0, 0, 0),
        (30, 0, 0, 30),
    ]


def test_a_short_line_holds_the_grams_too_small_for_a_unit(tracker: RunningTracker) -> None:
    """When the strain cannot cover a line, even the grams that make no whole unit are held,
    so no smaller SKU keeps selling them."""
    tracker.create(OLD, strain="Blue Dream", grams=2.7)
    result = put_lines(tracker, line(1, units_ordered=4))
    assert result["lines"][0]["short_units"] == 2
    assert grams(tracker, OLD) == (2.7, 2.7, 0, 0)
    assert tracker.client.get("/apex-calculate").json()[OLD]["units"]["singles_0_5g"] == 0
    cancelled = put_lines(tracker, line(1, units_ordered=4, state="cancelled"))
    assert cancelled["released"] == [1]
    assert grams(tracker, OLD) == (2.7, 0, 0, 2.7)


def test_unassigned_line_is_placed_when_stock_arrives(tracker: RunningTracker) -> None:
    """A line that could not be placed is tried again on the next PUT."""
    assert put_lines(tracker, line(1))["unassigned"][0]["item_id"] == 1
    tracker.create(OLD, strain="Blue Dream", grams=50)
    result = put_lines(tracker, line(1))
    assert (result["unassigned"], result["lines"][0]["metrc_number"]) == ([], OLD)


def test_cancelled_lines_release_grams_and_vanished_ones_keep_them(
    two_packages: RunningTracker,
) -> None:
    """Cancelling releases reserved and packed grams; a line missing from the PUT keeps its
    grams and is reported as missing (docs/api.md)."""
    t = two_packages
    put_lines(t, line(1, units_packed=2), line(2, units_ordered=5))
    assert grams(t, OLD) == (50, 13, 2, 35)
    result = put_lines(t, line(1, units_packed=2, state="cancelled"))
    assert (result["released"], result["missing"]) == ([1], [2])
    assert grams(t, OLD) == (50, 5, 0, 45)


def test_order_first_seen_shipped_moves_no_grams(two_packages: RunningTracker) -> None:
    """An order already shipped when first seen changes no package (docs/api.md)."""
    t = two_packages
    put_lines(t, line(1, units_packed=10, state="shipped"))
    assert grams(t, OLD) == (50, 0, 0, 50)


def test_shipping_lowers_the_physical_override_too(two_packages: RunningTracker) -> None:
    """With an override set, shipped grams leave both METRC and physical counts."""
    t = two_packages
    t.client.patch(f"/api/finished-goods/{OLD}", json={"physical_override_grams": 45})
    put_lines(t, line(1, units_packed=10))
    put_lines(t, line(1, units_packed=10, state="shipped"))
    p = t.package(OLD)
    assert (p["current_grams"], p["physical_override_grams"], p["available_grams"]) == (40, 35, 35)


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([line(1), line(1)], "lines[2].item_id"),
        ([line(1, state="lost")], "lines[1].state"),
        ([line(1, units_ordered=-1)], "lines[1].units_ordered"),
        ([line(1, metrc_number="bad tag")], "lines[1].metrc_number"),
        ([line(1, strain=" ")], "lines[1].strain"),
        ([{k: v for k, v in line(1).items() if k != "sku"}], "lines[1].sku"),
    ],
)
def test_bad_lines_are_refused_whole(two_packages: RunningTracker, lines: list, field: str) -> None:
    """One bad line (after a good one) refuses the whole PUT with 422 naming it."""
    t = two_packages
    before = t.snapshot(OLD)
    body = {"holder": HOLDER, "lines": [line(7), *lines]}
    response = t.client.put("/api/sync/order-lines", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert t.snapshot(OLD) == before


def test_change_feed_start_and_answer_at_once(tracker: RunningTracker) -> None:
    """since=0 gives the cursor and no changes; a later change is answered at once."""
    start = tracker.client.get("/api/changes", params={"since": 0}).json()
    assert start == {"cursor": 0, "changes": []}
    tracker.create(OLD)
    tracker.client.post(
        f"/api/finished-goods/{OLD}/adjust", json={"delta_grams": -1, "reason": "Waste"}
    )
    feed = tracker.client.get("/api/changes", params={"since": 0}).json()
    assert feed == {"cursor": 2, "changes": []}
    feed = tracker.client.get("/api/changes", params={"since": 1, "wait": 5}).json()
    assert feed == {"cursor": 2, "changes": [{"metrc_number": OLD, "kind": "adjusted"}]}


def test_long_poll_wakes_on_a_change(tracker: RunningTracker) -> None:
    """A waiting long-poll answers within moments of a commit, not at the end of its wait."""
    tracker.create(OLD)
    cursor = tracker.client.get("/api/changes", params={"since": 0}).json()["cursor"]
    timer = threading.Timer(
        0.3,
        lambda: tracker.client.post(
            f"/api/finished-goods/{OLD}/adjust", json={"delta_grams": 1, "reason": "Mistake"}
        ),
    )
    started = time.monotonic()
    timer.start()
    feed = tracker.client.get("/api/changes", params={"since": cursor, "wait": 20}).json()
    assert time.monotonic() - started < 5
    assert feed["changes"] == [{"metrc_number": OLD, "kind": "adjusted"}]
    timer.join()


def test_long_poll_times_out_empty(tracker: RunningTracker) -> None:
    """With nothing new the feed answers after the wait with the same cursor and no changes."""
    tracker.create(OLD)
    feed = tracker.client.get("/api/changes", params={"since": 1, "wait": 0.2}).json()
    assert feed == {"cursor": 1, "changes": []}
    response = tracker.client.get("/api/changes", params={"since": -1})
    assert (response.status_code, response.json()["field"]) == (422, "since")


def test_lease_is_exclusive_renewable_and_releasable(tracker: RunningTracker) -> None:
    """One holder at a time; the holder renews; another gets 409 naming the holder."""

    def take(who: str, ttl: int = 30) -> httpx.Response:
        return tracker.client.post("/api/sync/lease", json={"holder": who, "ttl_seconds": ttl})

    first = take("office-pc")
    assert (first.status_code, first.json()["holder"]) == (200, "office-pc")
    assert take("office-pc").status_code == 200
    refused = take("floor-pc")
    assert (refused.status_code, refused.json()["holder"]) == (409, "office-pc")
    assert (
        tracker.client.delete("/api/sync/lease", params={"holder": "floor-pc"}).status_code == 409
    )
    released = tracker.client.delete("/api/sync/lease", params={"holder": "office-pc"})
    assert released.json() == {"holder": "office-pc", "released": True}
    assert take("floor-pc", ttl=1).status_code == 200
    time.sleep(1.1)
    assert take("office-pc").status_code == 200  # an expired lease can be taken over
    assert take("x", ttl=0).json()["field"] == "ttl_seconds"

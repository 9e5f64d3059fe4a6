"""Order lines fenced by the sync lease and never released by silence (docs/api.md), Apex sales
that leave a package once, and idempotency keys that cannot be reused for another sale."""

from __future__ import annotations

import time

from tests.conftest import RunningTracker
from tests.tracker.staff import StaffClient
from tests.tracker.test_sync_http import HOLDER, grams, line, put_lines

TAG = "AAAAAAAAAA01"
PASSWORD = "order-lines-pass"


def _staff(tracker: RunningTracker) -> StaffClient:
    tracker.services.users.create("olga", PASSWORD, "staff")
    return StaffClient(tracker.base_url, "olga", PASSWORD)


def test_only_the_lease_holder_may_put_order_lines(tracker: RunningTracker) -> None:
    """Another installation (or one whose lease ran out) gets 409 not_lease_holder naming the
    current holder, and nothing changes."""
    tracker.create(TAG, strain="Blue Dream", grams=50)
    put_lines(tracker, line(1))
    before = tracker.snapshot(TAG)
    stale = tracker.client.put(
        "/api/sync/order-lines", json={"holder": "old-laptop", "lines": [line(1, units_ordered=40)]}
    )
    assert stale.status_code == 409
    assert (stale.json()["error"], stale.json()["holder"]) == ("not_lease_holder", HOLDER)
    assert "old-laptop" in stale.json()["detail"]
    no_holder = tracker.client.put("/api/sync/order-lines", json={"lines": [line(1)]})
    assert (no_holder.status_code, no_holder.json()["field"]) == (422, "holder")
    assert tracker.snapshot(TAG) == before
    # The holder's lease runs out: nobody holds it, so even the old holder is refused.
    tracker.client.post("/api/sync/lease", json={"holder": HOLDER, "ttl_seconds": 1})
    time.sleep(1.2)
    expired = tracker.client.put("/api/sync/order-lines", json={"holder": HOLDER, "lines": []})
    assert (expired.status_code, expired.json()["holder"]) == (409, None)
    assert tracker.snapshot(TAG) == before


def test_a_line_missing_from_a_put_keeps_its_grams_until_a_person_releases_it(
    tracker: RunningTracker,
) -> None:
    """Silence releases nothing: the missing line is listed (API and page) and keeps its grams;
    a person releases it; a later report of it reserves nothing until a person asks again."""
    tracker.create(TAG, strain="Blue Dream", grams=50)
    staff = _staff(tracker)
    put_lines(tracker, line(1, units_packed=2), line(2, units_ordered=5))
    assert grams(tracker, TAG) == (50, 13, 2, 35)

    assert put_lines(tracker, line(2, units_ordered=5))["missing"] == [1]
    assert grams(tracker, TAG) == (50, 13, 2, 35)  # nothing released by silence
    missing = tracker.client.get("/api/sync/order-lines", params={"state": "missing"}).json()
    assert [(m["item_id"], m["reserved_grams"], m["packed_grams"]) for m in missing] == [(1, 8, 2)]
    assert missing[0]["missing_since"]
    page = staff.http.get("/order-lines/")
    assert "No longer reported by ApexAPI (1)" in page.text and 'data-item="1"' in page.text

    # A line still reported cannot be released from the page.
    refused = staff.post("/order-lines/2/release", {})
    assert refused.status_code == 409 and "still reported" in refused.text
    released = staff.post("/order-lines/1/release", {})
    assert released.status_code == 303
    assert grams(tracker, TAG) == (50, 5, 0, 45)
    history = tracker.client.get(f"/api/finished-goods/{TAG}/history").json()
    assert "released by user:olga" in history[-1]["reason"]
    assert tracker.client.get("/api/sync/order-lines", params={"state": "missing"}).json() == []

    # ApexAPI reports it open again: it is reported back, not reserved.
    answer = put_lines(tracker, line(1, units_packed=2), line(2, units_ordered=5))
    assert [u["item_id"] for u in answer["unassigned"]] == [1]
    assert "released in the tracker by user:olga" in answer["unassigned"][0]["reason"]
    assert grams(tracker, TAG) == (50, 5, 0, 45)
    page = staff.http.get("/order-lines/")
    assert "Released here, still reported by ApexAPI (1)" in page.text
    # A person reserves it again: it is placed at once.
    assert staff.post("/order-lines/1/reserve", {}).status_code == 303
    assert grams(tracker, TAG) == (50, 13, 2, 35)
    again = put_lines(tracker, line(1, units_packed=2), line(2, units_ordered=5))
    assert (again["unassigned"], again["missing"]) == ([], [])
    assert grams(tracker, TAG) == (50, 13, 2, 35)
    staff.close()


def test_a_missing_line_that_comes_back_is_simply_open_again(tracker: RunningTracker) -> None:
    """Missing once (a hiccup in ApexAPI's report), reported again: nothing moved, nothing to do."""
    tracker.create(TAG, strain="Blue Dream", grams=50)
    put_lines(tracker, line(1))
    put_lines(tracker)
    assert grams(tracker, TAG) == (50, 10, 0, 40)
    assert put_lines(tracker, line(1))["missing"] == []
    assert tracker.client.get("/api/sync/order-lines", params={"state": "missing"}).json() == []
    assert grams(tracker, TAG) == (50, 10, 0, 40)


def test_strain_written_three_ways_is_one_strain(tracker: RunningTracker) -> None:
    """Lines for "blue  dream" and "BLUE DREAM" go to the package of "Blue-Dream"."""
    tracker.create(TAG, strain="Blue-Dream", grams=50)
    answer = put_lines(tracker, line(1, strain="blue  dream"), line(2, strain="BLUE DREAM"))
    assert [r["metrc_number"] for r in answer["lines"]] == [TAG, TAG]
    assert answer["unassigned"] == []
    listed = tracker.client.get("/api/finished-goods", params={"strain": "blue dream"}).json()
    assert [p["metrc_number"] for p in listed] == [TAG]


def test_apex_sales_leave_the_package_once(tracker: RunningTracker) -> None:
    """Grams sold through apex-decrement are ordered until staff record them leaving in METRC
    with an adjustment that settles them: then current drops and ordered drops, once."""
    tracker.create(TAG, strain="Blue Dream", grams=500)
    sale = {"sku": "singles_1g", "units": 10, "idempotency_key": "sale-1"}
    tracker.client.post(f"/api/finished-goods/{TAG}/apex-decrement", json=sale)
    package = tracker.package(TAG)
    assert (package["grams_ordered"], package["grams_sold"], package["available_grams"]) == (
        10,
        10,
        490,
    )
    settle = {"delta_grams": -10, "reason": "Other", "note": "Apex sale shipped",
              "settles_apex_sales": True}  # fmt: skip
    assert tracker.client.post(f"/api/finished-goods/{TAG}/adjust", json=settle).status_code == 200
    package = tracker.package(TAG)
    assert (package["current_grams"], package["grams_ordered"], package["available_grams"]) == (
        490,
        0,
        490,
    )
    history = tracker.client.get(f"/api/finished-goods/{TAG}/history").json()
    assert [(h["field"], h["before"], h["after"]) for h in history[-2:]] == [
        ("current_grams", 500, 490),
        ("grams_ordered", 10, 0),
    ]
    # Nothing left to settle: refused, nothing changes. A plain adjustment never settles.
    before = tracker.snapshot(TAG)
    again = tracker.client.post(f"/api/finished-goods/{TAG}/adjust", json=settle)
    assert (again.status_code, again.json()["grams_sold"]) == (409, 0)
    adding = settle | {"delta_grams": 5}
    wrong = tracker.client.post(f"/api/finished-goods/{TAG}/adjust", json=adding)
    assert (wrong.status_code, wrong.json()["field"]) == (422, "settles_apex_sales")
    assert tracker.snapshot(TAG) == before
    # More removed than was sold: the sold part settles, the rest is a real removal.
    tracker.client.post(
        f"/api/finished-goods/{TAG}/apex-decrement", json=sale | {"idempotency_key": "sale-2"}
    )
    tracker.client.post(f"/api/finished-goods/{TAG}/adjust", json=settle | {"delta_grams": -15})
    package = tracker.package(TAG)
    assert (package["current_grams"], package["grams_sold"], package["available_grams"]) == (
        475,
        0,
        475,
    )


def test_an_idempotency_key_cannot_be_reused_for_another_sale(tracker: RunningTracker) -> None:
    """The same key with the same body answers as before and changes nothing; with another SKU
    or unit count it is 409 idempotency_conflict."""
    tracker.create(TAG, strain="Blue Dream", grams=500)
    url = f"/api/finished-goods/{TAG}/apex-decrement"
    body = {"sku": "singles_1_0g", "units": 3, "idempotency_key": "k-1"}
    first = tracker.client.post(url, json=body).json()
    before = tracker.snapshot(TAG)
    replay = tracker.client.post(url, json=body | {"sku": "singles_1g"}).json()
    assert replay == first | {"applied": False}
    for other in ({"units": 4}, {"sku": "singles_0_5g"}):
        conflict = tracker.client.post(url, json=body | other)
        assert conflict.status_code == 409
        assert conflict.json()["error"] == "idempotency_conflict"
        assert (conflict.json()["sku"], conflict.json()["units"]) == ("singles_1g", 3)
    assert tracker.snapshot(TAG) == before

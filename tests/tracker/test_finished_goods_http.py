"""Finished-goods routes over real HTTP against a real SQLite file (docs/api.md)."""

from __future__ import annotations

import pytest

from tests.conftest import RunningTracker

TAG = "1A40603000123456"
DEFAULT_UNITS_500G = {
    "singles_0_5g": 1000,
    "singles_1g": 500,
    "box_0_5g_6pk": 166,
    "box_0_5g_12pk": 83,
}


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] and body["detail"]
    if field is not None:
        assert body["field"] == field
        assert field in body["detail"]
    return body


def test_create_and_read_package(tracker: RunningTracker) -> None:
    """A new package is upper-cased, has current = initial, and reads back in full."""
    created = tracker.create(TAG.lower(), grams=500)
    assert created["metrc_number"] == TAG
    read = tracker.package(TAG)
    assert read == created
    assert {
        k: read[k]
        for k in (
            "strain",
            "status",
            "initial_grams",
            "current_grams",
            "physical_override_grams",
            "grams_ordered",
            "grams_packed",
            "grams_held",
            "available_grams",
            "units",
            "custom_skus",
        )
    } == {
        "strain": "Wedding Cake",
        "status": "active",
        "initial_grams": 500,
        "current_grams": 500,
        "physical_override_grams": None,
        "grams_ordered": 0,
        "grams_packed": 0,
        "grams_held": 0,
        "available_grams": 500,
        "units": DEFAULT_UNITS_500G,
        "custom_skus": {},
    }


def test_create_with_current_grams_and_milligrams(tracker: RunningTracker) -> None:
    """current_grams may differ from initial_grams; milligram precision is kept exactly."""
    response = tracker.client.post(
        "/api/finished-goods",
        json={
            "metrc_number": TAG,
            "strain": "Blue Dream",
            "initial_grams": 100.5,
            "current_grams": 99.999,
        },
    )
    assert response.status_code == 201
    assert (response.json()["initial_grams"], response.json()["current_grams"]) == (100.5, 99.999)
    assert response.json()["units"]["singles_0_5g"] == 199


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metrc_number": "SHORT", "strain": "X", "initial_grams": 1}, "metrc_number"),
        ({"metrc_number": "1A40603000-12345", "strain": "X", "initial_grams": 1}, "metrc_number"),
        ({"metrc_number": TAG, "strain": "  ", "initial_grams": 1}, "strain"),
        ({"metrc_number": TAG, "strain": "X", "initial_grams": -1}, "initial_grams"),
        ({"metrc_number": TAG, "strain": "X", "initial_grams": 1.0001}, "initial_grams"),
        ({"metrc_number": TAG, "strain": "X", "initial_grams": "one"}, "initial_grams"),
        ({"metrc_number": TAG, "strain": "X"}, "initial_grams"),
        ({"metrc_number": TAG, "strain": "X", "initial_grams": 1, "colour": "red"}, "colour"),
        (
            {"metrc_number": TAG, "strain": "X", "initial_grams": 1, "current_grams": -2},
            "current_grams",
        ),
    ],
)
def test_create_rejects_bad_input_naming_the_field(
    shared_tracker: RunningTracker, body: dict, field: str
) -> None:
    """422 names the field and no package is created."""
    assert_error(shared_tracker.client.post("/api/finished-goods", json=body), 422, field)
    assert shared_tracker.client.get(f"/api/finished-goods/{TAG}").status_code == 404


def test_malformed_json_is_400(shared_tracker: RunningTracker) -> None:
    """A body that is not JSON is refused with 400 naming the body."""
    response = shared_tracker.client.post(
        "/api/finished-goods",
        content=b'{"metrc_number": ',
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 400, "body")


def test_duplicate_tag_is_409_and_keeps_the_first(tracker: RunningTracker) -> None:
    """Creating a tag that exists answers 409 and leaves the original untouched."""
    tracker.create(TAG, grams=500)
    before = tracker.snapshot(TAG)
    response = tracker.client.post(
        "/api/finished-goods", json={"metrc_number": TAG, "strain": "Other", "initial_grams": 1}
    )
    assert assert_error(response, 409)["metrc_number"] == TAG
    assert tracker.snapshot(TAG) == before


def test_unknown_package_is_404_everywhere(shared_tracker: RunningTracker) -> None:
    """Reads and writes on a tag that does not exist answer 404."""
    c = shared_tracker.client
    missing = "/api/finished-goods/ZZZZZZZZZZZZ"
    for response in (
        c.get(missing),
        c.get(missing + "/history"),
        c.get(missing + "/apex-calculate"),
        c.patch(missing, json={"status": "archived"}),
        c.post(missing + "/adjust", json={"delta_grams": 1, "reason": "Mistake"}),
        c.post(missing + "/apex-settings", json={"singles_1g": {"excluded": True}}),
        c.post(
            missing + "/apex-decrement",
            json={"sku": "singles_1g", "units": 1, "idempotency_key": "k"},
        ),
        c.post(missing + "/holds", json={"grams": 1, "reason": "r"}),
        c.post(
            missing + "/custom-skus",
            json={"key": "x_1g", "name": "X", "grams_per_unit": 1, "pack_size": 1},
        ),
    ):
        assert_error(response, 404)


def test_list_filters_by_status_and_strain(tracker: RunningTracker) -> None:
    """The list holds every package; ?status= and ?strain= (any case) narrow it."""
    tracker.create("AAAAAAAAAA01", strain="Blue Dream")
    tracker.create("AAAAAAAAAA02", strain="Wedding Cake")
    tracker.client.patch("/api/finished-goods/AAAAAAAAAA02", json={"status": "archived"})

    def tags(**query: str) -> list[str]:
        packages = tracker.client.get("/api/finished-goods", params=query).json()
        return [p["metrc_number"] for p in packages]

    assert tags() == ["AAAAAAAAAA01", "AAAAAAAAAA02"]
    assert tags(status="archived") == ["AAAAAAAAAA02"]
    assert tags(strain="blue  dream") == ["AAAAAAAAAA01"]
    assert_error(
        tracker.client.get("/api/finished-goods", params={"status": "gone"}), 422, "status"
    )


def test_patch_override_status_and_strain(tracker: RunningTracker) -> None:
    """Override replaces METRC grams in the calculation; null clears it; archive zeroes units."""
    tracker.create(TAG, grams=500)
    response = tracker.client.patch(
        f"/api/finished-goods/{TAG}", json={"physical_override_grams": 100}
    )
    assert response.status_code == 200
    assert response.json()["available_grams"] == 100
    assert response.json()["units"]["singles_1g"] == 100
    body = tracker.client.patch(
        f"/api/finished-goods/{TAG}", json={"physical_override_grams": None, "strain": "Cake"}
    ).json()
    assert (body["physical_override_grams"], body["strain"], body["available_grams"]) == (
        None,
        "Cake",
        500,
    )
    body = tracker.client.patch(f"/api/finished-goods/{TAG}", json={"status": "orphaned"}).json()
    assert body["units"] == dict.fromkeys(DEFAULT_UNITS_500G, 0)
    fields = [e["field"] for e in tracker.client.get(f"/api/finished-goods/{TAG}/history").json()]
    assert fields == [
        "current_grams",
        "physical_override_grams",
        "strain",
        "physical_override_grams",
        "status",
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "deleted"}, "status"),
        ({"physical_override_grams": -5}, "physical_override_grams"),
        ({"physical_override_grams": "ten"}, "physical_override_grams"),
        ({"strain": ""}, "strain"),
        ({"initial_grams": 5}, "initial_grams"),
    ],
)
def test_patch_bad_input_changes_nothing(tracker: RunningTracker, body: dict, field: str) -> None:
    """422 names the field; package, history, feed and calculation are unchanged."""
    tracker.create(TAG)
    before = tracker.snapshot(TAG)
    assert_error(tracker.client.patch(f"/api/finished-goods/{TAG}", json=body), 422, field)
    assert tracker.snapshot(TAG) == before


def test_adjust_with_reason_is_audited(tracker: RunningTracker) -> None:
    """A signed adjustment changes current_grams and records who, why, before and after."""
    tracker.create(TAG, grams=500)
    response = tracker.client.post(
        f"/api/finished-goods/{TAG}/adjust", json={"delta_grams": -12.5, "reason": "damage"}
    )
    assert response.json()["current_grams"] == 487.5
    response = tracker.client.post(
        f"/api/finished-goods/{TAG}/adjust",
        json={"delta_grams": 2.5, "reason": "Other", "note": "found under the table"},
    )
    assert response.json()["current_grams"] == 490
    history = tracker.client.get(f"/api/finished-goods/{TAG}/history").json()
    assert [(h["field"], h["before"], h["after"], h["reason"], h["note"]) for h in history[1:]] == [
        ("current_grams", 500, 487.5, "Damage", None),
        ("current_grams", 487.5, 490, "Other", "found under the table"),
    ]
    assert all(h["actor"].startswith("api-key:prt_") for h in history)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"delta_grams": -500.001, "reason": "Waste"}, 409, None),
        ({"delta_grams": 0, "reason": "Waste"}, 422, "delta_grams"),
        ({"delta_grams": 1, "reason": "Because"}, 422, "reason"),
        ({"delta_grams": 1, "reason": "Other"}, 422, "note"),
        ({"delta_grams": 1.23456, "reason": "Mistake"}, 422, "delta_grams"),
        ({"reason": "Mistake"}, 422, "delta_grams"),
    ],
)
def test_adjust_refusals_change_nothing(
    tracker: RunningTracker, body: dict, status: int, field: str | None
) -> None:
    """Below zero is 409; bad reason, zero or sub-milligram delta is 422; nothing changes."""
    tracker.create(TAG, grams=500)
    before = tracker.snapshot(TAG)
    assert_error(tracker.client.post(f"/api/finished-goods/{TAG}/adjust", json=body), status, field)
    assert tracker.snapshot(TAG) == before


def test_apex_settings_partial_update_with_aliases(tracker: RunningTracker) -> None:
    """Only the SKUs and fields given change; aliases map to canonical keys (guide §4.6)."""
    tracker.create(TAG, grams=500)
    url = f"/api/finished-goods/{TAG}/apex-settings"
    tracker.client.post(
        url, json={"singles_1_0g": {"excluded": True}, "magnetic_box_6pk": {"manual_units": 50}}
    )
    body = tracker.client.post(url, json={"box_0_5g_6pk": {"excluded": False}}).json()
    assert body["units"] == {
        "singles_0_5g": 1000,
        "singles_1g": 0,
        "box_0_5g_6pk": 50,
        "box_0_5g_12pk": 83,
    }
    assert body["apex_sku_settings"]["box_0_5g_6pk"] == {"excluded": False, "manual_units": 50}
    body = tracker.client.post(url, json={"box_0_5g_6pk": {"manual_units": None}}).json()
    assert body["units"]["box_0_5g_6pk"] == 166


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"singles_2g": {"excluded": True}}, "singles_2g"),
        ({"singles_1g": {"manual_units": -1}}, "singles_1g.manual_units"),
        ({"singles_1g": {"manual_units": 1.5}}, "singles_1g.manual_units"),
        ({"singles_1g": {"hidden": True}}, "singles_1g.hidden"),
        ({"singles_1g": {"excluded": True}, "nope": {}}, "nope"),
    ],
)
def test_apex_settings_bad_input_changes_nothing(
    tracker: RunningTracker, body: dict, field: str
) -> None:
    """An unknown SKU key or a bad value is 422 naming it; no SKU changes, not even valid ones."""
    tracker.create(TAG)
    before = tracker.snapshot(TAG)
    response = tracker.client.post(f"/api/finished-goods/{TAG}/apex-settings", json=body)
    assert_error(response, 422, field)
    assert tracker.snapshot(TAG) == before


def test_custom_skus_lifecycle(tracker: RunningTracker) -> None:
    """POST adds, POST again is 409, PUT replaces, DELETE removes; units follow each step."""
    tracker.create(TAG, grams=100)
    url = f"/api/finished-goods/{TAG}/custom-skus"
    dart = {"key": "cannadart_0_8g", "name": "CannaDart", "grams_per_unit": 0.8, "pack_size": 1}
    body = tracker.client.post(url, json=dart)
    assert body.status_code == 201
    assert body.json()["units"]["cannadart_0_8g"] == 125
    assert body.json()["custom_skus"] == {
        "cannadart_0_8g": {"name": "CannaDart", "grams_per_unit": 0.8, "pack_size": 1}
    }
    before = tracker.snapshot(TAG)
    assert_error(tracker.client.post(url, json=dart), 409)
    assert tracker.snapshot(TAG) == before
    body = tracker.client.put(url, json={**dart, "pack_size": 5}).json()
    assert body["units"]["cannadart_0_8g"] == 25
    body = tracker.client.put(
        url, json={"key": "cocoa_blunt_1g", "name": "Cocoa Blunt", "grams_per_unit": 1}
    ).json()
    assert list(body["units"])[-2:] == ["cannadart_0_8g", "cocoa_blunt_1g"]
    body = tracker.client.delete(url, params={"key": "cannadart_0_8g"}).json()
    assert "cannadart_0_8g" not in body["units"]
    assert_error(tracker.client.delete(url, params={"key": "cannadart_0_8g"}), 404)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"key": "singles_1g"}, "key"),
        ({"key": "magnetic_box_6pk"}, "key"),
        ({"key": "Bad Key!"}, "key"),
        ({"grams_per_unit": 0}, "grams_per_unit"),
        ({"pack_size": 0}, "pack_size"),
        ({"name": ""}, "name"),
    ],
)
def test_custom_sku_bad_input(tracker: RunningTracker, change: dict, field: str) -> None:
    """Default keys, bad keys, zero grams or pack size are 422 naming the field."""
    tracker.create(TAG)
    before = tracker.snapshot(TAG)
    body = {"key": "cocoa_blunt_1g", "name": "Cocoa Blunt", "grams_per_unit": 1, "pack_size": 1}
    response = tracker.client.put(f"/api/finished-goods/{TAG}/custom-skus", json=body | change)
    assert_error(response, 422, field)
    assert tracker.snapshot(TAG) == before


def test_holds_reduce_availability_until_released(tracker: RunningTracker) -> None:
    """A hold takes grams out of every SKU; releasing it gives them back."""
    tracker.create(TAG, grams=500)
    url = f"/api/finished-goods/{TAG}/holds"
    response = tracker.client.post(url, json={"grams": 200, "reason": "Store X pre-order"})
    assert response.status_code == 201
    hold = response.json()
    assert (hold["grams"], hold["available_grams"], hold["units"]["singles_1g"]) == (200, 300, 300)
    assert tracker.package(TAG)["grams_held"] == 200
    before = tracker.snapshot(TAG)
    assert_error(tracker.client.post(url, json={"grams": 300.001, "reason": "too much"}), 409)
    assert_error(tracker.client.post(url, json={"grams": 0, "reason": "none"}), 422, "grams")
    assert_error(tracker.client.delete(url, params={"id": hold["id"] + 99}), 404)
    assert tracker.snapshot(TAG) == before
    body = tracker.client.delete(url, params={"id": hold["id"]}).json()
    assert (body["grams_held"], body["available_grams"], body["holds"]) == (0, 500, [])


def test_decrement_is_idempotent_and_exact(tracker: RunningTracker) -> None:
    """A key applies once; a replay answers applied=false and changes nothing."""
    tracker.create(TAG, grams=500)
    url = f"/api/finished-goods/{TAG}/apex-decrement"
    sale = {"sku": "magnetic_box_6pk", "units": 2, "idempotency_key": "apex-sale-12345"}
    first = tracker.client.post(url, json=sale).json()
    assert (first["applied"], first["sku"], first["available_grams"]) == (True, "box_0_5g_6pk", 494)
    before = tracker.snapshot(TAG)
    again = tracker.client.post(url, json=sale).json()
    assert (again["applied"], again["available_grams"]) == (False, 494)
    assert tracker.snapshot(TAG) == before
    assert tracker.package(TAG)["grams_ordered"] == 6


@pytest.mark.parametrize(
    ("sale", "status", "field"),
    [
        ({"sku": "singles_1g", "units": 501, "idempotency_key": "k"}, 409, None),
        ({"sku": "singles_3g", "units": 1, "idempotency_key": "k"}, 422, "sku"),
        ({"sku": "singles_1g", "units": 0, "idempotency_key": "k"}, 422, "units"),
        ({"sku": "singles_1g", "units": 1, "idempotency_key": ""}, 422, "idempotency_key"),
        ({"sku": "singles_1g", "units": 1}, 422, "idempotency_key"),
    ],
)
def test_decrement_refusals_change_nothing(
    tracker: RunningTracker, sale: dict, status: int, field: str | None
) -> None:
    """Over-decrement is 409; bad SKU, units or key is 422; nothing changes either way."""
    tracker.create(TAG, grams=500)
    before = tracker.snapshot(TAG)
    response = tracker.client.post(f"/api/finished-goods/{TAG}/apex-decrement", json=sale)
    assert_error(response, status, field)
    assert tracker.snapshot(TAG) == before
    if status == 409:  # the refused key was not burnt: a smaller sale with it still applies
        ok = tracker.client.post(
            f"/api/finished-goods/{TAG}/apex-decrement", json={**sale, "units": 500}
        ).json()
        assert ok["applied"] is True


def test_decrement_on_archived_package_is_409(tracker: RunningTracker) -> None:
    """Archived packages sell nothing, so a sale against one is refused."""
    tracker.create(TAG)
    tracker.client.patch(f"/api/finished-goods/{TAG}", json={"status": "archived"})
    response = tracker.client.post(
        f"/api/finished-goods/{TAG}/apex-decrement",
        json={"sku": "singles_1g", "units": 1, "idempotency_key": "a"},
    )
    assert_error(response, 409)


def test_apex_calculate_shape_etag_and_304(tracker: RunningTracker) -> None:
    """The documented shape; an unchanged ETag answers 304; a change gives a new ETag."""
    tracker.create(TAG, grams=500)
    tracker.create("ARCHIVED0001", strain="Old", grams=10)
    tracker.client.patch("/api/finished-goods/ARCHIVED0001", json={"status": "archived"})
    response = tracker.client.get("/apex-calculate")
    assert response.json() == {
        TAG: {
            "strain": "Wedding Cake",
            "status": "active",
            "available_grams": 500,
            "units": DEFAULT_UNITS_500G,
        },
        "ARCHIVED0001": {
            "strain": "Old",
            "status": "archived",
            "available_grams": 0,
            "units": dict.fromkeys(DEFAULT_UNITS_500G, 0),
        },
    }
    etag = response.headers["etag"]
    cached = tracker.client.get("/apex-calculate", headers={"If-None-Match": etag})
    assert (cached.status_code, cached.content, cached.headers["etag"]) == (304, b"", etag)
    tracker.client.post(
        f"/api/finished-goods/{TAG}/adjust", json={"delta_grams": -1, "reason": "Waste"}
    )
    changed = tracker.client.get("/apex-calculate", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()[TAG]["units"]["singles_1g"] == 499
    one = tracker.client.get(f"/api/finished-goods/{TAG}/apex-calculate").json()
    assert one == {TAG: changed.json()[TAG]}


def test_apex_calculate_sees_writes_from_another_process(tracker: RunningTracker) -> None:
    """A change committed by another connection (a second process) shows on the next read."""
    from tracker_service.finished_goods.schemas import AdjustRequest
    from tracker_service.services import Services

    tracker.create(TAG, grams=500)
    assert tracker.client.get("/apex-calculate").json()[TAG]["available_grams"] == 500
    other = Services.open(tracker.db_path)
    other.finished_goods.adjust(TAG, AdjustRequest(delta_grams=-100, reason="Theft"), "other")
    other.close()
    assert tracker.client.get("/apex-calculate").json()[TAG]["available_grams"] == 400


def test_overview_counts_active_packages(tracker: RunningTracker) -> None:
    """The overview has the batch fields (0 until production batches exist) and FG totals."""
    tracker.create("AAAAAAAAAA01", grams=10.5)
    tracker.create("AAAAAAAAAA02", grams=20)
    assert tracker.client.get("/api/overview").json() == {
        "active_batches": 0,
        "batches_by_stage": {
            "grinding": 0,
            "rolling": 0,
            "testing": 0,
            "packaging": 0,
            "complete": 0,
            "cancelled": 0,
        },
        "finished_goods": {"active": 2, "available_grams": 30.5},
    }

"""The tracker's METRC sync end to end against the simulator: settings, pull, drift, the
outbox with review, lost answers and outages (docs/metrc.md)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import wait_until
from tests.fakes.metrc import Synced

BLUE_DREAM = "1A4060300002EE1000012345"  # METRC says 1,248.5 g; the tracker starts at 1,250.5
NEW_BLUE_DREAM = "1A4060300002EE1000012350"  # in METRC only
BOXES = "1A4060300002EE1000012351"  # 24 counted boxes of 3 g
WEDDING_CAKE = "1A40603000123456"


def seed_tracker(synced: Synced) -> None:
    synced.tracker.create(WEDDING_CAKE, "Wedding Cake", 500)
    synced.tracker.create(BLUE_DREAM, "Blue Dream", 1250.5)


def adjust(synced: Synced, label: str, grams: float, reason: str = "Damage", **extra: Any) -> Any:
    return synced.tracker.client.post(
        f"/api/finished-goods/{label}/adjust",
        json={"delta_grams": grams, "reason": reason} | extra,
    )


def sent_adjustments(synced: Synced) -> list[str]:
    return [r.body.decode() for r in synced.metrc.state.writes("/packages/v2/adjust")]


def test_settings_keep_the_keys_on_the_server_and_show_only_their_last_four(
    synced: Synced,
) -> None:
    """GET shows ****-masked keys; sending the masked value back keeps the real key."""
    shown = synced.settings(enabled=False)
    assert shown["vendor_key"] == "****-key" and shown["user_key"] == "****-key"
    synced.settings(vendor_key=shown["vendor_key"], user_key="", enabled=True)
    stored = synced.tracker.services.metrc.settings()
    assert (stored.vendor_key, stored.user_key) == ("sim-vendor-key", "sim-user-key")
    assert "sim-vendor-key" not in synced.tracker.client.get("/api/metrc/settings").text


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("pull_interval_seconds", 59, "at least 60"),
        ("pull_interval_seconds", "=1+1", "whole number"),
        ("api_url", "javascript:alert(1)", "api_url"),
        ("license_number", "<b>x</b>", "license_number"),
        ("item_filter", "(unclosed", "not a valid regular expression"),
    ],
)
def test_bad_settings_name_the_field_and_change_nothing(
    synced: Synced, field: str, value: object, words: str
) -> None:
    """Hostile values are refused with the field named; the stored settings stay."""
    synced.settings(enabled=False)
    before = synced.tracker.client.get("/api/metrc/settings").json()
    body = before | {"vendor_key": "", "user_key": "", field: value}
    answer = synced.tracker.client.put("/api/metrc/settings", json=body)
    assert answer.status_code == 422
    assert field in answer.text and words in answer.text
    assert synced.tracker.client.get("/api/metrc/settings").json() == before


def test_a_pull_imports_new_prerolls_and_takes_metrcs_quantities(synced: Synced) -> None:
    """New pre-roll packages arrive (counted boxes as grams), known ones take METRC's grams,
    flower and edibles stay out, and each change is in the history as done by metrc."""
    seed_tracker(synced)
    synced.settings()
    status = synced.pull()
    assert status["connected"] is True and status["last_pull_ok"] is True
    assert synced.tracker.package(BLUE_DREAM)["current_grams"] == 1248.5
    assert synced.tracker.package(NEW_BLUE_DREAM)["current_grams"] == 410
    assert synced.tracker.package(BOXES)["current_grams"] == 72
    labels = {p["metrc_number"] for p in synced.tracker.client.get("/api/finished-goods").json()}
    assert "1A4060300002EE3000000001" not in labels  # gummies
    assert not any(label.startswith("1A4060300002EE2") for label in labels)  # flower
    history = synced.tracker.client.get(f"/api/finished-goods/{BLUE_DREAM}/history").json()
    assert history[-1]["actor"] == "metrc" and history[-1]["reason"] == "Quantity in METRC"


def test_a_pull_with_nothing_changed_costs_two_requests(synced: Synced) -> None:
    """Once caught up, a pull asks METRC for the active and the finished list, once each."""
    synced.settings()
    synced.pull()
    before = len(synced.metrc.state.requests)
    synced.pull()
    paths = [r.path for r in synced.metrc.state.requests[before:]]
    assert paths == ["/packages/v2/active", "/packages/v2/inactive"]


def test_an_adjustment_reaches_metrc_once_with_its_reason(synced: Synced) -> None:
    """-2.5 g Damage recorded in the tracker is in METRC moments later, sent once."""
    seed_tracker(synced)
    synced.settings()
    synced.pull()
    assert adjust(synced, WEDDING_CAKE, -2.5).status_code == 200
    wait_until(lambda: synced.metrc.state.quantity(WEDDING_CAKE) == 497.5)
    wait_until(lambda: synced.outbox()[0]["state"] == "sent")
    assert len(sent_adjustments(synced)) == 1
    assert '"AdjustmentReason":"Damage"' in sent_adjustments(synced)[0]


def test_while_synced_the_reasons_are_metrcs_and_a_note_is_required_where_it_says(
    synced: Synced,
) -> None:
    """Theft needs a note in this state; a reason METRC does not have is refused by name."""
    seed_tracker(synced)
    synced.settings()
    synced.pull()
    refused = adjust(synced, WEDDING_CAKE, -1, reason="Theft")
    assert refused.status_code == 422 and "note" in refused.text
    unknown = adjust(synced, WEDDING_CAKE, -1, reason="Lost in the couch")
    assert unknown.status_code == 422 and "Scale Variance" in unknown.text
    assert synced.tracker.package(WEDDING_CAKE)["current_grams"] == 500
    assert adjust(synced, WEDDING_CAKE, -1, reason="Theft", note="Shift 2").status_code == 200


def test_a_lost_answer_is_checked_in_metrc_and_never_sent_twice(synced: Synced) -> None:
    """METRC applied the adjustment and the answer was lost: the tracker re-reads the
    package, sees it applied, and marks it sent without a second POST."""
    seed_tracker(synced)
    synced.settings()
    synced.pull()
    synced.metrc.state.faults.lose_answers = 1
    adjust(synced, WEDDING_CAKE, -3)
    wait_until(lambda: synced.outbox()[0]["state"] == "sent", timeout=20)
    assert synced.metrc.state.quantity(WEDDING_CAKE) == 497
    assert len(sent_adjustments(synced)) == 1


def test_adjustments_wait_out_an_outage_and_arrive_in_order(synced: Synced) -> None:
    """METRC is down: entries wait with the reason shown; when it is back, all arrive."""
    seed_tracker(synced)
    synced.settings()
    synced.pull()
    synced.metrc.state.faults.down_until = synced.metrc.state.clock() + 3
    for grams in (-1, -2, -3):
        adjust(synced, WEDDING_CAKE, grams)
    wait_until(lambda: "503" in str(synced.outbox()[-1]["last_error"]))
    status = synced.tracker.client.get("/api/metrc/status").json()
    assert status["outbox"]["pending"] == 3
    wait_until(lambda: synced.metrc.state.quantity(WEDDING_CAKE) == 494, timeout=30)
    assert len(sent_adjustments(synced)) == 3


def test_review_before_submit_holds_entries_until_an_admin_approves(synced: Synced) -> None:
    """An entry waits for review; approved, it is sent; rejected, it never is."""
    seed_tracker(synced)
    synced.settings(review_before_submit=True)
    synced.pull()
    adjust(synced, WEDDING_CAKE, -1)
    adjust(synced, BLUE_DREAM, -1)
    first, second = sorted(synced.outbox(), key=lambda e: e["id"])
    assert first["state"] == second["state"] == "awaiting_review"
    client = synced.tracker.client
    assert client.post(f"/api/metrc/outbox/{first['id']}/approve").status_code == 200
    assert client.post(f"/api/metrc/outbox/{second['id']}/reject", json={}).status_code == 200
    wait_until(lambda: synced.metrc.state.quantity(WEDDING_CAKE) == 499)
    assert synced.metrc.state.quantity(BLUE_DREAM) == 1248.5
    again = client.post(f"/api/metrc/outbox/{first['id']}/approve")
    assert again.status_code == 409


def test_drift_is_shown_and_resolved_by_choosing_a_side(synced: Synced) -> None:
    """METRC changed while a tracker change waited for review: drift. Accepting the tracker
    queues the difference for METRC; accepting METRC takes its grams."""
    seed_tracker(synced)
    synced.settings(review_before_submit=True)
    synced.pull()
    adjust(synced, WEDDING_CAKE, -10)  # waits for review: 490 here, 500 in METRC
    synced.tracker.client.post(f"/api/metrc/outbox/{synced.outbox()[0]['id']}/reject", json={})
    adjust(synced, WEDDING_CAKE, -5)  # 485 here, waiting
    synced.metrc.state.change(WEDDING_CAKE, Quantity=480.0)  # someone reweighs it in METRC
    synced.pull()
    drift = synced.tracker.client.get("/api/metrc/drift").json()
    assert [(d["metrc_number"], d["tracker_grams"], d["metrc_grams"]) for d in drift] == [
        (WEDDING_CAKE, 485, 480)
    ]
    answer = synced.tracker.client.post(
        f"/api/metrc/drift/{WEDDING_CAKE}", json={"accept": "metrc", "reason": "Reweighed"}
    )
    assert answer.status_code == 200
    assert synced.tracker.package(WEDDING_CAKE)["current_grams"] == 480
    assert synced.tracker.client.get("/api/metrc/drift").json() == []
    waiting = [e for e in synced.outbox() if e["state"] == "awaiting_review"]
    assert waiting == []  # the -5 g is not sent on top of METRC's number


def test_a_package_finished_in_metrc_is_archived(synced: Synced) -> None:
    seed_tracker(synced)
    synced.settings()
    synced.pull()
    synced.metrc.state.finish("SIM-LIC-0001", [{"Label": WEDDING_CAKE}], True)
    synced.pull()
    assert synced.tracker.package(WEDDING_CAKE)["status"] == "archived"


def test_test_connection_names_what_is_wrong(synced: Synced) -> None:
    """A wrong user key, a license the user may not use, and a good setup, each said."""
    client = synced.tracker.client
    synced.settings(user_key="nope", enabled=False)
    assert "user key" in client.post("/api/metrc/settings/test").json()["message"]
    synced.settings(user_key="sim-user-key", license_number="OTHER-1", enabled=False)
    answer = client.post("/api/metrc/settings/test").json()
    assert answer["ok"] is False and "may not use license OTHER-1" in answer["message"]
    synced.settings(enabled=False)
    assert client.post("/api/metrc/settings/test").json()["ok"] is True


def test_a_counted_package_is_adjusted_in_whole_units(synced: Synced) -> None:
    """Boxes of 3 g: -6 g reaches METRC as -2 Each; -1 g is refused by name, nothing saved."""
    synced.settings()
    synced.pull()
    refused = adjust(synced, BOXES, -1)
    assert refused.status_code == 422
    assert "delta_grams" in refused.text and "whole number of units" in refused.text
    assert synced.tracker.package(BOXES)["current_grams"] == 72
    assert adjust(synced, BOXES, -6).status_code == 200
    wait_until(lambda: synced.metrc.state.quantity(BOXES) == 22)
    assert '"UnitOfMeasure":"Each"' in sent_adjustments(synced)[0]


def test_hostile_drift_and_outbox_requests_are_refused_and_change_nothing(synced: Synced) -> None:
    """A side that is not metrc/tracker, an overlong reason, an entry that does not exist or
    is not waiting: each refused with the field or the reason named."""
    seed_tracker(synced)
    synced.settings(review_before_submit=True)
    synced.pull()
    adjust(synced, WEDDING_CAKE, -1)
    client = synced.tracker.client
    before = (synced.outbox(), synced.tracker.package(WEDDING_CAKE))
    for body in ({"accept": "both"}, {"accept": "=1+1"}, {"accept": "metrc", "reason": "x" * 201}):
        answer = client.post(f"/api/metrc/drift/{WEDDING_CAKE}", json=body)
        assert answer.status_code in (400, 404, 422), body
    assert (
        client.post(f"/api/metrc/drift/{WEDDING_CAKE}", json={"accept": "metrc"}).status_code == 404
    )
    assert client.post("/api/metrc/outbox/999/approve").status_code == 404
    assert client.post("/api/metrc/outbox/0/approve").status_code == 422
    entry = synced.outbox()[0]["id"]
    assert client.post(f"/api/metrc/outbox/{entry}/retry").status_code == 409
    assert (synced.outbox(), synced.tracker.package(WEDDING_CAKE)) == before

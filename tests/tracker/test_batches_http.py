"""Production batches over HTTP: stages, weight checks, completion (docs/api.md)."""

from __future__ import annotations

import pytest

from tests.conftest import RunningTracker

TAG = "1A4060300003BB1000000042"


NEW_BATCH = {
    "strain": "Blue Dream",
    "flower_grams_in": 250,
    "preroll_size_g": 0.5,
    "target_count": 450,
}


def new_batch(tracker: RunningTracker, **fields: object) -> dict:
    body = NEW_BATCH | fields
    response = tracker.client.post("/api/batches", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def advance(tracker: RunningTracker, batch: dict, **body: object):
    return tracker.client.post(f"/api/batches/{batch['id']}/advance", json=body)


def to_testing(tracker: RunningTracker) -> dict:
    batch = new_batch(tracker)
    for _ in range(2):
        assert advance(tracker, batch).status_code == 200
    return batch


def test_batch_is_created_in_grinding_with_a_code(tracker: RunningTracker) -> None:
    """A new batch gets PR-<year>-0001, starts grinding, and the start is recorded."""
    batch = new_batch(tracker, source_metrc="1a4060300001aa1000000001")
    assert batch["code"].startswith("PR-") and batch["code"].endswith("-0001")
    assert (batch["stage"], batch["source_metrc"]) == ("grinding", "1A4060300001AA1000000001")
    assert [(t["from_stage"], t["to_stage"]) for t in batch["transitions"]] == [(None, "grinding")]
    assert new_batch(tracker)["code"].endswith("-0002")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"flower_grams_in": 0}, "flower_grams_in"),
        ({"preroll_size_g": -1}, "preroll_size_g"),
        ({"strain": ""}, "strain"),
        ({"target_count": -5}, "target_count"),
        ({"source_metrc": "bad"}, "source_metrc"),
        ({"colour": "x"}, "colour"),
    ],
)
def test_bad_batch_input_names_the_field(
    shared_tracker: RunningTracker, fields: dict, field: str
) -> None:
    """422 names the field and no batch is created."""
    before = shared_tracker.client.get("/api/batches").json()
    body = NEW_BATCH | fields
    response = shared_tracker.client.post("/api/batches", json=body)
    assert (response.status_code, response.json()["field"]) == (422, field)
    assert shared_tracker.client.get("/api/batches").json() == before


def test_forward_one_stage_at_a_time_back_and_cancel_need_a_reason(
    tracker: RunningTracker,
) -> None:
    """Skipping is 409; back or cancel without a reason is 422; with one it is recorded."""
    batch = new_batch(tracker)
    assert advance(tracker, batch, to="testing").status_code == 409
    assert advance(tracker, batch).json()["stage"] == "rolling"
    refused = advance(tracker, batch, to="grinding")
    assert (refused.status_code, refused.json()["field"]) == (422, "reason")
    back = advance(tracker, batch, to="grinding", reason="grind too coarse").json()
    assert back["stage"] == "grinding"
    assert back["transitions"][-1] | {"at": "", "actor": ""} == {
        "at": "",
        "actor": "",
        "from_stage": "rolling",
        "to_stage": "grinding",
        "reason": "grind too coarse",
        "override": False,
    }
    cancelled = advance(tracker, batch, to="cancelled", reason="mould found").json()
    assert cancelled["stage"] == "cancelled"
    assert advance(tracker, batch, to="grinding", reason="oops").status_code == 409
    assert (
        tracker.client.patch(f"/api/batches/{batch['id']}", json={"notes": "x"}).status_code == 409
    )


def test_failed_then_passed_weight_check_gates_testing(tracker: RunningTracker) -> None:
    """Leaving testing needs a passing latest check: fail → 409, pass → allowed."""
    batch = to_testing(tracker)
    url = f"/api/batches/{batch['id']}/weight-checks"
    assert advance(tracker, batch).status_code == 409  # no check yet
    failed = tracker.client.post(url, json={"weights_grams": [0.5, 0.56, 0.49]}).json()
    assert (failed["passed"], failed["unit_passes"]) == (False, [True, False, True])
    assert advance(tracker, batch).status_code == 409
    passed = tracker.client.post(url, json={"weights_grams": [0.5, 0.55, 0.45, 0.51]}).json()
    assert (passed["passed"], passed["mean_grams"], passed["unit_tolerance_pct"]) == (
        True,
        0.502,
        10.0,
    )
    assert advance(tracker, batch).json()["stage"] == "packaging"


def test_admin_override_of_the_weight_check_needs_a_reason(tracker: RunningTracker) -> None:
    """The override path: a reason is required and the transition is marked overridden."""
    batch = to_testing(tracker)
    refused = advance(tracker, batch, override=True)
    assert (refused.status_code, refused.json()["field"]) == (422, "reason")
    moved = advance(tracker, batch, override=True, reason="scale broken; checked by hand").json()
    assert (moved["stage"], moved["transitions"][-1]["override"]) == ("packaging", True)


def test_weight_check_only_in_testing_and_with_real_weights(tracker: RunningTracker) -> None:
    """A check outside testing is 409; an empty list or a zero weight is 422."""
    batch = new_batch(tracker)
    url = f"/api/batches/{batch['id']}/weight-checks"
    assert tracker.client.post(url, json={"weights_grams": [0.5]}).status_code == 409
    to_test = to_testing(tracker)
    url = f"/api/batches/{to_test['id']}/weight-checks"
    assert tracker.client.post(url, json={"weights_grams": []}).json()["field"] == "weights_grams"
    assert tracker.client.post(url, json={"weights_grams": [0.5, 0]}).status_code == 422


def test_completion_creates_the_package_once_and_yield_is_shown(tracker: RunningTracker) -> None:
    """Completing with a METRC tag creates that package with out grams, in one step."""
    batch = to_testing(tracker)
    tracker.client.post(f"/api/batches/{batch['id']}/weight-checks", json={"weights_grams": [0.5]})
    advance(tracker, batch)
    refused = advance(tracker, batch)
    assert (refused.status_code, refused.json()["field"]) == (422, "finished_metrc")
    assert advance(tracker, batch, finished_metrc=TAG).status_code == 409  # no pre-rolls out yet
    tracker.client.patch(
        f"/api/batches/{batch['id']}", json={"prerolls_out": 400, "waste_grams": 30}
    )
    done = advance(tracker, batch, finished_metrc=TAG.lower()).json()
    assert (done["stage"], done["finished_metrc"]) == ("complete", TAG)
    assert (done["grams_out"], done["yield_pct"], done["loss_grams"]) == (200, 80.0, 20)
    package = tracker.package(TAG)
    assert (package["strain"], package["current_grams"], package["initial_grams"]) == (
        "Blue Dream",
        200,
        200,
    )
    history = tracker.client.get(f"/api/finished-goods/{TAG}/history").json()
    assert [h["reason"] for h in history] == [
        f"Production batch {batch['code']} completed: 400 pre-rolls"
    ]
    assert advance(tracker, batch, finished_metrc=TAG).status_code == 409  # once only


def test_completion_adds_to_an_existing_package_of_the_strain(tracker: RunningTracker) -> None:
    """An active package of the same strain grows; another strain's package is refused."""
    tracker.create(TAG, strain="blue dream", grams=100)
    tracker.create("1A4060300003BB1000000043", strain="Gelato", grams=100)
    batch = to_testing(tracker)
    tracker.client.post(f"/api/batches/{batch['id']}/weight-checks", json={"weights_grams": [0.5]})
    advance(tracker, batch)
    tracker.client.patch(f"/api/batches/{batch['id']}", json={"prerolls_out": 100})
    wrong = advance(tracker, batch, finished_metrc="1A4060300003BB1000000043")
    assert wrong.status_code == 409 and "Gelato" in wrong.json()["detail"]
    assert advance(tracker, batch, finished_metrc=TAG).json()["stage"] == "complete"
    assert tracker.package(TAG)["current_grams"] == 150


def test_list_filters_and_overview_counts(tracker: RunningTracker) -> None:
    """?stage= and ?active= filter; the overview counts active batches by stage."""
    first, second, third = new_batch(tracker), new_batch(tracker), new_batch(tracker)
    advance(tracker, second)
    advance(tracker, third, to="cancelled", reason="no flower")
    codes = lambda **q: [b["code"] for b in tracker.client.get("/api/batches", params=q).json()]  # noqa: E731
    assert codes(stage="rolling") == [second["code"]]
    assert sorted(codes(active="true")) == sorted([first["code"], second["code"]])
    assert codes(active="false") == [third["code"]]
    overview = tracker.client.get("/api/overview").json()
    assert overview["active_batches"] == 2
    assert overview["batches_by_stage"] == {
        "grinding": 1,
        "rolling": 1,
        "testing": 0,
        "packaging": 0,
        "complete": 0,
        "cancelled": 1,
    }


def test_unknown_and_absurd_batch_ids_are_404(shared_tracker: RunningTracker) -> None:
    """Found by fuzzing: an id beyond SQLite's integers is a plain 404, not a server error."""
    for batch_id in (999, 2**64, 10**30):
        response = shared_tracker.client.get(f"/api/batches/{batch_id}")
        assert (response.status_code, response.json()["error"]) == (404, "not_found")

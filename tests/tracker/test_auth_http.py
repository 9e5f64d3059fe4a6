"""Every API route refuses a missing or wrong X-API-Key, and a new key ends the old one."""

from __future__ import annotations

import re

import pytest

from tests.conftest import RunningTracker
from tracker_service.app import TrackerSettings, create_app

TAG = "1A4060300012345678"


def _routes() -> list[tuple[str, str]]:
    app = create_app(TrackerSettings(db_path=":memory:"))  # type: ignore[arg-type]
    schema = app.openapi_schema.to_schema()
    return sorted(
        (
            method.upper(),
            re.sub(r"\{(metrc|metrc_number)\}", TAG, path)
            .replace("{batch_id}", "1")
            .replace("{entry_id}", "1"),
        )
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )


ROUTES = _routes()


def test_every_documented_route_is_covered() -> None:
    """The route list comes from the OpenAPI schema: nothing can be added without this check."""
    assert len(ROUTES) == 38


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("key", [None, "wrong-key", "prt_" + "x" * 43])
def test_route_refuses_missing_or_wrong_key(
    shared_tracker: RunningTracker, method: str, path: str, key: str | None
) -> None:
    """401 with a JSON error body, whether the header is missing or holds a wrong key."""
    tracker = shared_tracker
    if tracker.client.get(f"/api/finished-goods/{TAG}").status_code == 404:
        tracker.create(TAG)
    before = tracker.snapshot(TAG)
    headers = {} if key is None else {"X-API-Key": key}
    response = tracker.client.request(
        method, path, headers=headers | ({} if key else {"X-API-Key": ""}), json={}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert "X-API-Key" in response.json()["detail"]
    assert tracker.snapshot(TAG) == before


def test_regenerated_key_ends_the_old_one_at_once(tracker: RunningTracker) -> None:
    """After rotation (even by another process, e.g. the CLI) the old key gets 401."""
    from tracker_service.auth.api_keys import ApiKeyStore
    from tracker_service.lib.db import Database

    assert tracker.client.get("/api/overview").status_code == 200
    other_process_db = Database(tracker.db_path)
    new_key = ApiKeyStore(other_process_db).rotate(created_by="cli:test")
    other_process_db.close()
    assert tracker.client.get("/api/overview").status_code == 401
    response = tracker.client.get("/api/overview", headers={"X-API-Key": new_key})
    assert response.status_code == 200


def test_key_is_stored_hashed(tracker: RunningTracker) -> None:
    """The database never holds the key itself."""
    raw = tracker.db_path.read_bytes() + tracker.db_path.with_name("tracker.db-wal").read_bytes()
    assert tracker.api_key.encode() not in raw

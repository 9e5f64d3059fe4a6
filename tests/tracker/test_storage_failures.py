"""Storage that fails safely: a write the disk cannot take is a 503 that changes nothing,
reads go on, and writing works again as soon as the cause is gone. Real SQLite throughout: a
database at its size limit, a read-only file, and the files the tracker creates."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import RunningTracker
from tests.tracker.serve_process import ServeProcess
from tests.tracker.staff import StaffClient
from tracker_service.auth.api_keys import ApiKeyStore
from tracker_service.services import Services

TAG = "1A4060300003BB1000000099"
ROOT = Path(__file__).resolve().parents[2]


def _cap_size(tracker: RunningTracker, capped: bool) -> None:
    """Cap the database at its current size (a full disk), or lift the cap, on its writer."""
    db = tracker.services.db
    with db._write_lock:  # the real writer connection, between two transactions
        assert db._writer is not None
        pages = db._writer.execute("PRAGMA page_count").fetchone()[0] if capped else 10**9
        db._writer.execute(f"PRAGMA max_page_count = {pages}")


def _adjust(client: httpx.Client, grams: float = 1) -> httpx.Response:
    return client.post(
        f"/api/finished-goods/{TAG}/adjust",
        json={"delta_grams": grams, "reason": "Other", "note": "x" * 400},
    )


def test_a_full_database_refuses_writes_with_503_and_recovers(tracker: RunningTracker) -> None:
    """At its size limit every write answers 503 storage_unavailable and leaves no trace;
    reads, /apex-calculate and the staff pages keep working; lifting the limit is enough."""
    tracker.services.users.create("maria", "full-disk-pass", "admin")
    tracker.create(TAG, grams=500)
    staff = StaffClient(tracker.base_url, "maria", "full-disk-pass")
    _cap_size(tracker, capped=True)
    refused = None
    for _ in range(200):  # the pages that are left fill up after a few writes
        before = tracker.snapshot(TAG)
        answer = _adjust(tracker.client)
        if answer.status_code != 200:
            refused = answer
            break
    assert refused is not None, "the database never filled up"
    assert refused.status_code == 503
    body = refused.json()
    assert (body["error"], body["cause"]) == ("storage_unavailable", "disk_full")
    assert "not saved" in body["detail"] and "Reading still works" in body["detail"]
    assert tracker.snapshot(TAG) == before
    # A staff form says the same once what is left is used up, and changes nothing.
    for _ in range(50):
        before = tracker.snapshot(TAG)
        form = staff.post(f"/finished-goods/{TAG}/hold", {"grams": "1", "hold_reason": "x" * 150})
        if form.status_code != 303:
            break
    assert form.status_code == 503 and "the change was not saved" in form.text
    assert tracker.snapshot(TAG) == before
    assert tracker.client.get("/apex-calculate").status_code == 200
    assert staff.http.get(f"/finished-goods/{TAG}").status_code == 200
    _cap_size(tracker, capped=False)
    assert _adjust(tracker.client).status_code == 200
    assert tracker.package(TAG)["current_grams"] == before[0]["current_grams"] + 1
    staff.close()


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder another user can reach (pytest's own temp folder is private to us)."""
    folder = Path(tempfile.mkdtemp(prefix="tracker-ro-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_read_only_file_serves_reads_refuses_writes_and_recovers(shared_folder: Path) -> None:
    """The tracker started on a database file it may not write: it starts, serves reads, answers
    every write 503 read_only, and writes again once the file is writable (no restart)."""
    db = shared_folder / "tracker.db"
    services = Services.open(db)
    key = ApiKeyStore(services.db).rotate("test")
    services.close()
    # As root the permission bits do not stop us: run the tracker as a service account would.
    as_user = (65534, 65534) if os.geteuid() == 0 else None
    if as_user:
        for path in (shared_folder, *shared_folder.iterdir()):
            os.chown(path, *as_user)
    db.chmod(0o444)
    headers = {"X-API-Key": key}
    with ServeProcess(db, as_user=as_user) as server:
        api = httpx.Client(base_url=server.base_url, headers=headers)
        assert api.get("/apex-calculate").status_code == 200
        created = api.post(
            "/api/finished-goods",
            json={"metrc_number": TAG, "strain": "Gelato", "initial_grams": 5},
        )
        assert created.status_code == 503, created.text
        assert created.json()["cause"] == "read_only"
        assert "read-only" in created.json()["detail"]
        assert api.get("/api/finished-goods").json() == []
        for path in shared_folder.glob("tracker.db*"):  # as the error message says
            path.chmod(0o644)
        again = api.post(
            "/api/finished-goods",
            json={"metrc_number": TAG, "strain": "Gelato", "initial_grams": 5},
        )
        assert again.status_code == 201, again.text
        assert [p["metrc_number"] for p in api.get("/api/finished-goods").json()] == [TAG]
    assert "write refused by the storage" in server.output


def test_files_the_tracker_creates_are_private(tmp_path: Path) -> None:
    """The database and its WAL files are the owner's alone, whatever the umask; the systemd
    unit sets UMask=0077 for everything else."""
    previous = os.umask(0o022)
    try:
        services = Services.open(tmp_path / "data" / "tracker.db")
        services.users.create("maria", "private-pass", "admin")
        created = [p for p in (tmp_path / "data").iterdir()]
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in created}
        services.close()
    finally:
        os.umask(previous)
    assert {"tracker.db", "tracker.db-wal", "tracker.db-shm"} <= set(modes)
    assert {name: mode & 0o077 for name, mode in modes.items()} == dict.fromkeys(modes, 0)
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) & 0o077 == 0
    unit = (ROOT / "installer" / "preroll-tracker.service").read_text()
    assert "\nUMask=0077\n" in unit

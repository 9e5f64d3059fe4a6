"""Backups that are proven to restore (README, "Backups"): taken under a write load they hold
every change acknowledged before they started, a damaged file is refused, ``--keep`` keeps
exactly N, and a restore waits for the service to be stopped."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.tracker.serve_process import ServeProcess, new_api_key
from tracker_service.backups.service import backup
from tracker_service.lib.db import check_file
from tracker_service.services import Services


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker_service", *args], capture_output=True, text=True
    )


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_backup_taken_under_load_restores_every_change_acknowledged_before_it(
    tmp_path: Path,
) -> None:
    """Packages are created as fast as the server takes them while a backup runs; the
    restored copy passes the integrity check and holds every package acknowledged before the
    backup started."""
    db = tmp_path / "tracker.db"
    Services.open(db).close()
    key = new_api_key(db)
    acknowledged: list[tuple[float, str]] = []
    stop = threading.Event()
    with ServeProcess(db, log_level="warning") as server:

        def write_load() -> None:
            with httpx.Client(base_url=server.base_url, headers={"X-API-Key": key}) as client:
                n = 0
                while not stop.is_set():
                    tag = f"1A40603000LOAD{n:010d}"
                    answer = client.post(
                        "/api/finished-goods",
                        json={"metrc_number": tag, "strain": "Gelato", "initial_grams": 10},
                    )
                    assert answer.status_code == 201, answer.text
                    acknowledged.append((time.time(), tag))
                    n += 1

        writer = threading.Thread(target=write_load)
        writer.start()
        try:
            time.sleep(1.0)
            started = time.time()
            done = cli("backup", "--db", str(db), "--to", str(tmp_path / "backups"))
            time.sleep(0.5)
        finally:
            stop.set()
            writer.join()
    assert done.returncode == 0, done.stderr
    assert "integrity check: ok" in done.stdout
    (copy,) = sorted((tmp_path / "backups").glob("tracker-*.db"))
    before = {tag for at, tag in acknowledged if at < started}
    assert len(before) > 20 and len(acknowledged) > len(before)  # writes ran throughout
    restored = tmp_path / "restored" / "tracker.db"
    back = cli("restore", "--db", str(restored), "--from", str(copy))
    assert back.returncode == 0, back.stderr
    assert check_file(restored).problem is None
    services = Services.open(restored)
    held = {p.metrc_number for p in services.finished_goods.list_packages()}
    services.close()
    assert before <= held


def test_a_damaged_backup_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    """A backup with garbage in its pages is refused by name; the live database is untouched
    and no file is moved aside."""
    db = tmp_path / "tracker.db"
    Services.open(db).close()
    copy = backup(db, tmp_path / "backups", keep=3)
    data = bytearray(copy.read_bytes())
    data[4096 : 4096 + 2048] = b"\xff" * 2048  # a table page overwritten
    copy.write_bytes(bytes(data))
    was = fingerprint(db)
    refused = cli("restore", "--db", str(db), "--from", str(copy))
    assert refused.returncode == 2
    assert "nothing was changed" in refused.stderr and str(copy) in refused.stderr
    assert fingerprint(db) == was
    assert list(tmp_path.glob("tracker.db.replaced-*")) == []
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("=1+1 <b>not a database</b>")
    refused = cli("restore", "--db", str(db), "--from", str(not_a_db))
    assert refused.returncode == 2 and "not a readable SQLite database" in refused.stderr


def test_keep_keeps_exactly_the_newest_n(tmp_path: Path) -> None:
    """Five nightly backups with --keep 3 leave the three newest."""
    db = tmp_path / "tracker.db"
    Services.open(db).close()
    night = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)
    for n in range(5):
        backup(db, tmp_path / "backups", keep=3, now=night + timedelta(days=n))
    names = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert names == [
        "tracker-20261122-023000.db",
        "tracker-20261123-023000.db",
        "tracker-20261124-023000.db",
    ]


def test_hostile_keep_values_are_refused_by_name(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    Services.open(db).close()
    for value in ("0", "-3", "abc", "=1+1", "99999999"):
        answer = cli("backup", "--db", str(db), "--to", str(tmp_path / "b"), "--keep", value)
        assert answer.returncode == 2 and "--keep" in answer.stderr, value
    assert not (tmp_path / "b").exists()


def test_a_restore_waits_for_the_service_to_stop(tmp_path: Path) -> None:
    """While the tracker serves the database, a restore is refused and says what to do; once
    stopped, it restores and keeps the replaced database aside."""
    db = tmp_path / "tracker.db"
    Services.open(db).close()
    copy = backup(db, tmp_path / "backups", keep=3)
    with ServeProcess(db, log_level="warning"):
        refused = cli("restore", "--db", str(db), "--from", str(copy))
        assert refused.returncode == 2
        assert (
            "in use by a running tracker" in refused.stderr and "stop the service" in refused.stderr
        )
    done = cli("restore", "--db", str(db), "--from", str(copy))
    assert done.returncode == 0, done.stderr
    (kept,) = tmp_path.glob("tracker.db.replaced-*")
    assert check_file(kept).problem is None and check_file(db).problem is None

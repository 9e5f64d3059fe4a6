"""The ``preroll-tracker`` command line (docs/api.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tracker_service.auth.api_keys import ApiKeyStore
from tracker_service.auth.users import UserStore
from tracker_service.lib.db import Database


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker_service", *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_api_key_new_prints_the_key_last_and_ends_the_old_one(tmp_path: Path) -> None:
    """Each --new prints a fresh key as the last line; only the newest one is accepted."""
    db = tmp_path / "t.db"
    first = run("api-key", "--db", str(db), "--new")
    second = run("api-key", "--db", str(db), "--new")
    assert first.returncode == second.returncode == 0
    old, new = first.stdout.splitlines()[-1], second.stdout.splitlines()[-1]
    assert old != new and new.startswith("prt_") and len(new) > 40
    database = Database(db)
    keys = ApiKeyStore(database)
    assert (keys.identify(old), keys.identify(new)) == (None, f"api-key:{new[:10]}")
    database.close()


def test_create_user_reads_the_password_from_the_environment(tmp_path: Path) -> None:
    """create-user --admin stores an Argon2 hash; the password verifies, a wrong one does not."""
    db = tmp_path / "t.db"
    result = run(
        "create-user",
        "--db",
        str(db),
        "--admin",
        "maria",
        env={"PREROLL_TRACKER_PASSWORD": "correct horse"},
    )
    assert result.returncode == 0, result.stderr
    assert "Created admin user 'maria'" in result.stdout
    database = Database(db)
    users = UserStore(database)
    assert users.verify("maria", "correct horse").role == "admin"
    assert users.verify("maria", "wrong horse") is None
    with database.read() as conn:
        stored = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$")
    database.close()


def test_create_user_errors_are_one_clear_line(tmp_path: Path) -> None:
    """A short password or a taken name exits 2 with a message naming the problem."""
    db = tmp_path / "t.db"
    env = {"PREROLL_TRACKER_PASSWORD": "long enough"}
    assert run("create-user", "--db", str(db), "--staff", "sam", env=env).returncode == 0
    taken = run("create-user", "--db", str(db), "--staff", "SAM", env=env)
    assert (taken.returncode, taken.stderr.strip()) == (
        2,
        "preroll-tracker: user 'SAM' already exists",
    )
    short = run(
        "create-user", "--db", str(db), "--admin", "al", env={"PREROLL_TRACKER_PASSWORD": "short"}
    )
    assert short.returncode == 2
    assert short.stderr.strip() == "preroll-tracker: password: must be at least 8 characters"


def test_systemd_unit_runs_the_documented_serve_command() -> None:
    """The unit restarts on failure, runs as its own user, keeps its database under /var/lib."""
    import configparser

    root = Path(__file__).resolve().parents[2]
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(root / "installer" / "preroll-tracker.service")
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    assert service["User"] == "preroll-tracker"
    assert service["StateDirectory"] == "preroll-tracker"
    command = service["ExecStart"].split()
    assert command[1:3] == ["serve", "--db"] and command[3].startswith("/var/lib/preroll-tracker/")
    assert "preroll-tracker.service" in (root / "installer" / "README.md").read_text()

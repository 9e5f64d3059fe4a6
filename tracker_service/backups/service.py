"""``preroll-tracker backup`` and ``restore`` (README, "Backups").

A backup is SQLite's online copy of the database (the service keeps running and writing),
checked with ``PRAGMA integrity_check`` before it counts, named by its UTC time; the oldest
beyond ``keep`` are removed. A restore refuses while a tracker serves the database (the
service holds an exclusive lock file beside it), refuses a damaged file or one from a newer
tracker, and keeps the replaced database beside the new one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from tracker_service.lib.db import Database, check_file, copy_database
from tracker_service.lib.errors import Conflict, InvalidInput

__all__ = ["BACKUP_GLOB", "backup", "restore", "serving_lock"]

BACKUP_GLOB = "tracker-*.db"


def _lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


@contextmanager
def serving_lock(db: Path, doing: str) -> Iterator[None]:
    """Exclusive use of ``db``: held by ``serve`` while it runs and by ``restore``."""
    path = _lock_path(db)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle: IO[str] = open(path, "a")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(
                f"{db} is in use by a running tracker (or a restore): stop the service"
                f" first, then {doing}"
            ) from None
        yield
    finally:
        handle.close()


def backup(db: Path, folder: Path, keep: int, now: datetime | None = None) -> Path:
    """Copy ``db`` into ``folder`` as ``tracker-YYYYmmdd-HHMMSS.db``; keep the ``keep`` newest."""
    if keep < 1:
        raise InvalidInput("keep", "must be at least 1")
    if not db.is_file():
        raise InvalidInput("db", f"{db} does not exist")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    target = folder / f"tracker-{stamp}.db"
    partial = folder / f".{target.name}.partial"
    partial.unlink(missing_ok=True)
    copy_database(db, partial)
    found = check_file(partial)
    if found.problem is not None:
        partial.unlink(missing_ok=True)
        raise Conflict(f"the copy failed its check, so it was not kept: {found.problem}")
    os.replace(partial, target)
    for old in sorted(folder.glob(BACKUP_GLOB))[:-keep]:
        old.unlink()
    return target


def restore(db: Path, source: Path, now: datetime | None = None) -> Path | None:
    """Put ``source`` in place of ``db``; returns where the replaced database was kept."""
    found = check_file(source)
    if found.problem is not None:
        raise InvalidInput("from", f"{found.problem}; nothing was changed")
    with serving_lock(db, "restore"):
        kept = None
        if db.exists():
            stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
            kept = db.with_name(f"{db.name}.replaced-{stamp}")
            # Moved, not copied through SQLite: a damaged database is kept as it was. Its
            # write-ahead log goes with it (it holds the latest commits).
            os.replace(db, kept)
            for suffix in ("-wal", "-shm"):
                side = db.with_name(db.name + suffix)
                if side.exists():
                    os.replace(side, kept.with_name(kept.name + suffix))
        incoming = db.with_name(f".{db.name}.restoring")
        incoming.unlink(missing_ok=True)
        copy_database(source, incoming)
        os.replace(incoming, db)
        Database(db).close()  # an older backup's schema is brought up to date here
    return kept

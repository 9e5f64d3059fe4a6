"""The tracker killed with SIGKILL during a write load keeps every acknowledged change."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.tracker.serve_process import ServeProcess, new_api_key

TAG = "1A4060300077777777"


@pytest.mark.slow
def test_sigkill_during_writes_loses_no_acknowledged_change(tmp_path: Path) -> None:
    """After SIGKILL mid-load: integrity_check ok, every 200-answered change is present."""
    db = tmp_path / "tracker.db"
    key = new_api_key(db)
    running = ServeProcess(db, log_level="warning").__enter__()
    server, base = running.process, running.base_url
    assert server is not None
    headers = {"X-API-Key": key}
    httpx.post(
        f"{base}/api/finished-goods",
        headers=headers,
        timeout=10,
        json={"metrc_number": TAG, "strain": "Gelato", "initial_grams": 1_000_000},
    )

    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def write_load(worker: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=5) as client:
            n = 0
            while not stop.is_set():
                key_ = f"w{worker}-{n}"
                n += 1
                try:
                    response = client.post(
                        f"/api/finished-goods/{TAG}/apex-decrement",
                        json={"sku": "singles_1g", "units": 1, "idempotency_key": key_},
                    )
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(key_)

    workers = [threading.Thread(target=write_load, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    time.sleep(2.0)
    server.kill()
    running.stop()
    stop.set()
    for worker in workers:
        worker.join()
    assert len(acknowledged) > 20, "the load did not run long enough to mean anything"

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in conn.execute("SELECT idempotency_key FROM decrements")}
        sold_mg = conn.execute("SELECT sold_mg FROM packages").fetchone()[0]
        audited = conn.execute(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'apex_decrement'"
        ).fetchone()[0]
    assert set(acknowledged) <= stored
    # No half-applied change: grams, processed keys and audit log agree exactly.
    assert sold_mg == len(stored) * 1000
    assert audited == len(stored)

    with ServeProcess(db, log_level="warning") as again:
        base = again.base_url
        package = httpx.get(f"{base}/api/finished-goods/{TAG}", headers=headers).json()
        assert package["grams_ordered"] == len(stored)
        replay = httpx.post(
            f"{base}/api/finished-goods/{TAG}/apex-decrement",
            headers=headers,
            json={"sku": "singles_1g", "units": 1, "idempotency_key": acknowledged[-1]},
        ).json()
        assert replay["applied"] is False


def test_stopping_answers_waiting_long_polls_instead_of_cutting_them(tmp_path: Path) -> None:
    """SIGTERM (a restart) while ApexAPI waits on the change feed: the wait ends with an empty
    feed and the server stops cleanly; it used to hold the restart 5 s, cut the request and
    log an ERROR with a traceback."""
    db = tmp_path / "tracker.db"
    key = new_api_key(db)
    server = ServeProcess(db, log_level="warning").__enter__()
    base, headers = server.base_url, {"X-API-Key": key}
    httpx.post(
        f"{base}/api/finished-goods",
        headers=headers,
        json={"metrc_number": TAG, "strain": "Gelato", "initial_grams": 100},
    ).raise_for_status()
    cursor = httpx.get(f"{base}/api/changes", params={"since": 0}, headers=headers).json()["cursor"]
    answers: list[httpx.Response | Exception] = []

    def long_poll() -> None:
        try:
            answers.append(
                httpx.get(
                    f"{base}/api/changes",
                    params={"since": cursor, "wait": 30},
                    headers=headers,
                    timeout=40,
                )
            )
        except httpx.HTTPError as exc:
            answers.append(exc)

    waiting = threading.Thread(target=long_poll)
    waiting.start()
    time.sleep(1.0)  # the request is in the server, waiting for a change
    returncode = server.stop()
    waiting.join(10)
    assert returncode == -signal.SIGTERM  # uvicorn re-raises the signal once stopped
    answer = answers[0]
    assert isinstance(answer, httpx.Response), answer
    assert answer.status_code == 200
    assert answer.json() == {"cursor": cursor, "changes": []}
    assert "ERROR" not in server.output and "Traceback" not in server.output, server.output

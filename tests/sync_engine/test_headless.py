"""``apexapi --headless``: the engine as a program, as a workstation or `make demo` runs it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import RunningTracker, wait_until
from tests.sync_engine.conftest import RunningApex, write_engine_config


def test_headless_engine_syncs_logs_and_stops_cleanly(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """It pushes quantities, logs to logs/ without secrets, and on SIGTERM releases the lease."""
    tracker.create("1A40603000123456", strain="Wedding Cake", grams=500)
    config = write_engine_config(tmp_path, tracker, apex)
    process = subprocess.Popen(
        [sys.executable, "-m", "tray_app", "--headless", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: apex.state.quantity(1001) == 1000, timeout=20)
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode()
    assert process.returncode == 0, output
    log = (tmp_path / "logs" / "apexapi.log").read_text()
    assert "Apex batch 1001 (Wedding Cake singles_0_5g): 40 -> 1000" in log
    assert "state saved, lease released" in log
    assert tracker.api_key not in log and "sim-token" not in log
    assert (tmp_path / "apexapi_state.json").exists()
    lease = tracker.client.post("/api/sync/lease", json={"holder": "someone-else"})
    assert lease.status_code == 200  # the engine let go of it


def test_bad_config_stops_with_one_line(tmp_path: Path) -> None:
    """An invalid config exits 2 with one line naming the field; nothing is started."""
    config = tmp_path / "apex_config.json"
    config.write_text(
        json.dumps(
            {
                "dashboard_url": "http://x",
                "dashboard_api_key": "k" * 20,
                "api_token": "t" * 20,
                "ui_port": 70000,
            }
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "tray_app", "--headless", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (f"apexapi: {config}: ui_port: Expected `int` <= 65535")
    assert not (tmp_path / "logs").exists()

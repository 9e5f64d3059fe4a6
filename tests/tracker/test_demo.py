"""``make demo``'s program: seeds once, prints a working URL and API key."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import msgspec

from tracker_service.demo import DEMO_USERS, ensure_demo_users, seed_demo_data
from tracker_service.services import Services


def test_seed_is_the_guides_example_and_runs_once(tmp_path: Path) -> None:
    """Wedding Cake 500 g gives 1000/500/166/83; a second seed leaves the data alone."""
    services = Services.open(tmp_path / "demo.db")
    assert seed_demo_data(services) is True
    body = msgspec.json.decode(services.calculation.current()[0])
    assert body["1A40603000123456"] == {
        "strain": "Wedding Cake",
        "status": "active",
        "available_grams": 500,
        "units": {
            "singles_0_5g": 1000,
            "singles_1g": 500,
            "box_0_5g_6pk": 166,
            "box_0_5g_12pk": 83,
        },
    }
    assert body["1A4060300002EE1000012349"]["status"] == "archived"
    assert seed_demo_data(services) is False
    assert len(services.finished_goods.list_packages()) == 6
    assert services.batches.counts_by_stage() | {} == {
        "grinding": 1,
        "rolling": 1,
        "testing": 1,
        "packaging": 0,
        "complete": 0,
        "cancelled": 0,
    }
    ensure_demo_users(services)
    ensure_demo_users(services)  # a second start keeps the same logins
    assert [services.users.verify(u, p).role for u, p, _ in DEMO_USERS] == ["admin", "staff"]


def test_demo_program_prints_url_and_key_that_work(tmp_path: Path) -> None:
    """The demo starts, prints its URL and key, and that key opens /apex-calculate."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tracker_service.demo",
            "--db",
            str(tmp_path / "d.db"),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = ""
        deadline = time.monotonic() + 30
        assert process.stdout is not None
        while "Press Ctrl-C" not in output and time.monotonic() < deadline:
            output += process.stdout.readline()
        url = re.search(r"URL\s+: (\S+)/", output)
        key = re.search(r"API key\s+: (\S+)", output)
        assert url and key, output
        for _ in range(100):
            try:
                response = httpx.get(f"{url[1]}/apex-calculate", headers={"X-API-Key": key[1]})
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert response.status_code == 200
        assert len(response.json()) == 6
    finally:
        process.terminate()
        process.wait(timeout=10)

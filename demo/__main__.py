"""``python -m demo``: start the tracker (demo data), the Apex, Sheets and METRC simulators and
the ApexAPI engine.

Everything lives in ``.demo/``; Ctrl-C stops them all. The engine's log lines show each Apex
batch it updates, so a change made in the tracker can be watched reaching "Apex"; the tracker
pulls the METRC simulator's license and sends its adjustments there.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import msgspec

from simulators.metrc.seed import LICENSE as METRC_LICENSE
from tracker_service.demo import DEMO_USERS, ensure_demo_users, seed_demo_data
from tracker_service.metrc.schemas import MetrcSettingsBody
from tracker_service.services import Services

APEX_TOKEN = "demo-apex-token"
SPREADSHEET = "demo-packing-list"


def _port(preferred: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, headers: dict[str, str], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"demo: {process.args!r} exited with {process.returncode}")
        try:
            httpx.get(url, headers=headers, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"demo: {url} did not answer within 30 s")


def connect_metrc(services: Services, url: str) -> None:
    """Point the demo tracker at the METRC simulator (through the settings' own checks)."""
    body = {
        "enabled": True,
        "api_url": url,
        "license_number": METRC_LICENSE,
        "vendor_key": "sim-vendor-key",
        "user_key": "sim-user-key",
        "pull_interval_seconds": 60,
    }
    services.metrc.save_settings(msgspec.convert(body, MetrcSettingsBody), "demo")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--folder", type=Path, default=Path(".demo"))
    parser.add_argument("--tracker-port", type=int, default=8000)
    parser.add_argument("--apex-port", type=int, default=8010)
    parser.add_argument("--sheets-port", type=int, default=8020)
    parser.add_argument("--metrc-port", type=int, default=8030)
    args = parser.parse_args()
    folder: Path = args.folder
    folder.mkdir(parents=True, exist_ok=True)

    services = Services.open(folder / "tracker.db")
    seed_demo_data(services)
    ensure_demo_users(services)
    key = services.api_keys.rotate(created_by="demo")
    metrc_url = f"http://127.0.0.1:{_port(args.metrc_port)}"
    connect_metrc(services, metrc_url)
    services.close()

    tracker_port, apex_port = _port(args.tracker_port), _port(args.apex_port)
    sheets_port = _port(args.sheets_port)
    sheets_url = f"http://127.0.0.1:{sheets_port}"
    tracker_url, apex_url = f"http://127.0.0.1:{tracker_port}", f"http://127.0.0.1:{apex_port}"
    config_path = folder / "apex_config.json"
    config_path.write_text(
        json.dumps(
            {
                "dashboard_url": tracker_url,
                "dashboard_api_key": key,
                "api_base_url": f"{apex_url}/api",
                "api_token": APEX_TOKEN,
                "batch_inventory_sync": {"enabled": True, "interval_seconds": 5},
                "order_refresh_seconds": 30,
                "google_sheets": {
                    "enabled": True,
                    "packing_list_sheet_id": SPREADSHEET,
                    "api_base_url": sheets_url,
                    "excel_path": "packing_list.xlsx",
                },
            },
            indent=2,
        )
    )

    python = sys.executable
    metrc = subprocess.Popen(
        [python, "-m", "simulators.metrc", "--port", metrc_url.rsplit(":", 1)[1]],
        stdout=subprocess.DEVNULL,
    )
    _wait_for(f"{metrc_url}/_sim/requests", {}, metrc)  # before the tracker's first pull
    processes = [
        metrc,
        subprocess.Popen(
            [
                python,
                "-m",
                "tracker_service",
                "serve",
                "--db",
                str(folder / "tracker.db"),
                "--port",
                str(tracker_port),
                "--log-level",
                "warning",
            ]
        ),
        subprocess.Popen(
            [python, "-m", "simulators.apex", "--port", str(apex_port), "--token", APEX_TOKEN],
            stdout=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [
                python,
                "-m",
                "simulators.sheets",
                "--port",
                str(sheets_port),
                "--spreadsheet",
                SPREADSHEET,
            ],
            stdout=subprocess.DEVNULL,
        ),
    ]
    try:
        _wait_for(f"{tracker_url}/api/overview", {"X-API-Key": key}, processes[1])
        _wait_for(f"{apex_url}/_sim/requests", {}, processes[2])
        _wait_for(f"{sheets_url}/v4/spreadsheets/{SPREADSHEET}", {}, processes[3])
        print(
            f"""
Demo running (Ctrl-C stops everything)
  PreRollTracker  : {tracker_url}/   API key: {key}
  Staff web UI    : {tracker_url}/   sign in as {DEMO_USERS[0][0]} / {DEMO_USERS[0][1]} (admin)
                    or {DEMO_USERS[1][0]} / {DEMO_USERS[1][1]} (staff)
  Apex simulator  : {apex_url}/api   token: {APEX_TOKEN}   request log: {apex_url}/_sim/requests
  Sheets simulator: {sheets_url}   the packing list as JSON:
                    {sheets_url}/v4/spreadsheets/{SPREADSHEET}/values/Packing%20List
  METRC simulator : {metrc_url}   license {METRC_LICENSE}; the tracker pulls its packages
                    (METRC page: {tracker_url}/metrc/, request log: {metrc_url}/_sim/requests)
  ApexAPI config  : {config_path}   logs: {folder / "logs"}

Sell 10 Wedding Cake 1 g pre-rolls in the tracker and watch the engine update Apex batches:
  curl -X POST -H 'X-API-Key: {key}' -H 'Content-Type: application/json' \\
    -d '{{"sku": "singles_1g", "units": 10, "idempotency_key": "try-1"}}' \\
    {tracker_url}/api/finished-goods/1A40603000123456/apex-decrement
""",
            flush=True,
        )
        processes.append(
            subprocess.Popen([python, "-m", "tray_app", "--headless", "--config", str(config_path)])
        )
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())

"""``make bench`` (METRC part): pulling a 5,000-package license, steady pulls, and draining
1,000 adjustments queued during an outage, each beside a naive baseline measured in this run.

The METRC simulator runs as its own process (``python -m simulators.metrc``); the tracker's
METRC sync (client, pull planner, outbox sender) runs here on a real SQLite database.
Baselines: a pull that re-reads the whole license every time (no ``lastModified`` window),
and an outbox that sends one adjustment per request (object limit 1).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench._harness import free_port, publish, python_module, server
from tests.fakes.metrc import sim_settings
from tracker_service.finished_goods.schemas import AdjustRequest
from tracker_service.metrc import repository as repo
from tracker_service.services import Services

PACKAGES = 5000
QUEUED = 1000
EXTRA = "1A4060300002EE6"  # the simulator's --extra-packages, 100 g each


@contextmanager
def metrc_simulator(extra: int) -> Iterator[str]:
    port = free_port()
    command = python_module("simulators.metrc", "--port", str(port), "--extra-packages", str(extra))
    with server(command, port) as url:
        yield url


def requests_so_far(url: str) -> list[dict[str, object]]:
    return list(httpx.get(f"{url}/_sim/requests", timeout=60).json())


def connect(services: Services, url: str, object_limit: int) -> None:
    settings = sim_settings(url, pull_interval_seconds=86_400, object_limit=object_limit)
    services.metrc.save_settings(settings, "bench")


def timed_pull(services: Services, url: str) -> tuple[float, int]:
    before = len(requests_so_far(url))
    started = time.perf_counter()
    asyncio.run(services.metrc_worker.pull_now())
    took = time.perf_counter() - started
    return took, len(requests_so_far(url)) - before


def forget_windows(services: Services) -> None:
    """The baseline's pull: as if nothing had been read before (the whole license again)."""
    with services.db.transaction() as conn:
        status = repo.load_pull_status(conn)
        status.windows = {}
        repo.save_pull_status(conn, status)


def pulls(url: str, folder: Path) -> list[str]:
    services = Services.open(folder / "pulls.db")
    connect(services, url, 10)
    first, first_requests = timed_pull(services, url)
    imported = len(services.finished_goods.list_packages())
    steady = [timed_pull(services, url) for _ in range(5)]
    full = []
    for _ in range(3):
        forget_windows(services)
        full.append(timed_pull(services, url))
    services.close()
    steady_time = statistics.median(t for t, _ in steady)
    steady_requests = statistics.median(n for _, n in steady)
    full_time = statistics.median(t for t, _ in full)
    full_requests = statistics.median(n for _, n in full)
    return [
        f"First pull of a {PACKAGES + 12:,}-package license: {first:.1f} s, {first_requests}"
        f" METRC requests (pages of 20, reasons and items included), {imported:,} packages"
        " imported",
        f"  steady pull, nothing changed: {steady_time * 1000:.0f} ms, {steady_requests:.0f}"
        f" requests   (target: at most 2 per list)   baseline, whole license again:"
        f" {full_time:.1f} s, {full_requests:.0f} requests ->"
        f" {full_requests / steady_requests:.0f}x the requests, {full_time / steady_time:.0f}x"
        " the time",
    ]


def drain(url: str, folder: Path, object_limit: int) -> tuple[float, int, int]:
    """Queue ``QUEUED`` adjustments while METRC is down, bring it back, time the drain."""
    services = Services.open(folder / f"drain-{object_limit}.db")
    connect(services, url, object_limit)
    asyncio.run(services.metrc_worker.pull_now())
    packages = services.finished_goods.list_packages()
    labels = [p.metrc_number for p in packages if p.metrc_number.startswith(EXTRA)][:QUEUED]
    httpx.post(f"{url}/_sim/faults", json={"down_seconds": 3600}, timeout=10)
    for label in labels:
        services.finished_goods.adjust(
            label, AdjustRequest(delta_grams=-0.5, reason="Damage"), "bench"
        )
    asyncio.run(services.metrc_worker.step())  # tries once: METRC is down
    httpx.post(f"{url}/_sim/faults", json={"down_seconds": 0}, timeout=10)
    with services.db.transaction() as conn:  # no back-off left to wait out
        conn.execute("UPDATE metrc_outbox SET next_attempt_at = 0 WHERE state = 'pending'")
    before = len(requests_so_far(url))
    started = time.perf_counter()
    while services.metrc.status().outbox.pending:
        asyncio.run(services.metrc_worker.step())
    took = time.perf_counter() - started
    sent = requests_so_far(url)[before:]
    writes = sum(r["method"] == "POST" for r in sent)
    services.close()
    notes = [a["AdjustmentNote"] for a in httpx.get(f"{url}/_sim/adjustments", timeout=60).json()]
    duplicates = len(notes) - len(set(notes))
    return took, writes, duplicates


def adjustment_latency(url: str, folder: Path, count: int = 40) -> list[float]:
    """Seconds from an adjustment's 200 in the running tracker to METRC holding it."""
    db = folder / "served.db"
    services = Services.open(db)
    connect(services, url, 10)
    asyncio.run(services.metrc_worker.pull_now())
    key = services.api_keys.rotate("bench")
    label = "1A40603000123456"  # Wedding Cake, 500 g in the demo license
    services.close()
    port = free_port()
    command = python_module(
        "tracker_service", "serve", "--db", str(db), "--port", str(port), "--log-level", "warning"
    )
    took = []
    with (
        server(command, port, headers={"X-API-Key": key}) as tracker,
        httpx.Client(base_url=tracker, headers={"X-API-Key": key}, timeout=30) as client,
    ):
        for _ in range(count):
            before = len(httpx.get(f"{url}/_sim/adjustments", timeout=30).json())
            answer = client.post(
                f"/api/finished-goods/{label}/adjust",
                json={"delta_grams": -0.5, "reason": "Damage"},
            )
            answer.raise_for_status()
            started = time.perf_counter()
            while len(httpx.get(f"{url}/_sim/adjustments", timeout=30).json()) == before:
                if time.perf_counter() - started > 30:
                    raise RuntimeError("an adjustment did not reach METRC in 30 s")
                time.sleep(0.005)
            took.append(time.perf_counter() - started)
            time.sleep(0.05)
    return took


def main() -> None:
    lines = [""]
    with tempfile.TemporaryDirectory() as tmp, metrc_simulator(PACKAGES) as url:
        folder = Path(tmp)
        lines += pulls(url, folder)
        took, writes, duplicates = drain(url, folder, 10)
    with tempfile.TemporaryDirectory() as tmp, metrc_simulator(0) as url:
        latency = sorted(adjustment_latency(url, Path(tmp)))
        p95 = latency[round(0.95 * (len(latency) - 1))]
        lines.append(
            f"An adjustment recorded in the running tracker reaches METRC in"
            f" {statistics.median(latency) * 1000:.0f} ms (p50), {p95 * 1000:.0f} ms (p95) of"
            f" {len(latency)}   (target p95 <= 10 s)"
        )
    with tempfile.TemporaryDirectory() as tmp, metrc_simulator(PACKAGES) as url:
        base_took, base_writes, base_duplicates = drain(url, Path(tmp), 1)
    lines += [
        f"Outbox drain of {QUEUED:,} adjustments queued during an outage: {took:.1f} s,"
        f" {writes} write requests (10 per request), {duplicates} duplicates   baseline, one per"
        f" request: {base_took:.1f} s, {base_writes} requests, {base_duplicates} duplicates"
        f" -> {base_took / took:.1f}x faster",
    ]
    publish("metrc", "\n".join(lines))


if __name__ == "__main__":
    main()

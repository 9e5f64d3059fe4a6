"""``make bench`` (reports part): a year of data (5,000 batches, 2,000 packages, 200,000 audit
rows), the Reports page and its CSV downloads timed through the real server, each beside a
baseline measured in this run: the bare SQLite read of the same rows (no grouping, no HTML,
no CSV), so the ratio is what the report adds on top of reading the data at all."""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import httpx

from bench._harness import free_port, publish, python_module, server
from tests.fakes.year_of_data import fill_year
from tracker_service.services import Services

RUNS = 5


def timed(call: Callable[[], object]) -> tuple[float, float]:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "tracker.db"
        started = time.perf_counter()
        Services.open(db).close()
        fill_year(db)
        filled = time.perf_counter() - started
        services = Services.open(db)
        services.users.create("bench", "bench-password-1", "admin")
        token = services.sessions.create("bench")
        services.close()
        today = date.today()
        first = (today - timedelta(days=365)).isoformat()
        middle = (today - timedelta(days=180)).isoformat()
        port = free_port()
        command = python_module(
            "tracker_service",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            "--log-level",
            "warning",
        )
        with (
            server(command, port) as url,
            httpx.Client(base_url=url, cookies={"prt_session": token}, timeout=60) as client,
        ):

            def get(path: str) -> Callable[[], object]:
                def call() -> object:
                    answer = client.get(path)
                    assert answer.status_code == 200, answer.text[:300]
                    return answer

                return call

            reads = sqlite3.connect(db)
            cases = [
                (
                    "Reports page, a year by week (+ stock today)",
                    get(f"/reports/?first={first}&last={today}&period=week"),
                    lambda: reads.execute(
                        "SELECT * FROM batches WHERE completed_at >= ?", (first,)
                    ).fetchall(),
                ),
                (
                    "Stock on a day six months ago (CSV)",
                    get(f"/reports/stock.csv?day={middle}"),
                    lambda: reads.execute(
                        "SELECT * FROM audit_log WHERE at < ?", (middle,)
                    ).fetchall(),
                ),
                (
                    "Audit log, the whole year (CSV, 200,000 rows)",
                    get(f"/reports/audit.csv?first={first}&last={today}"),
                    lambda: reads.execute(
                        "SELECT * FROM audit_log WHERE at >= ?", (first,)
                    ).fetchall(),
                ),
                (
                    "Audit log, one package, the whole year (CSV)",
                    get(
                        f"/reports/audit.csv?first={first}&last={today}&metrc_number=1A4060300YEAR00000000042"
                    ),
                    lambda: reads.execute(
                        "SELECT * FROM audit_log WHERE metrc_number = ?",
                        ("1A4060300YEAR00000000042",),
                    ).fetchall(),
                ),
            ]
            lines = [
                "",
                f"Reports on a year of data (5,000 batches, 2,000 packages, 200,000 audit rows;"
                f" generated in {filled:.1f} s), through the server, median / slowest of {RUNS}:",
            ]
            for name, report, baseline in cases:
                p50, worst = timed(report)
                base, _ = timed(baseline)
                lines.append(
                    f"  {name:48} {p50 * 1000:7.0f} ms / {worst * 1000:6.0f} ms"
                    f"   (target < 1 s)   bare SQLite read {base * 1000:6.0f} ms ->"
                    f" {p50 / base:5.1f}x"
                )
            reads.close()
    publish("reports", "\n".join(lines))


if __name__ == "__main__":
    main()

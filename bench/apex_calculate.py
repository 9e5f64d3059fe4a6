"""``make bench``: GET /apex-calculate, ours beside a Flask baseline and a memory ceiling.

All three read the same data and are loaded by the same wrk settings in the same run:
- ours: ``preroll-tracker serve`` (Litestar + msgspec, computed on write, served from memory)
- baseline: Flask + stdlib json computing per request from the same SQLite file (gunicorn)
- ceiling: the same Litestar + uvicorn stack answering the same bytes from a constant
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import httpx

from bench._harness import LoadResult, free_port, publish, python_module, server, wrk
from bench.dataset import build

ROUNDS = 3


def _ours(db: Path, port: int, key: str) -> tuple[list[str], dict[str, str], dict[str, str]]:
    cmd = python_module(
        "tracker_service", "serve", "--db", str(db), "--port", str(port), "--log-level", "warning"
    )
    return cmd, {}, {"X-API-Key": key}


def measure(packages: int, seconds: int, connections: int, folder: Path) -> dict[str, object]:
    db = folder / f"tracker-{packages}.db"
    key = build(db, packages)
    headers = {"X-API-Key": key}
    results: dict[str, object] = {"packages": packages}

    port = free_port()
    cmd, env, _ = _ours(db, port, key)
    with server(cmd, port, env, headers) as url:
        answer = httpx.get(f"{url}/apex-calculate", headers=headers)
        body, etag = answer.content, answer.headers["etag"]
        results["body_bytes"] = len(body)
        (folder / "body.json").write_bytes(body)
        ceiling_port = free_port()
        ceiling = python_module(
            "uvicorn",
            "bench.ceiling_app:app",
            "--port",
            str(ceiling_port),
            "--log-level",
            "warning",
            "--no-access-log",
        )
        with server(ceiling, ceiling_port, {"BENCH_BODY": str(folder / "body.json")}) as top:
            # Ours and the ceiling take turns, ROUNDS times each, and the median run counts:
            # one 5 s run of a 2 MB answer swung by 1.5x between two runs of the same server.
            ours_runs, ceiling_runs = [], []
            for _ in range(ROUNDS):
                ours_runs.append(wrk(f"{url}/apex-calculate", headers, seconds, connections))
                ceiling_runs.append(wrk(f"{top}/apex-calculate", {}, seconds, connections))
        results["ours"], results["ceiling"] = median_run(ours_runs), median_run(ceiling_runs)
        results["ours_304"] = wrk(
            f"{url}/apex-calculate", headers | {"If-None-Match": etag}, seconds, connections
        )

    port = free_port()
    flask = python_module(
        "gunicorn",
        "bench.flask_baseline:app",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "1",
        "-k",
        "gthread",
        "--threads",
        "4",
        "--log-level",
        "warning",
    )
    with server(flask, port, {"BENCH_DB": str(db)}, headers) as url:
        flask_body = httpx.get(f"{url}/apex-calculate", headers=headers, timeout=60).json()
        results["flask"] = wrk(f"{url}/apex-calculate", headers, seconds, connections)
    ours = json.loads(body)
    results["flask_unit_mismatches"] = sum(
        ours[tag]["units"] != flask_body.get(tag, {}).get("units") for tag in ours
    )
    return results


def median_run(runs: list[LoadResult]) -> LoadResult:
    """The run with the median throughput."""
    return sorted(runs, key=lambda run: run.requests_per_second)[len(runs) // 2]


def _row(name: str, r: LoadResult) -> str:
    return (
        f"  {name:<34} {r.requests_per_second:>10.0f} req/s   p50 {r.p50_ms:>8.2f} ms   "
        f"p99 {r.p99_ms:>8.2f} ms   errors {r.errors}"
    )


def report(all_results: list[dict[str, object]]) -> str:
    lines = [
        "",
        "GET /apex-calculate (wrk, 1 thread, same connections for every server; ours and the",
        f"ceiling: median of {ROUNDS} alternating runs)",
    ]
    for res in all_results:
        ours, ceiling, flask, cached = (res["ours"], res["ceiling"], res["flask"], res["ours_304"])
        assert isinstance(ours, LoadResult) and isinstance(ceiling, LoadResult)
        assert isinstance(flask, LoadResult) and isinstance(cached, LoadResult)
        speedup = ours.requests_per_second / flask.requests_per_second
        gap = ceiling.requests_per_second / ours.requests_per_second
        lines += [
            f"\n{res['packages']:,} active packages ({res['body_bytes']:,} bytes per answer)",
            _row("ours (preroll-tracker serve)", ours),
            _row("ours, 304 Not Modified (ETag)", cached),
            _row("ceiling (same bytes from memory)", ceiling),
            _row("Flask + stdlib json baseline", flask),
            f"  ours / Flask baseline            {speedup:>10.1f} x   (target: at least 30 x)",
            f"  ceiling / ours                   {gap:>10.2f} x   (target: at most 1.5 x)",
            f"  Flask answers whose units differ from ours: {res['flask_unit_mismatches']}"
            " (float division; ours divides integer milligrams)",
        ]
    if len(all_results) >= 2:
        small, large = all_results[0], all_results[-1]
        assert isinstance(small["ours"], LoadResult) and isinstance(large["ours"], LoadResult)
        growth_n = int(large["packages"]) / int(small["packages"])  # type: ignore[call-overload]
        growth_t = small["ours"].requests_per_second / large["ours"].requests_per_second
        lines.append(
            f"\nGrowth {small['packages']:,} -> {large['packages']:,} packages "
            f"({growth_n:.0f} x the data): ours takes {growth_t:.1f} x the time per "
            "request (linear or better means at most "
            f"{growth_n:.0f} x)"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packages", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        results = [measure(n, args.seconds, args.connections, Path(tmp)) for n in args.packages]
    text = report(results)
    publish("apex_calculate", text)


if __name__ == "__main__":
    main()

"""``make bench`` (engine part): freshness, idle cost and a 1,000-batch burst.

The tracker runs as its own process (``preroll-tracker serve``); the Apex simulator and the
engine run in this process, each on its own thread and event loop, as in the tests.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import msgspec

from bench._harness import free_port, publish, python_module, server
from simulators.apex.app import create_apex_app
from simulators.apex.state import ApexState
from simulators.serve import ServerThread
from sync_engine.config import Config, decode_config
from tests.fakes.engine_thread import EngineThread
from tracker_service.services import Services

TAG = "1A4060300002EE1000000001"


@contextmanager
def tracker(folder: Path, packages: list[tuple[str, str, float]]) -> Iterator[tuple[str, str]]:
    services = Services.open(folder / "tracker.db")
    from tracker_service.finished_goods.schemas import PackageCreate

    for tag, strain, grams in packages:
        services.finished_goods.create(
            PackageCreate(metrc_number=tag, strain=strain, initial_grams=grams), "bench"
        )
    key = services.api_keys.rotate("bench")
    services.close()
    port = free_port()
    cmd = python_module(
        "tracker_service",
        "serve",
        "--db",
        str(folder / "tracker.db"),
        "--port",
        str(port),
        "--log-level",
        "warning",
    )
    with server(cmd, port, headers={"X-API-Key": key}) as url:
        yield url, key


def config(
    tracker_url: str, key: str, apex_url: str, order_refresh: int | None = None, **sync: object
) -> Config:
    """Orders are fetched only when ``order_refresh`` is given (seconds)."""
    settings = {"enabled": True, "interval_seconds": 5, "mapping_ttl_seconds": 300} | sync
    return decode_config(
        msgspec.json.encode(
            {
                "dashboard_url": tracker_url,
                "dashboard_api_key": key,
                "api_base_url": apex_url,
                "api_token": "sim-token",
                "batch_inventory_sync": settings,
                "auto_refresh_enabled": order_refresh is not None,
                "order_refresh_seconds": order_refresh or 120,
            }
        )
    )


def wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError("benchmark condition not reached")
        time.sleep(0.002)


def freshness(changes: int, change_feed: bool, spacing: float) -> list[float]:
    """Seconds from an acknowledged apex-decrement to the PATCH arriving at the simulator.

    Changes come ``spacing`` seconds apart plus a random part, so they fall at every phase
    of the engine's poll and stay under Apex's 15 requests per second (faster changes would
    measure the rate limit, not the engine).
    """
    rng = random.Random(4)
    state = ApexState()
    product = state.add_product("CannaDart - Wedding Cake 0.5g")
    batch = state.add_batch(product, 0)
    latencies: list[float] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        ServerThread(create_apex_app(state)) as apex_url,
        tracker(Path(tmp), [(TAG, "Wedding Cake", 100_000)]) as (url, key),
        EngineThread(
            config(url, key, f"{apex_url}/api"),
            Path(tmp) / "s.json",
            long_poll=25,
            change_feed=change_feed,
        ),
        httpx.Client(base_url=url, headers={"X-API-Key": key}) as client,
    ):
        wait_for(lambda: state.quantity(batch) == 200_000, 30)
        for i in range(changes):
            time.sleep(spacing * rng.random())
            expected = 200_000 - (i + 1)
            client.post(
                f"/api/finished-goods/{TAG}/apex-decrement",
                json={"sku": "singles_0_5g", "units": 1, "idempotency_key": f"f{i}"},
            )
            acknowledged = time.time()
            wait_for(lambda e=expected: state.quantity(batch) == e, 30)
            patch = [
                r
                for r in state.requests_matching("PATCH")
                if f'"quantity":{expected}'.encode() in r.body.replace(b" ", b"")
            ][-1]
            latencies.append(patch.at - acknowledged)
    return latencies


def idle(speedup: float, minutes: float) -> dict[str, int]:
    """Apex and tracker traffic over ``minutes`` with no change (timings scaled by ``speedup``)."""
    state = ApexState()
    for i in range(20):
        state.add_batch(state.add_product(f"CannaDart - Strain{i} 0.5g"), 0)
    for i in range(3):  # a live account has orders; the next fetch starts after the newest
        state.add_order(buyer=f"Store {i}", items=[{"product_id": 5000 + 2 * i, "quantity": 2}])
    seconds = minutes * 60 / speedup
    with (
        tempfile.TemporaryDirectory() as tmp,
        ServerThread(create_apex_app(state)) as apex_url,
        tracker(Path(tmp), [(f"1A40603000{i:06d}", f"Strain{i}", 100) for i in range(20)]) as (
            url,
            key,
        ),
        EngineThread(
            # The default order refresh (10 s) scaled too, below the config's own minimum.
            msgspec.structs.replace(
                config(
                    url,
                    key,
                    f"{apex_url}/api",
                    interval_seconds=5 / speedup,
                    mapping_ttl_seconds=max(1, round(300 / speedup)),
                    order_refresh=10,
                ),
                order_refresh_seconds=10 / speedup,
            ),
            Path(tmp) / "s.json",
            long_poll=25,
        ) as running,
    ):
        wait_for(lambda: len(state.requests_matching("PATCH")) == 20, 30)
        before = len(state.requests)
        assert running.engine is not None
        engine = running.engine
        cycles = engine.cycles
        time.sleep(seconds)
        window = state.requests[before:]
    return {
        "apex_requests": len(window),
        "patches": sum(r.method == "PATCH" for r in window),
        "order_fetches": sum("shipping-orders" in r.path for r in window),
        "full_downloads": _repeated_first_queries(state, before),
        "cycles": engine.cycles - cycles,
    }


def _repeated_first_queries(state: ApexState, start: int) -> int:
    """List requests after ``start`` that repeat a path's very first query: a full download."""
    first: dict[str, str] = {}
    for request in state.requests[:start]:
        first.setdefault(request.path, request.query.split("&page=")[0])
    return sum(
        r.method == "GET" and r.query.split("&page=")[0] == first.get(r.path)
        for r in state.requests[start:]
    )


def burst(batches: int) -> tuple[float, int, int]:
    """Time to push ``batches`` changed quantities, and the 429 answers met."""
    state = ApexState()
    for i in range(batches):
        state.add_batch(state.add_product(f"CannaDart - Strain{i:04d} 0.5g"), 0)
    with (
        tempfile.TemporaryDirectory() as tmp,
        ServerThread(create_apex_app(state)) as apex_url,
        tracker(
            Path(tmp), [(f"1A40603000{i:06d}", f"Strain{i:04d}", 50) for i in range(batches)]
        ) as (url, key),
    ):
        started = time.monotonic()
        with EngineThread(config(url, key, f"{apex_url}/api"), Path(tmp) / "s.json"):
            wait_for(lambda: len(state.requests_matching("PATCH")) >= batches, 600)
            took = time.monotonic() - started
    statuses = [r.status for r in state.requests]
    return took, statuses.count(429), sum(r.method == "PATCH" for r in state.requests)


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def main() -> None:
    import argparse
    import logging

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="freshness only, fewer changes")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    if args.quick:
        feed = freshness(50, change_feed=True, spacing=0.3)
        print(f"change feed: p50 {_ms(feed, 0.5):.1f} ms  p95 {_ms(feed, 0.95):.1f} ms")
        return
    feed = freshness(200, change_feed=True, spacing=0.3)
    polling = freshness(20, change_feed=False, spacing=5.0)
    lines = [
        "",
        "Sync engine: change in the tracker -> PATCH at the Apex simulator",
        "  (one change every 0-0.3 s with the feed, every 0-5 s with polling only)",
        f"  change feed on  ({len(feed)} changes): p50 {_ms(feed, 0.5):7.1f} ms   "
        f"p95 {_ms(feed, 0.95):7.1f} ms   max {max(feed) * 1000:7.1f} ms   (target p95 <= 250 ms)",
        f"  polling only    ({len(polling)} changes, interval 5 s): p50 {_ms(polling, 0.5):7.1f} ms"
        f"   p95 {_ms(polling, 0.95):7.1f} ms   mean {statistics.mean(polling) * 1000:7.1f} ms",
        f"  p95 ratio polling / change feed: {_ms(polling, 0.95) / _ms(feed, 0.95):.0f} x",
    ]
    minutes = 10
    quiet = idle(speedup=10, minutes=minutes)
    lines += [
        f"Idle: {minutes} minutes with no change (timings scaled 10x: 5 s poll -> 0.5 s, 300 s"
        " mapping TTL -> 30 s, 10 s order refresh -> 1 s)",
        f"  Apex requests {quiet['apex_requests']} = {quiet['apex_requests'] / minutes:.1f} per"
        f" minute (order fetches {quiet['order_fetches']}), PATCHes {quiet['patches']}, full"
        f" re-downloads {quiet['full_downloads']}, sync cycles {quiet['cycles']}"
        "   (target: 0 PATCHes, no full re-download)",
    ]
    took, limited, sent = burst(1000)
    lines += [
        f"Burst: 1,000 changed batches pushed in {took:.1f} s ({sent} PATCHes, "
        f"{sent / took:.1f}/s) with {limited} answers of 429   (target: no 429)",
    ]
    text = "\n".join(lines)
    publish("sync_engine", text)


if __name__ == "__main__":
    main()

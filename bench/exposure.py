"""``make bench`` (exposure part): one simulated trading day against the Apex simulator.

Seeded: about 200 orders from simulated buyers over 8 hours (a realistic SKU mix, two rush
periods), two production runs and a few damage adjustments in the tracker. Every buyer orders
only what Apex shows at that moment. Three set-ups see the same day side by side, each in its
own process (its own GIL) with its own tracker process, Apex simulator and engine:

- the guide's design: the tracker polled every 5 s, orders every 120 s, shared allocation;
- ours, shared: the change feed, orders every 10 s (5 s while they flow);
- ours, split: the same with split allocation.

The day is compressed (``--speedup``; every engine interval is divided by it, so the design is
the same, only faster); the engine's own work (HTTP, SQLite) is not, so our numbers carry a
small handicap. Apex's documentation does not say whether an order lowers the batch it names,
so both are measured: Apex leaves the batch alone (the engine alone sets it), and Apex lowers
it at once.

Per set-up: oversold grams (ordered beyond what the strain really had), oversell exposure in
unit-seconds (over every batch, the time Apex showed units beyond the truth, times how many),
undersell exposure the same way, how long after an order every batch of its strain stopped
showing units that are gone (p50 / p95), Apex requests per simulated hour, and batches not in
step once the day is over (must be 0). The truth of a batch is the whole units the strain's
real grams (produced, less damage, less every order placed) would make.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import msgspec

from bench._harness import publish
from bench.sync_engine import config as engine_config
from bench.sync_engine import tracker
from preroll_contract import mg_from_grams
from simulators.apex.app import create_apex_app
from simulators.apex.state import ApexState
from simulators.serve import ServerThread
from sync_engine.config import Config
from sync_engine.engine import SyncEngine
from sync_engine.planners.inventory import InventorySettings, plan_inventory
from sync_engine.tracker_models import PackageCalc
from tests.fakes.engine_thread import EngineThread

STRAINS = {"Wedding Cake": 0.35, "Blue Dream": 0.30, "Gelato": 0.20, "Sour Diesel": 0.15}
STOCK_GRAMS = {"Wedding Cake": 420, "Blue Dream": 330, "Gelato": 250, "Sour Diesel": 160}
#: SKU → (product name pattern, grams per sale unit in mg, share of items, units wanted)
SKUS = {
    "singles_0_5g": ("CannaDart - {} 0.5g", 500, 0.35, (2, 14)),
    "singles_1g": ("CannaDart - {} 1g", 1000, 0.35, (2, 12)),
    "box_0_5g_6pk": ("Magnetic Box - {} 6pk", 3000, 0.20, (1, 4)),
    "box_0_5g_12pk": ("Magnetic Box - {} 12pk", 6000, 0.10, (1, 2)),
}
#: 8 simulated hours in 24 minutes; see the module docstring for what compression costs us.
SPEEDUP = 20.0


@dataclass(frozen=True)
class Event:
    at: float  # simulated seconds into the day
    kind: str  # "order", "produce", "adjust"
    strain: str = ""
    grams: float = 0.0
    items: tuple[tuple[str, str, int], ...] = ()  # (strain, sku, units wanted)
    buyer: str = ""


def trading_day(seed: int, orders: int, hours: float) -> list[Event]:
    """The day's events: orders (a third of them in two rush periods), production, damage."""
    rng = random.Random(seed)
    length = hours * 3600
    rushes = [(0.2 * length, 0.05 * length), (0.65 * length, 0.05 * length)]
    times = []
    for i in range(orders):
        if i % 3 == 0:
            start, width = rushes[i % 2]
            times.append(start + rng.random() * width)
        else:
            times.append(rng.random() * length)
    events = []
    for n, at in enumerate(sorted(times)):
        items = []
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            strain = rng.choices(list(STRAINS), weights=list(STRAINS.values()))[0]
            sku = rng.choices(list(SKUS), weights=[s[2] for s in SKUS.values()])[0]
            low, high = SKUS[sku][3]
            items.append((strain, sku, rng.randint(low, high)))
        events.append(Event(at, "order", items=tuple(items), buyer=f"Store {n % 37}"))
    for fraction, share in ((0.3, 0.5), (0.6, 0.4)):
        for strain in STRAINS:
            events.append(
                Event(
                    fraction * length + rng.random() * 600,
                    "produce",
                    strain,
                    STOCK_GRAMS[strain] * share,
                )
            )
    for _ in range(max(1, round(6 * hours / 8))):
        events.append(
            Event(rng.random() * length, "adjust", rng.choice(list(STRAINS)), -rng.randint(1, 8))
        )
    return sorted(events, key=lambda e: e.at)


@dataclass
class Setup:
    name: str
    allocation: str
    guide: bool


SETUPS = [
    Setup("guide's design", "shared", guide=True),
    Setup("ours, shared", "shared", guide=False),
    Setup("ours, split", "split", guide=False),
]
#: (Apex lowers an ordered batch itself, set-up): each runs in its own process.
MODELS = [(lowers, setup) for lowers in (False, True) for setup in SETUPS]


@dataclass
class Stack:
    """One set-up: its Apex simulator, tracker and engine, and the day as it saw it."""

    setup: Setup
    lowers: bool  # whether Apex lowers an ordered batch itself
    apex: ApexState
    client: httpx.Client
    batches: dict[tuple[str, str], int]
    engine: EngineThread | None = None
    packages: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: (time.monotonic(), strain, real grams left in mg) at every change
    truth: list[tuple[float, str, int]] = field(default_factory=list)
    remaining: dict[str, int] = field(default_factory=dict)
    at_start: dict[str, int] = field(default_factory=dict)
    produced: int = 0
    oversold_mg: int = 0
    ordered_mg: int = 0
    orders: list[tuple[float, str, int]] = field(default_factory=list)  # (when, strain, mg)

    def note(self, strain: str, delta_mg: int) -> None:
        self.remaining[strain] += delta_mg
        self.truth.append((time.monotonic(), strain, self.remaining[strain]))


def catalogue(state: ApexState) -> dict[tuple[str, str], int]:
    batches = {}
    for strain in STRAINS:
        for sku, (pattern, *_rest) in SKUS.items():
            product = state.add_product(pattern.format(strain))
            batches[(strain, sku)] = state.add_batch(product, 0)
    return batches


def scaled(config: Config, speedup: float, setup: Setup) -> Config:
    """Every interval of the design divided by ``speedup`` (past the config's own limits)."""
    sync = msgspec.structs.replace(
        config.batch_inventory_sync,
        interval_seconds=5 / speedup,
        mapping_ttl_seconds=300 / speedup,
        allocation=setup.allocation,
    )
    refresh = (120 if setup.guide else 10) / speedup
    return msgspec.structs.replace(
        config,
        batch_inventory_sync=sync,
        order_refresh_seconds=refresh,
    )


def tune(setup: Setup, speedup: float) -> object:
    def apply(engine: SyncEngine) -> None:
        refresh = float(engine.config.order_refresh_seconds)
        # The guide's design has no faster polling while orders flow.
        engine.flowing_poll_seconds = refresh if setup.guide else 5 / speedup
        engine.flowing_window_seconds = 600 / speedup
        # Apex's 15 requests per second are a real-time limit: compressed, they are 15 per
        # simulated second, or the client would wait out the limit in real seconds.
        engine.apex.limiter.window /= speedup

    return apply


@contextmanager
def running_stacks(speedup: float, chosen: list[int] | None = None) -> Iterator[list[Stack]]:
    """The chosen set-ups (indexes into ``MODELS``; all by default), each with its own tracker
    process, Apex simulator and engine."""
    with ExitStack() as stack:
        stacks = []
        for number, (lowers, setup) in enumerate(MODELS):
            if chosen is not None and number not in chosen:
                continue
            state = ApexState(rate_limit_per_second=15 * 1000, orders_lower_batches=lowers)
            batches = catalogue(state)
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            start = [
                (f"1A4060300002EE{number:02d}{i:08d}", strain, float(grams))
                for i, (strain, grams) in enumerate(STOCK_GRAMS.items())
            ]
            url, key = stack.enter_context(tracker(folder, start))
            apex_url = stack.enter_context(ServerThread(create_apex_app(state)))
            client = stack.enter_context(
                httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30)
            )
            item = Stack(setup, lowers, state, client, batches)
            for tag, strain, grams in start:
                item.packages[strain].append(tag)
                item.remaining[strain] = mg_from_grams(grams)
            config = scaled(
                engine_config(url, key, f"{apex_url}/api", order_refresh=10), speedup, setup
            )
            item.engine = stack.enter_context(
                EngineThread(
                    config,
                    folder / "state.json",
                    long_poll=25,
                    change_feed=not setup.guide,
                    setup=tune(setup, speedup),  # type: ignore[arg-type]
                )
            )
            stacks.append(item)
        for item in stacks:  # the day starts with every batch showing the tracker's units
            wait_for(lambda item=item: all(item.apex.quantity(b) for b in item.batches.values()))
        yield stacks


def wait_for(predicate: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError("the set-up did not settle")
        time.sleep(0.05)


def play(
    stacks: list[Stack], events: list[Event], speedup: float, start: float
) -> tuple[float, float]:
    """Apply the day to every set-up at its (compressed) time from ``start``; returns (start,
    end) in time.monotonic()."""
    time.sleep(max(0.0, start - time.monotonic()))
    for event in events:
        delay = start + event.at / speedup - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        threads = [threading.Thread(target=apply, args=(item, event)) for item in stacks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return start, time.monotonic()


def apply(item: Stack, event: Event) -> None:
    match event.kind:
        case "order":
            lines = []
            for strain, sku, wanted in event.items:
                batch = item.batches[(strain, sku)]
                shown = int(item.apex.quantity(batch) or 0)
                units = min(wanted, shown)  # a buyer orders only what Apex shows
                if units > 0:
                    lines.append((strain, sku, batch, units))
            if not lines:
                return
            item.apex.add_order(
                buyer=event.buyer,
                items=[
                    {"product_id": item.apex.batches[b]["product_id"], "batch_id": b, "quantity": u}
                    for _, _, b, u in lines
                ],
            )
            for strain, sku, _, units in lines:
                grams = units * SKUS[sku][1]
                item.ordered_mg += grams
                item.oversold_mg += max(0, grams - max(0, item.remaining[strain]))
                item.note(strain, -grams)
                item.orders.append((time.monotonic(), strain, grams))
        case "produce":
            item.produced += 1
            tag = f"1A4060300002FF{SETUPS.index(item.setup):02d}{item.produced:08d}"
            answer = item.client.post(
                "/api/finished-goods",
                json={"metrc_number": tag, "strain": event.strain, "initial_grams": event.grams},
            )
            answer.raise_for_status()
            item.packages[event.strain].append(tag)
            item.note(event.strain, mg_from_grams(event.grams))
        case "adjust":
            for tag in item.packages[event.strain]:
                current = item.client.get(f"/api/finished-goods/{tag}").json()["current_grams"]
                if current >= -event.grams:
                    item.client.post(
                        f"/api/finished-goods/{tag}/adjust",
                        json={"delta_grams": event.grams, "reason": "Damage"},
                    ).raise_for_status()
                    item.note(event.strain, -mg_from_grams(-event.grams))
                    return


class Outcome(msgspec.Struct):
    oversold_g: float
    ordered_g: float
    over_unit_s: float
    under_unit_s: float
    hidden_gram_h: float
    latencies: list[float]
    requests_per_hour: float
    drift: int


def measure(item: Stack, start: float, end: float, speedup: float, hours: float) -> Outcome:
    unit = {b: SKUS[sku][1] for (_, sku), b in item.batches.items()}
    strain_of = {b: strain for (strain, _), b in item.batches.items()}
    shown: dict[int, list[tuple[float, float]]] = defaultdict(list)
    with item.apex.lock:
        history = list(item.apex.history)
    for batch in item.batches.values():
        before = [q for t, b, q in history if b == batch and t <= start]
        shown[batch].append((start, float(before[-1] or 0) if before else 0.0))
    for at, batch, quantity in history:
        if at > start:
            shown[batch].append((at, float(quantity or 0)))
    truth: dict[str, list[tuple[float, float]]] = {
        strain: [(start, float(item.at_start[strain]))] for strain in STRAINS
    }
    for at, strain, left in item.truth:
        truth[strain].append((at, float(left)))

    def truth_units(batch: int, at: float, plus_mg: float = 0.0) -> float:
        return max(0.0, _value(truth[strain_of[batch]], at) + plus_mg) // unit[batch]

    over, under, hidden = 0.0, 0.0, 0.0
    for strain in STRAINS:
        batches = [b for b in item.batches.values() if strain_of[b] == strain]
        moments = sorted(
            {start, end}
            | {t for b in batches for t, _ in shown[b] if start < t < end}
            | {t for t, _ in truth[strain] if start < t < end}
        )
        for since, until in itertools.pairwise(moments):
            span = (until - since) * speedup
            offered_mg = 0.0
            for batch in batches:
                showing = _value(shown[batch], since)
                gap = showing - truth_units(batch, since)
                over += max(0.0, gap) * span
                under += max(0.0, -gap) * span
                offered_mg += showing * unit[batch]
            real_mg = max(0.0, _value(truth[strain], since))
            hidden += max(0.0, real_mg - offered_mg) / 1000 * span / 3600
    latencies = []
    for placed, strain, _ in item.orders:
        batches = [b for b in item.batches.values() if strain_of[b] == strain]
        later = [(t, mg) for t, s, mg in item.orders if s == strain and t > placed]
        moments = sorted(
            {placed}
            | {t for b in batches for t, _ in shown[b] if t > placed}
            | {t for t, _ in truth[strain] if t > placed}
        )

        def settled(
            at: float, batches: list[int] = batches, later: list[tuple[float, int]] = later
        ) -> bool:
            # Orders placed after this one are not this one's to show: they are added back.
            again = sum(mg for t, mg in later if t <= at)
            return all(_value(shown[b], at) <= truth_units(b, at, again) for b in batches)

        when = next((t for t in moments if settled(t)), end)
        latencies.append((when - placed) * speedup)
    wall = time.time() - time.monotonic()  # the request log keeps wall-clock times
    requests = [r for r in item.apex.requests if start + wall <= r.at <= end + wall]
    return Outcome(
        oversold_g=item.oversold_mg / 1000,
        ordered_g=item.ordered_mg / 1000,
        over_unit_s=over,
        under_unit_s=under,
        hidden_gram_h=hidden,
        latencies=latencies,
        requests_per_hour=len(requests) / hours,
        drift=drift(item),
    )


def _value(series: list[tuple[float, float]], at: float) -> float:
    value = series[0][1]
    for moment, quantity in series:
        if moment > at:
            break
        value = quantity
    return value


def drift(item: Stack) -> int:
    """Batches whose Apex quantity is not what the tracker's final numbers call for."""
    assert item.engine is not None and item.engine.engine is not None
    engine = item.engine.engine
    snapshot = engine.reader.current
    assert snapshot.mapping is not None
    packages = msgspec.json.decode(
        item.client.get("/apex-calculate").content, type=dict[str, PackageCalc]
    )
    settings = InventorySettings(allocation=item.setup.allocation)
    plan = plan_inventory(packages, snapshot.mapping, {}, settings, demand=snapshot.demand)
    return sum(1 for batch, target in plan.targets.items() if item.apex.quantity(batch) != target)


def run_one(number: int, events: list[Event], speedup: float, hours: float, at: float) -> Outcome:
    """One set-up in this process; the day starts at wall-clock time ``at``."""
    with running_stacks(speedup, [number]) as stacks:
        item = stacks[0]
        item.at_start = dict(item.remaining)
        start, end = play(stacks, events, speedup, time.monotonic() + at - time.time())
        end = max(end, start + hours * 3600 / speedup)
        time.sleep(max(0.0, end - time.monotonic()))
        # Idle: every set-up gets time to catch up (the guide's orders come every 120 s).
        time.sleep(max(3.0, 3 * 120 / speedup))
        return measure(item, start, end, speedup, hours)


def run(args: argparse.Namespace) -> list[Outcome]:
    """Every set-up in its own process (one GIL each), all starting the day together."""
    at = time.time() + 30  # time enough for every process to set up
    common = ["--speedup", str(args.speedup), "--orders", str(args.orders)]
    common += ["--hours", str(args.hours), "--seed", str(args.seed), "--start-at", str(at)]
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.exposure", "--one", str(n), *common],
            stdout=subprocess.PIPE,
        )
        for n in range(len(MODELS))
    ]
    outcomes = []
    for process in runs:
        out, _ = process.communicate()
        if process.returncode:
            raise RuntimeError(f"a set-up failed (exit {process.returncode})")
        outcomes.append(msgspec.json.decode(out.splitlines()[-1], type=Outcome))
    return outcomes


def _q(values: list[float], q: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(title: str, outcomes: list[Outcome]) -> list[str]:
    lines = [title]
    lines.append(
        f"  {'':16}{'oversold g':>11}{'ordered g':>10}{'over unit-s':>13}{'under unit-s':>14}"
        f"{'hidden g-h':>12}{'order->all p50':>16}{'p95':>8}{'Apex req/h':>12}{'drift':>7}"
    )
    for setup, o in zip(SETUPS, outcomes, strict=True):
        lines.append(
            f"  {setup.name:16}{o.oversold_g:11.1f}{o.ordered_g:10.1f}{o.over_unit_s:13,.0f}"
            f"{o.under_unit_s:14,.0f}{o.hidden_gram_h:12,.1f}"
            f"{_q(o.latencies, 0.5):15.1f}s{_q(o.latencies, 0.95):7.1f}s"
            f"{o.requests_per_hour:12,.0f}{o.drift:7d}"
        )
    guide, shared, split = outcomes
    ratio = guide.over_unit_s / shared.over_unit_s if shared.over_unit_s else float("inf")
    lines.append(
        f"  oversell exposure, guide / ours shared: {ratio:.1f} x   (target: at least 20 x); "
        f"ours split oversold {split.oversold_g:.1f} g   (target: 0)"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--speedup", type=float, default=SPEEDUP)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    events = trading_day(args.seed, args.orders, args.hours)
    if args.one is not None:
        outcome = run_one(args.one, events, args.speedup, args.hours, args.start_at)
        sys.stdout.buffer.write(msgspec.json.encode(outcome) + b"\n")
        return
    orders = sum(e.kind == "order" for e in events)
    lines = [
        "",
        f"A simulated trading day: {orders} orders over {args.hours:g} h (seed {args.seed}), "
        f"2 production runs, {sum(e.kind == 'adjust' for e in events)} damage adjustments; "
        f"compressed {args.speedup:g}x (six set-ups at once, one process each)",
    ]
    results = run(args)
    for lowers, title in (
        (False, "Apex leaves a batch alone when an order is placed (the engine sets it):"),
        (True, "Apex lowers the ordered batch at once:"),
    ):
        lines += report(
            title, [o for (low, _), o in zip(MODELS, results, strict=True) if low == lowers]
        )
    lines.append(
        "  over / under: units Apex showed beyond / short of what the strain's real grams make,"
        " times simulated seconds (split shows each SKU a share, so 'under' is large by design);"
        " hidden: grams no batch offered at all, times hours; order->all: until every batch of"
        " the strain stopped showing the order's grams (simulated seconds)"
    )
    publish("exposure", "\n".join(lines))


if __name__ == "__main__":
    main()

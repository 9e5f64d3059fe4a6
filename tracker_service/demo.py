"""``python -m tracker_service.demo``: a tracker on a demo database, ready to poke at.

Seeds a few strains and finished-goods packages on first run (the guide's Wedding Cake
example among them), issues a fresh API key, prints the URL and the key, and serves until
Ctrl-C.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from tracker_service.batches.schemas import AdvanceRequest, BatchCreate
from tracker_service.finished_goods.schemas import (
    CustomSkuBody,
    DecrementRequest,
    HoldCreate,
    PackageCreate,
    PackageUpdate,
    SkuSettingUpdate,
)
from tracker_service.services import Services

__all__ = ["DEMO_USERS", "ensure_demo_users", "main", "seed_demo_data"]

DEMO_ACTOR = "demo-seed"
#: Demo logins (never use these outside the demo).
DEMO_USERS = (("admin", "demo-admin-pass", "admin"), ("floor", "demo-floor-pass", "staff"))


def ensure_demo_users(services: Services) -> None:
    existing = {user.username for user in services.users.list_users()}
    for username, password, role in DEMO_USERS:
        if username not in existing:
            services.users.create(username, password, role)


def _seed_batches(services: Services) -> None:
    batches = services.batches
    plans = [
        ("Gelato", 300, 1.0, 280, 2),
        ("Wedding Cake", 250, 0.5, 480, 1),
        ("Sour Diesel", 120, 0.5, 220, 0),
    ]
    for strain, flower, size, target, steps in plans:
        row = batches.create(
            BatchCreate(
                strain=strain, flower_grams_in=flower, preroll_size_g=size, target_count=target
            ),
            DEMO_ACTOR,
        )
        for _ in range(steps):
            batches.advance(row.id, AdvanceRequest(), DEMO_ACTOR, is_admin=True)


def seed_demo_data(services: Services) -> bool:
    """Fill an empty database with demo packages; False when it already holds packages."""
    fg = services.finished_goods
    if fg.list_packages():
        return False
    packages = [
        ("1A40603000123456", "Wedding Cake", 500),
        ("1A4060300002EE1000012345", "Blue Dream", 1250.5),
        ("1A4060300002EE1000012346", "Gelato", 320),
        ("1A4060300002EE1000012347", "Gelato", 180.25),
        ("1A4060300002EE1000012348", "Sour Diesel", 75),
        ("1A4060300002EE1000012349", "Northern Lights", 40),
    ]
    for tag, strain, grams in packages:
        fg.create(PackageCreate(metrc_number=tag, strain=strain, initial_grams=grams), DEMO_ACTOR)
    blue_dream = packages[1][0]
    fg.put_custom_sku(
        blue_dream,
        CustomSkuBody(key="cannadart_0_8g", name="CannaDart", grams_per_unit=0.8, pack_size=1),
        DEMO_ACTOR,
        replace=True,
    )
    fg.put_custom_sku(
        blue_dream,
        CustomSkuBody(key="cocoa_blunt_1g", name="Cocoa Blunt", grams_per_unit=1.0, pack_size=1),
        DEMO_ACTOR,
        replace=True,
    )
    fg.update_settings(
        packages[2][0],
        {
            "singles_1g": SkuSettingUpdate(excluded=True),
            "magnetic_box_6pk": SkuSettingUpdate(manual_units=20),
        },
        DEMO_ACTOR,
    )
    fg.add_hold(
        packages[3][0], HoldCreate(grams=50, reason="Reserved for Green Leaf launch"), DEMO_ACTOR
    )
    fg.decrement(
        blue_dream,
        DecrementRequest(sku="singles_0_5g", units=24, idempotency_key="demo-apex-sale-1"),
        DEMO_ACTOR,
    )
    fg.update(packages[5][0], PackageUpdate(status="archived"), DEMO_ACTOR)
    _seed_batches(services)
    return True


def _port_or_free(host: str, wanted: int) -> int:
    """``wanted`` when it is free, else any free port (0 asks for any free port)."""
    with socket.socket() as sock:
        try:
            sock.bind((host, wanted))
        except OSError:
            sock.bind((host, 0))
        return int(sock.getsockname()[1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tracker_service.demo", description=__doc__)
    parser.add_argument("--db", type=Path, default=Path(".demo/tracker.db"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    import uvicorn

    from tracker_service.app import TrackerSettings, create_app

    services = Services.open(args.db)
    seeded = seed_demo_data(services)
    ensure_demo_users(services)
    key = services.api_keys.rotate(created_by=DEMO_ACTOR)
    port = _port_or_free(args.host, args.port)
    url = f"http://{args.host}:{port}"
    count = len(services.finished_goods.list_packages())
    print(
        f"""
PreRollTracker demo
  database : {args.db} ({"seeded with" if seeded else "already holds"} {count} packages)
  URL      : {url}/   (sign in: admin / demo-admin-pass, or floor / demo-floor-pass)
  API key  : {key}
  OpenAPI  : {url}/schema/openapi.json  (reference: docs/api.md)

Try:
  curl -H 'X-API-Key: {key}' {url}/apex-calculate
  curl -H 'X-API-Key: {key}' {url}/api/finished-goods/1A40603000123456

Press Ctrl-C to stop.
""",
        flush=True,
    )
    app = create_app(TrackerSettings(db_path=args.db), services=services)
    uvicorn.run(app, host=args.host, port=port, log_level="warning")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

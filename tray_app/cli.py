"""``apexapi``: start ApexAPI. ``--headless`` runs the sync engine with no GUI at all."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from sync_engine.config import find_config
from sync_engine.errors import ConfigError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="apexapi", description=__doc__)
    parser.add_argument(
        "--config",
        type=Path,
        help="apex_config.json (default: next to the program, else the user's config folder)",
    )
    parser.add_argument(
        "--headless", action="store_true", help="run the engine without tray icon or window"
    )
    args = parser.parse_args(argv)
    if not args.headless:
        print(
            "apexapi: the tray icon and window are not built yet; run with --headless",
            file=sys.stderr,
        )
        return 2
    from sync_engine.runner import run_headless

    try:
        return asyncio.run(run_headless(find_config(args.config)))
    except ConfigError as exc:
        print(f"apexapi: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``python -m simulators.metrc``: the seeded METRC simulator as a program."""

from __future__ import annotations

import argparse

import uvicorn

from simulators.metrc.app import create_metrc_app
from simulators.metrc.seed import LICENSE, add_packages, seed_metrc
from simulators.metrc.state import MetrcState


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.metrc", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8030)
    parser.add_argument(
        "--extra-packages", type=int, default=0, help="add this many pre-roll packages (bench)"
    )
    args = parser.parse_args()
    state = seed_metrc(MetrcState())
    add_packages(state, args.extra_packages)
    print(
        f"METRC simulator on http://{args.host}:{args.port} (license {LICENSE}, vendor key "
        "sim-vendor-key, user key sim-user-key)",
        flush=True,
    )
    uvicorn.run(create_metrc_app(state), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

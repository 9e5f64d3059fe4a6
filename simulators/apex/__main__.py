"""``python -m simulators.apex``: the seeded Apex Trading simulator as a program."""

from __future__ import annotations

import argparse

import uvicorn

from simulators.apex.app import create_apex_app
from simulators.apex.seed import seed_apex
from simulators.apex.state import ApexState


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.apex", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--token", default="sim-token")
    args = parser.parse_args()
    state = seed_apex(ApexState(tokens={args.token}))
    print(
        f"Apex Trading simulator on http://{args.host}:{args.port}/api (token {args.token})",
        flush=True,
    )
    uvicorn.run(create_apex_app(state), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

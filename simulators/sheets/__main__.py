"""``python -m simulators.sheets``: the Google Sheets simulator as a program."""

from __future__ import annotations

import argparse

import uvicorn

from simulators.sheets.app import SheetsState, create_sheets_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.sheets", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8020)
    parser.add_argument("--spreadsheet", default="demo-packing-list")
    args = parser.parse_args()
    state = SheetsState()
    state.create(args.spreadsheet, "Sheet1")
    print(
        f"Google Sheets simulator on http://{args.host}:{args.port} "
        f"(spreadsheet {args.spreadsheet})",
        flush=True,
    )
    uvicorn.run(create_sheets_app(state), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

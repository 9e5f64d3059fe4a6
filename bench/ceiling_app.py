"""The ceiling: the same Litestar + uvicorn stack answering fixed bytes straight from memory."""

from __future__ import annotations

import os
from pathlib import Path

from litestar import Litestar, Response, get

BODY = Path(os.environ.get("BENCH_BODY", "body.json")).read_bytes()


@get("/apex-calculate")
async def apex_calculate() -> Response[bytes]:
    return Response(BODY, media_type="application/json")


app = Litestar([apex_calculate])

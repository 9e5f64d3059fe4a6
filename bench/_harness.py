"""Start servers as subprocesses and load them with wrk (one load generator for all)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(
    command: Sequence[str],
    port: int,
    env: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Iterator[str]:
    """Run ``command`` until it answers on ``port``; yield its base URL; stop it after."""
    process = subprocess.Popen(
        list(command),
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/apex-calculate", headers=headers or {}, timeout=30)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    err = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"{command[0]} did not start: {err[-2000:]}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def python_module(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int) -> LoadResult:
    """One wrk run (after a one-second warm-up) with the same settings for every server."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make bench` (it installs it with apt)")
    header_args = [arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")]
    warm_up = ["wrk", "-t1", "-c1", "--timeout", "60s", *header_args, "-d1s", url]
    # One connection, so a slow server has no queue left over when the measurement starts.
    subprocess.run(warm_up, capture_output=True, check=True)
    base = ["wrk", "-t1", f"-c{connections}", "--timeout", "60s", "--latency", *header_args]
    out = subprocess.run(
        [*base, f"-d{seconds}s", url], capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return LoadResult(rps, _percentile(out, "50%"), _percentile(out, "99%"), errors)


def _percentile(out: str, label: str) -> float:
    match = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if match is None:
        return float("nan")
    value, unit = float(match[1]), match[2]
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def publish(name: str, text: str) -> None:
    """Print a benchmark's report and keep it in ``bench/results/<name>.txt``."""
    from pathlib import Path

    folder = Path(__file__).parent / "results"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.txt").write_text(text + "\n")
    print(text)
    print(f"\n(saved to {folder / (name + '.txt')})")

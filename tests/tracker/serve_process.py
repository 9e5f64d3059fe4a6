"""`preroll-tracker serve` as a real process on a free loopback port, for tests that need the
command itself (start-up, signals, proxy headers, file permissions, another user)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

__all__ = ["ServeProcess", "free_port", "new_api_key"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_api_key(db: Path) -> str:
    """`preroll-tracker api-key --new` on ``db``: the key it prints last."""
    out = subprocess.run(
        [sys.executable, "-m", "tracker_service", "api-key", "--db", str(db), "--new"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


class ServeProcess:
    """Start with ``with``; leaves by SIGTERM (or earlier with :meth:`stop`).

    ``as_user`` runs it as another Unix user (uid, gid), as a service account would run.
    The output goes to a file (never an unread pipe) and is in :attr:`output` after stopping.
    """

    def __init__(
        self,
        db: Path,
        *args: str,
        port: int | None = None,
        as_user: tuple[int, int] | None = None,
        log_level: str = "info",
    ) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.command = [
            sys.executable, "-m", "tracker_service", "serve", "--db", str(db),
            "--port", str(self.port), "--log-level", log_level, *args,
        ]  # fmt: skip
        self._log = db.parent / f"serve-{self.port}.log"
        self._as_user = as_user
        self.process: subprocess.Popen[bytes] | None = None
        self.output = ""

    def __enter__(self) -> ServeProcess:
        command = self.command
        if self._as_user is not None:  # util-linux's setpriv, as a service manager would
            uid, gid = self._as_user
            command = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *command]
        with self._log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=os.environ | {"PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"the tracker exited at start:\n{self.output}")
            try:
                httpx.get(f"{self.base_url}/api/overview", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the tracker did not start:\n{self.output}")

    def stop(self) -> int:
        """SIGTERM, wait, and keep the output; the return code (uvicorn re-raises SIGTERM)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.output = self._log.read_text(errors="replace")
        return int(self.process.returncode)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

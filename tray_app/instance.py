"""One ApexAPI per user: a lock file, and a loopback control channel for later launches.

The first launch holds ``apexapi.lock`` (the OS frees it when the process dies, so a crash never
leaves a stale lock) and listens on 127.0.0.1 for commands such as ``show`` and ``quit``. Its
port and a random token go to ``instance.json``, readable by this user only; a second launch
sends its command there and exits.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import sys
import threading
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import IO

__all__ = ["ControlCommand", "ControlServer", "InstanceLock", "NotRunning", "send_command"]

log = logging.getLogger("apexapi.tray")

LOCK_FILE = "apexapi.lock"
INSTANCE_FILE = "instance.json"


class ControlCommand(StrEnum):
    """What a later launch (or a script) may ask the running app."""

    SHOW = "show"
    QUIT = "quit"
    STATUS = "status"


class NotRunning(Exception):
    """No running instance answered."""


class InstanceLock:
    """An exclusive, non-blocking lock on a file in the user's data folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = (self.folder / LOCK_FILE).open("a+b")
        try:
            _lock(handle)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                (self.folder / INSTANCE_FILE).unlink()
            self._file.close()  # closing the file frees the lock
            self._file = None


def _lock(handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


#: A command line is a token and a word: anything longer is not ours.
MAX_LINE = 256
#: Commands answered at once; more connections wait in the queue, then are refused.
MAX_CONNECTIONS = 4


class ControlServer:
    """Answers ``<token> <command>`` lines on 127.0.0.1 with ``handler(command)``.

    Other programs on this computer can connect: a line is read up to :data:`MAX_LINE`
    bytes, at most :data:`MAX_CONNECTIONS` are served at once, and each gets 5 s.
    """

    def __init__(self, folder: Path, handler: Callable[[ControlCommand], str]) -> None:
        self.folder, self._handler = folder, handler
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._token = secrets.token_urlsafe(24)
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="apexapi-control", daemon=True)

    def start(self) -> None:
        path = self.folder / INSTANCE_FILE
        text = json.dumps({"port": self.port, "token": self._token, "pid": os.getpid()})
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        self._thread.start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.close()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return  # closed
            if not self._slots.acquire(blocking=False):
                with contextlib.suppress(OSError):
                    connection.sendall(b"error: busy\n")
                    connection.close()
                continue
            # One thread per command: a slow answer (``status`` reads the page) never holds
            # up the next command, ``quit`` above all.
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(5)
            try:
                raw = connection.makefile("rb").readline(MAX_LINE + 1)
                if len(raw) > MAX_LINE:
                    connection.sendall(b"error: line too long\n")
                    return
                line = raw.decode("utf-8", errors="replace").strip()
                token, _, word = line.partition(" ")
                if not secrets.compare_digest(token, self._token):
                    reply = "error: wrong token"
                elif word not in {c.value for c in ControlCommand}:
                    reply = f"error: unknown command {word!r}"
                else:
                    reply = self._handler(ControlCommand(word))
                connection.sendall(reply.encode("utf-8") + b"\n")
            except TimeoutError:
                pass  # a client that connected and said nothing
            except Exception:
                log.exception("control command failed")
            finally:
                self._slots.release()


def send_command(folder: Path, command: ControlCommand, timeout: float = 10.0) -> str:
    """Send ``command`` to the running instance; its one-line answer."""
    try:
        info = json.loads((folder / INSTANCE_FILE).read_text(encoding="utf-8"))
        with socket.create_connection(("127.0.0.1", int(info["port"])), timeout=timeout) as conn:
            conn.sendall(f"{info['token']} {command}\n".encode())
            return conn.makefile("r", encoding="utf-8").readline().strip()
    except (OSError, ValueError, KeyError) as exc:
        raise NotRunning(f"no running ApexAPI answered ({exc})") from None

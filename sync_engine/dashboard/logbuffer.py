"""The recent log lines, kept in memory for the dashboard."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

__all__ = ["LogBuffer"]


class LogBuffer(logging.Handler):
    def __init__(self, size: int = 200) -> None:
        super().__init__(level=logging.INFO)
        self.lines: deque[str] = deque(maxlen=size)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
        #: Called after each new line (the dashboard's event stream listens).
        self.listeners: list[Callable[[], None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
            for listener in self.listeners:
                listener()
        except Exception:
            self.handleError(record)

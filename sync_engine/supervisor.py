"""Every engine loop runs under one supervisor: none of them can stop silently.

A loop is a *step* (one cycle, one order refresh, one poll...) that returns the seconds until
the next one. An exception a step did not handle itself is logged with its traceback, shown
in the status (the dashboard and the tray turn red with the reason), and the step runs again
after a back-off; the first step that works again clears it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sync_engine.clients.retry import backoff_delay
from sync_engine.status import LoopFailure, StatusStore, utc_now

__all__ = ["RESTART_CAP_SECONDS", "Supervisor"]

log = logging.getLogger(__name__)

#: The longest wait before a failing loop runs again.
RESTART_CAP_SECONDS = 60.0

Step = Callable[[], Awaitable[float]]


class Supervisor:
    def __init__(self, status: StatusStore, stop: asyncio.Event) -> None:
        self._status = status
        self._stop = stop
        self.tasks: list[asyncio.Task[None]] = []

    def start(
        self,
        name: str,
        step: Step,
        wake: asyncio.Event | None = None,
        *,
        first_delay: float = 0.0,
    ) -> None:
        """Run ``step`` until stopped (the first time after ``first_delay`` s); ``wake``
        (when given) cuts a wait short."""
        task = asyncio.create_task(self._run(name, step, wake, first_delay), name=name)
        self.tasks.append(task)

    async def _run(
        self, name: str, step: Step, wake: asyncio.Event | None, first_delay: float
    ) -> None:
        failures = 0
        if first_delay > 0:
            await self._wait(wake, first_delay)
        while not self._stop.is_set():
            try:
                delay = await step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = backoff_delay(failures, RESTART_CAP_SECONDS)
                log.exception("the %s loop failed; it runs again in %.1f s", name, delay)
                with self._status.change() as status:
                    previous = status.loop_failures.get(name)
                    status.loop_failures[name] = LoopFailure(
                        reason=f"{type(exc).__name__}: {exc}",
                        since=previous.since if previous else utc_now(),
                        failures=failures,
                    )
            else:
                if failures:
                    with self._status.change() as status:
                        status.loop_failures.pop(name, None)
                    log.info("the %s loop works again", name)
                failures = 0
            await self._wait(wake, delay)

    async def _wait(self, wake: asyncio.Event | None, delay: float) -> None:
        if delay <= 0:
            await asyncio.sleep(0)  # let the other loops run
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for((wake or self._stop).wait(), delay)
        if wake is not None:
            wake.clear()

    async def stop(self) -> None:
        """Cancel every loop and wait for them to end."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

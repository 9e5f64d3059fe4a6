"""Sign-in throttling (docs/api.md): after 5 failed sign-ins for one username, or from one
address, within 15 minutes, further attempts are refused until the window has passed.

An attempt counts as failed from the moment it starts and is forgiven when it succeeds, so
parallel guesses cannot slip past the limit while their hashes are being checked.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from tracker_service.auth.repository import UserRow
from tracker_service.auth.users import UserStore
from tracker_service.lib.errors import Forbidden, TooManyRequests, Unauthorized

__all__ = ["FAILURES", "WINDOW_SECONDS", "LoginThrottle", "SignIn"]

FAILURES = 5
WINDOW_SECONDS = 15 * 60
#: Keys kept at most (oldest dropped first): memory stays bounded under a flood of names.
_MAX_KEYS = 50_000


class LoginThrottle:
    def __init__(
        self,
        failures: int = FAILURES,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._failures = failures
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    @staticmethod
    def _keys(username: str, address: str) -> tuple[str, str]:
        return f"user:{username.strip().casefold()}", f"addr:{address}"

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._seen.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._seen[key]
        return times

    def begin(self, username: str, address: str) -> float:
        """Count an attempt as failed (returns its moment), or raise 429 when over the limit."""
        now = self._clock()
        with self._lock:
            waits = [
                times[0] + self._window - now
                for key in self._keys(username, address)
                if len(times := self._recent(key, now)) >= self._failures
            ]
            if waits:
                retry = max(1, math.ceil(max(waits)))
                raise TooManyRequests(
                    f"too many failed sign-ins for this username or from this address; try "
                    f"again in {math.ceil(retry / 60)} minute(s)",
                    retry_after=retry,
                    code="too_many_sign_ins",
                )
            for key in self._keys(username, address):
                self._seen.setdefault(key, deque()).append(now)
                self._seen.move_to_end(key)
            while len(self._seen) > _MAX_KEYS:
                self._seen.popitem(last=False)
        return now

    def succeeded(self, username: str, address: str, moment: float) -> None:
        """The attempt begun at ``moment`` was right: forgive it and the username's failures."""
        user_key, address_key = self._keys(username, address)
        with self._lock:
            self._seen.pop(user_key, None)
            times = self._seen.get(address_key)
            if times is not None and moment in times:
                times.remove(moment)


class SignIn:
    """The sign-in check: throttled, hashes bounded by the user store, disabled logins refused."""

    def __init__(self, users: UserStore, throttle: LoginThrottle | None = None) -> None:
        self._users = users
        self._throttle = throttle or LoginThrottle()

    def check(self, username: str, password: str, address: str) -> UserRow:
        moment = self._throttle.begin(username, address)
        user = self._users.verify(username.strip(), password)
        if user is None:
            raise Unauthorized("Wrong username or password.", code="sign_in_failed")
        self._throttle.succeeded(username, address, moment)
        if not user.enabled:
            raise Forbidden("This login is disabled; ask an admin to enable it.")
        return user

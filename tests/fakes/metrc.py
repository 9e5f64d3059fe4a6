"""The METRC simulator on loopback, seeded with the demo license, and a tracker pointed at it
(fixtures ``metrc`` and ``synced``, registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest

from simulators.metrc import MetrcState, create_metrc_app
from simulators.metrc.seed import LICENSE, seed_metrc
from simulators.serve import ServerThread
from tracker_service.metrc.client import MetrcCredentials
from tracker_service.metrc.schemas import MetrcSettingsBody


@dataclass
class RunningMetrc:
    url: str
    state: MetrcState

    def credentials(self, **changes: str) -> MetrcCredentials:
        values = {
            "api_url": self.url,
            "license_number": LICENSE,
            "vendor_key": "sim-vendor-key",
            "user_key": "sim-user-key",
        } | changes
        return MetrcCredentials(**values)


@pytest.fixture
def metrc() -> Iterator[RunningMetrc]:
    state = seed_metrc(MetrcState())
    with ServerThread(create_metrc_app(state)) as url:
        yield RunningMetrc(url, state)


@dataclass
class Synced:
    """A tracker whose METRC settings point at the simulator."""

    tracker: Any  # tests.conftest.RunningTracker
    metrc: RunningMetrc

    def settings(self, **changes: object) -> dict[str, object]:
        body = {
            "enabled": True,
            "api_url": self.metrc.url,
            "license_number": LICENSE,
            "vendor_key": "sim-vendor-key",
            "user_key": "sim-user-key",
            "pull_interval_seconds": 3600,
        } | changes
        answer = self.tracker.client.put("/api/metrc/settings", json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def pull(self) -> dict[str, object]:
        answer = self.tracker.client.post("/api/metrc/pull")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def outbox(self) -> list[dict[str, object]]:
        return self.tracker.client.get("/api/metrc/outbox").json()


@pytest.fixture
def synced(tracker: Any, metrc: RunningMetrc) -> Synced:
    return Synced(tracker, metrc)


def sim_settings(url: str, **changes: object) -> MetrcSettingsBody:
    """Settings for the simulator's demo license, decoded as ``PUT /api/metrc/settings`` is."""
    body = {
        "enabled": True,
        "api_url": url,
        "license_number": LICENSE,
        "vendor_key": "sim-vendor-key",
        "user_key": "sim-user-key",
    } | changes
    return msgspec.convert(body, MetrcSettingsBody)

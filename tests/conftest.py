"""Shared fixtures: a real tracker on loopback over a real SQLite file in ``tmp_path``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from hypothesis import settings

from simulators.serve import ServerThread
from tracker_service.app import TrackerSettings, create_app
from tracker_service.auth.api_keys import ApiKeyStore
from tracker_service.services import Services

if TYPE_CHECKING:
    from tests.fakes.screen import VirtualScreen

#: The METRC simulator fixtures (``metrc``, ``synced``) for every test folder.
pytest_plugins = ["tests.fakes.metrc"]


@dataclass
class RunningTracker:
    """A tracker served by uvicorn in a background thread, with a client holding its key."""

    base_url: str
    api_key: str
    db_path: Path
    services: Services
    client: httpx.Client

    def package(self, metrc: str) -> dict[str, Any]:
        response = self.client.get(f"/api/finished-goods/{metrc}")
        assert response.status_code == 200, response.text
        return response.json()

    def snapshot(self, metrc: str) -> tuple[Any, ...]:
        """Everything an error must leave unchanged."""
        return (
            self.client.get(f"/api/finished-goods/{metrc}").json(),
            self.client.get(f"/api/finished-goods/{metrc}/history").json(),
            self.client.get("/apex-calculate").content,
            self.client.get("/api/changes", params={"since": 0}).json()["cursor"],
        )

    def create(self, metrc: str, strain: str = "Wedding Cake", grams: float = 500) -> dict:
        response = self.client.post(
            "/api/finished-goods",
            json={"metrc_number": metrc, "strain": strain, "initial_grams": grams},
        )
        assert response.status_code == 201, response.text
        return response.json()


#: Screenshots the browser and desktop tests keep (CI uploads them).
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def screen() -> Iterator[VirtualScreen]:
    """A virtual X screen with a tray host, one per test module (tests/fakes/screen.py)."""
    from tests.fakes.screen import VirtualScreen

    with VirtualScreen() as running:
        yield running


# Timing is not what these properties test: a busy CI machine must not fail them on a deadline.
settings.register_profile("ci", deadline=None, print_blob=True)
settings.load_profile("ci")


def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value {value!r})")
        time.sleep(interval)
        value = predicate()
    return value


@contextmanager
def running_tracker(folder: Path) -> Iterator[RunningTracker]:
    db_path = folder / "tracker.db"
    services = Services.open(db_path)
    key = ApiKeyStore(services.db).rotate(created_by="tests")
    app = create_app(TrackerSettings(db_path=db_path), services=services)
    with (
        ServerThread(app) as base_url,
        httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=30) as client,
    ):
        try:
            yield RunningTracker(base_url, key, db_path, services, client)
        finally:
            services.signal.close()  # as `preroll-tracker serve` does when stopped


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[RunningTracker]:
    """A fresh tracker with an empty database for one test."""
    with running_tracker(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def shared_tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningTracker]:
    """One tracker for a whole module, for tests that only make requests that must fail."""
    with running_tracker(tmp_path_factory.mktemp("shared")) as running:
        yield running

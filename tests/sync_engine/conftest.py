"""Fixtures for the engine: the Apex simulator on loopback, and engines in their own threads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest

from simulators.apex.app import create_apex_app
from simulators.apex.seed import seed_apex
from simulators.apex.state import ApexState
from sync_engine.config import Config, decode_config
from tests.conftest import RunningTracker, ServerThread
from tests.fakes.engine_thread import EngineThread


@dataclass
class RunningApex:
    base_url: str  # what apex_config.json's api_base_url holds
    state: ApexState


@pytest.fixture
def apex() -> Iterator[RunningApex]:
    state = seed_apex(ApexState())
    with ServerThread(create_apex_app(state)) as url:
        yield RunningApex(f"{url}/api", state)


def engine_config(
    tracker: RunningTracker, apex: RunningApex, *, orders: bool = False, **sync: Any
) -> Config:
    """Batch sync on; order fetching only when a test asks (it reserves grams)."""
    settings = {"enabled": True, "interval_seconds": 0.5, "mapping_ttl_seconds": 300} | sync
    return decode_config(
        msgspec.json.encode(
            {
                "dashboard_url": tracker.base_url,
                "dashboard_api_key": tracker.api_key,
                "api_base_url": apex.base_url,
                "api_token": "sim-token",
                "batch_inventory_sync": settings,
                "auto_refresh_enabled": orders,
                "order_refresh_seconds": 5,
            }
        )
    )


def write_engine_config(folder: Path, tracker: RunningTracker, apex: RunningApex) -> Path:
    """``folder/apex_config.json`` for a program under test: batch sync every second, no orders."""
    path = folder / "apex_config.json"
    path.write_text(
        json.dumps(
            {
                "dashboard_url": tracker.base_url,
                "dashboard_api_key": tracker.api_key,
                "api_base_url": apex.base_url,
                "api_token": "sim-token",
                "batch_inventory_sync": {"enabled": True, "interval_seconds": 1},
                "auto_refresh_enabled": False,
            }
        )
    )
    return path


__all__ = ["EngineThread", "RunningApex", "engine_config", "write_engine_config"]

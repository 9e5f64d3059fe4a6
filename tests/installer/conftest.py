"""The Apex simulator fixture, shared with the engine's tests."""

from tests.sync_engine.conftest import apex

__all__ = ["apex"]

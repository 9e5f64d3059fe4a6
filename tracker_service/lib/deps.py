"""Typed handler parameters shared by the route modules."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency

from tracker_service.services import Services

__all__ = ["ServicesDep"]

ServicesDep: TypeAlias = NamedDependency[Services]

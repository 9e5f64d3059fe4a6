"""Apex Trading's wire shapes, as far as the engine uses them (docs/apexapi.md)."""

from __future__ import annotations

import msgspec

__all__ = ["ApexBatch", "ApexProduct", "ListMeta"]


class ApexBatch(msgspec.Struct, kw_only=True):
    id: int
    name: str | None = None
    product_id: int
    quantity: float | None = None
    unlimited_quantity: bool = False
    hold: bool = False
    archived: bool = False
    updated_at: str


class ApexProduct(msgspec.Struct, kw_only=True):
    id: int
    name: str
    updated_at: str | None = None


class ListMeta(msgspec.Struct, kw_only=True):
    current_page: int
    last_page: int
    per_page: int
    total: int

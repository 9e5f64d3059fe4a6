"""Apex order shapes (docs/apexapi.md) and what the engine derives from them."""

from __future__ import annotations

import msgspec

__all__ = ["ApexOrder", "Buyer", "OrderItem", "OrderStatus", "ParentStatus"]


class ParentStatus(msgspec.Struct, frozen=True):
    id: int | None = None
    name: str = ""


class OrderStatus(msgspec.Struct, frozen=True):
    id: int | None = None
    name: str = ""
    parent_status: ParentStatus | None = None


class Buyer(msgspec.Struct, frozen=True):
    id: int | None = None
    name: str = ""


class OrderItem(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    product_id: int | None = None
    batch_id: int | None = None
    product_name: str = ""
    batch_name: str | None = None
    order_quantity: float = 0
    inventory_quantity: float | None = None
    metrc_package_label: str | None = None

    @property
    def units(self) -> int:
        """Sale units ordered (one 6-pack box is 1): inventory_quantity, else order_quantity."""
        quantity = (
            self.inventory_quantity
            if self.inventory_quantity is not None
            else (self.order_quantity)
        )
        return max(0, int(quantity))


class ApexOrder(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    invoice_number: str | None = None
    order_date: str | None = None
    delivery_date: str | None = None
    order_status_id: int | None = None
    order_status: OrderStatus | None = None
    cancelled: bool = False
    buyer: Buyer | None = None
    updated_at: str = ""
    items: list[OrderItem] = msgspec.field(default_factory=list)

    @property
    def store(self) -> str:
        return self.buyer.name if self.buyer else ""

    @property
    def invoice(self) -> str:
        return self.invoice_number or str(self.id)

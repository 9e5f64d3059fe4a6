"""A realistic pre-roll catalogue for the Apex simulator, matching the tracker's demo strains."""

from __future__ import annotations

from simulators.apex.state import ApexState

__all__ = ["NON_PREROLL", "PREROLL_PRODUCTS", "seed_apex"]

#: (product id, product name, batch id, starting quantity)
PREROLL_PRODUCTS = [
    (101, "CannaDart - Wedding Cake 0.5g", 1001, 40),
    (102, "CannaDart - Wedding Cake 1g", 1002, 20),
    (103, "Magnetic Box - Wedding Cake 6pk", 1003, 5),
    (104, "Magnetic Box - Wedding Cake 12pk", 1004, 2),
    (111, "CannaDart - Blue Dream 0.5g", 1011, 100),
    (112, "CannaDart - Blue Dream 1g", 1012, 50),
    (113, "Mag Box (6) Blue Dream .5g", 1013, 8),
    (114, "Cocoa Blunt - Blue Dream 1g", 1014, 12),
    (115, "CannaDart - Blue Dream 0.8g", 1015, 0),
    (121, "Gelato Pre-Roll 0.5g", 1021, 30),
    (122, "Gelato Pre-Roll 1.0g", 1022, 30),
    (123, "Magnetic Box - Gelato 12 pack", 1023, 1),
    (131, "Pre-Roll | Sour Diesel | 1g", 1031, 10),
    (141, "Northern Lights Preroll 1g", 1041, 6),
]
NON_PREROLL = [
    (201, "Blue Dream 3.5g Flower", 2001, 300),
    (202, "Watermelon Gummies 100mg", 2002, 500),
    (203, "Wedding Cake Live Resin Cart 1g", 2003, 80),
    (204, "Gelato Shake 28g", 2004, 15),
]


def seed_apex(state: ApexState) -> ApexState:
    """Products, one batch each, and orders in several statuses."""
    for product_id, name, batch_id, quantity in PREROLL_PRODUCTS + NON_PREROLL:
        state.add_product(name, product_id)
        state.add_batch(product_id, quantity, batch_id=batch_id, name=f"WC-{batch_id}")
    state.add_order(
        order_id=9001,
        buyer="Green Leaf Dispensary",
        status_id=1,
        items=[
            {"id": 90011, "product_id": 101, "batch_id": 1001, "quantity": 24},
            {"id": 90012, "product_id": 113, "batch_id": 1013, "quantity": 2},
            {"id": 90013, "product_id": 201, "batch_id": 2001, "quantity": 4},
        ],
    )
    state.add_order(
        order_id=9002,
        buyer="High Plains Cannabis",
        status_id=2,
        items=[{"id": 90021, "product_id": 112, "batch_id": 1012, "quantity": 10}],
    )
    state.add_order(
        order_id=9003,
        buyer="Mountain Top Wellness",
        status_id=3,
        items=[{"id": 90031, "product_id": 121, "batch_id": 1021, "quantity": 12}],
    )
    state.add_order(
        order_id=9004,
        buyer="Riverside Remedies",
        status_id=5,
        items=[{"id": 90041, "product_id": 131, "batch_id": 1031, "quantity": 3}],
    )
    state.add_order(
        order_id=9005,
        buyer="Canyon Collective",
        status_id=1,
        cancelled=True,
        items=[{"id": 90051, "product_id": 102, "batch_id": 1002, "quantity": 6}],
    )
    return state

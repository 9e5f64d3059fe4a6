"""TrackerClient against a real tracker: order lines go out with the lease holder, and a
tracker that says the lease moved on is a LeaseLost, not a failing tracker."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from preroll_contract import OrderLine
from sync_engine.clients.tracker import TrackerClient
from sync_engine.errors import LeaseLost
from tests.conftest import RunningTracker

TAG = "1A4060300003BB1000000001"
LINE = OrderLine(
    order_id=1,
    item_id=11,
    invoice_number="INV-1",
    store="Green Leaf",
    strain="Blue Dream",
    sku="singles_1g",
    units_ordered=3,
    units_packed=0,
    state="open",
)


def test_order_lines_need_the_lease(tracker: RunningTracker) -> None:
    """The holder's lines are reserved (missing ones reported); another installation's PUT is
    LeaseLost naming the holder, and changes nothing."""
    tracker.create(TAG, strain="Blue Dream", grams=100)

    async def scenario() -> None:
        async with httpx.AsyncClient() as http:
            client = TrackerClient(http, tracker.base_url, tracker.api_key)
            await client.take_lease("office-pc", 60)
            answer = await client.put_order_lines("office-pc", [LINE])
            assert [(line.item_id, line.metrc_number) for line in answer.lines] == [(11, TAG)]
            assert (await client.put_order_lines("office-pc", [])).missing == [11]
            with pytest.raises(LeaseLost) as lost:
                await client.put_order_lines("laptop", [])
            assert lost.value.holder == "office-pc"
            assert "no longer holds the sync lease (office-pc does)" in str(lost.value)

    asyncio.run(scenario())
    assert tracker.package(TAG)["grams_ordered"] == 3

"""When the tray tells a person (sync_engine/notices.py), and how the status reaches the tray and
the dashboard: pushed by the status store, never polled."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

from sync_engine.kinds import NoticeKind
from sync_engine.notices import Notifier
from sync_engine.status import EngineStatus, LineProblem, StatusStore

START = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def kinds(notices: list) -> list[NoticeKind]:
    return [n.kind for n in notices]


def test_a_situation_is_told_once_and_a_kind_at_most_every_ten_minutes() -> None:
    notifier = Notifier()
    status = EngineStatus(held_back="held back: this cycle would set 5 of 6 Apex batches to 0")
    assert kinds(notifier.due(status, START)) == [NoticeKind.HELD_BACK]
    assert notifier.due(status, START + timedelta(minutes=30)) == []  # still the same: told
    status.held_back = "held back: this cycle would set 6 of 6 Apex batches to 0"
    assert notifier.due(status, START + timedelta(minutes=31)) != []  # news, window passed
    status.held_back = "held back: this cycle would set 4 of 6 Apex batches to 0"
    assert notifier.due(status, START + timedelta(minutes=35)) == []  # news, but too soon
    assert kinds(notifier.due(status, START + timedelta(minutes=42))) == [NoticeKind.HELD_BACK]


def test_a_connection_is_told_only_after_failing_for_two_minutes() -> None:
    notifier = Notifier()
    status = EngineStatus()
    status.apex.failing("Apex Trading rejected the API token (401)")
    since = datetime.fromisoformat(status.apex.since or "")
    assert notifier.due(status, since + timedelta(seconds=60)) == []
    [notice] = notifier.due(status, since + timedelta(seconds=121))
    assert notice.kind == NoticeKind.CONNECTION and "401" in notice.message


def test_lines_without_a_package_and_strains_short_of_stock_are_told_apart() -> None:
    notifier = Notifier()
    status = EngineStatus(
        unassigned_lines=[
            LineProblem(
                item_id=1, strain="Gelato", sku="singles_1g", reason="no package", short_units=4
            ),
            LineProblem(
                item_id=2,
                strain="Blue Dream",
                sku="singles_1g",
                reason="short",
                short_units=9,
                on_a_package=True,
            ),
        ],
        short_strains={"Gelato": 4, "Blue Dream": 9},
    )
    told = {n.kind: n.message for n in notifier.due(status, START)}
    assert "Gelato singles_1g (item 1)" in told[NoticeKind.UNASSIGNED_LINES]
    assert "item 2" not in told[NoticeKind.UNASSIGNED_LINES]
    assert "Gelato (4 short), Blue Dream (9 short)" in told[NoticeKind.OVERCOMMITTED]


def test_the_status_store_wakes_a_waiter_on_another_thread_at_once() -> None:
    """The tray and the dashboard stream wait for the next change; a change made on another
    thread (the sheets poll runs on one) wakes them without polling."""
    store = StatusStore()

    async def wait() -> tuple[bool, float]:
        seen = store.version
        started = time.monotonic()
        woke = await store.changed_since(seen, 10)
        return woke, time.monotonic() - started

    def change_soon() -> None:
        time.sleep(0.2)
        with store.change() as status:
            status.paused = True

    threading.Thread(target=change_soon).start()
    woke, waited = asyncio.run(wait())
    assert woke and waited < 5
    assert store.read().paused and store.read() is not store.read()

"""The ApexAPI dashboard in real Chromium, with the engine, a tracker process and the Apex
simulator running (issue 6's dashboard cases)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from simulators.apex.app import create_apex_app
from simulators.apex.seed import seed_apex
from simulators.apex.state import ApexState
from simulators.serve import ServerThread
from sync_engine.config import Config
from sync_engine.orders.packing import Editable
from tests.conftest import ARTIFACTS, wait_until
from tests.fakes.engine_thread import EngineThread
from tests.tracker.serve_process import ServeProcess, free_port, new_api_key
from tests.ui.conftest import screenshot

WEDDING_CAKE = "1A40603000123456"


class Stack:
    def __init__(self, tmp: Path) -> None:
        self.db = tmp / "tracker.db"
        self.key = new_api_key(self.db)
        self.port = free_port()
        self.start_tracker()
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = httpx.Client(base_url=self.url, headers={"X-API-Key": self.key})
        self.client.post(
            "/api/finished-goods",
            json={"metrc_number": WEDDING_CAKE, "strain": "Wedding Cake", "initial_grams": 500},
        )
        self.apex = seed_apex(ApexState())

    def stop_tracker(self) -> None:
        assert self.tracker.process is not None
        self.tracker.process.kill()
        self.tracker.stop()

    def start_tracker(self) -> None:
        self.tracker = ServeProcess(self.db, port=self.port, log_level="warning").__enter__()

    def grams(self, field: str) -> float:
        return float(self.client.get(f"/api/finished-goods/{WEDDING_CAKE}").json()[field])


@pytest.fixture
def running(browser: Browser, tmp_path: Path) -> Iterator[tuple[Stack, EngineThread, Page]]:
    stack = Stack(tmp_path)
    with ServerThread(create_apex_app(stack.apex)) as apex_url:
        config = msgspec.convert(
            {
                "dashboard_url": stack.url,
                "dashboard_api_key": stack.key,
                "api_base_url": f"{apex_url}/api",
                "api_token": "sim-token",
                # Zeroing more than a fifth of the mapped batches at once is held back.
                "batch_inventory_sync": {
                    "enabled": True,
                    "interval_seconds": 1,
                    "max_zero_share": 0.2,
                },
                "order_refresh_seconds": 5,
            },
            Config,
        )
        with EngineThread(config, tmp_path / "state.json", dashboard=True) as engine:
            context = browser.new_context(viewport={"width": 1024, "height": 800})
            page = context.new_page()
            page.set_default_timeout(15_000)
            try:
                yield stack, engine, page
            finally:
                context.close()
                stack.client.close()
                stack.tracker.stop()


def test_lights_follow_the_tracker(running: tuple[Stack, EngineThread, Page]) -> None:
    """Green when connected; red with the guide's fix when the tracker stops; green again."""
    stack, engine, page = running
    assert engine.dashboard_url is not None
    page.goto(engine.dashboard_url)
    tracker_light = page.locator("#light-tracker")
    expect(tracker_light).to_have_class("light green")
    expect(tracker_light).to_contain_text("Connected")
    expect(page.locator("#light-apex")).to_have_class("light green")
    screenshot(page, "dashboard")
    stack.stop_tracker()
    expect(tracker_light).to_have_class("light red", timeout=20_000)
    expect(tracker_light).to_contain_text("sudo systemctl start preroll-tracker")
    screenshot(page, "dashboard-tracker-down")
    stack.start_tracker()
    expect(tracker_light).to_have_class("light green", timeout=20_000)


def test_packing_list_edit_reaches_the_tracker(running: tuple[Stack, EngineThread, Page]) -> None:
    """Simulator orders are listed; PACKED typed in the dashboard becomes grams_packed."""
    stack, engine, page = running
    page.goto(str(engine.dashboard_url))
    row = page.locator("#packing tbody tr", has_text="CannaDart - Wedding Cake 0.5g")
    expect(row).to_contain_text("Green Leaf Dispensary")
    page.fill("#filter", "high plains")
    expect(page.locator("#packing tbody tr")).to_have_count(1)
    page.fill("#filter", "")
    field = page.get_by_label("packed 90011")
    field.fill("10")
    field.press("Enter")
    wait_until(lambda: stack.grams("grams_packed") == 5, timeout=15)
    screenshot(page, "dashboard-packing")


def test_pause_stops_patches(running: tuple[Stack, EngineThread, Page]) -> None:
    """After Pause, a change in the tracker sends no PATCH; Resume sends it."""
    stack, engine, page = running
    page.goto(str(engine.dashboard_url))
    wait_until(lambda: stack.apex.quantity(1002) is not None and stack.apex.quantity(1002) > 20)
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    before = len(stack.apex.requests_matching("PATCH"))
    stack.client.post(
        f"/api/finished-goods/{WEDDING_CAKE}/adjust", json={"delta_grams": -100, "reason": "Damage"}
    )
    page.wait_for_timeout(2500)
    assert len(stack.apex.requests_matching("PATCH")) == before
    page.get_by_role("button", name="Resume").click()
    wait_until(lambda: len(stack.apex.requests_matching("PATCH")) > before, timeout=15)


def test_a_dashboard_link_works_once(
    running: tuple[Stack, EngineThread, Page], browser: Browser
) -> None:
    """The link's key is exchanged for a cookie on the first visit; the same link in another
    browser (or from someone's history) is refused with what to do; the first one stays in."""
    _, engine, page = running
    link = str(engine.dashboard_url)
    page.goto(link)
    expect(page.get_by_role("heading", name="ApexAPI")).to_be_visible()
    assert "key=" not in page.url  # the address bar no longer shows it
    other = browser.new_context()
    later = other.new_page()
    answer = later.goto(link)
    assert answer is not None and answer.status == 401
    assert "already used" in later.content()
    other.close()
    page.reload()
    expect(page.get_by_role("heading", name="ApexAPI")).to_be_visible()
    assert httpx.get(link, follow_redirects=False).status_code == 401


def test_requests_without_the_launch_key_are_refused(
    running: tuple[Stack, EngineThread, Page],
) -> None:
    """No key → 401; another Host header (DNS rebinding) → 403; the key works."""
    _, engine, _ = running
    base = str(engine.dashboard_url).split("/?key=")[0]
    key = str(engine.dashboard_secret)
    assert httpx.get(f"{base}/api/status").status_code == 401
    assert httpx.post(f"{base}/api/actions/pause").status_code == 401
    assert (
        httpx.get(
            f"{base}/api/status", headers={"X-Dashboard-Key": key, "Host": "evil.example"}
        ).status_code
        == 403
    )
    assert httpx.get(f"{base}/api/status", headers={"X-Dashboard-Key": key}).status_code == 200
    assert engine.engine is not None and not engine.engine.status.paused


def test_a_held_back_mass_zero_is_listed_and_confirmed_from_the_dashboard(
    running: tuple[Stack, EngineThread, Page],
) -> None:
    """Archiving the package would zero its four Apex batches at once: the cycle is held back,
    the dashboard lists the batches, and the button pushes them."""
    stack, engine, page = running
    page.goto(str(engine.dashboard_url))
    wait_until(lambda: (stack.apex.quantity(1002) or 0) > 20)
    stack.client.patch(f"/api/finished-goods/{WEDDING_CAKE}", json={"status": "archived"})
    held = page.locator("#held-back")
    expect(held).to_be_visible(timeout=20_000)
    expect(held.locator("#zero-list li")).to_have_count(4)
    expect(held).to_contain_text("Batch 1002 — Wedding Cake singles_1g")
    assert (stack.apex.quantity(1002) or 0) > 0  # nothing zeroed yet
    screenshot(page, "dashboard-held-back")
    page.get_by_role("button", name="Push these zeros to Apex").click()
    wait_until(lambda: [stack.apex.quantity(b) for b in (1001, 1002, 1003, 1004)] == [0] * 4)
    expect(held).to_be_hidden()


def test_the_dashboard_edits_every_editable_cell_and_refuses_bad_values(
    running: tuple[Stack, EngineThread, Page],
) -> None:
    """Delivery Date, Delivery Notes and Internal Notes are edited like PACKED; a value that
    is not a date, a negative count, a long note or an unknown field is refused, naming it."""
    _, engine, page = running
    page.goto(str(engine.dashboard_url))
    page.get_by_label("delivery date 90011").fill("2026-12-03")
    page.get_by_label("delivery notes 90011").fill("=1+1 <b>dock</b>")
    page.get_by_label("delivery notes 90011").press("Enter")
    page.get_by_label("internal notes 90011").fill("rush")
    page.get_by_label("internal notes 90011").press("Enter")
    assert engine.engine is not None
    wait_until(lambda: engine.engine.state.edits().get(90011, Editable()).internal_notes == "rush")
    assert engine.engine.state.edits()[90011] == Editable(
        delivery_date="2026-12-03", delivery_notes="=1+1 <b>dock</b>", internal_notes="rush"
    )
    base = str(engine.dashboard_url).split("/?key=")[0]
    headers = {"X-Dashboard-Key": str(engine.dashboard_secret)}
    for body, field in (
        ({"delivery_date": "=1+1"}, "delivery_date"),
        ({"packed": -1}, "packed"),
        ({"packed": "3"}, "packed"),
        ({"internal_notes": "x" * 501}, "internal_notes"),
        ({"owner": "me"}, "owner"),
    ):
        refused = httpx.post(f"{base}/api/packing/90011", json=body, headers=headers)
        assert (refused.status_code, refused.json()["field"]) == (422, field), body
    assert engine.engine.state.edits()[90011].delivery_date == "2026-12-03"


def test_apex_vs_tracker_lists_every_batch_and_sets_a_hand_change_back(
    running: tuple[Stack, EngineThread, Page],
) -> None:
    """The table shows every mapped Apex batch with what Apex shows and the tracker's target;
    a quantity typed into Apex by hand is set back and listed; the CSV holds the same rows."""
    stack, engine, page = running
    page.goto(str(engine.dashboard_url))
    wait_until(lambda: stack.apex.quantity(1002) == 488)  # 500 g less the seeded order's 12 g
    table = page.locator("#batches")
    row = table.locator("tr[data-batch='1002']")
    expect(row).to_contain_text("Wedding Cake")
    expect(row.locator("td").nth(7)).to_have_text("in step")
    expect(page.locator("#in-step")).to_contain_text("In step: 4 of 14 Apex batches")
    expect(table.locator("tr[data-batch='1011'] td").nth(7)).to_have_text("no package")
    target = stack.apex.quantity(1002)
    stack.apex.update_batch(1002, {"quantity": 3})  # someone edits Apex by hand
    page.get_by_role("button", name="Refresh Mapping").click()
    expect(page.locator("#drift-count")).to_have_text("1", timeout=15_000)
    page.locator("#drift-log summary").click()
    expect(page.locator("#drift-list")).to_contain_text(
        f"showed 3 in Apex, changed by hand; set back to {target:g}"
    )
    assert stack.apex.quantity(1002) == target
    expect(row.locator("td").nth(7)).to_have_text("in step")
    page.select_option("#state-filter", "not-in-step")
    expect(table.locator("tbody tr[data-batch='1002']")).to_have_count(0)
    screenshot(page, "dashboard-apex-vs-tracker")
    link = page.get_by_role("link", name="Download CSV")
    base = page.url.split("/?")[0].rstrip("/")
    answer = page.request.get(base + str(link.get_attribute("href")))  # the browser's cookie
    assert answer.status == 200, answer.text()
    assert answer.headers.get("content-disposition") == (
        'attachment; filename="apex-vs-tracker.csv"'
    ), answer.headers
    lines = answer.text().splitlines()
    assert lines[0].startswith("\ufeffbatch_id,product,strain,sku,apex_quantity,target")
    assert any(
        line.startswith(
            f"1002,CannaDart - Wedding Cake 1g,Wedding Cake,singles_1g,{target:g},{target:g}"
        )
        for line in lines
    )
    assert len(lines) == 15


def test_pick_lists_print_one_page_per_invoice_with_the_tags(
    running: tuple[Stack, EngineThread, Page],
) -> None:
    """Print pick lists opens a print view; Chromium prints it to a PDF with one page per
    invoice, each numbered and dated, listing the METRC tags the tracker assigned."""
    _, engine, page = running
    assert engine.engine is not None
    sync = engine.engine
    wait_until(
        lambda: (
            sync.packing is not None and any(r.batch_no == WEDDING_CAKE for r in sync.packing.rows)
        ),
        timeout=20,
    )
    assert sync.packing is not None
    invoices = {r.invoice for r in sync.packing.rows if r.state == "open"}
    page.goto(str(engine.dashboard_url))
    with page.context.expect_page() as opened:
        page.click("#pick-lists")
    sheet = opened.value
    sheet.wait_for_load_state()
    expect(sheet.locator("section.sheet")).to_have_count(len(invoices))
    screenshot(sheet, "pick-lists")
    printed = sheet.pdf(format="Letter")
    (ARTIFACTS / "pick-lists.pdf").write_bytes(printed)  # the printed pick lists, as paper
    pdf = PdfReader(io.BytesIO(printed))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert len(pdf.pages) == len(invoices)
    assert WEDDING_CAKE in text
    assert f"Page 1 of {len(invoices)}" in text and f"Page {len(invoices)} of" in text
    assert "printed 20" in text

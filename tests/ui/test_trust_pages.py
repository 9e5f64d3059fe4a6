"""In real Chromium: hostile values are field errors that change nothing, order lines ApexAPI no
longer reports wait for a person, and users are managed from Settings and Account."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import RunningTracker
from tests.tracker.test_sync_http import HOLDER, line
from tests.ui.conftest import PASSWORD, login, screenshot

TAG = "1A4060300003BB1000000099"


def test_a_bad_custom_sku_and_negative_manual_units_are_field_errors(
    page: Page, users: RunningTracker
) -> None:
    """Pack size 0 and manual units -50 (which used to stop /apex-calculate for everyone) are
    shown next to their fields with a summary; nothing is saved."""
    users.create(TAG, strain="Blue Dream", grams=500)
    before = users.snapshot(TAG)
    login(page, "sam")
    page.goto(f"/finished-goods/{TAG}")
    page.fill("input[name=key]", "cocoa_blunt_1g")
    page.fill("input[name=name]", "Cocoa Blunt")
    page.fill("input[name=grams_per_unit]", "1")
    page.fill("input[name=pack_size]", "0")
    page.get_by_role("button", name="Save custom SKU").click()
    expect(page.locator("#err-pack_size")).to_have_text("must be at least 1")
    expect(page.locator("#error-summary")).to_contain_text("pack_size must be at least 1")
    expect(page.locator("input[name=name]")).to_have_value("Cocoa Blunt")
    screenshot(page, "form-error-custom-sku")
    page.goto(f"/finished-goods/{TAG}")
    # The browser's own min=0 check would stop the form first; a person can still type it.
    page.locator("input[name='manual_units.singles_1g']").evaluate(
        "el => el.removeAttribute('min')"
    )
    page.fill("input[name='manual_units.singles_1g']", "-50")
    page.get_by_role("button", name="Save SKU settings").click()
    expect(page.locator("#error-summary")).to_contain_text(
        "manual_units.singles_1g must be at least 0"
    )
    screenshot(page, "form-error-manual-units")
    assert users.snapshot(TAG) == before
    assert users.client.get("/apex-calculate").status_code == 200


def test_staff_release_a_line_apexapi_no_longer_reports(page: Page, users: RunningTracker) -> None:
    """The Order Lines page lists the missing line with the grams it holds; Release frees them."""
    users.create(TAG, strain="Blue Dream", grams=50)
    api = users.client
    api.post("/api/sync/lease", json={"holder": HOLDER})
    api.put(
        "/api/sync/order-lines",
        json={"holder": HOLDER, "lines": [line(1), line(2, units_ordered=4)]},
    )
    api.put("/api/sync/order-lines", json={"holder": HOLDER, "lines": [line(2, units_ordered=4)]})
    login(page, "sam")
    expect(page.locator("#attention")).to_contain_text("1 order line no longer reported by ApexAPI")
    page.get_by_role("link", name="Order Lines").click()
    missing = page.locator("#missing")
    expect(missing.get_by_role("heading")).to_have_text("No longer reported by ApexAPI (1)")
    expect(missing.locator("tr[data-item='1']")).to_contain_text("10 g")
    expect(page.locator("#held tr[data-item='2']")).to_contain_text(TAG)
    screenshot(page, "order-lines-missing")
    page.once("dialog", lambda dialog: dialog.accept())
    missing.get_by_role("button", name="Release").click()
    expect(page.get_by_role("status")).to_have_text("Order INV-10 item 1 released.")
    expect(page.locator("#missing")).to_contain_text("None: every open line is still reported.")
    assert users.package(TAG)["grams_ordered"] == 4


def test_staff_see_lines_ordered_beyond_what_the_strain_has(
    page: Page, users: RunningTracker
) -> None:
    """A line bigger than the strain holds every gram of it over two packages; Overview and
    Order Lines show the shortfall and which packages hold what."""
    users.create(TAG, strain="Blue Dream", grams=30)
    users.create("1A4060300003BB1000000100", strain="Blue Dream", grams=20)
    api = users.client
    api.post("/api/sync/lease", json={"holder": HOLDER})
    api.put(
        "/api/sync/order-lines",
        json={"holder": HOLDER, "lines": [line(1, units_ordered=65)]},
    )
    login(page, "sam")
    expect(page.locator("#attention")).to_contain_text(
        "1 order line ordered more than the strain has (15 units short)"
    )
    page.locator("#attention").get_by_role("link").first.click()
    short = page.locator("#short")
    expect(short.locator("tr[data-item='1'] td").nth(4)).to_have_text("15")
    expect(short.locator("tr[data-item='1']")).to_contain_text(f"{TAG} (30 g)")
    expect(short.locator("tr[data-item='1']")).to_contain_text("1A4060300003BB1000000100 (20 g)")
    screenshot(page, "order-lines-short")


def test_admin_disables_a_user_and_a_user_changes_their_password(
    page: Page, users: RunningTracker
) -> None:
    """Settings lists users with their status; Disable asks first and signs them out; Account
    changes one's own password."""
    login(page, "maria")
    page.goto("/settings/")
    row = page.locator("tr[data-user='sam']")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Disable").click()
    expect(page.get_by_role("status")).to_contain_text("User sam disabled")
    expect(page.locator("tr[data-user='sam']")).to_contain_text("disabled")
    screenshot(page, "settings-users")
    page.get_by_role("link", name="maria (admin)").click()
    page.fill("input[name=current_password]", PASSWORD)
    page.fill("input[name=new_password]", "a-new-password-1")
    page.fill("input[name=repeat_password]", "another-password")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#err-repeat_password")).to_have_text("does not match the new password")
    screenshot(page, "account-password-error")
    page.fill("input[name=current_password]", PASSWORD)
    page.fill("input[name=new_password]", "a-new-password-1")
    page.fill("input[name=repeat_password]", "a-new-password-1")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Password changed")
    assert users.services.users.verify("maria", "a-new-password-1") is not None

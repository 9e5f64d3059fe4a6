"""The METRC page in Chromium: a wrong key named by Test connection, drift resolved from the
page, an outbox entry approved under review-before-submit (docs/metrc.md)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import wait_until
from tests.fakes.metrc import RunningMetrc, Synced
from tests.ui.conftest import login, screenshot

WEDDING_CAKE = "1A40603000123456"


def fill_settings(page: Page, metrc: RunningMetrc, user_key: str) -> None:
    page.check("input[name=enabled]")
    page.fill("input[name=api_url]", metrc.url)
    page.fill("input[name=license_number]", "SIM-LIC-0001")
    page.fill("input[name=vendor_key]", "sim-vendor-key")
    page.fill("input[name=user_key]", user_key)
    page.click("text=Save METRC settings")
    expect(page.locator(".flash")).to_contain_text("METRC settings saved")


def test_a_wrong_user_key_is_named_by_test_connection(page: Page, synced: Synced) -> None:
    """An admin saves a wrong user key: the test says the user key is refused; fixed, it
    connects, and the header shows the light."""
    login(page, "maria")
    page.goto("/metrc/")
    fill_settings(page, synced.metrc, "wrong-user-key")
    page.click("text=Test connection")
    expect(page.locator(".flash")).to_contain_text("refused the user key")
    assert "wrong-user-key" not in page.content()  # only the last 4 characters are shown
    fill_settings(page, synced.metrc, "sim-user-key")
    page.click("text=Test connection")
    expect(page.locator(".flash")).to_contain_text("Connection works")
    page.click("text=Pull now")
    expect(page.locator("header .light")).to_contain_text("connected")
    screenshot(page, "metrc-settings")


def test_bad_settings_are_refused_next_to_the_field(page: Page, synced: Synced) -> None:
    """An interval below a minute and markup as license: the field says so, nothing saved."""
    login(page, "maria")
    page.goto("/metrc/")
    page.fill("input[name=api_url]", synced.metrc.url)
    page.fill("input[name=license_number]", "<b>LIC</b>")
    page.fill("input[name=pull_interval_seconds]", "5")
    page.click("text=Save METRC settings")
    expect(page.locator("#error-summary")).to_contain_text("Nothing was saved")
    assert synced.tracker.services.metrc.settings().license_number == ""


def test_drift_is_resolved_from_the_page(page: Page, synced: Synced) -> None:
    """A change waiting for review meets a reweigh in METRC: the page lists the drift, the
    admin says METRC is right, and the tracker takes METRC's grams."""
    synced.tracker.create(WEDDING_CAKE, "Wedding Cake", 500)
    synced.settings(review_before_submit=True)
    synced.pull()
    synced.tracker.client.post(
        f"/api/finished-goods/{WEDDING_CAKE}/adjust", json={"delta_grams": -5, "reason": "Damage"}
    )
    synced.metrc.state.change(WEDDING_CAKE, Quantity=490.0)
    synced.pull()
    login(page, "maria")
    page.goto("/metrc/")
    row = page.locator(f"table.drift tr[data-package='{WEDDING_CAKE}']")
    expect(row).to_contain_text("495")
    expect(row).to_contain_text("490")
    screenshot(page, "metrc-drift")
    row.locator("input[name=reason]").fill("Reweighed on the floor")
    row.locator("text=METRC is right").click()
    expect(page.locator(".flash")).to_contain_text("METRC's quantity accepted")
    assert synced.tracker.package(WEDDING_CAKE)["current_grams"] == 490
    expect(page.locator("table.drift")).to_have_count(0)


def test_an_entry_waiting_for_review_is_approved_and_sent(page: Page, synced: Synced) -> None:
    """Under review-before-submit the adjustment waits; Approve sends it to METRC."""
    synced.tracker.create(WEDDING_CAKE, "Wedding Cake", 500)
    synced.settings(review_before_submit=True)
    synced.pull()
    synced.tracker.client.post(
        f"/api/finished-goods/{WEDDING_CAKE}/adjust", json={"delta_grams": -2, "reason": "Damage"}
    )
    login(page, "maria")
    page.goto("/metrc/")
    entry = page.locator("table.outbox tr.state-awaiting_review")
    expect(entry).to_contain_text("-2.0 g, Damage")
    screenshot(page, "metrc-outbox-review")
    entry.locator("text=Approve").click()
    expect(page.locator(".flash")).to_contain_text("approve done")
    wait_until(lambda: synced.metrc.state.quantity(WEDDING_CAKE) == 498)
    page.goto("/metrc/")
    expect(page.locator("table.outbox tr.state-sent")).to_have_count(1)


def test_staff_see_the_sync_but_cannot_act(page: Page, synced: Synced) -> None:
    """Staff see status and drift; the buttons and the settings are for admins."""
    synced.settings()
    login(page, "sam")
    page.goto("/metrc/")
    expect(page.locator("#status")).to_be_visible()
    expect(page.locator("#settings")).to_have_count(0)
    expect(page.locator("text=Pull now")).to_have_count(0)


def test_the_package_page_offers_metrcs_reasons_while_synced(page: Page, synced: Synced) -> None:
    """With METRC sync on, the adjustment form lists the license's reasons."""
    synced.tracker.create(WEDDING_CAKE, "Wedding Cake", 500)
    synced.settings()
    synced.pull()
    login(page, "sam")
    page.goto(f"/finished-goods/{WEDDING_CAKE}")
    options = page.locator("select[name=reason] option").all_inner_texts()
    assert "Scale Variance" in options and "Mistake" not in options

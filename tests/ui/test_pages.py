"""The staff UI in real Chromium: what a person on the floor or in the office does."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import RunningTracker
from tests.ui.conftest import login, screenshot

TAG = "1A4060300003BB1000000099"


def test_login_and_logout(page: Page, users: RunningTracker) -> None:
    """A wrong password is refused; a right one opens the overview; signing out ends it."""
    page.goto("/")
    expect(page).to_have_url(f"{users.base_url}/login?next=/")
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", "not-it")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    screenshot(page, "login")
    login(page, "maria")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "prt_session")
    assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Lax")
    screenshot(page, "overview")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("Signed out.")
    page.goto("/batches/")
    expect(page).to_have_url(f"{users.base_url}/login?next=/batches")


def test_staff_takes_a_batch_from_grinding_to_complete(page: Page, users: RunningTracker) -> None:
    """Start, advance, fail then pass a weight check, record output, complete into a package."""
    login(page, "sam")
    page.goto("/batches/")
    page.fill("input[name=strain]", "Blue Dream")
    page.fill("input[name=flower_grams_in]", "250")
    page.fill("input[name=target_count]", "450")
    page.get_by_role("button", name="Start batch").click()
    expect(page.get_by_role("status")).to_contain_text("started")
    page.get_by_role("button", name="Move to rolling").click()
    page.get_by_role("button", name="Move to testing").click()
    page.fill("textarea[name=weights]", "0.50 0.58 0.49")
    page.get_by_role("button", name="Record weight check").click()
    expect(page.locator(".verdict")).to_contain_text("FAILED")
    page.get_by_role("button", name="Move to packaging").click()
    expect(page.get_by_role("alert")).to_contain_text("no passing latest weight check")
    page.fill("textarea[name=weights]", "0.50 0.52 0.49 0.51")
    page.get_by_role("button", name="Record weight check").click()
    expect(page.locator(".verdict")).to_contain_text("PASSED")
    screenshot(page, "batch-testing")
    page.get_by_role("button", name="Move to packaging").click()
    page.fill("input[name=prerolls_out]", "440")
    page.fill("input[name=waste_grams]", "12.5")
    page.get_by_role("button", name="Save numbers").click()
    expect(page.locator(".yield")).to_have_text("88.0 %")
    page.fill("input[name=finished_metrc]", TAG)
    page.get_by_role("button", name="Move to complete").click()
    expect(page.get_by_role("status")).to_contain_text("is now complete")
    screenshot(page, "batch-complete")
    assert users.package(TAG)["current_grams"] == 220
    page.goto("/finished-goods/")
    expect(page.get_by_role("link", name=TAG)).to_be_visible()
    screenshot(page, "finished-goods")


def test_form_keeps_input_and_names_the_field(page: Page, users: RunningTracker) -> None:
    """A bad value comes back with everything typed still there and the error by the field."""
    login(page, "sam")
    page.goto("/batches/")
    page.fill("input[name=strain]", "Gelato")
    page.fill("input[name=flower_grams_in]", "0")
    page.fill("input[name=target_count]", "100")
    page.get_by_role("button", name="Start batch").click()
    expect(page.locator("#err-flower_grams_in")).to_have_text("must be greater than 0")
    expect(page.locator("input[name=strain]")).to_have_value("Gelato")
    expect(page.locator("input[name=target_count]")).to_have_value("100")


def test_editing_sku_settings_changes_the_units(page: Page, users: RunningTracker) -> None:
    """Excluding a SKU and setting manual units shows the new counts on the package page."""
    users.create(TAG, strain="Wedding Cake", grams=500)
    login(page, "sam")
    page.goto(f"/finished-goods/{TAG}")
    units = lambda sku: page.locator(f"td.units[data-sku={sku}]")  # noqa: E731
    expect(units("singles_1g")).to_have_text("500")
    page.get_by_label("exclude singles_1g").check()
    page.get_by_label("manual units box_0_5g_6pk").fill("50")
    page.get_by_role("button", name="Save SKU settings").click()
    expect(units("singles_1g")).to_have_text("0")
    expect(units("box_0_5g_6pk")).to_have_text("50")
    screenshot(page, "package")
    assert users.client.get("/apex-calculate").json()[TAG]["units"]["box_0_5g_6pk"] == 50


def test_admin_regenerates_the_api_key_and_the_old_one_stops(
    page: Page, users: RunningTracker
) -> None:
    """The new key is shown once with a Copy button; the old key gets 401 at once."""
    login(page, "maria")
    page.goto("/settings/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Regenerate API key").click()
    new_key = page.locator("#new-key").input_value()
    assert new_key.startswith("prt_")
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    screenshot(page, "settings")
    assert users.client.get("/api/overview").status_code == 401
    assert (
        httpx.get(f"{users.base_url}/api/overview", headers={"X-API-Key": new_key}).status_code
        == 200
    )
    page.goto("/settings/")
    expect(page.locator("#new-key")).to_have_count(0)  # never shown again


def test_forged_form_post_is_rejected(page: Page, users: RunningTracker) -> None:
    """A POST with the session cookie but without the form's CSRF token is refused, no change."""
    users.create(TAG, strain="Wedding Cake", grams=500)
    login(page, "maria")
    response = page.request.post(
        f"/finished-goods/{TAG}/adjust", form={"delta_grams": "-400", "reason": "Theft"}
    )
    assert response.status == 403
    assert "CSRF" in response.text()
    assert users.package(TAG)["current_grams"] == 500


def test_staff_cannot_reach_settings(page: Page, users: RunningTracker) -> None:
    """Staff see no Settings link and get 403 on the page and its actions."""
    login(page, "sam")
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    response = page.goto("/settings/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    token = page.request.get("/").text().split('name="csrf_token" value="')[1].split('"')[0]
    forged = page.request.post("/settings/api-key", form={"csrf_token": token})
    assert forged.status == 403
    assert users.client.get("/api/overview").status_code == 200  # the key still works


def test_pages_load_nothing_from_the_internet(page: Page, users: RunningTracker) -> None:
    """Every main page loads only from the tracker itself (the floor may be offline)."""
    users.create(TAG, strain="Wedding Cake", grams=500)
    users.client.post(
        "/api/batches",
        json={"strain": "Gelato", "flower_grams_in": 100, "preroll_size_g": 1, "target_count": 90},
    )
    elsewhere: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith(users.base_url) else elsewhere.append(r.url)
    )
    login(page, "maria")
    for path in (
        "/",
        "/batches/",
        "/batches/1",
        "/finished-goods/",
        f"/finished-goods/{TAG}",
        "/settings/",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        expect(page.locator("link[rel=stylesheet]")).to_have_count(1)
    assert elsewhere == []

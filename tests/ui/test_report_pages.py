"""The Reports page in Chromium: a chart and table of a year's production, stock on a day,
and CSV downloads that Excel opens safely (README, "Reports")."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from tests.conftest import RunningTracker
from tests.fakes.year_of_data import STRAINS, fill_year
from tests.ui.conftest import login, screenshot


def test_a_years_production_is_charted_and_downloadable(page: Page, users: RunningTracker) -> None:
    fill_year(users.db_path, batches=400, packages=60, audit_rows=3000)
    login(page, "sam")
    page.goto("/reports/")
    first = (date.today() - timedelta(days=364)).isoformat()
    page.fill("input[name=first]", first)
    page.select_option("select[name=period]", "month")
    page.click("#production button[type=submit]")
    expect(page.locator("svg.chart rect").first).to_be_visible()
    strains_shown = page.locator("table.production tr.total td:first-child").all_inner_texts()
    assert sorted(strains_shown) == sorted(STRAINS)
    assert page.locator("svg.chart rect").count() >= 12 * len(STRAINS) - len(STRAINS)
    screenshot(page, "reports")
    answer = page.request.get(
        f"/reports/production.csv?first={first}&last={date.today()}&period=month"
    )
    assert answer.status == 200
    assert "attachment" in answer.headers["content-disposition"]
    body = answer.body().decode("utf-8")
    assert body.startswith("\ufeffstrain,period,batches,prerolls_out")
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    # Every batch of the year falls in the 365 days shown (none was completed today).
    assert 395 <= sum(int(r["batches"]) for r in rows) <= 400


def test_stock_on_a_day_and_the_audit_export(page: Page, users: RunningTracker) -> None:
    users.create("1A40603000123456", "Gelato", 500)
    users.client.post(
        "/api/finished-goods/1A40603000123456/adjust",
        json={"delta_grams": -2.5, "reason": "Other", "note": "=cmd|'/C calc'!A0"},
    )
    login(page, "sam")
    page.goto("/reports/")
    expect(page.locator("table.stock tr.total")).to_contain_text("497.5")
    page.locator("#stock-packages summary").click()
    expect(page.locator("table.stock-packages")).to_contain_text("1A40603000123456")
    today = date.today().isoformat()
    by_strain = page.request.get(f"/reports/stock.csv?day={today}&by=strain").body().decode()
    assert by_strain.splitlines()[1] == "Gelato,all,,497.5,0,0,0,497.5"
    answer = page.request.get(f"/reports/audit.csv?first={today}&last={today}")
    rows = list(csv.reader(io.StringIO(answer.body().decode("utf-8").lstrip("\ufeff"))))
    assert rows[-1][-1] == "'=cmd|'/C calc'!A0"  # never a formula in Excel


def test_a_backwards_period_is_refused_by_name(page: Page, users: RunningTracker) -> None:
    login(page, "sam")
    page.goto(f"/reports/?first={date.today()}&last=2020-01-01")
    expect(page.locator("#error-summary")).to_contain_text("last")
    expect(page.locator("#error-summary")).to_contain_text("on or after")
    page.goto("/reports/?first=%3D1%2B1&last=2026-01-01")
    expect(page.locator("#error-summary")).to_contain_text("first")

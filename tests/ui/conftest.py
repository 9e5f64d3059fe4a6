"""Browser fixtures: Debian's Chromium driven by Playwright against a real tracker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import ARTIFACTS, RunningTracker

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
PASSWORD = "floor-password-1"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per module: Playwright's event loop ends with it, so later tests that
    run their own asyncio loop are not disturbed."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def users(tracker: RunningTracker) -> RunningTracker:
    tracker.services.users.create("maria", PASSWORD, "admin")
    tracker.services.users.create("sam", PASSWORD, "staff")
    return tracker


@pytest.fixture
def page(browser: Browser, users: RunningTracker) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1024, "height": 768}, base_url=users.base_url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def login(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def screenshot(page: Page, name: str) -> None:
    """Save the page as a test artifact, after checking it fits 1024 px without scrolling."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1024, f"{name}: the page is {width} px wide at a 1024 px viewport"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

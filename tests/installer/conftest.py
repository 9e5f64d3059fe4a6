"""Shared by the bundle and exe tests: the Apex simulator, and one headless check."""

from __future__ import annotations

import subprocess

import httpx

from tests.conftest import wait_until
from tests.sync_engine.conftest import RunningApex, apex

__all__ = ["apex", "check_headless_run"]


def check_headless_run(process: subprocess.Popen[str], apex: RunningApex, timeout: float) -> None:
    """A headless ApexAPI prints its dashboard link, serves the page only with the launch key,
    and pushes the Wedding Cake package's 1000 singles to Apex batch 1001."""
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("ApexAPI dashboard: http://127.0.0.1:"), line
    url = line.split(": ", 1)[1]
    page = httpx.get(url, follow_redirects=True, timeout=timeout)
    assert page.status_code == 200 and "<h1>ApexAPI</h1>" in page.text
    assert httpx.get(url.split("?")[0] + "api/status", timeout=timeout).status_code == 401
    wait_until(lambda: apex.state.quantity(1001) == 1000, timeout=timeout)

"""ApexAPI.exe runs headless: dashboard on loopback, Apex pushed.

On Linux the exe is the one ``make windows`` builds, run under Wine; on the Windows runner
(``.github/workflows/windows-build.yml``) ``APEXAPI_WINDOWS_EXE`` names a native build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from installer.windows_build import PROGRAM, ROOT, wine_env
from tests.conftest import RunningTracker
from tests.installer.conftest import check_headless_run
from tests.installer.test_linux_bundle import newest_source
from tests.sync_engine.conftest import RunningApex, write_engine_config

NATIVE = os.environ.get("APEXAPI_WINDOWS_EXE")
LAUNCH = [] if NATIVE else ["wine"]


@pytest.fixture(scope="module")
def windows_exe() -> Path:
    """``make windows``'s program, rebuilt first when a source file is newer than it."""
    if NATIVE:
        return Path(NATIVE).resolve()
    if not PROGRAM.exists() or PROGRAM.stat().st_mtime < newest_source():
        subprocess.run(
            [sys.executable, "-m", "installer.windows_build"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=1500,
        )
    return PROGRAM


def windows_path(path: Path) -> str:
    return str(path) if NATIVE else "Z:" + str(path).replace("/", "\\")


@pytest.fixture
def wine_session() -> Iterator[dict[str, str]]:
    if NATIVE:
        yield dict(os.environ)
        return
    env = wine_env()
    yield env
    subprocess.run(["wineserver", "-k"], env=env, check=False)  # no Windows process outlives it


def test_windows_exe_headless_serves_dashboard_and_pushes_under_wine(
    windows_exe: Path,
    wine_session: dict[str, str],
    tracker: RunningTracker,
    apex: RunningApex,
    tmp_path: Path,
) -> None:
    """apexapi-cli.exe --headless under Wine: the dashboard answers on loopback, Apex is updated."""
    tracker.create("1A40603000123456", strain="Wedding Cake", grams=500)
    config = write_engine_config(tmp_path, tracker, apex)
    process = subprocess.Popen(
        [*LAUNCH, str(windows_exe), "--headless", "--config", windows_path(config)],
        env=wine_session,
        stdin=subprocess.PIPE,  # Windows Python under Wine needs pipes for its streams
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        check_headless_run(process, apex, timeout=60)
    finally:
        process.kill()
        process.wait(30)
    log = (tmp_path / "logs" / "apexapi.log").read_text(encoding="utf-8")
    assert "Apex batch 1001 (Wedding Cake singles_0_5g): 40 -> 1000" in log
    assert tracker.api_key not in log
    assert os.path.exists(tmp_path / "apexapi_state.json")

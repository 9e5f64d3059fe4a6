"""Schemathesis fuzzes every operation of the tracker's own OpenAPI schema: no 5xx."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RunningTracker

# The change feed may wait up to 30 s for a change by design (a long-poll); schemathesis' 10 s
# request timeout turned such a wait into a "network error" when fuzzing hit the current
# cursor exactly. A client of the feed waits longer than the feed does: so does this one.
LONG_POLL_CONFIG = """
[[operations]]
include-name = "GET /api/changes"
request-timeout = 35.0
"""


@pytest.mark.slow
def test_fuzzing_the_openapi_schema_finds_no_server_error(
    tracker: RunningTracker, tmp_path: Path
) -> None:
    """Coverage, fuzzing and stateful phases with the key set: every answer is below 500."""
    tracker.create("1A40603000123456")
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st is not None, "schemathesis is not installed in this environment"
    config = tmp_path / "schemathesis.toml"
    config.write_text(LONG_POLL_CONFIG)
    result = subprocess.run(
        [
            st,
            "--config-file",
            str(config),
            "run",
            f"{tracker.base_url}/schema/openapi.json",
            "--header",
            f"X-API-Key: {tracker.api_key}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "40",
            "--workers",
            "2",
            "--seed",
            "20261125",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # its crash cache (replayed on the next run) stays out of the repository
    )
    assert result.returncode == 0, result.stdout[-5000:]
    assert "generated" in result.stdout and " failed" not in result.stdout.split("SUMMARY")[-1]

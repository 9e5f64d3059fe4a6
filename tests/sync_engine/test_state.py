"""The engine's local state survives a SIGKILL at any moment, and the Excel workbook leaves no
temporary file behind when saving fails."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync_engine.actions import WriteCells
from sync_engine.sheets.stores import ExcelStore, StoreError
from sync_engine.state import EngineState

ROOT = Path(__file__).resolve().parents[2]
WRITER = """
import sys
from pathlib import Path
from sync_engine.state import EngineState

state = EngineState(Path(sys.argv[1]))
n = int(state.meta("n", 0))
while True:
    n += 1
    size = 8_000_000 if n % 2 else 1_000  # megabytes, then a much shorter write, and back
    state.set_meta("n", n)
    state.set_meta("blob", f"{n}:" + "x" * size)
    state.flush()
    print(n, flush=True)
"""


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_a_loadable_state(tmp_path: Path) -> None:
    """Twelve kill -9s at random moments of a write loop whose writes grow and shrink: every
    time the state loads, holds one whole write at least as new as the last one acknowledged,
    and nothing is set aside (rewriting the file in place failed this)."""
    path = tmp_path / "apexapi_state.json"
    rng = random.Random(7)
    for _ in range(12):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert writer.stdout is not None
        acknowledged = int(writer.stdout.readline())  # it writes, at least once
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(writer.pid, signal.SIGKILL)
        rest = writer.stdout.read().split()
        writer.wait()
        acknowledged = int(rest[-1]) if rest else acknowledged
        state = EngineState(path)
        n, blob = state.meta("n"), state.meta("blob")
        state.close()
        assert n >= acknowledged
        assert blob == f"{n}:" + "x" * (8_000_000 if n % 2 else 1_000)  # one whole write
    assert sorted(p.name for p in tmp_path.iterdir()) == ["apexapi_state.json"]


def test_a_failed_workbook_save_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up halfway through saving: a clear error, the workbook as it was, and
    no temporary file left in the folder."""
    from openpyxl.workbook.workbook import Workbook

    path = tmp_path / "packing_list.xlsx"
    store = ExcelStore(path)
    store.prepare({"Packing List": ["Product"]})
    before = path.read_bytes()

    def disk_full(self: Workbook, filename: str) -> None:
        Path(filename).write_bytes(b"PK\x03\x04 half a workbook")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Workbook, "save", disk_full)
    with pytest.raises(StoreError, match="No space left on device"):
        store.apply([WriteCells("Packing List", 2, 1, ("Gelato",))])
    assert [p.name for p in tmp_path.iterdir()] == ["packing_list.xlsx"]
    assert path.read_bytes() == before


def test_a_workbook_that_cannot_be_read_is_a_store_error(tmp_path: Path) -> None:
    """Not a workbook (or a folder of that name): the fallback says so instead of crashing."""
    (tmp_path / "broken.xlsx").write_text("not a workbook")
    (tmp_path / "folder.xlsx").mkdir()
    for name in ("broken.xlsx", "folder.xlsx"):
        with pytest.raises(StoreError, match="cannot be read"):
            ExcelStore(tmp_path / name).read("Packing List")

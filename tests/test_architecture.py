"""The shape of the house, checked: the two applications meet only in the contract package,
and every SQL statement of the tracker lives behind its storage layer."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Where the tracker's SQL may live: the database module, the schema, feature repositories.
STORAGE = re.compile(r"^tracker_service/(lib/db|lib/schema|lib/repository|\w+/repository)\.py$")
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|PRAGMA|BEGIN|COMMIT)\b")


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("tracker_service", {"sync_engine", "tray_app"}),
        ("sync_engine", {"tracker_service", "tray_app"}),
        ("tray_app", {"tracker_service"}),
    ],
)
def test_the_applications_meet_only_in_the_contract(package: str, forbidden: set[str]) -> None:
    """The tracker and ApexAPI never import each other (the engine never the tray app)."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & forbidden)
        for path in _modules(package)
        if _imports(path) & forbidden
    }
    assert offenders == {}


def test_the_contract_needs_nothing_but_msgspec() -> None:
    """Both applications can install it: it imports the standard library and msgspec only."""
    allowed = {"msgspec", "preroll_contract", "__future__", *sys.stdlib_module_names}
    used = set().union(*(_imports(path) for path in _modules("preroll_contract")))
    assert used - allowed == set()


def test_no_sql_outside_the_storage_layer() -> None:
    """Services, routes and pages hold no SQL text and run no statements; no query function
    offered to them takes a where-clause string (a repository's private helper may)."""
    offenders = []
    for path in _modules("tracker_service"):
        name = str(path.relative_to(ROOT))
        if STORAGE.match(name):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and SQL.match(node.value)
            ):
                offenders.append(f"{name}:{node.lineno} SQL text")
            if isinstance(node, ast.Attribute) and node.attr in ("execute", "executemany"):
                offenders.append(f"{name}:{node.lineno} .{node.attr}()")
    for path in _modules("tracker_service"):
        for node in ast.walk(ast.parse(path.read_text())):
            public = isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
            if public and any(a.arg == "where" for a in node.args.args + node.args.kwonlyargs):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} where parameter")
    assert offenders == []

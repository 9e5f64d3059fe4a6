"""The docs name every API route and every CLI command (a route nobody can find is a bug)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracker_service.app import TrackerSettings, create_app
from tracker_service.cli import _parser

ROOT = Path(__file__).resolve().parents[1]
API_DOC = (ROOT / "docs" / "api.md").read_text()
README = (ROOT / "README.md").read_text()


def _operations() -> list[str]:
    app = create_app(TrackerSettings(db_path=":memory:"))  # type: ignore[arg-type]
    paths = app.openapi_schema.to_schema()["paths"]
    return sorted(f"{method.upper()} {path}" for path, item in paths.items() for method in item)


@pytest.mark.parametrize("operation", _operations())
def test_every_route_is_in_the_api_doc(operation: str) -> None:
    """docs/api.md names each method + path of the OpenAPI schema."""
    method, path = operation.split(" ")
    documented = {
        (m, re.sub(r"\?.*$", "", p))
        for m, p in re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^` ]*)", API_DOC)
    } | {
        (m, re.sub(r"\?.*$", "", p))
        for ms, p in re.findall(
            r"`((?:POST|PUT|DELETE)(?:/(?:POST|PUT|DELETE))*) (/[^` ]*)", API_DOC
        )
        for m in ms.split("/")
    }
    assert (method, path) in documented


def test_every_cli_command_is_in_the_readme() -> None:
    """README shows each preroll-tracker subcommand and the Quick start's two commands."""
    commands = _parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        assert f"preroll-tracker {name}" in README
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert re.findall(r"^make \w+$", quick_start, re.MULTILINE) == ["make demo", "make test"]


def _config_keys() -> list[str]:
    import msgspec

    from sync_engine.config import Config

    keys = []
    for field in msgspec.structs.fields(Config):
        if isinstance(field.default_factory, type) and issubclass(
            field.default_factory, msgspec.Struct
        ):
            keys += [
                f"{field.name}.{sub.name}" for sub in msgspec.structs.fields(field.default_factory)
            ]
        else:
            keys.append(field.name)
    return keys


@pytest.mark.parametrize("key", _config_keys())
def test_every_config_key_is_documented(key: str) -> None:
    """docs/apexapi.md lists each apex_config.json key with its default."""
    assert f"| `{key}` |" in (ROOT / "docs" / "apexapi.md").read_text()


def test_example_config_uses_only_documented_keys() -> None:
    """apex_config.json (the example) holds no key the docs do not describe."""
    import json

    data = json.loads((ROOT / "apex_config.json").read_text())
    flat = [
        f"{k}.{s}" if isinstance(v, dict) else k
        for k, v in data.items()
        for s in (v if isinstance(v, dict) else [None])
    ]
    assert set(flat) <= set(_config_keys())


def test_every_apexapi_option_is_in_its_guide() -> None:
    """docs/apexapi.md shows each ``apexapi`` option in use."""
    from tray_app.cli import _parser as apexapi_parser

    guide = (ROOT / "docs" / "apexapi.md").read_text()
    options = [o for a in apexapi_parser()._actions for o in a.option_strings if o.startswith("--")]
    assert sorted(options) == ["--config", "--headless", "--help", "--quit", "--status"]
    for option in options:
        if option != "--help":
            assert f"apexapi {option}" in guide or f"apexapi --headless {option}" in guide


def _repository_text() -> dict[str, str]:
    """Every code and doc file of the repository (what a reader of it sees)."""
    found = {}
    for folder in ("docs", "preroll_contract", "tracker_service", "sync_engine", "tray_app",
                   "ui_html", "simulators", "installer", "demo", "bench", "tests"):  # fmt: skip
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".md", ".html", ".js", ".iss"} and path.is_file():
                found[str(path.relative_to(ROOT))] = path.read_text(errors="replace")
    for name in ("README.md", "Makefile"):
        found[name] = (ROOT / name).read_text()
    return found


LEFTOVERS = re.compile(
    r"not built yet|not yet built|until the [\w -]+ (?:lands|exists)|not implemented yet"
    r"|\bTODO\b|\bFIXME\b|SPEC §|SPEC\.md|shared/(?:SPEC|METRC|STYLE)",
    re.IGNORECASE,
)


def test_docs_and_code_have_no_leftovers_and_cite_only_the_repository() -> None:
    """No "not built yet"-style promises outlive the work, and nothing points at documents
    outside the repository: code and docs cite docs/."""
    hits = {
        name: sorted(set(LEFTOVERS.findall(text)))
        for name, text in _repository_text().items()
        if name != "tests/test_docs.py" and LEFTOVERS.search(text)
    }
    assert hits == {}

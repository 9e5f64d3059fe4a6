"""apex_config.json: typed, checked, one clear line per problem, secrets never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync_engine.config import config_template, decode_config, load_config

ROOT = Path(__file__).resolve().parents[2]


def valid() -> dict:
    data = json.loads((ROOT / "apex_config.json").read_text())
    data["dashboard_api_key"] = "prt_0123456789abcdef"
    data["api_token"] = "apex-token-9876"
    return data


def test_example_config_has_every_key_and_placeholder_secrets() -> None:
    """The shipped example decodes once secrets are filled, and refuses its placeholders."""
    config = decode_config(json.dumps(valid()))
    assert config.order_refresh_seconds == 10
    assert config.batch_inventory_sync.allocation == "shared"
    assert config.batch_inventory_sync.mapping_ttl_seconds == 300
    with pytest.raises(Exception, match="dashboard_api_key: is empty or still the placeholder"):
        decode_config((ROOT / "apex_config.json").read_bytes())


def test_shipped_example_is_the_template_edit_config_writes() -> None:
    """The repository's apex_config.json is exactly what the tray's Edit Config creates."""
    assert (ROOT / "apex_config.json").read_text() == config_template()


def test_defaults_fill_what_is_left_out() -> None:
    """Only the connection fields are required; the rest take the documented defaults."""
    config = decode_config(
        json.dumps(
            {
                "dashboard_url": "http://t:8000",
                "dashboard_api_key": "prt_0123456789",
                "api_token": "token-123456789",
            }
        )
    )
    assert (config.api_base_url, config.auto_refresh_enabled, config.ui_port) == (
        "https://app.apextrading.com/api",
        True,
        0,
    )
    assert config.batch_inventory_sync.enabled is False
    assert config.batch_inventory_sync.interval_seconds == 5
    assert config.google_sheets.enabled is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"order_refresh_seconds": "fast"}, "order_refresh_seconds: Expected `int`, got `str`"),
        ({"order_refresh_seconds": 1}, "order_refresh_seconds: Expected `int` >= 5"),
        (
            {"batch_inventory_sync": {"enabeld": True}},
            "batch_inventory_sync.enabeld: Object contains unknown field `enabeld`",
        ),
        ({"colour": "green"}, "colour: Object contains unknown field `colour`"),
        ({"api_initial_sync_date": "25/11/2026"}, "api_initial_sync_date: Invalid"),
        ({"dashboard_url": "himomstats.online"}, "dashboard_url: must be an http"),
        ({"log_level": "LOUD"}, "log_level: must be one of"),
        ({"google_sheets": {"enabled": True}}, "google_sheets.packing_list_sheet_id: is required"),
        (
            {"google_sheets": {"poll_interval_seconds": 0}},
            "google_sheets.poll_interval_seconds: Expected `float` >= 1",
        ),
    ],
)
def test_bad_config_is_one_line_naming_the_field(change: dict, message: str) -> None:
    """Each problem is reported as `file: field: what is wrong` on one line."""
    data = valid()
    for key, value in change.items():
        data[key] = {**data[key], **value} if isinstance(data.get(key), dict) else value
    with pytest.raises(Exception) as error:
        decode_config(json.dumps(data), "apex_config.json")
    text = str(error.value)
    assert text.startswith("apex_config.json: ") and message in text and "\n" not in text


def test_missing_required_field_and_missing_file(tmp_path: Path) -> None:
    """A missing field or file is named with what to do."""
    data = valid()
    del data["api_token"]
    with pytest.raises(Exception, match="api_token: Object missing required field"):
        decode_config(json.dumps(data))
    with pytest.raises(Exception, match=r"not found; copy apex_config\.json there"):
        load_config(tmp_path / "apex_config.json")
    (tmp_path / "apex_config.json").write_text("{not json")
    with pytest.raises(Exception, match="not valid JSON"):
        load_config(tmp_path / "apex_config.json")


def test_secrets_are_redacted_for_logs() -> None:
    """What gets logged shows only the last four characters of each secret."""
    redacted = decode_config(json.dumps(valid())).redacted()
    assert (redacted["dashboard_api_key"], redacted["api_token"]) == ("...cdef", "...9876")
    assert "apex-token-9876" not in json.dumps(redacted)

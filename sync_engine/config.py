"""``apex_config.json``: located, decoded into typed structs, checked (docs/apexapi.md).

An invalid file gives one line naming the field and the problem. Secrets never reach a log:
``Config.redacted()`` is what gets logged.
"""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from sync_engine.errors import ConfigError

__all__ = [
    "CONFIG_NAME",
    "BatchInventorySync",
    "Config",
    "GoogleSheets",
    "config_template",
    "find_config",
    "load_config",
]

CONFIG_NAME = "apex_config.json"
APEX_DEFAULT_URL = "https://app.apextrading.com/api"
_SECRET_FIELDS = ("dashboard_api_key", "api_token")

Seconds = Annotated[int, Meta(ge=1, le=86_400)]
SkuKey = Annotated[str, Meta(min_length=1, max_length=64)]
Weight = Annotated[float, Meta(ge=0, le=1_000_000)]


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """Config sections refuse unknown keys: a typo must not be silently ignored."""


class BatchInventorySync(_Section, frozen=True):
    enabled: bool = False
    interval_seconds: Annotated[float, Meta(ge=0.5, le=3600)] = 5
    mapping_ttl_seconds: Seconds = 300
    dry_run: bool = False
    #: A cycle that would zero more than this share of the mapped Apex batches at once is held
    #: back and reported instead (see docs/decisions.md).
    max_zero_share: Annotated[float, Meta(ge=0, le=1)] = 0.5
    #: "shared": every SKU advertises all the strain's grams (the guide's rule); "split": the
    #: strain's batches together never advertise more grams than it has (docs/apexapi.md).
    allocation: Literal["shared", "split"] = "shared"
    #: Fixed weights per SKU key for "split"; absent: chosen from recent demand.
    split_shares: dict[SkuKey, Weight] | None = None


class GoogleSheets(_Section, frozen=True):
    enabled: bool = False
    credentials_path: str = "credentials.json"
    packing_list_sheet_id: str = ""
    history_sheet_id: str = ""
    delivery_sheet_id: str = ""
    poll_interval_seconds: Annotated[float, Meta(ge=1, le=3600)] = 2
    fallback_to_excel: bool = True
    auto_create_sheets: bool = True
    api_base_url: str | None = None
    excel_path: str | None = None


class Config(_Section, frozen=True):
    dashboard_url: str
    dashboard_api_key: str
    api_token: str
    api_base_url: str = APEX_DEFAULT_URL
    auto_refresh_enabled: bool = True
    order_refresh_seconds: Annotated[int, Meta(ge=5, le=86_400)] = 10
    excluded_statuses: list[str] = msgspec.field(default_factory=list)
    api_initial_sync_date: date | None = None
    batch_inventory_sync: BatchInventorySync = msgspec.field(default_factory=BatchInventorySync)
    google_sheets: GoogleSheets = msgspec.field(default_factory=GoogleSheets)
    log_level: str = "INFO"
    log_dir: str | None = None
    ui_port: Annotated[int, Meta(ge=0, le=65_535)] = 0

    def redacted(self) -> dict[str, object]:
        """The config as a dict safe to log: secrets shown only by their last 4 characters."""
        data: dict[str, object] = msgspec.to_builtins(self)
        for name in _SECRET_FIELDS:
            value = str(data.get(name) or "")
            data[name] = f"...{value[-4:]}" if len(value) > 8 else "(set)" if value else ""
        return data


_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _check(config: Config) -> Config:
    for name in ("dashboard_url", "api_base_url"):
        if not _URL.match(getattr(config, name)):
            raise ConfigError(f"{name}: must be an http:// or https:// URL")
    sheets_url = config.google_sheets.api_base_url
    if sheets_url is not None and not _URL.match(sheets_url):
        raise ConfigError("google_sheets.api_base_url: must be an http:// or https:// URL")
    for name in _SECRET_FIELDS:
        value = getattr(config, name).strip()
        if not value or value.upper().startswith("PASTE"):
            raise ConfigError(f"{name}: is empty or still the placeholder; paste the real value")
    if config.log_level.upper() not in _LEVELS:
        raise ConfigError(f"log_level: must be one of {', '.join(_LEVELS)}")
    shares = config.batch_inventory_sync.split_shares
    if shares is not None and not any(weight > 0 for weight in shares.values()):
        raise ConfigError("batch_inventory_sync.split_shares: at least one weight must be above 0")
    sheets = config.google_sheets
    if sheets.enabled and not sheets.packing_list_sheet_id:
        raise ConfigError("google_sheets.packing_list_sheet_id: is required when enabled is true")
    return config


def _field_path(message: str) -> str:
    match = re.search(r"at `\$\.?([^`]*)`", message)
    path = match.group(1) if match else ""
    for pattern in (r"unknown field `([^`]+)`", r"required field `([^`]+)`"):
        named = re.search(pattern, message)
        if named:
            path = f"{path}.{named.group(1)}" if path else named.group(1)
    return path or "(top level)"


def decode_config(text: bytes | str, source: str = CONFIG_NAME) -> Config:
    """Decode and check config text; ConfigError names the field and what is wrong."""
    try:
        config = msgspec.json.decode(text, type=Config)
    except msgspec.ValidationError as exc:
        message = re.sub(r" - at `\$[^`]*`", "", str(exc))
        raise ConfigError(f"{source}: {_field_path(str(exc))}: {message}") from None
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{source}: not valid JSON ({exc})") from None
    try:
        return _check(config)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def find_config(explicit: Path | None = None) -> Path:
    """``--config`` if given, else next to the executable, else the user's config folder."""
    if explicit is not None:
        return explicit
    candidates = [
        Path(sys.executable).resolve().parent / CONFIG_NAME,
        user_config_dir() / CONFIG_NAME,
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return candidates[-1]


def user_config_dir() -> Path:
    if os.name == "nt":
        return Path(os.environ.get("APPDATA", Path.home())) / "ApexAPI"
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "apexapi"


def user_data_dir() -> Path:
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "ApexAPI"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "apexapi"


def config_template() -> str:
    """A starting ``apex_config.json``: every key at its default, secrets as placeholders."""
    example = Config(
        dashboard_url="http://127.0.0.1:8000",
        dashboard_api_key="PASTE-THE-KEY-FROM-PREROLLTRACKER-SETTINGS",
        api_token="PASTE-YOUR-APEX-TRADING-API-TOKEN",
    )

    def without_none(value: object) -> object:
        if isinstance(value, dict):
            return {k: without_none(v) for k, v in value.items() if v is not None}
        return value

    data = without_none(msgspec.to_builtins(example))
    return json.dumps(data, indent=2) + "\n"


def load_config(path: Path) -> Config:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: not found; copy apex_config.json there and fill it in"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    return decode_config(text, str(path))


def data_dir_for(config_path: Path) -> Path:
    """Logs and state go next to the config when that folder is writable (docs/apexapi.md)."""
    folder = config_path.resolve().parent
    if os.access(folder, os.W_OK):
        return folder
    fallback = user_data_dir()
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback

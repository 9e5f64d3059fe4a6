"""gspread clients: Google's own endpoints with a service account, or another
Sheets-compatible server (``google_sheets.api_base_url``, e.g. the local simulator)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gspread
import requests

__all__ = ["NETWORK_TIMEOUT_SECONDS", "RedirectingSession", "open_client"]

#: Every request to Sheets gives up after this: a hung connection must not hold the packing
#: list, which falls back to the Excel workbook within 30 s of Sheets failing.
NETWORK_TIMEOUT_SECONDS = 10

_GOOGLE_HOSTS = ("https://sheets.googleapis.com", "https://www.googleapis.com")


class RedirectingSession(requests.Session):
    """Sends gspread's requests to ``base_url`` instead of Google's hosts."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        text = url.decode() if isinstance(url, bytes) else url
        for host in _GOOGLE_HOSTS:
            if text.startswith(host):
                text = self.base_url + text[len(host) :]
        verb = method.decode() if isinstance(method, bytes) else method
        return super().request(verb, text, *args, **kwargs)


def open_client(credentials_path: Path, api_base_url: str | None) -> gspread.Client:
    """A gspread client; with ``api_base_url`` no Google sign-in is attempted."""
    if api_base_url:
        client = gspread.Client(auth=None, session=RedirectingSession(api_base_url))  # type: ignore[arg-type]
    else:
        if not credentials_path.is_file():
            raise FileNotFoundError(credentials_path)
        client = gspread.service_account(filename=str(credentials_path))
    client.set_timeout(NETWORK_TIMEOUT_SECONDS)
    return client

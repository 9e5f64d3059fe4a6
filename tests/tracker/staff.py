"""A signed-in staff browser without a browser: httpx with the session cookie and CSRF token,
posting forms exactly as the pages do (for tests that send many forms)."""

from __future__ import annotations

import re
from typing import Any

import httpx

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class StaffClient:
    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)
        login = self.http.get("/login")
        token = _CSRF.search(login.text)
        assert token, login.text
        answer = self.http.post(
            "/login", data={"username": username, "password": password, "csrf_token": token[1]}
        )
        assert answer.status_code == 303, answer.text
        page = self.http.get("/")
        found = _CSRF.search(page.text)
        assert found, page.text
        self.csrf = found[1]

    def post(self, path: str, fields: dict[str, Any]) -> httpx.Response:
        """Submit a form (with this session's CSRF token)."""
        return self.http.post(path, data={**fields, "csrf_token": self.csrf})

    def errors(self, response: httpx.Response) -> dict[str, str]:
        """The field errors a re-rendered form shows: {field: message}."""
        found = re.findall(r'<small class="error" id="err-([^"]+)">([^<]*)</small>', response.text)
        return dict(found)

    def close(self) -> None:
        self.http.close()

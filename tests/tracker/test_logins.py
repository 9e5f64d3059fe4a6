"""Sign-in throttling, bounded password hashing, CSRF on sign-in and sign-out, user management
(disable, reset, change own password) in Settings and the CLI, Secure cookies behind a TLS
proxy, and the long-poll limit per API key (docs/api.md)."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from tests.conftest import RunningTracker
from tests.tracker.serve_process import ServeProcess
from tests.tracker.staff import StaffClient
from tests.tracker.test_cli import run
from tracker_service.auth.throttle import LoginThrottle, SignIn
from tracker_service.auth.users import UserStore
from tracker_service.lib.db import Database
from tracker_service.lib.errors import TooManyRequests, Unauthorized

PASSWORD = "login-test-pass"


def _sign_in(base_url: str, username: str, password: str, **headers: str) -> httpx.Response:
    """The sign-in form as a browser sends it (the cookie is sent even when it is marked Secure,
    as the browser would over the proxy's HTTPS)."""
    with httpx.Client(base_url=base_url, headers=headers) as browser:
        form = browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        return browser.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token[1]},
            headers={"Cookie": f"prt_login_csrf={form.cookies['prt_login_csrf']}"},
        )


@pytest.fixture
def people(tracker: RunningTracker) -> RunningTracker:
    tracker.services.users.create("maria", PASSWORD, "admin")
    tracker.services.users.create("sam", PASSWORD, "staff")
    return tracker


def test_throttle_counts_per_username_and_per_address_within_the_window() -> None:
    """5 failures for a name, or from an address, in 15 min: refused with the seconds to wait;
    the window passing, or a success for that name, lets it in again."""
    now = [1000.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(5):
        throttle.begin("Maria", "10.0.0.1")
    with pytest.raises(TooManyRequests) as refused:
        throttle.begin("maria", "10.0.0.2")  # the name, any case, from elsewhere
    assert refused.value.retry_after == 900
    with pytest.raises(TooManyRequests):
        throttle.begin("someone-else", "10.0.0.1")  # the address, any name
    throttle.begin("someone-else", "10.0.0.2")
    now[0] += 600
    with pytest.raises(TooManyRequests) as later:
        throttle.begin("maria", "10.0.0.3")
    assert later.value.retry_after == 300
    now[0] += 300
    moment = throttle.begin("maria", "10.0.0.3")
    throttle.succeeded("maria", "10.0.0.3", moment)
    for _ in range(4):
        throttle.begin("maria", "10.0.0.4")
    throttle.begin("maria", "10.0.0.5")  # a success wiped the name's earlier failures


def test_sixth_sign_in_is_refused_even_with_the_right_password(people: RunningTracker) -> None:
    """After 5 wrong passwords the page answers 429 with Retry-After; another address (as the
    TLS proxy reports it) still signs in."""
    proxy = {"X-Forwarded-For": "10.0.0.5"}
    for _ in range(5):
        assert _sign_in(people.base_url, "maria", "wrong-password", **proxy).status_code == 401
    refused = _sign_in(people.base_url, "maria", PASSWORD, **proxy)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 800
    assert "too many failed sign-ins" in refused.text
    assert (
        _sign_in(people.base_url, "sam", PASSWORD, **{"X-Forwarded-For": "10.0.0.6"}).status_code
        == 303
    )


class CountingHasher(PasswordHasher):
    """Argon2 as shipped, counting the checks and how many run at once."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.05)
            return super().verify(hash, password)
        finally:
            with self._lock:
                self.running -= 1


def test_password_checks_are_bounded_and_cost_the_same_for_unknown_names(tmp_path: Path) -> None:
    """Twelve sign-ins at once run at most two Argon2 checks at a time; an unknown username is
    checked against a hash like a wrong password, so the answer time does not give it away."""
    db = Database(tmp_path / "t.db")
    hasher = CountingHasher()
    users = UserStore(db, hasher)
    users.create("maria", PASSWORD, "admin")
    sign_in = SignIn(users)
    refused: list[str] = []

    def attempt(n: int) -> None:
        try:  # five wrong passwords for maria (a sixth would be throttled), seven unknown names
            sign_in.check("maria" if n < 5 else f"ghost{n}", "wrong-password", f"10.1.0.{n}")
        except Unauthorized as exc:
            refused.append(exc.detail)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert refused == ["Wrong username or password."] * 12
    assert (hasher.calls, hasher.most) == (12, 2)
    db.close()


def test_sign_in_and_sign_out_need_the_forms_csrf_token(people: RunningTracker) -> None:
    """A sign-in posted from another site (no token) is refused; so is a sign-out, which then
    leaves the session alone."""
    with httpx.Client(base_url=people.base_url) as browser:
        browser.get("/login")
        forged = browser.post("/login", data={"username": "maria", "password": PASSWORD})
        assert forged.status_code == 403 and "CSRF" in forged.text
    staff = StaffClient(people.base_url, "sam", PASSWORD)
    assert staff.http.post("/logout", data={}).status_code == 403
    assert staff.http.get("/batches/").status_code == 200
    assert staff.post("/logout", {}).status_code == 303
    assert staff.http.get("/batches/").status_code == 303


def test_disabling_a_user_ends_their_sessions_at_once(people: RunningTracker) -> None:
    """An admin disables sam: sam's open session stops working and sam cannot sign in; enabled
    again, sam can. Nobody can disable themselves or the last admin."""
    admin = StaffClient(people.base_url, "maria", PASSWORD)
    sam = StaffClient(people.base_url, "sam", PASSWORD)
    assert admin.post("/settings/users/enabled", {"username": "sam"}).status_code == 303
    assert sam.http.get("/batches/").status_code == 303  # back to the sign-in page
    disabled = _sign_in(people.base_url, "sam", PASSWORD)
    assert disabled.status_code == 403 and "disabled" in disabled.text
    own = admin.post("/settings/users/enabled", {"username": "maria"})
    assert own.status_code == 409 and "cannot disable your own login" in own.text
    with pytest.raises(Exception, match="last enabled admin"):
        people.services.users.set_enabled("maria", False)
    assert (
        admin.post("/settings/users/enabled", {"username": "sam", "enabled": "on"}).status_code
        == 303
    )
    assert _sign_in(people.base_url, "sam", PASSWORD).status_code == 303


def test_an_admin_resets_a_password_and_a_user_changes_their_own(people: RunningTracker) -> None:
    """A reset ends the user's sessions and only the new password works. Changing one's own
    password needs the current one and ends one's other sessions, not this one."""
    admin = StaffClient(people.base_url, "maria", PASSWORD)
    sam = StaffClient(people.base_url, "sam", PASSWORD)
    short = admin.post("/settings/users/password", {"username": "sam", "new_password": "short"})
    assert short.status_code == 422 and "needs at least 8 characters" in short.text
    assert sam.http.get("/batches/").status_code == 200
    reset = admin.post(
        "/settings/users/password", {"username": "sam", "new_password": "fresh-pass-1"}
    )
    assert reset.status_code == 303
    assert sam.http.get("/batches/").status_code == 303
    assert _sign_in(people.base_url, "sam", PASSWORD).status_code == 401
    sam = StaffClient(people.base_url, "sam", "fresh-pass-1")
    other_tab = StaffClient(people.base_url, "sam", "fresh-pass-1")
    change = {
        "current_password": "nope-nope",
        "new_password": "newer-pass-2",
        "repeat_password": "newer-pass-2",
    }
    wrong = sam.post("/account/password", change)
    assert (wrong.status_code, sam.errors(wrong)) == (
        422,
        {"current_password": "is not your current password"},
    )
    mismatch = sam.post(
        "/account/password", change | {"current_password": "fresh-pass-1", "repeat_password": "x"}
    )
    assert sam.errors(mismatch) == {"repeat_password": "does not match the new password"}
    done = sam.post("/account/password", change | {"current_password": "fresh-pass-1"})
    assert done.status_code == 303
    assert sam.http.get("/batches/").status_code == 200
    assert other_tab.http.get("/batches/").status_code == 303
    assert _sign_in(people.base_url, "sam", "newer-pass-2").status_code == 303


def test_the_cli_lists_disables_enables_and_resets_users(tmp_path: Path) -> None:
    """The same operations from the server's shell; bad names and passwords exit 2 and change
    nothing."""
    db = str(tmp_path / "t.db")
    env = {"PREROLL_TRACKER_PASSWORD": PASSWORD}
    assert run("create-user", "--db", db, "--admin", "maria", env=env).returncode == 0
    assert run("create-user", "--db", db, "--staff", "sam", env=env).returncode == 0
    assert run("disable-user", "--db", db, "sam").stdout.strip() == (
        "Disabled sam; their sessions have ended"
    )
    listed = run("list-users", "--db", db).stdout.splitlines()
    assert listed[0] == "maria\tadmin\tenabled" and listed[1].startswith("sam\tstaff\tdisabled 20")
    last = run("disable-user", "--db", db, "maria")
    assert (last.returncode, "last enabled admin" in last.stderr) == (2, True)
    unknown = run("enable-user", "--db", db, "=1+1")
    assert (unknown.returncode, unknown.stderr.strip()) == (2, "preroll-tracker: no user '=1+1'")
    assert run("enable-user", "--db", db, "sam").returncode == 0
    weak = run("reset-password", "--db", db, "sam", env={"PREROLL_TRACKER_PASSWORD": "short"})
    assert (weak.returncode, weak.stderr.strip()) == (
        2,
        "preroll-tracker: new_password: must be at least 8 characters",
    )
    assert (
        run(
            "reset-password", "--db", db, "sam", env={"PREROLL_TRACKER_PASSWORD": "fresh-pass-1"}
        ).returncode
        == 0
    )
    database = Database(db)
    users = UserStore(database)
    assert (users.verify("sam", PASSWORD), users.verify("sam", "fresh-pass-1").role) == (
        None,
        "staff",
    )
    database.close()
    for option, value in (
        *(("--port", port) for port in ("0", "99999", "http", "-1")),
        ("--host", "=1+1"),
        ("--trusted-proxies", "<script>"),
    ):
        bad = run("serve", "--db", db, option, value)
        assert bad.returncode == 2 and f"argument {option}" in bad.stderr, bad.stderr
    no_password = run("create-user", "--db", db, "--staff", "pat")  # no terminal, no variable
    assert (no_password.returncode, "no password given" in no_password.stderr) == (2, True)


def test_behind_a_tls_proxy_the_session_cookie_is_secure(tmp_path: Path) -> None:
    """The proxy on the same machine says the browser came over HTTPS: the cookie is Secure.
    With no trusted proxy the header is ignored."""
    db = tmp_path / "tracker.db"
    Database(db).close()
    UserStore(database := Database(db)).create("maria", PASSWORD, "admin")
    database.close()
    with ServeProcess(db) as server:
        behind = _sign_in(server.base_url, "maria", PASSWORD, **{"X-Forwarded-Proto": "https"})
        plain = _sign_in(server.base_url, "maria", PASSWORD)
    assert behind.status_code == plain.status_code == 303
    assert "secure" in behind.headers["set-cookie"].lower()
    assert "secure" not in plain.headers["set-cookie"].lower()
    with ServeProcess(db, "--trusted-proxies", "") as server:
        ignored = _sign_in(server.base_url, "maria", PASSWORD, **{"X-Forwarded-Proto": "https"})
    assert "secure" not in ignored.headers["set-cookie"].lower()


def test_long_polls_are_limited_per_api_key(tracker: RunningTracker) -> None:
    """Four waits per key at once; a fifth gets 429 too_many_waits with Retry-After and the
    waits already running are unaffected."""
    tracker.create("AAAAAAAAAA01")
    cursor = tracker.client.get("/api/changes").json()["cursor"]
    answers: list[int] = []

    def wait() -> None:
        with httpx.Client(base_url=tracker.base_url, headers={"X-API-Key": tracker.api_key}) as c:
            answers.append(
                c.get("/api/changes", params={"since": cursor, "wait": 3}, timeout=10).status_code
            )

    waiting = [threading.Thread(target=wait) for _ in range(4)]
    for thread in waiting:
        thread.start()
    time.sleep(0.5)
    fifth = tracker.client.get("/api/changes", params={"since": cursor, "wait": 3})
    assert (fifth.status_code, fifth.json()["error"], fifth.headers["Retry-After"]) == (
        429,
        "too_many_waits",
        "1",
    )
    for thread in waiting:
        thread.join()
    assert answers == [200] * 4
    again = tracker.client.get("/api/changes", params={"since": cursor, "wait": 0})
    assert again.status_code == 200

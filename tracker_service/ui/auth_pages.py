"""Sign in, sign out, and a user's own account (change password).

The sign-in form carries a CSRF token too: with no session yet, it is a random value kept in
a short-lived cookie and echoed by the form (double submit), so another site cannot sign a
browser in to an account of its choosing.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Template

from tracker_service.auth.schemas import PasswordChange, SignInForm
from tracker_service.lib.decoding import decode_form
from tracker_service.lib.errors import Forbidden, InvalidInput, TrackerError
from tracker_service.ui.common import (
    COOKIE,
    FormData,
    check_csrf,
    page,
    redirect,
    services_of,
    session_of,
    submit,
)

__all__ = ["AuthPages"]

AnyRequest = Request[Any, Any, Any]
LOGIN_CSRF_COOKIE = "prt_login_csrf"


def _safe_target(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _cookie(request: AnyRequest, key: str, value: str, max_age: int, samesite: str) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        httponly=True,
        samesite=samesite,  # type: ignore[arg-type]
        secure=request.url.scheme == "https",
        path="/",
        max_age=max_age,
    )


class AuthPages(Controller):
    include_in_schema = False

    def _form(self, request: AnyRequest, status: int = 200, **extra: Any) -> Template:
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = page(
            request,
            "login.html",
            None,
            status=status,
            login_csrf=token,
            **{"next": _safe_target(request.query_params.get("next", "/"))} | extra,
        )
        response.cookies.append(_cookie(request, LOGIN_CSRF_COOKIE, token, 3600, "strict"))
        return response

    @get("/login", sync_to_thread=False)
    def login_form(self, request: AnyRequest) -> Template:
        return self._form(request)

    @post("/login", sync_to_thread=True)
    def login(self, request: AnyRequest, data: FormData) -> Response[Any]:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not hmac.compare_digest(data.get("csrf_token", ""), expected):
            raise Forbidden(
                "the sign-in form was not sent from this site (missing or old CSRF token); "
                "reload the sign-in page and try again"
            )
        target, username = _safe_target(data.get("next", "/")), data.get("username", "").strip()
        address = request.client.host if request.client else "unknown"
        try:
            form = decode_form(data, SignInForm)
            user = services_of(request).sign_in.check(form.username, form.password, address)
        except TrackerError as exc:
            # A malformed form is just another wrong sign-in: say no more than that.
            malformed = isinstance(exc, InvalidInput)
            refused = self._form(
                request,
                401 if malformed else exc.status_code,
                next=target,
                form={"username": username[:200]},
                errors={"_form": "Wrong username or password." if malformed else exc.detail},
            )
            refused.headers.update(exc.headers())
            return refused
        token = services_of(request).sessions.create(user.username)
        response = redirect(target)
        response.cookies.append(_cookie(request, COOKIE, token, 12 * 3600, "lax"))
        return response

    @post("/logout", sync_to_thread=True)
    def logout(self, request: AnyRequest, data: FormData) -> Response[Any]:
        session = services_of(request).sessions.get(request.cookies.get(COOKIE))
        if session is not None:
            check_csrf(session, data)
            services_of(request).sessions.end(request.cookies.get(COOKIE))
        response = redirect("/login", "Signed out.")
        response.cookies.append(_cookie(request, COOKIE, "", 0, "lax"))
        return response

    @get("/account", sync_to_thread=True)
    def account(self, request: AnyRequest) -> Template:
        return page(request, "account.html", session_of(request))

    @post("/account/password", sync_to_thread=True)
    def change_password(self, request: AnyRequest, data: FormData) -> Response[Any]:
        def action(session: Any) -> Response[Any]:
            body = decode_form(data, PasswordChange)
            if data.get("repeat_password", "") != body.new_password:
                raise InvalidInput("repeat_password", "does not match the new password")
            services_of(request).users.change_own_password(
                session.username,
                body.current_password,
                body.new_password,
                keep_session=session.token_hash,
            )
            return redirect("/account", "Password changed; your other sessions have ended.")

        return submit(
            request,
            data,
            action,
            lambda errors, status: page(
                request, "account.html", session_of(request), status=status, errors=errors
            ),
        )

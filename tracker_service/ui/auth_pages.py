"""Login and logout."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Template

from tracker_service.ui.common import COOKIE, FormData, page, redirect, services_of

__all__ = ["AuthPages"]

AnyRequest = Request[Any, Any, Any]


class AuthPages(Controller):
    include_in_schema = False

    @get("/login", sync_to_thread=False)
    def login_form(self, request: AnyRequest) -> Template:
        return page(request, "login.html", None, next=request.query_params.get("next", "/"))

    @post("/login", sync_to_thread=True)
    def login(self, request: AnyRequest, data: FormData) -> Response[Any]:
        services = services_of(request)
        username = data.get("username", "").strip()
        target = data.get("next") or "/"
        if not target.startswith("/") or target.startswith("//"):
            target = "/"  # never redirect off-site
        role = services.users.verify(username, data.get("password", ""))
        if role is None:
            return page(
                request,
                "login.html",
                None,
                status=401,
                next=target,
                form={"username": username},
                errors={"_form": "Wrong username or password."},
            )
        token = services.sessions.create(username)
        response = redirect(target)
        response.cookies.append(
            Cookie(
                key=COOKIE,
                value=token,
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
                path="/",
                max_age=12 * 3600,
            )
        )
        return response

    @post("/logout", sync_to_thread=True)
    def logout(self, request: AnyRequest, data: FormData) -> Response[Any]:
        services_of(request).sessions.end(request.cookies.get(COOKIE))
        response = redirect("/login", "Signed out.")
        response.cookies.append(
            Cookie(key=COOKIE, value="", max_age=0, path="/", httponly=True, samesite="lax")
        )
        return response

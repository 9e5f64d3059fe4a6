"""Settings (admins only): the API key, weight-check tolerances, users."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from tracker_service.ui.common import (
    FormData,
    admin_session,
    check_csrf,
    number,
    page,
    redirect,
    services_of,
    submit,
)

__all__ = ["SettingsPages"]

AnyRequest = Request[Any, Any, Any]


class SettingsPages(Controller):
    path = "/settings"
    include_in_schema = False

    def _page(self, request: AnyRequest, status: int = 200, **extra: Any) -> Template:
        session = admin_session(request)
        services = services_of(request)
        tol = services.batches.tolerances()
        return page(
            request,
            "settings.html",
            session,
            status=status,
            key_prefix=services.api_keys.active_prefix(),
            unit_pct=tol.unit_bp / 100,
            mean_pct=tol.mean_bp / 100,
            users=services.users.list_users(),
            **extra,
        )

    @get("/", sync_to_thread=True)
    def settings(self, request: AnyRequest) -> Template:
        return self._page(request)

    @post("/api-key", sync_to_thread=True)
    def regenerate(self, request: AnyRequest, data: FormData) -> Template:
        session = admin_session(request)
        check_csrf(session, data)
        key = services_of(request).api_keys.rotate(created_by=session.actor)
        # Shown once, on this answer only: it is stored hashed.
        return self._page(request, new_key=key)

    @post("/tolerances", sync_to_thread=True)
    def tolerances(self, request: AnyRequest, data: FormData) -> Response[Any]:
        admin_session(request)

        def action(_: Any) -> Response[Any]:
            services_of(request).batches.set_tolerances(
                number(data, "unit_tolerance_pct"), number(data, "mean_tolerance_pct")
            )
            return redirect("/settings", "Tolerances saved.")

        return submit(
            request, data, action, lambda errors: self._page(request, 422, form=data, errors=errors)
        )

    @post("/users", sync_to_thread=True)
    def add_user(self, request: AnyRequest, data: FormData) -> Response[Any]:
        admin_session(request)

        def action(_: Any) -> Response[Any]:
            username = data.get("username", "").strip()
            services_of(request).users.create(
                username, data.get("password", ""), data.get("role", "staff")
            )
            return redirect("/settings", f"User {username} created.")

        return submit(
            request, data, action, lambda errors: self._page(request, 422, form=data, errors=errors)
        )

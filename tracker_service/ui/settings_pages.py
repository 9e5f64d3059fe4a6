"""Settings (admins only): the API key, weight-check tolerances, users."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from tracker_service.auth.schemas import PasswordReset, UserChoice, UserCreate
from tracker_service.batches.schemas import TolerancesUpdate
from tracker_service.lib.decoding import decode_form
from tracker_service.ui.common import (
    FormData,
    admin_session,
    check_csrf,
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

    def _act(self, request: AnyRequest, data: dict[str, str], do: Any) -> Response[Any]:
        """An admin form: CSRF, decode, act; errors re-render Settings next to the field."""
        admin_session(request)
        return submit(
            request,
            data,
            lambda session: redirect("/settings", do(session)),
            lambda errors, status: self._page(request, status, form=data, errors=errors),
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
        def do(_: Any) -> str:
            services_of(request).batches.set_tolerances(decode_form(data, TolerancesUpdate))
            return "Tolerances saved."

        return self._act(request, data, do)

    @post("/users", sync_to_thread=True)
    def add_user(self, request: AnyRequest, data: FormData) -> Response[Any]:
        def do(_: Any) -> str:
            body = decode_form(data, UserCreate)
            services_of(request).users.create(body.username, body.password, body.role)
            return f"User {body.username} created."

        return self._act(request, data, do)

    @post("/users/enabled", sync_to_thread=True)
    def set_enabled(self, request: AnyRequest, data: FormData) -> Response[Any]:
        def do(session: Any) -> str:
            body = decode_form(data, UserChoice, flags=("enabled",))
            user = services_of(request).users.set_enabled(
                body.username, body.enabled, by=session.username
            )
            if user.enabled:
                return f"User {user.username} enabled."
            return f"User {user.username} disabled; their sessions have ended."

        return self._act(request, data, do)

    @post("/users/password", sync_to_thread=True)
    def reset_password(self, request: AnyRequest, data: FormData) -> Response[Any]:
        def do(_: Any) -> str:
            body = decode_form(data, PasswordReset)
            services_of(request).users.reset_password(body.username, body.new_password)
            return f"Password of {body.username} reset; their sessions have ended."

        return self._act(request, data, do)

"""METRC (staff see it, admins act on it): the sync's status, drift to resolve by choosing a
side (one by one or all at once), the outbox with review, and Settings → METRC."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from tracker_service.lib.decoding import decode_form
from tracker_service.lib.errors import InvalidInput
from tracker_service.metrc.schemas import DriftResolve, MetrcSettingsBody, ReviewBody
from tracker_service.ui.common import (
    FormData,
    admin_session,
    page,
    redirect,
    services_of,
    session_of,
    submit,
)

__all__ = ["MetrcPages"]

AnyRequest = Request[Any, Any, Any]
SETTINGS_FLAGS = ("enabled", "review_before_submit")


class MetrcPages(Controller):
    path = "/metrc"
    include_in_schema = False

    def _page(self, request: AnyRequest, status: int = 200, **extra: Any) -> Template:
        session = session_of(request)
        metrc = services_of(request).metrc
        return page(
            request,
            "metrc.html",
            session,
            status=status,
            status_now=metrc.status(),
            drift=metrc.drift(),
            outbox=metrc.outbox(200),
            settings=metrc.settings().masked(),
            **extra,
        )

    def _act(
        self, request: AnyRequest, data: dict[str, str], do: Any, back: str = "/metrc/"
    ) -> Response[Any]:
        admin_session(request)
        return submit(
            request,
            data,
            lambda session: redirect(back, do(session)),
            lambda errors, status: self._page(request, status, form=data, errors=errors),
        )

    @get("/", sync_to_thread=True)
    def metrc(self, request: AnyRequest) -> Template:
        return self._page(request)

    @post("/pull")
    async def pull(self, request: AnyRequest, data: FormData) -> Response[Any]:
        admin_session(request)
        services = services_of(request)
        await services.metrc_worker.pull_now()

        def do(_: Any) -> str:
            return f"Pulled from METRC: {services.metrc.status().message}"

        return self._act(request, data, do)

    @post("/drift/{metrc_number:str}", sync_to_thread=True)
    def resolve(self, request: AnyRequest, metrc_number: FromPath[str], data: FormData) -> Any:
        def do(session: Any) -> str:
            body = decode_form(data, DriftResolve)
            services_of(request).metrc.resolve_drift(metrc_number, body, session.actor)
            return f"{metrc_number}: {_side(body.accept)} accepted."

        return self._act(request, data, do)

    @post("/drift", sync_to_thread=True)
    def resolve_all(self, request: AnyRequest, data: FormData) -> Response[Any]:
        """The checked rows, all the same way."""

        def do(session: Any) -> str:
            body = decode_form(data, DriftResolve)
            chosen = [key.removeprefix("pick:") for key in data if key.startswith("pick:")]
            if not chosen:
                raise InvalidInput("pick", "tick at least one package")
            metrc = services_of(request).metrc
            for label in chosen:
                metrc.resolve_drift(label, body, session.actor)
            return f"{len(chosen)} package(s): {_side(body.accept)} accepted."

        return self._act(request, data, do)

    @post("/outbox/{entry_id:int}/{action:str}", sync_to_thread=True)
    def review(
        self, request: AnyRequest, entry_id: FromPath[int], action: FromPath[str], data: FormData
    ) -> Response[Any]:
        def do(session: Any) -> str:
            metrc = services_of(request).metrc
            if action == "approve":
                metrc.approve(entry_id, session.actor)
            elif action == "reject":
                metrc.reject(entry_id, decode_form(data, ReviewBody).reason, session.actor)
            elif action == "retry":
                metrc.retry(entry_id, session.actor)
            else:
                raise InvalidInput("action", "must be approve, reject or retry")
            return f"Outbox entry {entry_id}: {action} done."

        return self._act(request, data, do)

    # -- Settings → METRC -------------------------------------------------------------------

    @post("/settings", sync_to_thread=True)
    def save_settings(self, request: AnyRequest, data: FormData) -> Response[Any]:
        def do(session: Any) -> str:
            body = decode_form(data, MetrcSettingsBody, flags=SETTINGS_FLAGS)
            services = services_of(request)
            services.metrc.save_settings(body, session.actor)
            services.metrc_worker.pull_soon()
            return "METRC settings saved."

        return self._act(request, data, do, back="/metrc/#settings")

    @post("/settings/test")
    async def test(self, request: AnyRequest, data: FormData) -> Response[Any]:
        admin_session(request)
        services = services_of(request)
        ok, message = await services.metrc_worker.test_connection(services.metrc.settings())
        text = ("Connection works: " if ok else "Connection failed: ") + message

        def do(_: Any) -> str:
            return text

        return self._act(request, data, do, back="/metrc/#settings")


def _side(accept: str) -> str:
    return "METRC's quantity" if accept == "metrc" else "the tracker's quantity"

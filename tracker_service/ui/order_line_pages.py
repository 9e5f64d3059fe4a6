"""Order lines: what ApexAPI reserved, and the lines that need a person — those it no longer
reports (they keep their grams until released here) and those released here that it still
reports (reserved again only on request)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from tracker_service.lib.grams import mg_to_grams
from tracker_service.ui.common import FormData, page, redirect, services_of, session_of, submit

__all__ = ["OrderLinePages"]

AnyRequest = Request[Any, Any, Any]


class OrderLinePages(Controller):
    path = "/order-lines"
    include_in_schema = False

    def _page(self, request: AnyRequest, status: int = 200, **extra: Any) -> Template:
        session = session_of(request)
        lines = services_of(request).order_lines
        released = lines.lines("released")
        return page(
            request,
            "order_lines.html",
            session,
            status=status,
            missing=lines.lines("missing"),
            short=lines.lines("short"),
            reported_again=[line for line in released if line.reported_after_release_at],
            held=lines.lines("open"),
            grams=mg_to_grams,
            **extra,
        )

    @get("/", sync_to_thread=True)
    def order_lines(self, request: AnyRequest) -> Template:
        return self._page(request)

    def _act(self, request: AnyRequest, data: dict[str, str], do: Any) -> Response[Any]:
        return submit(
            request,
            data,
            lambda session: redirect("/order-lines/", do(session)),
            lambda errors, status: self._page(request, status, errors=errors),
        )

    @post("/{item_id:int}/release", sync_to_thread=True)
    def release(self, request: AnyRequest, item_id: FromPath[int], data: FormData) -> Response[Any]:
        def do(session: Any) -> str:
            line = services_of(request).order_lines.release(item_id, session.actor)
            return f"Order {line.invoice_number} item {line.item_id} released."

        return self._act(request, data, do)

    @post("/{item_id:int}/reserve", sync_to_thread=True)
    def reserve(self, request: AnyRequest, item_id: FromPath[int], data: FormData) -> Response[Any]:
        def do(session: Any) -> str:
            line = services_of(request).order_lines.reserve_again(item_id, session.actor)
            where = (
                "on " + ", ".join(part.metrc_number for part in line.parts)
                if line.parts
                else "(no package has the grams)"
            )
            short = f"; {line.short_units} unit(s) short" if line.short_units else ""
            return f"Order {line.invoice_number} item {line.item_id} reserved again {where}{short}."

        return self._act(request, data, do)

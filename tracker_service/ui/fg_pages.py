"""Finished goods: every package with units per SKU; a package page with all its actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from tracker_service.finished_goods.presenters import to_history_entry, to_package_read
from tracker_service.finished_goods.schemas import (
    AdjustRequest,
    CustomSkuBody,
    HoldCreate,
    PackageUpdate,
    SkuSettingUpdate,
)
from tracker_service.finished_goods.skus import DEFAULT_SKUS
from tracker_service.finished_goods.validation import ADJUST_REASONS
from tracker_service.ui.common import (
    FormData,
    number,
    page,
    redirect,
    services_of,
    session_of,
    submit,
)

__all__ = ["SKU_LABELS", "FinishedGoodsPages"]

#: Short column titles, so the table fits a 1024 px tablet.
SKU_LABELS = {
    "singles_0_5g": "0.5 g",
    "singles_1g": "1 g",
    "box_0_5g_6pk": "6-pack",
    "box_0_5g_12pk": "12-pack",
}
assert set(SKU_LABELS) == set(DEFAULT_SKUS)

AnyRequest = Request[Any, Any, Any]


class FinishedGoodsPages(Controller):
    path = "/finished-goods"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def packages(self, request: AnyRequest) -> Template:
        session = session_of(request)
        records = services_of(request).finished_goods.list_packages()
        return page(
            request,
            "finished_goods.html",
            session,
            skus=list(SKU_LABELS.items()),
            packages=[to_package_read(r) for r in records],
        )

    def _package(
        self, request: AnyRequest, metrc: str, status: int = 200, **extra: Any
    ) -> Template:
        fg = services_of(request).finished_goods
        return page(
            request,
            "package.html",
            session_of(request),
            status=status,
            package=to_package_read(fg.get(metrc)),
            reasons=ADJUST_REASONS,
            history=[to_history_entry(r) for r in fg.history(metrc)],
            **extra,
        )

    @get("/{metrc:str}", sync_to_thread=True)
    def package(self, request: AnyRequest, metrc: FromPath[str]) -> Template:
        return self._package(request, metrc)

    def _act(
        self, request: AnyRequest, metrc: str, data: dict[str, str], do: Callable[[Any], str]
    ) -> Response[Any]:
        def action(session: Any) -> Response[Any]:
            return redirect(f"/finished-goods/{metrc}", do(session))

        return submit(
            request,
            data,
            action,
            lambda errors: self._package(request, metrc, 422, form=data, errors=errors),
        )

    @post("/{metrc:str}/adjust", sync_to_thread=True)
    def adjust(self, request: AnyRequest, metrc: FromPath[str], data: FormData) -> Response[Any]:
        def do(session: Any) -> str:
            body = AdjustRequest(
                delta_grams=number(data, "delta_grams"),
                reason=data.get("reason", ""),
                note=data.get("note") or None,
            )
            services_of(request).finished_goods.adjust(metrc, body, session.actor)
            return "Adjustment recorded."

        return self._act(request, metrc, data, do)

    @post("/{metrc:str}/override", sync_to_thread=True)
    def override(self, request: AnyRequest, metrc: FromPath[str], data: FormData) -> Response[Any]:
        def do(session: Any) -> str:
            raw = data.get("physical_override_grams", "").strip()
            grams = None if raw == "" else number(data, "physical_override_grams")
            services_of(request).finished_goods.update(
                metrc, PackageUpdate(physical_override_grams=grams), session.actor
            )
            return "Physical count saved." if grams is not None else "Override cleared."

        return self._act(request, metrc, data, do)

    @post("/{metrc:str}/status", sync_to_thread=True)
    def status(self, request: AnyRequest, metrc: FromPath[str], data: FormData) -> Response[Any]:
        def do(session: Any) -> str:
            services_of(request).finished_goods.update(
                metrc, PackageUpdate(status=data.get("status", "")), session.actor
            )
            return "Status changed."

        return self._act(request, metrc, data, do)

    @post("/{metrc:str}/sku-settings", sync_to_thread=True)
    def sku_settings(
        self, request: AnyRequest, metrc: FromPath[str], data: FormData
    ) -> Response[Any]:
        def do(session: Any) -> str:
            fg = services_of(request).finished_goods
            updates = {}
            for key in to_package_read(fg.get(metrc)).units:
                manual = data.get(f"manual_units.{key}", "").strip()
                updates[key] = SkuSettingUpdate(
                    excluded=data.get(f"excluded.{key}") == "on",
                    manual_units=None
                    if manual == ""
                    else number(data, f"manual_units.{key}", integer=True),
                )
            fg.update_settings(metrc, updates, session.actor)
            return "SKU settings saved."

        return self._act(request, metrc, data, do)

    @post("/{metrc:str}/custom-sku", sync_to_thread=True)
    def custom_sku(
        self, request: AnyRequest, metrc: FromPath[str], data: FormData
    ) -> Response[Any]:
        def do(session: Any) -> str:
            fg = services_of(request).finished_goods
            if data.get("delete"):
                fg.delete_custom_sku(metrc, data["delete"], session.actor)
                return f"Custom SKU {data['delete']} deleted."
            body = CustomSkuBody(
                key=data.get("key", ""),
                name=data.get("name", ""),
                grams_per_unit=number(data, "grams_per_unit"),
                pack_size=number(data, "pack_size", integer=True),
            )
            fg.put_custom_sku(metrc, body, session.actor, replace=True)
            return f"Custom SKU {body.key} saved."

        return self._act(request, metrc, data, do)

    @post("/{metrc:str}/hold", sync_to_thread=True)
    def hold(self, request: AnyRequest, metrc: FromPath[str], data: FormData) -> Response[Any]:
        def do(session: Any) -> str:
            fg = services_of(request).finished_goods
            if data.get("release"):
                fg.delete_hold(metrc, int(data["release"]), session.actor)
                return "Hold released."
            fg.add_hold(
                metrc,
                HoldCreate(grams=number(data, "grams"), reason=data.get("hold_reason", "")),
                session.actor,
            )
            return "Hold placed."

        return self._act(request, metrc, data, do)

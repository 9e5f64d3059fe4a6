"""Finished goods: every package with units per SKU; a package page with all its actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template
from msgspec import UNSET

from tracker_service.finished_goods.presenters import to_history_entry, to_package_read
from tracker_service.finished_goods.schemas import (
    AdjustRequest,
    CustomSkuBody,
    CustomSkuKey,
    HoldCreate,
    HoldRelease,
    PackageUpdate,
    SkuSettingUpdate,
)
from tracker_service.finished_goods.skus import DEFAULT_SKUS
from tracker_service.finished_goods.validation import ADJUST_REASONS
from tracker_service.lib.decoding import decode_form
from tracker_service.lib.errors import InvalidInput
from tracker_service.ui.common import (
    FormData,
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
        services = services_of(request)
        fg = services.finished_goods
        metrc_reasons = services.metrc.adjust_reasons()  # METRC's while its sync is on
        return page(
            request,
            "package.html",
            session_of(request),
            status=status,
            package=to_package_read(fg.get(metrc)),
            reasons=[name for name, _ in metrc_reasons] if metrc_reasons else ADJUST_REASONS,
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
            lambda errors, status: self._package(request, metrc, status, form=data, errors=errors),
        )

    @post("/{metrc:str}/adjust", sync_to_thread=True)
    def adjust(self, request: AnyRequest, metrc: FromPath[str], data: FormData) -> Response[Any]:
        def do(session: Any) -> str:
            body = decode_form(data, AdjustRequest, flags=("settles_apex_sales",))
            services_of(request).finished_goods.adjust(metrc, body, session.actor)
            return "Adjustment recorded."

        return self._act(request, metrc, data, do)

    @post("/{metrc:str}/override", sync_to_thread=True)
    def override(self, request: AnyRequest, metrc: FromPath[str], data: FormData) -> Response[Any]:
        def do(session: Any) -> str:
            # An empty box clears the count: the form sends null, as a JSON PATCH would.
            given = data.get("physical_override_grams", "").strip()
            body = decode_form(
                data,
                PackageUpdate,
                fields=("physical_override_grams",),
                values={} if given else {"physical_override_grams": None},
            )
            services_of(request).finished_goods.update(metrc, body, session.actor)
            return "Physical count saved." if given else "Override cleared."

        return self._act(request, metrc, data, do)

    @post("/{metrc:str}/status", sync_to_thread=True)
    def status(self, request: AnyRequest, metrc: FromPath[str], data: FormData) -> Response[Any]:
        def do(session: Any) -> str:
            body = decode_form(data, PackageUpdate, fields=("status",))
            if body.status is UNSET:
                raise InvalidInput("status", "choose a status")
            services_of(request).finished_goods.update(metrc, body, session.actor)
            return "Status changed."

        return self._act(request, metrc, data, do)

    @post("/{metrc:str}/sku-settings", sync_to_thread=True)
    def sku_settings(
        self, request: AnyRequest, metrc: FromPath[str], data: FormData
    ) -> Response[Any]:
        def do(session: Any) -> str:
            fg = services_of(request).finished_goods
            updates = {}
            for key in fg.get(metrc).units:
                manual = data.get(f"manual_units.{key}", "").strip()
                updates[key] = decode_form(
                    data,
                    SkuSettingUpdate,
                    names={"excluded": f"excluded.{key}", "manual_units": f"manual_units.{key}"},
                    flags=("excluded",),
                    values={} if manual else {"manual_units": None},
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
            if "delete" in data:
                key = decode_form(data, CustomSkuKey, names={"key": "delete"}).key
                fg.delete_custom_sku(metrc, key, session.actor)
                return f"Custom SKU {key} deleted."
            body = decode_form(data, CustomSkuBody)
            fg.put_custom_sku(metrc, body, session.actor, replace=True)
            return f"Custom SKU {body.key} saved."

        return self._act(request, metrc, data, do)

    @post("/{metrc:str}/hold", sync_to_thread=True)
    def hold(self, request: AnyRequest, metrc: FromPath[str], data: FormData) -> Response[Any]:
        def do(session: Any) -> str:
            fg = services_of(request).finished_goods
            if "release" in data:
                release = decode_form(data, HoldRelease, names={"id": "release"})
                fg.delete_hold(metrc, release.id, session.actor)
                return "Hold released."
            body = decode_form(data, HoldCreate, names={"reason": "hold_reason"})
            fg.add_hold(metrc, body, session.actor)
            return "Hold placed."

        return self._act(request, metrc, data, do)

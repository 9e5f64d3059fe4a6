"""Batches: list and create, detail with advance and weight checks."""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from tracker_service.batches.presenters import to_batch_read
from tracker_service.batches.rules import next_stage
from tracker_service.batches.schemas import (
    AdvanceRequest,
    BatchCreate,
    BatchUpdate,
    WeightCheckCreate,
)
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

__all__ = ["BatchPages"]

AnyRequest = Request[Any, Any, Any]


def _detail(request: AnyRequest, batch_id: int) -> dict[str, Any]:
    batches = services_of(request).batches
    row = batches.get(batch_id)
    checks = batches.weight_checks(batch_id)
    batch = to_batch_read(row, batches.transitions(batch_id), checks[-1] if checks else None)
    return {"batch": batch, "next_stage": next_stage(batch.stage)}


class BatchPages(Controller):
    path = "/batches"
    include_in_schema = False

    def _list(self, request: AnyRequest, status: int = 200, **extra: Any) -> Template:
        session = session_of(request)
        rows = services_of(request).batches.list_batches()
        batches = [to_batch_read(r, [], None) for r in rows]
        return page(request, "batches.html", session, batches=batches, status=status, **extra)

    @get("/", sync_to_thread=True)
    def batches(self, request: AnyRequest) -> Template:
        return self._list(request)

    @post("/", sync_to_thread=True)
    def create(self, request: AnyRequest, data: FormData) -> Response[Any]:
        def action(session: Any) -> Response[Any]:
            body = decode_form(data, BatchCreate)
            row = services_of(request).batches.create(body, session.actor)
            return redirect(f"/batches/{row.id}", f"Batch {row.code} started.")

        return submit(
            request,
            data,
            action,
            lambda errors, status: self._list(request, status, form=data, errors=errors),
        )

    @get("/{batch_id:int}", sync_to_thread=True)
    def batch(self, request: AnyRequest, batch_id: FromPath[int]) -> Template:
        return page(request, "batch.html", session_of(request), **_detail(request, batch_id))

    def _again(
        self,
        request: AnyRequest,
        batch_id: int,
        data: dict[str, str],
        errors: dict[str, str],
        status: int,
    ) -> Template:
        return page(
            request,
            "batch.html",
            session_of(request),
            status=status,
            form=data,
            errors=errors,
            **_detail(request, batch_id),
        )

    @post("/{batch_id:int}/advance", sync_to_thread=True)
    def advance(
        self, request: AnyRequest, batch_id: FromPath[int], data: FormData
    ) -> Response[Any]:
        def action(session: Any) -> Response[Any]:
            body = decode_form(data, AdvanceRequest, flags=("override",))
            row = services_of(request).batches.advance(
                batch_id, body, session.actor, is_admin=session.is_admin
            )
            return redirect(f"/batches/{batch_id}", f"{row.code} is now {row.stage}.")

        return submit(
            request,
            data,
            action,
            lambda errors, status: self._again(request, batch_id, data, errors, status),
        )

    @post("/{batch_id:int}/update", sync_to_thread=True)
    def update(self, request: AnyRequest, batch_id: FromPath[int], data: FormData) -> Response[Any]:
        def action(session: Any) -> Response[Any]:
            body = decode_form(data, BatchUpdate, fields=("prerolls_out", "waste_grams", "notes"))
            services_of(request).batches.update(batch_id, body, session.actor)
            return redirect(f"/batches/{batch_id}", "Saved.")

        return submit(
            request,
            data,
            action,
            lambda errors, status: self._again(request, batch_id, data, errors, status),
        )

    @post("/{batch_id:int}/weight-check", sync_to_thread=True)
    def weight_check(
        self, request: AnyRequest, batch_id: FromPath[int], data: FormData
    ) -> Response[Any]:
        def action(session: Any) -> Response[Any]:
            typed = [w for w in re.split(r"[\s,;]+", data.get("weights", "").strip()) if w]
            if not typed:
                raise InvalidInput("weights", "enter at least one weight, e.g. 0.51 0.49 0.50")
            body = decode_form(
                data,
                WeightCheckCreate,
                names={"weights_grams": "weights"},
                values={"weights_grams": typed},
            )
            row = services_of(request).batches.add_weight_check(batch_id, body, session.actor)
            result = "passed" if row.passed else "FAILED"
            return redirect(f"/batches/{batch_id}", f"Weight check {result}.")

        return submit(
            request,
            data,
            action,
            lambda errors, status: self._again(request, batch_id, data, errors, status),
        )

"""Reports (every signed-in user): production per strain and week or month with a chart, stock
on a date, and the audit log for an inspection, each with a CSV download."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.response import Template

from preroll_contract import spreadsheet_csv
from tracker_service.lib.decoding import decode_form
from tracker_service.lib.errors import InvalidInput
from tracker_service.reports.schemas import AuditQuery, DayQuery, PeriodQuery, check_range
from tracker_service.ui.common import page, services_of, session_of

__all__ = ["ReportPages"]

AnyRequest = Request[Any, Any, Any]
PRODUCTION_COLUMNS = (
    "strain",
    "period",
    "batches",
    "prerolls_out",
    "flower_g",
    "waste_g",
    "product_g",
    "yield_pct",
)
STOCK_COLUMNS = (
    "strain",
    "metrc_tag",
    "status",
    "current_g",
    "reserved_g",
    "packed_g",
    "held_g",
    "available_g",
)


def _csv(name: str, text: str) -> Response[bytes]:
    return Response(
        text.encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _query(request: AnyRequest) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if isinstance(v, str)}


class ReportPages(Controller):
    path = "/reports"
    include_in_schema = False

    def _period(self, request: AnyRequest) -> PeriodQuery:
        today = date.today()
        query = {"first": (today - timedelta(days=90)).isoformat(), "last": today.isoformat()}
        body = decode_form(query | _query(request), PeriodQuery, fields=("first", "last", "period"))
        check_range(body.first, body.last)
        return body

    @get("/", sync_to_thread=True)
    def reports(self, request: AnyRequest) -> Template:
        session = session_of(request)
        services = services_of(request)
        form = _query(request)
        errors: dict[str, str] = {}
        production = stock = None
        status = 200
        try:
            asked = self._period(request)
            production = services.reports.production(asked.first, asked.last, asked.period)
            day = decode_form({"day": date.today().isoformat()} | form, DayQuery, fields=("day",))
            stock = services.reports.stock_on(day.day)
        except InvalidInput as exc:
            errors = {exc.field: exc.problem}
            status = exc.status_code
        today = date.today()
        defaults = {
            "first": (today - timedelta(days=90)).isoformat(),
            "last": today.isoformat(),
            "period": "week",
            "day": today.isoformat(),
        }
        return page(
            request,
            "reports.html",
            session,
            status=status,
            form=defaults | form,
            errors=errors,
            production=production,
            stock=stock,
            query=request.url.query,
        )

    @get("/production.csv", sync_to_thread=True)
    def production_csv(self, request: AnyRequest) -> Response[bytes]:
        session_of(request)
        asked = self._period(request)
        report = services_of(request).reports.production(asked.first, asked.last, asked.period)
        rows = [
            [s, p, c.batches, c.prerolls_out, c.flower_g, c.waste_g, c.product_g, c.yield_pct]
            for s in report.strains
            for p, c in sorted(report.cells[s].items())
        ]
        name = f"production-{asked.first}-to-{asked.last}-by-{asked.period}.csv"
        return _csv(name, spreadsheet_csv(PRODUCTION_COLUMNS, rows))

    @get("/stock.csv", sync_to_thread=True)
    def stock_csv(self, request: AnyRequest) -> Response[bytes]:
        session_of(request)
        day = decode_form(_query(request), DayQuery, fields=("day",)).day
        per_package, per_strain = services_of(request).reports.stock_on(day)
        by_strain = request.query_params.get("by") == "strain"
        rows = [
            (r.strain, r.metrc_number or "all", *msgspec.structs.astuple(r)[2:])
            for r in (per_strain if by_strain else per_package)
        ]
        name = f"stock-{'by-strain-' if by_strain else ''}on-{day}.csv"
        return _csv(name, spreadsheet_csv(STOCK_COLUMNS, rows))

    @get("/audit.csv", sync_to_thread=True)
    def audit_csv(self, request: AnyRequest) -> Response[bytes]:
        session_of(request)
        asked = decode_form(_query(request), AuditQuery, fields=("first", "last", "metrc_number"))
        check_range(asked.first, asked.last)
        text = services_of(request).reports.audit_export(
            asked.first, asked.last, asked.metrc_number
        )
        which = f"-{asked.metrc_number}" if asked.metrc_number else ""
        return _csv(f"audit-log{which}-{asked.first}-to-{asked.last}.csv", text)

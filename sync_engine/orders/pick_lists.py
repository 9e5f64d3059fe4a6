"""Pick lists and packing slips from the packing list: one page per invoice (pure).

Each page names the invoice, the store, the delivery date and notes, and lists every product
with units ordered and packed and the METRC tag the tracker assigned (Batch #), with empty
boxes to tick; it is numbered "page N of M" and carries the time it was printed.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

import msgspec

from sync_engine.orders.packing import PackingRow

__all__ = ["PickList", "pick_lists", "pick_lists_html"]


class PickList(msgspec.Struct, frozen=True):
    invoice: str
    store: str
    delivery_date: str
    notes: tuple[str, ...]
    rows: tuple[PackingRow, ...]

    @property
    def units_ordered(self) -> int:
        return sum(r.ordered for r in self.rows)


def pick_lists(rows: Iterable[PackingRow], invoice: str | None = None) -> list[PickList]:
    """Open rows grouped by invoice (delivery date, then invoice); one invoice if given."""
    grouped: dict[str, list[PackingRow]] = {}
    for row in rows:
        if row.state != "open" or (invoice is not None and row.invoice != invoice):
            continue
        grouped.setdefault(row.invoice, []).append(row)
    lists = []
    for number, items in grouped.items():
        first = items[0]
        notes = tuple(
            dict.fromkeys(
                n.strip() for r in items for n in (r.delivery_notes, r.internal_notes) if n.strip()
            )
        )
        lists.append(
            PickList(
                invoice=number,
                store=first.store,
                delivery_date=min((r.delivery_date for r in items if r.delivery_date), default=""),
                notes=notes,
                rows=tuple(sorted(items, key=lambda r: (r.strain.lower(), r.product.lower()))),
            )
        )
    return sorted(lists, key=lambda p: (p.delivery_date or "9999", p.invoice))


def pick_lists_html(lists: list[PickList], printed_at: str) -> str:
    pages = [_page(p, n, len(lists), printed_at) for n, p in enumerate(lists, start=1)]
    body = "\n".join(pages) or "<p class='empty'>No open orders to pick.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Pick lists · ApexAPI</title>
<style>{_CSS}</style></head>
<body>
<div class="noprint bar"><button onclick="window.print()">Print</button>
<span>{len(lists)} invoice(s), one page each · printed {escape(printed_at)}</span></div>
{body}
</body></html>"""


def _page(pick: PickList, number: int, total: int, printed_at: str) -> str:
    lines = "\n".join(
        f"<tr><td class='tick'>&#9744;</td><td>{escape(r.product)}</td>"
        f"<td class='num'>{r.ordered}</td><td class='num'>{r.packed}</td>"
        f"<td class='tag'>{escape(r.batch_no) or '<em>not assigned</em>'}</td></tr>"
        for r in pick.rows
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in pick.notes)
    return f"""<section class="sheet" data-invoice="{escape(pick.invoice)}">
<header><h1>Pick list · Invoice {escape(pick.invoice)}</h1>
<p class="meta">Page {number} of {total} · printed {escape(printed_at)}</p></header>
<dl><dt>Store</dt><dd>{escape(pick.store)}</dd>
<dt>Delivery</dt><dd>{escape(pick.delivery_date) or "not set"}</dd></dl>
{f"<ul class='notes'>{notes}</ul>" if notes else ""}
<table><thead><tr><th></th><th>Product</th><th class="num">Ordered</th>
<th class="num">Packed</th><th>Batch # (METRC tag)</th></tr></thead>
<tbody>{lines}</tbody>
<tfoot><tr><td></td><td>{len(pick.rows)} line(s)</td><td class="num">{pick.units_ordered}</td>
<td></td><td></td></tr></tfoot></table>
<p class="sign">Picked by ____________ Checked by ____________</p>
</section>"""


_CSS = """
body { font-family: system-ui, sans-serif; color: #111; margin: 0; }
.bar { padding: .5rem 1rem; background: #2f6b4f; color: #fff; display: flex; gap: 1rem;
       align-items: center; }
.bar button { font: inherit; padding: .4rem 1rem; }
.sheet { padding: 1.2rem 1.5rem; max-width: 46rem; }
h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
.meta { color: #444; margin: 0 0 .8rem; font-size: .85rem; }
dl { display: grid; grid-template-columns: 6rem 1fr; margin: 0 0 .6rem; }
dt { font-weight: 600; }
table { width: 100%; border-collapse: collapse; margin-top: .5rem; }
th, td { text-align: left; border-bottom: 1px solid #bbb; padding: .35rem .4rem; }
td.num, th.num { text-align: right; }
td.tag { font-family: ui-monospace, monospace; }
td.tick { font-size: 1.2rem; width: 1.5rem; }
tfoot td { font-weight: 600; border-bottom: none; }
.sign { margin-top: 2rem; }
.empty { padding: 2rem; }
@page { size: letter; margin: 14mm; }
@media print {
  .noprint { display: none; }
  .sheet { break-after: page; padding: 0; max-width: none; }
  .sheet:last-of-type { break-after: auto; }
}
"""

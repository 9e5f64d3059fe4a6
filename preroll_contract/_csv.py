"""CSV that spreadsheets open safely: one rule for every download of both applications.

UTF-8 with a byte-order mark (Excel then reads accents right), CRLF lines, quoting where CSV
needs it, and text that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return) prefixed with ``'`` so it stays text. Numbers are left as
numbers: ``-2.5`` is a value, not a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

__all__ = ["spreadsheet_csv"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_csv(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, bom: bool = True
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in header])
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return ("\ufeff" if bom else "") + out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text

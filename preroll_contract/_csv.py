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

__all__ = ["FORMULA_STARTS", "spreadsheet_csv"]

#: A text cell starting with one of these would be run as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_STARTS = frozenset(FORMULA_STARTS)


def spreadsheet_csv(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    bom: bool = True,
    escaped: bool = False,
) -> str:
    """``escaped``: the rows' text cells already carry the ``'`` (a database query applied
    ``FORMULA_STARTS`` itself, for exports of hundreds of thousands of rows)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in header])
    if escaped:
        writer.writerows(rows)
    else:
        writer.writerows([_cell(value) for value in row] for row in rows)
    return ("\ufeff" if bom else "") + out.getvalue()


def _cell(value: object) -> object:
    """Text that would start a formula gets a ``'``; numbers are written as they are."""
    if type(value) is str:
        return "'" + value if value[:1] in _FORMULA_STARTS else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text[:1] in _FORMULA_STARTS else text

"""The one CSV rule both applications' downloads use (preroll_contract/_csv.py)."""

from __future__ import annotations

import csv
import io
import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from preroll_contract import spreadsheet_csv
from tracker_service.reports.repository import formula_safe


def test_formulas_stay_text_numbers_stay_numbers_and_excel_gets_a_bom() -> None:
    text = spreadsheet_csv(
        ["who", "note", "grams"],
        [["=1+1", '+SUM(A1) "quoted", with comma', -2.5], ["@maria", "Crème, brûlée\nline", None]],
    )
    assert text.startswith("\ufeff")
    assert text == (
        "\ufeffwho,note,grams\r\n"
        '\'=1+1,"\'+SUM(A1) ""quoted"", with comma",-2.5\r\n'
        '\'@maria,"Crème, brûlée\nline",\r\n'
    )


@given(st.lists(st.lists(st.text(), min_size=2, max_size=2), max_size=5))
def test_any_text_reads_back_and_never_starts_a_formula(rows: list[list[str]]) -> None:
    parsed = list(csv.reader(io.StringIO(spreadsheet_csv(["a", "b"], rows).lstrip("\ufeff"))))
    assert parsed[0] == ["a", "b"]
    for written, read in zip(rows, parsed[1:], strict=True):
        for cell_in, cell_out in zip(written, read, strict=True):
            assert not cell_out.startswith(("=", "+", "-", "@", "\t", "\r"))
            assert cell_out.removeprefix("'") == cell_in or cell_out == cell_in


@given(st.text())
def test_the_sql_form_of_the_rule_escapes_exactly_as_python_does(text: str) -> None:
    """The audit export applies the rule inside SQLite; it must agree with the CSV helper."""
    conn = sqlite3.connect(":memory:")
    (escaped,) = conn.execute(f"SELECT {formula_safe('?')}", (text, text, text)).fetchone()
    _, expected = csv.reader(io.StringIO(spreadsheet_csv(["x"], [[text]], bom=False)))
    assert expected == [escaped]

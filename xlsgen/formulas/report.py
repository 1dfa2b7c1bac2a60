"""Formulas of the summary workbooks other than the report (the report's are in
xlsgen.formulas.calc). Each returns (formula, value)."""

from __future__ import annotations

EXPLANATIONS = {
    "total": "各ファイルの件数を合計します。",
}


def total(cells: str, values: list) -> tuple[str, float]:
    """The sum of a column of counts."""
    return f"=SUM({cells})", sum(v for v in values if isinstance(v, (int, float)))

"""Report formulas other than achievement: cross-sheet links, budget, grade counts.
Each returns (formula, value) like xlsgen.formulas.achievement."""

from __future__ import annotations

from xlsgen.formulas import link as link_to
from xlsgen.formulas import on_sheet, text_literal
from xlsgen.formulas.achievement import NA

EXPLANATIONS = {
    "link": "施策シートの同じ項目をそのまま表示します（施策シートを直すと一覧も変わります）。",
    "general_revenue": "一般財源（千円）= 事業費 − うち特定財源。どちらかが数値でなければ「−」。",
    "count": "一覧の評価列で、その評価（A・B・C・D・−）の指標の数を数えます。",
    "total": "各ファイルの件数を合計します。",
    "cost_total": "施策の事業費（千円）の合計: 各指標行の事業費を足します（空欄・文字は含めません）。",
}


def link(sheet: str, ref: str, value) -> tuple[str, object]:
    """The value of a cell on a measure sheet."""
    return link_to(on_sheet(sheet, ref)), value


def general_revenue(amount: str, specific: str, a, s) -> tuple[str, object]:
    """事業費 − うち特定財源 (千円)."""
    f = f"=IF(AND(ISNUMBER({amount}),ISNUMBER({specific})),{amount}-{specific},{text_literal(NA)})"
    ok = all(isinstance(v, (int, float)) for v in (a, s))
    return f, (a - s if ok else NA)


def count(grades: str, label_ref: str, label: str, values: list) -> tuple[str, int]:
    """How many cells of `grades` hold the label in `label_ref`."""
    return f"=COUNTIF({grades},{label_ref})", sum(1 for v in values if v == label)


def total(cells: str, values: list) -> tuple[str, float]:
    """The sum of a column of counts."""
    return f"=SUM({cells})", sum(v for v in values if isinstance(v, (int, float)))

"""Report formulas other than achievement: cross-sheet links, budget, grade counts.
Each returns (formula, value) like xlsgen.formulas.achievement."""

from __future__ import annotations

from xlsgen.formulas import link as link_to
from xlsgen.formulas import on_sheet, text_literal
from xlsgen.formulas.achievement import NA
from xlsgen.wareki import ERAS, FiscalYear

EXPLANATIONS = {
    "link": "施策シートの同じ項目をそのまま表示します（施策シートを直すと一覧も変わります）。",
    "general_revenue": "一般財源（千円）= 事業費 − うち特定財源。どちらかが数値でなければ「−」。",
    "count": "一覧の評価列で、その評価（A・B・C・D・−）の指標の数を数えます。",
    "total": "各ファイルの件数を合計します。",
    "cost_total": "施策の事業費（千円）の合計: 各指標行の事業費を足します（空欄・文字は含めません）。",
    "wareki": "評価年度（西暦）を和暦で表示します（令和元年度＝2019年度、平成は1989〜2018年度）。",
    "year_heading": "一覧の見出しの年度: 評価年度（設定シート）の和暦に「実績」を付けて表示します。",
    "actual_at": "施策シートの実績値のうち、評価年度（設定シート）の列の値を表示します。未入力なら「−」。",
    "count_once": "評価の分布: 再掲の指標（指標名に「再掲」）を除いて、その評価の指標の数を数えます。",
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


def wareki(year_ref: str, eras: list[tuple[str, str]], year: int | None) -> tuple[str, object]:
    """`令和2年度` for the fiscal year (西暦) in `year_ref`; `eras`: (name, cell holding the
    西暦 of its first year), newest first. A request to type 西暦 otherwise."""
    ask = text_literal("西暦で入力してください")
    inner = ask
    for name, first in reversed(eras):
        label = f'{text_literal(name)}&IF({year_ref}={first},"元",{year_ref}-{first}+1)&"年度"'
        inner = f"IF({year_ref}>={first},{label},{inner})"
    f = f"=IF(ISNUMBER({year_ref}),{inner},{ask})"
    if isinstance(year, int) and year >= ERAS["H"][1]:
        return f, FiscalYear(year).kanji
    return f, "西暦で入力してください"


def count_once(grades: str, names: str, label_ref: str, label: str, values: list,
               repeated: list[bool]) -> tuple[str, int]:
    """How many cells of `grades` hold the label, KPIs marked 再掲 (repeated) not counted."""
    f = f"=COUNTIFS({grades},{label_ref},{names},{text_literal('<>*' + REPEAT_MARK + '*')})"
    return f, sum(1 for v, rep in zip(values, repeated) if v == label and not rep)


REPEAT_MARK = "再掲"


def is_repeat(name: str) -> bool:
    """A KPI listed again under another measure (`…（再掲）`): counted once in totals."""
    return REPEAT_MARK in name


def year_heading(label_name: str, label: str) -> tuple[str, str]:
    """`令和2年度実績` from the defined name holding the evaluation year in 和暦."""
    return f'={label_name}&"実績"', f"{label}実績"


def actual_at(sheet: str, row: str, header: str, year_name: str, value) -> tuple[str, object]:
    """The actual typed in a measure sheet's column of the evaluation year; NA when blank.
    `value`: what that cell holds (number or text), None when blank."""
    pick = f"INDEX({on_sheet(sheet, row)},MATCH({year_name},{on_sheet(sheet, header)},0))"
    f = f"=IFERROR(IF(ISBLANK({pick}),{text_literal(NA)},{pick}),{text_literal(NA)})"
    return f, NA if value is None or value == "" else value

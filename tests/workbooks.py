"""Test workbooks in the 小千谷 layout, written from a model with optional drift.

`write_ojiya(book, path, drift)` lays out each Measure the way the city does, or
with the drift real workbooks show: a blank margin row and column, extra blank rows,
label variants, the (目標値) header on a second row, renamed and reordered sheets, numbers
typed as text in full-width digits, other merge shapes, a total row and a ※ note row in the
KPI table, a 区分 merged over several KPI rows, Check blocks stacked one above the other
with one row per department, and values held as formulas with cached results. xlsxwriter is used because it
can store a formula's cached value, which openpyxl cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import xlsxwriter

from xlsgen.model import Book, Measure, Quantity
from xlsgen.wareki import FiscalYear

_FULL = str.maketrans("0123456789.%,", "０１２３４５６７８９．％，")


@dataclass
class Drift:
    margin: bool = False  # blank first row and column
    extra_blank_rows: bool = False
    label_variants: bool = False  # 区　分→区分, シート№→シートNo., （）→()
    target_two_rows: bool = False  # "(目標値)" on its own header row
    rename_reorder: bool = False
    text_numbers: bool = False  # numbers typed as full-width text with the unit
    wide_name_merge: bool = False  # KPI name merged over three columns
    total_and_note_rows: bool = False
    formulas: bool = False  # some values as formulas with cached results
    merged_category: bool = False  # one 区分 cell merged down over rows of the same category
    stacked_check: bool = False  # (１) above (２), one row per department's text

    @classmethod
    def all(cls) -> Drift:
        return cls(**{f: True for f in cls.__dataclass_fields__})


def _fmt_for(q: Quantity) -> str:
    if q.unit == "%":
        return "0.0%"
    dec = 0 if float(q.value).is_integer() else 1
    num = "#,##0" + ("." + "0" * dec if dec else "")
    return f'{num}"{q.unit}"' if q.unit else num


def write_ojiya(book: Book, path, drift: Drift | None = None) -> None:
    drift = drift or Drift()
    wb = xlsxwriter.Workbook(str(path))
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    formats: dict[str, object] = {}
    sheets = list(book.measures)
    if drift.rename_reorder:
        sheets = sheets[::-1]
    for s in sheets:
        name = f"施策{s.sheet}" if drift.rename_reorder else s.sheet
        _write_sheet(wb, wb.add_worksheet(name), s, drift, wrap, formats)
    wb.close()


def _write_sheet(wb, ws, s: Measure, drift: Drift, wrap, formats) -> None:
    r = 1 if drift.margin else 0
    c0 = 1 if drift.margin else 0
    gap = 1 if drift.extra_blank_rows else 0

    def fmt(code):
        if code not in formats:
            formats[code] = wb.add_format({"num_format": code})
        return formats[code]

    def text(row, col, value, f=None):
        if value is not None and value != "":
            ws.write_string(row, c0 + col, str(value), f or wrap)

    name_span = 3 if drift.wide_name_merge else 2
    years = sorted(s.year_columns)
    ycol = {fy: 1 + name_span + i for i, fy in enumerate(years)}
    cost_col = 1 + name_span + len(years)
    last = cost_col

    ws.merge_range(r, c0, r, c0 + last - 2, s.title or "", wrap)
    text(r, last - 1, "シートNo." if drift.label_variants else "シート№")
    text(r, last, s.number.translate(_FULL) if s.number else "")
    r += 1
    text(r, last - 1, "戦略ページ")
    text(r, last, (s.strategy_page or "").replace("P.", "Ｐ．"))
    r += 1 + gap
    text(r, 0, "■ 計画（Plan）")
    text(r + 1, 0, "（１）基本的事項")
    r += 2
    text(r, 0, "区分" if drift.label_variants else "区\u3000分")
    text(r, 1, "№")
    ws.merge_range(r, c0 + 2, r, c0 + last, "名\u3000称", wrap)
    r += 1
    for label, lv in (("基本目標", s.basic_goal), ("基本方針", s.basic_policy), ("施策項目", s.measure)):
        text(r, 0, label)
        ws.write_number(r, c0 + 1, lv.no) if lv.no is not None else None
        ws.merge_range(r, c0 + 2, r, c0 + last, lv.name, wrap)
        r += 1
    text(r, 0, "担当課")
    ws.merge_range(r, c0 + 1, r, c0 + last, "".join(f"【{d}】" for d in s.departments), wrap)
    r += 1 + gap
    text(r, 0, "(2)事業目的、事業概要等" if drift.label_variants else "（２）事業目的、事業概要等")
    r += 1
    text(r, 0, "事業目的\n(目指す姿)" if drift.label_variants else "事業目的\n（目指す姿）")
    ws.merge_range(r, c0 + 1, r, c0 + last, s.purpose, wrap)
    r += 1
    text(r, 0, "事業概要")
    lines = []
    for p in s.projects:
        dept = f"（{p.department}）" if p.department else ""
        tags = "".join(f"【{t}】" for t in p.tags)
        lines.append(f"■{p.name}{dept}{tags}")
        lines.extend("\u3000" + d for d in p.content.splitlines())
    ws.merge_range(r, c0 + 1, r, c0 + last, "\n".join(lines), wrap)
    r += 1 + gap
    text(r, 0, "■ 実施（Do）")
    text(r + 1, 0, "(1)指標(目標値等)" if drift.label_variants else "（１）指標(目標値等）")
    r += 2
    text(r, 0, "区分")
    ws.merge_range(r, c0 + 1, r, c0 + name_span, "重要業績評価指標(KPI)" if drift.label_variants
                   else "重要業績評価指標（KPI)", wrap)
    roles = {s.baseline_year: "(基準値)", s.target_year: "(目標値)"}
    roles.update({fy: "(実績値)" for fy in s.extra.get("reported_years", [])})
    two_rows = drift.target_two_rows
    for fy in years:
        label = f"{FiscalYear(fy).short}年度"
        role = roles.get(fy, "")
        if two_rows:
            text(r, ycol[fy], label)
            text(r + 1, ycol[fy], role)
        else:
            text(r, ycol[fy], f"{label}\n{role}" if role else label)
    text(r, cost_col, "事業費\n(千円)")
    r += 2 if two_rows else 1
    first_kpi_row = r
    for i, k in enumerate(s.kpis):
        run = 1
        while (drift.merged_category and i + run < len(s.kpis)
               and s.kpis[i + run].category == k.category):
            run += 1
        if i and drift.merged_category and s.kpis[i - 1].category == k.category:
            pass  # inside the block merged above
        elif run > 1:
            ws.merge_range(r, c0, r + run - 1, c0, k.category or "", wrap)
        else:
            text(r, 0, k.category)
        ws.merge_range(r, c0 + 1, r, c0 + name_span, k.name, wrap)
        cells = {s.baseline_year: k.baseline, s.target_year: k.target}
        cells.update({q.fiscal_year: q for q in k.actuals})
        for fy, q in cells.items():
            _write_value(ws, r, c0 + ycol[fy], q, drift, fmt, wrap)
        if k.cost:
            _write_value(ws, r, c0 + cost_col, k.cost, drift, fmt, wrap)
        r += 1
    if drift.total_and_note_rows:
        text(r, 0, "合計")
        total = sum(k.cost.value or 0 for k in s.kpis if k.cost)
        ref = f"{_col(c0 + cost_col)}{first_kpi_row + 1}:{_col(c0 + cost_col)}{r}"
        ws.write_formula(r, c0 + cost_col, f"=SUM({ref})", fmt("#,##0"), total)
        text(r + 1, 0, "※事業費は当該年度の決算見込額")
        r += 2
    r += gap
    text(r, 0, "■ 評価（Check）")
    r += 1

    def joined(parts):
        return "\n".join((f"【{p.department}】\n" if p.department else "") + p.text for p in parts)

    if drift.stacked_check:
        for label, parts in (("（１）現状分析（実績値を踏まえた課題・問題点等）", s.texts_of("check_analysis")),
                             ("（２）課題等を踏まえた今後の取組", s.texts_of("check_next"))):
            ws.merge_range(r, c0, r, c0 + last, label, wrap)
            r += 1
            for part in parts:
                ws.merge_range(r, c0, r, c0 + last, joined([part]), wrap)
                r += 1
        return
    mid = c0 + cost_col // 2
    ws.merge_range(r, c0, r, mid, "（１）現状分析（実績値を踏まえた課題・問題点等）", wrap)
    ws.merge_range(r, mid + 1, r, c0 + last, "（２）課題等を踏まえた今後の取組", wrap)
    r += 1
    ws.merge_range(r, c0, r, mid, joined(s.texts_of("check_analysis")), wrap)
    ws.merge_range(r, mid + 1, r, c0 + last, joined(s.texts_of("check_next")), wrap)


def _col(c: int) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return xl_col_to_name(c)


def _write_value(ws, r, c, q: Quantity, drift: Drift, fmt, wrap) -> None:
    if q.value is None:
        if q.text:
            ws.write_string(r, c, q.text, wrap)
        return
    number = q.value / 100 if q.unit == "%" else q.value
    if drift.text_numbers and q.qualifier is None and q.text and c % 2 == 0:
        shown = (f"{q.value:g}" + (q.unit or "")).translate(_FULL)
        ws.write_string(r, c, shown, wrap)
    elif q.qualifier:
        ws.write_string(r, c, q.text, wrap)
    elif drift.formulas and c % 2 == 1 and q.unit != "%":
        ws.write_formula(r, c, f"={number}*1", fmt(_fmt_for(q)), number)
    else:
        ws.write_number(r, c, number, fmt(_fmt_for(q)))

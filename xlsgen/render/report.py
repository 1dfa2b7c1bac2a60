"""The PDCA report workbook (xlsxwriter): 一覧, one sheet per measure, データ, 設定, 数式一覧.

Every formula comes from xlsgen.formulas (achievement / report) with its Python value.
Texts from inputs are written with write_string, never as formulas.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from xlsgen.formulas import achievement as ach
from xlsgen.formulas import area, cell, cell_fixed_col, compress_cells, quote_sheet, running_area
from xlsgen.formulas import report as rf
from xlsgen.formulas.achievement import NA as NA_MARK
from xlsgen.measures import POLICIES, ReportBook, ReportKpi, ReportMeasure
from xlsgen.model import FORMULA_MAP_SHEET, Quantity, TargetKind
from xlsgen.render import theme
from xlsgen.render.formula_map import FormulaNote, write_formula_map
from xlsgen.render.report_sheets import (
    COMMENTS,
    DATA,
    DO_HEADS,
    DO_WIDTHS,
    FIRST_YEAR_COL,
    OVERVIEW,
    SETTINGS,
    YEAR_WIDTH,
    kind_label,
    write_data,
    write_overview,
    write_settings,
    year_label,
)
from xlsgen.render.styles import sheet_names
from xlsgen.render.theme import GRADE_COLORS, Styles, page_setup, text_height
from xlsgen.render.workbook import Workbook

PERCENT = "%"  # values held in percent (17.8 for 17.8 %), shown with the sign
_TRAILING_MARK = re.compile(r"\s+[-－—―‐–−‒]+$")


def display_text(q: Quantity | None) -> str:
    """A value's text as the reader should see it: 「−」 for a none-mark (「—%」), and no
    none-mark left over from an empty unit cell (「協定締結 -」 → 「協定締結」)."""
    if q is None or q.is_empty:
        return ""
    if q.is_none_mark:
        return NA_MARK
    return _TRAILING_MARK.sub("", (q.text or "").strip())


def with_suffix(num_format: str, suffix: str) -> str:
    """A number format whose every section ends in a literal: `#,##0"以上";"▲"#,##0"以上"`."""
    lit = '"' + suffix.replace('"', "") + '"'
    return ";".join(sec + lit for sec in num_format.split(";"))


class Notes:
    """Formula patterns: one FormulaNote per pattern and sheet listing all its cells as
    compact ranges; the explanation on the pattern's first row."""

    def __init__(self):
        self._first: dict[str, tuple[str, str]] = {}
        self._cells: dict[str, dict[str, list[tuple[int, int]]]] = {}

    def add(self, key: str, sheet: str, row: int, col: int, formula: str, explanation: str):
        self._first.setdefault(key, (formula, explanation))
        self._cells.setdefault(key, {}).setdefault(sheet, []).append((row + 1, col + 1))

    def notes(self) -> list[FormulaNote]:
        out = []
        for key, (formula, text) in self._first.items():
            sheets = self._cells[key]
            n = sum(len(c) for c in sheets.values())
            if n > 1:
                text += f"（同じ形の数式が {len(sheets)} シートの {n} セルにあります）"
            for i, (sheet, cells) in enumerate(sheets.items()):
                out.append(FormulaNote(sheet, compress_cells(cells), formula if i == 0 else "〃",
                                       text if i == 0 else "上と同じ形の数式です。"))
        return out


class ReportWriter:
    def __init__(self, rb: ReportBook, path: Path, protect: bool = True):
        self.rb, self.protect = rb, protect
        self.wb = Workbook(str(path), {"strings_to_formulas": False, "in_memory": True,
                                       "strings_to_urls": False})
        self.wb.set_properties({"title": f"{rb.title} 進行管理報告書", "author": "xlsgen",
                                "created": rb.created})
        self.st = Styles(self.wb)
        self.notes = Notes()
        self.overview_rows: list[dict] = []
        self.near = ach.DEFAULT_NEAR
        self._cf: dict = {}
        self.one_page: list = []  # measure sheets printed on one page: (ws, last row, last col)

    # --- helpers -------------------------------------------------------------------
    def formula(self, ws, r, c, fv, fmt, key, explanation):
        f, v = fv
        ws.write_formula(r, c, f, fmt, v)
        self.notes.add(key, ws.name, r, c, f, explanation)
        return v

    def quantity(self, ws, r, c, q: Quantity | None, fmt_kw=None, input_cell=False):
        """A value as read: number as number (qualifier and `unit` kept in its format), text
        as text, empty as blank."""
        fmt_kw = dict(fmt_kw or {})
        unit = fmt_kw.pop("unit", None)
        if q is not None and q.value is not None:
            if input_cell:
                fmt = self.value_format(q, unit, locked=False, bg_color=theme.INPUT_FILL)
            else:
                fmt = self.value_format(q, unit, **fmt_kw)
            ws.write_number(r, c, q.value, fmt)
            return q.value
        fmt = self.st(locked=False, bg_color=theme.INPUT_FILL, text_wrap=True) if input_cell \
            else self.st.text(**fmt_kw)
        text = display_text(q)
        if text:
            ws.write_string(r, c, text[:32767], fmt)
        else:
            ws.write_blank(r, c, None, fmt)
        return None

    def value_format(self, q: Quantity, unit: str | None = None, **kw):
        """Number format of a value with its qualifier kept (`3"以上"`) and, where given, its
        unit (`30"%"`): the cell stays a number for the formulas, the reader sees 30%以上."""
        if q.qualifier:  # 3日以上: the unit belongs to the qualified figure
            unit = unit or q.unit
        suffix = (unit or "") + (q.qualifier or "")
        if not suffix:
            return self.st.number(q.value, **kw)
        fmt = self.st.number(q.value).num_format if q.value is not None else "#,##0"
        return self.st(num_format=with_suffix(fmt, suffix), **kw)

    def year_cell(self, ws, r, c, year: int | None, text_fmt) -> None:
        """A fiscal year as a number shown in 和暦 (`R1年度(2019)`), blank when unknown."""
        if year:
            ws.write_number(r, c, year, self.st.year(year, text_wrap=True))
        else:
            ws.write_blank(r, c, None, text_fmt)

    def merged_text(self, ws, r, c1, c2, text, fmt, widths):
        text = (text or "")[:32767]
        if c2 > c1:
            ws.merge_range(r, c1, r, c2, "", fmt)
        ws.write_string(r, c1, text, fmt)
        ws.set_row(r, text_height(text, sum(widths[c1:c2 + 1])))

    # --- workbook ------------------------------------------------------------------
    def write(self) -> dict:
        rb = self.rb
        overview = self.wb.add_worksheet(OVERVIEW)
        names = sheet_names([f"{m.key} {m.title}" for m in rb.measures],
                            {OVERVIEW, DATA, SETTINGS, FORMULA_MAP_SHEET})
        kpis = 0
        for m, name in zip(rb.measures, names):
            self.measure_sheet(m, name)
            kpis += len(m.kpis)
        write_overview(self, overview)
        write_data(self, names)
        write_settings(self)
        write_formula_map(self.wb, self.notes.notes())
        theme.fit_rows(self.wb)
        for ws, end, last in self.one_page:
            theme.best_orientation(ws, end, last)
        self.wb.close()
        return {"sheets": len(rb.measures), "kpis": kpis}

    def measure_sheet(self, m: ReportMeasure, name: str) -> None:
        st, ws = self.st, self.wb.add_worksheet(name)
        years = m.years
        self.year_targets: dict[int, ach.Ref] = {}  # filled by the budget table
        self.budget_amounts: dict[int, tuple[str, object]] = {}  # year → (事業費 cell, value)
        tcol = FIRST_YEAR_COL + len(years)  # 目標年度・期間, then 目標値, then 事業費
        last = max(tcol + 2, 9)
        widths = DO_WIDTHS + [YEAR_WIDTH] * len(years) + [14, 10, 12]
        widths += [10] * (last + 1 - len(widths))
        for c, w in enumerate(widths[:last + 1]):
            ws.set_column(c, c, w)
        title = f"{m.key} {m.title}"
        ws.merge_range(0, 0, 0, last, "", st(bold=True, font_size=14, border=0, valign="vcenter"))
        ws.write_string(0, 0, title, st(bold=True, font_size=14, border=0, valign="vcenter"))
        ws.set_row(0, 24)
        src = f"出典: {self.rb.source_title} シート「{m.source_sheet}」　評価年度・評価のしきい値は「設定」シートで変更できます。"
        ws.merge_range(1, 0, 1, last, "", st(border=0, font_size=9))
        ws.write_string(1, 0, src, st(border=0, font_size=9))
        band = st.band()
        label = st(bold=True, bg_color=theme.LABEL_FILL, text_wrap=True)
        text = st.text()

        def section(r, heading):
            ws.merge_range(r, 0, r, last, "", band)
            ws.write_string(r, 0, heading, band)
            ws.set_row(r, 18)
            return r + 1

        # Plan
        r = section(3, "Plan（計画）")
        for lab, value in m.levels + ([("目的", m.purpose)] if m.purpose else []):
            ws.merge_range(r, 0, r, 1, "", label)
            ws.write_string(r, 0, lab, label)
            self.merged_text(ws, r, 2, last, value, text, widths)
            r += 1
        if m.projects:
            heads = [(0, 2, "事業名"), (3, 4, "担当課・事業主体"), (5, last, "内容")]
            for c1, c2, h in heads:
                ws.merge_range(r, c1, r, c2, "", st.head())
                ws.write_string(r, c1, h, st.head())
            r += 1
            for p in m.projects:
                name_text = p.name + "".join(f"【{t}】" for t in p.tags)
                for c1, c2, v in ((0, 2, name_text), (3, 4, p.department or ""),
                                  (5, last, p.content)):
                    ws.merge_range(r, c1, r, c2, "", text)
                    ws.write_string(r, c1, v[:32767], text)
                ws.set_row(r, max(text_height(p.content, sum(widths[5:last + 1])),
                                  text_height(name_text, sum(widths[0:3]))))
                r += 1
        # Do
        r = section(r + 1, "Do（実施）")
        head_row = r + 1
        for c, h in enumerate(DO_HEADS):
            h = self.rb.category_label if h == "区分" else h
            ws.merge_range(r, c, r + 1, c, "", st.head())
            ws.write_string(r, c, h, st.head())
        if years:
            if len(years) > 1:
                ws.merge_range(r, FIRST_YEAR_COL, r, tcol - 1, "", st.head())
            ws.write_string(r, FIRST_YEAR_COL, "実績値（入力欄）", st.head())
        for i, y in enumerate(years):
            ws.write_number(head_row, FIRST_YEAR_COL + i, y, st.year(y, bold=True, bg_color=theme.HEAD_FILL,
                                                                       align="center"))
        for c, h in ((tcol, "目標年度・期間"), (tcol + 1, "目標値"), (tcol + 2, "事業費\n（千円）")):
            ws.merge_range(r, c, r + 1, c, "", st.head())
            ws.write_string(r, c, h, st.head())
        ws.set_row(r, 18)
        ws.set_row(head_row, 18)
        r = head_row + 1
        self.do_head = head_row
        ws.repeat_rows(0, 1)
        do_rows = []
        for n, k in enumerate(m.kpis, start=1):
            ws.write_number(r, 0, n, st(align="center"))
            ws.write_string(r, 1, k.category or "", text)
            ws.write_string(r, 2, k.name, text)
            ws.write_string(r, 3, k.unit or "", text)
            ws.write_string(r, 4, kind_label(k), text)
            self.year_cell(ws, r, 5, k.baseline_year, text)
            shown_unit = {"unit": PERCENT} if k.unit == PERCENT else None  # 30 → 30%
            self.quantity(ws, r, 6, k.baseline, shown_unit)
            for i, y in enumerate(years):
                self.quantity(ws, r, FIRST_YEAR_COL + i, k.values.get(y), input_cell=True)
            if k.period:
                ws.write_string(r, tcol, f"{year_label(k.period[0])}〜\n{year_label(k.period[1])}",
                                text)
            else:
                self.year_cell(ws, r, tcol, k.target_year, text)
            self.quantity(ws, r, tcol + 1, k.target, shown_unit)
            self.quantity(ws, r, tcol + 2, k.cost)
            ws.set_row(r, max(text_height(k.name, widths[2]), 27))
            do_rows.append(r)
            r += 1
        costs = [k.cost.value if k.cost else None for k in m.kpis]
        if any(isinstance(v, (int, float)) for v in costs):
            ws.write_string(r, tcol + 1, "合計", st.head())
            ws.write_comment(r, tcol + 1, COMMENTS["cost_total"])
            self.formula(ws, r, tcol + 2, rf.total(area(do_rows[0], tcol + 2, do_rows[-1], tcol + 2), costs),
                         st.number(), "cost_total", rf.EXPLANATIONS["cost_total"])
            r += 1
        if m.budget:
            r = self.budget_table(ws, m, r + 1)
        # Check
        r = section(r + 1, "Check（評価）")
        r = self.check_table(ws, m, name, r, do_rows, tcol, widths)
        for lab, value in m.check:
            ws.merge_range(r, 0, r, 2, "", label)
            ws.write_string(r, 0, lab or "分析", label)
            self.merged_text(ws, r, 3, last, value, text, widths)
            r += 1
        # Action
        r = section(r + 1, "Action（改善）")
        ws.merge_range(r, 0, r, 2, "", label)
        ws.write_string(r, 0, "方針（一覧から選択）", label)
        policy_fmt = st(locked=False, bg_color=theme.INPUT_FILL, bold=True, align="center")
        if m.policy:
            ws.write_string(r, 3, m.policy, policy_fmt)
        else:
            ws.write_blank(r, 3, None, policy_fmt)
        ws.data_validation(r, 3, r, 3, {"validate": "list", "source": list(POLICIES),
                                        "input_title": "方針", "input_message": "／".join(POLICIES)})
        ws.merge_range(r, 4, r, last, "", st(border=0, font_size=9))
        ws.write_string(r, 4, "／".join(POLICIES) + " から選びます。", st(border=0, font_size=9))
        r += 1
        for lab, value in m.action:
            ws.merge_range(r, 0, r, 2, "", label)
            ws.write_string(r, 0, lab or "今後の方向性", label)
            self.merged_text(ws, r, 3, last, value, text, widths)
            r += 1
        end = r - 1
        if self.chart_rows:
            end = max(end, self.rate_chart(ws, name, *self.chart_rows, r + 1, widths[:last + 1]))
        ws.print_area(0, 0, end, last)
        self.one_page.append((ws, end, last))
        page_setup(ws, f"{self.rb.title}　{title}", m.sheet_no or m.key, (0, 1), one_page=True)
        if self.protect:
            ws.protect("", {"format_rows": True, "format_columns": True})

    def budget_table(self, ws, m: ReportMeasure, r: int) -> int:
        st = self.st
        for c, h in ((2, "年度"), (3, "区分"), (4, "事業費（千円）"), (5, "うち特定財源\n（千円）"),
                     (6, "一般財源\n（千円）"), (7, "成果目標")):
            ws.write_string(r, c, h, st.head())
        ws.write_comment(r, 6, COMMENTS["general"])
        ws.set_row(r, 27)
        r += 1
        for b in m.budget:
            ws.write_string(r, 2, year_label(b.fiscal_year), st.text())
            ws.write_string(r, 3, b.kind, st.text())
            a = self.quantity(ws, r, 4, b.amount, input_cell=b.kind == "計画")
            s = self.quantity(ws, r, 5, b.specific_revenue, input_cell=b.kind == "計画")
            self.formula(ws, r, 6, rf.general_revenue(cell(r, 4), cell(r, 5), a, s),
                         st.number(), "general_revenue", rf.EXPLANATIONS["general_revenue"])
            if b.kind != "計画" and a is not None:
                self.budget_amounts[b.fiscal_year] = (cell(r, 4), a)
            unit = b.target.unit or next((k.unit for k in m.kpis if k.unit), None)
            t = self.quantity(ws, r, 7, b.target, input_cell=b.kind == "計画",
                              fmt_kw={"unit": unit})
            self.year_targets[b.fiscal_year] = ach.Ref(cell(r, 7), t)
            r += 1
        return r

    def check_table(self, ws, m: ReportMeasure, name: str, r: int, do_rows, tcol, widths) -> int:
        st, years = self.st, m.years
        heads = ["No", "種類", "指標名", "", "評価年度の\n達成率", "期待水準", "評価"]
        for c, h in enumerate(heads):
            ws.write_string(r, c, h, st.head())
        for key, c in (("rate", 4), ("pace", 5), ("grade", 6)):
            ws.write_comment(r, c, COMMENTS[key])
        for i, y in enumerate(years):
            ws.write_number(r, FIRST_YEAR_COL + i, y,
                            st.year(y, bold=True, bg_color=theme.HEAD_FILL, align="center"))
            ws.write_comment(r, FIRST_YEAR_COL + i, COMMENTS["year"])
        ws.set_row(r, 27)
        head = r
        header = area(head, FIRST_YEAR_COL, head, FIRST_YEAR_COL + len(years) - 1, absolute=True)
        r += 1
        first = r
        for n, (k, dr) in enumerate(zip(m.kpis, do_rows), start=1):
            ws.write_number(r, 0, n, st(align="center"))
            ws.write_string(r, 1, kind_label(k), st.text())
            ws.merge_range(r, 2, r, 3, "", st.text())
            ws.write_string(r, 2, k.name, st.text())
            ws.set_row(r, max(text_height(k.name, widths[2] + widths[3]), 27))
            values = self.year_rates(ws, k, r, dr, years, tcol, head)
            if years:
                row = area(r, FIRST_YEAR_COL, r, FIRST_YEAR_COL + len(years) - 1)
                rate = self.formula(ws, r, 4, ach.at_eval_year(row, header, values, years,
                                                               self.rb.eval_year),
                                    st.pct(), "at_eval_year", ach.EXPLANATIONS["at_eval_year"])
            else:
                rate = ach.NA
                ws.write_string(r, 4, ach.NA, st.pct())
            in_period = [i for i, y in enumerate(years) if k.period and k.period[0] <= y <= k.period[1]]
            if k.kind is TargetKind.CUMULATIVE and in_period:
                cells = area(head, FIRST_YEAR_COL + in_period[0], head, FIRST_YEAR_COL + in_period[-1],
                             absolute=True)
                pace = self.formula(ws, r, 5, ach.pace(cells, [years[i] for i in in_period],
                                                       self.rb.eval_year),
                                    st.pct(), "pace", ach.EXPLANATIONS["pace"])
            elif k.kind in (TargetKind.AT_YEAR, TargetKind.RUNNING_TOTAL) and not k.period:
                pace = self.formula(ws, r, 5, ach.linear_pace(
                    ach.Ref(cell_fixed_col(dr, 5), k.baseline_year),
                    ach.Ref(cell_fixed_col(dr, tcol), k.target_year), self.rb.eval_year),
                    st.pct(), "linear_pace", ach.EXPLANATIONS["linear_pace"])
            else:
                pace = ach.NA
                ws.write_string(r, 5, ach.NA, st.pct())
            g = self.formula(ws, r, 6, ach.grade(ach.Ref(cell(r, 4), rate)),
                             st(bold=True, align="center"), "grade", ach.EXPLANATIONS["grade"])
            q = k.values.get(self.rb.eval_year)
            shown = q.value if q is not None and q.value is not None else display_text(q)
            actuals = years and (area(dr, FIRST_YEAR_COL, dr, FIRST_YEAR_COL + len(years) - 1),
                                 area(self.do_head, FIRST_YEAR_COL, self.do_head,
                                      FIRST_YEAR_COL + len(years) - 1, absolute=True), shown)
            cost = None
            if k.cost is not None and k.cost.value is not None:
                cost = (cell(dr, tcol + 2), k.cost.value)
            elif k.year_targets or len(m.kpis) == 1:
                cost = self.budget_amounts.get(self.rb.eval_year)
            self.overview_rows.append({"sheet": name, "measure": m, "kpi": k, "do_row": dr,
                                       "row": r, "tcol": tcol, "rate": rate, "pace": pace,
                                       "grade": g, "actuals": actuals, "cost": cost})
            r += 1
        if m.kpis:
            self.grade_format(ws, first, 6, r - 1, 6)
        self.chart_rows = (first, r - 1) if any(
            k.kind not in (TargetKind.QUALITATIVE, TargetKind.NONE) for k in m.kpis) else None
        return r

    def year_rates(self, ws, k: ReportKpi, r, dr, years, tcol, head) -> list:
        """One achievement cell per year column, chosen by the KPI's kind and direction."""
        st = self.st
        base = ach.Ref(cell_fixed_col(dr, 6), k.baseline.value)
        target = ach.Ref(cell_fixed_col(dr, tcol + 1), k.target.value)
        level = base.value is not None and base.value == target.value
        values = []
        for i, y in enumerate(years):
            c = FIRST_YEAR_COL + i
            q = k.values.get(y)
            actual = ach.Ref(cell(dr, c), q.value if q else None)
            rule = ach.rule_for(k.kind, k.direction, y, k.target_year, k.period, level)
            if rule is None:
                ws.write_string(r, c, ach.NA, st.pct())
                values.append(ach.NA)
                continue
            if rule == "cumulative":
                cols = [FIRST_YEAR_COL + j for j, yy in enumerate(years) if k.period[0] <= yy <= y]
                summed = running_area(dr, cols[0], cols[-1])
                sv = [k.values[years[j - FIRST_YEAR_COL]].value for j in cols]
                fv = ach.cumulative(actual, summed, sv, target)
            elif rule == "ratio":
                fv = ach.ratio(actual, self.year_targets.get(y, target) if k.year_targets else target)
            elif rule == "progress":
                fv = ach.progress(actual, base, target, self.near)
            else:
                fv = ach.reduction(actual, base, target, self.near)
            values.append(self.formula(ws, r, c, fv, st.pct(), rule, ach.EXPLANATIONS[rule]))
        return values

    def grade_format(self, ws, r1, c1, r2, c2):
        if not self._cf:
            self._cf.update({k: self.wb.add_format({"bg_color": v}) for k, v in GRADE_COLORS.items()})
        for letter, fmt in self._cf.items():
            ws.conditional_format(r1, c1, r2, c2, {"type": "cell", "criteria": "==",
                                                   "value": f'"{letter}"', "format": fmt})

    def rate_chart(self, ws, name, r1, r2, at_row, widths) -> int:
        """A bar per KPI of its achievement in the evaluated year, axis from the data to past
        100% (a gridline); drawn only when a KPI has a rate. Returns the chart's last row."""
        rates = [o["rate"] for o in self.overview_rows if o["sheet"] == name]
        nums = [v for v in rates if isinstance(v, (int, float))]
        if not nums:
            return at_row - 1
        hi, lo = max(1.0, *nums), min(0.0, *nums)
        step = 0.2 if hi - lo <= 1.6 else 0.5 if hi - lo <= 4 else 1.0
        chart = self.wb.add_chart({"type": "bar"})
        q = quote_sheet(name)
        chart.add_series({"name": "評価年度の達成率",
                          "categories": f"={q}!{area(r1, 2, r2, 2, absolute=True)}",
                          "values": f"={q}!{area(r1, 4, r2, 4, absolute=True)}",
                          "fill": {"color": theme.SERIES[0][0]},
                          "data_labels": {"value": True, "num_format": "0%", "font": theme.font(8)}})
        chart.set_title({"name": "指標別の達成率（評価年度・目標＝100%）", "name_font": theme.font(11)})
        room = step if lo < 0 else 0  # a negative bar's label needs room left of its end
        chart.set_x_axis({"num_format": "0%", "min": math.floor(lo / step) * step - room,
                          "max": math.ceil(hi * 1.1 / step) * step, "major_unit": step,
                          "major_gridlines": {"visible": True, "line": {"color": theme.GRID_LINE}},
                          "num_font": theme.font(8)})
        chart.set_y_axis({"reverse": True, "num_font": theme.font(8), "label_position": "low"})
        chart.set_legend({"none": True})
        width = sum(int(w * 7 + 0.5) + 5 for w in widths[1:]) - 10
        height = 120 + 24 * (r2 - r1 + 1)
        chart.set_size({"width": min(width, 900), "height": height})
        ws.insert_chart(at_row, 1, chart, {"object_position": 2})
        return at_row + math.ceil(height / ws.default_row_height) + 1


def write_report(rb: ReportBook, path, protect: bool = True) -> dict:
    """Write the report workbook to `path` (the caller makes it atomic); returns counts."""
    return ReportWriter(rb, Path(path), protect).write()

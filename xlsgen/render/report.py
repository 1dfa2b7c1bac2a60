"""The PDCA report workbook (xlsxwriter), a council document first:

    一覧 · one page per measure · 評価の分布 · 【参考】計算 · データ · 設定 · 数式一覧

Every calculation is on the calculation sheet (xlsgen.render.report_calc, FAST style: one
row per KPI and year, each column one formula); 一覧 and the measure pages only look its
values up by the row's ID, so each column of theirs is one formula too. Every formula comes
from xlsgen.formulas with its Python value. Texts from inputs are written with
write_string, never as formulas. The formula map (数式一覧) groups the formulas written
here with the audit's own grouping (R1C1 equality across sheets).
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from xlsgen.audit.inventory import pattern_groups
from xlsgen.formulas import calc as fc
from xlsgen.formulas import cell, cell_fixed_col
from xlsgen.formulas.achievement import DEFAULT_NEAR
from xlsgen.formulas.achievement import NA as NA_MARK
from xlsgen.measures import ReportBook, ReportKpi, ReportMeasure
from xlsgen.model import FORMULA_MAP_SHEET, Quantity
from xlsgen.render import theme
from xlsgen.render.formula_map import group_notes, write_formula_map
from xlsgen.render.page import Layout
from xlsgen.render.report_calc import (
    CALC,
    COST_LABELS,
    CalcSheet,
    cost_of,
    display_text,
    measure_id,
    year_targets,
)
from xlsgen.render.report_sheets import (
    COMMENTS,
    DATA,
    DISTRIBUTION,
    OVERVIEW,
    SETTINGS,
    kind_label,
    write_data,
    write_distribution,
    write_overview,
    write_settings,
    year_head,
    year_label,
)
from xlsgen.render.styles import sheet_names
from xlsgen.render.theme import GRADE_COLORS, Styles
from xlsgen.wareki import FiscalYear

PERCENT = "%"  # values held in percent (17.8 for 17.8 %), shown with the sign
FIRST_YEAR_COL = 6  # the measure pages' first year column (G), the same on every page
# the measure pages' columns: ID, 区分/種類, 指標名, 単位, 基準年度, 基準値, years…, 目標年度,
# 目標値, 事業費
LEAD_WIDTHS = [7, 7, 22, 5, 5, 9]
YEAR_WIDTH = 8
TAIL_WIDTHS = [6, 8, 8]
COST_GROUPS = [
    ["project_cost", "national", "prefectural", "bond", "other", "specific", "general",
     "general_calc", "general_diff"],
    ["staff", "staff_unit_cost", "personnel", "personnel_calc", "personnel_diff", "total",
     "total_calc", "total_diff", "output", "unit_cost"],
]


def with_suffix(num_format: str, suffix: str) -> str:
    """A number format whose every section ends in a literal: `#,##0"以上";"▲"#,##0"以上"`."""
    lit = '"' + suffix.replace('"', "") + '"'
    return ";".join(sec + lit for sec in num_format.split(";"))


def decimals(values) -> int:
    """Decimal places that show every number of `values` (at most 3)."""
    out = 0
    for v in values:
        if isinstance(v, (int, float)) and not isinstance(v, bool) and not float(v).is_integer():
            out = max(out, min(len(repr(float(v)).split(".")[1]), 3))
    return out


def edition_year(rb: ReportBook) -> int | None:
    """The fiscal year of the source's edition (the report's `created` date is its 1 April);
    None when the source names none."""
    return rb.created.year if rb.created.year > 2000 else None


def document_title(rb: ReportBook) -> str:
    """The city and the plan: the city is put first when the title does not name it."""
    title = (rb.title or "").strip()
    city = (rb.city or "").strip()
    return f"{city} {title}".strip() if city and city not in title else title


def year_text(rb: ReportBook) -> str:
    """The fiscal year every page names: the edition (令和3年度版), else the evaluated year."""
    ed = edition_year(rb)
    return f"{FiscalYear(ed).kanji}版" if ed else f"{FiscalYear(rb.eval_year).kanji}評価"


class ReportWriter:
    def __init__(self, rb: ReportBook, path: Path, protect: bool = True):
        self.rb, self.protect = rb, protect
        self.wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "in_memory": True,
                                                  "strings_to_urls": False})
        self.document = document_title(rb)
        self.year_text = year_text(rb)
        self.wb.set_properties({"title": f"{self.document} 進行管理報告書 {self.year_text}",
                                "author": "xlsgen", "created": rb.created})
        self.st = Styles(self.wb)
        self.written: list[tuple[str, int, int, str, str, str]] = []
        self.near = DEFAULT_NEAR
        self._cf: dict = {}
        self.calc = CalcSheet(rb, self.near)
        self.era_cells: list[tuple[str, str]] = []
        self.overview_rows: list[dict] = []

    # --- helpers -------------------------------------------------------------------
    def formula(self, ws, r, c, fv, fmt, key, explanation=None):
        f, v = fv
        ws.write_formula(r, c, f, fmt, "" if v is None else v)
        self.written.append((ws.name, r + 1, c + 1, f, key))
        return v

    def kpi_format(self, k: ReportKpi, **kw):
        """The number format of a KPI's values: the decimals its values need, and the % sign
        for a percent KPI (the value 42.4 shows 42.4%)."""
        values = [k.baseline.value, k.target.value] + [q.value for q in k.values.values()] + \
                 [q.value for q in k.targets.values()]
        d = decimals(values)
        frac = "." + "0" * d if d else ""
        fmt = f'#,##0{frac};"▲"#,##0{frac}'
        if k.unit == PERCENT:
            fmt = with_suffix(fmt, PERCENT)
        return self.st(num_format=fmt, **kw)

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

    def shown_format(self, k: ReportKpi, q: Quantity):
        """A KPI's single value (baseline, target) shown with its qualifier and, for a
        percent KPI, the % sign."""
        if q.value is None:
            return self.st.text(align="right")
        if q.qualifier:
            return self.value_format(q, PERCENT if k.unit == PERCENT else None)
        return self.kpi_format(k)

    def flag(self, ws, r, c) -> None:
        """Mark a cell whose value is a difference other than 0."""
        if "flag" not in self._cf:
            self._cf["flag"] = self.wb.add_format({"bg_color": theme.WARN_FILL,
                                                   "font_color": theme.WARN_FONT, "bold": True})
        ws.conditional_format(r, c, r, c, {"type": "formula", "criteria": fc.differs(cell(r, c)),
                                           "format": self._cf["flag"]})

    def grade_format(self, ws, r1, c1, r2, c2):
        if "A" not in self._cf:
            self._cf.update({k: self.wb.add_format({"bg_color": v}) for k, v in GRADE_COLORS.items()})
        for letter in GRADE_COLORS:
            fmt = self._cf[letter]
            ws.conditional_format(r1, c1, r2, c2, {"type": "cell", "criteria": "==",
                                                   "value": f'"{letter}"', "format": fmt})

    # --- workbook ------------------------------------------------------------------
    def write(self) -> dict:
        rb = self.rb
        add = lambda name: self.wb.add_worksheet(name, worksheet_class=theme.Worksheet)  # noqa: E731
        overview = add(OVERVIEW)
        names = sheet_names([f"{m.key} {m.title}" for m in rb.measures],
                            {OVERVIEW, DISTRIBUTION, DATA, SETTINGS, FORMULA_MAP_SHEET, CALC})
        self.sheet_of = {id(m): name for m, name in zip(rb.measures, names)}
        pages = [add(name) for name in names]
        distribution = add(DISTRIBUTION)  # the council part's last page
        calc, data, settings = add(CALC), add(DATA), add(SETTINGS)
        for ws in (calc, data, settings):
            ws.set_tab_color(theme.NA_FILL)
        write_settings(self, settings)
        kpis = 0
        for m, ws in zip(rb.measures, pages):
            self.measure_sheet(m, ws)
            kpis += len(m.kpis)
        write_overview(self, overview)
        write_distribution(self, distribution)
        self.calc.write(self, calc)
        write_data(self, data, names)
        write_formula_map(self.wb, self.formula_notes(), title=self.document,
                          year=self.year_text)
        theme.fit_rows(self.wb)
        self.wb.close()
        return {"sheets": len(rb.measures), "kpis": kpis}

    def formula_notes(self):
        """One note per formula group (R1C1 equality, across sheets; the audit's grouping)
        and sheet, in workbook order."""
        order = {ws.name: i for i, ws in enumerate(self.wb.worksheets())}
        cells = sorted(self.written, key=lambda x: (order[x[0]], x[1], x[2]))
        keys = {(s, r, c): key for s, r, c, _, key in cells}
        notes = []
        for g in pattern_groups((s, r, c, f, None) for s, r, c, f, _ in cells):
            key = keys[g.members[0]]
            notes += group_notes(g, fc.EXPLANATIONS.get(key, ""))
        return notes

    # --- a measure page --------------------------------------------------------------
    def measure_sheet(self, m: ReportMeasure, ws) -> None:
        st, calc, t = self.st, self.calc, self.calc.kpi_table
        years = m.years
        tcol = FIRST_YEAR_COL + len(years)
        ids = [calc.kpi(k).kid for k in m.kpis] + [measure_id(m)]
        lead = [max([LEAD_WIDTHS[0]] + [theme.width_chars(i) for i in ids])] + LEAD_WIDTHS[1:]
        widths = lead + [YEAR_WIDTH] * len(years) + TAIL_WIDTHS
        last = len(widths) - 1
        lay = Layout(ws, widths)
        text, label = st.text(), st(bold=True, bg_color=theme.LABEL_FILL, text_wrap=True)
        head, band = st.head(), st.band()
        small = st(border=0, font_size=9, text_wrap=True)
        eval_ref = fc.EVAL_YEAR

        top = lay.block()
        top.row(24).put(0, last, f"{m.key} {m.title}", st(bold=True, font_size=14, border=0,
                                                          valign="vcenter", text_wrap=True))
        top.row().put(0, last, f"出典: {self.rb.source_title} シート「{m.source_sheet}」", small)

        def section(heading: str) -> None:
            lay.block(keep_with_next=True).row(18).put(0, last, heading, band)

        # Plan
        section("Plan（計画）")
        plan = lay.block()
        for lab, value in m.levels + ([("目的", m.purpose)] if m.purpose else []):
            plan.text(lay, (0, 1), lab, label, (2, last), value or "", text)
        # projects with amounts are shown with them (project_lines); the others here
        listed = {(p.name, p.department) for p in m.project_lines}
        projects = [p for p in m.projects if (p.name, p.department) not in listed]
        if projects:
            b = lay.block(head=1)
            b.row().put(0, 2, "事業名", head).put(3, 5, "担当課・事業主体", head) \
                .put(6, last, "内容", head)
            for p in projects:
                # a bullet, as the sheets list their projects (■事業名)
                name = "■" + p.name + "".join(f"【{tag}】" for tag in p.tags)
                b.row().put(0, 2, name, text).put(3, 5, p.department or "", text) \
                    .put(6, last, p.content or "", text)
        if m.project_lines:
            self.project_lines(lay, m, last)

        rid = lambda r: cell_fixed_col(r, 0)  # noqa: E731  the row's ID: $A20

        def grid(key, value, fmt):
            """A cell of a KPI × year grid: one formula for every cell of every page's grid."""
            return self.lookup(ws, lambda r, c: fc.across(
                t, key, rid(r), cell_fixed_col(r, FIRST_YEAR_COL - 1), value), fmt, "across")

        def first_row(key, value, fmt):
            return self.lookup(ws, lambda r, c: fc.first_row(t, key, rid(r), value), fmt,
                               "first_row")

        def of_eval_year(key, value, fmt):
            return self.lookup(ws, lambda r, c: fc.of_year(t, key, rid(r), eval_ref, value), fmt,
                               "of_year")

        # Do and Check: one table, two rows a KPI (its values, then its rates)
        section("Do（実施）・Check（評価）")
        do = lay.block(head=2)
        h1, h2 = do.row(), do.row()
        h1.keep_with_next = True
        for c, h in enumerate(["ID", self.rb.category_label, "指標名"]):
            h1.put(c, c, h, head, span=2)
        sub = st.head(bg_color=theme.LABEL_FILL)
        for c, h in ((3, "単位"), (4, "基準\n年度"), (5, "基準値")):
            h1.put(c, c, h, head)
        h2.put(3, 4, "測り方", sub).put(5, 5, "評価年度\nの率", sub)
        for i, y in enumerate(years):  # text: a header written again is no number
            h1.put(FIRST_YEAR_COL + i, FIRST_YEAR_COL + i, year_head(y), head)
            h2.put(FIRST_YEAR_COL + i, FIRST_YEAR_COL + i, "率", sub)
        for c, top, below in ((tcol, "目標\n年度", "期待\n水準"), (tcol + 1, "目標値", "評価に\n使う値"),
                              (tcol + 2, "事業費\n(千円)", "評価")):
            h1.put(c, c, top, head)
            h2.put(c, c, below, sub)
        h1.after.append(lambda r: (ws.write_comment(r, FIRST_YEAR_COL, COMMENTS["rows"])
                                   if years else None))
        h2.after.append(lambda r: (ws.write_comment(r, 5, COMMENTS["rate"]),
                                   ws.write_comment(r, tcol, COMMENTS["pace"]),
                                   ws.write_comment(r, tcol + 1, COMMENTS["basis"]),
                                   ws.write_comment(r, tcol + 2, COMMENTS["grade"])))
        costs = False
        grades: list = []
        rate_fill = {"bg_color": theme.LABEL_FILL}
        for k in m.kpis:
            ref, first = calc.kpi(k), calc.kpi(k).rows[0]
            at_eval = calc.at_year(k, self.rb.eval_year)
            row = do.row()
            row.keep_with_next = True  # a KPI's values and its rates stay on one page
            row.put(0, 0, ref.kid, st(align="center", text_wrap=True))
            row.put(1, 1, k.category or "", text)
            row.put(2, 2, k.name, text, span=2)
            row.put(3, 3, k.unit or "", text)
            # years as text on the page (the calculation sheet holds them as numbers)
            row.put(4, 4, FiscalYear(k.baseline_year).short if k.baseline_year else None,
                    st.text(align="center"))
            bf = self.shown_format(k, k.baseline)
            row.put(5, 5, first_row("baseline", first["baseline"], bf), bf,
                    shown=str(first["baseline"]))
            vf = self.kpi_format(k)
            for i, y in enumerate(years):
                yr = calc.at_year(k, y)
                row.put(FIRST_YEAR_COL + i, FIRST_YEAR_COL + i,
                        grid("shown", calc.value(yr, "shown"), vf), vf,
                        shown=str(calc.value(yr, "shown")))
            if k.period:
                row.put(tcol, tcol, f"{FiscalYear(k.period[0]).short}〜\n"
                                    f"{FiscalYear(k.period[1]).short}", st.text(align="center"))
            else:
                row.put(tcol, tcol, FiscalYear(k.target_year).short if k.target_year else None,
                        st.text(align="center"))
            tf = self.shown_format(k, k.target)
            row.put(tcol + 1, tcol + 1, first_row("final", first["final"], tf), tf,
                    shown=str(first["final"]))
            if any(x.cost is not None and x.cost.value is not None for x in m.kpis):
                costs = True
                cf = st.number(first["cost"] if fc.is_num(first["cost"]) else None)
                row.put(tcol + 2, tcol + 2, first_row("cost", first["cost"], cf), cf,
                        shown=str(first["cost"]))
            else:
                row.put(tcol + 2, tcol + 2, None, text)
            # the rates: the same rule every year, named as computed
            rrow = do.row()
            rrow.put(0, 0, ref.kid, st(align="center", text_wrap=True, font_color=theme.MUTED_FONT,
                                       **rate_fill))
            rrow.put(1, 1, kind_label(k), st.text(font_size=9, **rate_fill))
            for c1, c2, key, fmt in ((3, 4, "label", st.text(align="center", **rate_fill)),
                                     (5, 5, "rate", st.pct(bold=True, **rate_fill)),
                                     (tcol, tcol, "pace", st.pct(**rate_fill)),
                                     (tcol + 1, tcol + 1, "basis", st.pct(**rate_fill)),
                                     (tcol + 2, tcol + 2, "grade",
                                      st(bold=True, align="center", **rate_fill))):
                v = calc.value(at_eval, key)
                rrow.put(c1, c2, of_eval_year(key, v, fmt), fmt, shown=str(v))
            for i, y in enumerate(years):
                yr = calc.at_year(k, y)
                rrow.put(FIRST_YEAR_COL + i, FIRST_YEAR_COL + i,
                         grid("rate", calc.value(yr, "rate"), st.pct(**rate_fill)),
                         st.pct(**rate_fill), shown=str(calc.value(yr, "rate")))
            grades.append(rrow)
            self.overview_rows.append({"measure": m, "kpi": k, "ref": ref, "row": row})
            targets = year_targets(m, k)
            if targets and years:
                trow = do.row()
                trow.put(0, 0, ref.kid, st(align="center", text_wrap=True,
                                           font_color=theme.MUTED_FONT))
                trow.put(1, 4, "　各年度の目標値", st.text(font_color=theme.MUTED_FONT))
                trow.put(5, 5, NA_MARK, st.text(align="center", font_color=theme.MUTED_FONT))
                for i, y in enumerate(years):
                    yr = calc.at_year(k, y)
                    trow.put(FIRST_YEAR_COL + i, FIRST_YEAR_COL + i,
                             grid("target", calc.value(yr, "target"), vf), vf,
                             shown=str(calc.value(yr, "target")))
                trow.put(tcol, last, None, text)
            for what, own in (("達成率", k.own_rates), ("評価", k.own_grades)):
                if not own or not years:
                    continue
                orow = do.row()
                orow.put(0, 0, None, text)
                orow.put(1, 5, f"　{self.rb.city or '元のシート'}の{what}",
                         st.text(font_color=theme.MUTED_FONT))
                for i, y in enumerate(years):
                    q, c = own.get(y), FIRST_YEAR_COL + i
                    if q is not None and q.value is not None:
                        fmt = (st(num_format=with_suffix("0.0", q.unit), align="right")
                               if what == "達成率" and q.unit else
                               st.pct() if what == "達成率" else st.text(align="center"))
                        orow.put(c, c, q.value, fmt)
                    else:
                        orow.put(c, c, display_text(q) if q is not None else None,
                                 st.text(align="center"))
                orow.put(tcol, last, None, text)
        if costs:
            total = calc.kpi(m.kpis[0]).rows[0]["f"]["measure_total"][1]
            row = do.row()
            row.put(0, 0, measure_id(m), st(align="center", text_wrap=True, font_color=theme.MUTED_FONT))
            row.put(1, tcol, "事業費の合計（千円）", st.text(align="right", bold=True))
            row.put(tcol + 1, tcol + 2, self.lookup(
                ws, lambda r, c: fc.of_measure(t, "measure_total", rid(r), total), st.number(),
                "of_measure"), st.number(bold=True), shown=str(total))
        if grades:
            grade_col = tcol + 2
            grades[-1].after.append(lambda r, first=grades[0]: self.grade_format(
                ws, first.at, grade_col, r, grade_col))
        cost = cost_of(m)
        if cost is not None:
            self.cost_tables(lay, m, cost, last)

        if any(k.texts or k.note for k in m.kpis) or m.evaluations or m.check:
            section("Check（評価）")
        self.kpi_texts(lay, m, last)
        if m.evaluations:
            b = lay.block()
            for lab, value in m.evaluations:
                b.text(lay, (0, 1), lab, label, (2, last), value or "", text)
        if m.check:
            b = lay.block()
            for lab, value in m.check:
                b.text(lay, (0, 1), lab or "分析", label, (2, last), value or "", text)

        # Action
        if m.policy or m.action:
            section("Action（改善）")
            b = lay.block()
            if m.policy:
                b.row().put(0, 1, "方針", label).put(2, last, m.policy, st.text(bold=True))
            for lab, value in m.action:
                b.text(lay, (0, 1), lab or "今後の方向性", label, (2, last), value or "", text)

        label_no = f"シート№ {m.sheet_no or m.key}"
        lay.emit(self.document, self.year_text, label_no)
        ws.hide_gridlines(2)
        if self.protect:
            ws.protect("", {"format_rows": True, "format_columns": True})

    def lookup(self, ws, make, fmt, family):
        """A cell the layout writes once its row is known: `make(row, col)` gives the
        (formula, value) of a lookup reading the row's ID in column A."""
        return lambda r, c: self.formula(ws, r, c, make(r, c), fmt, family)

    # --- project lines and cost ----------------------------------------------------
    def project_lines(self, lay: Layout, m: ReportMeasure, last: int) -> None:
        st = self.st
        pairs = sorted({(fy, kind or "") for p in m.project_lines for fy, kind, _ in p.amounts})
        unit = next((p.unit for p in m.project_lines if p.unit), None) or "千円"
        room = last - 6 + 1
        chunks = [pairs[i:i + room] for i in range(0, len(pairs), room)] or [[]]
        for chunk in chunks:
            b = lay.block(head=1)
            h = b.row(30)
            h.put(0, 2, "事業名", st.head()).put(3, 5, f"担当\n（金額: {unit}）", st.head())
            for i, (fy, kind) in enumerate(chunk):
                h.put(6 + i, 6 + i, f"{FiscalYear(fy).short}年度\n{kind}".strip(), st.head())
            if 6 + len(chunk) <= last:
                h.put(6 + len(chunk), last, "", st.head())
            for p in m.project_lines:
                row = b.row()
                name = p.name + "".join(f"【{t}】" for t in p.tags)
                row.put(0, 2, name, st.text()).put(3, 5, p.department or "", st.text())
                amounts = {(fy, kind or ""): q for fy, kind, q in p.amounts}
                for i, pair in enumerate(chunk):
                    q = amounts.get(pair)
                    if q is not None and q.value is not None:
                        row.put(6 + i, 6 + i, q.value, self.st.number(q.value))
                    else:
                        row.put(6 + i, 6 + i, display_text(q) if q else None, st.text(align="right"))
                if 6 + len(chunk) <= last:
                    row.put(6 + len(chunk), last, None, st.text())
                if p.content and chunk is chunks[0]:
                    b.row().put(0, last, f"　{p.content}", st.text(font_color=theme.NOTE_FONT))

    def cost_tables(self, lay: Layout, m: ReportMeasure, cost, last: int) -> None:
        """The cost block: a row per year (区分 決算額/予算額/計画), a column per line the
        measure has and per figure derivable from them (一般財源, 人件費, 総事業費 and the
        difference from the sheet's own where both are there, 単位コスト), each looked up
        on the calculation sheet."""
        calc, st = self.calc, self.st
        t = calc.cost_table
        rows = [calc.cost_row(m, y) for y in cost.years]
        rows = [r for r in rows if r is not None]
        if not rows or t is None:
            return

        def has(key):
            return any(fc.is_num(calc.value(r, key)) for r in rows)

        present = {k for k in COST_LABELS if has(k)}
        columns = []
        for group in COST_GROUPS:
            shown = [k for k in group if k in present]
            if "general_diff" in shown and not has("general"):
                shown.remove("general_diff")
            columns.append(shown)
        first = 5  # the lines from column F on: A measure ID, B year, C:E 区分
        room = last - first + 1
        for group in columns:
            for i in range(0, len(group), room):
                chunk = group[i:i + room]
                if not chunk:
                    continue
                b = lay.block(head=1)
                h = b.row(30)
                h.put(0, 1, "年度", st.head()).put(2, 4, f"区分（金額: {cost.unit}）", st.head())
                for j, key in enumerate(chunk):
                    name = COST_LABELS[key]
                    if key == "unit_cost":
                        name += "\n（円）" if cost.unit == "千円" else f"\n（{cost.unit}）"
                    h.put(first + j, first + j, name, st.head())
                if first + len(chunk) <= last:
                    h.put(first + len(chunk), last, "", st.head())
                for row in rows:
                    y = row["year"]
                    line = b.row()
                    line.put(0, 0, measure_id(m), st(align="center", text_wrap=True, font_color=theme.MUTED_FONT))
                    line.put(1, 1, y, st.year_short(y))
                    line.put(2, 4, row["kind"] or "", st.text())
                    for j, key in enumerate(chunk):
                        v = calc.value(row, key)
                        fmt = st.number(1.5 if key in ("unit_cost", "staff") and fc.is_num(v)
                                        and not float(v).is_integer() else None)
                        line.put(first + j, first + j, self.lookup(
                            lay.ws, lambda r, c, key=key, v=v: fc.of_year(
                                t, key, cell_fixed_col(r, 0), cell_fixed_col(r, 1), v),
                            fmt, "of_year_cost"), fmt, shown=str(v))
                        if key.endswith("_diff"):  # the sheet's own figure differs: flagged
                            line.after.append(lambda r, c=first + j: self.flag(lay.ws, r, c))
                    if first + len(chunk) <= last:
                        line.put(first + len(chunk), last, None, st.text())
        own = cost.unit_cost_kpi
        if own:
            lay.block().row().put(0, last, f"単位コストの成果指標は「{own}」（総事業費 ÷ その年度の実績）",
                                  st(border=0, font_size=9, text_wrap=True))

    def kpi_texts(self, lay: Layout, m: ReportMeasure, last: int) -> None:
        """Per-year texts of the KPIs (実績の分析・要因 …) and their notes (備考)."""
        st = self.st
        texts = [(k, y, t) for k in m.kpis for y, t in sorted(k.texts.items()) if t]
        if texts:
            b = lay.block(head=1)
            label = next((k.text_label for k in m.kpis if k.text_label), "") or "年度ごとの記述"
            b.row().put(0, 2, "指標名", st.head()).put(3, 4, "年度", st.head()) \
                .put(5, last, label, st.head())
            for k, y, t in texts:
                b.row().put(0, 2, k.name, st.text()).put(3, 4, year_label(y), st.text()) \
                    .put(5, last, t, st.text())
        notes = [(k, k.note) for k in m.kpis if k.note]
        if notes:
            b = lay.block(head=1)
            b.row().put(0, 2, "指標名", st.head()).put(3, last, "備考", st.head())
            for k, note in notes:
                b.text(lay, (0, 2), k.name, st.text(), (3, last), note, st.text())

def write_report(rb: ReportBook, path, protect: bool = True) -> dict:
    """Write the report workbook to `path` (the caller makes it atomic); returns counts."""
    return ReportWriter(rb, Path(path), protect).write()

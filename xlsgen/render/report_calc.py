"""The report's calculation sheet (計算): every calculation of the report, FAST style.

Three tables side by side, each printed as its own range:

- 指標 × 年度: one row per KPI and fiscal year. Inputs first (the actual typed by the clerk,
  the targets, the baseline, the method and the years the expected pace runs between), then
  one column per calculation, each one formula copied down.
- 施策 × 年度: one row per measure and year of its cost block (事業費, 財源内訳, 人件費 =
  人工 × 平均職員費, 総事業費, 単位コスト); only when a measure has one.
- 全体: the 評価年度 in 和暦, the 一覧's heading and the grade counts.

The rows' values are computed here in Python with the formulas (xlsgen.formulas.calc), so
the presentation sheets' lookups can carry the same cached values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xlsgen.formulas import area, cell, cell_fixed_col
from xlsgen.formulas import calc as fc
from xlsgen.measures import ReportBook, ReportCost, ReportKpi, ReportMeasure
from xlsgen.model import Direction, Quantity, TargetKind
from xlsgen.render import theme
from xlsgen.wareki import FiscalYear

CALC = "計算"
FIRST_ROW = 2  # row 0: the table's title, row 1: its headings
GAP = 1  # empty columns between two tables

# (key, heading, width, kind): kind "in" an input as read, "input" a cell for the clerk,
# "f" a formula column
KPI_COLS = [
    ("id", "指標ID", 7, "in"), ("measure", "施策", 6, "in"), ("name", "指標名", 24, "in"),
    ("year", "年度\n（西暦）", 7, "in"), ("actual", "実績値\n（入力）", 9, "input"),
    ("target", "目標値\n（この年度）", 9, "in"), ("final", "最終\n目標値", 9, "in"),
    ("baseline", "基準値", 9, "in"), ("method", "方式", 6, "in"),
    ("start", "累計の\n初年度", 7, "in"), ("pace_from", "期待の\n起点年度", 7, "in"),
    ("pace_to", "期待の\n終点年度", 7, "in"), ("cost", "指標の\n事業費", 9, "in"),
    ("key", "検索キー", 12, "f"), ("shown", "実績値\n（表示）", 9, "f"),
    ("compared", "比べる\n実績", 9, "f"), ("uses_baseline", "基準値\nから測る", 8, "f"),
    ("ratio", "達成率", 8, "f"), ("progress", "進捗率", 8, "f"), ("rate", "率", 8, "f"),
    ("label", "測り方", 10, "f"), ("pace", "期待水準", 8, "f"),
    ("basis", "評価に\n使う値", 8, "f"), ("grade", "評価", 6, "f"),
    ("measure_total", "施策の\n事業費", 9, "f"),
]
COST_LINES = ["project_cost", "national", "prefectural", "bond", "other", "general", "specific",
              "staff", "staff_unit_cost", "personnel", "total"]
COST_LABELS = {
    "project_cost": "事業費", "national": "国庫支出金", "prefectural": "都道府県支出金",
    "bond": "地方債", "other": "その他", "general": "一般財源", "specific": "うち特定財源",
    "staff": "職員人工", "staff_unit_cost": "平均職員費", "personnel": "人件費",
    "total": "総事業費", "general_calc": "一般財源\n（計算）", "general_diff": "一般財源の差",
    "personnel_calc": "人件費\n（計算）", "personnel_diff": "人件費の差",
    "total_calc": "総事業費\n（計算）", "total_diff": "総事業費の差", "output": "成果指標の実績",
    "unit_cost": "単位コスト",
}


def cost_columns(own_funding: dict[str, str] | None = None) -> list[tuple[str, str, int, str]]:
    """The cost table's columns; `own_funding` (key → label): the layouts' own 財源 lines
    (`funding: true`), each a column between 地方債 and その他, so that 一般財源（計算）
    (事業費 − 国庫支出金…その他) counts them."""
    own = own_funding or {}
    lines = [(k, COST_LABELS[k]) for k in COST_LINES]
    at = COST_LINES.index("other")
    lines[at:at] = list(own.items())
    return ([("id", "施策", 6, "in"), ("year", "年度\n（西暦）", 7, "in"), ("kind", "区分", 7, "in")]
            + [(k, label, 9, "in") for k, label in lines]
            + [("indicator", "成果指標\nの指標ID", 8, "in"), ("yen", "円換算", 6, "in"),
               ("key", "検索キー", 11, "f")]
            + [(k, COST_LABELS[k], 9, "f") for k in ("general_calc", "general_diff",
                                                     "personnel_calc", "personnel_diff",
                                                     "total_calc", "total_diff", "output",
                                                     "unit_cost")])


COST_COLS = cost_columns()
BOOK_COLS = [("item", "項目", 22, "in"), ("letter", "評価", 6, "in"), ("value", "値", 14, "f")]
COST_FORMULAS = {"key": "cost_key", "general_calc": "general", "general_diff": "difference",
                 "personnel_calc": "personnel", "personnel_diff": "difference",
                 "total_calc": "total_cost", "total_diff": "difference",
                 "output": "output_actual", "unit_cost": "unit_cost"}


def measure_id(m: ReportMeasure) -> str:
    """The measure's ID on the calculation sheet: its key, never a text that reads as a
    number (「01」 would be a number stored as text): No.01."""
    return f"No.{m.key}" if m.key.isdigit() else m.key


def method_of(k: ReportKpi, rule: str | None) -> str:
    """How the KPI's rate is computed, from its kind and direction and the city's rule."""
    down = k.direction is Direction.DOWN
    if rule == "none":
        return fc.NO_RATE
    if k.kind in (TargetKind.QUALITATIVE, TargetKind.NONE):
        # no final target, but a number to reach each year: actual ÷ that year's target
        if any(q.value is not None for q in k.targets.values()):
            return fc.INVERSE if down and rule == "ratio_inverse_when_down" else fc.RATIO
        return fc.NO_RATE
    if rule in ("ratio", "ratio_inverse_when_down"):
        if k.kind is TargetKind.CUMULATIVE:
            return fc.CUMULATIVE
        return fc.INVERSE if down and rule == "ratio_inverse_when_down" else fc.RATIO
    if rule in ("progress", "prorated"):
        return fc.REDUCTION if down else fc.PROGRESS
    if down:
        return fc.REDUCTION
    return {TargetKind.PER_YEAR: fc.RATIO, TargetKind.CUMULATIVE: fc.CUMULATIVE}.get(
        k.kind, fc.PROGRESS)


def basis_of(rule: str | None) -> str:
    """What grades are given on: xlsgen's own rule and a pro-rated city rule compare the
    rate with the expected pace; the city's other rules grade the rate itself."""
    return fc.BASIS_PACE if rule in (None, "prorated") else fc.BASIS_RATE


def grade_scale(rb: ReportBook) -> tuple[list[fc.Grade], bool]:
    """The grade scale (highest first) and whether it is the city's own."""
    scale = []
    items = [g for g in rb.grade_scale or [] if isinstance(g, dict) and g.get("grade") is not None]
    if len(items) >= 2:
        for i, g in enumerate(items):
            letter = str(g["grade"])
            name = f"評価{letter}" if letter.isascii() and letter.isalnum() else f"評価{i + 1}"
            if i == len(items) - 1:
                scale.append(fc.Grade(letter, None, None))
            elif "above" in g:
                scale.append(fc.Grade(letter, name, float(g["above"]) / 100, strict=True))
            elif "min" in g:
                scale.append(fc.Grade(letter, name, float(g["min"]) / 100))
        if len(scale) == len(items):
            return scale, True
    from xlsgen.formulas.achievement import DEFAULT_THRESHOLDS, GRADE_NAMES

    scale = [fc.Grade(letter, name, DEFAULT_THRESHOLDS[name]) for letter, name in GRADE_NAMES]
    return scale + [fc.Grade("D", None, None)], False


_TRAILING_MARK = re.compile(r"\s+[-－—―‐–−‒]+$")


def display_text(q: Quantity | None) -> str:
    """A value's text as the reader should see it: 「−」 for a none-mark (「—%」), and no
    none-mark left over from an empty unit cell (「協定締結 -」 → 「協定締結」)."""
    if q is None or q.is_empty:
        return ""
    if q.is_none_mark:
        return fc.NA
    return _TRAILING_MARK.sub("", (q.text or "").strip())


def cell_value(q: Quantity | None):
    """What an input cell holds: the number, else the text as the reader should see it
    (「−」 for a none-mark), else nothing."""
    if q is None:
        return None
    if q.value is not None:
        return q.value
    return display_text(q) or None


def year_targets(m: ReportMeasure, k: ReportKpi) -> dict[int, Quantity]:
    """The KPI's per-year targets, as read."""
    return k.targets


def cost_of(m: ReportMeasure) -> ReportCost | None:
    """The measure's cost block, if it has one."""
    return m.cost


def _or_na(v):
    return fc.NA if v is None else v


@dataclass
class KpiRef:
    """A KPI of the report: its ID, measure and the rows of its years."""

    kid: str
    measure: ReportMeasure
    kpi: ReportKpi
    rows: list[dict] = field(default_factory=list)


class CalcSheet:
    """The calculation sheet's rows and values, built before any sheet is written."""

    def __init__(self, rb: ReportBook, near: float):
        self.rb, self.near = rb, near
        self.rule = rb.achievement_rule
        self.on_pace = basis_of(self.rule) == fc.BASIS_PACE
        self.scale, self.city_scale = grade_scale(rb)
        self.kpis: dict[int, KpiRef] = {}  # id(ReportKpi) → KpiRef
        self.measure_ids: dict[int, str] = {}  # id(ReportMeasure) → the measure's ID
        rows: list[dict] = []
        for m in rb.measures:
            self.measure_ids[id(m)] = measure_id(m)
            for n, k in enumerate(m.kpis, start=1):
                ref = KpiRef(f"{m.key}-{n}", m, k)
                self.kpis[id(k)] = ref
                ref.rows = self._kpi_rows(ref)
                rows += ref.rows
        self.rows = rows
        # the layouts' own 財源 lines (`funding: true`), a column each on the cost table
        self.own_funding: dict[str, str] = {}
        for m in rb.measures:
            for ln in (cost_of(m).lines if cost_of(m) is not None else []):
                if ln.funding and ln.key not in COST_LINES:
                    self.own_funding.setdefault(ln.key, ln.label)
        self.cost_cols = cost_columns(self.own_funding)
        self.costs = [row for m in rb.measures for row in self._cost_rows(m)]
        self.kpi_cols = KPI_COLS + ([("year_cost", "施策の事業費\n（この年度）", 10, "f")]
                                    if self.costs else [])
        cols, c = {}, 0
        for key, *_ in self.kpi_cols:
            cols[key] = c
            c += 1
        self.kpi_table = fc.Table(CALC, cols, FIRST_ROW, FIRST_ROW + max(len(rows), 1) - 1)
        for i, row in enumerate(rows):
            row["at"] = FIRST_ROW + i
        if self.costs:
            c += GAP
            cols = {}
            for key, *_ in self.cost_cols:
                cols[key] = c
                c += 1
            self.cost_table = fc.Table(CALC, cols, FIRST_ROW, FIRST_ROW + len(self.costs) - 1)
            for i, row in enumerate(self.costs):
                row["at"] = FIRST_ROW + i
        else:
            self.cost_table = None
        c += GAP
        self.book_table = fc.Table(CALC, {key: c + i for i, (key, *_) in enumerate(BOOK_COLS)},
                                   FIRST_ROW, FIRST_ROW + 4 + len(self.scale))
        self.last_col = c + len(BOOK_COLS) - 1
        self._compute()

    # --- rows -----------------------------------------------------------------------
    def _kpi_rows(self, ref: KpiRef) -> list[dict]:
        m, k = ref.measure, ref.kpi
        method = method_of(k, self.rule)
        targets = year_targets(m, k)
        start = k.period[0] if k.kind is TargetKind.CUMULATIVE and k.period else None
        if method == fc.NO_RATE or targets or k.kind is TargetKind.PER_YEAR:
            pace = (None, None)
        elif k.kind is TargetKind.CUMULATIVE and k.period:
            pace = (k.period[0] - 1, k.period[1])
        elif k.kind is TargetKind.CUMULATIVE:
            pace = (None, None)
        else:
            pace = (k.baseline_year, k.target_year)
        final = cell_value(k.target)
        base = cell_value(k.baseline)
        cost = cell_value(k.cost) if k.cost is not None else None
        rows = []
        for i, y in enumerate(m.years or [None]):
            t = targets.get(y) if y is not None else None
            rows.append({
                "id": ref.kid, "measure": measure_id(m), "name": k.name,
                "year": y if y is not None else fc.NA,
                "actual": cell_value(k.values.get(y)) if y is not None else None,
                "target": cell_value(t) if t is not None and not t.is_empty else
                (final if final is not None else fc.NA),
                "final": final if final is not None else fc.NA,
                "baseline": base if base is not None else fc.NA,
                "method": method, "start": _or_na(start), "pace_from": _or_na(pace[0]),
                "pace_to": _or_na(pace[1]),
                "cost": (cost if cost is not None else fc.NA) if i == 0 else None,
                "kpi": k,
            })
        return rows

    def _cost_rows(self, m: ReportMeasure) -> list[dict]:
        cost = cost_of(m)
        if cost is None or not cost.years:
            return []
        indicator = None
        if cost.unit_cost_kpi:
            n = next((i for i, k in enumerate(m.kpis, 1) if k.name == cost.unit_cost_kpi), None)
            indicator = f"{m.key}-{n}" if n else None
        rows = []
        for y in cost.years:
            row = {"id": measure_id(m), "year": y, "kind": cost.year_kinds.get(y, "") or fc.NA,
                   "indicator": indicator or fc.NA, "yen": 1000 if cost.unit == "千円" else 1,
                   "measure": m, "unit": cost.unit}
            for key in [*COST_LINES, *self.own_funding]:
                line = cost.line(key)
                value = cell_value(line.values.get(y)) if line else None
                row[key] = fc.NA if value is None else value  # read by formulas: never blank
            rows.append(row)
        return rows

    # --- values ---------------------------------------------------------------------
    def _compute(self) -> None:
        t = self.kpi_table
        by_key = {}
        totals: dict[str, float] = {}
        for row in self.rows:
            if fc.is_num(row["cost"]):
                totals[row["measure"]] = totals.get(row["measure"], 0) + row["cost"]
        for row in self.rows:
            r = row["at"]
            f = row["f"] = {}
            f["key"] = fc.row_key(t, r, row["id"], row["year"])
            by_key[f["key"][1]] = row
            f["shown"] = fc.shown(t, r, "actual", row["actual"])
            period_sum = sum(x["actual"] for x in self.kpis_rows(row["id"])
                             if fc.is_num(x["actual"]) and fc.is_num(row["start"])
                             and fc.is_num(x["year"]) and fc.is_num(row["year"])
                             and row["start"] <= x["year"] <= row["year"])
            f["compared"] = fc.compared(t, r, row["method"], row["actual"], row["year"],
                                        row["start"], period_sum)
            comp = f["compared"][1]
            f["uses_baseline"] = fc.uses_baseline(t, r, row["method"], row["baseline"],
                                                  row["target"], self.near)
            uses = f["uses_baseline"][1]
            f["ratio"] = fc.ratio(t, r, row["method"], comp, row["target"])
            f["progress"] = fc.progress(t, r, row["method"], uses, comp, row["baseline"],
                                        row["target"])
            f["rate"] = fc.rate(t, r, row["method"], uses, f["progress"][1], f["ratio"][1])
            f["label"] = fc.measure_label(t, r, row["method"], uses)
            f["pace"] = fc.pace(t, r, row["method"], uses, row["year"], row["pace_from"],
                                row["pace_to"])
            f["basis"] = fc.basis(t, r, f["rate"][1], f["pace"][1], self.on_pace)
            f["grade"] = fc.grade(t, r, f["basis"][1], self.scale)
            f["measure_total"] = fc.measure_total(t, r, totals.get(row["measure"], 0))
        self.by_key = by_key
        if self.cost_table is not None:
            ct = self.cost_table
            self.cost_by_key = {}
            for row in self.costs:
                r = row["at"]
                f = row["f"] = {}
                f["key"] = fc.cost_key(ct, r, row["id"], row["year"])
                self.cost_by_key[f["key"][1]] = row
                f["general_calc"] = fc.general(ct, r, row["project_cost"], row["specific"],
                                               [row[k] for k in ("national", "prefectural",
                                                                 "bond", *self.own_funding,
                                                                 "other")])
                f["general_diff"] = fc.difference(ct, r, "general", "general_calc",
                                                  row["general"], f["general_calc"][1])
                f["personnel_calc"] = fc.personnel(ct, r, row["staff"], row["staff_unit_cost"])
                f["personnel_diff"] = fc.difference(ct, r, "personnel", "personnel_calc",
                                                    row["personnel"], f["personnel_calc"][1])
                f["total_calc"] = fc.total_cost(ct, r, row["project_cost"],
                                                f["personnel_calc"][1], row["personnel"])
                f["total_diff"] = fc.difference(ct, r, "total", "total_calc", row["total"],
                                                f["total_calc"][1])
                found = by_key.get(fc.key_text(row["indicator"], row["year"])) \
                    if row["indicator"] else None
                f["output"] = fc.output_actual(ct, r, t, found["actual"] if found else None)
                f["unit_cost"] = fc.unit_cost(ct, r, f["total_calc"][1], row["total"],
                                              row["yen"], f["output"][1])
            for row in self.rows:
                found = self.cost_by_key.get(fc.key_text(row["measure"], row["year"]))
                row["f"]["year_cost"] = fc.year_cost(t, row["at"], ct,
                                                     found["project_cost"] if found else None)
        self._book_values()

    def kpis_rows(self, kid: str) -> list[dict]:
        if not hasattr(self, "_rows_by_id"):
            self._rows_by_id = {ref.kid: ref.rows for ref in self.kpis.values()}
        return self._rows_by_id.get(kid, [])

    def _book_values(self) -> None:
        ey = self.rb.eval_year
        counts = {g.letter: 0 for g in self.scale}
        counts[fc.NA] = 0
        for ref in self.kpis.values():
            if fc.is_repeat(ref.kpi.name):
                continue
            row = self.by_key.get(fc.key_text(ref.kid, ey))
            letter = row["f"]["grade"][1] if row else fc.NA
            counts[letter] = counts.get(letter, 0) + 1
        self.counts = counts
        self.counted = sum(1 for ref in self.kpis.values() if not fc.is_repeat(ref.kpi.name))
        self.eval_label = FiscalYear(ey).kanji

    # --- what the presentation looks up -------------------------------------------------
    def kpi(self, k: ReportKpi) -> KpiRef:
        return self.kpis[id(k)]

    def at_year(self, k: ReportKpi, year: int | None) -> dict | None:
        return self.by_key.get(fc.key_text(self.kpi(k).kid, year))

    def value(self, row: dict | None, key: str):
        """A row's value of a column (input or formula); 「−」 for a missing row."""
        if row is None:
            return fc.NA
        if key in row.get("f", {}):
            return row["f"][key][1]
        return row.get(key)

    def cost_row(self, m: ReportMeasure, year: int) -> dict | None:
        if self.cost_table is None:
            return None
        return self.cost_by_key.get(fc.key_text(measure_id(m), year))

    # book table cells
    @property
    def label_cell(self) -> tuple[int, int]:
        return FIRST_ROW, self.book_table.cols["value"]

    @property
    def heading_cell(self) -> tuple[int, int]:
        return FIRST_ROW + 1, self.book_table.cols["value"]

    def count_cell(self, i: int) -> tuple[int, int]:
        """The cell of the i-th grade count (the scale's grades, then 「−」)."""
        return FIRST_ROW + 3 + i, self.book_table.cols["value"]

    # --- writing --------------------------------------------------------------------
    def write(self, w, ws) -> None:
        """Write the sheet with the report writer `w` (its styles and formula record)."""
        st = w.st
        title = st(bold=True, font_size=12, border=0, valign="vcenter")
        head = st.head()
        input_fmt = {"in": st(num_format="General", bg_color=theme.LABEL_FILL, text_wrap=True),
                     "input": st(locked=False, bg_color=theme.INPUT_FILL, text_wrap=True)}
        widths = {}
        t = self.kpi_table
        tables = [(self.kpi_cols, t, "【参考】計算　指標 × 年度（1行 = 1指標・1年度。各列は1つの数式をコピーしたもの）")]
        if self.cost_table is not None:
            tables.append((self.cost_cols, self.cost_table,
                           "【参考】計算　施策 × 年度の事業費（1行 = 1施策・1年度、単位は各施策のシートのとおり）"))
        tables.append((BOOK_COLS, self.book_table, "【参考】計算　報告書全体"))
        for cols, table, text in tables:
            c0, c9 = min(table.cols.values()), max(table.cols.values())
            ws.merge_range(0, c0, 0, c9, "", title)
            ws.write_string(0, c0, text, title)
            for key, h, width, _ in cols:
                c = table.cols[key]
                widths[c] = width
                ws.set_column(c, c, width)
                ws.write_string(1, c, h, head)
        ws.set_row(0, 20)
        ws.set_row(1, 30)
        for c in range(self.last_col + 1):
            if c not in widths:
                ws.set_column(c, c, 2)
        self._write_kpis(w, ws, input_fmt)
        if self.cost_table is not None:
            self._write_costs(w, ws, input_fmt)
        self._write_book(w, ws, input_fmt)
        ws.freeze_panes(FIRST_ROW, 3)
        # each table a print range; inputs and calculations of a wide table on pages of their own
        segments, ranges, breaks = [], [], []
        for _, table, _ in tables:
            c0, c9 = min(table.cols.values()), max(table.cols.values())
            ranges.append((0, c0, table.last, c9))
            cut = table.cols.get("key")
            if cut is not None:
                segments += [(c0, cut - 1), (cut, c9)]
                breaks += [cut]
            else:
                segments.append((c0, c9))
            if c0:
                breaks.append(c0)
        how = theme.choose_print(max(theme.sheet_width_px(ws, a, b) for a, b in segments))
        theme.apply_print(ws, how)
        ws.repeat_rows(0, 1)
        ws.set_v_pagebreaks(sorted(set(breaks)))
        theme.running_header(ws, w.document, w.year_text, "参考資料　計算")
        theme.print_ranges(ws, ranges)
        if w.protect:
            ws.protect("", {"format_rows": True, "format_columns": True})

    def _write_kpis(self, w, ws, input_fmt) -> None:
        st, t = w.st, self.kpi_table
        for row in self.rows:
            r, k = row["at"], row["kpi"]
            vf = w.kpi_format(k)
            for key, _, _, kind in self.kpi_cols:
                c = t.cols[key]
                if kind == "f":
                    fmt = {"ratio": st.pct(), "progress": st.pct(), "rate": st.pct(),
                           "pace": st.pct(), "basis": st.pct(), "compared": vf,
                           "shown": vf, "grade": st(align="center", bold=True),
                           "measure_total": st.number(), "year_cost": st.number(),
                           "uses_baseline": st(align="center"),
                           "label": st.text()}.get(key, st.text())
                    what = "measure_label" if key == "label" else key
                    w.formula(ws, r, c, row["f"][key], fmt, what)
                    continue
                value = row[key]
                base = input_fmt[kind]
                if key in ("year", "start", "pace_from", "pace_to") and fc.is_num(value):
                    ws.write_number(r, c, value, st(num_format="0", bg_color=theme.LABEL_FILL,
                                                    align="center"))
                elif fc.is_num(value):
                    if key == "cost":
                        fmt = st.number(value, bg_color=theme.LABEL_FILL)
                    else:
                        fmt = w.kpi_format(k, locked=kind != "input",
                                           bg_color=theme.INPUT_FILL if kind == "input"
                                           else theme.LABEL_FILL)
                    ws.write_number(r, c, value, fmt)
                elif value is None or value == "":
                    ws.write_blank(r, c, None, base)
                else:
                    ws.write_string(r, c, str(value)[:32767], base)

    def _write_costs(self, w, ws, input_fmt) -> None:
        st, t = w.st, self.cost_table
        for row in self.costs:
            r = row["at"]
            for key, _, _, kind in self.cost_cols:
                c = t.cols[key]
                if kind == "f":
                    fmt = st.number(1.5) if key == "unit_cost" else st.number()
                    what = COST_FORMULAS[key]
                    w.formula(ws, r, c, row["f"][key], fmt, what)
                    continue
                value = row[key]
                if key == "year":
                    ws.write_number(r, c, value, st(num_format="0", bg_color=theme.LABEL_FILL,
                                                    align="center"))
                elif fc.is_num(value):
                    ws.write_number(r, c, value, st.number(value, bg_color=theme.LABEL_FILL))
                elif value is None or value == "":
                    ws.write_blank(r, c, None, input_fmt["in"])
                else:
                    ws.write_string(r, c, str(value), input_fmt["in"])

    def _write_book(self, w, ws, input_fmt) -> None:
        st, t = w.st, self.book_table
        ci, cl, cv = (t.cols[k] for k in ("item", "letter", "value"))
        era_cells = w.era_cells
        r = FIRST_ROW
        ws.write_string(r, ci, "評価年度（和暦）", st.text(bold=True))
        ws.write_blank(r, cl, None, st.text())
        w.formula(ws, r, cv, fc.wareki(fc.EVAL_YEAR, era_cells, self.eval_label),
                  st.text(bold=True), "wareki")
        r += 1
        ws.write_string(r, ci, "一覧の見出し", st.text(bold=True))
        ws.write_blank(r, cl, None, st.text())
        w.formula(ws, r, cv, fc.heading(cell(FIRST_ROW, cv), self.eval_label), st.text(), "heading")
        r += 1
        ws.write_string(r, ci, "指標の数（再掲を除く）", st.text(bold=True))
        ws.write_blank(r, cl, None, st.text())
        ws.write_number(r, cv, self.counted, st(num_format="0", bg_color=theme.LABEL_FILL))
        all_ref = cell(r, cv, absolute=True)
        r += 1
        first = r
        for g in self.scale:
            ws.write_string(r, ci, "評価の分布（評価年度）", st.text())
            ws.write_string(r, cl, g.letter, st(align="center", bold=True))
            w.formula(ws, r, cv, fc.grade_count(self.kpi_table, cell_fixed_col(r, cl),
                                                self.counts.get(g.letter, 0)),
                      st.number(), "grade_count")
            r += 1
        ws.write_string(r, ci, "評価の分布（評価年度）", st.text())
        ws.write_string(r, cl, fc.NA, st(align="center", bold=True))
        w.formula(ws, r, cv, fc.ungraded(all_ref, area(first, cv, r - 1, cv, absolute=True),
                                         self.counts.get(fc.NA, 0)),
                  st.number(), "ungraded")

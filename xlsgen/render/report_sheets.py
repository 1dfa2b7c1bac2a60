"""The report's 一覧 (KPI overview with grade counts and chart), データ (machine-readable)
and 設定 (named thresholds and the rules) sheets, and the labels the sheets share.
Each function takes the ReportWriter `w` of xlsgen.render.report."""

from __future__ import annotations

from pathlib import Path

from xlsgen.formulas import achievement as ach
from xlsgen.formulas import area, cell, name_target, quote_sheet
from xlsgen.formulas import report as rf
from xlsgen.measures import ReportKpi
from xlsgen.model import Direction, Quantity, TargetKind
from xlsgen.render import theme
from xlsgen.render.theme import GRADE_COLORS, page_setup, text_height
from xlsgen.wareki import ERAS, FiscalYear

OVERVIEW, DATA, SETTINGS = "一覧", "データ", "設定"
KIND_LABELS = {
    TargetKind.CUMULATIVE: "期間累計", TargetKind.RUNNING_TOTAL: "累計",
    TargetKind.PER_YEAR: "単年度", TargetKind.AT_YEAR: "時点", TargetKind.QUALITATIVE: "定性",
    TargetKind.NONE: "目標なし",
}
RULE_LABELS = {
    "ratio": "単年度・時点（目標年度、または目標＝基準値の水準維持）", "cumulative": "期間累計（延べ・合計）",
    "progress": "累計・時点（目標年度前）", "reduction": "減少を目指す指標", "pace": "期待水準（期間累計）",
    "linear_pace": "期待水準（累計・時点）",
    "at_eval_year": "評価年度の達成率", "grade": "評価（A〜D）", "general_revenue": "一般財源",
    "link": "一覧の値", "count_once": "評価の分布", "wareki": "和暦の表示",
    "actual_at": "実績値（評価年度）", "year_heading": "一覧の見出しの年度",
}
DO_HEADS = ["No", "区分", "指標名", "単位", "目標の種類", "基準年度", "基準値"]
DO_WIDTHS = [4.5, 9, 34, 8, 12, 13, 10]
YEAR_WIDTH = 12
FIRST_YEAR_COL = len(DO_HEADS)
COMMENTS = {
    "rate": "評価年度（設定シート）の列の達成率です。種類ごとの計算方法は設定シートを参照。",
    "pace": "評価年度までに期待される達成率です。期間累計は 経過年数 ÷ 期間の年数、累計・時点は基準年度から目標年度まで一定の速さで進んだ場合の進捗（単年度目標は「−」）。",
    "grade": "達成率と設定シートのしきい値（評価A・評価B・評価C）から A〜D を判定します（「悪化」は D）。",
    "year": "この年度の実績に対する達成率（種類ごとの計算式は数式一覧・設定シート）。",
    "general": "事業費 − うち特定財源 で求めた一般財源（千円）です。",
    "cost_total": "この施策の事業費（千円）の合計です（各指標行の事業費の和）。",
    "actual": "施策シートの実績値のうち、評価年度（設定シート）の列の値です。未入力なら「−」。",
}


def plan_years(rb) -> list[int]:
    """Every fiscal year a measure of the report has a column for (the 評価年度 list)."""
    return sorted({y for m in rb.measures for y in m.years} | {rb.eval_year})


def year_label(y: int | None) -> str:
    return FiscalYear(y).label if y else ""


def kind_label(k: ReportKpi) -> str:
    label = KIND_LABELS[k.kind]
    if k.kind is TargetKind.CUMULATIVE and k.period:
        label += f"\n{FiscalYear(k.period[0]).short}〜{FiscalYear(k.period[1]).short}"
    return label + ("（減少）" if k.direction is Direction.DOWN else "")


OVERVIEW_COLS = [  # key, heading, width
    ("sheet", "シート", 16), ("measure", None, 22), ("category", None, 12), ("name", "指標名", 34),
    ("unit", "単位", 7), ("kind", "目標の種類", 11), ("baseline", "基準値", 9), ("target", "目標値", 9),
    ("actual", "実績値\n（評価年度）", 10), ("rate", "評価年度の\n達成率", 10),
    ("pace", "期待水準", 9), ("grade", "評価", 6), ("cost", "事業費\n（千円）", 10),
    ("department", "担当課・\n事業主体", 14),
]
GRADE_COL = [c[0] for c in OVERVIEW_COLS].index("grade")
NAME_COL = [c[0] for c in OVERVIEW_COLS].index("name")


def measure_department(m) -> str:
    """The 担当課 a measure names in its Plan headings, else its projects' departments."""
    named = next((text for label, text in m.levels if label == "担当課"), "")
    return named or "、".join(dict.fromkeys(p.department for p in m.projects if p.department))


def write_overview(w, ws) -> None:
    st, rb = w.st, w.rb
    col = {key: c for c, (key, _, _) in enumerate(OVERVIEW_COLS)}
    heads = {"measure": rb.measure_label, "category": rb.category_label}
    for c, (key, h, width) in enumerate(OVERVIEW_COLS):
        ws.set_column(c, c, width)
        ws.write_string(1, c, heads.get(key, h), st.head())
    last = len(OVERVIEW_COLS) - 1
    ws.merge_range(0, 0, 0, last - 3, "", st(bold=True, font_size=14, border=0))
    ws.write_string(0, 0, f"{rb.title}　KPI一覧", st(bold=True, font_size=14, border=0))
    ws.merge_range(0, last - 2, 0, last, "", st(bold=True, font_size=14, border=0, align="right"))
    w.formula(ws, 0, last - 2, rf.year_heading(ach.EVAL_YEAR_LABEL, FiscalYear(rb.eval_year).kanji),
              st(bold=True, font_size=14, border=0, align="right"), "year_heading",
              rf.EXPLANATIONS["year_heading"])
    for key in ("rate", "pace", "grade", "actual"):
        ws.write_comment(1, col[key], COMMENTS[key])
    ws.set_row(1, 27)
    r = 2
    for o in w.overview_rows:
        k, m, sheet, dr = o["kpi"], o["measure"], o["sheet"], o["do_row"]
        ws.write_url(r, col["sheet"], f"internal:{quote_sheet(sheet)}!{cell(dr, 2)}",
                     st.link(), string=m.key)  # a link cell does not wrap
        ws.write_string(r, col["measure"], m.title, st.text())
        ws.write_string(r, col["category"], k.category or "", st.text())
        ws.write_string(r, col["name"], k.name, st.text())
        ws.write_string(r, col["unit"], k.unit or "", st.text())
        ws.write_string(r, col["kind"], kind_label(k).replace("\n", " "), st.text())
        for key, src_col, q in (("baseline", 6, k.baseline), ("target", o["tcol"] + 1, k.target)):
            if q.value is not None:
                w.formula(ws, r, col[key], rf.link(sheet, cell(dr, src_col), q.value),
                          w.value_format(q, "%" if k.unit == "%" else None), "link",
                          rf.EXPLANATIONS["link"])
            else:
                w.quantity(ws, r, col[key], q)
        if o["actuals"]:
            row_ref, head_ref, value = o["actuals"]
            w.formula(ws, r, col["actual"], rf.actual_at(sheet, row_ref, head_ref, ach.EVAL_YEAR,
                                                         value),
                      w.value_format(Quantity(value=value if isinstance(value, (int, float))
                                              else None), "%" if k.unit == "%" else None),
                      "actual_at", rf.EXPLANATIONS["actual_at"])
        else:
            ws.write_string(r, col["actual"], ach.NA, st.text(align="right"))
        for key, src_col, fmt in (("rate", 4, st.pct()), ("pace", 5, st.pct()),
                                  ("grade", 6, st(bold=True, align="center"))):
            w.formula(ws, r, col[key], rf.link(sheet, cell(o["row"], src_col), o[key]), fmt,
                      "link", rf.EXPLANATIONS["link"])
        if o["cost"]:
            ref, value = o["cost"]
            w.formula(ws, r, col["cost"], rf.link(sheet, ref, value), st.number(value),
                      "link", rf.EXPLANATIONS["link"])
        else:
            ws.write_blank(r, col["cost"], None, st.text())
        ws.write_string(r, col["department"], k.department or measure_department(m), st.text())
        ws.set_row(r, text_height(k.name, OVERVIEW_COLS[NAME_COL][2]))
        r += 1
    if w.overview_rows:
        w.grade_format(ws, 2, GRADE_COL, r - 1, GRADE_COL)
    ws.autofilter(1, 0, max(r - 1, 2), last)
    ws.freeze_panes(2, 0)
    write_grade_counts(w, ws, r - 1, last + 2)
    page_setup(ws, f"{rb.title}　KPI一覧", OVERVIEW, (0, 1))
    if w.protect:
        ws.protect("", {"autofilter": True, "sort": True, "format_columns": True,
                        "format_rows": True})


def write_grade_counts(w, ws, last_row, c) -> None:
    st = w.st
    ws.set_column(c, c + 1, 9)
    ws.write_string(1, c, "評価", st.head())
    ws.write_string(1, c + 1, "指標数", st.head())
    ws.write_comment(1, c + 1, rf.EXPLANATIONS["count_once"])
    grades = area(2, GRADE_COL, max(last_row, 2), GRADE_COL, absolute=True)
    names = area(2, NAME_COL, max(last_row, 2), NAME_COL, absolute=True)
    values = [o["grade"] for o in w.overview_rows]
    repeated = [rf.is_repeat(o["kpi"].name) for o in w.overview_rows]
    for i, letter in enumerate(["A", "B", "C", "D", ach.NA]):
        ws.write_string(2 + i, c, letter, st(align="center", bold=True))
        w.formula(ws, 2 + i, c + 1, rf.count_once(grades, names, cell(2 + i, c), letter, values,
                                                  repeated),
                  st.number(), "count_once", rf.EXPLANATIONS["count_once"])
    if any(repeated):
        ws.merge_range(7, c, 7, c + 1, "", st(border=0, font_size=9, text_wrap=True))
        ws.write_string(7, c, f"再掲 {sum(repeated)} 指標は数えていません。",
                        st(border=0, font_size=9, text_wrap=True))
    chart = w.wb.add_chart({"type": "column"})
    chart.add_series({"name": "指標数",
                      "categories": [OVERVIEW, 2, c, 6, c], "values": [OVERVIEW, 2, c + 1, 6, c + 1],
                      "points": [{"fill": {"color": GRADE_COLORS.get(g, theme.NA_FILL)}}
                                 for g in ("A", "B", "C", "D", "−")],
                      "border": {"color": theme.MUTED_FONT}, "data_labels": {"value": True}})
    chart.set_title({"name": "評価の分布", "name_font": theme.font(11)})
    chart.set_legend({"none": True})
    chart.set_size({"width": 380, "height": 260})
    ws.insert_chart(9, c, chart)


def write_data(w, names: list[str]) -> None:
    st, ws = w.st, w.wb.add_worksheet(DATA)
    heads = ["シート名", "施策番号", "施策名", "区分", "指標名", "単位", "目標の種類", "方向",
             "値の種別", "西暦年度", "和暦年度", "値", "表記", "入力ファイルの位置"]
    plain = w.st(border=0, valign="top", text_wrap=True)
    for c, h in enumerate(heads):
        ws.write_string(0, c, h, st(bold=True, border=0))
    ws.set_column(0, 13, 12)
    ws.set_column(4, 4, 40)
    r = 1
    for m, name in zip(w.rb.measures, names):
        for k in m.kpis:
            rows = [("現状値", q) for q in k.history if q.fiscal_year != k.baseline_year]
            rows.append(("基準値", k.baseline))
            rows += [("実績値", q) for y, q in sorted(k.values.items())]
            rows.append(("目標値", k.target))
            for b in m.budget:
                rows += [(f"{b.kind}（千円）", b.amount), (f"{b.kind}の成果目標", b.target)]
            for what, q in rows:
                if q is None or q.is_empty:
                    continue
                y = q.fiscal_year or {"基準値": k.baseline_year, "目標値": k.target_year}.get(what)
                vals = [name, m.key, m.title, k.category or "", k.name, k.unit or "",
                        KIND_LABELS[k.kind], "減少" if k.direction is Direction.DOWN else "増加",
                        what]
                for c, v in enumerate(vals):
                    ws.write_string(r, c, v, plain)
                if y:
                    ws.write_number(r, 9, y, plain)
                    ws.write_string(r, 10, FiscalYear(y).kanji, plain)
                if q.value is not None:
                    ws.write_number(r, 11, q.value, plain)
                ws.write_string(r, 12, q.text or "", plain)
                ws.write_string(r, 13, f"{m.source_sheet}!{q.cell}" if q.cell else "", plain)
                r += 1
    ws.autofilter(0, 0, max(r - 1, 1), len(heads) - 1)
    ws.freeze_panes(1, 0)
    page_setup(ws, f"{w.rb.title}　データ（機械判読用）", DATA, (0, 0))
    if w.protect:
        ws.protect("", {"autofilter": True, "sort": True, "format_columns": True})

def write_settings(w) -> None:
    st, ws = w.st, w.wb.add_worksheet(SETTINGS)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 14)
    ws.set_column(2, 2, 90)
    for c, h in enumerate(["名前", "値（変更できます）", "説明"]):
        ws.write_string(0, c, h, st.head())
    rows = [(name, ach.DEFAULT_THRESHOLDS[name], f"達成率がこの値以上なら {letter}。"
             + ("この値未満は D。" if letter == "C" else "")) for letter, name in ach.GRADE_NAMES]
    r = 1
    for name, value, expl in rows:
        ws.write_string(r, 0, name, st(bold=True))
        ws.write_number(r, 1, value, st(num_format="0%", locked=False, bg_color=theme.INPUT_FILL))
        ws.write_string(r, 2, expl, st.text())
        w.wb.define_name(name, name_target(SETTINGS, r, 1))
        r += 1
    ws.write_string(r, 0, ach.NEAR, st(bold=True))
    ws.write_number(r, 1, ach.DEFAULT_NEAR, st(num_format="0%", locked=False, bg_color=theme.INPUT_FILL))
    ws.write_string(r, 2, "基準値と目標値の差が目標値のこの割合以下なら、基準値からの進捗ではなく 実績値 ÷ 目標値 で"
                    "達成率を出します（差がわずかだと進捗率が極端な値になるため）。", st.text())
    w.wb.define_name(ach.NEAR, name_target(SETTINGS, r, 1))
    r += 1
    ey = w.rb.eval_year
    years = plan_years(w.rb)
    ws.write_string(r, 0, ach.EVAL_YEAR, st(bold=True))
    ws.write_number(r, 1, ey, st(num_format="0", locked=False, bg_color=theme.INPUT_FILL, align="left"))
    span = f"{years[0]}〜{years[-1]}" if years else ""
    ws.write_string(r, 2, f"達成率・評価を出す年度。計画の年度（西暦 {span}）を一覧から選びます。"
                    "期待水準もこの年度までで計算します。", st.text())
    if years:
        ws.data_validation(r, 1, r, 1, {
            "validate": "list", "source": [str(y) for y in years],
            "input_title": ach.EVAL_YEAR, "input_message": f"西暦 {span} から選びます。",
            "error_title": ach.EVAL_YEAR,
            "error_message": f"計画の年度（西暦 {span}）を選んでください。「R3」などの和暦は入力できません。"})
    year_ref = cell(r, 1, absolute=True)
    w.wb.define_name(ach.EVAL_YEAR, name_target(SETTINGS, r, 1))
    r += 1
    eras = [(ERAS[e][0], cell(r + 1 + i, 1, absolute=True)) for i, e in enumerate(("R", "H"))]
    ws.write_string(r, 0, "評価年度（和暦）", st(bold=True))
    w.formula(ws, r, 1, rf.wareki(year_ref, eras, ey), st(bold=True), "wareki",
              rf.EXPLANATIONS["wareki"])
    ws.write_string(r, 2, "評価年度を和暦で表示します（自動。一覧の見出しにも使います）。", st.text())
    w.wb.define_name(ach.EVAL_YEAR_LABEL, name_target(SETTINGS, r, 1))
    r += 1
    for e in ("R", "H"):
        name, first, _ = ERAS[e]
        ws.write_string(r, 0, f"{name}元年度", st(bold=True))
        ws.write_number(r, 1, first, st(num_format="0", align="left"))
        ws.write_string(r, 2, f"{name}元年度の西暦（和暦の表示に使います）。", st.text())
        r += 1
    ws.write_string(r, 0, "入力ファイル", st(bold=True))
    ws.merge_range(r, 1, r, 2, "", st.text())
    ws.write_string(r, 1, f"{w.rb.source_title}（{Path(w.rb.source).name}）", st.text())
    r += 2
    ws.merge_range(r, 0, r, 2, "", st.band())
    ws.write_string(r, 0, "達成率の計算方法（指標の種類と方向による）", st.band())
    r += 1
    explanations = {**ach.EXPLANATIONS, **rf.EXPLANATIONS}
    for key, label in RULE_LABELS.items():
        ws.merge_range(r, 0, r, 1, "", st.text(bold=True))
        ws.write_string(r, 0, label, st.text(bold=True))
        ws.write_string(r, 2, explanations[key], st.text())
        r += 1
    ws.merge_range(r, 0, r, 2, "", st.text())
    ws.write_string(r, 0, "定性的な目標・目標なし・未入力の実績は、達成率を「−」と表示します（0% にはしません）。"
                    "基準値から目標と逆の向きに動いた指標は「悪化」と表示し、評価は D です。"
                    "黄色のセルは入力欄です。", st.text())
    page_setup(ws, f"{w.rb.title}　設定", SETTINGS, None, landscape=False)
    if w.protect:
        ws.protect("")

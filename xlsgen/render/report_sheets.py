"""The report's 一覧 (KPI overview with grade counts and chart), データ (machine-readable)
and 設定 (named thresholds and the rules) sheets, and the labels the sheets share.
Each function takes the ReportWriter `w` of xlsgen.render.report."""

from __future__ import annotations

from xlsgen.formulas import achievement as ach
from xlsgen.formulas import area, cell, quote_sheet
from xlsgen.formulas import report as rf
from xlsgen.measures import ReportKpi
from xlsgen.model import Direction, TargetKind
from xlsgen.render import theme
from xlsgen.render.theme import GRADE_COLORS, page_setup, text_height
from xlsgen.wareki import FiscalYear

OVERVIEW, DATA, SETTINGS = "一覧", "データ", "設定"
KIND_LABELS = {
    TargetKind.CUMULATIVE: "期間累計", TargetKind.RUNNING_TOTAL: "累計",
    TargetKind.PER_YEAR: "単年度", TargetKind.AT_YEAR: "時点", TargetKind.QUALITATIVE: "定性",
    TargetKind.NONE: "目標なし",
}
RULE_LABELS = {
    "ratio": "単年度・時点（目標年度、または目標＝基準値の水準維持）", "cumulative": "期間累計（延べ・合計）",
    "progress": "累計・時点（目標年度前）", "reduction": "減少を目指す指標", "pace": "期待水準",
    "at_eval_year": "評価年度の達成率", "grade": "評価（A〜D）", "general_revenue": "一般財源",
    "link": "一覧の値", "count": "評価の分布",
}
DO_HEADS = ["No", "区分", "指標名", "単位", "目標の種類", "基準年度", "基準値"]
DO_WIDTHS = [4.5, 9, 34, 8, 12, 13, 10]
YEAR_WIDTH = 12
FIRST_YEAR_COL = len(DO_HEADS)
COMMENTS = {
    "rate": "評価年度（設定シート）の列の達成率です。種類ごとの計算方法は設定シートを参照。",
    "pace": "期間累計目標で、評価年度までに期待される達成率（経過年数 ÷ 期間の年数）です。",
    "grade": "達成率と設定シートのしきい値（評価A・評価B・評価C）から A〜D を判定します。",
    "year": "この年度の実績に対する達成率（種類ごとの計算式は数式一覧・設定シート）。",
    "general": "事業費 − うち特定財源 で求めた一般財源（千円）です。",
    "cost_total": "この施策の事業費（千円）の合計です（各指標行の事業費の和）。",
}


def year_label(y: int | None) -> str:
    return FiscalYear(y).label if y else ""


def kind_label(k: ReportKpi) -> str:
    label = KIND_LABELS[k.kind]
    if k.kind is TargetKind.CUMULATIVE and k.period:
        label += f"\n{FiscalYear(k.period[0]).short}〜{FiscalYear(k.period[1]).short}"
    return label + ("（減少）" if k.direction is Direction.DOWN else "")


def write_overview(w, ws) -> None:
    st = w.st
    heads = ["シート", "施策", "区分", "指標名", "単位", "目標の種類", "基準値", "目標値",
             "評価年度の\n達成率", "期待水準", "評価"]
    widths = [16, 24, 9, 36, 8, 12, 10, 10, 11, 10, 7]
    for c, (h, width) in enumerate(zip(heads, widths)):
        ws.set_column(c, c, width)
        ws.write_string(1, c, h, st.head())
    ws.merge_range(0, 0, 0, len(heads) - 1, "", st(bold=True, font_size=14, border=0))
    ws.write_string(0, 0, f"{w.rb.title}　KPI一覧", st(bold=True, font_size=14, border=0))
    for key, c in (("rate", 8), ("pace", 9), ("grade", 10)):
        ws.write_comment(1, c, COMMENTS[key])
    ws.set_row(1, 27)
    r = 2
    for o in w.overview_rows:
        k, sheet, dr = o["kpi"], o["sheet"], o["do_row"]
        ws.write_url(r, 0, f"internal:{quote_sheet(sheet)}!{cell(dr, 2)}",
                     st.link(), string=o["measure"].key)  # a link cell does not wrap
        ws.write_string(r, 1, o["measure"].title, st.text())
        ws.write_string(r, 2, k.category or "", st.text())
        ws.write_string(r, 3, k.name, st.text())
        ws.write_string(r, 4, k.unit or "", st.text())
        ws.write_string(r, 5, kind_label(k).replace("\n", " "), st.text())
        for c, src_col, q in ((6, 6, k.baseline), (7, o["tcol"] + 1, k.target)):
            if q.value is not None:
                w.formula(ws, r, c, rf.link(sheet, cell(dr, src_col), q.value),
                             st.number(q.value), "link", rf.EXPLANATIONS["link"])
            else:
                w.quantity(ws, r, c, q)
        for c, src_col, key, fmt in ((8, 4, "rate", st.pct()), (9, 5, "pace", st.pct()),
                                     (10, 6, "grade", st(bold=True, align="center"))):
            w.formula(ws, r, c, rf.link(sheet, cell(o["row"], src_col), o[key]), fmt,
                         "link", rf.EXPLANATIONS["link"])
        ws.set_row(r, text_height(k.name, widths[3]))
        r += 1
    if w.overview_rows:
        w.grade_format(ws, 2, 10, r - 1, 10)
    ws.autofilter(1, 0, max(r - 1, 2), len(heads) - 1)
    ws.freeze_panes(2, 0)
    write_grade_counts(w, ws, r - 1, len(heads) + 1)
    page_setup(ws, f"{w.rb.title}　KPI一覧", OVERVIEW, (0, 1))
    if w.protect:
        ws.protect("", {"autofilter": True, "sort": True, "format_columns": True,
                        "format_rows": True})

def write_grade_counts(w, ws, last_row, c) -> None:
    st = w.st
    ws.set_column(c, c + 1, 9)
    ws.write_string(1, c, "評価", st.head())
    ws.write_string(1, c + 1, "指標数", st.head())
    ws.write_comment(1, c + 1, rf.EXPLANATIONS["count"])
    grades = area(2, 10, max(last_row, 2), 10, absolute=True)
    values = [o["grade"] for o in w.overview_rows]
    for i, letter in enumerate(["A", "B", "C", "D", ach.NA]):
        ws.write_string(2 + i, c, letter, st(align="center", bold=True))
        w.formula(ws, 2 + i, c + 1, rf.count(grades, cell(2 + i, c), letter, values),
                     st.number(), "count", rf.EXPLANATIONS["count"])
    chart = w.wb.add_chart({"type": "column"})
    chart.add_series({"name": "指標数",
                      "categories": [OVERVIEW, 2, c, 6, c], "values": [OVERVIEW, 2, c + 1, 6, c + 1],
                      "points": [{"fill": {"color": GRADE_COLORS.get(g, theme.NA_FILL)}}
                                 for g in ("A", "B", "C", "D", "−")],
                      "border": {"color": theme.MUTED_FONT}, "data_labels": {"value": True}})
    chart.set_title({"name": "評価の分布", "name_font": theme.font(11)})
    chart.set_legend({"none": True})
    chart.set_size({"width": 380, "height": 260})
    ws.insert_chart(8, c, chart)

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
        w.wb.define_name(name, f"={quote_sheet(SETTINGS)}!{cell(r, 1, absolute=True)}")
        r += 1
    ey = w.rb.eval_year
    ws.write_string(r, 0, ach.EVAL_YEAR, st(bold=True))
    ws.write_number(r, 1, ey, st.year(ey, locked=False, bg_color=theme.INPUT_FILL))
    ws.write_string(r, 2, "達成率・評価を出す年度（西暦で入力）。期間累計の期待水準もこの年度までで計算します。",
                    st.text())
    w.wb.define_name(ach.EVAL_YEAR, f"={quote_sheet(SETTINGS)}!{cell(r, 1, absolute=True)}")
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
                    "黄色のセルは入力欄です。", st.text())
    page_setup(ws, f"{w.rb.title}　設定", SETTINGS, None, landscape=False)
    if w.protect:
        ws.protect("")

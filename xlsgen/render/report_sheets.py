"""The report's 一覧 (KPI overview), 評価の分布 (grade counts and chart), データ (machine-readable)
and 設定 (named inputs and the rules) sheets, and the labels the sheets share. Each
function takes the ReportWriter `w` of xlsgen.render.report; 一覧 only looks values up on
the calculation sheet (xlsgen.render.report_calc)."""

from __future__ import annotations

from pathlib import Path

from xlsgen.formulas import calc as fc
from xlsgen.formulas import cell, cell_fixed_col, name_target, quote_sheet
from xlsgen.measures import ReportKpi
from xlsgen.model import Direction, TargetKind
from xlsgen.render import theme
from xlsgen.render.report_calc import CALC, COST_LABELS, cost_of, year_targets
from xlsgen.render.theme import GRADE_COLORS
from xlsgen.wareki import ERAS, FiscalYear

OVERVIEW, DISTRIBUTION, DATA, SETTINGS = "一覧", "評価の分布", "データ", "設定"
KIND_LABELS = {
    TargetKind.CUMULATIVE: "期間累計", TargetKind.RUNNING_TOTAL: "累計",
    TargetKind.PER_YEAR: "単年度", TargetKind.AT_YEAR: "時点", TargetKind.QUALITATIVE: "定性",
    TargetKind.NONE: "目標なし",
}
METHOD_TEXT = {
    fc.RATIO: "比率: 実績 ÷ 目標値（達成率）。",
    fc.INVERSE: "逆比率: 目標値 ÷ 実績（達成率。少ないほど良い指標）。",
    fc.CUMULATIVE: "累計: 期間の初年度からその年度までの実績の合計 ÷ 目標値（累計達成率）。",
    fc.PROGRESS: "進捗: (実績 − 基準値) ÷ (目標値 − 基準値)（進捗率。基準からの進み）。基準値がない、"
                 "または基準値と目標値の差が目標値の 基準近接 以下なら 実績 ÷ 目標値（達成率）。"
                 "実績が基準値から目標と逆の向きに動けば「悪化」。",
    fc.REDUCTION: "減少: (基準値 − 実績) ÷ (基準値 − 目標値)（進捗率。少ないほど良い指標）。基準値がない"
                  "などのときは 目標値 ÷ 実績（達成率）。増えれば「悪化」。",
    fc.NO_RATE: "「−」: 定性的な目標・目標なしの指標は率を出しません（0% にはしません）。",
}
COMMENTS = {
    "rows": "指標ごとに2行: 上の行が実績値（計算シートの入力欄の値）、下の行がその年度の率です。",
    "rate": "評価年度（設定シート）の率です。測り方の列が 進捗率（基準からの進み）か 達成率（実績 ÷ 目標）かを示します。",
    "pace": "評価年度までに期待される進み具合です。基準年度（期間累計は期間の初年度の前年度）から目標年度まで一定の速さで進んだ場合の割合。単年度目標は「−」。",
    "basis": "評価に使う値です。評価の基準（設定シート）が 期待水準比 なら 率 ÷ 期待水準（期待水準が 0 や「−」なら率のまま）。",
    "grade": "評価に使う値と設定シートのしきい値から評価を出します（「悪化」は最も低い評価）。",
    "actual": "評価年度（設定シート）の実績値です。未入力なら空欄。",
}


def plan_years(rb) -> list[int]:
    """Every fiscal year a measure of the report has a column for (the 評価年度 list)."""
    return sorted({y for m in rb.measures for y in m.years} | set(rb.plan_years or [])
                  | {rb.eval_year})


def year_label(y: int | None) -> str:
    return FiscalYear(y).label if y else ""


def year_head(y: int) -> str:
    """A year column's heading: `R2年度` over `(2020)`."""
    return f"{FiscalYear(y).short}年度\n({y})"


def kind_label(k: ReportKpi) -> str:
    label = KIND_LABELS[k.kind]
    if k.kind in (TargetKind.NONE, TargetKind.QUALITATIVE) and \
            any(q.value is not None for q in k.targets.values()):
        label = "年度目標"  # no final target, a number each year
    if k.kind is TargetKind.CUMULATIVE and k.period:
        label += f"\n{FiscalYear(k.period[0]).short}〜{FiscalYear(k.period[1]).short}"
    return label + ("（減少）" if k.direction is Direction.DOWN else "")


OVERVIEW_COLS = [  # key, heading, width
    ("id", "ID", 6.5), ("measure", None, 18), ("category", None, 9), ("name", "指標名", 28),
    ("unit", "単位", 5), ("label", "測り方", 9), ("baseline", "基準値", 9),
    ("target", "目標値", 9), ("actual", "実績値\n（評価年度）", 9.5),
    ("rate", "評価年度\nの率", 8.5), ("pace", "期待水準", 8), ("basis", "評価に\n使う値", 8),
    ("grade", "評価", 5.5), ("cost", "事業費\n（千円）", 9), ("department", "担当課・\n事業主体", 12),
]
COL = {key: c for c, (key, _, _) in enumerate(OVERVIEW_COLS)}
GRADE_COL = COL["grade"]
NAME_COL = COL["name"]


def measure_department(m) -> str:
    """The 担当課 a measure names in its Plan headings, else its projects' departments."""
    named = next((text for label, text in m.levels if label == "担当課"), "")
    return named or "、".join(dict.fromkeys(p.department for p in m.projects if p.department))


def write_overview(w, ws) -> None:
    st, rb, calc = w.st, w.rb, w.calc
    t = calc.kpi_table
    heads = {"measure": rb.measure_label, "category": rb.category_label}
    last = len(OVERVIEW_COLS) - 1
    ids = [o["ref"].kid for o in w.overview_rows]
    for c, (key, h, width) in enumerate(OVERVIEW_COLS):
        if key == "id":  # a link does not wrap: the column as wide as the longest ID
            width = max([width] + [theme.width_chars(i) for i in ids])
        ws.set_column(c, c, width)
        ws.write_string(1, c, heads.get(key, h), st.head())
    big = st(bold=True, font_size=14, border=0, valign="vcenter", text_wrap=True)
    ws.merge_range(0, 0, 0, last - 3, "", big)
    ws.write_string(0, 0, f"{w.document}　KPI一覧　{w.year_text}", big)
    ws.merge_range(0, last - 2, 0, last, "", st(bold=True, font_size=14, border=0, align="right"))
    w.formula(ws, 0, last - 2, fc.link(CALC, cell(*calc.heading_cell), f"{calc.eval_label}実績"),
              st(bold=True, font_size=14, border=0, align="right"), "link")
    for key in ("rate", "pace", "basis", "grade", "actual"):
        ws.write_comment(1, COL[key], COMMENTS[key])
    ws.set_row(0, 24)
    ws.set_row(1, 30)
    r = 2
    ey = rb.eval_year
    for o in w.overview_rows:
        k, m, ref = o["kpi"], o["measure"], o["ref"]
        sheet = w.sheet_of[id(m)]
        ws.write_url(r, COL["id"], f"internal:{quote_sheet(sheet)}!A{o['row'].at + 1}",
                     st.link(), string=ref.kid)  # a link cell does not wrap
        ws.write_string(r, COL["measure"], m.title, st.text())
        ws.write_string(r, COL["category"], k.category or "", st.text())
        ws.write_string(r, COL["name"], k.name, st.text())
        ws.write_string(r, COL["unit"], k.unit or "", st.text())
        rid = cell_fixed_col(r, 0)
        first, at_eval = ref.rows[0], calc.at_year(k, ey)
        for key, src, q in (("baseline", "baseline", k.baseline), ("target", "final", k.target)):
            w.formula(ws, r, COL[key], fc.first_row(t, src, rid, first[src]),
                      w.shown_format(k, q), "first_row")
        for key, src, fmt in (("label", "label", st.text(align="center")),
                              ("actual", "shown", w.kpi_format(k)), ("rate", "rate", st.pct()),
                              ("pace", "pace", st.pct()), ("basis", "basis", st.pct()),
                              ("grade", "grade", st(bold=True, align="center"))):
            w.formula(ws, r, COL[key], fc.of_year(t, src, rid, fc.EVAL_YEAR,
                                                  calc.value(at_eval, src)), fmt, "of_year")
        if k.cost is not None:
            v = first["cost"]
            w.formula(ws, r, COL["cost"], fc.first_row(t, "cost", rid, v),
                      st.number(v if fc.is_num(v) else None), "first_row")
        elif cost_of(m) is not None and calc.cost_table is not None:
            v = calc.value(at_eval, "year_cost")
            w.formula(ws, r, COL["cost"], fc.of_year(t, "year_cost", rid, fc.EVAL_YEAR, v),
                      st.number(v if fc.is_num(v) else None), "of_year")
        else:
            ws.write_blank(r, COL["cost"], None, st.text())
        ws.write_string(r, COL["department"], k.department or measure_department(m), st.text())
        r += 1
    if w.overview_rows:
        w.grade_format(ws, 2, GRADE_COL, r - 1, GRADE_COL)
    ws.autofilter(1, 0, max(r - 1, 2), last)
    ws.freeze_panes(2, 0)
    theme.print_sheet(ws, w.document, last, (0, 1), year=w.year_text, label="KPI一覧")
    if w.protect:
        ws.protect("", {"autofilter": True, "sort": True, "format_columns": True,
                        "format_rows": True})


def write_distribution(w, ws) -> None:
    """評価の分布: how many KPIs got each grade in the evaluated year (the calculation sheet's
    counts, 再掲 KPIs counted once) and a chart; one page after the measure pages."""
    st, calc = w.st, w.calc
    ws.set_column(0, 0, 12)
    ws.set_column(1, 2, 12)
    ws.set_column(3, 7, 9)
    big = st(bold=True, font_size=14, border=0, valign="vcenter", text_wrap=True)
    ws.merge_range(0, 0, 0, 5, "", big)
    ws.write_string(0, 0, f"{w.document}　評価の分布", big)
    ws.merge_range(0, 6, 0, 7, "", st(bold=True, font_size=14, border=0, align="right"))
    w.formula(ws, 0, 6, fc.link(CALC, cell(*calc.heading_cell), f"{calc.eval_label}実績"),
              st(bold=True, font_size=14, border=0, align="right"), "link")
    ws.set_row(0, 24)
    ws.write_string(2, 0, "評価", st.head())
    ws.write_string(2, 1, "指標数", st.head())
    ws.write_comment(2, 1, fc.EXPLANATIONS["grade_count"])
    letters = [g.letter for g in calc.scale] + [fc.NA]
    for i, letter in enumerate(letters):
        ws.write_string(3 + i, 0, letter, st(align="center", bold=True))
        w.formula(ws, 3 + i, 1, fc.link(CALC, cell(*calc.count_cell(i)),
                                        calc.counts.get(letter, 0)), st.number(), "link")
    end = 3 + len(letters)
    note = st(border=0, font_size=9, text_wrap=True)
    repeated = sum(1 for o in w.overview_rows if fc.is_repeat(o["kpi"].name))
    lines = ["評価年度の評価ごとの指標の数です（計算シートで数えています）。「−」は評価のない指標"
             "（定性・目標なし・未入力）です。"]
    if repeated:
        lines.append(f"再掲 {repeated} 指標は数えていません。")
    for i, text in enumerate(lines):
        ws.merge_range(end + 1 + i, 0, end + 1 + i, 7, "", note)
        ws.write_string(end + 1 + i, 0, text, note)
    chart = w.wb.add_chart({"type": "column"})
    chart.add_series({"name": "指標数",
                      "categories": [ws.name, 3, 0, end - 1, 0],
                      "values": [ws.name, 3, 1, end - 1, 1],
                      "points": [{"fill": {"color": GRADE_COLORS.get(g, theme.NA_FILL)}}
                                 for g in letters],
                      "border": {"color": theme.MUTED_FONT},
                      "data_labels": {"value": True, "font": theme.font(10)}})
    chart.set_title({"name": "評価の分布", "name_font": theme.font(12)})
    chart.set_legend({"none": True})
    chart.set_x_axis({"num_font": theme.font(10)})
    chart.set_y_axis({"num_font": theme.font(10)})
    chart.set_size({"width": 520, "height": 300})
    top = end + 2 + len(lines)
    ws.insert_chart(top, 0, chart, {"object_position": 3})
    last_row = top + 22
    ws.print_area(0, 0, last_row, 7)
    theme.print_sheet(ws, w.document, 7, None, year=w.year_text, label=DISTRIBUTION)
    if w.protect:
        ws.protect("")


def write_data(w, ws, names: list[str]) -> None:
    st = w.st
    heads = [("シート名", 14), ("施策番号", 6), ("施策名", 14), ("区分", 8), ("指標ID", 7),
             ("指標名", 24), ("単位", 5), ("目標の種類", 8), ("方向", 5), ("値の種別", 11),
             ("西暦年度", 6), ("和暦年度", 9), ("値", 9), ("表記", 12), ("入力ファイルの位置", 13)]
    plain = st(border=0, valign="top", text_wrap=True)
    for c, (h, width) in enumerate(heads):
        ws.set_column(c, c, width)
        ws.write_string(1, c, h, st(bold=True, border=0, text_wrap=True))
    ws.merge_range(0, 0, 0, len(heads) - 1, "", st(bold=True, font_size=12, border=0))
    ws.write_string(0, 0, f"【参考】データ（機械判読用: 1行 = 1つの値）　{w.document}",
                    st(bold=True, font_size=12, border=0))
    r = 2
    for m, name in zip(w.rb.measures, names):
        for n, k in enumerate(m.kpis, start=1):
            kid = f"{m.key}-{n}"
            rows = [("現状値", q) for q in k.history if q.fiscal_year != k.baseline_year]
            rows.append(("基準値", k.baseline))
            rows += [("実績値", q) for y, q in sorted(k.values.items())]
            rows.append(("目標値", k.target))
            rows += [("年度の目標値", q) for y, q in sorted(year_targets(m, k).items())]
            rows += [("達成率（元のシート）", q) for y, q in sorted(k.own_rates.items())]
            rows += [("評価（元のシート）", q) for y, q in sorted(k.own_grades.items())]
            for what, q in rows:
                if q is None or q.is_empty:
                    continue
                y = q.fiscal_year or {"基準値": k.baseline_year, "目標値": k.target_year}.get(what)
                vals = [name, m.key, m.title, k.category or "", kid, k.name, k.unit or "",
                        KIND_LABELS[k.kind], "減少" if k.direction is Direction.DOWN else "増加", what]
                r = _data_row(ws, r, plain, vals, y, q, m.source_sheet)
        cost = cost_of(m)
        if cost is not None:
            for line in cost.lines:
                for y, q in sorted(line.values.items()):
                    if q is None or q.is_empty:
                        continue
                    kind = cost.year_kinds.get(y, "")
                    vals = [name, m.key, m.title, "", "", line.label, cost.unit, "", "",
                            f"{COST_LABELS.get(line.key, line.label)}{('・' + kind) if kind else ''}"]
                    r = _data_row(ws, r, plain, vals, y, q, m.source_sheet)
        for p in m.project_lines:
            for y, kind, q in p.amounts:
                if q is None or q.is_empty:
                    continue
                vals = [name, m.key, m.title, p.department or "", "", p.name, p.unit or "", "",
                        "", f"事業の金額{('・' + kind) if kind else ''}"]
                r = _data_row(ws, r, plain, vals, y, q, m.source_sheet)
    ws.autofilter(1, 0, max(r - 1, 2), len(heads) - 1)
    ws.freeze_panes(2, 0)
    theme.print_sheet(ws, w.document, len(heads) - 1, (0, 1), year=w.year_text,
                      label="参考資料　データ")
    if w.protect:
        ws.protect("", {"autofilter": True, "sort": True, "format_columns": True})


def _data_row(ws, r, plain, vals, y, q, source_sheet) -> int:
    for c, v in enumerate(vals):
        ws.write_string(r, c, v, plain)
    if y:
        ws.write_number(r, 10, y, plain)
        ws.write_string(r, 11, FiscalYear(y).kanji, plain)
    if q.value is not None:
        ws.write_number(r, 12, q.value, plain)
    ws.write_string(r, 13, q.text or "", plain)
    ws.write_string(r, 14, f"{source_sheet}!{q.cell}" if q.cell else "", plain)
    return r + 1


def write_settings(w, ws) -> None:
    """The named inputs (grade thresholds, 基準近接, 評価年度, 評価の基準) and the rules
    the report uses, with the reason a KPI gets its grade."""
    st, rb, calc = w.st, w.rb, w.calc
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 14)
    ws.set_column(2, 2, 70)
    title = st(bold=True, font_size=12, border=0)
    ws.merge_range(0, 0, 0, 2, "", title)
    ws.write_string(0, 0, f"【参考】設定　{w.document}", title)
    for c, h in enumerate(["名前", "値（変更できます）", "説明"]):
        ws.write_string(1, c, h, st.head())
    pct_input = st(num_format="0%", locked=False, bg_color=theme.INPUT_FILL)
    r = 2
    named = [g for g in calc.scale if g.name]
    for i, g in enumerate(named):
        below = f"この値未満は {calc.scale[-1].letter}。" if i == len(named) - 1 else ""
        bound = "を超えれば" if g.strict else "以上なら"
        ws.write_string(r, 0, g.name, st(bold=True))
        ws.write_number(r, 1, g.threshold, pct_input)
        ws.write_string(r, 2, f"評価に使う値がこの値{bound} {g.letter}。{below}", st.text())
        w.wb.define_name(g.name, name_target(SETTINGS, r, 1))
        r += 1
    ws.write_string(r, 0, fc.NEAR, st(bold=True))
    ws.write_number(r, 1, w.near, pct_input)
    ws.write_string(r, 2, "基準値と目標値の差が目標値のこの割合以下なら、基準値からの進捗率ではなく 実績 ÷ 目標値 の"
                    "達成率で測ります（差がわずかだと進捗率が極端な値になるため）。", st.text())
    w.wb.define_name(fc.NEAR, name_target(SETTINGS, r, 1))
    r += 1
    ey, years = rb.eval_year, plan_years(rb)
    ws.write_string(r, 0, fc.EVAL_YEAR, st(bold=True))
    ws.write_number(r, 1, ey, st(num_format="0", locked=False, bg_color=theme.INPUT_FILL, align="left"))
    span = f"{years[0]}〜{years[-1]}" if years else ""
    ws.write_string(r, 2, f"率・期待水準・評価を出す年度（西暦）。計画の年度（{span}）から選びます。",
                    st.text())
    if years:
        ws.data_validation(r, 1, r, 1, {
            "validate": "list", "source": [str(y) for y in years],
            "input_title": fc.EVAL_YEAR, "input_message": f"西暦 {span} から選びます。",
            "error_title": fc.EVAL_YEAR,
            "error_message": f"計画の年度（西暦 {span}）を選んでください。「R3」などの和暦は入力できません。"})
    w.wb.define_name(fc.EVAL_YEAR, name_target(SETTINGS, r, 1))
    r += 1
    basis = fc.BASIS_PACE if calc.on_pace else fc.BASIS_RATE
    ws.write_string(r, 0, fc.GRADE_BASIS, st(bold=True))
    ws.write_string(r, 1, basis, st(locked=False, bg_color=theme.INPUT_FILL, bold=True))
    ws.data_validation(r, 1, r, 1, {"validate": "list", "source": [fc.BASIS_PACE, fc.BASIS_RATE]})
    ws.write_string(r, 2, f"{fc.BASIS_PACE}: 率 ÷ 期待水準 で評価します（計画の途中では、その年度までに期待される"
                    f"進み具合と比べます）。{fc.BASIS_RATE}: 率そのもので評価します。", st.text())
    w.wb.define_name(fc.GRADE_BASIS, name_target(SETTINGS, r, 1))
    r += 1
    cells = []
    for e in ("R", "H"):
        name, first, _ = ERAS[e]
        ws.write_string(r, 0, f"{name}元年度", st(bold=True))
        ws.write_number(r, 1, first, st(num_format="0", align="left"))
        ws.write_string(r, 2, f"{name}元年度の西暦（評価年度の和暦の表示に使います）。", st.text())
        cells.append((name, f"{quote_sheet(SETTINGS)}!{cell(r, 1, absolute=True)}"))
        r += 1
    w.era_cells = cells
    ws.write_string(r, 0, "入力ファイル", st(bold=True))
    ws.merge_range(r, 1, r, 2, "", st.text())
    ws.write_string(r, 1, f"{rb.source_title}（{Path(rb.source).name}）", st.text())
    r += 2
    for heading, lines in rule_text(w):
        ws.merge_range(r, 0, r, 2, "", st.band())
        ws.write_string(r, 0, heading, st.band())
        r += 1
        for lab, text in lines:
            ws.merge_range(r, 0, r, 1, "", st.text(bold=True))
            ws.write_string(r, 0, lab, st.text(bold=True))
            ws.write_string(r, 2, text, st.text())
            r += 1
        r += 1
    theme.print_sheet(ws, w.document, 2, (0, 1), year=w.year_text, label="参考資料　設定")
    if w.protect:
        ws.protect("")


def rule_text(w) -> list[tuple[str, list[tuple[str, str]]]]:
    """What the 設定 sheet says about the rules: which grading rule is used and why, how
    each rate is computed, what the expected pace is."""
    calc, rb = w.calc, w.rb
    rule = rb.achievement_rule
    scale = "、".join((f"{g.letter} は{'超' if g.strict else '≧'} {g.threshold:.0%}" if g.name
                       else f"それ未満は {g.letter}") for g in calc.scale)
    if rule:
        who = (f"元のシートの様式が定める方法（{rule}）で率を出し、"
               f"{'様式の評価段階' if calc.city_scale else 'xlsgen の評価段階'}（{scale}）で評価します。")
    else:
        who = ("元のシートの様式は評価の方法を定めていないため、xlsgen の方法で率を出し、"
               f"評価段階（{scale}）で評価します。")
    why = ("評価に使う値 = 率 ÷ 期待水準。例: 期待水準 33.3% の年度に進捗率 55.6% なら 167%（期待を上回る）で A。"
           "期待水準のない指標（単年度・定性）は率そのもので評価します。"
           if calc.on_pace else "評価に使う値 = 率（期待水準は参考として表示します）。")
    grading = [("この報告書の評価", who), ("評価の根拠", why + " 各施策シートの Check の表に、率・期待水準・"
                                             "評価に使う値・評価が並んでいるので、評価の理由を確かめられます。"),
               ("同じ方法で毎年度", "指標ごとに、すべての年度で同じ計算方法を使います（目標年度だけ計算方法を変えることはしません）。")]
    methods = [(code, text) for code, text in METHOD_TEXT.items()]
    names = [("進捗率", "基準値から目標値までの道のりのうち、どこまで進んだか。"),
             ("達成率", "実績 ÷ 目標値（少ないほど良い指標は 目標値 ÷ 実績）。"),
             ("累計達成率", "期間累計の目標に対する、その年度までの実績の合計の割合。"),
             ("期待水準", fc.EXPLANATIONS["pace"]),
             ("評価に使う値", fc.EXPLANATIONS["basis"])]
    other = [("計算の場所", "すべての計算は「計算」シートにあります（1行 = 1指標・1年度、各列は1つの数式）。一覧と各施策のシートは"
                          "計算シートの値を指標ID で探して表示するだけです。実績値を入れ直すときは計算シートの黄色の列に入力します。"),
             ("数式の一覧", "「数式一覧」シートは同じ形（R1C1 形式で同じ）の数式をまとめ、そのすべてのセルを示します。")]
    return [("評価の方法", grading), ("率の計算方法（計算シートの「方式」）", methods),
            ("率の名前と期待水準", names), ("計算シートと数式一覧", other)]

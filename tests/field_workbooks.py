"""Small workbooks, each in one shape the field half of the schema additions reads (issue 17,
phase two), with the layout file that reads it.

`write_two_sheets(path)`: 施策評価シート over 「施策Nその1」「施策Nその2」 — levels, 主担当課 and
関係課, a KPI table with a 担当課 column on その1; the city's 総合評価 with its reason, the
tick-box 方向性 and the 課題 text on その2 (no KPI table there); the title names the edition.
`write_kpi_list(path)`: a KPI list, one row per KPI, 基本目標 and 施策 columns merged down (their
codes 1 and 1-(1) with the names in the same cell), No., 担当課, 指標の種類 and a unit 「－」.
`write_blocks(path)`: KPI blocks whose years are rows: 施策番号 in its own cell, qualitative KPIs
(着手/完了/未着手) with the city's 達成率 and 評価, years without a target (「－」), 実績の説明 per
year, a unit 「－」, a grade scale with 「より大きい」 and 「以下」 bounds; texts by year rows,
from the year in a heading, and right of a heading.
`write_project(path)`: one project per sheet: 評価年度, 事業番号, levels 「Ⅰ」 and 「（１）」 in their
own cells, KPI names with their unit (「補助件数（件）」), 必要性/有効性/総合評価 with reasons right
of or below them, the tick-box 方向性, a numbered heading 「５　年度ごとの取組実績」 over one text
per year.

Each `LAYOUT_*` is the layout file for it (YAML text, as a city would write it from
docs/layouts.md; `LAYOUT_TWO_SHEETS` is taken from the docs' Example 4 itself).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment

PCT = "0.0%"


def _put(ws, ref, value, fmt=None):
    ws[ref] = value
    if fmt:
        ws[ref].number_format = fmt
    ws[ref].alignment = Alignment(wrap_text=True, vertical="top")


# --- 施策評価シート over two sheets --------------------------------------------------------

TWO_SHEETS = {
    "施策1": {
        "goal": ("Ⅱ", "健康でいきいきと暮らせるまち"), "measure": ("2-1", "健康づくりの推進"),
        "main": "健康増進課", "related": "保険年金課、スポーツ振興課",
        "kpis": [("特定健康診査受診率", "%", 0.331, 0.352, 0.6, "保険年金課"),
                 ("週1回以上運動する市民の割合", "%", 0.41, 0.446, 0.5, "スポーツ振興課")],
        "overall": ("C", "受診率がコロナ禍前に戻っていない。"),
        "policy": "□拡充　■継続　□見直し　□縮小",
        "issue": "受診控えにより、生活習慣病の発見が遅れるおそれがある。",
    },
    "施策2": {
        "goal": ("Ⅱ", "健康でいきいきと暮らせるまち"), "measure": ("2-2", "地域医療体制の充実"),
        "main": "地域医療課", "related": "消防本部警防課",
        "kpis": [("かかりつけ医を持つ市民の割合", "%", 0.652, 0.671, 0.75, "地域医療課")],
        "overall": ("B", "概ね順調である。"),
        "policy": "■拡充　□継続　□見直し　□縮小",
        "issue": "救急医療機関の受入れ体制がひっ迫している。",
    },
}

# the layout is Example 4 of docs/layouts.md, as printed there
DOCS = Path(__file__).resolve().parents[1] / "docs" / "layouts.md"
LAYOUT_TWO_SHEETS = DOCS.read_text(encoding="utf-8").split("## Example 4", 1)[1].split(
    "```yaml\n", 1)[1].split("```", 1)[0]


def write_two_sheets(path, formula_on_second: bool = False, group: bool = True) -> None:
    """`formula_on_second`: その2's 課題 text is a formula saved without its result."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    title = "令和4年度　施策評価シート（令和3年度実績）"
    for key, m in TWO_SHEETS.items():
        ws = wb.create_sheet(f"{key}その1")
        _put(ws, "A1", title)
        _put(ws, "A3", "政策"), _put(ws, "B3", m["goal"][0]), _put(ws, "C3", m["goal"][1])
        _put(ws, "A4", "施策"), _put(ws, "B4", m["measure"][0]), _put(ws, "C4", m["measure"][1])
        _put(ws, "A5", "主担当課"), _put(ws, "B5", m["main"])
        _put(ws, "D5", "関係課"), _put(ws, "E5", m["related"])
        for c, head in zip("ABCDEF", ["指標名", "単位", "R2年度(実績値)", "R3年度(実績値)",
                                      "R5年度(目標値)", "担当課"]):
            _put(ws, f"{c}7", head)
        for r, (name, unit, a2, a3, target, dept) in enumerate(m["kpis"], start=8):
            _put(ws, f"A{r}", name), _put(ws, f"B{r}", unit)
            _put(ws, f"C{r}", a2, PCT), _put(ws, f"D{r}", a3, PCT), _put(ws, f"E{r}", target, PCT)
            _put(ws, f"F{r}", dept)
        ws2 = wb.create_sheet(f"{key}その2")
        _put(ws2, "A1", title)
        _put(ws2, "A3", "施策"), _put(ws2, "B3", f"{m['measure'][0]}　{m['measure'][1]}")
        _put(ws2, "A5", "総合評価")
        _put(ws2, "B5", m["overall"][0])
        _put(ws2, "C5", m["overall"][1])
        _put(ws2, "A6", "今後の方向性"), _put(ws2, "B6", m["policy"])
        _put(ws2, "A8", "課題"), _put(ws2, "A9", f'="{m["issue"]}"' if formula_on_second else m["issue"])
        _put(ws2, "A11", "※ 評価　A：順調　B：概ね順調　C：やや遅れ　D：遅れ")
    wb.save(path)


# --- KPI list with 担当課, level columns, No. ---------------------------------------------

LAYOUT_KPI_LIST = """\
name: kpi_list_fields
title: KPI一覧（担当課・No.つき）
record: row
group_by: measure
detect:
  - {id: title, labels: [KPI一覧], match: contains}
  - {id: dept, labels: [担当課]}
table:
  header: [基本目標]
  header_rows: 2
  columns:
    basic_goal: {label: [基本目標], carry_down: true, type: level}
    measure: {label: [施策], carry_down: true, type: level}
    number: {label: [No.]}                    # not a model column: kept in the KPI's extra
    name: {label: [指標名]}
    unit: {label: [単位]}
    baseline: {label: [基準値]}
    achievement: {label: [達成度]}
    grade: {label: [評価]}
    department: {label: [担当課]}
    kind: {label: [指標の種類]}
values:
  percent: fraction
  qualitative: {met: [完了, 運用中], unmet: [未着手]}
achievement: {rule: ratio}
grades:
  scale:
    - {grade: ◎, min: 100}
    - {grade: ○, min: 80, max: 100}
    - {grade: △, max: 80}
"""

# (基本目標, 施策, No., name, unit, baseline, R3 target, R3 actual, 達成度, 評価, 担当課, 種類)
KPI_ROWS = [
    ("基本目標１\nしごとをつくる", "1-(1)　地域産業の振興", 1, "製造品出荷額等", "億円", 1245,
     1300, 1268, 0.975, "○", "商工振興課", "成果"),
    (None, None, 2, "市の支援による新規雇用者数", "人", 120, 140, 151, 1.079, "◎", "商工振興課", "成果"),
    (None, "1-(2)　農業の振興", 3, "新規就農者数", "人", 8, 6, 5, 0.833, "○", "農政課", "活動"),
    ("基本目標２\n新しいひとの流れをつくる", "2-(1)　移住・定住の促進", 4,
     "移住ポータルサイトの開設", "－", "－", "運用", "運用中", "達成", "◎", "企画政策課", "活動"),
    (None, None, 5, "空き家バンク成約件数", "件", 5, 10, 9, 0.9, "○", "都市計画課", "成果"),
]


def write_kpi_list(path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "KPI一覧"
    _put(ws, "A1", "総合戦略 KPI一覧")
    heads = ["基本目標", "施策", "No.", "指標名", "単位", "基準値", "R3年度", None, "達成度", "評価",
             "担当課", "指標の種類"]
    for c, h in enumerate(heads, start=1):
        if h:
            ws.cell(3, c, h)
    ws.cell(4, 7, "目標値"), ws.cell(4, 8, "実績値")
    ws.merge_cells("G3:H3")
    for c in (1, 2, 3, 4, 5, 6, 9, 10, 11, 12):
        ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
    for r, row in enumerate(KPI_ROWS, start=5):
        for c, v in enumerate(row, start=1):
            if v is not None:
                ws.cell(r, c, v)
        ws.cell(r, 9).number_format = PCT
    ws.merge_cells("A5:A7"), ws.merge_cells("A8:A9")
    ws.merge_cells("B5:B6"), ws.merge_cells("B8:B9")
    wb.save(path)


# --- KPI blocks, years as rows, qualitative KPIs --------------------------------------------

LAYOUT_BLOCKS = """\
name: blocks_fields
title: 施策の進捗評価シート
record: block
detect:
  - {id: title, labels: [施策の進捗評価シート], match: contains}
  - {id: kpi, labels: [指標名]}
  - {id: explanation, labels: [実績の説明]}
fields:
  title: {label: ["re:進捗評価シート$"], at: same}
  measure: {label: [施策名], type: level, code: {label: [施策番号]}, required: true}
  done: {label: ["re:取組状況$"], holds: text, role: do, fiscal_year: from_label}
block:
  start: [指標名]
  end: [今後の方針]
  fields:
    name: {label: [指標名]}
    unit: {label: [単位]}
    baseline: {label: [基準値], type: quantity}
    target: {label: [最終目標値], type: quantity}
    target_year: {label: [目標年度]}
table:
  header: [年度]
  years: rows
  columns:
    target: {label: [目標値], role: target}
    actual: {label: [実績値], role: actual}
    achievement: {label: [達成率], role: achievement}
    grade: {label: [評価], role: grade}
    explanation: {label: [実績の説明], holds: text, role: do}
values:
  percent: fraction
  qualitative: {met: [完了, 着手], unmet: [未着手]}
achievement:
  rule: ratio
  basis: per_year
  no_target: "－"
grades:
  scale:
    - {grade: S, above: 100}
    - {grade: A, min: 80, at_most: 100}
    - {grade: B, above: 0, max: 80}
    - {grade: C, at_most: 0}
  no_target: "－"
text_blocks:
  history: {label: [年度ごとの取組], by_year: rows, split: none, role: do}
  next: {label: [今後の方針], at: right, split: none, role: action}
"""

# name, unit, rows (year, target, actual, 達成率, 評価, 実績の説明)
BLOCK_KPIS = [
    ("コミュニティバス年間利用者数", "人", [
        ("R2", 49000, 49000, 1.0, "A", "目標どおりだった。"),
        ("R3", 49500, 50490, 1.02, "S", "増便の効果で目標を上回った。"),
        ("R4", "－", 30000, "－", "－", "R4は目標を定めていない。")]),
    ("地域公共交通計画の策定", "－", [
        ("R2", "策定に着手", "着手", 1, "A", "地域公共交通会議を設置した。"),
        ("R3", "計画策定", "未着手", 0, "C", "事業者との調整が難航した。")]),
]


def write_blocks(path, wrong_grade: str | None = None, graded_without_target: bool = False,
                 wrong_rate: bool = False) -> None:
    """`wrong_grade`: the 評価 of the qualitative 未着手 year; `wrong_rate`: that year typed
    100% and A; `graded_without_target`: the year without a target gets 評価 B."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "施策1-1"
    _put(ws, "A1", "令和4年度　施策の進捗評価シート")
    _put(ws, "A2", "施策番号"), _put(ws, "B2", "１－１")
    _put(ws, "C2", "施策名"), _put(ws, "D2", "公共交通ネットワークの維持・確保")
    r = 4
    for name, unit, rows in BLOCK_KPIS:
        _put(ws, f"A{r}", "指標名"), _put(ws, f"B{r}", name)
        _put(ws, f"A{r + 1}", "単位"), _put(ws, f"B{r + 1}", unit)
        _put(ws, f"A{r + 2}", "年度")
        for c, h in zip("BCDEF", ["目標値", "実績値", "達成率", "評価", "実績の説明"]):
            _put(ws, f"{c}{r + 2}", h)
        for i, (year, target, actual, rate, grade, text) in enumerate(rows, start=r + 3):
            if wrong_grade and actual == "未着手":
                grade = wrong_grade
            if wrong_rate and actual == "未着手":
                rate, grade = 1, "A"
            if graded_without_target and target == "－":
                grade = "B"
            _put(ws, f"A{i}", year), _put(ws, f"B{i}", target), _put(ws, f"C{i}", actual)
            _put(ws, f"D{i}", rate, PCT if isinstance(rate, (int, float)) else None)
            _put(ws, f"E{i}", grade), _put(ws, f"F{i}", text)
        r += 4 + len(rows)
    _put(ws, f"A{r}", "R3年度の取組状況"), _put(ws, f"B{r}", "路線の再編案を作成した。")
    _put(ws, f"A{r + 2}", "年度ごとの取組")
    _put(ws, f"A{r + 3}", "R2年度"), _put(ws, f"B{r + 3}", "会議を設置した。")
    _put(ws, f"A{r + 4}", "R3年度"), _put(ws, f"B{r + 4}", "計画を策定した。")
    _put(ws, f"B{r + 5}", "（続き）住民説明会を開いた。")
    _put(ws, f"A{r + 7}", "今後の方針"), _put(ws, f"B{r + 7}", "路線の再編を進める。")
    ws.merge_cells(f"A{r + 7}:A{r + 8}")
    _put(ws, f"B{r + 8}", "デマンド交通の事業者を募る。")
    _put(ws, f"A{r + 10}", "※ この行は注記で、方針ではない。")
    wb.save(path)


# --- one project per sheet ------------------------------------------------------------------

LAYOUT_PROJECT = """\
name: project_fields
title: 事務事業評価シート
record: sheet
detect:
  - {id: title, labels: [事務事業評価シート], match: contains}
  - {id: number, labels: [事業番号]}
fields:
  title: {label: ["re:事務事業評価シート$"], at: same}
  fiscal_year: {label: [評価年度], type: year}
  number: {label: [事業番号]}
  measure: {label: [事業名], type: level, required: true}
  basic_goal: {label: [基本目標], type: level}
  basic_project: {label: [基本事業], type: level}
  necessity: {label: [必要性], holds: evaluation, reason: right}
  effectiveness: {label: [有効性], holds: evaluation, reason: right}
  overall: {label: [総合評価], holds: evaluation, reason: below}
  policy: {label: [今後の方向性], parser: checked_choice}
  improvement: {label: [改善の内容], holds: text, role: action}
table:
  header: [指標名]
  columns:
    name: {label: [指標名], unit_in_name: true}
    kind: {label: [区分]}
  row_roles: {column: kind, roles: {目標: target, 実績: actual}}
text_blocks:
  do: {label: [年度ごとの取組実績], by_year: rows, split: none, role: do}
values:
  percent: fraction
"""


def write_project(path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "事業01"
    _put(ws, "A1", "事務事業評価シート"), _put(ws, "E1", "評価年度"), _put(ws, "F1", "令和4年度")
    _put(ws, "A2", "事業番号"), _put(ws, "B2", "0101")
    _put(ws, "C2", "事業名"), _put(ws, "D2", "地域子育て支援センター運営事業")
    _put(ws, "A3", "基本目標"), _put(ws, "B3", "Ⅰ"), _put(ws, "C3", "子どもを産み育てやすいまちづくり")
    _put(ws, "A4", "基本事業"), _put(ws, "B4", "（１）"), _put(ws, "C4", "地域の子育て力の向上")
    for c, h in zip("ABCDE", ["指標名", "区分", "R2年度", "R3年度", "R4年度"]):
        _put(ws, f"{c}6", h)
    _put(ws, "A7", "センター開設日数（日）"), _put(ws, "B7", "目標")
    _put(ws, "C7", 290), _put(ws, "D7", 290), _put(ws, "E7", 290)
    _put(ws, "B8", "実績"), _put(ws, "C8", 245), _put(ws, "D8", 281)
    ws.merge_cells("A7:A8")
    _put(ws, "A9", "利用者の満足度（%）"), _put(ws, "B9", "目標")
    _put(ws, "C9", 0.9, PCT), _put(ws, "D9", 0.9, PCT), _put(ws, "E9", 0.9, PCT)
    _put(ws, "B10", "実績"), _put(ws, "C10", 0.88, PCT), _put(ws, "D10", 0.93, PCT)
    ws.merge_cells("A9:A10")
    _put(ws, "A12", "必要性"), _put(ws, "B12", "A"), _put(ws, "C12", "身近な相談先として必要である。")
    _put(ws, "A13", "有効性"), _put(ws, "B13", "B"), _put(ws, "D13", "利用者数が戻っていない。")
    _put(ws, "A14", "総合評価"), _put(ws, "B14", "B")
    _put(ws, "B15", "引き続き実施し、利用者数の回復に努める。")
    _put(ws, "A16", "今後の方向性"), _put(ws, "B16", "□拡充　■現状維持　□改善　□廃止")
    _put(ws, "A17", "改善の内容"), _put(ws, "B17", "オンライン相談を定着させる。")
    _put(ws, "A19", "５　年度ごとの取組実績")
    _put(ws, "A20", "R2年度"), _put(ws, "B20", "オンライン相談を開始した。")
    _put(ws, "A21", "R3年度"), _put(ws, "B21", "アプリを導入した。")
    wb.save(path)

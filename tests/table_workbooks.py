"""Small workbooks, one per shape of the table half of the layout schema (issue 17, phase
two), each with every fact it holds pinned the way tests/city_corpus.py pins the corpus.

| book | layout (tests/layouts/tables/) | what it shows |
|---|---|---|
| measure_projects | measure_projects.yaml | a KPI table whose columns are found by group header + sub-label (`under`, `nth`), a text column by year whose header says 実績 (`holds: text`), 備考 (`holds: note`); a second table of project lines with 決算額/予算額 by year (`tables: … holds: projects`), 千円 on one sheet and 円 on the other, ended by 合計 |
| project_cost | project_cost.yaml | KPI rows by kind, then a cost block whose rows are lines (①事業費, 財源内訳 merged down, ②職員人工 × ③平均職員費 = ④人件費, ⑤総事業費, 単位コスト naming its indicator) and whose columns are years with 決算額/予算額 under them (`holds: cost`), in 千円 and in 円 |
| management_cost | management_cost.yaml | a cost block with one header row 「令和2年度（決算）」… 「令和5年度（計画）」, the city's own line keys, a 1件あたりコスト line on one sheet and none on the other (derived), ended by a blank row |
| kpi_sheets_end | kpi_sheets_end.yaml | one KPI per sheet, years across columns, 目標値(R3) beside R3年度 (the final target), rows below the table that are not KPI rows (数値の基準年度, 実績値の計算方法, 評価基準) |
| kpi_blocks_texts | kpi_blocks_texts.yaml | KPI blocks with years as rows and a 実績の説明 text column and a 備考 column by year; a legend row after each table; the tables end at a blank row |

    python tests/table_workbooks.py OUT_DIR    # write the books and their facts
    python tests/table_workbooks.py --pin      # rewrite tests/table_facts/*.json
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from city_corpus import N0, N2, PCT, Book, col, dump, rate

HERE = Path(__file__).resolve().parent
FACTS_DIR = HERE / "table_facts"
LAYOUTS_DIR = HERE / "layouts" / "tables"


# --- measure_projects: under / nth, text columns by year, notes, a projects table ------------

MP_MEASURES = [
    {"sheet": "施策01", "name": "健康づくりの推進", "unit": "千円", "unit_text": "（単位：千円）",
     "kpis": [("特定健診受診率", "%", 0.382, "H30", 2018, 0.60, "R5", 2023, [0.395, 0.331],
               ["受診勧奨はがきで上昇した。", "受診控えで大きく低下した。"], "国の目標に合わせた"),
              ("健康教室参加者数", "人", 1200, "H30", 2018, 1500, "R5", 2023, [1310, 640],
               ["地区ごとに開催した。", "定員を半分にして開催した。"], None)],
     "projects": [("特定健康診査事業", "保険年金課", "国保加入者の特定健診を行う。", [58420, 49815, 60210]),
                  ("がん検診事業", "健康増進課", "5つのがん検診を行う。", [72306, 61977, 75480]),
                  ("健康マイレージ事業【新規】", "健康増進課", "健康づくりにポイントを付ける。", [None, 2845, 3300])],
     "analysis": "【健康増進課】\n受診率の回復が課題である。"},
    {"sheet": "施策02", "name": "地域医療の充実", "unit": "円", "unit_text": "（単位：円）",
     "kpis": [("休日当番医の受診者数", "人", 4820, "H30", 2018, 4000, "R5", 2023, [4755, 2910],
               ["流行期に増えた。", "受診控えで減った。"], "少ないほど良い")],
     "projects": [("休日夜間急患診療所運営事業", "地域医療課", "初期救急を医師会に委託する。",
                   [46210000, 47380500, 47900000])],
     "analysis": "【地域医療課】\n救急の受入れ体制の強化が必要である。"},
]
MP_YEARS = [2020, 2021]
MP_KINDS = ["決算額", "決算額", "予算額"]


def write_measure_projects(path) -> dict:
    book = Book(path, Path(path).name, "KPI表（基準値・目標値の値と年度、年度別の分析、備考）と事務事業の表",
                "measure_projects", 2022)
    for m in MP_MEASURES:
        s = book.sheet(m["sheet"])
        s.widths(A=22, B=14, C=8, D=14, E=8, F=8, G=8, H=10, I=24, J=24, K=16)
        s.owner = m["name"]
        s.label("A1", "施策評価シート", style="title")
        s.label("A2", "施策名")
        s.fact("B2", m["name"], "measure.name", merge="K2")
        s.label("A4", "１　成果指標", style="heading")
        s.label("A5", "指標名", merge="A6")
        s.label("B5", "単位", merge="B6")
        s.label("C5", "基準値", merge="D5")
        s.label("C6", "値")
        s.label("D6", "年度")
        s.label("E5", "目標値", merge="F5")
        s.label("E6", "値")
        s.label("F6", "年度")
        s.label("G5", "実績値", merge="H5")
        s.label("G6", "R2年度")
        s.label("H6", "R3年度")
        s.label("I5", "実績の分析・要因", merge="J5")  # says 実績, holds texts
        s.label("I6", "R2年度")
        s.label("J6", "R3年度")
        s.label("K5", "備考", merge="K6")
        r = 7
        for name, unit, base, by, by_fy, target, ty, ty_fy, actuals, texts, note in m["kpis"]:
            s.owner = name
            num = PCT if unit == "%" else N0
            s.fact(f"A{r}", name, "kpi.name")
            s.fact(f"B{r}", unit, "kpi.unit")
            s.fact(f"C{r}", base, "kpi.baseline", num=num, fiscal_year=by_fy)
            s.fact(f"D{r}", by, "kpi.baseline_year", also=[by_fy])
            s.fact(f"E{r}", target, "kpi.final_target", num=num, fiscal_year=ty_fy)
            s.fact(f"F{r}", ty, "kpi.target_year", also=[ty_fy])
            s.row_facts(r, "G", actuals, "kpi.actual", MP_YEARS, num=num)
            for j, (fy, t) in enumerate(zip(MP_YEARS, texts)):
                s.fact(f"{col('I', j)}{r}", t, "kpi.text", key="analysis", role="check", fiscal_year=fy)
            if note:
                s.fact(f"K{r}", note, "kpi.note")
            else:
                s.blank(f"K{r}")
            r += 1
        s.owner = m["name"]
        r += 1
        s.label(f"A{r}", "２　施策を構成する事務事業", style="heading", merge=f"E{r}")
        s.fact(f"H{r}", m["unit_text"], "project.unit", style="plain", also=[m["unit"]])
        h = r + 1
        s.label(f"A{h}", "No.", merge=f"A{h + 1}")
        s.label(f"B{h}", "事務事業名", merge=f"B{h + 1}")
        s.label(f"C{h}", "担当課", merge=f"C{h + 1}")
        s.label(f"D{h}", "事業の内容", merge=f"E{h + 1}")
        s.label(f"F{h}", "決算額", merge=f"G{h}")
        s.label(f"F{h + 1}", "R2年度")
        s.label(f"G{h + 1}", "R3年度")
        s.label(f"H{h}", "予算額")
        s.label(f"H{h + 1}", "R4年度")
        r = h + 2
        first = r
        for n, (name, dept, content, amounts) in enumerate(m["projects"], start=1):
            s.owner = name
            s.fact(f"A{r}", n, "project.number")
            s.fact(f"B{r}", name, "project.name")
            s.fact(f"C{r}", dept, "project.department")
            s.fact(f"D{r}", content, "project.content", merge=f"E{r}")
            for j, (fy, kind, v) in enumerate(zip([2020, 2021, 2022], MP_KINDS, amounts)):
                if v is None:
                    s.blank(f"{col('F', j)}{r}", N0)
                    continue
                s.fact(f"{col('F', j)}{r}", v, "project.amount", num=N0, fiscal_year=fy, kind=kind,
                       unit=m["unit"])
            r += 1
        s.owner = m["name"]
        s.label(f"A{r}", "合計", merge=f"E{r}")
        for j in range(3):
            c = col("F", j)
            total = sum(p[3][j] or 0 for p in m["projects"])
            s.other(f"{c}{r}", total, "column total", num=N0, formula=f"=SUM({c}{first}:{c}{r - 1})")
        r += 2
        s.label(f"A{r}", "現状と課題", merge=f"K{r}")
        s._write(f"A{r + 1}", m["analysis"], "value", None, f"K{r + 1}", None)
        dept, line = m["analysis"].split("\n")
        book.facts.append({"sheet": s.name, "cell": f"A{r + 1}", "what": "text", "text": line,
                           "key": "check_analysis", "role": "check", "department": dept.strip("【】"),
                           "owner": m["name"], "part_of": m["analysis"]})
    return book.close()


# --- project_cost: a cost block whose rows are lines, 千円 and 円 ------------------------------

PC_YEARS = [2020, 2021, 2022]
PC_LABELS = ["R2年度", "R3年度", "R4年度"]
PC_KINDS = ["決算額", "決算額", "予算額"]
PC_LINES = [("①事業費", "project_cost"), ("国庫支出金", "national"), ("県支出金", "prefectural"),
            ("その他", "other"), ("一般財源", "general"), ("②職員人工（人）", "staff"),
            ("③平均職員費", "staff_unit_cost"), ("④人件費（②×③）", "personnel"),
            ("⑤総事業費（①＋④）", "total")]
PC_PROJECTS = [
    {"sheet": "事業01", "name": "子育て支援センター運営事業", "unit": "千円",
     "kpis": [("センター開設日数", "日", [290, 290, 290], [288, 245, None], None),
              ("センター利用者数", "人", [12000, 12000, 12000], [11482, 6935, None], "延べ人数")],
     "cost": {"project_cost": [24518, 21034, 25100], "national": [8172, 7011, 8366],
              "prefectural": [8172, 7011, 8366], "other": ["－", 96, 120],
              "staff": [1.5, 1.5, 1.4], "staff_unit_cost": [7920, 7850, 7810]}},
    {"sheet": "事業02", "name": "空き家バンク推進事業", "unit": "円",
     "kpis": [("空き家バンク登録件数", "件", [20, 20, 25], [14, 18, None], "R3から補助を拡充"),
              ("空き家バンク成約件数", "件", [10, 10, 12], [6, 9, None], None)],
     "cost": {"project_cost": [3482610, 4105200, 4560000], "national": [1160000, 1368000, 1520000],
              "prefectural": [0, 0, 0], "other": ["－", "－", "－"],
              "staff": [0.8, 0.8, 1.0], "staff_unit_cost": [7920000, 7850000, 7810000]}},
]


def _n(v) -> float:
    return v if isinstance(v, (int, float)) else 0


def write_project_cost(path) -> dict:
    book = Book(path, Path(path).name, "事務事業評価シート（指標と事業費の推移）", "project_cost", 2022)
    for p in PC_PROJECTS:
        s = book.sheet(p["sheet"])
        s.widths(A=10, B=14, C=10, D=10, E=11, F=11, G=11, H=18)
        s.owner = p["name"]
        s.label("A1", "事務事業評価シート", style="title")
        s.label("A2", "事業名")
        s.fact("B2", p["name"], "measure.name", merge="H2")
        s.label("A4", "１　指標", style="heading")
        s.label("A5", "指標名", merge="B5")
        s.label("C5", "単位")
        s.label("D5", "項目")
        for j, y in enumerate(PC_LABELS):
            s.label(f"{col('E', j)}5", y)
        s.label("H5", "備考")
        r = 6
        for name, unit, targets, actuals, note in p["kpis"]:
            s.owner = name
            s.fact(f"A{r}", name, "kpi.name", merge=f"B{r + 2}")
            s.fact(f"C{r}", unit, "kpi.unit", merge=f"C{r + 2}")
            s.label(f"D{r}", "目標値")
            s.label(f"D{r + 1}", "実績値")
            s.label(f"D{r + 2}", "達成率")
            s.row_facts(r, "E", targets, "kpi.target", PC_YEARS, num=N0)
            s.row_facts(r + 1, "E", actuals, "kpi.actual", PC_YEARS, num=N0)
            rates = [rate(a, t) for t, a in zip(targets, actuals)]
            formulas = [f"={col('E', j)}{r + 1}/{col('E', j)}{r}" if x is not None else None
                        for j, x in enumerate(rates)]
            s.row_facts(r + 2, "E", rates, "kpi.achievement", PC_YEARS, num=PCT, formulas=formulas)
            if note:
                s.fact(f"H{r}", note, "kpi.note", merge=f"H{r + 2}")
            else:
                s.blank(f"H{r}", merge=f"H{r + 2}")
            r += 3
        s.owner = p["name"]
        top = r + 1
        unit = p["unit"]
        s.label(f"A{top}", "２　事業費の推移", style="heading", merge=f"D{top}")
        s.fact(f"H{top}", f"（単位：{unit}）", "cost.unit", style="plain", also=[unit])
        h = top + 1
        s.label(f"A{h}", "項目", merge=f"D{h + 1}")
        for j, (y, k) in enumerate(zip(PC_LABELS, PC_KINDS)):
            s.label(f"{col('E', j)}{h}", y)
            s.label(f"{col('E', j)}{h + 1}", k)
        cost = dict(p["cost"])
        cost["general"] = [_n(pc) - sum(_n(cost[k][j]) for k in ("national", "prefectural", "other"))
                           for j, pc in enumerate(cost["project_cost"])]
        cost["personnel"] = [round(a * b) for a, b in zip(cost["staff"], cost["staff_unit_cost"])]
        cost["total"] = [a + b for a, b in zip(cost["project_cost"], cost["personnel"])]
        r = h + 2
        rows = {key: r + i for i, (_, key) in enumerate(PC_LINES)}
        s.label(f"A{rows['national']}", "財源内訳", merge=f"B{rows['general']}")
        for lab, key in PC_LINES:
            if key in ("national", "prefectural", "other", "general"):
                s.label(f"C{rows[key]}", lab, merge=f"D{rows[key]}")
            else:
                s.label(f"A{rows[key]}", lab, merge=f"D{rows[key]}")
            for j, fy in enumerate(PC_YEARS):
                c = col("E", j)
                formula = {"general": f"={c}{rows['project_cost']}-SUM({c}{rows['national']}:{c}{rows['other']})",
                           "personnel": f"={c}{rows['staff']}*{c}{rows['staff_unit_cost']}",
                           "total": f"={c}{rows['project_cost']}+{c}{rows['personnel']}"}.get(key)
                s.fact(f"{c}{rows[key]}", cost[key][j], f"cost.{key}", num=N2 if key == "staff" else N0,
                       formula=formula, fiscal_year=fy, kind=PC_KINDS[j],
                       unit="人" if key == "staff" else unit, key=key)
        r = rows["total"] + 1
        kpi_name = p["kpis"][1][0]
        s.label(f"A{r}", f"単位コスト（⑤÷{kpi_name}）（円／{p['kpis'][1][1]}）", merge=f"D{r}")
        for j, fy in enumerate(PC_YEARS):
            c = col("E", j)
            actual = p["kpis"][1][3][j]
            if actual is None:
                s.blank(f"{c}{r}", N0)
                continue
            mult = "" if unit == "円" else "*1000"
            s.fact(f"{c}{r}", round(cost["total"][j] * (1 if unit == "円" else 1000) / actual), "cost.unit_cost",
                   num=N0, formula=f"=ROUND({c}{rows['total']}{mult}/{c}{6 + 3 + 1},0)", fiscal_year=fy,
                   unit=f"円/{p['kpis'][1][1]}", key="unit_cost", indicator=kpi_name)
        r += 2
        s.label(f"A{r}", "３　評価", style="heading")
        s.other(f"A{r + 1}", "（A：高い　B：普通　C：低い）", "legend", merge=f"H{r + 1}", style="plain")
    return book.close()


# --- management_cost: one header row with the kind in the year cell, a blank row ends it -----

MC_YEARS = [2020, 2021, 2022, 2023]
MC_HEADS = ["令和2年度\n（決算）", "令和3年度\n（決算）", "令和4年度\n（予算）", "令和5年度\n（計画）"]
MC_KINDS = ["決算", "決算", "予算", "計画"]
MC_LINES = [("事業費計（A）", "project_cost", N0), ("国・県支出金", "grants", N0),
            ("一般財源", "general", N0), ("正規職員（人）", "regular_staff", N2),
            ("人件費（B）", "personnel", N0), ("トータルコスト（A）＋（B）", "total", N0)]
MC_PROJECTS = [
    {"sheet": "No.1", "name": "自主防災組織育成事業", "per_unit": True,
     "kpis": [("防災訓練への補助件数", "件", [40, 45, 50, 50], [21, 33, None, None]),
              ("自主防災組織の結成率", "%", [0.80, 0.82, 0.85, 0.88], [0.781, 0.795, None, None])],
     "cost": {"project_cost": [3210, 4480, 5200, 5200], "grants": [1070, 1490, 1730, 1730],
              "regular_staff": [0.6, 0.6, 0.7, 0.7], "personnel": [4740, 4710, 5470, 5470]}},
    {"sheet": "No.2", "name": "木造住宅耐震改修補助事業", "per_unit": False,
     "kpis": [("耐震改修補助件数", "件", [15, 15, 15, 15], [9, 12, None, None])],
     "cost": {"project_cost": [14850, 19620, 22500, 22500], "grants": [7420, 9810, 11250, 11250],
              "regular_staff": [1.0, 1.0, 1.0, 1.0], "personnel": [7900, 7850, 7810, 7810]}},
]


def write_management_cost(path) -> dict:
    book = Book(path, Path(path).name, "事務事業マネジメントシート（計画年度つきのコスト表）",
                "management_cost", 2022)
    for p in MC_PROJECTS:
        s = book.sheet(p["sheet"])
        s.widths(A=26, B=12, C=12, D=12, E=12, F=12)
        s.owner = p["name"]
        s.label("A1", "事務事業マネジメントシート", style="title")
        s.label("A2", "事務事業名")
        s.fact("B2", p["name"], "measure.name", merge="F2")
        s.label("A4", "■ 指標", style="heading")
        s.label("A5", "指標名")
        s.label("B5", "区分")
        for j, h in enumerate(MC_HEADS):
            s.label(f"{col('C', j)}5", h.split("\n")[0])
        r = 6
        for name, unit, targets, actuals in p["kpis"]:
            s.owner = name
            num = PCT if unit == "%" else N0
            s.fact(f"A{r}", name, "kpi.name", merge=f"A{r + 1}")
            s.label(f"B{r}", "目標")
            s.label(f"B{r + 1}", "実績")
            s.row_facts(r, "C", targets, "kpi.target", MC_YEARS, num=num)
            s.row_facts(r + 1, "C", actuals, "kpi.actual", MC_YEARS, num=num)
            r += 2
        s.owner = p["name"]
        r += 1
        s.label(f"A{r}", "■ コスト", style="heading")
        s.fact(f"F{r}", "単位：千円", "cost.unit", style="plain", also=["千円"])
        r += 1
        s.label(f"A{r}", "区分")
        for j, h in enumerate(MC_HEADS):
            s.label(f"{col('B', j)}{r}", h)
        cost = dict(p["cost"])
        cost["general"] = [a - b for a, b in zip(cost["project_cost"], cost["grants"])]
        cost["total"] = [a + b for a, b in zip(cost["project_cost"], cost["personnel"])]
        rows = {key: r + 1 + i for i, (_, key, _) in enumerate(MC_LINES)}
        for lab, key, num in MC_LINES:
            s.label(f"A{rows[key]}", lab)
            for j, fy in enumerate(MC_YEARS):
                c = col("B", j)
                formula = {"general": f"={c}{rows['project_cost']}-{c}{rows['grants']}",
                           "total": f"={c}{rows['project_cost']}+{c}{rows['personnel']}"}.get(key)
                s.fact(f"{c}{rows[key]}", cost[key][j], f"cost.{key}", num=num, formula=formula,
                       fiscal_year=fy, kind=MC_KINDS[j], unit="人" if key.endswith("staff") else "千円",
                       key=key)
        r = rows["total"] + 1
        if p["per_unit"]:
            name, unit, _, actuals = p["kpis"][0]
            s.label(f"A{r}", "活動指標1件あたりコスト（円）")
            for j, fy in enumerate(MC_YEARS):
                c = col("B", j)
                if actuals[j] is None:
                    s.blank(f"{c}{r}", N0)
                    continue
                v = cost["total"][j] * 1000 // actuals[j]
                s.fact(f"{c}{r}", v, "cost.unit_cost", num=N0,
                       formula=f"=INT({c}{rows['total']}*1000/{col('C', j)}7)", fiscal_year=fy,
                       unit=f"円/{unit}", key="unit_cost", indicator=name)
            r += 1
        r += 1  # a blank row ends the cost table
        s.other(f"A{r}", "（人件費は正規職員の人工×平均給与で算定）", "footnote", merge=f"F{r}", style="plain")
    return book.close()


# --- kpi_sheets_end: one KPI per sheet, years across columns, rows below the table ----------

KE_YEARS = [2019, 2020, 2021]
KE_KPIS = [
    {"sheet": "KPI1", "name": "新規創業者数", "unit": "件", "baseline": 4, "targets": ["－", 10, 12],
     "actuals": [6, 9, 13], "final": 12, "final_row": 7, "method": "創業支援を受けて創業した件数（各年度）"},
    {"sheet": "KPI2", "name": "観光入込客数", "unit": "千人", "baseline": 1250, "targets": [1300, 1350, 1400],
     "actuals": [1320, 812, 1010], "final": 1400, "final_row": 6, "method": "県観光入込客統計（暦年）"},
]


def write_kpi_sheets_end(path) -> dict:
    book = Book(path, Path(path).name, "KPI検証シート（1指標1シート、表の下に別の行）", "kpi_sheets_end", 2022)
    for k in KE_KPIS:
        s = book.sheet(k["sheet"])
        s.widths(A=18, B=12, C=10, D=10, E=10, F=12)
        s.owner = k["name"]
        s.label("A1", "KPI検証シート", style="title")
        s.label("A3", "KPI")
        s.fact("B3", k["name"], "kpi.name", merge="F3")
        s.label("C4", "単位")
        s.fact("D4", k["unit"], "kpi.unit")
        s.label("A5", "区分")
        s.label("B5", "従前値(H30)")
        for j, y in enumerate(["R元年度", "R2年度", "R3年度"]):
            s.label(f"{col('C', j)}5", y)
        s.label("F5", "目標値(R3)")  # the final target, beside R3's actual column
        s.label("A6", "目標値")
        s.blank("B6", N0)
        s.row_facts(6, "C", k["targets"], "kpi.target", KE_YEARS, num=N0)
        s.label("A7", "実績値")
        s.fact("B7", k["baseline"], "kpi.baseline", num=N0, fiscal_year=2018)
        s.row_facts(7, "C", k["actuals"], "kpi.actual", KE_YEARS, num=N0)
        other = 6 if k["final_row"] == 7 else 7
        s.fact(f"F{k['final_row']}", k["final"], "kpi.final_target", num=N0, fiscal_year=2021)
        s.blank(f"F{other}", N0)
        s.label("A8", "達成率")
        s.blank("B8", PCT)
        for j, (t, a) in enumerate(zip(k["targets"], k["actuals"])):
            c = col("C", j)
            got = rate(a, t)
            if got is None:
                s.fact(f"{c}8", "－", "kpi.achievement", fiscal_year=KE_YEARS[j])
            else:
                s.fact(f"{c}8", got, "kpi.achievement", num=PCT, formula=f"={c}7/{c}6", fiscal_year=KE_YEARS[j])
        s.blank("F8", PCT)
        s.label("A10", "数値の基準年度")  # below the table: not KPI rows
        s.fact("B10", "H30年度", "kpi.baseline_year", also=[2018])
        s.label("C10", "目標年度")
        s.fact("D10", "R3年度", "kpi.target_year", also=[2021])
        s.label("A11", "実績値の計算方法")
        s.fact("B11", k["method"], "kpi.method", merge="F11")
        s.label("A12", "評価基準")
        s.other("B12", "A：100%以上　B：80%以上　C：80%未満", "legend (the grade scale)", merge="F12")
    return book.close()


# --- kpi_blocks_texts: years as rows with a text column and a notes column -------------------

KB_YEARS = [("R2", 2020), ("R3", 2021), ("R4", 2022)]
KB_BLOCKS = [
    {"name": "コミュニティバス利用者数", "unit": "人",
     "rows": [(49000, 31540, "外出自粛で減少した。", "4～5月は運休"), (49500, 36870, "回復傾向にある。", None),
              (50000, None, None, None)]},
    {"name": "デマンド交通の利用登録者数", "unit": "人",
     "rows": [(300, 280, "説明会を開いた。", None), (400, 455, "登録の受付を電話にも広げた。", "R4.3に地区を拡大"),
              (500, None, None, None)]},
]


def write_kpi_blocks_texts(path) -> dict:
    book = Book(path, Path(path).name, "KPIブロック（年度は行、実績の説明と備考の列）", "kpi_blocks_texts", 2022)
    s = book.sheet("施策1-1")
    s.widths(A=10, B=14, C=12, D=30, E=16)
    s.owner = "公共交通の確保"
    s.label("A1", "施策の進捗シート", style="title")
    s.label("A2", "施策名")
    s.fact("B2", "公共交通の確保", "measure.name", merge="E2")
    r = 4
    for b in KB_BLOCKS:
        s.owner = b["name"]
        s.label(f"A{r}", "指標名")
        s.fact(f"B{r}", b["name"], "kpi.name", merge=f"E{r}")
        s.label(f"A{r + 1}", "単位")
        s.fact(f"B{r + 1}", b["unit"], "kpi.unit")
        h = r + 2
        for c, text in zip("ABCDE", ("年度", "目標値", "実績値", "実績の説明", "備考")):
            s.label(f"{c}{h}", text)
        for i, ((ylab, fy), (t, a, text, note)) in enumerate(zip(KB_YEARS, b["rows"])):
            row = h + 1 + i
            s.label(f"A{row}", ylab)
            s.fact(f"B{row}", t, "kpi.target", num=N0, fiscal_year=fy)
            if a is None:
                s.blank(f"C{row}", N0)
            else:
                s.fact(f"C{row}", a, "kpi.actual", num=N0, fiscal_year=fy)
            if text:
                s.fact(f"D{row}", text, "kpi.text", key="explanation", role="do", fiscal_year=fy)
            else:
                s.blank(f"D{row}")
            if note:
                s.fact(f"E{row}", note, "kpi.note")
            else:
                s.blank(f"E{row}")
        r = h + 1 + len(KB_YEARS) + 1  # a blank row, then a legend that is not a year row
        s.other(f"A{r}", "※ R5年度以降の実績は翌年度に記入", "legend", merge=f"E{r}", style="plain")
        r += 2
    return book.close()


BOOKS = {
    "measure_projects.xlsx": write_measure_projects,
    "project_cost.xlsx": write_project_cost,
    "management_cost.xlsx": write_management_cost,
    "kpi_sheets_end.xlsx": write_kpi_sheets_end,
    "kpi_blocks_texts.xlsx": write_kpi_blocks_texts,
}


def facts_file(book: str) -> Path:
    return FACTS_DIR / (Path(book).stem + ".json")


def write_books(out: Path) -> dict[str, dict]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return {name: write(out / name) for name, write in BOOKS.items()}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--pin"]:
        FACTS_DIR.mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory() as d:
            for name, facts in write_books(Path(d)).items():
                facts_file(name).write_text(dump(facts), encoding="utf-8")
                print(f"{facts_file(name).relative_to(HERE.parent)}: {facts['fact_count']} facts")
        return 0
    if len(argv) != 1:
        print(__doc__)
        return 2
    for name, facts in write_books(Path(argv[0])).items():
        (Path(argv[0]) / (Path(name).stem + ".facts.json")).write_text(dump(facts), encoding="utf-8")
        print(f"{name}: {facts['fact_count']} facts")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

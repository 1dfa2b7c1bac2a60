"""Test workbooks in two layouts xlsgen did not know, written as a city would keep them.

`write_kpi_blocks(path)`: 施策評価シート, KPI blocks stacked on each measure sheet, each a
small table whose years are rows (年度 | 目標値 | 実績値 | 達成率 | 評価), with unit, ↑/↓,
baseline (and its year) and final target above it.
`write_kpi_list(path)`: a planning office's KPI 一覧, one row per KPI: two-row header with
実績値 merged over the year columns, 基本目標 section rows, 施策 merged down (and once left
blank), own 基準年度 / 目標年度 per row (R元, H30, 毎年度), "1,250" typed as text, 集計中, －.
"""

from __future__ import annotations

import openpyxl
from openpyxl.styles import Alignment

PCT = "0.0%"


def _cell(ws, ref, value, fmt=None):
    ws[ref] = value
    if fmt:
        ws[ref].number_format = fmt
    ws[ref].alignment = Alignment(wrap_text=True, vertical="top")


# (name, unit, direction, baseline, baseline year, final target, target year,
#  rows: (year label, target, actual, achievement (fraction), grade))
BLOCKS = {
    "施策1": ("子育て支援の充実", "【子育て支援課】【保育課】", [
        ("保育所待機児童数", "人", "↓", 12, "H30", 0, "R6年度", [
            ("R2年度", 10, 8, 1.25, "A"), ("R3年度", 8, 10, 0.8, "B"),
            ("R4年度", 6, "集計中", None, None), ("R5年度", 4, None, None, None)]),
        ("子育て相談件数", "件", "↑", 850, "R元", 1200, "R6年度", [
            ("R2年度", 900, 765, 0.85, "B"), ("R3年度", 1000, 1020, 1.02, "B"),
            ("R4年度", 1100, None, None, None), ("R5年度", 1150, None, None, None)]),
    ], "【子育て支援課】\n待機児童は減少した。\n【保育課】\n保育士の確保が課題。",
        "【保育課】\n保育士の処遇改善を続ける。"),
    "施策2": ("移住・定住の促進", "【企画課】", [
        ("移住相談件数", "件", "↑", 40, "H30", 100, "R6年度", [
            ("R2年度", 60, 30, 0.5, "C"), ("R3年度", 70, 84, 1.2, "A"),
            ("R4年度", 80, "－", None, None), ("R5年度", 90, None, None, None)]),
    ], "〔企画課〕\n相談窓口をオンライン化した。", "〔企画課〕\n首都圏での相談会を増やす。"),
}


def write_kpi_blocks(path) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    cover = wb.create_sheet("表紙")
    cover["A1"] = "令和3年度 施策評価（表紙）"
    for sheet, (measure, depts, blocks, analysis, nxt) in BLOCKS.items():
        ws = wb.create_sheet(sheet)
        _cell(ws, "A1", "施策評価シート（KPI）")
        _cell(ws, "A2", "施策名")
        _cell(ws, "B2", measure)
        ws.merge_cells("B2:E2")
        _cell(ws, "A3", "担当課")
        _cell(ws, "B3", depts)
        r = 5
        for name, unit, arrow, base, base_y, target, target_y, rows in blocks:
            _cell(ws, f"A{r}", "指標名")
            _cell(ws, f"B{r}", name)
            ws.merge_cells(f"B{r}:E{r}")
            _cell(ws, f"A{r + 1}", "単位")
            _cell(ws, f"B{r + 1}", unit)
            _cell(ws, f"C{r + 1}", "方向")
            _cell(ws, f"D{r + 1}", arrow)
            _cell(ws, f"A{r + 2}", "基準値")
            _cell(ws, f"B{r + 2}", base, "#,##0")
            _cell(ws, f"C{r + 2}", "基準年度")
            _cell(ws, f"D{r + 2}", base_y)
            _cell(ws, f"A{r + 3}", "最終目標値")
            _cell(ws, f"B{r + 3}", target, "#,##0")
            _cell(ws, f"C{r + 3}", "目標年度")
            _cell(ws, f"D{r + 3}", target_y)
            for col, head in zip("ABCDE", ("年度", "目標値", "実績値", "達成率", "評価")):
                _cell(ws, f"{col}{r + 4}", head)
            for i, (y, t, a, rate, grade) in enumerate(rows):
                rr = r + 5 + i
                _cell(ws, f"A{rr}", y)
                _cell(ws, f"B{rr}", t, "#,##0")
                _cell(ws, f"C{rr}", a, "#,##0" if isinstance(a, int) else None)
                _cell(ws, f"D{rr}", rate, PCT)
                _cell(ws, f"E{rr}", grade)
            r += 5 + len(rows) + 1
        _cell(ws, f"A{r}", "現状と課題")
        _cell(ws, f"A{r + 1}", analysis)
        ws.merge_cells(f"A{r + 1}:E{r + 1}")
        _cell(ws, f"A{r + 2}", "今後の方針")
        _cell(ws, f"A{r + 3}", nxt)
        ws.merge_cells(f"A{r + 3}:E{r + 3}")
    wb.save(path)


def write_kpi_list(path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "KPI一覧"
    _cell(ws, "A1", "第2期総合戦略 KPI一覧")
    heads = {"A": "施策", "B": "KPI", "C": "単位", "D": "基準値", "E": "基準年度",
             "I": "目標値", "J": "目標年度"}
    for col, text in heads.items():
        _cell(ws, f"{col}3", text)
        ws.merge_cells(f"{col}3:{col}4")
    _cell(ws, "F3", "実績値")
    ws.merge_cells("F3:H3")
    for col, y in zip("FGH", ("R2年度", "R3年度", "R4年度")):
        _cell(ws, f"{col}4", y)
    _cell(ws, "A5", "基本目標1　しごとをつくる")
    ws.merge_cells("A5:J5")
    rows = [
        (6, "企業誘致の推進", "新規立地企業数", "社", 2, "H30", 3, 4, "集計中", 15, "R6"),
        (7, None, "新規雇用者数", "人", "1,250", "R元", "1,300", 1410, "－", "1,500", "R6"),
        (8, "創業支援", "創業件数", "件", 5, "H30", 6, 7, 9, 10, "毎年度"),
        (10, "移住定住の促進", "転入者数", "人", 3100, "R元", 3050, 3200, 3300, 3500, "R6"),
        (11, None, "移住相談件数", "件", 40, "H30", 55, "－", 70, 100, "R6"),
    ]
    for r, measure, name, unit, base, base_y, a2, a3, a4, target, target_y in rows:
        if measure:
            _cell(ws, f"A{r}", measure)
        for col, v in zip("BCDEFGHIJ", (name, unit, base, base_y, a2, a3, a4, target, target_y)):
            _cell(ws, f"{col}{r}", v, "#,##0" if isinstance(v, int) else None)
    ws.merge_cells("A6:A7")
    _cell(ws, "A9", "基本目標2　ひとの流れをつくる")
    ws.merge_cells("A9:J9")
    _cell(ws, "A12", "※ 実績値は各年度末現在。")
    ws.merge_cells("A12:J12")
    wb.save(path)


def put(ws, ref, v, fmt=None):
    ws[ref] = v
    if fmt:
        ws[ref].number_format = fmt


def write_rows_by_kind(path) -> None:
    """Each KPI on two rows whose 区分 says 目標値 / 実績値 under the year columns, then
    最終目標値 and 目標年度 (the name merged down)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "事務事業評価"
    put(ws, "A1", "事務事業評価シート")
    put(ws, "A2", "事務事業名")
    put(ws, "B2", "商店街活性化事業")
    for c, v in zip("ABCDEFG", ["成果指標", "区分", "R2年度", "R3年度", "R4年度", "最終目標値", "目標年度"]):
        put(ws, f"{c}4", v)
    put(ws, "A5", "空き店舗数")
    ws.merge_cells("A5:A6")
    put(ws, "B5", "目標値")
    put(ws, "C5", 20)
    put(ws, "D5", 18)
    put(ws, "E5", 16)
    put(ws, "F5", 10)
    put(ws, "G5", "R6")
    put(ws, "B6", "実績値")
    put(ws, "C6", 22)
    put(ws, "D6", 17)
    ws.merge_cells("F5:F6")
    ws.merge_cells("G5:G6")
    put(ws, "A7", "イベント来場者数")
    ws.merge_cells("A7:A8")
    put(ws, "B7", "目標値")
    put(ws, "C7", 5000)
    put(ws, "D7", 5500)
    put(ws, "E7", 6000)
    put(ws, "F7", 8000)
    put(ws, "G7", "R6")
    put(ws, "B8", "実績値")
    put(ws, "C8", 4200)
    put(ws, "D8", "集計中")
    put(ws, "A10", "評価・課題")
    put(ws, "A11", "〔商工課〕\n空き店舗は減った。")
    wb.save(path)


def write_year_subcolumns(path) -> None:
    """Each year a merged header over 目標値 / 実績値 / 達成率 sub-columns; a final target column."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "調書"
    put(ws, "A1", "事務事業評価調書")
    put(ws, "A2", "事業名")
    put(ws, "B2", "健康づくり推進")
    put(ws, "A3", "指標名")
    ws.merge_cells("A3:A4")
    put(ws, "B3", "単位")
    ws.merge_cells("B3:B4")
    for i, y in enumerate(["R2年度", "R3年度"]):
        c0 = 3 + i * 3
        ws.cell(3, c0, y)
        ws.merge_cells(start_row=3, start_column=c0, end_row=3, end_column=c0 + 2)
        for j, h in enumerate(["目標値", "実績値", "達成率"]):
            ws.cell(4, c0 + j, h)
    ws.cell(3, 9, "最終目標(R6)")
    ws.merge_cells("I3:I4")
    rows = [["健診受診率", "%", 0.5, 0.45, 0.9, 0.55, 0.56, 1.018, 0.65], ["教室参加者数", "人", 300, 240, 0.8, 320, "－", None, 400]]
    for r, row in enumerate(rows, start=5):
        for c, v in enumerate(row, start=1):
            cell = ws.cell(r, c, v)
            if isinstance(v, float):
                cell.number_format = "0.0%"
    wb.save(path)


def write_kpi_per_sheet(path) -> None:
    """One sheet per KPI: 従前値, yearly columns, 目標値, a 実績値 row, 進捗状況, 今後の取組."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, unit, base, vals, target, prog, nxt in [("KPI1", "件", 120, [130, 150, None], 200, "順調", "〔産業振興課〕\n支援を拡充する。"),
                                                       ("KPI2", "人", 50, [48, 55, 60], 80, "やや遅れ", "〔観光課〕\n誘客を強化する。")]:
        ws = wb.create_sheet(name)
        put(ws, "A1", "KPI進捗管理シート")
        put(ws, "A2", "KPI")
        put(ws, "B2", f"指標{name}")
        put(ws, "A3", "単位")
        put(ws, "B3", unit)
        for c, v in zip("ABCDEF", ["区分", "従前値(H26)", "H27年度", "H28年度", "H29年度", "目標値(R2)"]):
            put(ws, f"{c}5", v)
        put(ws, "A6", "実績値")
        put(ws, "B6", base)
        for c, v in zip("CDE", vals):
            put(ws, f"{c}6", v)
        put(ws, "F6", target)
        put(ws, "A8", "進捗状況")
        put(ws, "B8", prog)
        put(ws, "A9", "今後の取組")
        put(ws, "A10", nxt)
    wb.save(path)


def write_kpis_under_measures(path) -> None:
    """KPI rows stacked under each 施策 heading row, a text block (merged across the row)
    under each KPI, and a labelled 【課題】 row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "施策別KPI"
    put(ws, "A1", "総合計画 施策別成果指標")
    for c, v in zip("ABCDEF", ["成果指標", "単位", "基準値", "R2年度", "R3年度", "目標値"]):
        put(ws, f"{c}3", v)
    put(ws, "A4", "施策1 観光の振興")
    ws.merge_cells("A4:F4")
    put(ws, "A5", "観光客数")
    put(ws, "B5", "千人")
    put(ws, "C5", "520（H30）")
    put(ws, "D5", 310)
    put(ws, "E5", 350)
    put(ws, "F5", 600)
    put(ws, "A6", "感染症の影響で減少した。")
    ws.merge_cells("A6:F6")
    put(ws, "A7", "宿泊者数")
    put(ws, "B7", "人")
    put(ws, "C7", "約41,000")
    put(ws, "D7", 30000)
    put(ws, "E7", "調査中")
    put(ws, "F7", 45000)
    put(ws, "A8", "【課題】")
    put(ws, "B8", "宿泊施設が不足している。")
    ws.merge_cells("B8:F8")
    put(ws, "A9", "施策2 農業の振興")
    ws.merge_cells("A9:F9")
    put(ws, "A10", "新規就農者数")
    put(ws, "B10", "人")
    put(ws, "C10", 3)
    put(ws, "D10", 4)
    put(ws, "E10", "該当なし")
    put(ws, "F10", 5)
    wb.save(path)

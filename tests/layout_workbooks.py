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

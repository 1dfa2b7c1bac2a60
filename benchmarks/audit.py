"""Time `audit_workbook` on generated workbooks; prints a table (formulas, seconds, and
the ratio to a plain openpyxl `read_only` scan of the same book, measured in the same run).

    python benchmarks/audit.py

The contract (issue 12): on 40,000 formulas (products and a running total) the audit costs
at most 3× the read-only scan, and stays linear (each R1C1 pattern is tokenized once; the
running total's cells-read relation is swept, never enumerated).

Cases: 1,000 formulas on one sheet; a 33-sheet report (one sheet per 施策 with row
formulas, plus a summary sheet reading every sheet); 10,000 formulas for scaling;
running totals (=SUM($D$2:D9)), where the cells-read relation grows with rows squared.
Seconds are the best of three runs, including both openpyxl loads.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import openpyxl
import process  # the plain read-only scan, shared with the process-level benchmark (same folder)

from xlsgen.audit import audit_workbook


def one_sheet(path: Path, rows: int) -> Path:
    """`rows` rows: two inputs, four formulas per row (amount, share, rate, check)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "計算"
    ws.append(["項目", "数量", "単価", "金額", "構成比", "前年比", "判定"])
    last = rows + 1
    for r in range(2, last + 1):
        ws.append([f"項目{r}", r, 100 + r, f"=B{r}*C{r}", f"=D{r}/D${last + 1}",
                   f"=IFERROR(D{r}/D{max(r - 1, 2)},0)", f'=IF(E{r}>0,"○","×")'])
    ws.cell(last + 1, 4, f"=SUM(D2:D{last})")
    wb.save(path)
    return path


def running_totals(path: Path, rows: int) -> Path:
    """Amount and running total per row: each total reads every amount above it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["項目", "数量", "単価", "金額", "累計"])  # data from row 2, as the formulas say
    for r in range(2, rows + 2):
        ws.append([f"項目{r}", r, r, f"=B{r}*C{r}", f"=SUM($D$2:D{r})"])
    wb.save(path)
    return path


def report(path: Path, sheets: int = 33, rows: int = 20) -> Path:
    wb = openpyxl.Workbook()
    summary = wb.active
    summary.title = "総括"
    for s in range(1, sheets + 1):
        name = f"{s:02d} 施策"
        ws = wb.create_sheet(name)
        ws.append(["指標", "目標", "実績", "達成率", "評価"])
        for r in range(2, rows + 2):
            ws.append([f"KPI{r}", 100 * r, 90 * r, f"=IFERROR(C{r}/B{r},0)",
                       f'=IF(D{r}>=1,"A",IF(D{r}>=0.8,"B","C"))'])
        ws.cell(rows + 2, 4, f"=AVERAGE(D2:D{rows + 1})")
        summary.cell(s, 1, name)
        summary.cell(s, 2, f"='{name}'!D{rows + 2}")
    wb.save(path)
    return path


def shipped_report(path: Path) -> Path:
    """`xlsgen build` of the shipped 小千谷 workbook: 33 measure sheets, merges, charts."""
    from xlsgen.batch import build_file

    build_file(Path(__file__).resolve().parent.parent / "inputs" / "ojiya_進行管理シート_R3.xlsx", path)
    return path


def timed(path: Path) -> tuple[int, float]:
    best, count = float("inf"), 0
    for _ in range(3):
        start = time.perf_counter()
        count = len(audit_workbook(path).formulas)
        best = min(best, time.perf_counter() - start)
    return count, best


def scan(path: Path) -> float:
    """Best of three plain openpyxl read-only scans touching every cell's value."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        process.scan_main(str(path))
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cases = [
            ("1,000 formulas, 1 sheet", one_sheet(tmp / "a.xlsx", 250)),
            ("33-sheet report (synthetic)", report(tmp / "b.xlsx")),
            ("xlsgen report of 小千谷 R3", shipped_report(tmp / "r.xlsx")),
            ("10,000 formulas, 1 sheet", one_sheet(tmp / "c.xlsx", 2500)),
            ("1,000 running totals", running_totals(tmp / "d.xlsx", 500)),
            ("4,000 running totals", running_totals(tmp / "e.xlsx", 2000)),
            ("40,000 (products + running)", running_totals(tmp / "f.xlsx", 20000)),
        ]
        print(f"{'case':<30}{'formulas':>10}{'audit s':>10}{'scan s':>10}{'ratio':>8}")
        for label, path in cases:
            count, seconds = timed(path)
            base = scan(path)
            print(f"{label:<30}{count:>10}{seconds:>10.2f}{base:>10.2f}{seconds / base:>8.1f}")


if __name__ == "__main__":
    main()

"""Process-level benchmark: whole `xlsgen` processes, as a clerk runs them (interpreter start
and imports counted), next to the same work measured inside one warm process.

    python benchmarks/process.py [--repeat 5] [--rows 260000] [--quick]

Every figure is the best of --repeat runs, taken in rounds (each round runs every command
once, so a ratio's two sides see the same machine load), all in this one run. Ratios and
their goals:

| ratio | goal |
|---|---|
| `rollforward` / `extract` of the 33-sheet 小千谷 book | ≤ 1.5 |
| `audit` of 40,000 formulas / a plain openpyxl `read_only` scan process | ≤ 3 |
| `run --jobs 1` over 330 sheets (10 books) / the I/O floor process | ≤ 1.5 |
| `build` of the book plus a pasted 260,000-row sheet / `build` of the book | ≤ 1.5 |
| `rollforward` of the same / `rollforward` of the book | ≤ 1.5 |

The I/O floor is a process that reads the 10 inputs with python-calamine and writes the
report cells with xlsxwriter (cells collected from xlsgen's own reports beforehand); the
scan is a process that loads the workbook with openpyxl `read_only=True` and touches every
cell. `--floor` and `--scan` run those processes (this file imports only what they need).
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "inputs" / "ojiya_進行管理シート_R3.xlsx"
GOALS = {"roll": 1.5, "audit": 3.0, "run": 1.5, "big build": 1.5, "big roll": 1.5}


# --- the two reference processes ------------------------------------------------------

def floor_main(cells_pickle: str, out_dir: str, inputs: list[str]) -> None:
    """The I/O floor as a process: the report cells from `cells_pickle`, then `io_floor`."""
    with open(cells_pickle, "rb") as fh:
        cells = pickle.load(fh)
    io_floor(inputs, [cells] * len(inputs), out_dir)


def io_floor(inputs, books: list[list[tuple]], out_dir) -> None:
    """calamine reads every input (values and merges of every sheet); xlsxwriter writes
    each book's report cells (sheet, row, col, value or formula, cached result)."""
    import python_calamine
    import xlsxwriter

    for p in inputs:
        wb = python_calamine.CalamineWorkbook.from_path(str(p))
        for name in wb.sheet_names:
            sheet = wb.get_sheet_by_name(name)
            sheet.to_python()
            _ = sheet.merged_cell_ranges
    for i, cells in enumerate(books):
        wb = xlsxwriter.Workbook(os.path.join(str(out_dir), f"floor{i}.xlsx"))
        sheets = {}
        for name, r, c, v, cached in cells:
            ws = sheets.get(name) or sheets.setdefault(name, wb.add_worksheet(name))
            if isinstance(v, str) and v.startswith("="):
                ws.write_formula(r, c, v, None, cached)
            elif isinstance(v, str):
                ws.write_string(r, c, v)
            elif isinstance(v, (int, float)):
                ws.write_number(r, c, v)
            else:
                ws.write(r, c, str(v))
        wb.close()


def scan_main(path: str) -> None:
    """A plain openpyxl read-only scan touching every cell's value."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                _ = c.value
    wb.close()


# --- set-up -----------------------------------------------------------------------------

def xlsgen(*args) -> list[str]:
    return [sys.executable, "-m", "xlsgen", *map(str, args)]


def me(*args) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *map(str, args)]


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    return e


def run_once(cmd: list[str], ok=(0,)) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env())
    wall = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")
    return wall


def collect_cells(report: Path) -> list[tuple]:
    """The cells of one xlsgen report: (sheet, row, col, value-or-formula, cached)."""
    import openpyxl

    wb = openpyxl.load_workbook(report)
    cached = openpyxl.load_workbook(report, data_only=True)
    out = []
    for ws in wb.worksheets:
        cws = cached[ws.title]
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    out.append((ws.title, c.row - 1, c.column - 1, c.value, cws.cell(c.row, c.column).value))
    return out


def formulas_40k(path: Path) -> Path:
    """20,000 rows of amount (=B*C) and running total (=SUM($D$2:Dn)): 40,000 formulas."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from audit import running_totals

    return running_totals(path, 20000)


def best_of(rounds: int, commands: dict[str, tuple[list[str], tuple]]) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(rounds):
        for key, (cmd, ok) in commands.items():
            times[key].append(run_once(cmd, ok))
    return {k: min(v) for k, v in times.items()}


# --- in-process numbers -----------------------------------------------------------------

def in_process(rounds: int, tmp: Path, big: Path, f40k: Path, in10: Path, cells_pickle: Path,
               quick: bool) -> dict[str, float]:
    """The same work timed inside this process after a warm-up (no start, no imports)."""
    sys.path.insert(0, str(ROOT))
    from xlsgen import app

    def timed(fn) -> float:
        fn()  # warm-up
        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        return best

    import json

    out = {}
    out["extract"] = timed(lambda: (tmp / "ip.json").write_text(
        json.dumps(app.extract_book(SOURCE).to_dict(), ensure_ascii=False, indent=2), encoding="utf-8"))
    out["rollforward"] = timed(lambda: app.rollforward_file(SOURCE, "R4", tmp / "ip_R4.xlsx", force=True))
    out["build"] = timed(lambda: app.build_file(SOURCE, tmp / "ip_r.xlsx"))
    out["big build"] = timed(lambda: app.build_file(big, tmp / "ip_big_r.xlsx"))
    out["big rollforward"] = timed(lambda: app.rollforward_file(big, "R4", tmp / "ip_big_R4.xlsx", force=True))
    if not quick:
        out["audit"] = timed(lambda: app.audit_file(f40k))
        out["scan"] = timed(lambda: scan_main(str(f40k)))
        floor_out = tmp / "ip_floor"
        floor_out.mkdir(exist_ok=True)
        inputs = [str(p) for p in sorted(in10.glob("*.xlsx"))]
        out["floor"] = timed(lambda: floor_main(str(cells_pickle), str(floor_out), inputs))
        out["run"] = timed(lambda: app.run_folder(in10, tmp / "ip_out10", 1))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rows", type=int, default=260_000, help="rows of the pasted data sheet")
    ap.add_argument("--quick", action="store_true", help="only the roll and the large-sheet ratios")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.large_book import with_data_sheet

    with tempfile.TemporaryDirectory(prefix="xlsgen-bench-") as tmp:
        tmp = Path(tmp)
        big = with_data_sheet(SOURCE, tmp / "big_進行管理シート_R3.xlsx", args.rows)
        in10 = tmp / "in10"
        in10.mkdir()
        for i in range(10):
            shutil.copy(SOURCE, in10 / f"city{i:03d}_進行管理シート_R3.xlsx")
        cells_pickle = tmp / "cells.pickle"
        f40k = tmp / "f40k.xlsx"
        if not args.quick:
            formulas_40k(f40k)
            run_once(xlsgen("run", in10, "-o", tmp / "out10", "--jobs", "1"))
            with open(cells_pickle, "wb") as fh:
                pickle.dump(collect_cells(next((tmp / "out10").glob("*_報告書.xlsx"))), fh)
            (tmp / "floor").mkdir()
        commands = {
            "extract": (xlsgen("extract", SOURCE, "-o", tmp / "x.json"), (0,)),
            "rollforward": (xlsgen("rollforward", SOURCE, "--to", "R4", "-o", tmp / "r4.xlsx", "--force"), (0,)),
            "build": (xlsgen("build", SOURCE, "-o", tmp / "r.xlsx"), (0,)),
            "big build": (xlsgen("build", big, "-o", tmp / "big_r.xlsx"), (0,)),
            "big rollforward": (xlsgen("rollforward", big, "--to", "R4", "-o", tmp / "big_r4.xlsx", "--force"), (0,)),
        }
        if not args.quick:
            commands.update({
                "audit": (xlsgen("audit", f40k), (0, 1)),
                "scan": (me("--scan", f40k), (0,)),
                "run": (xlsgen("run", in10, "-o", tmp / "out10", "--jobs", "1"), (0,)),
                "floor": (me("--floor", cells_pickle, tmp / "floor", *sorted(in10.glob("*.xlsx"))), (0,)),
            })
        proc = best_of(args.repeat, commands)
        inproc = in_process(args.repeat, tmp, big, f40k, in10, cells_pickle, args.quick)

    def ratio(a: str, b: str, table: dict) -> str:
        return f"{table[a] / table[b]:.2f}" if a in table and b in table else "—"

    rows = [("roll", "`rollforward` / `extract` (33 sheets)", "rollforward", "extract"),
            ("big build", f"`build` with a {args.rows:,}-row sheet / without", "big build", "build"),
            ("big roll", f"`rollforward` with a {args.rows:,}-row sheet / without", "big rollforward",
             "rollforward")]
    if not args.quick:
        rows[1:1] = [("audit", "`audit` 40,000 formulas / openpyxl read_only scan", "audit", "scan"),
                     ("run", "`run --jobs 1` 330 sheets / I/O floor", "run", "floor")]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; best of {args.repeat}, "
          f"one run; load average at the end {os.getloadavg()[0]:.2f}")
    print()
    print("| ratio | process s | process ratio | in-process s | in-process ratio | goal |")
    print("|---|---|---|---|---|---|")
    for key, label, a, b in rows:
        status = "ok" if proc[a] / proc[b] <= GOALS[key] else "MISSED"
        print(f"| {label} | {proc[a]:.2f} / {proc[b]:.2f} | {ratio(a, b, proc)} | "
              f"{inproc.get(a, float('nan')):.2f} / {inproc.get(b, float('nan')):.2f} | "
              f"{ratio(a, b, inproc)} | ≤ {GOALS[key]} ({status}) |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--floor":
        floor_main(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) > 1 and sys.argv[1] == "--scan":
        scan_main(sys.argv[2])
    else:
        main()

"""Batch benchmark: `xlsgen run` on N copies of the shipped 小千谷 workbook against the I/O floor.

For N = 1, 10, 30 copies (33 sheets each) it prints, as medians of --repeat runs:
wall seconds and peak memory (largest process) of `xlsgen run --jobs 1` and `--jobs 2`,
sheets per second, and the I/O floor — python-calamine reading the same inputs plus
xlsxwriter writing the same output cells (collected from xlsgen's outputs before the clock
starts) — with the ratio xlsgen(--jobs 1) / floor and the speed-up of --jobs 2.

    python benchmarks/batch.py [--sizes 1,10,30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import process  # the I/O floor, shared with the process-level benchmark (same folder)

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "inputs" / "ojiya_進行管理シート_R3.xlsx"


def make_inputs(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"city{i:03d}_進行管理シート_R3.xlsx"
        shutil.copy(SOURCE, p)
        paths.append(p)
    return paths


def run_xlsgen(in_dir: Path, out_dir: Path, jobs: int) -> float:
    """Wall seconds of one `xlsgen run` end to end (a fresh process, as a clerk runs it)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    cmd = [sys.executable, "-m", "xlsgen", "run", str(in_dir), "-o", str(out_dir), "--jobs", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"xlsgen run failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return wall


def peak_rss_mb(in_dir: Path, out_dir: Path, jobs: int) -> float:
    """Peak RSS (MB) of the largest process of one run (the CLI or one pool worker),
    from a fresh wrapper process's RUSAGE_CHILDREN, which covers every descendant."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    code = (
        "import resource,subprocess,sys;"
        f"subprocess.run([sys.executable,'-m','xlsgen','run',{str(in_dir)!r},'-o',{str(out_dir)!r},"
        f"'--jobs','{jobs}'],check=True,capture_output=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def collect_cells(out_dir: Path, n: int) -> list[list[tuple]]:
    """The output cells to write for the floor: (sheet, row, col, value-or-formula, cached).

    The N inputs are copies of one workbook, so their reports hold the same cells (but for
    the file name in a caption): the first report is read once and used N times.
    """
    return [process.collect_cells(sorted(out_dir.glob("*_報告書.xlsx"))[0])] * n


def io_floor(inputs: list[Path], books: list[list[tuple]], scratch: Path) -> float:
    """Seconds for calamine to read the inputs plus xlsxwriter to write the output cells
    (`process.io_floor`, the same floor the process benchmark runs)."""
    start = time.perf_counter()
    process.io_floor(inputs, books, scratch)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,10,30")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
          f"medians of {args.repeat} runs; {SOURCE.name} × N (33 sheets each)")
    header = ("N", "sheets", "jobs1 s", "jobs2 s", "sheets/s (j2)", "floor s", "j1/floor",
              "j2 speed-up", "peak MB j1", "peak MB j2")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in sizes:
            in_dir = tmp / f"in{n}"
            inputs = make_inputs(in_dir, n)
            out = tmp / f"out{n}"
            run_xlsgen(in_dir, out, 1)  # warm-up; also produces the cells for the floor
            books = collect_cells(out, n)
            scratch = tmp / f"floor{n}"
            scratch.mkdir()
            j1 = statistics.median(run_xlsgen(in_dir, out, 1) for _ in range(args.repeat))
            j2 = statistics.median(run_xlsgen(in_dir, out, 2) for _ in range(args.repeat))
            floor = statistics.median(io_floor(inputs, books, scratch) for _ in range(args.repeat))
            m1 = peak_rss_mb(in_dir, out, 1)
            m2 = peak_rss_mb(in_dir, out, 2)
            sheets = 33 * n
            rows.append((n, sheets, f"{j1:.2f}", f"{j2:.2f}", f"{sheets / j2:.0f}", f"{floor:.2f}",
                         f"{j1 / floor:.2f}", f"{j1 / j2:.2f}", f"{m1:.0f}", f"{m2:.0f}"))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for line in (header, *rows):
        print("  ".join(str(x).rjust(w) for x, w in zip(line, widths)))


if __name__ == "__main__":
    main()

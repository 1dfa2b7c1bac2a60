"""Layout benchmark: what reading through layout files costs, per shipped workbook.

For each workbook it prints, as medians of --repeat runs in one process: the time to read it
with auto-detection (every layout file tried), with its own layout forced (`--layout-file`),
the grid floor (python-calamine values and merges of every sheet, as `WorkbookGrids` loads
them), the ratio auto / floor, and the time to load and check all layout files from disk
(cache cleared).

    python benchmarks/layouts.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from layout_workbooks import write_kpi_blocks, write_kpi_list  # noqa: E402

from xlsgen.layout import (  # noqa: E402
    builtin_dir,
    find_specs,
    read_book,  # noqa: E402
    spec,
)
from xlsgen.read.grid import WorkbookGrids  # noqa: E402


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def floor(path) -> None:
    with WorkbookGrids(path) as wb:
        for g in wb.grids():
            g.labels()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    write_kpi_blocks(tmp / "kpi_blocks.xlsx")
    write_kpi_list(tmp / "kpi_list.xlsx")
    books = {"ojiya": ROOT / "inputs" / "ojiya_進行管理シート_R3.xlsx",
             "joso": ROOT / "inputs" / "joso_事務事業評価シート_R3.xlsx",
             "nishitokyo": ROOT / "inputs" / "nishitokyo_施策体系KPI.xlsx",
             "kpi_blocks": tmp / "kpi_blocks.xlsx", "kpi_list": tmp / "kpi_list.xlsx"}
    print(f"{'layout':<12}{'auto s':>9}{'forced s':>10}{'floor s':>9}{'auto/floor':>12}")
    for name, path in books.items():
        read_book(path)  # warm: layout files parsed once per process
        auto = median_time(lambda p=path: read_book(p), args.repeat)
        forced = median_time(lambda p=path, n=name: read_book(p, layout_file=builtin_dir() / f"{n}.yaml"),
                             args.repeat)
        base = median_time(lambda p=path: floor(p), args.repeat)
        print(f"{name:<12}{auto:>9.3f}{forced:>10.3f}{base:>9.3f}{auto / base:>12.2f}")

    def cold():
        spec._CACHE.clear()
        find_specs()

    print(f"loading and checking {len(list(builtin_dir().glob('*.yaml')))} layout files (cold): "
          f"{median_time(cold, args.repeat):.3f} s")


if __name__ == "__main__":
    main()

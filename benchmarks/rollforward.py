"""Roll-forward benchmark: `xlsgen rollforward` of the 33-sheet 小千谷 workbook against
`xlsgen extract` of the same book, in-process, in the same run.

Both are timed end to end as the commands run them (extract: read_book + JSON dump; roll:
package read, read_book, plan, apply, atomic write), after one warm-up each, over --repeat
runs; the table shows medians and the ratio roll / extract (target ≤ 1.5).

    python benchmarks/rollforward.py [--repeat 7] [--book PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xlsgen.layout import read_book  # noqa: E402
from xlsgen.rollforward import rollforward_file  # noqa: E402

SOURCE = ROOT / "inputs" / "ojiya_進行管理シート_R3.xlsx"


def extract(book: Path, out: Path) -> None:
    model = read_book(book)
    out.write_text(json.dumps(model.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")


def roll(book: Path, out: Path) -> None:
    rollforward_file(book, "R4", out, force=True)  # the same output each run


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--book", type=Path, default=SOURCE)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        json_out, xlsx_out = Path(d) / "model.json", Path(d) / "rolled.xlsx"
        extract(args.book, json_out)
        roll(args.book, xlsx_out)
        ex, ro = [], []
        for _ in range(args.repeat):  # interleaved so both see the same machine load
            ex.append(timed(extract, args.book, json_out))
            ro.append(timed(roll, args.book, xlsx_out))
    e, r = statistics.median(ex), statistics.median(ro)
    print(f"book: {args.book.name}  repeats: {args.repeat}")
    print(f"{'step':<22}{'median s':>10}{'min s':>10}{'max s':>10}")
    print(f"{'xlsgen extract':<22}{e:>10.3f}{min(ex):>10.3f}{max(ex):>10.3f}")
    print(f"{'xlsgen rollforward':<22}{r:>10.3f}{min(ro):>10.3f}{max(ro):>10.3f}")
    print(f"{'ratio roll / extract':<22}{r / e:>10.2f}{min(ro) / min(ex):>10.2f}   (medians, minima; target ≤ 1.5)")


if __name__ == "__main__":
    main()

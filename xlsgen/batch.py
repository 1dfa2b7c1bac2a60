"""`xlsgen build` for one workbook and `xlsgen run` over a folder (optionally in processes).

Each worker reads, validates, builds and writes one workbook and returns a small dict
(counts and findings as dicts); workbooks never travel between processes.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from xlsgen.atomic import atomic_path
from xlsgen.errors import XlsgenError

SUFFIX = "_報告書"
SUMMARY_NAME = "検証結果.xlsx"
ROLLED = re.compile(r"[HRS]\d+")  # suffix of a rolled edition: <stem>_R4.xlsx


def output_name(src: Path) -> str:
    return f"{src.stem}{SUFFIX}.xlsx"


def build_file(src, out, protect: bool = True, layout: str = "auto",
               layout_file: str | None = None) -> dict:
    """Read `src` (any layout), write its report to `out` atomically; returns counts.
    A read with an error (or nothing read) writes no report: XlsgenError."""
    from xlsgen.measures import report_book
    from xlsgen.read import read_book
    from xlsgen.read.refuse import refuse_failed_read
    from xlsgen.render.report import write_report

    book = refuse_failed_read(read_book(src, layout, layout_file), "報告書")
    with atomic_path(out) as tmp:
        counts = write_report(report_book(book), tmp, protect=protect)
    return {**counts, "layout": book.layout, "book": book}


def process_file(path, out_dir, options: dict | None = None) -> dict:
    """Read, validate and build one workbook. Never raises: a failure is in the result."""
    from xlsgen.validate import validate_book

    options = options or {}
    path, started = Path(path), time.perf_counter()
    result = {"file": str(path), "name": path.name, "output": None, "ok": False, "reason": None,
              "layout": None, "sheets": 0, "kpis": 0, "findings": []}
    try:
        out = Path(out_dir) / output_name(path)
        built = build_file(path, out, protect=options.get("protect", True),
                           layout=options.get("layout", "auto"), layout_file=options.get("layout_file"))
        book = built.pop("book")
        result["findings"] = [f.to_dict() for f in validate_book(book)]
        result.update(built, output=str(out))
        if options.get("rollforward_to") and book.rollforward.get("supported"):
            from xlsgen.rollforward import rollforward_file
            from xlsgen.wareki import FiscalYear

            to = options["rollforward_to"]
            rolled = Path(out_dir) / f"{path.stem}_{FiscalYear.parse(to).short}{path.suffix.lower()}"
            roll = rollforward_file(path, to, rolled, layout=options.get("layout", "auto"),
                                    layout_file=options.get("layout_file"))
            result["rollforward"] = str(rolled)
            result["findings"] += [f.to_dict() for f in roll.findings]
        result["ok"] = True
    except XlsgenError as exc:
        result["reason"] = str(exc)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        result["reason"] = f"予期しない問題が発生しました（{type(exc).__name__}: {exc}）"
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


def discover(in_dir) -> list[Path]:
    """Input workbooks of a folder: *.xlsx, without lock files, hidden files and our own
    outputs (reports, 検証結果.xlsx, and rolled editions `<stem of another input>_R4.xlsx`)."""
    files = sorted(p for p in Path(in_dir).glob("*.xlsx")
                   if not p.name.startswith(("~$", ".")) and not p.stem.endswith(SUFFIX)
                   and p.name != SUMMARY_NAME)
    stems = {p.stem for p in files}
    return [p for p in files
            if not any(p.stem.startswith(s + "_") and ROLLED.fullmatch(p.stem[len(s) + 1:])
                       for s in stems if s != p.stem)]


def run_files(paths: list[Path], out_dir, jobs: int = 1,
              options: dict | None = None) -> Iterator[dict]:
    """Yield one result per input as each finishes (processes when jobs > 1)."""
    if jobs <= 1 or len(paths) <= 1:
        for p in paths:
            yield process_file(p, out_dir, options)
        return
    with ProcessPoolExecutor(max_workers=min(jobs, len(paths))) as pool:
        futures = {pool.submit(process_file, p, out_dir, options): p for p in paths}
        for fut in as_completed(futures):
            try:
                yield fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker died (BrokenProcessPool, …)
                p = futures[fut]
                yield {"file": str(p), "name": p.name, "output": None, "ok": False,
                       "reason": f"{p}: 処理中にワーカーが異常終了しました（{type(exc).__name__}）",
                       "layout": None, "sheets": 0, "kpis": 0, "findings": [], "seconds": 0.0}


def run(in_dir, out_dir, jobs: int | None = None, options: dict | None = None,
        progress: Callable | None = None) -> dict:
    """The yearly batch. Results come back sorted by file name, so outputs do not depend
    on `jobs`. `progress(iterable, length)` wraps the stream of results (a progress bar)."""
    from xlsgen.render.findings import write_findings

    started = time.perf_counter()
    paths = discover(in_dir)
    jobs = jobs or os.cpu_count() or 1
    stream = run_files(paths, out_dir, jobs, options)
    results = []
    if progress:
        with progress(stream, len(paths)) as bar:
            results.extend(bar)
    else:
        results.extend(stream)
    results.sort(key=lambda r: r["name"])
    summary_path = Path(out_dir) / SUMMARY_NAME
    with atomic_path(summary_path) as tmp:
        write_findings(results, tmp, Path(out_dir))
    findings = [f for r in results for f in r["findings"]]
    return {
        "files": len(results), "failed": [r for r in results if not r["ok"]], "results": results,
        "sheets": sum(r["sheets"] for r in results), "kpis": sum(r["kpis"] for r in results),
        "errors": sum(f["severity"] == "error" for f in findings),
        "warnings": sum(f["severity"] == "warning" for f in findings),
        "seconds": round(time.perf_counter() - started, 2), "summary": str(summary_path),
    }

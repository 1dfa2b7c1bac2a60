"""`xlsgen build` for one workbook and `xlsgen run` over a folder (optionally in processes).

Each worker reads, validates, builds and writes one workbook and returns a small dict
(counts and findings as dicts); workbooks never travel between processes.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from xlsgen.atomic import atomic_path, refuse_overwrite
from xlsgen.errors import XlsgenError
from xlsgen.folders import (  # noqa: F401  (re-exported for callers of the batch)
    ROLLED,
    SUFFIX,
    SUMMARY_NAME,
    discover,
    discover_all,
    output_name,
)


def build_file(src, out, protect: bool = True, layout: str = "auto",
               layout_file: str | None = None, progress=None) -> dict:
    """Write the report of `src` (a path, read with any layout, or the Book already read
    from it) to `out` atomically; returns counts. A read with an error (or nothing read)
    writes no report: XlsgenError."""
    from xlsgen.layout import as_book
    from xlsgen.measures import report_book
    from xlsgen.model import Book
    from xlsgen.read.refuse import refuse_failed_read
    from xlsgen.render.report import write_report

    if not isinstance(src, Book):
        refuse_overwrite(out, [src])
    book = refuse_failed_read(as_book(src, layout, layout_file, progress), "報告書")
    src = book.path
    with atomic_path(out, [src]) as tmp:
        counts = write_report(report_book(book), tmp, protect=protect)
    return {**counts, "layout": book.layout, "layout_title": book.layout_title, "book": book}


def process_file(path, out_dir, options: dict | None = None, progress=None,
                 keep_book: bool = False) -> dict:
    """Read, validate and build one workbook (and roll it forward with `rollforward_to`),
    reading it once: the Book travels to each step. Never raises: a failure is in the
    result. With `keep_book` (callers in this process), the result carries the Book as
    `book`; workbooks never travel between processes."""
    from xlsgen.layout import read_book
    from xlsgen.validate import validate_book

    options = options or {}
    path, started = Path(path), time.perf_counter()
    result = {"file": str(path), "name": path.name, "output": None, "ok": False, "reason": None,
              "layout": None, "sheets": 0, "kpis": 0, "findings": []}
    try:
        out = Path(out_dir) / output_name(path)
        refuse_overwrite(out, [path])
        book = read_book(path, options.get("layout", "auto"), options.get("layout_file"), progress)
        if keep_book:
            result["book"] = book
        built = build_file(book, out, protect=options.get("protect", True))
        built.pop("book")
        result["findings"] = [f.to_dict() for f in validate_book(book)]
        result.update(built, output=str(out))
        if options.get("rollforward_to") and book.rollforward.get("supported"):
            from xlsgen.model import Finding, Severity
            from xlsgen.rollforward import rollforward_file
            from xlsgen.wareki import FiscalYear

            to = options["rollforward_to"]
            rolled = Path(out_dir) / f"{path.stem}_{FiscalYear.parse(to).short}{path.suffix.lower()}"
            if rolled.exists() and not options.get("force"):
                result["findings"].append(Finding(
                    Severity.WARNING, "edition-exists",
                    f"翌年度版 {rolled.name} は既にあるため書き出しませんでした（記入済みの内容を上書きしない"
                    "ため）。作り直す場合は --force を付けてください", str(path)).to_dict())
            else:
                roll = rollforward_file(book, to, rolled, force=bool(options.get("force")))
                result["rollforward"] = str(rolled)
                result["findings"] += [f.to_dict() for f in roll.findings]
                result["notes"] = list(roll.notes)
        result["ok"] = True
    except XlsgenError as exc:
        result["reason"] = str(exc)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        result["reason"] = f"予期しない問題が発生しました（{type(exc).__name__}: {exc}）"
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


def _unique_outputs(paths: list[Path]) -> tuple[list[Path], list[dict]]:
    """Inputs whose report names differ (case-insensitively); a later input that would
    overwrite an earlier one's report (`a.xlsx` and `a.xlsm`) fails with a reason."""
    seen: dict[str, Path] = {}
    keep, clashes = [], []
    for p in paths:
        key = output_name(p).casefold()
        if key in seen:
            clashes.append(_failed(p, f"{p}: 報告書の名前（{output_name(p)}）が「{seen[key].name}」の報告書と"
                                      "同じになるため処理しませんでした。どちらかのファイル名を変えてください"))
        else:
            seen[key] = p
            keep.append(p)
    return keep, clashes


def _failed(p: Path, reason: str) -> dict:
    return {"file": str(p), "name": p.name, "output": None, "ok": False, "reason": reason,
            "layout": None, "sheets": 0, "kpis": 0, "findings": [], "seconds": 0.0}


_STOP = {signal.SIGINT, signal.SIGTERM}


def _child(conn, path, out_dir, options) -> None:
    """Worker body: the first SIGTERM/SIGINT raises KeyboardInterrupt so temporaries are
    removed; later ones (Ctrl-C reaches the whole process group, then the parent sends
    SIGTERM) do nothing, so no worker ever prints a traceback. The parent starts the
    worker with both signals blocked; they are let through once the handlers are in."""
    signal.signal(signal.SIGTERM, _interrupt_once)
    signal.signal(signal.SIGINT, _interrupt_once)
    sys.unraisablehook = _unraisable
    try:
        try:
            _set_mask(signal.SIG_UNBLOCK, _STOP)
            conn.send(process_file(path, out_dir, options))
        finally:
            conn.close()
    except (KeyboardInterrupt, BrokenPipeError, EOFError, OSError):
        pass
    finally:
        _STOPPED[0] = True  # from here on a signal does nothing


def _set_mask(how, signals):
    """`signal.pthread_sigmask` where the platform has it (not on Windows); the old mask."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(how, signals)


_STOPPED = [False]


def _interrupt_once(signum, frame):
    """Raise KeyboardInterrupt for the first signal only; the handler stays installed and
    does nothing afterwards (switching to SIG_IGN here would race with a signal already on
    its way, and Python reports that race as an OSError at a random line). A signal that
    comes while a finalizer runs (a ZipFile collected just then) or while an unraisable
    exception is reported would be lost there and printed as "Exception ignored": it is
    taken again a moment later (SIGALRM), outside."""
    if _STOPPED[0]:
        return
    if _REPORTING[0] or (_in_finalizer(frame) and hasattr(signal, "setitimer")):
        _DEFERRED[:] = _DEFERRED or [signum]
        if not _REPORTING[0]:
            _retry_soon()
        return
    _STOPPED[0] = True
    _DEFERRED.clear()
    raise KeyboardInterrupt(signum)


_REPORTING = [False]
_DEFERRED: list = []


def _in_finalizer(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def _retry_soon() -> None:
    signal.signal(signal.SIGALRM, _retry)
    signal.setitimer(signal.ITIMER_REAL, 0.01)


def _retry(_signum, frame) -> None:
    if _DEFERRED and not _STOPPED[0]:
        _interrupt_once(_DEFERRED.pop(), frame)


def _unraisable(unraisable) -> None:
    """A worker's `sys.unraisablehook`: an interrupt raised where Python cannot raise it is
    taken again outside, never printed; anything else is reported as usual, with signals
    held until it is."""
    _REPORTING[0] = True
    try:
        exc = unraisable.exc_value
        if isinstance(exc, KeyboardInterrupt):
            _STOPPED[0] = False
            _DEFERRED[:] = [exc.args[0] if exc.args and isinstance(exc.args[0], int) else signal.SIGINT]
        else:
            sys.__unraisablehook__(unraisable)
    finally:
        _REPORTING[0] = False
    if _DEFERRED and not _STOPPED[0] and hasattr(signal, "setitimer"):
        _retry_soon()


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(signum)


def sigterm_as_interrupt() -> None:
    """Make SIGTERM raise KeyboardInterrupt in this (main) thread, as Ctrl-C does."""
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def run_files(paths: list[Path], out_dir, jobs: int = 1,
              options: dict | None = None) -> Iterator[dict]:
    """Yield one result per input as each finishes. Each workbook is processed in its own
    child process (at most `jobs` at once), so a book that crashes its process (abort,
    segfault, out of memory) is reported failed and the others go on, with jobs=1 too."""
    ctx = _context()
    queue = list(paths)
    running: dict = {}  # sentinel -> (process, connection, path)
    try:
        while queue or running:
            while queue and len(running) < max(jobs, 1):
                p = queue.pop(0)
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(send, p, out_dir, options), daemon=True)
                blocked = _set_mask(signal.SIG_BLOCK, _STOP)  # until the child's handlers are in
                try:
                    proc.start()
                finally:
                    if blocked is not None:
                        _set_mask(signal.SIG_SETMASK, blocked)
                send.close()
                running[proc.sentinel] = (proc, recv, p)
            ready = multiprocessing.connection.wait(
                [r for _, r, _ in running.values()] + list(running))
            for key in [k for k, (proc, recv, _) in running.items()
                        if k in ready or recv in ready]:
                proc, recv, p = running.pop(key)
                result = None
                try:
                    result = recv.recv() if recv.poll() else None
                except (EOFError, OSError):
                    result = None
                recv.close()
                proc.join()
                yield result if result is not None else _failed(p, _crash_reason(p, proc.exitcode))
    finally:
        for proc, _recv, _ in running.values():
            if proc.is_alive():
                proc.terminate()
        for proc, _recv, _ in running.values():
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join()
            recv.close()


def _crash_reason(p: Path, code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"シグナル {-code}"
        how = f"{name}。メモリ不足やブックの異常の可能性があります"
    else:
        how = f"終了コード {code}"
    return f"{p}: 処理中にワーカーが異常終了しました（{how}）。このファイルだけ失敗として扱い、残りは処理しました"


def run(in_dir, out_dir, jobs: int | None = None, options: dict | None = None,
        progress: Callable | None = None) -> dict:
    """The yearly batch. Results come back sorted by file name, so outputs do not depend
    on `jobs`. `progress(iterable, length)` wraps the stream of results (a progress bar)."""
    from xlsgen.atomic import remove_stale_temps
    from xlsgen.render.findings import write_findings

    started = time.perf_counter()
    paths, skipped = discover_all(in_dir)
    jobs = jobs or os.cpu_count() or 1
    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from xlsgen.atomic import output_error

        raise (output_error(Path(out_dir) / SUMMARY_NAME, exc)
               or XlsgenError(f"出力先フォルダを作れません（{exc.strerror}）", str(out_dir))) from None
    remove_stale_temps(out_dir)
    paths, clashes = _unique_outputs(paths)
    _import_for_workers()
    results = []
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        stream = run_files(paths, out_dir, jobs, options)
        if progress:
            with progress(stream, len(paths)) as bar:
                results.extend(bar)
        else:
            results.extend(stream)
        results.extend(clashes)
        results.sort(key=lambda r: r["name"])
        summary_path = Path(out_dir) / SUMMARY_NAME
        with atomic_path(summary_path) as tmp:
            write_findings(results, tmp, Path(out_dir),
                           [(p.name, str(p), reason) for p, reason in skipped])
    except KeyboardInterrupt as exc:
        remove_stale_temps(out_dir)
        signum = exc.args[0] if exc.args and isinstance(exc.args[0], int) else signal.SIGINT
        raise Interrupted(signum, str(out_dir)) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    findings = [f for r in results for f in r["findings"]]
    return {
        "files": len(results), "failed": [r for r in results if not r["ok"]], "results": results,
        "sheets": sum(r["sheets"] for r in results), "kpis": sum(r["kpis"] for r in results),
        "errors": sum(f["severity"] == "error" for f in findings),
        "warnings": sum(f["severity"] == "warning" for f in findings),
        "seconds": round(time.perf_counter() - started, 2), "summary": str(summary_path),
        "skipped": [{"file": str(p), "name": p.name, "reason": reason} for p, reason in skipped],
    }


class Interrupted(XlsgenError):
    """The batch was stopped by Ctrl-C or SIGTERM; workers stopped, temporaries removed."""

    def __init__(self, signum: int, out_dir: str):
        self.exit_code = 128 + int(signum)
        how = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
        super().__init__(f"中断しました（{how}）。処理中のファイルの一時ファイルは削除しました。"
                         "もう一度実行してください", out_dir)


def _import_for_workers() -> None:
    """Import the heavy modules once in the parent, so forked workers start warm (the
    layout engine included: a worker reads through it), and load the shipped layout files
    with their anchors compiled, which every worker would otherwise do again."""
    import xlsgen.kinds  # noqa: F401 - the reader's kind modules, imported on first read
    import xlsgen.layout
    import xlsgen.measures  # noqa: F401
    import xlsgen.read.refuse  # noqa: F401
    import xlsgen.render.report  # noqa: F401
    import xlsgen.validate  # noqa: F401
    from xlsgen.layout.detect import anchors

    try:
        for spec in xlsgen.layout.find_specs().values():
            anchors(spec)
    except XlsgenError:  # a broken layout file is reported with the book that meets it
        pass

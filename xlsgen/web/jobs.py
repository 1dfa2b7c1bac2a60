"""The uploads of `xlsgen serve` and their results, kept for the server's life.

A job is one drop of files. Each file is received into the server's private run folder,
its real inflated size measured (uploads.inflated_size), then processed in a child process
(cancel stops it; a crash cannot take the server down) while its progress (stage, sheet n
of m) is recorded for the page to poll. Results stay until the server stops, until the
clerk removes the job, or until the stored results pass the server's disk budget (then the
oldest finished jobs go first); a job that went says so, and why, instead of a bare 404.

The run folder (mode 0700) records its owner process; a start removes the folders of
owners that are gone (a server killed with kill -9 leaves its uploads behind otherwise).
"""

from __future__ import annotations

import atexit
import collections
import json
import multiprocessing
import os
import re
import secrets
import shutil
import stat
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import xlsgen.web.uploads as uploads
from xlsgen.web.config import process_alive, process_started

RUN_PREFIX = "xlsgen-web-"
OWNER_FILE = "owner.json"
MB = 1024 * 1024
FINISHED = {"done", "failed", "cancelled", "duplicate", "refused"}
STATE_LABELS = {"pending": "送信待ち", "queued": "順番待ち", "checking": "ファイルを確認中",
                "waiting": "順番待ち", "running": "処理中", "done": "完了", "failed": "失敗",
                "cancelled": "中止", "duplicate": "重複のため処理せず", "refused": "受け付けられません"}
STAGES = {"check": "ファイルを確認中", "read": "読み取り中", "report": "読み取り・検証・報告書の作成中",
          "validate": "検証中", "edition": "翌年度版の作成中", "audit": "数式の監査中"}
# where each stage starts and ends on the file's bar (the read fills its part sheet by sheet)
STAGE_SPAN = {"check": (0.0, 0.05), "read": (0.05, 0.5), "report": (0.05, 0.6),
              "validate": (0.5, 0.6), "edition": (0.6, 0.85), "audit": (0.85, 1.0)}
_ID = re.compile(r"[0-9a-f]{16}")


# --- the run folder --------------------------------------------------------------------


def make_run_folder(parent: str | Path | None = None) -> Path:
    """A new private folder for this server run, after removing those of dead runs."""
    parent = Path(parent or tempfile.gettempdir())
    remove_stale_run_folders(parent)
    root = Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{os.getpid()}-", dir=parent))
    root.chmod(0o700)
    (root / OWNER_FILE).write_text(json.dumps({"pid": os.getpid(),
                                               "started": process_started(os.getpid())}))
    return root


def remove_stale_run_folders(parent: Path) -> list[Path]:
    """Remove this user's run folders in `parent` whose owner process is gone."""
    removed = []
    for folder in parent.glob(RUN_PREFIX + "*"):
        try:
            st = folder.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            continue
        if not _owner_alive(folder, st.st_mtime):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _owner_alive(folder: Path, mtime: float) -> bool:
    try:
        owner = json.loads((folder / OWNER_FILE).read_text())
        return process_alive(int(owner["pid"]), owner.get("started"))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    m = re.match(rf"{RUN_PREFIX}(\d+)-", folder.name)
    if m:  # the owner file is written right after the folder: a start in progress
        return process_alive(int(m.group(1))) or time.time() - mtime < 60
    return time.time() - mtime < 24 * 3600  # a folder of an older xlsgen: a day's grace


# --- the child process -----------------------------------------------------------------


def progress_event(args: tuple, kwargs: dict) -> dict:
    """What a progress callback said, whichever way it said it: `(stage)` (a stage
    starts), `(done, total[, sheet])` (sheet `done` of `total` read), keywords
    stage/done/total/sheet, or one dict of them."""
    if len(args) == 1 and isinstance(args[0], dict):
        kwargs, args = {**args[0], **kwargs}, ()
    stage, numbers, sheet = kwargs.get("stage"), [], kwargs.get("sheet")
    for a in args:
        if isinstance(a, bool):
            continue
        if isinstance(a, int):
            numbers.append(a)
        elif isinstance(a, str) and stage is None and a in STAGES:
            stage = a
        elif isinstance(a, str):
            sheet = a
    done = kwargs.get("done", numbers[0] if len(numbers) > 0 else None)
    total = kwargs.get("total", numbers[1] if len(numbers) > 1 else None)
    if stage is None:
        stage = "read" if total else None
    return describe_progress(stage, done, total, sheet)


def describe_progress(stage, done=None, total=None, sheet=None) -> dict:
    """The page's words and bar position for a stage (and sheet n of m while reading)."""
    words = STAGES.get(stage, "処理中")
    lo, hi = STAGE_SPAN.get(stage, (0.05, 0.95))
    fraction = lo
    if isinstance(done, int) and isinstance(total, int) and total > 0:
        done = max(0, min(done, total))
        where = f"：{sheet}" if isinstance(sheet, str) and sheet and done < total else ""
        words = (f"{words}（シート {done} / {total}{where}）" if done < total or stage != "read"
                 else f"読み取り完了（シート {total}）・報告書の作成中")
        fraction = lo + (hi - lo) * done / total
    return {"stage": stage, "text": words, "done": done, "total": total,
            "fraction": round(fraction, 3)}


def run_book(conn, src: str, folder: str, name: str, year) -> None:
    """Child process body: process one uploaded book, sending progress and the result."""
    import inspect

    from xlsgen import app as A

    def progress(*args, **kwargs):
        try:
            conn.send(("progress", progress_event(args, kwargs)))
        except (OSError, ValueError):
            pass

    # stages as they start (on_stage), and sheet n of m while the book is read (progress)
    accepts = inspect.signature(A.process_book).parameters
    extra = {key: progress for key in ("on_stage", "progress") if key in accepts}
    try:
        result = A.process_book(src, folder, name, rollforward_to=year, **extra)
        conn.send(("result", result))
    finally:
        conn.close()


_CONTEXT = None
# what processing a book imports, loaded once in the forkserver (a missing name is skipped)
PRELOAD = ["xlsgen.web.jobs", "xlsgen.app", "xlsgen.batch", "xlsgen.clerk", "xlsgen.layout",
           "xlsgen.validate", "xlsgen.rollforward", "xlsgen.audit", "xlsgen.audit.rules",
           "xlsgen.read.refuse", "xlsgen.render.report", "xlsgen.render.edition",
           "xlsgen.render.audit_report", "xlsgen.render.findings", "xlsgen.package.apply",
           "xlsgen.package.listsheet", "xlsgen.package.notes"]


def mp_context():
    """forkserver where there is one (a clean process to fork from, whatever threads the
    server runs), spawn elsewhere; the forkserver has xlsgen's modules loaded already."""
    global _CONTEXT
    if _CONTEXT is None:
        methods = multiprocessing.get_all_start_methods()
        if "forkserver" in methods:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
        else:
            ctx = multiprocessing.get_context("spawn")
        _CONTEXT = ctx
    return _CONTEXT


def warm_up() -> None:
    """Start the forkserver (and load its modules) ahead of the first book."""
    if mp_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        try:
            forkserver.ensure_running()
        except OSError:
            pass  # the first book starts it instead


# --- jobs ------------------------------------------------------------------------------


@dataclass
class FileEntry:
    index: int
    name: str
    size: int = 0
    state: str = "pending"
    message: str | None = None
    progress: dict = field(default_factory=dict)
    result: dict | None = None
    folder: Path | None = None
    src: Path | None = None
    year: str | None = None
    sha256: str | None = None
    inflated: int = 0
    stored: int = 0
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float | None = None
    finished: float | None = None


@dataclass
class Job:
    id: str
    owner: str
    created: float
    folder: Path
    files: list[FileEntry] = field(default_factory=list)
    status: str = "active"  # active | deleted | expired
    reason: str | None = None

    @property
    def busy(self) -> bool:
        return any(f.state not in FINISHED for f in self.files if f.state != "pending")


class Gone(Exception):
    """A job that existed in this run but was removed; `str()` says why (Japanese)."""


def owned_item(items: dict, owner: str, item_id: str, removed: str):
    """`items[item_id]` (a job or a round) when `owner` has it; KeyError when there is none
    (or it is someone else's), Gone (its reason, else `removed`) when it was removed."""
    item = items.get(item_id) if _ID.fullmatch(item_id or "") else None
    if item is None or item.owner != owner:
        raise KeyError(item_id)
    if item.status != "active":
        raise Gone(item.reason or removed)
    return item


class JobStore:
    """Every job of this server run, the queue of files to process and the budgets."""

    def __init__(self, parent: str | Path | None = None, *, workers: int = 1,
                 max_file_mb: float = 50, upload_inflated_mb: float = 200,
                 server_inflated_mb: float = 400, stored_mb: float = 2048):
        self.root = make_run_folder(parent)
        self.jobs: dict[str, Job] = {}
        self.queue: collections.deque[tuple[str, int]] = collections.deque()
        self.cv = threading.Condition()
        self.workers = max(1, workers)
        self.threads: list[threading.Thread] = []
        self.max_file = int(max_file_mb * MB)
        self.upload_inflated = int(upload_inflated_mb * MB)
        self.server_inflated = int(max(server_inflated_mb, upload_inflated_mb) * MB)
        self.stored_budget = int(stored_mb * MB)
        self.in_flight = 0  # inflated bytes of the books being processed now
        self.stopping = False
        self.started = time.time()
        self.extra_stored = lambda: 0  # bytes kept by the rounds of the 照会と回収 tab (rounds.py)
        atexit.register(shutil.rmtree, self.root, True)  # also when the server is not stopped
        threading.Thread(target=warm_up, daemon=True).start()  # the first book need not wait

    # --- jobs ----------------------------------------------------------------------

    def new_job(self, owner: str, declared: list[tuple[str, int]] = ()) -> Job:
        """A job, with the files the page is about to send declared (name, size): a file
        too large is refused and the same file twice in one drop is noticed at once."""
        with self.cv:
            job_id = secrets.token_hex(8)
            folder = self.root / f"job-{job_id}"
            folder.mkdir(mode=0o700)
            job = self.jobs[job_id] = Job(job_id, owner, time.time(), folder)
            seen: dict[tuple[str, int], str] = {}
            for name, size in declared:
                entry = self._add_entry(job, name, size)
                if size > self.max_file:
                    self._finish(entry, "refused", self.too_large_text())
                elif (name, size) in seen:
                    self._finish(entry, "duplicate", f"同じファイル（{seen[(name, size)]}）がこの回に"
                                                     "すでにあります。1回だけ処理します")
                else:
                    seen[(name, size)] = name
            return job

    def _add_entry(self, job: Job, name: str, size: int = 0) -> FileEntry:
        entry = FileEntry(index=len(job.files), name=name, size=size)
        job.files.append(entry)
        return entry

    def too_large_text(self) -> str:
        return (f"ファイルが大きすぎます（1ファイル {round(self.max_file / MB, 2):g} MB まで）。"
                "使っていないシートを削除して保存し直すか、ブックを分けてください")

    def get(self, owner: str, job_id: str) -> Job:
        """The owner's job; KeyError when there is none, Gone when it was removed."""
        return owned_item(self.jobs, owner, job_id, "この結果は削除されました")

    def list(self, owner: str) -> list[Job]:
        """The owner's jobs, newest first; those the clerk removed are left out, those that
        expired stay listed (the page says why their results went)."""
        with self.cv:
            return sorted((j for j in self.jobs.values()
                           if j.owner == owner and j.files and j.status != "deleted"),
                          key=lambda j: j.created, reverse=True)

    # --- receiving -----------------------------------------------------------------

    def receive(self, job: Job, index: int | None, name: str, save, year: str | None) -> FileEntry:
        """Take one uploaded file: `save(path)` writes it. Declared entries (`index`) must
        be waiting for their bytes; an undeclared upload is appended."""
        with self.cv:
            if index is None:
                entry = self._add_entry(job, name)
            elif 0 <= index < len(job.files) and job.files[index].state == "pending":
                entry = job.files[index]
            else:
                raise KeyError(index)
            entry.state, entry.name = "queued", entry.name or name
            entry.folder = job.folder / str(entry.index)
        entry.folder.mkdir(mode=0o700, exist_ok=True)
        suffix = Path(name).suffix.lower()
        suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""
        entry.src = entry.folder / f"input{suffix}"
        save(entry.src)
        entry.size, entry.year = entry.src.stat().st_size, year
        with self.cv:
            if job.status != "active":
                self._discard(entry)
                raise Gone(job.reason or "この結果は削除されました")
            if entry.size > self.max_file:
                self._finish(entry, "refused", self.too_large_text())
                return entry
            entry.sha256 = uploads.digest(entry.src)
            twin = next((f for f in job.files if f is not entry and f.sha256 == entry.sha256
                         and f.state != "duplicate"), None)
            if twin is not None:
                self._finish(entry, "duplicate", f"同じ内容のファイル（{twin.name}）がこの回にすでにあります。"
                                                 "1回だけ処理します")
                return entry
            if self._stored_bytes() + self._pending_bytes() > self.stored_budget:
                self._expire_oldest(keep=job)
                if self._stored_bytes() + self._pending_bytes() > self.stored_budget:
                    self._finish(entry, "refused", "サーバーに保存できる量の上限に達しています。"
                                 "不要になった結果を「一覧から削除」してから、もう一度送ってください")
                    return entry
            entry.progress = describe_progress("check") | {"text": "順番待ち", "fraction": 0}
            self.queue.append((job.id, entry.index))
            self._start_workers()
            self.cv.notify_all()
        return entry

    # --- cancel and remove ---------------------------------------------------------

    def cancel(self, job: Job, index: int | None = None) -> int:
        """Cancel the job's files that are not finished (or only file `index`)."""
        n = 0
        with self.cv:
            for entry in job.files:
                if (index is None or entry.index == index) and entry.state not in FINISHED:
                    entry.cancel.set()
                    if entry.state in ("pending", "queued"):
                        self._finish(entry, "cancelled", "中止しました（処理していません）")
                    n += 1
            self.cv.notify_all()
        return n

    def delete(self, job: Job, reason: str = "この結果は「一覧から削除」で削除されました") -> None:
        """Remove a job: its running files are stopped first, then its folder goes."""
        with self.cv:
            job.status, job.reason = "deleted", reason
            for entry in job.files:
                entry.cancel.set()
            self.cv.notify_all()
        if not any(f.state in ("checking", "waiting", "running") for f in job.files):
            shutil.rmtree(job.folder, ignore_errors=True)
        # else the worker removes the folder when the child has stopped

    def _expire_oldest(self, keep: Job) -> None:
        for job in sorted(self.jobs.values(), key=lambda j: j.created):
            if self._stored_bytes() + self._pending_bytes() <= self.stored_budget:
                return
            if job is keep or job.status != "active" or job.busy:
                continue
            job.status = "expired"
            job.reason = (f"サーバーに保存できる量の上限（{round(self.stored_budget / MB, 2):g} MB）を超えたため、"
                          "古い結果から削除しました。必要ならもう一度ファイルを送ってください")
            shutil.rmtree(job.folder, ignore_errors=True)

    def _stored_bytes(self) -> int:
        return sum(f.stored for j in self.jobs.values() if j.status == "active" for f in j.files) \
            + self.extra_stored()

    def _pending_bytes(self) -> int:
        return sum(f.size for j in self.jobs.values() if j.status == "active" for f in j.files
                   if f.state in ("queued", "checking", "waiting", "running"))

    def _finish(self, entry: FileEntry, state: str, message: str | None = None) -> None:
        entry.state, entry.message, entry.finished = state, message, time.time()
        if state != "done":
            entry.progress = {}
        if entry.src is not None:
            entry.src.unlink(missing_ok=True)  # an upload is not kept once processed

    def _discard(self, entry: FileEntry) -> None:
        if entry.folder is not None:
            shutil.rmtree(entry.folder, ignore_errors=True)

    # --- workers -------------------------------------------------------------------

    def _start_workers(self) -> None:
        while len(self.threads) < self.workers:
            t = threading.Thread(target=self._work, name="xlsgen-worker", daemon=True)
            self.threads.append(t)
            t.start()

    def _next(self) -> tuple[Job, FileEntry] | None:
        with self.cv:
            while not self.stopping:
                while self.queue:
                    job_id, index = self.queue.popleft()
                    job = self.jobs.get(job_id)
                    entry = job.files[index] if job else None
                    if entry is None or entry.state != "queued":
                        continue
                    if job.status != "active" or entry.cancel.is_set():
                        self._finish(entry, "cancelled", "中止しました（処理していません）")
                        continue
                    entry.state = "checking"
                    entry.progress = describe_progress("check")
                    return job, entry
                self.cv.wait()
        return None

    def _work(self) -> None:
        while True:
            item = self._next()
            if item is None:
                return
            job, entry = item
            try:
                self._process(job, entry)
            except Exception as exc:  # noqa: BLE001 - a worker never dies with a job
                with self.cv:
                    self._finish(entry, "failed", f"{entry.name}: 予期しない問題が発生しました"
                                                  f"（{type(exc).__name__}）")
            finally:
                with self.cv:
                    if job.status != "active":
                        shutil.rmtree(job.folder, ignore_errors=True)
                    self.cv.notify_all()

    def _process(self, job: Job, entry: FileEntry) -> None:
        try:
            entry.inflated = uploads.inflated_size(entry.src, self.upload_inflated, entry.cancel.is_set)
        except uploads.UploadRefused as exc:
            with self.cv:
                self._finish(entry, "refused", f"{entry.name}: {exc}")
            return
        except uploads.Cancelled:
            with self.cv:
                self._finish(entry, "cancelled", "中止しました（処理していません）")
            return
        with self.cv:  # the server's budget: books processed at once inflate to at most this
            while self.in_flight and self.in_flight + entry.inflated > self.server_inflated:
                entry.state = "waiting"
                entry.progress = {**describe_progress("check"),
                                  "text": "順番待ち（ほかのブックの処理が終わるのを待っています）"}
                if entry.cancel.is_set() or self.stopping:
                    self._finish(entry, "cancelled", "中止しました（処理していません）")
                    return
                self.cv.wait(0.5)
            if entry.cancel.is_set():
                self._finish(entry, "cancelled", "中止しました（処理していません）")
                return
            self.in_flight += entry.inflated
            entry.state, entry.started = "running", time.time()
            entry.progress = describe_progress("report")
        try:
            result, crash = self._run_child(entry)
        finally:
            with self.cv:
                self.in_flight -= entry.inflated
                self.cv.notify_all()
        with self.cv:
            if entry.cancel.is_set():
                self._discard_outputs(entry)
                self._finish(entry, "cancelled", "中止しました。途中までの結果は消去しました")
            elif result is None:
                self._discard_outputs(entry)
                self._finish(entry, "failed", f"{entry.name}: 処理の途中でプログラムが止まりました（{crash}）。"
                                              "ブックが大きすぎるか壊れている可能性があります")
            else:
                entry.result = result
                entry.stored = sum(Path(p).stat().st_size for p in result.get("outputs", {}).values()
                                   if Path(p).exists())
                self._finish(entry, "done" if result.get("ok") else "failed", result.get("reason"))
                entry.progress = {**describe_progress("audit", 1, 1), "text": "完了", "fraction": 1.0}
                self._expire_oldest(keep=job)

    def _discard_outputs(self, entry: FileEntry) -> None:
        if entry.folder is not None:
            for p in entry.folder.iterdir() if entry.folder.exists() else ():
                if p.is_file():
                    p.unlink(missing_ok=True)

    def _run_child(self, entry: FileEntry) -> tuple[dict | None, str]:
        ctx = mp_context()
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=run_book, args=(send, str(entry.src), str(entry.folder),
                                                  entry.name, entry.year), daemon=True)
        proc.start()
        send.close()
        result = None
        try:
            while True:
                if entry.cancel.is_set() or self.stopping:
                    break
                if recv.poll(0.2):
                    try:
                        kind, payload = recv.recv()
                    except (EOFError, OSError):
                        break
                    if kind == "progress":
                        entry.progress = payload
                    elif kind == "result":
                        result = payload
                        break
                elif not proc.is_alive():
                    if not recv.poll(0.2):
                        break
        finally:
            recv.close()
            if proc.is_alive() and result is None:
                proc.terminate()
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        code = proc.exitcode
        crash = f"シグナル {-code}" if code is not None and code < 0 else f"終了コード {code}"
        return result, crash

    # --- the end -------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the workers (running children are terminated) and remove the run folder."""
        with self.cv:
            self.stopping = True
            for job in self.jobs.values():
                for entry in job.files:
                    entry.cancel.set()
            self.cv.notify_all()
        for t in self.threads:
            t.join(timeout=15)
        shutil.rmtree(self.root, ignore_errors=True)

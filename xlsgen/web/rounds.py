"""The 照会と回収 tab of `xlsgen serve`: one round of the yearly round trip per master.

A round starts with the book the clerk uploads as the master (or last year's edition). It
is read (`app.inquiry_book`) to offer the editions it can be asked for; the clerk's choice
distributes it (`app.inquiry_forms`: the forms and the master to collect into, as one zip).
Then returned forms are dropped as they arrive, one or many at a time, in any order, again
after a correction: each is measured like every upload (uploads.inflated_size), the same
bytes twice are noticed, and after every drop all the forms received so far are collected
again into the master (`app.collect_round`: the merged master, its status table, and the
diff against last year's edition — or against the master when it was not rolled here).
Re-collecting the same forms gives the same bytes, so the latest collection is the answer.

Every file (master, forms, outputs) stays in the round's folder inside the server's run
folder for the server's life, until the clerk removes the round; rounds count against the
same disk budget as the uploads of the other tab. The work runs in child processes (as the
books of the other tab: a crash or a cancel stops only that step) one at a time, within the
server's budget for books processed at once.
"""

from __future__ import annotations

import collections
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import xlsgen.web.uploads as uploads
from xlsgen.web.jobs import Gone, JobStore, mp_context, owned_item

# what each step is doing, in the clerk's words, and where it sits on the step's bar
STAGES = {"check": ("ファイルを確認中", 0.0, 0.1), "wait": ("順番待ち（ほかの処理が終わるのを待っています）", 0.0, 0.1),
          "read": ("ブックを読み取り中", 0.1, 0.8), "roster": ("各課の入力欄を確認中", 0.8, 0.95),
          "distribute": ("翌年度版と各課の照会様式を作成中", 0.1, 0.9), "zip": ("zip にまとめています", 0.9, 0.98),
          "collect": ("様式を確認してマスターに回収中", 0.1, 0.7), "diff": ("変更点を作成中", 0.7, 0.98)}
STATE_LABELS = {"queued": "順番待ち", "running": "処理中", "done": "完了", "failed": "失敗", "cancelled": "中止"}
FORM_STATES = {"pending": "送信待ち", "queued": "確認待ち", "checking": "確認中", "received": "受け取り済み",
               "refused": "受け付けられません", "duplicate": "重複のため取り込まず", "cancelled": "中止"}
BUSY = ("queued", "running")
MAX_FORMS = 500          # forms a round keeps (a city has a few dozen departments)
MAX_DIFF_ROWS = 3000     # changes listed on the page (the workbook lists them all)
STEP_FUNCTIONS = {"master": "inquiry_book", "distribute": "inquiry_forms", "collect": "collect_round"}


def describe(stage: str | None) -> dict:
    words, lo, _hi = STAGES.get(stage or "", ("処理中", 0.05, 0.95))
    return {"stage": stage, "text": words, "fraction": lo}


def stamp(t: float | None) -> str:
    return f"{datetime.fromtimestamp(t):%m月%d日 %H:%M}" if t else ""


@dataclass
class Step:
    """One piece of a round's work (reading the master, distributing, collecting), run in
    a child process; `result` is what the app function returned."""

    kind: str
    args: dict = field(default_factory=dict)
    state: str = "queued"
    progress: dict = field(default_factory=dict)
    message: str | None = None
    result: dict | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    folder: Path | None = None
    forms: int = 0  # collect: how many forms it took
    finished: float | None = None


@dataclass
class FormFile:
    index: int
    name: str
    size: int = 0
    state: str = "pending"
    message: str | None = None
    shown: str = ""      # the name the collection shows (the clerk's, numbered when repeated)
    path: Path | None = None
    sha256: str | None = None
    received: float | None = None
    drop: int = 0
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass
class Round:
    id: str
    owner: str
    created: float
    folder: Path
    master_name: str
    master_path: Path | None = None
    master_size: int = 0
    master_inflated: int = 0
    status: str = "active"  # active | deleted
    reason: str | None = None
    read: Step | None = None
    distribution: Step | None = None
    collection: Step | None = None
    forms: list[FormFile] = field(default_factory=list)
    drops: int = 0
    collections: int = 0
    again: bool = False  # forms arrived while a collection ran: collect once more after it
    working: bool = False  # a worker is on this round (one step of a round at a time)
    # the book the result is compared with, when the clerk sends one (last year's edition)
    base_name: str | None = None
    base_path: Path | None = None
    base_size: int = 0
    base_state: str | None = None  # queued | checking | ready | refused
    base_message: str | None = None

    @property
    def busy(self) -> bool:
        return any(s is not None and s.state in BUSY for s in (self.read, self.distribution, self.collection)) \
            or any(f.state in ("queued", "checking") for f in self.forms) \
            or self.base_state in ("queued", "checking")

    @property
    def master_ready(self) -> bool:
        return self.read is not None and self.read.state == "done"

    def received(self) -> list[FormFile]:
        return [f for f in self.forms if f.state == "received"]

    def collect_into(self) -> tuple[Path, str, Path | None, str | None]:
        """The master to collect into (as the clerk knows it) and the book to compare with:
        the one the clerk sent for that, else the book rolled forward here, else none (the
        master itself)."""
        master, name, base, base_name = self.master_path, self.master_name, None, None
        d = self.distribution
        if d is not None and d.state == "done" and d.result:
            master = Path(d.result["outputs"]["master"])
            if d.result.get("rolled"):
                name, base, base_name = d.result["master_name"], self.master_path, self.master_name
        if self.base_state == "ready":
            base, base_name = self.base_path, self.base_name
        return master, name, base, base_name


# --- the child process -----------------------------------------------------------------


def run_step(conn, function: str, kwargs: dict) -> None:
    """Child process body: one app function of the round trip, telling its stages."""
    from xlsgen import app as A

    def stage(name):
        try:
            conn.send(("progress", describe(name)))
        except (OSError, ValueError):
            pass

    try:
        conn.send(("result", getattr(A, function)(**kwargs, on_stage=stage)))
    finally:
        conn.close()


class RoundStore:
    """Every round of this server run; shares the run folder, the limits, the lock and the
    disk budget of the books' JobStore."""

    def __init__(self, jobs: JobStore):
        self.jobs = jobs
        self.cv = jobs.cv
        self.rounds: dict[str, Round] = {}
        self.queue: collections.deque[tuple[str, str, int | None]] = collections.deque()
        self.threads: list[threading.Thread] = []
        jobs.extra_stored = self.stored_bytes  # one disk budget for both tabs

    # --- rounds --------------------------------------------------------------------

    def get(self, owner: str, round_id: str) -> Round:
        return owned_item(self.rounds, owner, round_id, "この照会は削除されました")

    def list(self, owner: str) -> list[Round]:
        with self.cv:
            return sorted((r for r in self.rounds.values() if r.owner == owner and r.status == "active"),
                          key=lambda r: r.created, reverse=True)

    def new_round(self, owner: str, name: str, save) -> Round:
        """A round whose master is the uploaded file (`save(path)` writes it); its reading
        is queued. Raises Refused with the reason when the file cannot be taken."""
        with self.cv:
            rid = secrets.token_hex(8)
            folder = self.jobs.root / f"round-{rid}"
            folder.mkdir(mode=0o700)
            rnd = self.rounds[rid] = Round(rid, owner, time.time(), folder, name)
        (folder / "master").mkdir(mode=0o700)
        rnd.master_path = folder / "master" / f"input{_suffix(name)}"
        try:
            save(rnd.master_path)
        except BaseException:
            with self.cv:
                self._remove(rnd, "ブックを受け取れませんでした")
            raise
        rnd.master_size = rnd.master_path.stat().st_size
        with self.cv:
            why = self._too_much(rnd.master_size, rnd.master_path)
            if why:
                self._remove(rnd, why)
                raise Refused(why)
            rnd.read = Step("master", progress=describe("check"))
            self._enqueue(rnd, "master")
        return rnd

    def delete(self, rnd: Round, reason: str = "この照会は「この照会を削除」で削除されました") -> None:
        with self.cv:
            self._remove(rnd, reason)

    def _remove(self, rnd: Round, reason: str) -> None:
        rnd.status, rnd.reason = "deleted", reason
        self.cancel(rnd)
        if not rnd.busy:
            shutil.rmtree(rnd.folder, ignore_errors=True)
        # else the worker removes the folder when the running step's child has stopped

    def cancel(self, rnd: Round) -> None:
        """Stop the round's running or queued step (and the forms still being checked)."""
        with self.cv:
            for step in (rnd.read, rnd.distribution, rnd.collection):
                if step is not None and step.state in BUSY:
                    step.cancel.set()
                    if step.state == "queued":
                        self._end(step, "cancelled", "中止しました（処理していません）")
            if rnd.base_state == "queued":
                self._base_refused(rnd, "中止しました（比べるブックは使いません）")
            for f in rnd.forms:
                if f.state in ("pending", "queued", "checking"):
                    f.cancel.set()
                    if f.state != "checking":
                        self._form_end(f, "cancelled", "中止しました（取り込んでいません）")
            self.cv.notify_all()

    # --- the clerk's steps ---------------------------------------------------------

    def distribute(self, rnd: Round, edition: int | None, due: str | None, contact: str | None) -> None:
        """Queue the distribution for `edition` (one the master's reading offered)."""
        with self.cv:
            if not rnd.master_ready:
                raise Refused("ブックの読み取りが終わってから押してください")
            if rnd.distribution is not None and rnd.distribution.state in BUSY:
                raise Refused("照会様式を作成中です。終わるまでお待ちください")
            if rnd.distribution is not None and rnd.distribution.state == "done" and rnd.received():
                raise Refused("戻った様式をすでに受け取っているため、この照会の様式は作り直せません。"
                              "別の年度版で照会するときは、新しい照会を始めてください")
            offered = {c["edition"]: c for c in rnd.read.result.get("choices", [])}
            if edition not in offered:
                raise Refused("この年度版の照会はできません。表示されているボタンから選んでください")
            roll = offered[edition]["roll"]
            rnd.distribution = Step("distribute", {"to": edition if roll else None, "due": due,
                                                   "contact": contact, "edition": edition},
                                    progress=describe("wait"))
            self._enqueue(rnd, "distribute")

    def declare_forms(self, rnd: Round, declared: list[tuple[str, int]]) -> list[FormFile]:
        """Forms the page is about to send (one drop): too large ones refused at once, the
        same name and size twice in the drop noticed."""
        with self.cv:
            if not rnd.master_ready:
                raise Refused("回収先のブックの読み取りが終わってから様式を送ってください")
            if len(rnd.forms) + len(declared) > MAX_FORMS:
                raise Refused(f"1つの照会で受け取れる様式は {MAX_FORMS} ファイルまでです")
            rnd.drops += 1
            seen: dict[tuple[str, int], str] = {}
            out = []
            for name, size in declared:
                f = FormFile(len(rnd.forms), name, size, drop=rnd.drops)
                rnd.forms.append(f)
                out.append(f)
                if size > self.jobs.max_file:
                    self._form_end(f, "refused", self.jobs.too_large_text())
                elif (name, size) in seen:
                    self._form_end(f, "duplicate", f"同じファイル（{name}）がこの回にすでにあります。1回だけ取り込みます")
                else:
                    seen[(name, size)] = name
            return out

    def receive_form(self, rnd: Round, index: int | None, name: str, save) -> FormFile:
        """One returned form's bytes (`save(path)` writes them); checked, then collected."""
        with self.cv:
            if not rnd.master_ready:
                raise Refused("回収先のブックの読み取りが終わってから様式を送ってください")
            if index is None:
                if len(rnd.forms) >= MAX_FORMS:
                    raise Refused(f"1つの照会で受け取れる様式は {MAX_FORMS} ファイルまでです")
                rnd.drops += 1
                f = FormFile(len(rnd.forms), name, drop=rnd.drops)
                rnd.forms.append(f)
            elif 0 <= index < len(rnd.forms) and rnd.forms[index].state == "pending":
                f = rnd.forms[index]
            else:
                raise KeyError(index)
            f.state = "queued"
        folder = rnd.folder / "forms" / str(f.index)
        folder.mkdir(parents=True, mode=0o700, exist_ok=True)
        f.path = folder / f"input{_suffix(name)}"
        try:
            save(f.path)
        except BaseException:
            with self.cv:
                self._form_end(f, "refused", "ファイルを受け取れませんでした。もう一度送ってください")
            raise
        f.size, f.received = f.path.stat().st_size, time.time()
        with self.cv:
            if rnd.status != "active":
                shutil.rmtree(folder, ignore_errors=True)
                raise Gone(rnd.reason or "この照会は削除されました")
            why = self._too_much(f.size, f.path)
            if why:
                self._form_end(f, "refused", why)
                return f
            self._enqueue(rnd, "check", f.index)
        return f

    def set_base(self, rnd: Round, name: str, save) -> None:
        """The book to compare the collected master with (last year's edition): measured
        like every upload, then every form is collected again with the new comparison."""
        with self.cv:
            if not rnd.master_ready:
                raise Refused("回収先のブックの読み取りが終わってから送ってください")
            if rnd.base_state in ("queued", "checking"):
                raise Refused("比べるブックを確認中です。終わるまでお待ちください")
        folder = rnd.folder / f"base-{secrets.token_hex(4)}"
        folder.mkdir(mode=0o700)
        path = folder / f"input{_suffix(name)}"
        save(path)
        with self.cv:
            if rnd.status != "active":
                shutil.rmtree(folder, ignore_errors=True)
                raise Gone(rnd.reason or "この照会は削除されました")
            old = rnd.base_path
            rnd.base_name, rnd.base_path, rnd.base_size = name, path, path.stat().st_size
            rnd.base_state, rnd.base_message = "queued", None
            if old is not None:
                shutil.rmtree(old.parent, ignore_errors=True)
            why = self._too_much(rnd.base_size, path)
            if why:
                self._base_refused(rnd, why)
                return
            self._enqueue(rnd, "base")

    def _base_refused(self, rnd: Round, why: str) -> None:
        rnd.base_state, rnd.base_message = "refused", why
        if rnd.base_path is not None:
            shutil.rmtree(rnd.base_path.parent, ignore_errors=True)
        rnd.base_path, rnd.base_size = None, 0

    def recollect(self, rnd: Round) -> None:
        """Collect every received form again (after a cancel or a failure)."""
        with self.cv:
            if not rnd.received():
                raise Refused("まだ様式を受け取っていません")
            self._enqueue(rnd, "collect")

    # --- budgets -------------------------------------------------------------------

    def stored_bytes(self) -> int:
        total = 0
        for rnd in list(self.rounds.values()):
            if rnd.status == "active":
                total += rnd.master_size + rnd.base_size + sum(f.size for f in rnd.forms if f.path is not None)
                for step in (rnd.distribution, rnd.collection):
                    if step is not None and step.result and step.state == "done":
                        total += sum(_size(p) for p in step.result.get("outputs", {}).values())
        return total

    def _too_much(self, size: int, path: Path) -> str | None:
        """Why an upload of `size` bytes cannot be kept (too large, over the disk budget)."""
        if size > self.jobs.max_file:
            path.unlink(missing_ok=True)
            return self.jobs.too_large_text()
        if self.jobs._stored_bytes() + self.jobs._pending_bytes() > self.jobs.stored_budget:
            self.jobs._expire_oldest(keep=None)
            if self.jobs._stored_bytes() + self.jobs._pending_bytes() > self.jobs.stored_budget:
                path.unlink(missing_ok=True)
                return ("サーバーに保存できる量の上限に達しています。不要になった結果や照会を削除してから、"
                        "もう一度送ってください")
        return None

    # --- the worker ----------------------------------------------------------------

    def _enqueue(self, rnd: Round, action: str, index: int | None = None) -> None:
        item = (rnd.id, action, index)
        if action == "collect":
            current = rnd.collection
            if current is not None and current.state == "running":
                rnd.again = True
                return
            if current is not None and current.state == "queued" and item in self.queue:
                return
            rnd.collection = Step("collect", progress=describe("wait"), result=_keep_result(current))
        self.queue.append(item)
        while len(self.threads) < self.jobs.workers:  # as many at once as books (2 when shared)
            t = threading.Thread(target=self._work, name="xlsgen-rounds", daemon=True)
            self.threads.append(t)
            t.start()
        self.cv.notify_all()

    def _next(self):
        with self.cv:
            while not self.jobs.stopping:
                for n, (rid, action, index) in enumerate(self.queue):
                    rnd = self.rounds.get(rid)
                    if rnd is None or rnd.status != "active":
                        del self.queue[n]
                        break
                    if rnd.working:
                        continue
                    if action == "collect" and any(q[0] == rid and q[1] in ("check", "base") for q in self.queue):
                        continue  # the forms of the drop first, then one collection of them all
                    del self.queue[n]
                    rnd.working = True
                    return rnd, action, index
                else:
                    self.cv.wait()
        return None

    def _work(self) -> None:
        while True:
            item = self._next()
            if item is None:
                return
            rnd, action, index = item
            try:
                if action == "check":
                    self._check(rnd, rnd.forms[index])
                elif action == "base":
                    self._check_base(rnd)
                else:
                    self._step(rnd, action)
            except Exception as exc:  # noqa: BLE001 - the worker never dies with a round
                with self.cv:
                    step = {"master": rnd.read, "distribute": rnd.distribution}.get(action, rnd.collection)
                    if action == "check":
                        self._form_end(rnd.forms[index], "refused", f"予期しない問題が発生しました（{type(exc).__name__}）")
                    elif action == "base":
                        self._base_refused(rnd, f"予期しない問題が発生しました（{type(exc).__name__}）")
                    elif step is not None:
                        self._end(step, "failed", f"予期しない問題が発生しました（{type(exc).__name__}）")
            finally:
                with self.cv:
                    rnd.working = False
                    if rnd.status != "active" and not rnd.busy:
                        shutil.rmtree(rnd.folder, ignore_errors=True)
                    self.cv.notify_all()

    def _check(self, rnd: Round, f: FormFile) -> None:
        """A received form: its real unpacked size, then whether the same bytes came before."""
        with self.cv:
            if f.state != "queued":
                return
            f.state = "checking"
        try:
            uploads.inflated_size(f.path, self.jobs.upload_inflated, f.cancel.is_set)
        except uploads.UploadRefused as exc:
            with self.cv:
                self._form_end(f, "refused", f"{f.name}: {exc}")
            return
        except uploads.Cancelled:
            with self.cv:
                self._form_end(f, "cancelled", "中止しました（取り込んでいません）")
            return
        sha = uploads.digest(f.path)
        with self.cv:
            twin = next((g for g in rnd.forms if g is not f and g.sha256 == sha and g.state == "received"), None)
            if twin is not None:
                self._form_end(f, "duplicate", f"同じ内容のファイル（{twin.name}、{stamp(twin.received)} 受付）を"
                                               "すでに受け取っています。1回だけ取り込みます")
                return
            f.sha256 = sha
            same = [g for g in rnd.forms if g is not f and g.state == "received" and g.name == f.name]
            f.shown = f"{f.name}（{len(same) + 1}回目）" if same else f.name
            f.state, f.message = "received", None
            if rnd.distribution is None or rnd.distribution.state not in BUSY:
                self._enqueue(rnd, "collect")

    def _check_base(self, rnd: Round) -> None:
        """The book to compare with: its real unpacked size; then collect again with it."""
        with self.cv:
            if rnd.base_state != "queued" or rnd.base_path is None:
                return
            rnd.base_state = "checking"
            path = rnd.base_path
        try:
            uploads.inflated_size(path, self.jobs.upload_inflated)
        except uploads.UploadRefused as exc:
            with self.cv:
                self._base_refused(rnd, f"{rnd.base_name}: {exc}")
            return
        with self.cv:
            if rnd.base_path != path:
                return
            rnd.base_state = "ready"
            if rnd.received():
                self._enqueue(rnd, "collect")

    def _step(self, rnd: Round, action: str) -> None:
        with self.cv:
            step = {"master": rnd.read, "distribute": rnd.distribution, "collect": rnd.collection}[action]
            if step is None or step.state != "queued" or step.cancel.is_set():
                return
            step.state = "running"
            step.progress = describe("check")
            if action == "master":
                kwargs = {"path": str(rnd.master_path), "name": rnd.master_name}
            elif action == "distribute":
                step.folder = rnd.folder / f"dist-{secrets.token_hex(4)}"
                kwargs = {"book": str(rnd.master_path), "out_dir": str(step.folder), "name": rnd.master_name,
                          "to": step.args["to"], "due": step.args["due"], "contact": step.args["contact"]}
            else:
                forms = rnd.received()
                if not forms:
                    self._end(step, "done", None)
                    step.result = None
                    return
                master, master_name, base, base_name = rnd.collect_into()
                rnd.collections += 1
                step.folder = rnd.folder / f"collect-{rnd.collections}"
                step.forms = len(forms)
                kwargs = {"master": str(master), "forms": [(str(f.path), f.shown) for f in forms],
                          "out_dir": str(step.folder), "master_name": master_name,
                          "base": str(base) if base else None, "base_name": base_name}
        if action == "master":
            try:
                rnd.master_inflated = uploads.inflated_size(rnd.master_path, self.jobs.upload_inflated,
                                                            step.cancel.is_set)
            except uploads.UploadRefused as exc:
                with self.cv:
                    self._end(step, "failed", f"{rnd.master_name}: {exc}")
                return
            except uploads.Cancelled:
                with self.cv:
                    self._end(step, "cancelled", "中止しました（処理していません）")
                return
        inflated = max(rnd.master_inflated, rnd.master_size) * (2 if action != "master" else 1)
        result, crash = self._run(step, STEP_FUNCTIONS[action], kwargs, inflated)
        with self.cv:
            if step.cancel.is_set():
                _discard(step)
                self._end(step, "cancelled", "中止しました。途中までの結果は消去しました")
            elif result is None:
                _discard(step)
                self._end(step, "failed", f"{rnd.master_name}: 処理の途中でプログラムが止まりました（{crash}）。"
                                          "ブックが大きすぎるか壊れている可能性があります")
            elif not result.get("ok"):
                _discard(step)
                self._end(step, "failed", result.get("reason"))
            else:
                step.result = {**result, "forms_count": step.forms}
                self._end(step, "done", None)
                if action == "distribute":
                    for old in rnd.folder.glob("dist-*"):
                        if old != step.folder:
                            shutil.rmtree(old, ignore_errors=True)
                    if rnd.received():  # forms came first: collect them into the new master
                        self._enqueue(rnd, "collect")
            if action == "collect":
                if step.state == "failed":  # the failure is the answer now: no older result stays
                    step.result = None
                keep = {Path(p).parent for p in (step.result or {}).get("outputs", {}).values()}
                for old in rnd.folder.glob("collect-*"):
                    if old not in keep and old != step.folder:
                        shutil.rmtree(old, ignore_errors=True)
                if rnd.again and rnd.status == "active":
                    rnd.again = False
                    self._enqueue(rnd, "collect")

    def _run(self, step: Step, function: str, kwargs: dict, inflated: int) -> tuple[dict | None, str]:
        """Run one app function in a child process within the server's budget of books
        processed at once; progress goes to `step.progress`."""
        jobs = self.jobs
        with self.cv:
            while jobs.in_flight and jobs.in_flight + inflated > jobs.server_inflated:
                step.progress = describe("wait")
                if step.cancel.is_set() or jobs.stopping:
                    return None, "中止"
                self.cv.wait(0.5)
            jobs.in_flight += inflated
        try:
            ctx = mp_context()
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=run_step, args=(send, function, kwargs), daemon=True)
            proc.start()
            send.close()
            result = None
            try:
                while not (step.cancel.is_set() or jobs.stopping):
                    if recv.poll(0.2):
                        try:
                            kind, payload = recv.recv()
                        except (EOFError, OSError):
                            break
                        if kind == "progress":
                            step.progress = payload
                        else:
                            result = payload
                            break
                    elif not proc.is_alive() and not recv.poll(0.2):
                        break
            finally:
                recv.close()
                if proc.is_alive() and result is None:
                    proc.terminate()
                proc.join(timeout=10)
                if proc.is_alive():
                    proc.kill()
                    proc.join(timeout=5)
        finally:
            with self.cv:
                jobs.in_flight -= inflated
                self.cv.notify_all()
        code = proc.exitcode
        return result, (f"シグナル {-code}" if code is not None and code < 0 else f"終了コード {code}")

    def _end(self, step: Step, state: str, message: str | None) -> None:
        step.state, step.message, step.finished = state, message, time.time()
        step.progress = {}

    def _form_end(self, f: FormFile, state: str, message: str | None) -> None:
        f.state, f.message = state, message
        if f.path is not None and state != "received":
            shutil.rmtree(f.path.parent, ignore_errors=True)
            f.path = None


class Refused(Exception):
    """A request about a round that cannot be done now; `str()` says why (Japanese)."""


def _keep_result(step: Step | None) -> dict | None:
    """The last collection's result stays shown (and downloadable) while the next runs."""
    return step.result if step is not None and step.state == "done" else None


def _discard(step: Step) -> None:
    if step.folder is not None:
        shutil.rmtree(step.folder, ignore_errors=True)


def _size(path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def _suffix(name: str) -> str:
    import re

    suffix = Path(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


# --- what the page shows -----------------------------------------------------------------

SEVERITY_JA = {"error": "エラー", "warning": "警告", "info": "記録"}
DOWNLOADS = {"forms": "照会様式と回収先マスター（zip）", "merged": "回収後のマスター",
             "diff": "変更点（Excel）", "all": "回収結果一式（zip）"}


def _kanji(year: int | None) -> str:
    from xlsgen.wareki import FiscalYear

    return FiscalYear(int(year)).kanji if year else ""


def _saved(text: str) -> str:
    """「2022-05-25 09:00」 (a form's last saved time) as 「2022年5月25日 09:00」."""
    import re

    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d) (\d\d:\d\d)", text or "")
    return f"{m.group(1)}年{int(m.group(2))}月{int(m.group(3))}日 {m.group(4)}" if m else (text or "")


def step_json(step: Step | None, clean) -> dict | None:
    if step is None:
        return None
    return {"state": step.state, "state_label": STATE_LABELS.get(step.state, step.state),
            "message": clean(step.message) if step.message else None,
            "progress": step.progress or None if step.state in BUSY else None}


def choices_json(info: dict) -> list[dict]:
    """The editions the master can be asked for, as buttons: 「令和4年度版を作って照会する」."""
    out = []
    edition = info.get("edition")
    for c in info.get("choices", []):
        if c["roll"]:
            label = f"{_kanji(c['edition'])}版を作って照会する"
            about = (f"このブックを{_kanji(edition)}版の完成版として、{_kanji(c['edition'])}版を作り、"
                     f"{_kanji(c['asks'])}の実績と評価を各課に照会します。")
        else:
            label = f"{_kanji(c['edition'])}版のまま照会する"
            about = (f"このブックを回収先のマスターとして、{_kanji(c['asks'])}の実績と評価を各課に照会します"
                     f"（照会する {c['inputs']} 欄のうち {c['filled']} 欄はすでに記入されています）。")
        out.append({"edition": c["edition"], "label": label, "about": about, "roll": c["roll"],
                    "recommended": bool(c.get("recommended"))})
    return out


def round_summary(rnd: Round) -> dict:
    """One line of the list of rounds."""
    d = rnd.distribution.result if rnd.distribution and rnd.distribution.state == "done" else None
    c = rnd.collection.result if rnd.collection and rnd.collection.result else None
    text = "読み取り中" if rnd.read and rnd.read.state in BUSY else ""
    if rnd.read and rnd.read.state in ("failed", "cancelled"):
        text = "読み取れませんでした" if rnd.read.state == "failed" else "中止"
    if d:
        text = f"{d['edition_label']}・様式 {len(d['forms'])} 件"
    if c:
        s = c["collection"]["summary"]
        text += f"・提出 {s['submitted']} / {s['owners']}"
    return {"id": rnd.id, "created_text": stamp(rnd.created), "master_name": rnd.master_name,
            "busy": rnd.busy, "text": text}


def round_json(rnd: Round, clean) -> dict:
    """Everything the 照会と回収 tab shows of a round (no server path; messages through
    `clean`)."""
    base = f"/download/round/{rnd.id}"
    info = rnd.read.result if rnd.master_ready and rnd.read.result else None
    out = {**round_summary(rnd), "read": step_json(rnd.read, clean), "info": None,
           "distribution": step_json(rnd.distribution, clean), "forms": [], "collection": None}
    if info:
        out["info"] = {"layout_title": info["layout_title"], "title": info["title"],
                       "edition_label": f"{_kanji(info['edition'])}版" if info.get("edition") else "",
                       "measures": info["measures"], "choices": choices_json(info)}
    d = rnd.distribution.result if rnd.distribution and rnd.distribution.state == "done" else None
    if d:
        out["distribution"]["result"] = {
            "edition_label": d["edition_label"], "asks_label": d["asks_label"], "rolled": d["rolled"],
            "master_name": d["master_name"], "zip_name": d["zip_name"], "zip_url": f"{base}/forms",
            "due": rnd.distribution.args.get("due") or "", "contact": rnd.distribution.args.get("contact") or "",
            "forms": [{k: f[k] for k in ("owner", "kind", "file", "inputs", "numbers", "texts", "measures")}
                      for f in d["forms"]],
            "notes": [clean(n) for n in d["notes"]]}
    master, master_name, compare, compare_name = rnd.collect_into()
    out["collect_into"] = master_name
    out["compare_with"] = compare_name or master_name
    out["base"] = {"name": rnd.base_name, "state": rnd.base_state,
                   "message": clean(rnd.base_message) if rnd.base_message else None} if rnd.base_state else None
    received = {f.shown: f for f in rnd.forms if f.state == "received"}
    out["forms"] = [{"index": f.index, "name": f.name, "shown": f.shown or f.name, "state": f.state,
                     "state_label": FORM_STATES.get(f.state, f.state), "drop": f.drop,
                     "received_text": stamp(f.received), "message": clean(f.message) if f.message else None}
                    for f in rnd.forms]
    step = rnd.collection
    col = step_json(step, clean) if step is not None else None
    result = step.result if step is not None else None
    if col is not None and result:
        asked = {f["owner"]: f["inputs"] for f in (d or {}).get("forms", [])}
        col["result"] = collection_json(rnd, result, received, base, clean, asked)
    out["collection"] = col
    out["waiting"] = len(received) - (result.get("forms_count", 0) if result else 0)
    out["owners"] = (col or {}).get("result", {}).get("owners") if col and result else [
        {"owner": f["owner"], "kind": f["kind"], "status": "未提出", "inputs": f["inputs"], "filled": 0,
         "empty": 0, "applied": 0, "problems": 0, "file": "", "saved_text": "", "received_text": "",
         "replaced": [], "items": []} for f in (d or {}).get("forms", [])]
    out["refused"] = [{"file": f.name, "reason": clean(f.message) if f.message else "", "state": f.state,
                       "state_label": FORM_STATES[f.state], "received_text": stamp(f.received)}
                      for f in rnd.forms if f.state in ("refused", "duplicate", "cancelled")]
    return out


def collection_json(rnd: Round, result: dict, received: dict, base: str, clean,
                    asked: dict[str, int] | None = None) -> dict:
    """The status table (a department not submitted shows the inputs its form asks,
    `asked`), the files not taken, the downloads and the diff."""
    c = result["collection"]
    problems: dict[str, list] = {}
    for p in c["problems"]:
        problems.setdefault(p["owner"], []).append({
            "severity": p["severity"], "severity_label": SEVERITY_JA.get(p["severity"], p["severity"]),
            "form_cell": p["form_cell"], "master_cell": p["master_cell"], "file": p["file"],
            "message": clean(p["message"]), "code": p["code"]})
    owners = []
    for o in c["owners"]:
        f = received.get(o["file"])
        inputs = o["inputs"] or (asked or {}).get(o["owner"], 0)
        owners.append({"owner": o["owner"], "kind": o["kind"], "status": o["status"], "inputs": inputs,
                       "filled": o["filled"], "empty": o["empty"], "applied": o["applied"],
                       "problems": o["problems"], "file": o["file"], "saved_text": _saved(o["saved"]),
                       "received_text": stamp(f.received) if f else "", "replaced": o["replaced"],
                       "items": problems.get(o["owner"], [])})
    rejected = [{"file": r["file"], "owner": r["owner"], "reason": clean(r["reason"]),
                 "received_text": stamp(received[r["file"]].received) if r["file"] in received else ""}
                for r in c["rejected"]]
    diff = result["diff"]
    names = {k: Path(v).name for k, v in result["outputs"].items()}
    downloads = [{"kind": "merged", "label": DOWNLOADS["merged"], "file": names["merged"], "url": f"{base}/merged"}]
    if "diff" in names:
        downloads += [{"kind": "diff", "label": DOWNLOADS["diff"], "file": names["diff"], "url": f"{base}/diff"},
                      {"kind": "all", "label": DOWNLOADS["all"], "file": all_zip_name(result), "url": f"{base}/all"}]
    out = {"summary": c["summary"], "owners": owners, "rejected": rejected, "applied": len(c["applied"]),
           "downloads": downloads}
    if diff.get("error"):
        return {**out, "diff": {"old": diff["old"], "new": diff["new"], "error": clean(diff["error"])}}
    changes = diff["changes"]
    flagged = [ch for ch in changes if ch["flag"]]
    counts = "、".join(f"{k} {n}" for k, n in sorted(diff["counts"].items(), key=lambda kv: -kv[1]))
    return {**out,
            "diff": {"old": diff["old"], "new": diff["new"], "old_label": diff["old_label"],
                     "new_label": diff["new_label"], "total": len(changes),
                     "counts_text": f"変更 {len(changes)} 件" + (f"（{counts}）" if counts else ""),
                     "flags": diff["flags"], "flagged": flagged[:MAX_DIFF_ROWS],
                     "lowered": sum(ch["flag"] == "target-lowered" for ch in changes),
                     "answered": sum(ch["answered"] for ch in changes),
                     "changes": changes[:MAX_DIFF_ROWS], "more": max(0, len(changes) - MAX_DIFF_ROWS)}}


def all_zip_name(result: dict) -> str:
    return f"{Path(result['outputs']['merged']).stem}_一式.zip"


def download(rnd: Round, kind: str) -> tuple[list[tuple[Path, str]], str] | None:
    """The files behind a download of the round (path, name in the zip) and its name, or
    None when there is nothing (yet)."""
    if kind == "forms":
        d = rnd.distribution
        if d is None or d.state != "done" or not d.result:
            return None
        return [(Path(d.result["outputs"]["zip"]), d.result["zip_name"])], d.result["zip_name"]
    step = rnd.collection
    result = step.result if step is not None else None
    if not result:
        return None
    out = {k: Path(v) for k, v in result["outputs"].items()}
    if kind in ("merged", "diff") and kind in out:
        return [(out[kind], out[kind].name)], out[kind].name
    if kind == "all" and "diff" in out:
        return [(p, p.name) for p in (out["merged"], out["diff"], out["base"])], all_zip_name(result)
    return None

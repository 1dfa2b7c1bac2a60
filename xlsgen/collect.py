"""Collect returned forms into the master.

Each form is read (`form.read_form`) and checked: that it was distributed from this
master and for its edition, every answer's type, unit, range and length (`values.check`),
and that nothing outside its input cells was changed (those edits are reported, never
applied; an input whose row was changed is not taken). Of several forms from one owner
the last saved replaces the earlier ones (ties: the later on the command line). Two owners
answering one cell differently is a conflict: both are named and neither is applied.
When the master has changed since distribution in a cell an answer would change, nothing
is written and the cells are named.

The accepted answers become a Plan of cell edits applied by the package edit the
roll-forward uses (`render.edition.write_edition`): only those cells change, plus the
sheets 回収状況 (one row per owner), 回収の指摘 (every problem) and 変更履歴 (old → new,
with the owner). The same master and forms always give the same bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsgen.distribute import master_value
from xlsgen.errors import InputFileError, XlsgenError
from xlsgen.model import COLLECTION_PROBLEMS_SHEET as PROBLEM_SHEET
from xlsgen.model import COLLECTION_STATUS_SHEET as STATUS_SHEET
from xlsgen.roundtrip import form as F
from xlsgen.roundtrip import segments
from xlsgen.roundtrip import values as V
from xlsgen.roundtrip.assignment import KPI, NUMBER, Assignment, fingerprint
from xlsgen.wareki import FiscalYear

STATUS_HEADERS = ("課・施策", "状況", "入力欄", "記入", "未記入", "反映", "指摘", "ファイル", "保存日時",
                  "差し替えた提出")
STATUS_WIDTHS = (22, 10, 8, 8, 8, 8, 8, 40, 17, 40)
PROBLEM_HEADERS = ("課・施策", "ファイル", "様式のセル", "マスターのセル", "重要度", "内容")
PROBLEM_WIDTHS = (20, 34, 16, 24, 8, 70)
SEVERITY_JA = {"error": "エラー", "warning": "警告", "info": "記録"}
SUBMITTED, MISSING = "提出", "未提出"
MAX_NAMED = 10


@dataclass
class Problem:
    owner: str
    file: str
    form_cell: str
    master_cell: str
    severity: str
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"owner": self.owner, "file": self.file, "form_cell": self.form_cell,
                "master_cell": self.master_cell, "severity": self.severity, "code": self.code,
                "message": self.message}


@dataclass
class OwnerStatus:
    owner: str
    kind: str
    status: str = MISSING
    file: str = ""
    saved: str = ""
    inputs: int = 0
    filled: int = 0
    empty: int = 0
    applied: int = 0
    problems: int = 0
    replaced: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"owner": self.owner, "kind": self.kind, "status": self.status, "file": self.file,
                "saved": self.saved, "inputs": self.inputs, "filled": self.filled, "empty": self.empty,
                "applied": self.applied, "problems": self.problems, "replaced": self.replaced}

    def row(self) -> tuple:
        return (self.owner, self.status, self.inputs, self.filled, self.empty, self.applied,
                self.problems, self.file, self.saved, "、".join(self.replaced))


@dataclass
class Rejected:
    file: str
    owner: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "owner": self.owner, "reason": self.reason}


@dataclass
class Applied:
    owner: str
    file: str
    sheet: str
    cell: str
    segment: str | None
    label: str
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        return {"owner": self.owner, "file": self.file, "sheet": self.sheet, "cell": self.cell,
                "segment": self.segment, "label": self.label, "before": self.before, "after": self.after}


@dataclass
class Collection:
    master: Path
    output: Path
    edition: int
    fiscal_year: int
    owners: list[OwnerStatus]
    rejected: list[Rejected]
    problems: list[Problem]
    applied: list[Applied]
    changes: list = field(default_factory=list)  # the change log rows written (model.Change)

    def to_dict(self) -> dict[str, Any]:
        return {"master": str(self.master), "output": str(self.output), "edition": self.edition,
                "fiscal_year": self.fiscal_year,
                "summary": {"owners": len(self.owners),
                            "submitted": sum(o.status == SUBMITTED for o in self.owners),
                            "missing": sum(o.status == MISSING for o in self.owners),
                            "rejected_files": len(self.rejected), "applied": len(self.applied),
                            "errors": sum(p.severity == "error" for p in self.problems),
                            "warnings": sum(p.severity == "warning" for p in self.problems)},
                "owners": [o.to_dict() for o in self.owners],
                "rejected": [r.to_dict() for r in self.rejected],
                "problems": [p.to_dict() for p in self.problems],
                "applied": [a.to_dict() for a in self.applied]}


@dataclass
class _Candidate:
    owner: str
    form: F.ReturnedForm
    input: F.FormInput
    value: Any

    @property
    def a(self) -> Assignment:
        return self.input.assignment


def form_paths(paths, skip=()) -> list[Path]:
    """The files named, with folders expanded to their workbooks (sorted by name; the files
    in `skip`, such as the master and the output, left out of a folder's)."""
    from xlsgen.atomic import is_same_file

    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(x for x in p.iterdir() if x.is_file() and x.suffix.lower() in (".xlsx", ".xlsm")
                          and not x.name.startswith(("~$", ".")) and not any(is_same_file(x, s) for s in skip))
        else:
            out.append(p)
    seen, unique = set(), []
    for p in out:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def collect(master: str | Path, forms: list, output: str | Path, layout: str = "auto",
            layout_file: str | None = None, names: dict[str, str] | None = None) -> Collection:
    """Collect `forms` (files or folders) into a copy of `master` written to `output`.
    `names` ({path: name}) shows a file by the name its sender gave it (uploads kept under
    names the server made up)."""
    from xlsgen.atomic import is_same_file, refuse_overwrite
    from xlsgen.layout import read_book
    from xlsgen.read.refuse import refuse_failed_read
    from xlsgen.render.edition import check_extension, open_package
    from xlsgen.roundtrip import inputs as I

    master, output = Path(master), Path(output)
    paths = [p for p in form_paths(forms, [master, output]) if not is_same_file(p, master)]
    refuse_overwrite(output, [master, *paths])
    book = refuse_failed_read(read_book(master, layout, layout_file), "回収結果")
    pkg, snap = open_package(master)
    check_extension(pkg, output)
    sha = hashlib.sha256(master.read_bytes()).hexdigest()

    rejected: list[Rejected] = []
    problems: list[Problem] = []
    returned: list[tuple[int, F.ReturnedForm]] = []
    def shown(p: Path) -> str:
        return (names or {}).get(str(p), p.name)

    for n, p in enumerate(paths):
        try:
            form = F.read_form(p)
            form.name = shown(p)
            returned.append((n, form))
        except F.NotAForm as exc:
            rejected.append(Rejected(shown(p), "", str(exc)))
        except InputFileError as exc:
            rejected.append(Rejected(shown(p), "", str(exc).replace(f"{p}: ", "")))
    editions = {f.identity.get("edition") for _, f in returned}
    edition = book.fiscal_year or (editions.pop() if len(editions) == 1 else None)
    if edition is None:
        raise XlsgenError("マスターの年度版を判定できません（回収する様式もありません）", str(master))
    roster = I.roster(book, edition)
    by_key = {a.key: a for a in roster.assignments}
    accepted: list[tuple[int, F.ReturnedForm]] = []
    for n, f in returned:
        why = _identity_problem(f, book, roster, by_key, sha)
        if why:
            rejected.append(Rejected(f.name, f.owner, why))
        else:
            accepted.append((n, f))

    # owners: the master's, then any other the distribution's roster recorded
    owners: dict[str, OwnerStatus] = {o.name: OwnerStatus(o.name, o.kind) for o in roster.owners}
    for _, f in accepted:
        for name in sorted(f.identity.get("roster") or {}):
            owners.setdefault(name, OwnerStatus(name, "department"))

    # the last saved form of each owner replaces the earlier ones
    latest: dict[str, tuple[int, F.ReturnedForm]] = {}
    earlier: dict[str, list[F.ReturnedForm]] = {}
    for n, f in sorted(accepted, key=lambda x: (x[1].saved.timestamp() if x[1].saved else 0, x[0])):
        if f.owner in latest:
            earlier.setdefault(f.owner, []).append(latest[f.owner][1])
        latest[f.owner] = (n, f)

    candidates: list[_Candidate] = []
    for owner, (_, f) in sorted(latest.items(), key=lambda x: x[1][0]):
        st = owners.setdefault(owner, OwnerStatus(owner, f.identity.get("owner_kind", "department")))
        st.status, st.file, st.saved, st.inputs = SUBMITTED, f.name, f.saved_text, len(f.inputs)
        st.replaced = [g.name for g in earlier.get(owner, [])]
        before = len(problems)
        answers = _answers(f, problems)
        for i, ans in answers:
            if ans.status == V.EMPTY:
                st.empty += 1
                continue
            st.filled += 1
            if ans.status != V.OK:
                continue
            if not _same(_master_shown(snap, i.assignment), ans.value, i.assignment):
                candidates.append(_Candidate(owner, f, i, ans.value))
        for g in earlier.get(owner, []):
            _resubmission_notes(g, f, answers, problems)
        st.problems = sum(p.severity in ("error", "warning") for p in problems[before:])

    candidates = _without_conflicts(candidates, problems)
    stale = [c for c in candidates if c.input.base != fingerprint(master_value(snap, c.a))]
    if stale:
        cells = list(dict.fromkeys(c.a.where for c in stale))
        more = f" ほか {len(cells) - MAX_NAMED} か所" if len(cells) > MAX_NAMED else ""
        raise XlsgenError(
            f"マスターが様式の配布後に変更されています（{', '.join(cells[:MAX_NAMED])}{more}）。"
            "配布したときのマスターに、受け取った様式をすべて指定して回収し直してください（何も書き出していません）",
            str(master))

    plan, applied = _plan(candidates, snap, roster)
    for a in applied:
        owners[a.owner].applied += 1
    status = [owners[o] for o in owners]
    plan.history[STATUS_SHEET] = [s.row() for s in status] + [
        (r.owner or "（不明）", "不受理", "", "", "", "", 1, r.file, "", r.reason) for r in rejected]
    plan.history[PROBLEM_SHEET] = [(p.owner, p.file, p.form_cell, p.master_cell, SEVERITY_JA[p.severity],
                                    p.message) for p in problems] + [
        (r.owner or "（不明）", r.file, "", "", SEVERITY_JA["error"], r.reason) for r in rejected]
    plan.history_headers = {STATUS_SHEET: (STATUS_HEADERS, STATUS_WIDTHS),
                            PROBLEM_SHEET: (PROBLEM_HEADERS, PROBLEM_WIDTHS)}
    from xlsgen.render.edition import write_edition

    fresh = {k: v for k, v in snap.items() if k not in (STATUS_SHEET, PROBLEM_SHEET)}  # replaced, not appended
    # collecting again as forms arrive replaces the previous result (the same forms give the
    # same bytes); the master itself is never overwritten (refused above)
    changes = write_edition(pkg, fresh, output, plan, master, force=True)
    return Collection(master, output, edition, edition - 1, status, rejected, problems, applied, changes)


def _identity_problem(f: F.ReturnedForm, book, roster, by_key: dict, sha: str) -> str | None:
    """Why `f` cannot be collected into this master, or None. An accepted form's inputs are
    the master's own assignments (what the form says about them is never trusted: a form
    can only answer the cells its department answers, with the master's checks)."""
    ident = f.identity
    b = ident.get("book") or {}
    if b.get("layout") != roster.layout or (b.get("title") or "") != (roster.title or ""):
        return (f"別のブック（{b.get('title') or b.get('layout_title') or '不明'}）の照会様式です"
                f"（このマスターは {roster.title or roster.layout_title}）")
    if ident.get("edition") != roster.edition:
        got = FiscalYear(ident["edition"]).kanji if isinstance(ident.get("edition"), int) else "不明"
        return f"{got}版の照会様式です（このマスターは{FiscalYear(roster.edition).kanji}版）"
    wrong = []
    for i in f.inputs:
        a, m = i.assignment, by_key.get(i.assignment.key)
        if m is None or (m.sheet, m.cell, m.segment, m.group, m.measure_no) != (
                a.sheet, a.cell, a.segment, a.group, a.measure_no) or f.owner not in m.departments \
                or (a.group == KPI and (m.label, m.item) != (a.label, a.item)):
            wrong.append(a.where)
    if wrong:
        more = f" ほか {len(wrong) - 3} か所" if len(wrong) > 3 else ""
        if ident.get("master_sha256") == sha:
            return (f"照会様式の入力欄がマスターと一致しません（{', '.join(wrong[:3])}{more}）。"
                    "配布したままの様式で回答してもらってください")
        return (f"このマスターから配布した様式ではありません（{', '.join(wrong[:3])}{more} の項目が"
                "マスターと一致しません）")
    for i in f.inputs:
        i.assignment = by_key[i.assignment.key]
    return None


def _answers(f: F.ReturnedForm, problems: list[Problem]) -> list[tuple[F.FormInput, V.Answer]]:
    """Every input of `f` checked; problems (with both cells) appended."""
    from xlsgen.package.sheet import split_addr

    edited_rows: dict[str, set] = {}
    for sheet, addr, what in f.edits:
        problems.append(Problem(f.owner, f.name, f"{sheet}!{addr}" if addr else sheet, "", "warning",
                                "locked-edit", f"入力欄ではないセルが{what}（取り込みません）"
                                if what.endswith("ています") else f"{what}（取り込みません）"))
        column = addr.rstrip("0123456789") if addr else None
        if not addr:
            edited_rows.setdefault(sheet, set()).add(None)
        elif column in F.LABEL_COLUMNS.get(sheet, ()):
            edited_rows.setdefault(sheet, set()).add(split_addr(addr)[0])
    out = []
    for i in f.inputs:
        a = i.assignment
        where = f"{i.sheet}!{i.cell}"
        rows = edited_rows.get(i.sheet, set())
        if None in rows or split_addr(i.cell)[0] in rows:
            problems.append(Problem(f.owner, f.name, where, a.where, "error", "row-changed",
                                    f"「{a.label}」の行の見出しが書き換えられているため、この入力は取り込みません"))
            out.append((i, V.Answer(V.REJECTED)))
            continue
        raw, fmt, formula = f.values[(i.sheet, i.cell)]
        ans = V.check(a, raw, fmt, formula)
        for severity, code, message in ans.problems:
            problems.append(Problem(f.owner, f.name, where, a.where, severity, code,
                                    f"「{a.label}」{a.item}: {message}"))
        out.append((i, ans))
    return out


def _resubmission_notes(old: F.ReturnedForm, new: F.ReturnedForm, answers, problems: list[Problem]) -> None:
    """Record, for each input the corrected form answers differently, old → new."""
    new_values = {i.assignment.key: ans for i, ans in answers}
    for i in old.inputs:
        raw, fmt, formula = old.values[(i.sheet, i.cell)]
        was = V.check(i.assignment, raw, fmt, formula)
        now = new_values.get(i.assignment.key)
        if now is None or was.status == V.EMPTY and now.status == V.EMPTY:
            continue
        if was.value != now.value:
            problems.append(Problem(new.owner, new.name, f"{i.sheet}!{i.cell}", i.assignment.where, "info",
                                    "resubmitted", f"再提出で差し替え（{old.name}: {_show(was.value)} → "
                                    f"{new.name}: {_show(now.value)}）"))


def _show(v: Any) -> str:
    if v in (None, ""):
        return "（空欄）"
    text = str(v).replace("\n", " ")
    return text if len(text) <= 40 else text[:39] + "…"


def _master_shown(snap: dict, a: Assignment) -> Any:
    """The master's value behind `a` in the unit the form shows (percent as 17.8)."""
    v = master_value(snap, a)
    if a.value_type == NUMBER and isinstance(v, (int, float)) and not isinstance(v, bool):
        fmt = snap.get(a.sheet, {}).get(a.cell, (None, "General"))[1]
        if "%" in fmt:
            return round(v * 100, 10)
    return v


def _same(now: Any, answer: Any, a: Assignment) -> bool:
    if isinstance(now, (int, float)) and isinstance(answer, (int, float)) \
            and not isinstance(now, bool) and not isinstance(answer, bool):
        return abs(now - answer) <= 1e-9 * max(1.0, abs(now), abs(answer))
    if isinstance(now, str) and isinstance(answer, (int, float)) and a.value_type == NUMBER:
        parsed = V.check(a, now)  # a number the sheet keeps as text (17件)
        return parsed.status == V.OK and not isinstance(parsed.value, str) and _same(parsed.value, answer, a)
    return (now if now not in (None, "") else None) == (answer if answer not in (None, "") else None)


def _without_conflicts(candidates: list[_Candidate], problems: list[Problem]) -> list[_Candidate]:
    """Drop every answer to a cell (or part) that owners answer differently; keep one of
    several identical answers."""
    groups: dict[tuple, list[_Candidate]] = {}
    for c in candidates:
        groups.setdefault((c.a.sheet, c.a.cell, c.a.segment), []).append(c)
    out = []
    for cs in groups.values():
        distinct = {repr(c.value) for c in cs}
        if len(distinct) == 1:
            out.append(cs[0])
            continue
        who = "、".join(f"{c.owner}（{c.form.name}: {_show(c.value)}）" for c in cs)
        for c in cs:
            problems.append(Problem(c.owner, c.form.name, f"{c.input.sheet}!{c.input.cell}", c.a.where,
                                    "error", "conflict", f"「{c.a.label}」{c.a.item}: 複数の回答が食い違うため、"
                                    f"どれも反映していません（{who}）"))
    return out


def _plan(candidates: list[_Candidate], snap: dict, roster):
    from xlsgen.model import Edit, Plan

    plan = Plan()
    applied: list[Applied] = []
    order = {a.key: n for n, a in enumerate(roster.assignments)}
    texts: dict[tuple[str, str], Any] = {}
    for c in sorted(candidates, key=lambda c: (order.get(c.a.key, len(order)), c.owner)):
        a = c.a
        reason = f"{c.owner}の回答（{c.form.name}）: {a.label} {a.item}"
        sheet_snap = snap.get(a.sheet, {})
        if a.segment:
            before = texts.get((a.sheet, a.cell), sheet_snap.get(a.cell, (None, ""))[0])
            after = segments.replace(before if isinstance(before, str) else None, a.segment,
                                     str(c.value), a.segment_order)
            texts[(a.sheet, a.cell)] = after
            plan.edits.append(Edit(a.sheet, a.cell, after, reason))
            applied.append(Applied(c.owner, c.form.name, a.sheet, a.cell, a.segment, a.label,
                                   segments.body(before if isinstance(before, str) else None, a.segment),
                                   c.value))
            continue
        value, fmt = _to_master(a, c.value, sheet_snap)
        plan.edits.append(Edit(a.sheet, a.cell, value, reason, number_format=fmt))
        applied.append(Applied(c.owner, c.form.name, a.sheet, a.cell, None, a.label,
                               sheet_snap.get(a.cell, (None, ""))[0], value))
    return plan, applied


def _to_master(a: Assignment, value: Any, cells: dict) -> tuple[Any, str | None]:
    """An accepted answer as the master keeps it: text as typed; a number in the cell's
    (or, for an empty cell, last year's cell's) representation: its number format, a
    percent cell holding 0.178 for 17.8, a text such as `17件` where the sheet types them."""
    if isinstance(value, str):
        return value, None
    cur_v, cur_fmt = cells.get(a.cell, (None, "General"))
    like_v, like_fmt = cells.get(a.like, (None, "General")) if a.like else (None, "General")
    if isinstance(like_v, str) and like_v.strip() and cur_fmt == "General" and not isinstance(cur_v, (int, float)):
        n = int(value) if float(value).is_integer() else value
        return f"{n}{a.unit or ''}", None
    fmt = cur_fmt if cur_fmt != "General" else like_fmt
    n = round(value / 100, 12) if "%" in fmt else value
    if isinstance(n, float) and n.is_integer() and "%" not in fmt:
        n = int(n)
    return n, (fmt if cur_fmt == "General" and fmt != "General" else None)

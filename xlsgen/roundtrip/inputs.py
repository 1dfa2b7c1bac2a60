"""The adapter between the model and the round trip: the only module of `xlsgen.roundtrip`
that reads a `Book`.

- `roster(book, to, previous)`: who answers for what in the edition `to` (the book's own
  edition when None): one `Assignment` per input cell of the year the edition reports
  (edition − 1), with the departments that answer it.
- `facts(book)`: every fact of a book keyed by labels (measure number/name, KPI name,
  fiscal year, text block and department), for `diff`.

Which department answers for what comes from the layout and the book, in this order:
a KPI's own department tag (a 区分 column such as 商工 or 学教, mapped through the layout's
`departments: {aliases: {商工: 商工振興課}}`, or a name that is itself a department); else
the departments of its measure (担当課). A tag naming several departments (健康･建設･生涯)
gives the KPI to each of them. Text blocks split by `【…課】` headings give each
department its own part. A measure without any department is answered by the measure
itself (one form per measure).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from xlsgen.errors import XlsgenError
from xlsgen.layout.parsers import DEPT_SUFFIX
from xlsgen.roundtrip.assignment import (
    AMOUNT,
    CHOICE,
    KPI,
    NUMBER,
    POLICY,
    TEXT,
    WRITING,
    Assignment,
    Owner,
    Reference,
    Roster,
)
from xlsgen.wareki import FiscalYear

DEFAULT_TEXT_LIMIT = 1000
_TAG_SEPARATORS = re.compile(r"[･・、,，/／\s]+")
# names of the text blocks as a form shows them (the model keys are xlsgen's own)
TEXT_LABELS = {"check_analysis": "現状分析（評価）", "check_next": "今後の取組（改善）"}


@dataclass
class Options:
    """What the layout file says about the round trip."""

    aliases: dict[str, str]
    text_limit: int
    choices: dict[str, list[str]]
    statuses: list[str]
    none_marks: list[str]
    split: dict[str, bool]  # text block → split by department


def options(book) -> Options:
    data: dict[str, Any] = {}
    if getattr(book, "layout_file", None):
        from xlsgen.layout.spec import load_spec

        data = load_spec(book.layout_file).data
    dist = data.get("distribute") or {}
    values = data.get("values") or {}
    blocks = data.get("text_blocks") or {}
    return Options(
        aliases={str(k): str(v) for k, v in ((data.get("departments") or {}).get("aliases") or {}).items()},
        text_limit=int(dist.get("text_limit") or DEFAULT_TEXT_LIMIT),
        choices={k: [str(x) for x in ([v] if isinstance(v, str) else v)]
                 for k, v in (dist.get("choices") or {}).items()},
        statuses=[str(x) for x in values.get("status") or []],
        none_marks=[str(x) for x in values.get("none_marks") or []],
        split={k: (b or {}).get("split", "department") == "department" for k, b in blocks.items()},
    )


def tag_departments(tag: str | None, named: list[str], opts: Options) -> tuple[list[str], bool]:
    """The departments a KPI's tag names, and whether every part of it was understood."""
    if not tag or not str(tag).strip():
        return [], True
    out, understood = [], True
    for part in _TAG_SEPARATORS.split(str(tag).strip()):
        if not part:
            continue
        if part in opts.aliases:
            out.append(opts.aliases[part])
        elif DEPT_SUFFIX.search(part):
            out.append(part)
        else:
            starts = [d for d in named if d.startswith(part)]
            if len(starts) == 1:
                out.append(starts[0])
            else:
                understood = False
    return list(dict.fromkeys(out)), understood


def _short(fy: int | None) -> str:
    return FiscalYear(fy).short if fy else ""


def _allowed(opts: Options) -> list[str]:
    """Texts a number may be answered with: the layout's status words and none marks."""
    from xlsgen.model import NONE_MARKS

    return list(dict.fromkeys([*opts.statuses, *opts.none_marks, *sorted(NONE_MARKS)]))


def _shown(q) -> str:
    """A quantity as the sheet shows it (17件, 17.8%, －)."""
    if q is None:
        return ""
    if q.text not in (None, ""):
        return str(q.text)
    if q.value is None:
        return ""
    v = int(q.value) if float(q.value).is_integer() else q.value
    return f"{v}{q.unit or ''}"


def _current(q) -> Any:
    if q is None or q.is_empty:
        return None
    return q.value if q.value is not None else q.text


def _qualitative(qs) -> bool:
    return any(q is not None and q.is_qualitative for q in qs)


def _lowest(qs) -> float | None:
    vals = [q.value for q in qs if q is not None and q.value is not None]
    return 0 if not vals or min(vals) >= 0 else None


# --- the roster ---------------------------------------------------------------------------


def roster(book, to: int | None = None, previous=None) -> Roster:
    """Who answers for what in edition `to` of `book` (the book's edition when None)."""
    edition = to or book.fiscal_year
    if edition is None:
        raise XlsgenError("ブックの年度版を判定できません。--to で照会する年度版（例: R4）を指定してください",
                          book.path)
    fy = edition - 1
    opts = options(book)
    r = Roster(layout=book.layout, layout_title=book.layout_title or book.layout,
               title=book.document_title or book.title or "", edition=edition, fiscal_year=fy,
               owners=[], assignments=[])
    by_measure: set[str] = set()  # owners that are measures (no department named)
    if book.kind == "progress":
        prev = {s.sheet: s for s in previous.sheets} if previous is not None else {}
        for s in book.sheets:
            _progress_sheet(r, s, fy, opts, prev.get(s.sheet), by_measure)
    elif book.kind == "projects":
        prev = {p.sheet: p for p in previous.projects} if previous is not None else {}
        for p in book.projects:
            _project_sheet(r, p, fy, opts, prev.get(p.sheet), by_measure)
    else:
        r.notes.append(f"様式「{r.layout_title}」のブックには、年度ごとの実績値や評価を書き込むセルがありません"
                       "（計画の一覧表です）")
    _owners(r, by_measure)
    return r


def _measure_label(no: str, name: str) -> str:
    return f"{no} {name}".strip()


def _owners(r: Roster, by_measure: set[str]) -> None:
    """The owners in the order they first answer something, with their measures."""
    seen: dict[str, Owner] = {}
    for a in r.assignments:
        for d in a.departments:
            o = seen.setdefault(d, Owner(d, "measure" if d in by_measure else "department"))
            m = _measure_label(a.measure_no, a.measure)
            if m not in o.measures:
                o.measures.append(m)
    r.owners = list(seen.values())


def _measure_owner(no: str, name: str) -> str:
    """The owner of a measure nobody else answers for: `施策01_移住定住の促進`."""
    return f"施策{no}_{name[:20]}" if no else name[:24]


def _progress_sheet(r: Roster, s, fy: int, opts: Options, prev, by_measure: set[str]) -> None:
    no = s.sheet_no or ""
    name = s.measure.name if s.measure else (s.title or s.sheet)
    named = list(s.departments)
    fallback = named or [_measure_owner(no, name)]
    if not named:
        by_measure.add(fallback[0])
    for k in s.kpis:
        q = k.actual(fy)
        sheet = k.sheet or s.sheet
        depts, understood = tag_departments(k.category, named, opts)
        if not understood:
            r.notes.append(f"{sheet}: 指標「{k.name}」の区分「{k.category}」を課に対応づけられません"
                           "（様式ファイルの departments: aliases に書くと、その課の様式に入ります）")
        owners = depts or fallback
        shared = f"共同: {'・'.join(owners)}" if len(owners) > 1 else ""
        known = [k.baseline, *k.actuals, k.target, *k.targets]
        if q is None or not q.cell:
            r.notes.append(f"{sheet}: 指標「{k.name}」に{_short(fy)}年度の実績値のセルがありません")
        else:
            last = k.actual(fy - 1)
            refs = [Reference(f"基準値（{_short(k.baseline_year)}）" if k.baseline_year else "基準値",
                              _shown(k.baseline))]
            if last is not None:
                refs.append(Reference(f"{_short(fy - 1)}年度実績", _shown(last)))
            target = next((t for t in k.targets if t.fiscal_year == fy), None)
            if target is not None:
                refs.append(Reference(f"{_short(fy)}年度目標", _shown(target)))
            refs.append(Reference(f"目標（{_short(k.target_year)}）" if k.target_year else "目標",
                                  _shown(k.target)))
            like = next((c.cell for c in (last, k.baseline) if c is not None and c.cell
                         and c.value is not None), None)
            r.assignments.append(Assignment(
                key=f"{sheet}!{q.cell}", sheet=sheet, cell=q.cell, departments=owners,
                measure_no=no, measure=name, group=KPI, label=k.name,
                item=f"{_short(fy)}年度 実績値", value_type=NUMBER, fiscal_year=fy,
                unit=k.unit, minimum=_lowest(known), required=True,
                free_text=_qualitative(known), allowed_texts=_allowed(opts),
                current=_current(q), references=[x for x in refs if x.text], like=like,
                previous=last.value if last is not None else None,
                note=shared))
        c = k.cost_thousand_yen
        if c is not None and c.cell:
            r.assignments.append(Assignment(
                key=f"{sheet}!{c.cell}", sheet=sheet, cell=c.cell, departments=owners,
                measure_no=no, measure=name, group=AMOUNT, label=k.name, item="事業費（千円）",
                value_type=NUMBER, fiscal_year=None, unit="千円", minimum=0, current=_current(c),
                note=shared))
    for key in ("check_analysis", "check_next"):
        addr = s.cells.get(key)
        if not addr:
            continue
        texts = getattr(s, key)
        label = TEXT_LABELS[key]
        old = {t.department: t.text for t in getattr(prev, key)} if prev is not None else {}
        if opts.split.get(key, True) and (named or any(t.department for t in texts)):
            order = list(dict.fromkeys(named + [t.department for t in texts if t.department]))
            for d in order:
                refs = [Reference("前年度版の記述", old[d])] if old.get(d) else []
                r.assignments.append(Assignment(
                    key=f"{s.sheet}!{addr}#{d}", sheet=s.sheet, cell=addr, departments=[d],
                    measure_no=no, measure=name, group=WRITING, label=label, item=label,
                    value_type=TEXT, segment=d, segment_order=order, max_length=opts.text_limit,
                    required=True, references=refs))
        else:
            whole = "\n".join(t.text for t in texts)
            refs = [Reference("前年度版の記述", "\n".join(old.values()))] if old else []
            r.assignments.append(Assignment(
                key=f"{s.sheet}!{addr}", sheet=s.sheet, cell=addr, departments=fallback,
                measure_no=no, measure=name, group=WRITING, label=label, item=label,
                value_type=TEXT, max_length=opts.text_limit, required=True, current=whole or None,
                references=refs))


def _project_sheet(r: Roster, p, fy: int, opts: Options, prev, by_measure: set[str]) -> None:
    owner = p.department or p.name[:24]
    if not p.department:
        by_measure.add(owner)
    row = next((d for d in p.do_years if d.fiscal_year == fy), None)
    last = next((d for d in p.do_years if d.fiscal_year == fy - 1), None)
    if prev is not None and last is None:
        last = next((d for d in prev.do_years if d.fiscal_year == fy - 1), None)

    def add(cell, group, label, item, value_type, unit=None, current=None, refs=(), **kw):
        if not cell:
            return
        r.assignments.append(Assignment(
            key=f"{p.sheet}!{cell}", sheet=p.sheet, cell=cell, departments=[owner], measure_no="",
            measure=p.name, group=group, label=label, item=item, value_type=value_type,
            unit=unit, current=current, references=[x for x in refs if x.text], **kw))

    if row is None:
        r.notes.append(f"{p.sheet}: {_short(fy)}年度の【Do】の行がありません")
    else:
        kind = row.kind or ""
        for q, what in ((row.amount, "金額"), (row.specific_revenue, "うち特定財源")):
            old = getattr(last, "amount" if what == "金額" else "specific_revenue", None) if last else None
            add(q.cell, AMOUNT, f"{_short(fy)}年度 {kind}", f"{what}（千円）", NUMBER, "千円",
                _current(q), [Reference(f"{_short(fy - 1)}年度", _shown(old))] if old else [],
                fiscal_year=fy, minimum=0, required=True)
        unit = None if p.action_unit in (None, "", "-", "－") else p.action_unit
        known = [d.result for d in p.do_years] + [d.target for d in p.do_years]
        add(row.result.cell, KPI, p.action_indicator or "成果実績", f"{_short(fy)}年度 成果実績",
            NUMBER, unit, _current(row.result),
            [Reference(f"{_short(fy)}年度 成果目標", _shown(row.target)),
             *([Reference(f"{_short(fy - 1)}年度 成果実績", _shown(last.result))] if last else [])],
            fiscal_year=fy, free_text=_qualitative(known), required=True,
            allowed_texts=_allowed(opts),
            like=last.result.cell if last and last.result.value is not None else None)
        add(p.cells.get(f"content_{fy}"), WRITING, "実施内容と改善点", f"{_short(fy)}年度 実施内容と改善点",
            TEXT, current=row.content or None, fiscal_year=fy, max_length=opts.text_limit,
            required=True, refs=[Reference(f"{_short(fy - 1)}年度", last.content)] if last else [])
    for attr, label in (("check_evaluation", "評価"), ("check_analysis", "分析")):
        add(p.cells.get(attr), WRITING, label, f"{_short(fy)}年度実績の{label}", TEXT,
            current=getattr(p, attr) or None, fiscal_year=fy, max_length=opts.text_limit,
            required=True, refs=[Reference("前年度版の記述", getattr(prev, attr))]
            if prev is not None and getattr(prev, attr) else [])
    choices = opts.choices.get("action_policy")
    add(p.cells.get("action_policy"), POLICY if choices else WRITING, "方針", "今後の方針",
        CHOICE if choices else TEXT, current=p.action_policy or None, choices=choices or [],
        max_length=None if choices else opts.text_limit)
    plan_fy = p.plan_year
    for q, what in ((p.plan_budget, "予算額"), (p.plan_specific_revenue, "うち特定財源")):
        add(q.cell, AMOUNT, f"{_short(plan_fy)}年度 計画", f"{what}（千円）", NUMBER, "千円",
            _current(q), fiscal_year=plan_fy, minimum=0)
    add(p.cells.get("plan_content"), WRITING, "実施内容（計画）", f"{_short(plan_fy)}年度 実施内容",
        TEXT, current=p.plan_content or None, fiscal_year=plan_fy, max_length=opts.text_limit)


# --- facts by label, for diff -------------------------------------------------------------


@dataclass
class Fact:
    """One fact of a book, keyed by labels: which measure, which KPI, what, which year."""

    measure_no: str
    measure: str
    kpi: str | None
    item: str          # actual | target | final_target | baseline | baseline_year | target_year
    #                    | unit | cost | amount | text | kpi
    fiscal_year: int | None
    value: Any
    unit: str | None = None
    department: str | None = None
    label: str = ""    # the text block's or amount's label
    sheet: str | None = None
    cell: str | None = None
    direction: str = "up"


def _value(q) -> Any:
    if q is None or q.is_empty:
        return None
    if q.value is not None:
        return q.value
    return (q.text or "").strip() or None


def facts(book) -> list[Fact]:
    """Every fact of `book` keyed by labels (see Fact)."""
    out: list[Fact] = []
    if book.kind == "progress":
        for s in book.sheets:
            no = s.sheet_no or ""
            name = s.measure.name if s.measure else (s.title or s.sheet)
            for k in s.kpis:
                sh = k.sheet or s.sheet
                d = k.direction.value
                base = dict(measure_no=no, measure=name, kpi=k.name, sheet=sh, direction=d)
                out.append(Fact(**base, item="kpi", fiscal_year=None, value=k.name, unit=k.unit,
                                cell=_cell_of(k)))
                out.append(Fact(**base, item="unit", fiscal_year=None, value=k.unit, cell=_cell_of(k)))
                for q in k.actuals:
                    out.append(Fact(**base, item="actual", fiscal_year=q.fiscal_year, value=_value(q),
                                    unit=q.unit or k.unit, cell=q.cell))
                for q in k.targets:
                    out.append(Fact(**base, item="target", fiscal_year=q.fiscal_year, value=_value(q),
                                    unit=q.unit or k.unit, cell=q.cell))
                out.append(Fact(**base, item="final_target", fiscal_year=None, value=_value(k.target),
                                unit=k.target.unit or k.unit, cell=k.target.cell))
                out.append(Fact(**base, item="baseline", fiscal_year=None, value=_value(k.baseline),
                                unit=k.baseline.unit or k.unit, cell=k.baseline.cell))
                out.append(Fact(**base, item="baseline_year", fiscal_year=None, value=k.baseline_year,
                                cell=k.baseline.cell))
                out.append(Fact(**base, item="target_year", fiscal_year=None, value=k.target_year,
                                cell=k.target.cell))
                if k.cost_thousand_yen is not None:
                    out.append(Fact(**base, item="cost", fiscal_year=None,
                                    value=_value(k.cost_thousand_yen), unit="千円",
                                    cell=k.cost_thousand_yen.cell))
            for key in ("check_analysis", "check_next"):
                for t in getattr(s, key):
                    out.append(Fact(no, name, None, "text", None, t.text.strip() or None,
                                    department=t.department, label=TEXT_LABELS[key], sheet=s.sheet,
                                    cell=s.cells.get(key)))
    elif book.kind == "projects":
        for p in book.projects:
            base = dict(measure_no="", measure=p.name, sheet=p.sheet)
            indicator = p.action_indicator or "成果実績"
            for d in p.do_years:
                for q, label in ((d.amount, "金額"), (d.specific_revenue, "うち特定財源")):
                    out.append(Fact(**base, kpi=None, item="amount", fiscal_year=d.fiscal_year,
                                    value=_value(q), unit="千円", label=f"{d.kind} {label}", cell=q.cell))
                out.append(Fact(**base, kpi=indicator, item="target", fiscal_year=d.fiscal_year,
                                value=_value(d.target), cell=d.target.cell))
                out.append(Fact(**base, kpi=indicator, item="actual", fiscal_year=d.fiscal_year,
                                value=_value(d.result), cell=d.result.cell))
                out.append(Fact(**base, kpi=None, item="text", fiscal_year=d.fiscal_year,
                                value=d.content or None, label="実施内容と改善点",
                                cell=p.cells.get(f"content_{d.fiscal_year}")))
            for attr, label in (("check_evaluation", "評価"), ("check_analysis", "分析"),
                                ("action_policy", "方針"), ("plan_content", "実施内容（計画）")):
                out.append(Fact(**base, kpi=None, item="text", fiscal_year=None,
                                value=getattr(p, attr) or None, label=label, cell=p.cells.get(attr)))
            for q in [p.plan_target, *p.future_targets]:
                out.append(Fact(**base, kpi=indicator, item="target", fiscal_year=q.fiscal_year,
                                value=_value(q), cell=q.cell))
            for q, label in ((p.plan_budget, "計画 金額"), (p.plan_specific_revenue, "計画 うち特定財源")):
                out.append(Fact(**base, kpi=None, item="amount", fiscal_year=q.fiscal_year,
                                value=_value(q), unit="千円", label=label, cell=q.cell))
    elif book.kind == "plan_rows":
        for row in book.plan_rows:
            base = dict(measure_no="", measure=row.direction or row.measure, sheet=row.sheet)
            out.append(Fact(**base, kpi=row.indicator, item="kpi", fiscal_year=None, value=row.indicator,
                            cell=row.cells.get("indicator")))
            for q in row.current_values:
                out.append(Fact(**base, kpi=row.indicator, item="actual", fiscal_year=q.fiscal_year,
                                value=_value(q), unit=q.unit, cell=q.cell))
            if row.target is not None:
                out.append(Fact(**base, kpi=row.indicator, item="final_target", fiscal_year=None,
                                value=row.target.value if row.target.value is not None else row.target.text,
                                unit=row.target.unit, cell=row.target.cell))
                out.append(Fact(**base, kpi=row.indicator, item="target_year", fiscal_year=None,
                                value=row.target.period_end, cell=row.target.cell))
    return out


def _cell_of(k) -> str | None:
    return k.target.cell or k.baseline.cell or next((q.cell for q in k.actuals if q.cell), None)


def edition_of(book) -> int | None:
    return book.fiscal_year


def describe(book) -> dict[str, Any]:
    """The identity of a book as forms record it."""
    return {"layout": book.layout, "layout_title": book.layout_title or book.layout,
            "title": book.document_title or book.title or "", "edition": book.fiscal_year}

"""The adapter between the model and the round trip: the only module of `xlsgen.roundtrip`
that reads a `Book` (the one model, `xlsgen.model`, for every kind).

- `roster(book, to, previous)`: who answers for what in the edition `to` (the book's own
  edition when None): one `Assignment` per input cell of the year the edition reports
  (edition − 1), with the departments that answer it.
- `facts(book)`: every fact of a book keyed by labels (measure number/name, KPI name,
  fiscal year, text block and department), for `diff`.

What a form asks, per measure, for the year the edition reports (FY = edition − 1):
each KPI's actual of FY (a cell of its own: a cell holding a series of years is never
written) and its 事業費; the measure's Check/Action texts (roles check and action, or the
keys the layout lists in `distribute.texts`) and each KPI's texts of FY; the cost block's
lines of FY and of the plan years after the edition; the project lines' amounts of FY;
方針 (`policy`) and the city's own evaluations, from a list when the layout gives one.

Which department answers for what comes from the layout and the book, in this order:
a KPI's own department (a 担当課 column) or its tag (a 区分 column such as 商工 or 学教,
mapped through the layout's `departments: {aliases: {商工: 商工振興課}}`, or a name that is
itself a department); else the departments of its measure (担当課). A tag naming several
departments (健康･建設･生涯) gives the KPI to each of them. Text blocks split by `【…課】`
headings give each department its own part. A measure without any department is answered
by the measure itself (one form per measure).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from xlsgen.errors import XlsgenError
from xlsgen.layout.engine import DEFAULT_ROLES
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
ASKED_ROLES = ("check", "action")  # text roles a form asks for (unless the layout lists keys)


@dataclass
class Options:
    """What the layout file says about the round trip."""

    aliases: dict[str, str]
    text_limit: int
    choices: dict[str, list[str]]
    statuses: list[str]
    none_marks: list[str]
    split: dict[str, bool]  # text block → split by department
    texts: list[str]        # text keys asked (empty: every text of role check or action)
    labels: dict[str, str]  # text block → its label as the layout names it
    roles: dict[str, str]   # text block → its role (plan | do | check | action | other)


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
        texts=[str(x) for x in ([dist["texts"]] if isinstance(dist.get("texts"), str) else dist.get("texts") or [])],
        labels={k: _plain((b or {}).get("label")) for k, b in blocks.items() if (b or {}).get("label")},
        roles={k: (b or {}).get("role") or DEFAULT_ROLES.get(k, "other") for k, b in blocks.items()},
    )


def _plain(label) -> str:
    from xlsgen.layout.spec import plain_label

    return plain_label(label)


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
    opts = options(book)
    r = Roster(layout=book.layout, layout_title=book.layout_title or book.layout,
               title=book.document_title or book.title or "", edition=edition, fiscal_year=edition - 1,
               owners=[], assignments=[])
    prev = {m.sheet: m for m in previous.measures} if previous is not None else {}
    by_measure: set[str] = set()  # owners that are measures (no department named)
    units = [k.cost.unit for m in book.measures for k in m.kpis if k.cost is not None and k.cost.unit]
    cost_unit = max(set(units), key=units.count) if units else None
    for m in book.measures:
        _Measure(r, m, opts, prev.get(m.sheet), by_measure, cost_unit).ask()
    if not r.assignments:
        r.notes.insert(0, f"{FiscalYear(r.fiscal_year).kanji}の実績値や評価を書き込むセルがありません"
                          f"（様式「{r.layout_title}」）")
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


def _name(m) -> str:
    return m.measure.name if m.measure else (m.title or m.sheet)


class _Measure:
    """The assignments of one measure."""

    def __init__(self, r: Roster, m, opts: Options, prev, by_measure: set[str], cost_unit: str | None):
        self.r, self.m, self.opts, self.prev, self.cost_unit = r, m, opts, prev, cost_unit
        self.fy = r.fiscal_year
        self.no = m.number or ""
        self.name = _name(m)
        # a name gathered from a KPI column (事業主体: 行政・JA・農業者) is a department only when
        # it reads as one or the layout's aliases name it
        from_kpis = {k.department for k in m.kpis if k.department}
        self.named = [d for d in m.departments if d not in from_kpis or d in opts.aliases.values()
                      or tag_departments(d, [], opts) == ([d], True)]
        self.fallback = self.named or [_measure_owner(self.no, self.name)]
        if not self.named:
            by_measure.add(self.fallback[0])
        self.series = _shared_cells(m)

    def add(self, sheet, cell, owners, group, label, item, value_type, **kw) -> None:
        self.r.assignments.append(Assignment(
            key=f"{sheet}!{cell}" + (f"#{kw['segment']}" if kw.get("segment") else ""), sheet=sheet,
            cell=cell, departments=owners, measure_no=self.no, measure=self.name, group=group,
            label=label, item=item, value_type=value_type, **kw))

    def ask(self) -> None:
        for k in self.m.kpis:
            self.kpi(k)
        self.texts()
        self.costs()
        self.choices()

    # a KPI: its actual of the year, its 事業費, its texts of the year
    def kpi(self, k) -> None:
        m, fy, opts = self.m, self.fy, self.opts
        sheet = k.sheet or m.sheet
        depts, understood = [], True
        for tag in (k.department, k.category):
            found, ok = tag_departments(tag, self.named, opts)
            if found:
                depts, understood = found, True
                break
            understood = understood and ok
        if not understood and not depts:
            tag = k.department or k.category
            self.r.notes.append(f"{sheet}: 指標「{k.name}」の「{tag}」を課に対応づけられません"
                                "（様式ファイルの departments: aliases に書くと、その課の様式に入ります）")
        owners = depts or self.fallback
        shared = f"共同: {'・'.join(owners)}" if len(owners) > 1 else ""
        q = k.actual(fy)
        known = [k.baseline, *k.actuals, k.target, *k.targets]
        if q is None or not q.cell:
            if any(a.fiscal_year and a.fiscal_year < fy for a in k.actuals if a.cell):
                self.r.notes.append(f"{sheet}: 指標「{k.name}」に{_short(fy)}年度の実績値のセルがありません")
        elif (sheet, q.cell) in self.series:
            self.r.notes.append(f"{sheet}!{q.cell}: 指標「{k.name}」の実績値のセルにはほかの値（基準値・目標値や"
                                "ほかの年度）も書かれているため、照会しません")
        elif not q.formula:
            last = k.actual(fy - 1)
            if last is not None and (sheet, last.cell) in self.series:
                last = None
            refs = [Reference(f"基準値（{_short(k.baseline_year)}）" if k.baseline_year else "基準値",
                              _shown(k.baseline))]
            if last is not None:
                refs.append(Reference(f"{_short(fy - 1)}年度実績", _shown(last)))
            target = k.target_of(fy) if hasattr(k, "target_of") else None
            if target is not None and target is not k.target:
                refs.append(Reference(f"{_short(fy)}年度目標", _shown(target)))
            refs.append(Reference(f"目標（{_short(k.target_year)}）" if k.target_year else "目標",
                                  _shown(k.target)))
            like = next((c.cell for c in (last, k.baseline) if c is not None and c.cell
                         and c.value is not None), None)
            self.add(sheet, q.cell, owners, KPI, k.name, f"{_short(fy)}年度 実績値", NUMBER, fiscal_year=fy,
                     unit=k.unit, minimum=_lowest(known), required=True, free_text=_qualitative(known),
                     allowed_texts=_allowed(opts), current=_current(q),
                     references=[x for x in refs if x.text], like=like,
                     previous=last.value if last is not None else None, note=shared)
        c = k.cost
        if c is not None and c.cell and not c.formula:
            unit = c.unit or self.cost_unit
            self.add(sheet, c.cell, owners, AMOUNT, k.name, f"事業費（{unit}）" if unit else "事業費", NUMBER,
                     unit=unit, minimum=0, current=_current(c), note=shared)
        for t in k.texts:
            if t.cell and t.fiscal_year == fy and self._asked(t, kpi_text=True):
                old = next((x.text for x in (self._prev_kpi(k) or []) if x.key == t.key
                            and x.fiscal_year == fy - 1), None) or next(
                    (x.text for x in k.texts if x.key == t.key and x.fiscal_year == fy - 1), None)
                self.add(sheet, t.cell, owners, WRITING, f"{k.name}", f"{_short(fy)}年度 {t.label or t.key}",
                         TEXT, fiscal_year=fy, max_length=opts.text_limit, required=True,
                         current=t.text or None,
                         references=[Reference(f"{_short(fy - 1)}年度", old)] if old else [], note=shared)

    def _prev_kpi(self, k):
        if self.prev is None:
            return None
        other = next((x for x in self.prev.kpis if x.name == k.name), None)
        return other.texts if other is not None else None

    def _asked(self, t, kpi_text: bool = False) -> bool:
        return self._asks(t.key, t.role, kpi_text)

    def _asks(self, key: str, role: str, kpi_text: bool = False) -> bool:
        if self.opts.texts:
            return key in self.opts.texts
        return kpi_text or role in ASKED_ROLES

    # the measure's texts: one per block, or one per department of a split block
    def texts(self) -> None:
        m, opts, fy = self.m, self.opts, self.fy
        blocks: dict[tuple[str, str], list] = {}
        for t in m.texts:
            if t.cell and (t.fiscal_year is None or t.fiscal_year >= fy) and self._asked(t):
                blocks.setdefault((t.key, t.cell), []).append(t)
        present = {t.key for t in m.texts}
        for key in opts.split:  # blocks the layout declares, read empty (a new edition)
            cell = m.cells.get(key)
            if cell and key not in present and self._asks(key, opts.roles.get(key, "other")):
                blocks[(key, cell)] = []
        old = {}
        if self.prev is not None:
            for t in self.prev.texts:
                old.setdefault(t.key, []).append(t)
        for (key, cell), texts in blocks.items():
            label = next((t.label for t in texts if t.label), None) or next(
                (t.label for t in old.get(key, []) if t.label), None) or opts.labels.get(key) or key
            fy_text = next((t.fiscal_year for t in texts if t.fiscal_year), None)
            item = f"{_short(fy_text)}年度 {label}" if fy_text else label
            split = opts.split.get(key, False) and (self.named or any(t.department for t in texts))
            if split:
                order = list(dict.fromkeys(self.named + [t.department for t in texts if t.department]))
                for d in order:
                    before = "\n".join(t.text for t in old.get(key, []) if t.department == d)
                    self.add(m.sheet, cell, [d], WRITING, label, item, TEXT, segment=d, segment_order=order,
                             max_length=opts.text_limit, required=True, fiscal_year=fy_text,
                             references=[Reference("前年度版の記述", before)] if before else [])
            else:
                before = "\n".join(t.text for t in old.get(key, []) if t.text)
                self.add(m.sheet, cell, self.fallback, WRITING, label, item, TEXT, max_length=opts.text_limit,
                         required=True, fiscal_year=fy_text,
                         current="\n".join(t.text for t in texts if t.text) or None,
                         references=[Reference("前年度版の記述", before)] if before else [])

    # money: the cost block's lines and the project lines' amounts
    def costs(self) -> None:
        m, fy = self.m, self.fy
        cost = m.cost
        if cost is not None:
            for line in cost.lines:
                for q in line.values:
                    year = q.fiscal_year
                    if not q.cell or q.formula or year is None or not (year == fy or year > self.r.edition):
                        continue
                    kind = cost.year_kinds.get(year, "")
                    last = line.value(year - 1)
                    refs = [Reference(f"{_short(year - 1)}年度", _shown(last))] if last is not None else []
                    self.add(m.sheet, q.cell, self.fallback, AMOUNT, f"{_short(year)}年度 {kind}".strip(),
                             f"{line.label or line.key}", NUMBER, fiscal_year=year, unit=cost.unit,
                             minimum=0, required=year == fy, current=_current(q),
                             references=[x for x in refs if x.text])
        for p in m.projects:
            owners, _ = tag_departments(p.department, self.named, self.opts)
            for a in p.amounts:
                q = a.value
                if q is None or not q.cell or q.formula or a.fiscal_year != fy:
                    continue
                self.add(m.sheet, q.cell, owners or self.fallback, AMOUNT, p.name,
                         f"{_short(fy)}年度 {a.kind or '金額'}（{q.unit or ''}）".replace("（）", ""), NUMBER,
                         fiscal_year=fy, unit=q.unit, minimum=0, required=True, current=_current(q))

    # 方針 and the city's own evaluations
    def choices(self) -> None:
        m = self.m
        cell = m.cells.get("policy") or m.cells.get("action_policy")
        if cell:
            self._choice(cell, "policy", "方針", m.policy)
        for e in m.evaluations:
            if e.cell:
                self._choice(e.cell, e.key, e.label or e.key, e.value)

    def _choice(self, cell: str, key: str, label: str, current) -> None:
        choices = self.opts.choices.get(key) or []
        self.add(self.m.sheet, cell, self.fallback, POLICY if choices else WRITING, label, label,
                 CHOICE if choices else TEXT, choices=choices, current=current or None,
                 max_length=None if choices else self.opts.text_limit)


def _shared_cells(m) -> set[tuple[str, str]]:
    """Cells that hold more than one fact: the actuals of several years (`700人(H26)、600人
    (H27)`), or an actual that is also the baseline or a target. Never written."""
    seen: dict[tuple[str, str], int] = {}
    for k in m.kpis:
        for q in [k.baseline, k.target, *k.actuals, *k.targets]:
            if q is not None and q.cell:
                key = (k.sheet or m.sheet, q.cell)
                seen[key] = seen.get(key, 0) + 1
    return {c for c, n in seen.items() if n > 1}


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
    for m in book.measures:
        no, name = m.number or "", _name(m)
        for k in m.kpis:
            sh = k.sheet or m.sheet
            base = dict(measure_no=no, measure=name, kpi=k.name, sheet=sh, direction=k.direction.value)
            out.append(Fact(**base, item="kpi", fiscal_year=None, value=k.name, unit=k.unit, cell=_cell_of(k)))
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
            if k.cost is not None:
                out.append(Fact(**base, item="cost", fiscal_year=None, value=_value(k.cost),
                                unit=k.cost.unit, cell=k.cost.cell))
            for t in k.texts:
                out.append(Fact(**base, item="text", fiscal_year=t.fiscal_year, value=t.text.strip() or None,
                                label=t.label or t.key, cell=t.cell))
        for t in m.texts:
            out.append(Fact(no, name, None, "text", t.fiscal_year, (t.text or "").strip() or None,
                            department=t.department, label=t.label or t.key, sheet=m.sheet, cell=t.cell))
        if m.cost is not None:
            for line in m.cost.lines:
                for q in line.values:
                    kind = m.cost.year_kinds.get(q.fiscal_year, "")
                    out.append(Fact(no, name, None, "amount", q.fiscal_year, _value(q), unit=m.cost.unit,
                                    label=f"{kind} {line.label or line.key}".strip(), sheet=m.sheet, cell=q.cell))
        for p in m.projects:
            for a in p.amounts:
                out.append(Fact(no, name, None, "amount", a.fiscal_year, _value(a.value), unit=a.value.unit,
                                department=p.department, label=f"{p.name} {a.kind or ''}".strip(),
                                sheet=m.sheet, cell=a.value.cell))
        if m.policy or m.cells.get("policy") or m.cells.get("action_policy"):
            out.append(Fact(no, name, None, "text", None, m.policy or None, label="方針", sheet=m.sheet,
                            cell=m.cells.get("policy") or m.cells.get("action_policy")))
        for e in m.evaluations:
            out.append(Fact(no, name, None, "text", None, e.value or None, label=e.label or e.key,
                            sheet=m.sheet, cell=e.cell))
    return out


def _cell_of(k) -> str | None:
    return k.target.cell or k.baseline.cell or next((q.cell for q in k.actuals if q.cell), None)

"""Any Book (小千谷 / 常総 / 西東京) → one common list of measures to report. Pure: no I/O.

A `ReportMeasure` is one worksheet of the report: Plan (levels, purpose, projects), Do
(KPIs with one value cell per fiscal year in `years`, budget lines), Check (texts) and
Action (texts and a 方針). Each `ReportKpi` knows its kind and direction, so the
achievement formulas can be chosen from it (xlsgen.formulas.achievement).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from xlsgen.model import Book, Direction, Project, Quantity, TargetKind
from xlsgen.wareki import FiscalYear

POLICIES = ("拡充", "継続", "改善", "縮小", "統合", "廃止", "完了")
NISHITOKYO_PLAN_YEARS = list(range(2019, 2024))  # 第2次計画 H31–H35 = R1–R5
# what a report sheet and a KPI's category are called in the source (一覧 headings)
LABELS = {"nishitokyo": ("取組みの方向性", "施策")}


@dataclass
class ReportKpi:
    name: str
    unit: str | None
    kind: TargetKind
    direction: Direction
    baseline: Quantity
    baseline_year: int | None
    values: dict[int, Quantity]  # fiscal year → actual (empty Quantity where not typed)
    target: Quantity
    target_year: int | None
    period: tuple[int, int] | None = None  # cumulative: first and last year summed
    cost: Quantity | None = None  # 千円
    category: str | None = None
    history: list[Quantity] = field(default_factory=list)  # past values (西東京 現状値)
    year_targets: bool = False  # 常総: each year's target is its budget line's 成果目標
    department: str | None = None  # 担当課 (or 事業主体) of this KPI when the source names one
    # --- one model (schema 2): what the source holds per KPI beyond the numbers ---------
    targets: dict[int, Quantity] = field(default_factory=dict)  # per-year targets as read
    texts: dict[int, str] = field(default_factory=dict)  # per-year texts (実績の分析・要因)
    text_label: str = ""  # what the source calls those texts
    note: str = ""  # 備考 of the KPI
    own_rates: dict[int, Quantity] = field(default_factory=dict)  # the city's own 達成率
    own_grades: dict[int, Quantity] = field(default_factory=dict)  # the city's own 評価


@dataclass
class BudgetLine:
    fiscal_year: int
    kind: str  # 予算額 / 決算額 / 計画
    amount: Quantity
    specific_revenue: Quantity
    target: Quantity  # 成果目標 of the year


@dataclass
class ReportProjectLine:
    """A line of a record's second table (事務事業): name, department, content and its
    amounts by year and kind (決算額 / 予算額), in `unit` (千円 or 円)."""

    name: str
    department: str | None = None
    content: str = ""
    tags: list[str] = field(default_factory=list)
    amounts: list[tuple[int, str, Quantity]] = field(default_factory=list)  # (FY, kind, value)
    unit: str | None = None


@dataclass
class ReportCostLine:
    key: str  # project_cost, national, prefectural, bond, other, general, specific, staff,
    #           staff_unit_cost, personnel, total, or the layout's own key
    label: str  # as the source names it (事業費, 国庫支出金, 職員人工 …)
    values: dict[int, Quantity] = field(default_factory=dict)  # fiscal year → value as read


@dataclass
class ReportCost:
    """A record's cost block by year (事業費, 財源内訳, 人件費, 総事業費), in `unit`.
    `unit_cost_kpi` names the KPI (of the same measure) whose actual divides 総事業費 into
    単位コスト, when the layout names one."""

    unit: str  # 千円 or 円
    years: list[int]
    lines: list[ReportCostLine]
    year_kinds: dict[int, str] = field(default_factory=dict)  # 決算額 / 予算額 / 計画
    unit_cost_kpi: str | None = None

    def line(self, key: str) -> ReportCostLine | None:
        return next((ln for ln in self.lines if ln.key == key), None)


@dataclass
class ReportMeasure:
    key: str  # short id used in the sheet name (シート№ or a number)
    title: str
    source_sheet: str
    levels: list[tuple[str, str]]  # Plan headings: (label, text)
    purpose: str
    projects: list[Project]
    years: list[int]
    kpis: list[ReportKpi]
    check: list[tuple[str, str]]  # (label, text)
    action: list[tuple[str, str]]
    policy: str = ""
    budget: list[BudgetLine] = field(default_factory=list)
    sheet_no: str | None = None
    # --- one model (schema 2) -------------------------------------------------------
    project_lines: list[ReportProjectLine] = field(default_factory=list)
    cost: ReportCost | None = None
    evaluations: list[tuple[str, str]] = field(default_factory=list)  # the city's own (有効性 …)


@dataclass
class ReportBook:
    layout: str
    source: str
    title: str
    eval_year: int
    created: datetime
    measures: list[ReportMeasure]
    source_title: str = ""  # the source workbook's own title (出典)
    measure_label: str = "施策"  # what one measure sheet is called in the source
    category_label: str = "区分"  # what a KPI's category is called in the source
    city: str = ""  # the city (layout `city`), for titles: 常総市
    plan_years: list[int] = field(default_factory=list)  # the plan's years (layout or table)
    achievement_rule: str | None = None  # the city's own rule (layout `achievement.rule`)
    grade_scale: list[dict] = field(default_factory=list)  # the city's own scale (layout `grades`)


def _level(label: str, level) -> tuple[str, str] | None:
    if level is None:
        return None
    return label, (f"{level.no}. " if level.no is not None else "") + level.name


def _account(a) -> str:
    """予算科目 as one line: `一般会計 2款 1項 6目 4事業` (parts the source leaves out are skipped)."""
    return " ".join(x.strip() for x in (a.account, a.kan, a.kou, a.moku, a.jigyou) if x and x.strip())


def _texts(items) -> list[tuple[str, str]]:
    return [(t.department or "", t.text) for t in items if t.text]


def _ojiya(book: Book) -> list[ReportMeasure]:
    out = []
    for s in book.sheets:
        years = list(s.actual_years)
        kpis = []
        for k in s.kpis:
            values = {y: (k.actual(y) or Quantity(fiscal_year=y)) for y in years}
            period = None
            if k.target_kind is TargetKind.CUMULATIVE:
                d = k.target_detail
                period = ((d.period_start if d and d.period_start else years[0]),
                          (d.period_end if d and d.period_end else years[-1]))
            kpis.append(ReportKpi(
                name=k.name, unit=k.unit, kind=k.target_kind, direction=k.direction,
                baseline=k.baseline, baseline_year=k.baseline_year or s.baseline_year, values=values,
                target=k.target, target_year=k.target_year or s.target_year, period=period,
                cost=k.cost_thousand_yen, category=k.category))
        levels = [lv for lv in (_level("基本目標", s.basic_goal), _level("基本方針", s.basic_policy),
                                _level("施策項目", s.measure)) if lv]
        if s.departments:
            levels.append(("担当課", "、".join(s.departments)))
        if s.strategy_page:
            levels.append(("総合戦略", s.strategy_page))
        title = s.measure.name if s.measure else (s.title or s.sheet)
        out.append(ReportMeasure(
            key=s.sheet_no or s.sheet, title=title, source_sheet=s.sheet, levels=levels,
            purpose=s.purpose, projects=list(s.projects), years=years, kpis=kpis,
            check=_texts(s.check_analysis), action=_texts(s.check_next), sheet_no=s.sheet_no))
    return out


def _joso(book: Book) -> list[ReportMeasure]:
    out = []
    ms = book.measure_sheet
    if ms is not None:
        kpis, years = [], []
        for ind in ms.indicators:
            b, t = ind.baseline.fiscal_year, ind.target.fiscal_year
            ys = list(range(b + 1, t + 1)) if b and t else []
            years = sorted(set(years) | set(ys))
            kpis.append(ReportKpi(
                name=ind.name, unit=ind.target.unit or ind.baseline.unit, kind=TargetKind.AT_YEAR,
                direction=Direction.UP, baseline=ind.baseline, baseline_year=b, values={},
                target=ind.target, target_year=t))
        for k in kpis:
            k.values = {y: Quantity(fiscal_year=y) for y in years}
        levels = [("施策の大綱", ms.outline), ("施策", ms.measure)]
        projects = [Project(name=p.get("name", ""), department=p.get("department"),
                            tags=[p["direction"]] if p.get("direction") else [])
                    for p in ms.projects]
        check = [(ms.opinion_title or "意見", ms.opinion)] if ms.opinion else []
        out.append(ReportMeasure(
            key="施策", title=ms.measure or ms.sheet, source_sheet=ms.sheet, levels=levels,
            purpose=ms.purpose, projects=projects, years=years, kpis=kpis, check=check,
            action=[], sheet_no="施策"))
    for n, p in enumerate(book.projects, start=1):
        dos = sorted(p.do_years, key=lambda d: d.fiscal_year)
        years = [d.fiscal_year for d in dos]
        numeric_targets = [d.target for d in dos if d.target.value is not None]
        target = numeric_targets[-1] if numeric_targets else (dos[-1].target if dos else Quantity())
        unit = target.unit or next((d.result.unit for d in dos if d.result.unit), None)
        kind = TargetKind.PER_YEAR if target.value is not None else TargetKind.QUALITATIVE
        name = (p.action_indicator.split("※")[0].strip() or "成果指標") if p.action_indicator \
            else "成果指標（成果目標に対する成果実績）"
        kpi = ReportKpi(
            name=name, unit=unit, kind=kind, direction=Direction.UP, baseline=Quantity(),
            baseline_year=None, values={d.fiscal_year: d.result for d in dos}, target=target,
            target_year=target.fiscal_year, year_targets=True)
        budget = [BudgetLine(d.fiscal_year, d.kind, d.amount, d.specific_revenue, d.target)
                  for d in dos]
        if p.plan_year:
            budget.append(BudgetLine(p.plan_year, "計画", p.plan_budget, p.plan_specific_revenue,
                                     p.plan_target))
        pos = p.position
        levels = [(k, pos[k]) for k in ("施策の大綱", "施策の目標", "施策", "施策の方向") if pos.get(k)]
        levels += [("事業名", p.name), ("担当課", p.department or "")]
        if account := _account(p.budget_account):
            levels.append(("予算科目", account))
        check = [(f"評価（{FiscalYear(d).label}）" if (d := p.check_year) else "評価",
                  p.check_evaluation),
                 ("分析・課題", p.check_analysis)]
        action = [("成果指標", p.action_indicator + (f"（単位: {p.action_unit}）"
                                                   if p.action_unit.strip("-— ") else "")),
                  (f"{FiscalYear(p.plan_year).label}の計画" if p.plan_year else "計画",
                   p.plan_content)]
        contents = [(f"{FiscalYear(d.fiscal_year).label} {d.kind}", d.content)
                    for d in reversed(dos) if d.content]
        projects = [Project(name=p.name, department=p.department,
                            description="\n".join(f"{a}: {b}" for a, b in contents))]
        out.append(ReportMeasure(
            key=f"{n:02d}", title=p.name, source_sheet=p.sheet, levels=levels, purpose=p.purpose,
            projects=projects, years=years, kpis=[kpi], check=[c for c in check if c[1]],
            action=[a for a in action if a[1]],
            policy=p.action_policy if p.action_policy in POLICIES else "", budget=budget))
    return out


def _nishitokyo(book: Book) -> list[ReportMeasure]:
    groups: OrderedDict[str, list] = OrderedDict()
    above: dict[str, str] = {}  # sheet → the last 取組みの方向性 seen on it
    for r in book.plan_rows:
        # a blank cell of the grouped column belongs to the group above (the reader warns)
        direction = r.direction.strip() or above.get(r.sheet, "")
        above[r.sheet] = direction
        groups.setdefault(direction or "（取組みの方向性の記載なし）", []).append(r)
    out = []
    for n, (direction, rows) in enumerate(groups.items(), start=1):
        years = list(NISHITOKYO_PLAN_YEARS)
        kpis, projects = [], []
        for r in rows:
            t = r.target
            kind = t.kind if t else TargetKind.NONE
            if kind is TargetKind.NONE and t and t.text and t.text.strip("-—－ "):
                kind = TargetKind.QUALITATIVE
            known = [q for q in r.current_values if q.value is not None]
            base = known[-1] if known else Quantity(text=r.current_text or None)
            period = None
            if kind is TargetKind.CUMULATIVE:
                period = (t.period_start or years[0], t.period_end or years[-1])
            target = Quantity(value=t.value, unit=t.unit, text=t.text, cell=t.cell,
                              fiscal_year=t.period_end) if t else Quantity()
            kpis.append(ReportKpi(
                name=r.indicator or r.project, unit=(t.unit if t else None) or base.unit,
                kind=kind, direction=Direction.UP, baseline=base,
                baseline_year=base.fiscal_year, values={y: Quantity(fiscal_year=y) for y in years},
                target=target, target_year=(t.period_end if t else None) or years[-1],
                period=period, category=r.measure or None, history=list(r.current_values),
                department=r.actors or None))
            desc = r.summary + (f"\n現状値: {r.current_text}" if r.current_text else "")
            projects.append(Project(name=r.project, department=r.actors or None,
                                    tags=[r.measure] if r.measure else [], description=desc))
        title = direction.split(" ", 1)[-1].split("\u3000", 1)[-1]
        out.append(ReportMeasure(
            key=f"{n:02d}", title=title, source_sheet=rows[0].sheet,
            levels=[("取組みの方向性", direction)], purpose="", projects=projects, years=years,
            kpis=kpis, check=[], action=[]))
    return out


def _eval_year(measures: list[ReportMeasure], book: Book) -> int:
    """The latest year with any actual typed; else the first plan year."""
    typed = [y for m in measures for k in m.kpis for y, q in k.values.items() if not q.is_empty]
    if typed:
        return max(typed)
    years = [y for m in measures for y in m.years]
    return min(years) if years else (book.fiscal_year or 2000)


def report_book(book: Book) -> ReportBook:
    """The common report model of a Book."""
    measures = {"progress": _ojiya, "projects": _joso, "plan_rows": _nishitokyo}[book.kind](book)
    edition = None
    if book.kind == "progress" and book.sheets:
        edition = book.sheets[0].extra.get("edition")
    edition = edition or book.fiscal_year
    created = datetime(edition, 4, 1) if edition else datetime(2000, 1, 1)
    title = source_title(book)
    rb = ReportBook(layout=book.layout, source=book.path, title=title,
                    eval_year=_eval_year(measures, book), created=created, measures=measures,
                    source_title=title)
    rb.measure_label, rb.category_label = LABELS.get(book.layout, ("施策", "区分"))
    return rb


def source_title(book: Book) -> str:
    """The source workbook's own title; else the plan its layout file names
    (`document_title`); else its file name (without extension). Never the first measure: a
    report is about the whole plan."""
    return (book.title or "").strip() or (book.document_title or "").strip() or Path(book.path).stem


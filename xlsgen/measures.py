"""Any Book → one common list of measures to report (ReportBook). Pure: no I/O.

One generic mapping over the one model (no kind or layout branches): a `ReportMeasure` is
one worksheet of the report: Plan (levels, purpose, projects), Do (KPIs with one value cell
per fiscal year in `years`, the cost block), Check (texts) and Action (texts and a 方針).
Each `ReportKpi` knows its kind and direction, so the achievement formulas can be chosen
from it (xlsgen.formulas.achievement). What the report calls a measure and a KPI's
category comes from the layout (`report:`), the plan's years from the Book.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from xlsgen.model import (
    Book,
    Direction,
    Kpi,
    Level,
    Measure,
    ProjectLine,
    Quantity,
    TargetKind,
    Text,
)
from xlsgen.wareki import FiscalYear

POLICIES = ("拡充", "継続", "改善", "縮小", "統合", "廃止", "完了")
# the report's own headings where the sheet names none (a level's key → heading)
LEVEL_HEADINGS = {"basic_goal": "基本目標", "basic_policy": "基本方針", "measure": "施策"}
DEPARTMENT_HEADING = "担当課"
STRATEGY_PAGE_HEADING = "総合戦略"
MEASURE_LABEL, CATEGORY_LABEL = "施策", "区分"


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
    history: list[Quantity] = field(default_factory=list)  # past values (a 現状値 series)
    department: str | None = None  # 担当課 (or 事業主体) of this KPI when the source names one
    # --- one model (schema 2): what the source holds per KPI beyond the numbers ---------
    targets: dict[int, Quantity] = field(default_factory=dict)  # per-year targets as read
    texts: dict[int, str] = field(default_factory=dict)  # per-year texts (実績の分析・要因)
    text_label: str = ""  # what the source calls those texts
    note: str = ""  # 備考 of the KPI
    own_rates: dict[int, Quantity] = field(default_factory=dict)  # the city's own 達成率
    own_grades: dict[int, Quantity] = field(default_factory=dict)  # the city's own 評価


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
    funding: bool = False  # the layout's own key declared a 財源 line (`funding: true`)


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
    projects: list[ProjectLine]
    years: list[int]
    kpis: list[ReportKpi]
    check: list[tuple[str, str]]  # (label, text)
    action: list[tuple[str, str]]
    policy: str = ""
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
    city: str = ""  # the city (layout `city`), for titles
    plan_years: list[int] = field(default_factory=list)  # the plan's years (layout or table)
    achievement_rule: str | None = None  # the city's own rule (layout `achievement.rule`)
    grade_scale: list[dict] = field(default_factory=list)  # the city's own scale (layout `grades`)


def level_text(level: Level) -> str:
    """A level as the Plan shows it: `1. name`, `1-1 name`, `(1) name` or the name alone."""
    if not level.code:
        return level.name
    return f"{level.code}{'.' if level.code.isdigit() else ''} {level.name}".rstrip()


def text_label(t: Text) -> str:
    """A check/action text's heading: its department, else its label (and year)."""
    if t.department:
        return t.department
    if t.fiscal_year:
        return f"{t.label or ''}（{FiscalYear(t.fiscal_year).label}）"
    return t.label or ""


def _years(m: Measure, plan: list[int]) -> list[int]:
    """The year columns of a measure: its actual years within the plan; a measure without
    any (targets only, or past values only) takes the plan's years after its baseline."""
    years = [y for y in m.actual_years if y in plan] if plan else list(m.actual_years)
    if years:
        return years
    b, t = m.baseline_year, m.target_year
    return [y for y in plan if (b is None or y > b) and (t is None or y <= t)]


def _kpi(k: Kpi, m: Measure, years: list[int]) -> ReportKpi:
    values = {y: (k.actual(y) or Quantity(fiscal_year=y)) for y in years}
    period = None
    if k.target_kind is TargetKind.CUMULATIVE and years:
        d = k.target_detail
        period = ((d.period_start if d and d.period_start else years[0]),
                  (d.period_end if d and d.period_end else years[-1]))
    history = [q for q in k.actuals if q.fiscal_year not in years]
    # a baseline without its own year is of the measure's baseline year (a table's column),
    # unless it is the last of the KPI's past values
    shared = not k.baseline.is_empty and not k.baseline.is_none_mark and not history
    texts = [t for t in k.texts if t.fiscal_year and t.text]
    return ReportKpi(
        name=k.name, unit=k.unit, kind=k.target_kind, direction=k.direction,
        baseline=k.baseline, baseline_year=k.baseline_year or (m.baseline_year if shared else None),
        values=values, target=k.target, target_year=k.target_year or m.target_year,
        period=period, cost=k.cost, category=k.category, history=history,
        department=k.department,
        targets={q.fiscal_year: q for q in k.targets if q.fiscal_year},
        texts={t.fiscal_year: t.text for t in texts},
        text_label=texts[0].label or "" if texts else "",
        note=k.notes,
        own_rates={q.fiscal_year: q for q in k.achievements if q.fiscal_year},
        own_grades={q.fiscal_year: q for q in k.grades if q.fiscal_year})


def _cost(m: Measure) -> ReportCost | None:
    cost = m.cost
    if cost is None:
        return None
    return ReportCost(
        unit=cost.unit or "", years=list(cost.years),
        lines=[ReportCostLine(ln.key, ln.label or ln.key,
                              {q.fiscal_year: q for q in ln.values if q.fiscal_year}, ln.funding)
               for ln in cost.lines],
        year_kinds=dict(cost.year_kinds),
        unit_cost_kpi=(cost.unit_cost or {}).get("indicator"))


def _projects(m: Measure) -> list[ProjectLine]:
    """The measure's project lines (sub-projects, 事務事業 lines)."""
    return list(m.projects)


def _title(m: Measure) -> str:
    return m.measure.name if m.measure else (m.title or m.sheet)


def _measure(m: Measure, key: str, plan: list[int]) -> ReportMeasure:
    years = _years(m, plan)
    kpis = [_kpi(k, m, years) for k in m.kpis]
    levels = [(lv.label or LEVEL_HEADINGS.get(lv.key or "", ""), level_text(lv))
              for lv in (m.basic_goal, m.basic_policy, *m.levels, m.measure) if lv]
    if m.departments and not (m.kpis and all(k.department for k in m.kpis)):
        levels.append((DEPARTMENT_HEADING, "、".join(m.departments)))
    if m.strategy_page:
        levels.append((STRATEGY_PAGE_HEADING, m.strategy_page))
    levels += [(t.label or t.key, t.text) for t in m.texts if t.role == "plan" and t.text]
    title = _title(m)
    return ReportMeasure(
        key=key, title=title, source_sheet=m.sheet, levels=levels, purpose=m.purpose,
        projects=_projects(m), years=years, kpis=kpis,
        check=[(text_label(t), t.text) for t in m.texts if t.role == "check" and t.text],
        action=[(text_label(t), t.text) for t in m.texts if t.role == "action" and t.text],
        policy=m.policy if m.policy in POLICIES else "", sheet_no=m.number,
        project_lines=[ReportProjectLine(p.name, p.department, p.content, list(p.tags),
                                         [(a.fiscal_year, a.kind or "", a.value) for a in p.amounts],
                                         next((a.value.unit for a in p.amounts if a.value.unit), None))
                       for p in m.projects if p.amounts],
        cost=_cost(m), evaluations=[(e.label or e.key, e.value) for e in m.evaluations])


def _eval_year(measures: list[ReportMeasure], book: Book) -> int:
    """The latest year with any actual typed; else the first plan year."""
    typed = [y for m in measures for k in m.kpis for y, q in k.values.items() if not q.is_empty]
    if typed:
        return max(typed)
    years = [y for m in measures for y in m.years]
    return min(years) if years else (book.fiscal_year or 2000)


def report_book(book: Book) -> ReportBook:
    """The common report model of a Book."""
    plan = list(book.plan_years)
    measures, n = [], 0
    per_sheet = Counter(m.sheet for m in book.measures)
    for m in book.measures:
        key = m.number
        if not key and per_sheet[m.sheet] == 1 and m.sheet != _title(m):
            key = m.sheet  # a measure's own sheet names it
        if not key:
            n += 1
            key = f"{n:02d}"
        measures.append(_measure(m, key, plan))
    edition = (book.measures[0].extra.get("edition") if book.measures else None) or book.fiscal_year
    created = datetime(edition, 4, 1) if edition else datetime(2000, 1, 1)
    title = source_title(book)
    report = book.report or {}
    return ReportBook(
        layout=book.layout, source=book.path, title=title, eval_year=_eval_year(measures, book),
        created=created, measures=measures, source_title=title,
        measure_label=report.get("measure_label") or MEASURE_LABEL,
        category_label=report.get("category_label") or CATEGORY_LABEL,
        city=book.city, plan_years=plan,
        achievement_rule=(report.get("achievement") or {}).get("rule"),
        grade_scale=list((report.get("grades") or {}).get("scale") or []))


def source_title(book: Book) -> str:
    """The source workbook's own title; else the plan its layout file names
    (`document_title`); else its file name (without extension). Never the first measure: a
    report is about the whole plan."""
    return (book.title or "").strip() or (book.document_title or "").strip() or Path(book.path).stem

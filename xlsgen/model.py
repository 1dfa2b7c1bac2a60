"""The typed model: the only thing the stages (read, validate, roll forward, render) share.

No I/O here. Every value read from a workbook keeps its number, unit, the text as typed
and the cell it came from, so a finding or a report can always point back at the input.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

# Sheets xlsgen adds to the workbooks it writes (roll-forward history, change log, formula
# map). Readers pass over them without a finding; writers use these names.
CHECK_HISTORY_SHEET = "前年度評価"
PAST_YEARS_SHEET = "過年度実績"
CHANGE_LOG_SHEET = "変更履歴"
FORMULA_MAP_SHEET = "数式一覧"
COLLECTION_STATUS_SHEET = "回収状況"  # xlsgen collect: one row per department
COLLECTION_PROBLEMS_SHEET = "回収の指摘"  # xlsgen collect: every problem of the returned forms
XLSGEN_SHEETS = (CHECK_HISTORY_SHEET, PAST_YEARS_SHEET, CHANGE_LOG_SHEET, FORMULA_MAP_SHEET,
                 COLLECTION_STATUS_SHEET, COLLECTION_PROBLEMS_SHEET)


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass
class Finding:
    """One problem found in an input: where it is and what it means, in Japanese."""

    severity: Severity
    code: str
    message: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "file": self.file,
            "sheet": self.sheet,
            "cell": self.cell,
            "message": self.message,
        }


class TargetKind(str, Enum):
    """How a KPI's target is meant.

    cumulative: a sum over a period (延べ900人（H31～H35）, 3件(H31〜H35の合計)).
    running_total: a running count that includes the baseline (（累計）in the name).
    per_year: the same amount each year (100件/年, 1,000人(H31〜H35毎年)).
    at_year: a level to reach by a year (30人(H35), 延べ400(H35時点), 300商品(〜H35)).
    qualitative: a text target (整備完了, 認定).
    none: no target (`-` or empty).
    """

    CUMULATIVE = "cumulative"
    RUNNING_TOTAL = "running_total"
    PER_YEAR = "per_year"
    AT_YEAR = "at_year"
    QUALITATIVE = "qualitative"
    NONE = "none"


class Direction(str, Enum):
    UP = "up"  # higher is better
    DOWN = "down"  # lower is better


@dataclass
class Quantity:
    """A value as typed in a cell: number (None if not numeric), unit, qualifier, raw text.

    Percentages are held in percent (a cell 0.178 formatted as % is 17.8 with unit "%").
    """

    value: float | None = None
    unit: str | None = None
    text: str | None = None
    qualifier: str | None = None  # 以上 / 以下 / 未満 / 超 / 程度
    cell: str | None = None
    fiscal_year: int | None = None
    formula: str | None = None  # the cell's formula when the value is a cached result
    status: str | None = None  # a status text such as 集計中 (not a value, not "none")
    marked_none: bool = False  # the text is one of the layout's own none marks (該当なし)

    @property
    def is_empty(self) -> bool:
        text = (self.text or "").strip()
        return self.value is None and (not text or text == self.unit)

    @property
    def is_none_mark(self) -> bool:
        """True for `-`, `—` and similar "nothing here" marks."""
        return self.value is None and (self.marked_none or (self.text or "").strip() in NONE_MARKS)

    @property
    def is_qualitative(self) -> bool:
        return (self.value is None and not self.is_empty and not self.is_none_mark
                and not self.status)

    def to_dict(self) -> dict[str, Any]:
        d = {
            "fiscal_year": self.fiscal_year,
            "value": self.value,
            "unit": self.unit,
            "text": self.text,
            "qualifier": self.qualifier,
            "cell": self.cell,
        }
        if self.formula:
            d["formula"] = self.formula
        if self.status:
            d["status"] = self.status
        if self.marked_none:
            d["none"] = True
        return d


NONE_MARKS = frozenset({"-", "－", "—", "―", "‐", "ー", "–", "−", "‒", "―%", "—%", "-%"})


@dataclass
class Target:
    """A target expression parsed: `延べ900人（H31～H35）` → 900 人 cumulative 2019–2023."""

    value: float | None
    unit: str | None
    kind: TargetKind
    period_start: int | None = None  # Western fiscal year
    period_end: int | None = None
    text: str | None = None
    qualifier: str | None = None
    cell: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "kind": self.kind.value,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "text": self.text,
            "qualifier": self.qualifier,
            "cell": self.cell,
        }


@dataclass
class Level:
    """One level of the strategy tree (基本目標, 基本方針, 施策項目) with its number."""

    no: int | None
    name: str
    cell: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"no": self.no, "name": self.name, "cell": self.cell}


@dataclass
class Project:
    """A sub-project (事業) of a measure: `■name（課）【tag】` and its description."""

    name: str
    department: str | None = None
    tags: list[str] = field(default_factory=list)
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DepartmentText:
    """A Check or Action text under a `【…課】` heading (department None if there is none)."""

    department: str | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"department": self.department, "text": self.text}


@dataclass
class Kpi:
    """A key performance indicator row of the Do table."""

    name: str
    category: str | None = None
    unit: str | None = None
    baseline: Quantity = field(default_factory=Quantity)
    actuals: list[Quantity] = field(default_factory=list)
    target: Quantity = field(default_factory=Quantity)
    cost_thousand_yen: Quantity | None = None
    target_kind: TargetKind = TargetKind.AT_YEAR
    direction: Direction = Direction.UP
    target_detail: Target | None = None
    row: int | None = None
    tags: list[str] = field(default_factory=list)
    baseline_year: int | None = None  # this KPI's own baseline year (a table may mix years)
    target_year: int | None = None
    targets: list[Quantity] = field(default_factory=list)  # per-year targets, as read
    achievements: list[Quantity] = field(default_factory=list)  # the city's own 達成率, as read
    grades: list[Quantity] = field(default_factory=list)  # the city's own 評価, as read
    sheet: str | None = None  # the sheet the row is on (when a record spans sheets)
    extra: dict[str, Any] = field(default_factory=dict)  # a layout's own KPI fields

    def actual(self, fiscal_year: int) -> Quantity | None:
        for q in self.actuals:
            if q.fiscal_year == fiscal_year:
                return q
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "name": self.name,
            "unit": self.unit,
            "tags": self.tags,
            "target_kind": self.target_kind.value,
            "direction": self.direction.value,
            "baseline": self.baseline.to_dict(),
            "actuals": [q.to_dict() for q in self.actuals],
            "target": self.target.to_dict(),
            "target_detail": self.target_detail.to_dict() if self.target_detail else None,
            "cost_thousand_yen": self.cost_thousand_yen.to_dict() if self.cost_thousand_yen else None,
            "row": self.row,
            "baseline_year": self.baseline_year,
            "target_year": self.target_year,
            "targets": [q.to_dict() for q in self.targets],
            "achievements": [q.to_dict() for q in self.achievements],
            "grades": [q.to_dict() for q in self.grades],
            **({"extra": self.extra} if self.extra else {}),
        }


@dataclass
class ProgressSheet:
    """One 進行管理シート: a measure (施策) with its Plan, Do (KPIs), Check and Action.

    `cells` maps each field to the cell it was read from (for findings and roll-forward);
    `year_columns` maps each fiscal year of the KPI table to its column letter.
    """

    sheet: str
    sheet_no: str | None = None
    title: str | None = None
    strategy_page: str | None = None
    basic_goal: Level | None = None
    basic_policy: Level | None = None
    measure: Level | None = None
    departments: list[str] = field(default_factory=list)
    purpose: str = ""
    projects: list[Project] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    check_analysis: list[DepartmentText] = field(default_factory=list)
    check_next: list[DepartmentText] = field(default_factory=list)
    cells: dict[str, str] = field(default_factory=dict)
    kpi_header_row: int | None = None
    year_columns: dict[int, str] = field(default_factory=dict)
    baseline_year: int | None = None
    target_year: int | None = None
    actual_years: list[int] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # what a roll-forward changes, as the layout declares it: {"year": FY, "next_input":
    # [cells that become next year's input], "history": {text block: cell}}
    rollforward: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "sheet_no": self.sheet_no,
            "title": self.title,
            "strategy_page": self.strategy_page,
            "basic_goal": self.basic_goal.to_dict() if self.basic_goal else None,
            "basic_policy": self.basic_policy.to_dict() if self.basic_policy else None,
            "measure": self.measure.to_dict() if self.measure else None,
            "departments": self.departments,
            "purpose": self.purpose,
            "projects": [p.to_dict() for p in self.projects],
            "kpis": [k.to_dict() for k in self.kpis],
            "check_analysis": [t.to_dict() for t in self.check_analysis],
            "check_next": [t.to_dict() for t in self.check_next],
            "baseline_year": self.baseline_year,
            "target_year": self.target_year,
            "actual_years": self.actual_years,
            "cells": self.cells,
            **({"extra": self.extra} if self.extra else {}),
            **({"rollforward": self.rollforward} if self.rollforward else {}),
        }


# --- 常総 事務事業評価シート ---------------------------------------------------


@dataclass
class BudgetAccount:
    """予算科目: 会計 / 款 / 項 / 目 / 事業."""

    account: str | None = None
    kan: str | None = None
    kou: str | None = None
    moku: str | None = None
    jigyou: str | None = None
    cell: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DoYear:
    """One year of the 【Do】 table: 予算額 (the current year) or 決算額 (closed years)."""

    fiscal_year: int
    kind: str  # 予算額 / 決算額
    amount: Quantity  # 千円
    specific_revenue: Quantity  # うち特定財源, 千円
    target: Quantity  # 成果目標
    result: Quantity  # 成果実績
    content: str = ""  # 実施内容と改善点
    row: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "fiscal_year": self.fiscal_year,
            "kind": self.kind,
            "amount": self.amount.to_dict(),
            "specific_revenue": self.specific_revenue.to_dict(),
            "target": self.target.to_dict(),
            "result": self.result.to_dict(),
            "content": self.content,
            "row": self.row,
        }


@dataclass
class ProjectSheet:
    """One 常総 事務事業評価シート (a project): Do years, Check, Action and Plan."""

    sheet: str
    name: str
    department: str | None = None
    budget_account: BudgetAccount = field(default_factory=BudgetAccount)
    purpose: str = ""
    position: dict[str, str] = field(default_factory=dict)  # 施策の大綱 / 施策の目標 / 施策 / 施策の方向
    do_years: list[DoYear] = field(default_factory=list)
    check_year: int | None = None
    check_evaluation: str = ""
    check_analysis: str = ""
    action_policy: str = ""
    action_indicator: str = ""
    action_unit: str = ""
    plan_year: int | None = None
    plan_budget: Quantity = field(default_factory=Quantity)
    plan_specific_revenue: Quantity = field(default_factory=Quantity)
    plan_target: Quantity = field(default_factory=Quantity)
    plan_content: str = ""
    future_targets: list[Quantity] = field(default_factory=list)
    cells: dict[str, str] = field(default_factory=dict)
    rollforward: dict[str, Any] = field(default_factory=dict)  # as on ProgressSheet

    def to_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "name": self.name,
            "department": self.department,
            "budget_account": self.budget_account.to_dict(),
            "purpose": self.purpose,
            "position": self.position,
            "do_years": [d.to_dict() for d in self.do_years],
            "check_year": self.check_year,
            "check_evaluation": self.check_evaluation,
            "check_analysis": self.check_analysis,
            "action_policy": self.action_policy,
            "action_indicator": self.action_indicator,
            "action_unit": self.action_unit,
            "plan_year": self.plan_year,
            "plan_budget": self.plan_budget.to_dict(),
            "plan_specific_revenue": self.plan_specific_revenue.to_dict(),
            "plan_target": self.plan_target.to_dict(),
            "plan_content": self.plan_content,
            "future_targets": [q.to_dict() for q in self.future_targets],
            "cells": self.cells,
            **({"rollforward": self.rollforward} if self.rollforward else {}),
        }


@dataclass
class MeasureIndicator:
    """The measure-level indicator of the 常総 施策 sheet (e.g. 2017 12.3% → 2022 17.3%)."""

    name: str
    idea: str = ""
    direction_text: str = ""
    baseline: Quantity = field(default_factory=Quantity)
    target: Quantity = field(default_factory=Quantity)
    row: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "idea": self.idea,
            "direction_text": self.direction_text,
            "baseline": self.baseline.to_dict(),
            "target": self.target.to_dict(),
            "row": self.row,
        }


@dataclass
class MeasureSheet:
    """The 常総 施策 sheet: the measure, its projects and departments, indicator, opinion."""

    sheet: str
    outline: str = ""  # 施策の大綱
    purpose: str = ""  # 施策の目的
    measure: str = ""  # 施策
    projects: list[dict[str, str]] = field(default_factory=list)  # direction / name / department
    indicators: list[MeasureIndicator] = field(default_factory=list)
    opinion_title: str = ""
    opinion: str = ""
    cells: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "outline": self.outline,
            "purpose": self.purpose,
            "measure": self.measure,
            "projects": self.projects,
            "indicators": [i.to_dict() for i in self.indicators],
            "opinion_title": self.opinion_title,
            "opinion": self.opinion,
            "cells": self.cells,
        }


# --- 西東京 施策体系 --------------------------------------------------------------


@dataclass
class PlanRow:
    """One activity-indicator row of the 西東京 施策体系 table."""

    row: int
    sheet: str = ""
    direction: str = ""  # 取組みの方向性
    measure: str = ""  # 施策 (empty where the source lost it)
    project: str = ""  # 事業名
    actors: str = ""  # 事業主体
    summary: str = ""  # 事業概要
    indicator: str = ""  # 活動指標
    current_text: str = ""  # 現状値 as typed
    current_values: list[Quantity] = field(default_factory=list)
    target: Target | None = None
    note: str = ""  # 参考
    cells: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "sheet": self.sheet,
            "direction": self.direction,
            "measure": self.measure,
            "project": self.project,
            "actors": self.actors,
            "summary": self.summary,
            "indicator": self.indicator,
            "current_text": self.current_text,
            "current_values": [q.to_dict() for q in self.current_values],
            "target": self.target.to_dict() if self.target else None,
            "note": self.note,
            "cells": self.cells,
        }


# --- a workbook as read ------------------------------------------------------------


@dataclass
class Book:
    """A workbook read into the model. Which fields are filled depends on `layout`.

    `kind` (declared by the layout file) says which: progress: `sheets` (ProgressSheet);
    projects: `measure_sheet` and `projects` (ProjectSheet); plan_rows: `plan_rows` (PlanRow).
    `findings` holds what the reader noticed on the way.
    """

    layout: str
    path: str
    fiscal_year: int | None = None
    title: str | None = None
    sheets: list[ProgressSheet] = field(default_factory=list)
    measure_sheet: MeasureSheet | None = None
    projects: list[ProjectSheet] = field(default_factory=list)
    plan_rows: list[PlanRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    kind: str = "progress"  # progress / projects / plan_rows (see above)
    layout_title: str | None = None  # the layout's display name (小千谷市 進行管理シート)
    document_title: str | None = None  # the plan these workbooks belong to (layout `document_title`)
    layout_file: str | None = None  # the layout file the book was read with
    rollforward: dict[str, Any] = field(default_factory=dict)  # the layout's declaration

    @property
    def measure_count(self) -> int:
        """Measures (or projects, or plan rows) read: 0 means nothing was read."""
        return len(self.sheets) + len(self.projects) + len(self.plan_rows) + (
            1 if self.measure_sheet is not None else 0)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "layout": self.layout,
            "path": self.path,
            "fiscal_year": self.fiscal_year,
            "title": self.title,
        }
        if self.kind == "progress":
            d["sheets"] = [s.to_dict() for s in self.sheets]
        elif self.kind == "projects":
            d["measure_sheet"] = self.measure_sheet.to_dict() if self.measure_sheet else None
            d["projects"] = [p.to_dict() for p in self.projects]
        elif self.kind == "plan_rows":
            d["rows"] = [r.to_dict() for r in self.plan_rows]
        if self.layout_title or self.layout_file:
            d["layout_title"] = self.layout_title
            d["layout_file"] = self.layout_file
        d["findings"] = [f.to_dict() for f in self.findings]
        return d


# --- a roll-forward plan (planned by `rollforward`, applied by `xlsgen.package`) --------


@dataclass(frozen=True)
class Edit:
    """One cell of the output: its new value, and how to present it."""

    sheet: str
    cell: str
    value: Any
    reason: str
    number_format: str | None = None  # None: keep the cell's format
    shade: bool = False  # an input cell left for the clerk (light yellow)
    comment: str | None = None
    unshade_like: str | None = None  # a filled input cell: take this cell's fill if still yellow


@dataclass
class Plan:
    """The pure result of planning a roll: cell edits, history rows, column insertions."""

    edits: list[Edit] = field(default_factory=list)
    history: dict[str, list[tuple]] = field(default_factory=dict)  # sheet → rows (no header)
    findings: list[Finding] = field(default_factory=list)
    insert_cols: list[tuple[str, int, int]] = field(default_factory=list)  # (sheet, idx, n)
    history_headers: dict[str, tuple[tuple, tuple]] = field(default_factory=dict)  # → (headers, widths)


@dataclass(frozen=True)
class Change:
    """One line of 変更履歴. `what` says what changed when the value did not (fill, note...)."""

    sheet: str
    cell: str
    before: Any
    after: Any
    reason: str
    what: str = ""


Snapshot = dict[str, dict[str, tuple[Any, str]]]  # sheet → cell → (value, number format)

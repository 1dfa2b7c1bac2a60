"""The typed model: the only thing the stages (read, validate, roll forward, render) share.

One shape for every layout (`schema_version` 2.0, described for users in docs/layouts.md and
as data in xlsgen/schema/book.schema.json): a `Book` holds `Measure`s, each with its levels,
texts, the city's own evaluations, project lines, KPIs and a cost block by year. Python
attribute names are the JSON keys.

No I/O here. Every value read from a workbook keeps its number, unit, the text as typed
and the cell it came from, so a finding or a report can always point back at the input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

SCHEMA_VERSION = "2.0"

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

TEXT_ROLES = ("plan", "do", "check", "action", "other")
# the standard keys of a cost block's lines (a layout may add its own)
COST_KEYS = ("project_cost", "national", "prefectural", "bond", "other", "general", "specific",
             "staff", "staff_unit_cost", "personnel", "total")
# lines that are part of 事業費 (its 財源内訳): none of them may exceed it
FUNDING_KEYS = ("national", "prefectural", "bond", "other", "general", "specific")


def split_ref(ref: str, sheet: str | None = None) -> tuple[str | None, str]:
    """A recorded cell → (sheet, A1): `'施策1その2'!H8` names its own sheet (a cell on another
    sheet of a record grouped over several sheets); a plain `H8` is on `sheet`."""
    if "!" not in ref:
        return sheet, ref
    name, a1 = ref.rsplit("!", 1)
    if len(name) >= 2 and name[0] == name[-1] == "'":
        name = name[1:-1].replace("''", "'")
    return name, a1


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

    def __post_init__(self):
        # a cell on another sheet of a grouped record is written `'Sheet'!A1`: name that sheet
        if self.cell and "!" in self.cell:
            self.sheet, self.cell = split_ref(self.cell, self.sheet)

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


NONE_MARKS = frozenset({"-", "－", "—", "―", "‐", "ー", "–", "−", "‒", "―%", "—%", "-%"})


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
        """True for `-`, `—` and similar "nothing here" marks (and the layout's own)."""
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
        if self.is_none_mark:
            d["none"] = True
        return d


def _qs(items) -> list[dict[str, Any]]:
    return [q.to_dict() for q in items]


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
    """One level of the strategy tree (基本目標, 基本方針, 施策項目, 施策の方向 …).

    `key` is the layout's name for it, `label` what the sheet calls it, `code` its number
    as written (normalised: "1", "1-1", "1-(1)", "Ⅰ", "(1)") and `no` that number as an
    integer when it is one (`(1)` → 1, `Ⅱ` → 2; a code with a dash has none). `cell` is where
    the name is; `cells` says where the code and the name are (`{"code": "B4", "name":
    "C4"}`; one cell for both when they share it)."""

    no: int | None
    name: str
    cell: str | None = None
    key: str | None = None
    label: str | None = None
    code: str | None = None
    cells: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "no": self.no, "code": self.code,
                "name": self.name, "cell": self.cell, "cells": dict(self.cells)}


@dataclass
class Text:
    """A text of a record: a text block (現状分析), a field (事業の目的 …) or a per-year text
    (実施内容と改善点). `role` places it in the PDCA cycle; `department` is the `【…課】`
    heading it was under."""

    key: str
    text: str
    label: str | None = None
    role: str = "other"  # plan | do | check | action | other
    department: str | None = None
    fiscal_year: int | None = None
    cell: str | None = None
    # where else its parts are: {"department": "A48"} (a text table's 担当課 cell of its row)
    cells: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "role": self.role,
                "department": self.department, "fiscal_year": self.fiscal_year,
                "text": self.text, "cell": self.cell, "cells": dict(self.cells)}


@dataclass
class Evaluation:
    """The city's own evaluation of a record (有効性, 効率性, 総合評価 …), as typed."""

    key: str
    value: str
    label: str | None = None
    cell: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "value": self.value, "cell": self.cell}


@dataclass
class Amount:
    """An amount of a project line in one year: `kind` as the sheet names it (決算額,
    予算額 …); `value.unit` the sheet's unit (千円 or 円)."""

    fiscal_year: int | None
    value: Quantity
    kind: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"fiscal_year": self.fiscal_year, "kind": self.kind, "value": self.value.to_dict()}


@dataclass
class PeriodTotal:
    """A column that totals a table's years (計画期間計（R5～R7）, 合計): the total of one
    line over `years` (first and last fiscal year), never one year's value. `kind` is what
    the header calls it."""

    kind: str
    years: list[int]
    value: Quantity

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "years": list(self.years), "value": self.value.to_dict()}


@dataclass
class ProjectLine:
    """A sub-project or 事務事業 line of a record: `■name（課）【tag】` and its description,
    or a row of a project table with its amounts by year."""

    name: str
    department: str | None = None
    content: str = ""
    tags: list[str] = field(default_factory=list)
    amounts: list[Amount] = field(default_factory=list)
    cells: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # a table's other columns (No. …)
    totals: list[PeriodTotal] = field(default_factory=list)  # a 合計 / 計画期間計 column

    def to_dict(self) -> dict[str, Any]:
        d = {"name": self.name, "department": self.department, "content": self.content,
             "tags": list(self.tags), "amounts": [a.to_dict() for a in self.amounts],
             "cells": dict(self.cells), "extra": dict(self.extra)}
        if self.totals:
            d["totals"] = [t.to_dict() for t in self.totals]
        return d


@dataclass
class CostLine:
    """One line of a cost block (事業費, 国庫支出金, 職員人工 …), one value per year. `key`
    is one of COST_KEYS or the layout's own; `label` what the sheet calls the line."""

    key: str
    label: str | None = None
    values: list[Quantity] = field(default_factory=list)
    totals: list[PeriodTotal] = field(default_factory=list)  # a 合計 / 計画期間計 column
    funding: bool = False  # the layout's own key declared a 財源 (`funding: true`)

    def value(self, fiscal_year: int) -> Quantity | None:
        return next((q for q in self.values if q.fiscal_year == fiscal_year), None)

    def to_dict(self) -> dict[str, Any]:
        d = {"key": self.key, "label": self.label, "values": _qs(self.values)}
        if self.totals:
            d["totals"] = [t.to_dict() for t in self.totals]
        if self.funding:
            d["funding"] = True
        return d


@dataclass
class CostBlock:
    """A record's cost by year, kept in the unit the sheet uses (千円 or 円). `year_kinds`
    says what each year's column is (決算額 / 予算額 / 計画, as the sheet names it).
    `unit_cost` (単位コスト) is derived: total ÷ the named indicator's actual of each year."""

    unit: str | None = None
    years: list[int] = field(default_factory=list)
    year_kinds: dict[int, str] = field(default_factory=dict)
    lines: list[CostLine] = field(default_factory=list)
    unit_cost: dict[str, Any] | None = None  # {"indicator": KPI name, "values": [Quantity]}
    cells: dict[str, str] = field(default_factory=dict)

    def line(self, key: str) -> CostLine | None:
        return next((ln for ln in self.lines if ln.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        uc = None
        if self.unit_cost is not None:
            uc = {"indicator": self.unit_cost.get("indicator"),
                  "values": _qs(self.unit_cost.get("values") or [])}
        return {"unit": self.unit, "years": list(self.years),
                "year_kinds": {str(y): k for y, k in self.year_kinds.items()},
                "lines": [ln.to_dict() for ln in self.lines], "unit_cost": uc,
                "cells": dict(self.cells)}


@dataclass
class Kpi:
    """A key performance indicator: its values by year, targets, the city's own rates."""

    name: str
    category: str | None = None
    unit: str | None = None
    baseline: Quantity = field(default_factory=Quantity)
    actuals: list[Quantity] = field(default_factory=list)
    target: Quantity = field(default_factory=Quantity)  # the final target
    cost: Quantity | None = None  # 事業費 of the KPI row, its unit recorded (千円 / 円)
    target_kind: TargetKind = TargetKind.AT_YEAR
    direction: Direction = Direction.UP
    target_detail: Target | None = None
    row: int | None = None
    tags: list[str] = field(default_factory=list)
    baseline_year: int | None = None  # this KPI's own baseline year (a table may mix years)
    target_year: int | None = None
    targets: list[Quantity] = field(default_factory=list)  # per-year targets, as read
    estimates: list[Quantity] = field(default_factory=list)  # 見込 (a year's expected value), as read
    achievements: list[Quantity] = field(default_factory=list)  # the city's own 達成率, as read
    grades: list[Quantity] = field(default_factory=list)  # the city's own 評価, as read
    sheet: str | None = None  # the sheet the row is on (when a record spans sheets)
    department: str | None = None  # 担当課 / 事業主体 of this KPI when the source names one
    texts: list[Text] = field(default_factory=list)  # per-year texts (fiscal_year set)
    notes: str = ""  # 備考 / 参考
    cells: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # a layout's own KPI fields

    def actual(self, fiscal_year: int) -> Quantity | None:
        return next((q for q in self.actuals if q.fiscal_year == fiscal_year), None)

    def target_of(self, fiscal_year: int) -> Quantity | None:
        """The target of one year (per-year targets), else None."""
        return next((q for q in self.targets if q.fiscal_year == fiscal_year), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "name": self.name,
            "unit": self.unit,
            "department": self.department,
            "tags": list(self.tags),
            "target_kind": self.target_kind.value,
            "direction": self.direction.value,
            "baseline": self.baseline.to_dict(),
            "baseline_year": self.baseline_year,
            "actuals": _qs(self.actuals),
            "target": self.target.to_dict(),
            "target_year": self.target_year,
            "target_detail": self.target_detail.to_dict() if self.target_detail else None,
            "targets": _qs(self.targets),
            "estimates": _qs(self.estimates),
            "achievements": _qs(self.achievements),
            "grades": _qs(self.grades),
            "cost": self.cost.to_dict() if self.cost else None,
            "texts": [t.to_dict() for t in self.texts],
            "notes": self.notes,
            "row": self.row,
            "sheet": self.sheet,
            "cells": dict(self.cells),
            "extra": self.extra,
        }


@dataclass
class Measure:
    """One record: a 施策 (or a 事務事業 for project sheets) with its Plan, Do, Check, Action.

    `cells` maps each field to the cell it was read from (for findings and roll-forward);
    `year_columns` maps each fiscal year of the KPI table to its column letter.
    """

    sheet: str
    sheets: list[str] = field(default_factory=list)
    number: str | None = None  # シート№ / 施策番号 as text ("01")
    title: str | None = None
    strategy_page: str | None = None
    basic_goal: Level | None = None
    basic_policy: Level | None = None
    measure: Level | None = None  # the record's own name and level
    levels: list[Level] = field(default_factory=list)  # further levels (施策の方向 …)
    departments: list[str] = field(default_factory=list)
    purpose: str = ""
    policy: str = ""  # 方針 (拡充 / 継続 / …) when the sheet has one
    texts: list[Text] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    projects: list[ProjectLine] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    cost: CostBlock | None = None
    # the 合計 row of a further table (`tables.X.total`), by year: table name → [Amount]
    totals: dict[str, list[Amount]] = field(default_factory=dict)
    kpi_header_row: int | None = None
    year_columns: dict[int, str] = field(default_factory=dict)
    baseline_year: int | None = None
    target_year: int | None = None
    actual_years: list[int] = field(default_factory=list)
    cells: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # the geometry of every table read (name → {"holds", "sheet", "header_row", "first_row",
    # "last_row", "year_columns", "year_roles", "years", …}; `kpi` is the KPI table): what a
    # roll-forward planner needs to find next year's cells without searching labels again
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    # what a roll-forward changes, as the layout declares it: {"year": FY, "next_input":
    # [cells that become next year's input], "history": {text block: cell}}
    rollforward: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if not self.sheets:
            self.sheets = [self.sheet]

    def texts_of(self, key: str) -> list[Text]:
        return [t for t in self.texts if t.key == key]

    def text(self, key: str) -> str:
        """The text(s) of one key joined (empty when there are none)."""
        return "\n".join(t.text for t in self.texts_of(key))

    def to_dict(self) -> dict[str, Any]:
        def lv(level):
            return level.to_dict() if level else None

        return {
            "sheet": self.sheet,
            "sheets": list(self.sheets),
            "number": self.number,
            "title": self.title,
            "strategy_page": self.strategy_page,
            "basic_goal": lv(self.basic_goal),
            "basic_policy": lv(self.basic_policy),
            "measure": lv(self.measure),
            "levels": [x.to_dict() for x in self.levels],
            "departments": list(self.departments),
            "purpose": self.purpose,
            "policy": self.policy,
            "texts": [t.to_dict() for t in self.texts],
            "evaluations": [e.to_dict() for e in self.evaluations],
            "projects": [p.to_dict() for p in self.projects],
            "kpis": [k.to_dict() for k in self.kpis],
            "cost": self.cost.to_dict() if self.cost else None,
            "totals": {k: [a.to_dict() for a in v] for k, v in self.totals.items()},
            "kpi_header_row": self.kpi_header_row,
            "year_columns": {str(y): c for y, c in self.year_columns.items()},
            "baseline_year": self.baseline_year,
            "target_year": self.target_year,
            "actual_years": list(self.actual_years),
            "cells": dict(self.cells),
            "extra": self.extra,
            "tables": {k: dict(v) for k, v in self.tables.items()},
            "rollforward": self.rollforward,
        }


# --- derived facts (pure) --------------------------------------------------------------


def grade_for(scale: list[dict], points: float) -> str | None:
    """The grade a rate (in points: 85 for 85%) gets on a city's scale (layout `grades.scale`).

    Each grade has bounds: `min` (以上, ≥), `above` (より大きい, >), `max` (未満, <), `at_most`
    (以下, ≤); the first grade, in the order written, whose bounds all hold is given (None
    when none does). A scale of `min` only is read highest first, its last grade taking
    anything below (as before bounds existed)."""
    items = [g for g in scale if isinstance(g, dict) and g.get("grade") is not None]
    if not items:
        return None
    if all(set(g) <= {"grade", "min"} and "min" in g for g in items):
        items = sorted(items, key=lambda g: -float(g["min"]))
        return next((g["grade"] for g in items if points >= float(g["min"])), items[-1]["grade"])
    return next((g["grade"] for g in items if _holds(g, points)), None)


def _holds(g: dict, points: float) -> bool:
    return not (("min" in g and not points >= float(g["min"]))
                or ("above" in g and not points > float(g["above"]))
                or ("max" in g and not points < float(g["max"]))
                or ("at_most" in g and not points <= float(g["at_most"])))


def grade_scale_problems(scale: list[dict]) -> list[str]:
    """Gaps and overlaps of a scale with bounds, in Japanese (for `layout check`): a rate no
    grade takes, or one that two grades take (the first written wins)."""
    items = [g for g in scale if isinstance(g, dict) and g.get("grade") is not None]
    if not items or all(set(g) <= {"grade", "min"} for g in items):
        return []
    bounds = sorted({float(g[k]) for g in items for k in ("min", "above", "max", "at_most") if k in g})
    probes = [bounds[0] - 1, *bounds, bounds[-1] + 1]
    probes += [(a + b) / 2 for a, b in zip(bounds, bounds[1:])]
    out = []
    for p in sorted(set(probes)):
        hit = [str(g["grade"]) for g in items if _holds(g, p)]
        if not hit:
            out.append(f"達成率 {p:g}% に当たる評価がありません")
        elif len(hit) > 1:
            out.append(f"達成率 {p:g}% は {'・'.join(hit)} のどれにも当たります（先に書いた {hit[0]} になります）")
    return out


def gather_departments(m: Measure) -> None:
    """The measure's departments: its own, then those its KPIs and department texts name."""
    names = list(m.departments)
    names += [k.department for k in m.kpis if k.department]
    names += [t.department for t in m.texts if t.department]
    m.departments = list(dict.fromkeys(n for n in names if n))


def derive_unit_cost(m: Measure) -> None:
    """単位コスト: the cost block's total (else 事業費) ÷ the named indicator's actual, per
    year. A block in 千円 gives 円 per unit (value × 1000 ÷ actual, unit 円/<KPI unit>).
    A sheet that has its own 単位コスト line keeps it as read."""
    cost = m.cost
    if cost is None or not cost.unit_cost or not cost.unit_cost.get("indicator"):
        return
    if any(q.cell for q in cost.unit_cost.get("values") or []):
        return  # the sheet's own 単位コスト line, read as typed
    kpi = next((k for k in m.kpis if k.name == cost.unit_cost["indicator"]), None)
    line = cost.line("total") or cost.line("project_cost")
    if kpi is None or line is None:
        cost.unit_cost["values"] = []
        return
    scale = 1000 if cost.unit == "千円" else 1
    unit = f"円/{kpi.unit}" if kpi.unit else "円"
    values = []
    for fy in cost.years:
        total, actual = line.value(fy), kpi.actual(fy)
        v = None
        if total is not None and total.value is not None and actual is not None \
                and actual.value not in (None, 0):
            v = round(float(total.value) * scale / float(actual.value), 6)
        values.append(Quantity(value=v, unit=unit, text=None if v is None else f"{v:,.0f}",
                               fiscal_year=fy))
    cost.unit_cost["values"] = values


# --- a workbook as read ------------------------------------------------------------


@dataclass
class Book:
    """A workbook read into the model: the same shape for every layout.

    `kind` is the kind module that read it (sheet | block | row | project_sheets, see
    xlsgen.kinds); `findings` holds what the reader noticed on the way."""

    layout: str
    path: str
    fiscal_year: int | None = None  # the edition
    title: str | None = None
    measures: list[Measure] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    kind: str = "sheet"
    layout_title: str | None = None  # the layout's display name (its `title`)
    document_title: str | None = None  # the plan these workbooks belong to (layout `document_title`)
    layout_file: str | None = None  # the layout file the book was read with
    city: str = ""  # layout `city`
    plan_years: list[int] = field(default_factory=list)  # layout `plan_years`, else derived
    rollforward: dict[str, Any] = field(default_factory=dict)  # the layout's declaration
    report: dict[str, Any] = field(default_factory=dict)  # the layout's `report:` section
    schema_version: str = SCHEMA_VERSION

    @property
    def measure_count(self) -> int:
        """Measures read: 0 means nothing was read."""
        return len(self.measures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "layout": self.layout,
            "layout_title": self.layout_title,
            "layout_file": self.layout_file,
            "document_title": self.document_title,
            "kind": self.kind,
            "path": self.path,
            "fiscal_year": self.fiscal_year,
            "title": self.title,
            "city": self.city,
            "plan_years": list(self.plan_years),
            "measures": [m.to_dict() for m in self.measures],
            "findings": [f.to_dict() for f in self.findings],
            "rollforward": self.rollforward,
            "report": self.report,
        }


# --- a roll-forward plan (planned by a kind, applied by `xlsgen.package`) --------------


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


@dataclass(frozen=True)
class Figure:
    """A number written into one of xlsgen's list sheets (過年度実績), shown as it was in
    its cell: right-aligned, with its number format (#,##0 when the cell had none)."""

    value: int | float
    number_format: str = "#,##0"


@dataclass
class Plan:
    """The pure result of planning a roll: cell edits, history rows, column insertions."""

    edits: list[Edit] = field(default_factory=list)
    history: dict[str, list[tuple]] = field(default_factory=dict)  # sheet → rows (no header)
    findings: list[Finding] = field(default_factory=list)
    insert_cols: list[tuple[str, int, int]] = field(default_factory=list)  # (sheet, idx, n)
    history_headers: dict[str, tuple[tuple, tuple]] = field(default_factory=dict)  # → (headers, widths)
    # (sheet, at, n, first, last, header_rows): the n columns inserted at `at` repeat the
    # year columns first..last (1-based): their merged header cells are merged again over the
    # new columns, and a header merged over all the year columns (ending at at - 1) grows
    column_groups: list[tuple[str, int, int, int, int, tuple[int, int]]] = field(default_factory=list)
    # the running header of the sheets the roll adds (前年度評価, 変更履歴 …): the book and
    # the edition, e.g. 「【…】進行管理シート　令和4年度版」
    print_header: str = ""


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

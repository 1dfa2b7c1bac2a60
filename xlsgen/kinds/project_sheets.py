"""Kind `project_sheets`: the record parser of a 事務事業評価シート book — a measure sheet
(施策) and one sheet per project (事務事業) with 【Do】 (years as rows: budget / settled
amounts, 成果目標, 成果実績, 実施内容と改善点), 【Check】, 【Action】 and 【Plan】 blocks,
every label from the layout file's `labels:` (the defaults below are the layout's own).

Into the one model:
- the measure sheet → a Measure: its outline as a level, purpose, the 施策 as its own
  level, its 主要事業 as project lines (direction as a tag), its indicator as a KPI
  (first year column the baseline, last the target) and the committee's opinion as a
  check text of the year its heading names;
- each project sheet → a Measure: its position (総合計画上の位置付け) as levels, 担当 as
  department, 予算科目 as a plan text, one KPI (成果指標: per-year 成果目標 as targets,
  成果実績 as actuals, the plan's and the future targets too; 実施内容と改善点 per year as
  its texts; what follows ※ in its name as notes), a cost block (金額 as `project_cost`,
  うち特定財源 as `specific`, each year's kind as the sheet names it, the 【Plan】 year as
  `plan_kind`), 評価 / 分析 as check texts of the 【Check】 year, 方針 as policy and the
  plan's 実施内容 as an action text.

Roll-forward (R3 → R4): the Do rows shift (R4 budget from the old Plan, R3 settled row
empty to fill, with the old R3 成果目標, R2 kept); the dropped rows (old R3 budget, R1)
go to `過年度実績`. Check moves to R3 (emptied; old texts to `前年度評価`), Plan to R5 (its
成果目標 is the old R5 future target), future targets to R6 (old value) and R7. The
measure sheet's opinion is emptied for the new year (old text kept in history).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from xlsgen.errors import XlsgenError
from xlsgen.kinds.roll import col_of, figure, like_format, raw, split_cell, year_label_like
from xlsgen.model import CHECK_HISTORY_SHEET as CHECK_SHEET
from xlsgen.model import PAST_YEARS_SHEET as PAST_SHEET
from xlsgen.model import (
    Book,
    CostBlock,
    CostLine,
    Direction,
    Edit,
    Finding,
    Kpi,
    Level,
    Measure,
    Plan,
    ProjectLine,
    Quantity,
    Severity,
    Snapshot,
    Target,
    TargetKind,
    Text,
    gather_departments,
)
from xlsgen.patterns import search
from xlsgen.quantities import parse_quantity
from xlsgen.read.grid import Grid, squash
from xlsgen.wareki import FiscalYear, find_years

NAME = "project_sheets"

# Every label this parser looks for, by key; a layout file's `labels:` replaces any of them
# (see xlsgen/templates/layouts/ and docs/layouts.md).
LABELS = {
    "do": r"^【Do】", "check": r"^【Check】", "action": r"^【Action】", "plan": r"^【Plan】",
    "name": r"^事業名$", "department": r"^担当(課|部署)?$", "purpose": r"^事業の目的",
    "budget_account": r"^予算科目",
    "position_outline": r"^施策の大綱$", "position_goal": r"^施策の目標$",
    "position_measure": r"^施策$", "position_direction": r"^施策の方向$",
    "check_evaluation": r"^評価$", "check_analysis": r"^分析$",
    "action_policy": r"^方針$", "action_indicator": r"^成果指標$", "action_unit": r"^単位$",
    "do_header": r"^年度$", "do_year": r"^年度", "do_kind": r"^区分", "do_specific": r"特定財源", "do_amount": r"^金額",
    "do_target": r"成果目標", "do_result": r"成果実績", "do_content": r"実施内容",
    "budget_kind": r"^予算額$",
    "plan_budget": r"^予算額$", "plan_specific": r"特定財源", "plan_target": r"^成果目標$",
    "plan_content": r"^実施内容$", "future_targets": r"^今後の成果目標",
    "measure_outline": r"^施策の大綱$", "measure_purpose": r"^施策の目的$", "measure_name": r"^施策$",
    "measure_sheet": r"^主要事業と関連部署", "measure_projects": r"^施策の方向$", "project_direction": r"^施策の方向",
    "project_name": r"^事業名", "project_department": r"^部署",
    "indicator": r"^指標名$", "indicator_idea": r"考え方", "indicator_direction": r"^方向性$",
    "opinion": r"からの意見$", "opinion_head": r"実施状況への意見$",
}
PLAN_KIND = "計画"  # the kind of the 【Plan】 year in the cost block (layout labels.plan_kind)
POSITIONS = ("position_outline", "position_goal", "position_measure", "position_direction")
NOTE_MARK = "※"  # what follows it in the 成果指標 cell is a note, not the indicator's name

# the columns of xlsgen's own history sheets for this kind
CHECK_HEADERS = ("年度版", "シート", "事業名", "項目", "評価の年度", "本文", "元のセル")
CHECK_WIDTHS = (10, 16, 24, 8, 11, 80, 10)
PAST_HEADERS = ("年度版", "シート", "事業名", "年度", "区分", "金額（千円）", "うち特定財源（千円）",
                "成果目標", "成果実績", "実施内容と改善点", "元の行")
PAST_WIDTHS = (9, 12, 14, 9, 7, 9, 10, 10, 10, 30, 6)


def labels_of(spec=None) -> dict[str, str]:
    """The label patterns: the defaults above, each replaced by the layout file's own."""
    if spec is None:
        return dict(LABELS)
    return {key: spec.pattern(key, default) for key, default in LABELS.items()}


def _plan_kind(spec) -> str:
    given = ((spec.get("labels") or {}).get("plan_kind") if spec is not None else None) or PLAN_KIND
    return str(given[0] if isinstance(given, list) else given)


# --- reading ---------------------------------------------------------------------------


def read(path, wb, spec, roles, trace=None) -> Book:
    """Read a book of project sheets: its measure sheet and every project sheet. `roles`
    (from the layout file) says which sheet is which; `spec` gives the labels."""
    book = Book(layout=spec.name if spec is not None else NAME, path=str(path), kind=NAME)
    lab = labels_of(spec)
    plan_kind = _plan_kind(spec)

    def role(grid):
        if roles is None:
            if grid.first(lab["do"]) is not None and grid.first(lab["budget_account"]) is not None:
                return "project"
            return "measure" if grid.first(lab["measure_sheet"]) is not None else None
        return (roles.get(grid.name) or {}).get("role")

    measure_sheets, projects = [], []
    for grid in wb.grids():
        if role(grid) == "project":
            m, findings = read_project(grid, lab, plan_kind)
            projects.append(m)
        elif role(grid) == "measure":
            measure_sheets.append(read_measure(grid, lab))
            findings = []
        else:
            findings = [Finding(Severity.WARNING, "sheet-skipped",
                                f"シート「{grid.name}」は事務事業評価シートではないため読み飛ばしました",
                                None, grid.name)]
        for f in findings:
            f.file = str(path)
        book.findings.extend(findings)
    book.measures = measure_sheets[-1:] + projects  # one measure sheet (the last, as read)
    if spec is not None:
        _record_rollforward(book, spec.get("rollforward") or {}, lab)
    budget = lab["budget_kind"]
    budget_years = [fy for m in projects if m.cost for fy, kind in m.cost.year_kinds.items()
                    if budget.search(squash(kind))]
    book.fiscal_year = max(budget_years) if budget_years else None
    if measure_sheets:
        book.title = measure_sheets[-1].title or None
    return book


def _right(grid: Grid, pattern: str, rows: range | None = None) -> tuple[str, str, str] | None:
    """(text, address, label) of the cell right of a label, the address kept even when empty."""
    pos = grid.first(pattern, rows=rows)
    if pos is None:
        return None
    col, v = grid.value_right(*pos)
    return ("" if v is None else str(v).strip()), grid.addr(pos[0], col), squash(grid.text(*pos))


def _quantity_right(grid: Grid, pattern: str, rows: range, fy: int | None = None) -> Quantity:
    pos = grid.first(pattern, rows=rows)
    if pos is None:
        return Quantity(fiscal_year=fy)
    col, v = grid.value_right(*pos)
    return parse_quantity(v, grid.fmt(pos[0], col), grid.addr(pos[0], col), fy)


def _block(grid: Grid, start: str, end: str | None) -> range:
    s = grid.first(start)
    e = grid.first(end) if end else None
    if s is None:
        return range(0)
    return range(s[0], e[0] if e and e[0] > s[0] else grid.n_rows)


def _year(text: str) -> int | None:
    ys = find_years(text)
    return ys[0][0].year if ys else None


def read_project(grid: Grid, lab: dict[str, str] | None = None,
                 plan_kind: str = PLAN_KIND) -> tuple[Measure, list[Finding]]:
    lab = lab or labels_of()
    findings: list[Finding] = []
    head = range(0, (grid.first(lab["do"]) or (grid.n_rows, 0))[0])
    name = _right(grid, lab["name"], head)
    m = Measure(sheet=grid.name, title=name[0] if name else grid.name)
    m.extra["sheet_role"] = "project"
    if name is None:
        findings.append(Finding(Severity.ERROR, "missing-field", "「事業名」が見つかりません",
                                None, grid.name))
    else:
        m.cells["name"] = name[1]
        m.measure = Level(None, name[0], name[1], key="measure", label=name[2] or None)
    department = _right(grid, lab["department"], head)
    if department:
        if department[0]:
            m.departments = [department[0]]
        m.cells["department"] = department[1]
    purpose = _right(grid, lab["purpose"], head)
    if purpose:
        m.purpose = purpose[0]
        m.cells["purpose"] = purpose[1]
    acc = grid.first(lab["budget_account"], rows=head)
    if acc:
        r, c = acc
        vals = [grid.text(r, col) for col in range(c + 1, grid.n_cols) if grid.text(r, col)]
        if len(vals) < 5:
            vals += [grid.text(r + 1, col) for col in range(c + 1, grid.n_cols) if grid.text(r + 1, col)]
        m.texts.append(Text("budget_account", " ".join(v.strip() for v in vals[:5] if v.strip()),
                            squash(grid.text(r, c)) or None, "plan", cell=grid.addr(r, c + 1)))
        m.cells["budget_account"] = grid.addr(r, c + 1)
    for key in POSITIONS:
        found = _right(grid, lab[key], head)
        if found:
            m.levels.append(Level(None, found[0], found[1], key=key, label=found[2] or None))

    kpi = Kpi(name="", sheet=grid.name, direction=Direction.UP)
    cost = CostBlock()
    do_kinds = _read_do(grid, m, kpi, cost, findings, lab)
    check = _block(grid, lab["check"], lab["action"])
    if grid.first(lab["check"]):
        m.cells["check_head"] = grid.addr(*grid.first(lab["check"]))
    check_year = None
    if check:
        check_year = _year(grid.text(check.start, 0) or squash(grid.value(check.start, 0)))
        for key in ("check_evaluation", "check_analysis"):
            found = _right(grid, lab[key], check)
            if found:
                m.texts.append(Text(key, found[0], found[2] or None, "check", fiscal_year=check_year,
                                    cell=found[1]))
                m.cells[key] = found[1]
    m.extra["check_year"] = check_year
    action = _block(grid, lab["action"], lab["plan"])
    indicator_label = None
    for key in ("action_policy", "action_indicator", "action_unit"):
        found = _right(grid, lab[key], action)
        if not found:
            continue
        m.cells[key] = found[1]
        if key == "action_policy":
            m.policy = found[0]
            continue
        if key == "action_indicator":
            name_text, _, note = found[0].partition(NOTE_MARK)
            kpi.name = name_text.strip()
            kpi.notes = (NOTE_MARK + note).strip() if note else ""
            indicator_label = found[2]
        elif found[0] in _NONE_UNITS:
            continue
        elif found[0]:
            kpi.unit = found[0]
        # the 【Action】 block as the sheet has it: the indicator (and its unit) for the years ahead
        m.texts.append(Text(key, found[0], found[2] or None, "action", cell=found[1]))
    kpi.name = kpi.name or indicator_label or ""
    plan_year = _read_plan(grid, m, kpi, cost, lab, plan_kind)
    m.extra["plan_year"] = plan_year
    _finish_project(m, kpi, cost, do_kinds)
    return m, findings


_NONE_UNITS = frozenset({"-", "－", "—", "―", "‐", "ー", "–", "−"})


def _read_do(grid: Grid, m: Measure, kpi: Kpi, cost: CostBlock, findings: list[Finding],
             lab: dict[str, str]) -> dict[int, str]:
    rows = _block(grid, lab["do"], lab["check"])
    header = grid.first(lab["do_header"], rows=rows)
    if header is None:
        findings.append(Finding(Severity.ERROR, "missing-do-table", "【Do】の表（年度・区分・金額）が見つかりません",
                                None, grid.name))
        return {}
    hr = header[0]
    cols = {}
    for col in range(grid.n_cols):
        t = grid.label(hr, col)
        for key in ("year", "kind", "specific", "amount", "target", "result", "content"):
            pattern = lab[f"do_{key}"]
            if search(pattern, t) and key not in cols:
                cols[key] = col
                break
    thousand = {key for key in ("amount", "specific")
                if key in cols and "千円" in grid.label(hr, cols[key])}
    if thousand:
        cost.unit = "千円"
    elif "amount" in cols and "円" in grid.label(hr, cols["amount"]):
        cost.unit = "円"
    lines = {key: CostLine(line_key, grid.text(hr, cols[key]) or None)
             for key, line_key in (("amount", "project_cost"), ("specific", "specific")) if key in cols}
    content_label = grid.text(hr, cols["content"]) if "content" in cols else None
    kinds: dict[int, str] = {}
    found = []
    for r in range(hr + 1, rows.stop):
        ys = find_years(grid.text(r, cols["year"]))
        if not ys:
            continue
        fy = ys[0][0].year

        def q(key, r=r, fy=fy):
            c = cols.get(key)
            if c is None:
                return Quantity(fiscal_year=fy)
            value = parse_quantity(grid.value(r, c), grid.fmt(r, c), grid.addr(r, c), fy)
            if key in thousand and value.value is not None:
                value.unit = "千円"
            return value

        kinds[fy] = grid.text(r, cols["kind"]) if "kind" in cols else ""
        found.append((fy, q("amount"), q("specific"), q("target"), q("result")))
        if "content" in cols:
            content = grid.text(r, cols["content"])
            m.cells[f"content_{fy}"] = grid.addr(r, cols["content"])
            kpi.texts.append(Text("do_content", content, content_label, "do", fiscal_year=fy,
                                  cell=grid.addr(r, cols["content"])))
        m.cells[f"do_year_{r + 1}"] = grid.addr(r, cols["year"])
        if "kind" in cols:
            m.cells[f"do_kind_{r + 1}"] = grid.addr(r, cols["kind"])
    for _fy, amount, specific, target, result in sorted(found, key=lambda x: x[0]):
        if "amount" in lines:
            lines["amount"].values.append(amount)
        if "specific" in lines:
            lines["specific"].values.append(specific)
        kpi.targets.append(target)
        kpi.actuals.append(result)
    kpi.texts.sort(key=lambda t: t.fiscal_year or 0)
    cost.lines = list(lines.values())
    m.cells["do_header"] = grid.addr(hr, cols.get("year", header[1]))
    year_rows = {fy: int(re.sub(r"\D", "", (amount.cell or target.cell or result.cell or "0")))
                 for fy, amount, _s, target, result in found}
    if year_rows:  # the 【Do】 table: years as rows, the KPI's and the cost block's values
        letters = {key: re.sub(r"\d", "", grid.addr(0, c)) for key, c in cols.items()}
        m.tables["kpi"] = {
            "holds": "kpis", "sheet": grid.name, "header_row": hr + 1,
            "first_row": min(year_rows.values()), "last_row": max(year_rows.values()),
            "years": "rows", "year_columns": {}, "year_roles": {},
            "year_rows": {str(fy): r for fy, r in sorted(year_rows.items())},
            "year_kinds": {str(fy): k for fy, k in sorted(kinds.items()) if k},
            "columns": letters}
    return kinds


def _read_plan(grid: Grid, m: Measure, kpi: Kpi, cost: CostBlock, lab: dict[str, str],
               plan_kind: str) -> int | None:
    plan = _block(grid, lab["plan"], None)
    if not plan:
        return None
    plan_year = None
    budget = specific = None
    for r in plan:
        ys = find_years(grid.text(r, 0))
        if ys and grid.first(lab["plan_budget"], rows=range(r, r + 1)):
            plan_year = ys[0][0].year
            m.cells["plan_year"] = grid.addr(r, 0)
            budget = _quantity_right(grid, lab["plan_budget"], range(r, r + 1), plan_year)
            specific = _quantity_right(grid, lab["plan_specific"], range(r, r + 1), plan_year)
            break
    if plan_year is not None:
        for line, q in ((cost.line("project_cost"), budget), (cost.line("specific"), specific)):
            if line is not None:
                if cost.unit and q.value is not None and q.unit is None:
                    q.unit = cost.unit
                line.values.append(q)
        cost.year_kinds[plan_year] = plan_kind
    kpi.targets.append(_quantity_right(grid, lab["plan_target"], plan, plan_year))
    content = _right(grid, lab["plan_content"], plan)
    if content:
        m.texts.append(Text("plan_content", content[0], content[2] or None, "action",
                            fiscal_year=plan_year, cell=content[1]))
        m.cells["plan_content"] = content[1]
    future = grid.first(lab["future_targets"], rows=plan)
    if future:
        r = future[0]
        for col in range(grid.n_cols):
            ys = find_years(grid.text(r, col))
            if ys and col != future[1]:
                vcol, v = grid.value_right(r, col)
                m.cells[f"future_label_{ys[0][0].year}"] = grid.addr(r, col)
                kpi.targets.append(parse_quantity(v, grid.fmt(r, vcol), grid.addr(r, vcol),
                                                  ys[0][0].year))
    return plan_year


def _finish_project(m: Measure, kpi: Kpi, cost: CostBlock, do_kinds: dict[int, str]) -> None:
    """The KPI's final target and kind, the cost block's years, the measure's years."""
    do_years = sorted(do_kinds)
    cost.year_kinds = {**{fy: do_kinds[fy] for fy in do_years}, **cost.year_kinds}
    cost.years = sorted(cost.year_kinds)
    numeric = [q for q in kpi.targets if q.value is not None and q.fiscal_year is not None]
    if numeric:
        kpi.target = max(numeric, key=lambda q: q.fiscal_year)
    else:
        current = [q for q in kpi.targets if q.fiscal_year in do_kinds]
        kpi.target = max(current, key=lambda q: q.fiscal_year) if current else Quantity()
    if not kpi.unit:
        kpi.unit = kpi.target.unit or next((q.unit for q in kpi.actuals if q.unit), None)
    kpi.target_year = kpi.target.fiscal_year
    _set_target_kind(kpi, TargetKind.PER_YEAR)
    m.kpis = [kpi]
    if "kpi" in m.tables and kpi.name:
        m.tables["kpi"]["kpis"] = [kpi.name]
    m.cost = cost if cost.years else None
    m.actual_years = do_years
    m.target_year = kpi.target_year
    gather_departments(m)


def read_measure(grid: Grid, lab: dict[str, str] | None = None) -> Measure:
    """The measure sheet: 施策の大綱 (a level), 施策の目的, 施策, its projects, indicators
    and the committee's opinion."""
    lab = lab or labels_of()
    m = Measure(sheet=grid.name, number=grid.name)
    m.extra["sheet_role"] = "measure"
    outline = _right(grid, lab["measure_outline"])
    if outline:
        m.levels.append(Level(None, outline[0], outline[1], key="measure_outline",
                              label=outline[2] or None))
        m.cells["outline"] = outline[1]
    purpose = _right(grid, lab["measure_purpose"])
    if purpose:
        m.purpose = purpose[0]
        m.cells["purpose"] = purpose[1]
    name = _right(grid, lab["measure_name"])
    if name:
        m.title = name[0]
        m.measure = Level(None, name[0], name[1], key="measure", label=name[2] or None)
        m.cells["measure"] = name[1]
    head = grid.first(lab["measure_projects"])
    if head:
        r0 = head[0]
        cols = {key: next((c for c in range(grid.n_cols) if search(lab[f"project_{key}"],
                                                                        grid.label(r0, c))), None)
                for key in ("direction", "name", "department")}
        for r in range(r0 + 1, grid.n_rows):
            row = {k: grid.text(r, c) if c is not None else "" for k, c in cols.items()}
            if not any(row.values()):
                break
            m.projects.append(ProjectLine(
                name=row["name"], department=row["department"] or None,
                tags=[row["direction"]] if row["direction"] else [],
                cells={k: grid.addr(r, c) for k, c in cols.items() if c is not None}))
    ind = grid.first(lab["indicator"])
    if ind:
        r0 = ind[0]
        year_cols = [(c, find_years(grid.text(r0, c))[0][0].year) for c in range(grid.n_cols)
                     if find_years(grid.text(r0, c))]
        idea = next((c for c in range(grid.n_cols)
                     if search(lab["indicator_idea"], grid.label(r0, c))), None)
        direction = next((c for c in range(grid.n_cols)
                          if search(lab["indicator_direction"], grid.label(r0, c))), None)
        for r in range(r0 + 1, grid.n_rows):
            name = grid.text(r, ind[1])
            if not name:
                break
            values = [parse_quantity(grid.value(r, c), grid.fmt(r, c), grid.addr(r, c), fy)
                      for c, fy in year_cols]
            m.kpis.append(_indicator(name, values, r, grid,
                                     grid.text(r, idea) if idea is not None else "",
                                     grid.text(r, direction) if direction is not None else ""))
    op_head = grid.first(lab["opinion_head"])
    if op_head:
        m.cells["opinion_head"] = grid.addr(*op_head)
    op = grid.first(lab["opinion"])
    if op:
        col, v = grid.value_right(*op)
        year = _year(grid.text(*op_head)) if op_head else None
        m.texts.append(Text("opinion", "" if v is None else str(v), grid.text(*op) or None, "check",
                            fiscal_year=year, cell=grid.addr(op[0], col)))
        m.cells["opinion"] = grid.addr(op[0], col)
    bys = [k.baseline_year for k in m.kpis if k.baseline_year]
    tys = [k.target_year for k in m.kpis if k.target_year]
    m.baseline_year = min(bys) if bys else None
    m.target_year = max(tys) if tys else None
    gather_departments(m)
    return m


def _indicator(name: str, values: list[Quantity], r: int, grid: Grid, idea: str,
               direction: str) -> Kpi:
    """An indicator row: the first year column is its baseline, the last its target, any
    between are actuals."""
    baseline = values[0] if values else Quantity()
    target = values[-1] if len(values) > 1 else Quantity()
    kpi = Kpi(name=name, baseline=baseline, target=target, actuals=list(values[1:-1]), row=r + 1,
              sheet=grid.name, baseline_year=baseline.fiscal_year, target_year=target.fiscal_year,
              unit=target.unit or baseline.unit)
    _set_target_kind(kpi, TargetKind.AT_YEAR)
    kpi.extra = {"indicator_idea": idea, "indicator_direction": direction}
    return kpi


def _record_rollforward(book: Book, decl: dict, lab: dict[str, str]) -> None:
    """What the layout says a roll-forward changes, per project: the text blocks that move to
    history, and the cells of the year being carried out (its 成果実績 and 実施内容), which
    become next year's input."""
    if not decl:
        return
    hist = decl.get("history") or []
    hist = [hist] if isinstance(hist, str) else hist
    budget = lab["budget_kind"]
    for m in book.measures:
        if m.extra.get("sheet_role") != "project":
            continue
        out: dict = {"history": {h: m.cells[h] for h in hist if h in m.cells}}
        kinds = m.cost.year_kinds if m.cost else {}
        current = [fy for fy, kind in kinds.items() if budget.search(squash(kind))]
        if current and decl.get("next_input", "first_empty_actual") != "none":
            fy = max(current)
            out["year"] = fy
            result = m.kpis[0].actual(fy) if m.kpis else None
            out["next_input"] = [c for c in (result.cell if result else None,
                                             m.cells.get(f"content_{fy}")) if c]
        m.rollforward = out


# --- rules -------------------------------------------------------------------------------


def rules(book: Book) -> Iterator[Finding]:
    """Nothing beyond the generic rules: the cost block and the KPI say it all."""
    return iter(())


# --- roll-forward ------------------------------------------------------------------------


@dataclass
class _DoRow:
    """One row of the 【Do】 table, as the planner needs it (from the model)."""

    fiscal_year: int
    kind: str
    row: int
    amount: Quantity
    specific: Quantity
    target: Quantity
    result: Quantity


def _do_rows(m: Measure) -> list[_DoRow]:
    kpi = m.kpis[0] if m.kpis else Kpi(name="")
    cost = m.cost or CostBlock()
    plan_year = m.extra.get("plan_year")
    out = []
    for fy in cost.years:
        if fy == plan_year:
            continue
        qs = [(ln.value(fy) if (ln := cost.line(key)) else None) or Quantity(fiscal_year=fy)
              for key in ("project_cost", "specific")]
        target, result = kpi.target_of(fy) or Quantity(), kpi.actual(fy) or Quantity()
        cells = [q.cell for q in (*qs, target, result) if q.cell]
        if not cells:
            continue
        out.append(_DoRow(fy, cost.year_kinds.get(fy, ""), split_cell(cells[0])[1], *qs, target,
                          result))
    return out


def plan_roll(book: Book, snap: Snapshot, to: int, extend_to: int | None) -> Plan:
    plan = Plan()
    for m in book.measures:
        if m.extra.get("sheet_role") == "project":
            _plan_project(plan, book, m, snap.get(m.sheet, {}), to)
    for m in book.measures:
        if m.extra.get("sheet_role") == "measure":
            _plan_measure(plan, m, snap.get(m.sheet, {}), to)
    plan.history_headers = {CHECK_SHEET: (CHECK_HEADERS, CHECK_WIDTHS),
                            PAST_SHEET: (PAST_HEADERS, PAST_WIDTHS)}
    return plan


def _plan_project(plan: Plan, book: Book, p: Measure, cells: dict, to: int) -> None:
    edition = FiscalYear(to - 1).short + "年度版"
    rows = sorted(_do_rows(p), key=lambda d: -d.fiscal_year)
    if not rows:
        raise XlsgenError(f"シート「{p.sheet}」に【Do】の表がないため繰り越せません", book.path)
    first = rows[0]
    fields = {  # field → column letter
        "amount": col_of(first.amount), "specific": col_of(first.specific),
        "target": col_of(first.target), "result": col_of(first.result),
        "content": split_cell(p.cells[f"content_{first.fiscal_year}"])[0]
        if f"content_{first.fiscal_year}" in p.cells else None,
    }
    fields = {k: v for k, v in fields.items() if v}
    plan_year = p.extra.get("plan_year")
    cost = p.cost or CostBlock()
    kpi = p.kpis[0] if p.kpis else Kpi(name="")

    def plan_value(key: str) -> Quantity:
        line = cost.line(key)
        return (line.value(plan_year) if line and plan_year else None) or Quantity()

    plan_budget, plan_specific = plan_value("project_cost"), plan_value("specific")
    plan_target = (kpi.target_of(plan_year) if plan_year else None) or Quantity()

    def row_values(r: int) -> dict[str, tuple[Any, str | None]]:
        return {k: raw(cells, f"{c}{r}") for k, c in fields.items()}

    def write_row(r: int, fy: int, kind: str, values: dict, reason: str, shade=()) -> None:
        ycell = p.cells.get(f"do_year_{r}")  # recorded by the reader
        kcell = p.cells.get(f"do_kind_{r}")
        ycell = ycell if ycell and isinstance(cells.get(ycell, (None,))[0], str) else None
        kcell = kcell if kcell and cells.get(kcell, (None,))[0] not in (None, "") else None
        if ycell:
            plan.edits.append(Edit(p.sheet, ycell, year_label_like(cells[ycell][0], fy), reason))
        if kcell:
            plan.edits.append(Edit(p.sheet, kcell, kind, reason))
        for k, c in fields.items():
            v, f = values.get(k, (None, None))
            if k in shade and f in (None, "General"):  # an input cell: the format of the rows below
                f = like_format(cells, [f"{c}{d.row}" for d in rows])
            plan.edits.append(Edit(p.sheet, f"{c}{r}", v, reason,
                                   number_format=f if f != "General" else None, shade=k in shade))

    name = p.title or ""
    for d in (rows[0], rows[-1]) if len(rows) > 1 else (rows[0],):  # rows leaving the table
        plan.history.setdefault(PAST_SHEET, []).append((
            edition, p.sheet, name, FiscalYear(d.fiscal_year).kanji, d.kind,
            *(figure(cells, f"{fields[k]}{d.row}") if k in fields else None
              for k in ("amount", "specific", "target", "result", "content")),
            f"{d.row}行"))
    plan_vals = {"amount": raw(cells, plan_budget.cell),
                 "specific": raw(cells, plan_specific.cell),
                 "target": raw(cells, plan_target.cell),
                 "result": (None, None),
                 "content": raw(cells, p.cells.get("plan_content"))}
    plan_fy = FiscalYear(to)
    # the budget row keeps its kind as the sheet names it; the settled rows theirs
    budget_kind, settled_kind = rows[0].kind, (rows[1].kind if len(rows) > 1 else rows[0].kind)
    write_row(rows[0].row, to, budget_kind, plan_vals, f"【Plan】の{plan_fy.short}年度計画を{budget_kind}の行へ",
              shade=[k for k in ("amount", "specific") if plan_vals[k][0] in (None, "")])
    if plan_budget.is_empty and "amount" in fields:
        plan.findings.append(Finding(
            Severity.WARNING, "missing-budget",
            f"【Plan】の{plan_fy.short}年度{budget_kind}が空のため、{plan_fy.short}年度の{budget_kind}"
            f"（{fields['amount']}{rows[0].row}）も空です。{budget_kind}を入力してください",
            book.path, p.sheet, f"{fields['amount']}{rows[0].row}"))
    if len(rows) > 1:
        closing = {"target": row_values(rows[0].row)["target"]} if "target" in fields else {}
        write_row(rows[1].row, to - 1, settled_kind, closing,
                  f"{FiscalYear(to - 1).short}年度を{settled_kind}の行に（金額・成果実績・実施内容を入力）",
                  shade=("amount", "specific", "result", "content"))
    for i in range(2, len(rows)):
        old = rows[i - 1]
        write_row(rows[i].row, old.fiscal_year, old.kind, row_values(old.row),
                  f"{FiscalYear(old.fiscal_year).short}年度の行を1行下へ")
        if i == 2 and (old.amount.is_empty or old.result.is_empty):
            missing = [f"{fields[k]}{rows[i].row}" for k, q in (("amount", old.amount), ("result", old.result))
                       if q.is_empty and k in fields]
            plan.findings.append(Finding(
                Severity.WARNING, "missing-actual",
                f"{FiscalYear(old.fiscal_year).short}年度の{settled_kind}または成果実績が空です（{','.join(missing)}）",
                book.path, p.sheet, missing[0]))
    _plan_check(plan, p, cells, to)
    _plan_plan(plan, p, cells, to, plan_budget, plan_specific, plan_target,
               sorted((q for q in kpi.targets if q.cell and plan_year and q.fiscal_year
                       and q.fiscal_year > plan_year), key=lambda q: q.fiscal_year))


def _plan_check(plan: Plan, p: Measure, cells: dict, to: int) -> None:
    head = p.cells.get("check_head")
    head = head if head and isinstance(cells.get(head, (None,))[0], str) else None
    reason = f"【Check】を{FiscalYear(to - 1).short}年度実績の評価に（前の文は「{CHECK_SHEET}」シートへ）"
    if head:
        plan.edits.append(Edit(p.sheet, head, year_label_like(cells[head][0], to - 1), reason))
    check_year = p.extra.get("check_year")
    for key in ("check_evaluation", "check_analysis"):
        addr = p.cells.get(key)
        if not addr:
            continue
        text = p.texts_of(key)
        plan.history.setdefault(CHECK_SHEET, []).append((
            FiscalYear(to - 1).short + "年度版", p.sheet, p.title or "",
            text[0].label if text and text[0].label else key,
            FiscalYear(check_year).kanji if check_year else "", p.text(key), addr))
        plan.edits.append(Edit(p.sheet, addr, None, reason, shade=True))


def _plan_plan(plan: Plan, p: Measure, cells: dict, to: int, budget: Quantity,
               specific: Quantity, target: Quantity, future: list[Quantity]) -> None:
    nxt = FiscalYear(to + 1)
    reason = f"【Plan】を{nxt.short}年度に"
    if "plan_year" in p.cells:
        addr = p.cells["plan_year"]
        plan.edits.append(Edit(p.sheet, addr, year_label_like(cells[addr][0], nxt.year), reason))
    for q in (budget, specific):
        if q.cell:
            plan.edits.append(Edit(p.sheet, q.cell, None, reason + "（予算額を入力）", shade=True))
    if p.cells.get("plan_content"):
        plan.edits.append(Edit(p.sheet, p.cells["plan_content"], None, reason + "（実施内容を入力）",
                               shade=True))
    if target.cell:
        v, f = raw(cells, future[0].cell) if future else (None, None)
        plan.edits.append(Edit(p.sheet, target.cell, v,
                               f"【Plan】の成果目標 = 前の今後の成果目標（{nxt.short}年度）", number_format=f))
    for i, q in enumerate(future):
        label = p.cells.get(f"future_label_{q.fiscal_year}")  # recorded by the reader
        label = label if label and isinstance(cells.get(label, (None,))[0], str) else None
        fy = q.fiscal_year + 1
        if label:
            plan.edits.append(Edit(p.sheet, label, year_label_like(cells[label][0], fy),
                                   "今後の成果目標を1年先へ"))
        if i + 1 < len(future):
            v, f = raw(cells, future[i + 1].cell)
            plan.edits.append(Edit(p.sheet, q.cell, v, "今後の成果目標を1年先へ", number_format=f))
        else:
            old = raw(cells, q.cell)[0]
            keep = q.text if (q.is_none_mark or (q.is_empty and q.text)) else None
            plan.edits.append(Edit(p.sheet, q.cell, keep if isinstance(old, str) else None,
                                   f"{FiscalYear(fy).short}年度の成果目標（新しく入力）", shade=True))


def _plan_measure(plan: Plan, m: Measure, cells: dict, to: int) -> None:
    head = m.cells.get("opinion_head")  # recorded by the reader
    addr = m.cells.get("opinion")
    if head is None or addr is None:
        return
    reason = f"{FiscalYear(to - 1).short}年度の実施状況への意見欄（前の意見は「{CHECK_SHEET}」シートへ）"
    plan.edits.append(Edit(m.sheet, head, year_label_like(cells[head][0], to - 1), reason))
    opinion = m.texts_of("opinion")
    plan.history.setdefault(CHECK_SHEET, []).append((
        FiscalYear(to - 1).short + "年度版", m.sheet, m.title or "",
        opinion[0].label or "" if opinion else "", cells[head][0], m.text("opinion"), addr))
    plan.edits.append(Edit(m.sheet, addr, None, reason, shade=True))


def _set_target_kind(kpi: Kpi, numeric: TargetKind) -> None:
    """The KPI's target kind from its target (`numeric` when it is a number, none for an
    empty or none-marked cell, qualitative for a word) and the target's detail."""
    t = kpi.target
    if t.value is not None:
        kpi.target_kind = numeric
    elif t.is_empty or t.is_none_mark:
        kpi.target_kind = TargetKind.NONE
    else:
        kpi.target_kind = TargetKind.QUALITATIVE
    kpi.target_detail = Target(t.value, t.unit, kpi.target_kind, None, kpi.target_year, t.text,
                               t.qualifier, t.cell)

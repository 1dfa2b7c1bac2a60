"""Reader for the 常総 事務事業評価シート layout: a 施策 sheet and one sheet per project
with 【Do】 (three years), 【Check】, 【Action】 and 【Plan】 blocks, found by their labels."""

from __future__ import annotations

import re

from xlsgen.model import (
    Book,
    BudgetAccount,
    DoYear,
    Finding,
    MeasureIndicator,
    MeasureSheet,
    ProjectSheet,
    Quantity,
    Severity,
)
from xlsgen.quantities import parse_quantity
from xlsgen.read.grid import Grid, WorkbookGrids, squash
from xlsgen.wareki import find_years

DO, CHECK, ACTION, PLAN = r"^【Do】", r"^【Check】", r"^【Action】", r"^【Plan】"


def is_project_sheet(grid: Grid) -> bool:
    return grid.first(DO) is not None and grid.first(r"^予算科目") is not None


def is_measure_sheet(grid: Grid) -> bool:
    return grid.first(r"^主要事業と関連部署") is not None


def read_joso(path, wb: WorkbookGrids) -> Book:
    """Read a 常総-layout workbook: its 施策 sheet and every project sheet."""
    book = Book(layout="joso", path=str(path))
    for grid in wb.grids():
        if is_project_sheet(grid):
            project, findings = read_project(grid)
            book.projects.append(project)
        elif is_measure_sheet(grid):
            book.measure_sheet, findings = read_measure(grid), []
        else:
            findings = [Finding(Severity.WARNING, "sheet-skipped",
                                f"シート「{grid.name}」は事務事業評価シートではないため読み飛ばしました",
                                None, grid.name)]
        for f in findings:
            f.file = str(path)
        book.findings.extend(findings)
    budget_years = [d.fiscal_year for p in book.projects for d in p.do_years if d.kind == "予算額"]
    book.fiscal_year = max(budget_years) if budget_years else None
    if book.measure_sheet:
        book.title = book.measure_sheet.measure
    return book


def _right(grid: Grid, pattern: str, rows: range | None = None) -> tuple[str, str] | None:
    """(text, address) of the cell right of a label, the address kept even when empty."""
    pos = grid.first(pattern, rows=rows)
    if pos is None:
        return None
    col, v = grid.value_right(*pos)
    return ("" if v is None else str(v).strip()), grid.addr(pos[0], col)


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


def read_project(grid: Grid) -> tuple[ProjectSheet, list[Finding]]:
    findings: list[Finding] = []
    head = range(0, (grid.first(DO) or (grid.n_rows, 0))[0])
    name = _right(grid, r"^事業名$", head)
    p = ProjectSheet(sheet=grid.name, name=name[0] if name else grid.name)
    if name is None:
        findings.append(Finding(Severity.ERROR, "missing-field", "「事業名」が見つかりません",
                                None, grid.name))
    else:
        p.cells["name"] = name[1]
    for attr, pattern in (("department", r"^担当(課|部署)?$"), ("purpose", r"^事業の目的")):
        found = _right(grid, pattern, head)
        if found:
            setattr(p, attr, found[0])
            p.cells[attr] = found[1]
    acc = grid.first(r"^予算科目", rows=head)
    if acc:
        r, c = acc
        vals = [grid.text(r, col) for col in range(c + 1, grid.n_cols) if grid.text(r, col)]
        if len(vals) < 5:
            vals += [grid.text(r + 1, col) for col in range(c + 1, grid.n_cols) if grid.text(r + 1, col)]
        vals += [None] * 5
        p.budget_account = BudgetAccount(*vals[:5], cell=grid.addr(r, c + 1))
    for label in ("施策の大綱", "施策の目標", "施策", "施策の方向"):
        found = _right(grid, rf"^{label}$", head)
        if found:
            p.position[label] = found[0]

    _read_do(grid, p, findings)
    check = _block(grid, CHECK, ACTION)
    if grid.first(CHECK):
        p.cells["check_head"] = grid.addr(*grid.first(CHECK))
    if check:
        ys = find_years(grid.text(check.start, 0) or squash(grid.value(check.start, 0)))
        p.check_year = ys[0][0].year if ys else None
        for attr, label in (("check_evaluation", "評価"), ("check_analysis", "分析")):
            found = _right(grid, rf"^{label}$", check)
            if found:
                setattr(p, attr, found[0])
                p.cells[attr] = found[1]
    action = _block(grid, ACTION, PLAN)
    for attr, label in (("action_policy", "方針"), ("action_indicator", "成果指標"), ("action_unit", "単位")):
        found = _right(grid, rf"^{label}$", action)
        if found:
            setattr(p, attr, found[0])
            p.cells[attr] = found[1]
    _read_plan(grid, p)
    return p, findings


def _read_do(grid: Grid, p: ProjectSheet, findings: list[Finding]) -> None:
    rows = _block(grid, DO, CHECK)
    header = grid.first(r"^年度$", rows=rows)
    if header is None:
        findings.append(Finding(Severity.ERROR, "missing-do-table", "【Do】の表（年度・区分・金額）が見つかりません",
                                None, grid.name))
        return
    hr = header[0]
    cols = {}
    for col in range(grid.n_cols):
        t = grid.label(hr, col)
        for key, pattern in (("year", r"^年度"), ("kind", r"^区分"), ("specific", r"特定財源"),
                             ("amount", r"^金額"), ("target", r"成果目標"), ("result", r"成果実績"),
                             ("content", r"実施内容")):
            if re.search(pattern, t) and key not in cols:
                cols[key] = col
                break
    thousand = {key for key in ("amount", "specific")
                if key in cols and "千円" in grid.label(hr, cols[key])}
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

        p.do_years.append(DoYear(
            fiscal_year=fy, kind=grid.text(r, cols["kind"]) if "kind" in cols else "",
            amount=q("amount"), specific_revenue=q("specific"), target=q("target"),
            result=q("result"), content=grid.text(r, cols["content"]) if "content" in cols else "",
            row=r + 1))
        if "content" in cols:
            p.cells[f"content_{fy}"] = grid.addr(r, cols["content"])
        p.cells[f"do_year_{r + 1}"] = grid.addr(r, cols["year"])
        if "kind" in cols:
            p.cells[f"do_kind_{r + 1}"] = grid.addr(r, cols["kind"])


def _read_plan(grid: Grid, p: ProjectSheet) -> None:
    plan = _block(grid, PLAN, None)
    if not plan:
        return
    for r in plan:
        ys = find_years(grid.text(r, 0))
        if ys and grid.first(r"^予算額$", rows=range(r, r + 1)):
            p.plan_year = ys[0][0].year
            p.cells["plan_year"] = grid.addr(r, 0)
            p.plan_budget = _quantity_right(grid, r"^予算額$", range(r, r + 1), p.plan_year)
            p.plan_specific_revenue = _quantity_right(grid, r"特定財源", range(r, r + 1), p.plan_year)
            break
    p.plan_target = _quantity_right(grid, r"^成果目標$", plan, p.plan_year)
    content = _right(grid, r"^実施内容$", plan)
    if content:
        p.plan_content, p.cells["plan_content"] = content
    future = grid.first(r"^今後の成果目標", rows=plan)
    if future:
        r = future[0]
        for col in range(grid.n_cols):
            ys = find_years(grid.text(r, col))
            if ys and col != future[1]:
                vcol, v = grid.value_right(r, col)
                p.cells[f"future_label_{ys[0][0].year}"] = grid.addr(r, col)
                p.future_targets.append(parse_quantity(v, grid.fmt(r, vcol), grid.addr(r, vcol),
                                                       ys[0][0].year))


def read_measure(grid: Grid) -> MeasureSheet:
    m = MeasureSheet(sheet=grid.name)
    for attr, label in (("outline", "施策の大綱"), ("purpose", "施策の目的"), ("measure", "施策")):
        found = _right(grid, rf"^{label}$")
        if found:
            setattr(m, attr, found[0])
            m.cells[attr] = found[1]
    head = grid.first(r"^施策の方向$")
    if head:
        r0 = head[0]
        cols = {key: next((c for c in range(grid.n_cols) if re.search(pat, grid.label(r0, c))), None)
                for key, pat in (("direction", r"^施策の方向"), ("name", r"^事業名"), ("department", r"^部署"))}
        for r in range(r0 + 1, grid.n_rows):
            row = {k: grid.text(r, c) if c is not None else "" for k, c in cols.items()}
            if not any(row.values()):
                break
            m.projects.append(row)
    ind = grid.first(r"^指標名$")
    if ind:
        r0 = ind[0]
        year_cols = [(c, find_years(grid.text(r0, c))[0][0].year) for c in range(grid.n_cols)
                     if find_years(grid.text(r0, c))]
        idea = next((c for c in range(grid.n_cols) if "考え方" in grid.label(r0, c)), None)
        direction = next((c for c in range(grid.n_cols) if grid.label(r0, c) == "方向性"), None)
        for r in range(r0 + 1, grid.n_rows):
            name = grid.text(r, ind[1])
            if not name:
                break
            values = [parse_quantity(grid.value(r, c), grid.fmt(r, c), grid.addr(r, c), fy)
                      for c, fy in year_cols]
            m.indicators.append(MeasureIndicator(
                name=name, idea=grid.text(r, idea) if idea is not None else "",
                direction_text=grid.text(r, direction) if direction is not None else "",
                baseline=values[0] if values else Quantity(),
                target=values[-1] if len(values) > 1 else Quantity(), row=r + 1))
    op_head = grid.first(r"実施状況への意見$")
    if op_head:
        m.cells["opinion_head"] = grid.addr(*op_head)
    op = grid.first(r"からの意見$")
    if op:
        m.opinion_title = grid.text(*op)
        col, v = grid.value_right(*op)
        m.opinion = "" if v is None else str(v)
        m.cells["opinion"] = grid.addr(op[0], col)
    return m

"""Reader for the 常総 事務事業評価シート layout: a 施策 sheet and one sheet per project
with 【Do】 (three years), 【Check】, 【Action】 and 【Plan】 blocks, found by their labels."""

from __future__ import annotations

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
from xlsgen.patterns import search
from xlsgen.quantities import parse_quantity
from xlsgen.read.grid import Grid, WorkbookGrids, squash
from xlsgen.wareki import find_years

# Every label this parser looks for, by key; a layout file's `labels:` replaces any of them
# (see xlsgen/templates/layouts/joso.yaml and docs/layouts.md).
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
    "plan_budget": r"^予算額$", "plan_specific": r"特定財源", "plan_target": r"^成果目標$",
    "plan_content": r"^実施内容$", "future_targets": r"^今後の成果目標",
    "measure_outline": r"^施策の大綱$", "measure_purpose": r"^施策の目的$", "measure_name": r"^施策$",
    "measure_sheet": r"^主要事業と関連部署", "measure_projects": r"^施策の方向$", "project_direction": r"^施策の方向",
    "project_name": r"^事業名", "project_department": r"^部署",
    "indicator": r"^指標名$", "indicator_idea": r"考え方", "indicator_direction": r"^方向性$",
    "opinion": r"からの意見$", "opinion_head": r"実施状況への意見$",
}
POSITIONS = (("施策の大綱", "position_outline"), ("施策の目標", "position_goal"),
             ("施策", "position_measure"), ("施策の方向", "position_direction"))


def labels_of(spec=None) -> dict[str, str]:
    """The label patterns: the defaults above, each replaced by the layout file's own."""
    if spec is None:
        return dict(LABELS)
    return {key: spec.pattern(key, default) for key, default in LABELS.items()}


def read_joso(path, wb: WorkbookGrids, spec=None, roles: dict | None = None) -> Book:
    """Read a 常総-layout workbook: its 施策 sheet and every project sheet. `roles` (from the
    layout file) says which sheet is which; `spec` gives the labels."""
    book = Book(layout="joso", path=str(path), kind="projects")
    lab = labels_of(spec)

    def role(grid):
        if roles is None:
            if grid.first(lab["do"]) is not None and grid.first(lab["budget_account"]) is not None:
                return "project"
            return "measure" if grid.first(lab["measure_sheet"]) is not None else None
        return (roles.get(grid.name) or {}).get("role")

    for grid in wb.grids():
        if role(grid) == "project":
            project, findings = read_project(grid, lab)
            book.projects.append(project)
        elif role(grid) == "measure":
            book.measure_sheet, findings = read_measure(grid, lab), []
        else:
            findings = [Finding(Severity.WARNING, "sheet-skipped",
                                f"シート「{grid.name}」は事務事業評価シートではないため読み飛ばしました",
                                None, grid.name)]
        for f in findings:
            f.file = str(path)
        book.findings.extend(findings)
    if spec is not None:
        _record_rollforward(book, spec.get("rollforward") or {})
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


def read_project(grid: Grid, lab: dict[str, str] | None = None) -> tuple[ProjectSheet, list[Finding]]:
    lab = lab or labels_of()
    findings: list[Finding] = []
    head = range(0, (grid.first(lab["do"]) or (grid.n_rows, 0))[0])
    name = _right(grid, lab["name"], head)
    p = ProjectSheet(sheet=grid.name, name=name[0] if name else grid.name)
    if name is None:
        findings.append(Finding(Severity.ERROR, "missing-field", "「事業名」が見つかりません",
                                None, grid.name))
    else:
        p.cells["name"] = name[1]
    for attr in ("department", "purpose"):
        found = _right(grid, lab[attr], head)
        if found:
            setattr(p, attr, found[0])
            p.cells[attr] = found[1]
    acc = grid.first(lab["budget_account"], rows=head)
    if acc:
        r, c = acc
        vals = [grid.text(r, col) for col in range(c + 1, grid.n_cols) if grid.text(r, col)]
        if len(vals) < 5:
            vals += [grid.text(r + 1, col) for col in range(c + 1, grid.n_cols) if grid.text(r + 1, col)]
        vals += [None] * 5
        p.budget_account = BudgetAccount(*vals[:5], cell=grid.addr(r, c + 1))
    for label, key in POSITIONS:
        found = _right(grid, lab[key], head)
        if found:
            p.position[label] = found[0]

    _read_do(grid, p, findings, lab)
    check = _block(grid, lab["check"], lab["action"])
    if grid.first(lab["check"]):
        p.cells["check_head"] = grid.addr(*grid.first(lab["check"]))
    if check:
        ys = find_years(grid.text(check.start, 0) or squash(grid.value(check.start, 0)))
        p.check_year = ys[0][0].year if ys else None
        for attr in ("check_evaluation", "check_analysis"):
            found = _right(grid, lab[attr], check)
            if found:
                setattr(p, attr, found[0])
                p.cells[attr] = found[1]
    action = _block(grid, lab["action"], lab["plan"])
    for attr in ("action_policy", "action_indicator", "action_unit"):
        found = _right(grid, lab[attr], action)
        if found:
            setattr(p, attr, found[0])
            p.cells[attr] = found[1]
    _read_plan(grid, p, lab)
    return p, findings


def _read_do(grid: Grid, p: ProjectSheet, findings: list[Finding], lab: dict[str, str]) -> None:
    rows = _block(grid, lab["do"], lab["check"])
    header = grid.first(lab["do_header"], rows=rows)
    if header is None:
        findings.append(Finding(Severity.ERROR, "missing-do-table", "【Do】の表（年度・区分・金額）が見つかりません",
                                None, grid.name))
        return
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


def _read_plan(grid: Grid, p: ProjectSheet, lab: dict[str, str]) -> None:
    plan = _block(grid, lab["plan"], None)
    if not plan:
        return
    for r in plan:
        ys = find_years(grid.text(r, 0))
        if ys and grid.first(lab["plan_budget"], rows=range(r, r + 1)):
            p.plan_year = ys[0][0].year
            p.cells["plan_year"] = grid.addr(r, 0)
            p.plan_budget = _quantity_right(grid, lab["plan_budget"], range(r, r + 1), p.plan_year)
            p.plan_specific_revenue = _quantity_right(grid, lab["plan_specific"], range(r, r + 1),
                                                      p.plan_year)
            break
    p.plan_target = _quantity_right(grid, lab["plan_target"], plan, p.plan_year)
    content = _right(grid, lab["plan_content"], plan)
    if content:
        p.plan_content, p.cells["plan_content"] = content
    future = grid.first(lab["future_targets"], rows=plan)
    if future:
        r = future[0]
        for col in range(grid.n_cols):
            ys = find_years(grid.text(r, col))
            if ys and col != future[1]:
                vcol, v = grid.value_right(r, col)
                p.cells[f"future_label_{ys[0][0].year}"] = grid.addr(r, col)
                p.future_targets.append(parse_quantity(v, grid.fmt(r, vcol), grid.addr(r, vcol),
                                                       ys[0][0].year))


def read_measure(grid: Grid, lab: dict[str, str] | None = None) -> MeasureSheet:
    lab = lab or labels_of()
    m = MeasureSheet(sheet=grid.name)
    for attr, key in (("outline", "measure_outline"), ("purpose", "measure_purpose"),
                      ("measure", "measure_name")):
        found = _right(grid, lab[key])
        if found:
            setattr(m, attr, found[0])
            m.cells[attr] = found[1]
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
            m.projects.append(row)
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
            m.indicators.append(MeasureIndicator(
                name=name, idea=grid.text(r, idea) if idea is not None else "",
                direction_text=grid.text(r, direction) if direction is not None else "",
                baseline=values[0] if values else Quantity(),
                target=values[-1] if len(values) > 1 else Quantity(), row=r + 1))
    op_head = grid.first(lab["opinion_head"])
    if op_head:
        m.cells["opinion_head"] = grid.addr(*op_head)
    op = grid.first(lab["opinion"])
    if op:
        m.opinion_title = grid.text(*op)
        col, v = grid.value_right(*op)
        m.opinion = "" if v is None else str(v)
        m.cells["opinion"] = grid.addr(op[0], col)
    return m


def _record_rollforward(book: Book, decl: dict) -> None:
    """What the layout says a roll-forward changes, per project: the text blocks that move to
    history, and the cells of the year being carried out (its 成果実績 and 実施内容), which
    become next year's input."""
    if not decl:
        return
    hist = decl.get("history") or []
    hist = [hist] if isinstance(hist, str) else hist
    for p in book.projects:
        out: dict = {"history": {h: p.cells[h] for h in hist if h in p.cells}}
        current = [d for d in p.do_years if d.kind == "予算額"]
        if current and decl.get("next_input", "first_empty_actual") != "none":
            d = max(current, key=lambda d: d.fiscal_year)
            out["year"] = d.fiscal_year
            out["next_input"] = [c for c in (d.result.cell, p.cells.get(f"content_{d.fiscal_year}")) if c]
        p.rollforward = out

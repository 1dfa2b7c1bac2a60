"""Reader for the 小千谷 進行管理シート layout: one worksheet per measure.

Every block is found by its label, never by a fixed address, so moved rows, margin columns,
label variants (区分/区　分, ( )/（ ）, シート№/シートNo.), header text on one or two lines,
renamed or reordered sheets and other merge shapes all read the same.
"""

from __future__ import annotations

import re
from collections import Counter

from xlsgen.model import (
    Book,
    Direction,
    Finding,
    Kpi,
    Level,
    ProgressSheet,
    Severity,
    Target,
    TargetKind,
)
from xlsgen.layout.parsers import department_texts, departments, project_lines
from xlsgen.quantities import parse_quantity
from xlsgen.read.grid import Grid, WorkbookGrids, squash
from xlsgen.wareki import find_years, invalid_era_labels, normalize_text

TITLE = r"進行管理シート"
KPI_HEADER = r"重要業績評価指標|^KPI|^指標名?$"
CHECK_ANALYSIS = r"現状分析"
CHECK_NEXT = r"今後の取組"
DO_HEADING = r"^■?実施\(Do\)|^■実施"
CHECK_HEADING = r"^■?評価\(Check\)|^■評価"
SKIP_ROW = re.compile(r"^(合計|計|小計|総計|累計計|※.*|注.*|\(注\).*)$")
DOWN_WORDS = re.compile(r"削減|減少|抑制|低減|縮減|待機児童数|事故件数|死亡")


def read_ojiya(path, wb: WorkbookGrids, spec=None, roles: dict | None = None) -> Book:
    """Read every progress sheet of a 小千谷-layout workbook into a Book. `spec` (the layout
    file) gives the labels; `roles` the sheets that are progress sheets."""
    book = Book(layout="ojiya", path=str(path))
    labels = _Labels(spec)
    for grid in wb.grids():
        if roles is not None and (roles.get(grid.name) or {}).get("role") != "progress":
            book.findings.append(Finding(
                Severity.WARNING, "sheet-skipped",
                f"シート「{grid.name}」は進行管理シートではないため読み飛ばしました",
                str(path), grid.name))
            continue
        sheet, findings = read_sheet(grid, labels)
        for f in findings:
            f.file = str(path)
        book.findings.extend(findings)
        if sheet is not None:
            book.sheets.append(sheet)
    years = Counter(s.extra["edition"] for s in book.sheets if s.extra.get("edition"))
    if years:
        book.fiscal_year = years.most_common(1)[0][0]
    titles = [s.title for s in book.sheets if s.title]
    book.title = titles[0] if titles else None
    return book


class _Labels:
    """The label patterns of this reader, from the layout file's `labels:` (defaults below)."""

    def __init__(self, spec=None):
        get = spec.pattern if spec is not None else (lambda key, default: default)
        self.title = get("title", TITLE)
        self.kpi_header = get("kpi_header", KPI_HEADER)
        self.check_analysis = get("check_analysis", CHECK_ANALYSIS)
        self.check_next = get("check_next", CHECK_NEXT)
        self.do_heading = get("do_heading", DO_HEADING)
        self.check_heading = get("check_heading", CHECK_HEADING)
        self.sheet_no = get("sheet_no", r"^シート(No\.?|NO\.?|番号)")
        self.strategy_page = get("strategy_page", r"戦略(ページ|頁)")
        self.departments = get("departments", r"^担当(課|部署)")
        self.purpose = get("purpose", r"^事業目的")
        self.projects = get("projects", r"^事業概要")
        self.levels = [(attr, get(attr, rf"^{label}[:：]?$"), label) for attr, label in
                       (("basic_goal", "基本目標"), ("basic_policy", "基本方針"), ("measure", "施策項目"))]
        self.category = get("category", r"^(区分|分類|担当)$")
        self.cost = get("cost", r"事業費")
        self.skip_row = re.compile(get("skip_row", SKIP_ROW.pattern))
        self.down_words = re.compile(get("down_words", DOWN_WORDS.pattern))


def _right_values(grid: Grid, r: int, c: int, limit: int = 3) -> list[tuple[int, object]]:
    """Up to `limit` non-empty (col, value) pairs right of (r, c), skipping merged extents."""
    out = []
    col = grid.right_of(r, c)
    while col < grid.n_cols and len(out) < limit:
        v = grid.value(r, col)
        if v is not None:
            out.append((col, v))
            col = grid.right_of(r, col)
        else:
            col += 1
    return out


def _labelled_value(grid: Grid, pattern: str, rows: range | None = None):
    """(row, col, text) of the value next to a label: right of it, else inside the label
    cell after the label ("シート№ ０１"), else below it."""
    pos = grid.first(pattern, rows=rows)
    if pos is None:
        return None
    r, c = pos
    vals = _right_values(grid, r, c, 1)
    if vals:
        return r, vals[0][0], str(vals[0][1]).strip()
    rest = _after_label(grid.text(r, c), pattern)
    if rest:
        return r, c, rest
    below = grid.below(r, c)
    if grid.value(below, c) is not None:
        return below, c, grid.text(below, c)
    return None


def _after_label(raw: str, pattern: str) -> str:
    """The text after the label inside one cell, unless it is only a (注記) of the label."""
    text = normalize_text(raw)
    for i in range(1, len(text) + 1):
        if re.search(pattern, squash(text[:i])):
            rest = text[i:].strip(" :：\u3000\n")
            if re.fullmatch(r"[(（].*[)）]", rest, re.S):
                return ""
            return rest
    return ""


def _level(grid: Grid, pattern: str, rows: range) -> Level | None:
    for r, c in grid.find(pattern, rows=rows):
        vals = _right_values(grid, r, c, 2)
        if not vals:
            return Level(None, "", grid.addr(r, c))
        no = None
        first_col, first = vals[0]
        digits = normalize_text(str(first)).strip()
        if isinstance(first, (int, float)) or re.fullmatch(r"\d+(\.0)?", digits):
            no = int(float(digits))
            name_vals = vals[1:]
        else:
            name_vals = vals
        if name_vals:
            col, name = name_vals[0]
            return Level(no, str(name).strip(), grid.addr(r, col))
        return Level(no, "", grid.addr(r, first_col))
    return None


split_departments = departments
parse_projects = project_lines
split_by_department = department_texts


class _Header:
    """The KPI table header: where the name, category, year and cost columns are."""

    def __init__(self, grid: Grid, r: int, c: int, labels: _Labels | None = None):
        labels = labels or _Labels()
        self.row = r
        self.name_col = c
        self.last_row = r
        texts = {}
        # the header may continue on the next row (e.g. "(目標値)" on its own line)
        nxt = r + 1
        cont = [grid.label(nxt, col) for col in range(grid.n_cols)]
        if any(cont) and all(not t or re.fullmatch(r"\(.*\)|（.*）|千円|\(千円\)", t) for t in cont):
            self.last_row = nxt
        for col in range(grid.n_cols):
            texts[col] = "".join(grid.label(row, col) for row in range(r, self.last_row + 1))
        self.category_col = next((col for col, t in texts.items() if t and re.search(labels.category, t)), None)
        self.cost_col = next((col for col, t in texts.items() if t and re.search(labels.cost, t)), None)
        self.years: list[tuple[int, int, str]] = []  # (col, fiscal year, role)
        self.warnings: list[tuple[int, str]] = []
        self.errors: list[tuple[int, str]] = []
        for col, t in texts.items():
            if col == self.name_col or col == self.cost_col or not t:
                continue
            for msg in invalid_era_labels(t):
                self.errors.append((col, msg))
            ys = find_years(t)
            if not ys:
                continue
            fy, warn = ys[0]
            if warn:
                self.warnings.append((col, warn))
            role = ("baseline" if "基準" in t else "target" if "目標" in t
                    else "actual" if "実績" in t else "year")
            self.years.append((col, fy.year, role))
        self.years.sort()


def read_sheet(grid: Grid, labels: _Labels | None = None) -> tuple[ProgressSheet | None, list[Finding]]:
    """One progress sheet → ProgressSheet (None when it has no KPI table) and findings."""
    labels = labels or _Labels()
    findings: list[Finding] = []

    def finding(sev, code, msg, r=None, c=None):
        findings.append(Finding(sev, code, msg, None, grid.name,
                                grid.addr(r, c) if r is not None else None))

    sheet = ProgressSheet(sheet=grid.name)
    title = grid.first(labels.title)
    if title:
        sheet.title = grid.text(*title)
        sheet.cells["title"] = grid.addr(*title)
    no = _labelled_value(grid, labels.sheet_no)
    if no:
        r, c, text = no
        t = normalize_text(text).strip().strip(".")
        sheet.sheet_no = t.zfill(2) if t.isdigit() else t
        sheet.cells["sheet_no"] = grid.addr(r, c)
    page = _labelled_value(grid, labels.strategy_page)
    if page:
        r, c, text = page
        sheet.strategy_page = normalize_text(text).replace(" ", "").replace("．", ".")
        sheet.cells["strategy_page"] = grid.addr(r, c)

    header_pos = grid.first(labels.kpi_header)
    do_pos = grid.first(labels.do_heading)
    plan_end = (do_pos or header_pos or (grid.n_rows, 0))[0]
    plan_rows = range(0, plan_end)
    for attr, pattern, label in labels.levels:
        lv = _level(grid, pattern, plan_rows)
        setattr(sheet, attr, lv)
        if lv is None:
            finding(Severity.ERROR, "missing-field", f"「{label}」が見つかりません")
        else:
            sheet.cells[attr] = lv.cell
    dept = _labelled_value(grid, labels.departments, plan_rows)
    if dept:
        sheet.departments = split_departments(dept[2])
        sheet.cells["departments"] = grid.addr(dept[0], dept[1])
    purpose = _labelled_value(grid, labels.purpose, plan_rows)
    if purpose:
        sheet.purpose = purpose[2]
        sheet.cells["purpose"] = grid.addr(purpose[0], purpose[1])
    summary = _block_text(grid, labels.projects, plan_rows)
    if summary:
        sheet.projects = parse_projects(summary[2])
        sheet.cells["projects"] = grid.addr(summary[0], summary[1])

    if header_pos is None:
        finding(Severity.ERROR, "missing-kpi-table",
                "指標（KPI）の表が見つかりません（「重要業績評価指標（KPI)」の見出しがありません）")
        return sheet, findings
    header = _Header(grid, *header_pos, labels)
    for col, warn in header.warnings:
        finding(Severity.WARNING, "era-normalised", warn, header.row, col)
    for col, msg in header.errors:
        finding(Severity.ERROR, "impossible-era", msg, header.row, col)
    sheet.kpi_header_row = header.row + 1
    sheet.year_columns = {fy: grid.addr(0, col).rstrip("0123456789") for col, fy, _ in header.years}
    roles = {fy: role for _, fy, role in header.years}
    baseline = [fy for fy, role in roles.items() if role == "baseline"]
    target = [fy for fy, role in roles.items() if role == "target"]
    sheet.baseline_year = baseline[0] if baseline else (min(roles) if roles else None)
    sheet.target_year = target[-1] if target else (max(roles) if roles else None)
    sheet.actual_years = [fy for fy in sorted(roles)
                          if fy not in (sheet.baseline_year, sheet.target_year)]
    reported = [fy for fy, role in roles.items() if role == "actual"]
    if reported:
        sheet.extra["edition"] = max(reported) + 1
    elif sheet.baseline_year:
        sheet.extra["edition"] = sheet.baseline_year + 1
    sheet.extra["reported_years"] = sorted(reported)
    if not header.years:
        finding(Severity.ERROR, "missing-year-columns", "指標表に年度の列が見つかりません",
                header.row, header.name_col)

    check_pos = grid.first(labels.check_heading) or grid.first(labels.check_analysis)
    end_row = check_pos[0] if check_pos and check_pos[0] > header.last_row else grid.n_rows
    for r in range(header.last_row + 1, end_row):
        kpi = _read_kpi_row(grid, header, sheet, r, finding, labels)
        if kpi is not None:
            sheet.kpis.append(kpi)
    if not sheet.kpis:
        finding(Severity.ERROR, "no-kpis", "指標（KPI）の行が1つもありません", header.row, header.name_col)
    if not reported:  # no (実績値) label: the edition follows the latest year holding actuals
        filled = [q.fiscal_year for k in sheet.kpis for q in k.actuals if not q.is_empty]
        if filled:
            sheet.extra["edition"] = max(filled) + 1

    _read_check(grid, sheet, findings, labels)
    for k in sheet.kpis:
        k.baseline_year, k.target_year = sheet.baseline_year, sheet.target_year
    return sheet, findings


def _block_text(grid: Grid, pattern: str, rows: range):
    """The text right of a label whose merged block may span rows (lines joined)."""
    pos = grid.first(pattern, rows=rows)
    if pos is None:
        return None
    r, c = pos
    m = grid.merge_at(r, c)
    last = m[2] if m else r
    texts, first_col = [], None
    for row in range(r, last + 1):
        for col, v in _right_values(grid, row, c, 1):
            texts.append(str(v))
            first_col = first_col if first_col is not None else col
    return (r, first_col if first_col is not None else c + 1, "\n".join(texts)) if texts else None


def _read_kpi_row(grid: Grid, header: _Header, sheet: ProgressSheet, r: int, finding,
                  labels: _Labels) -> Kpi | None:
    name = grid.text(r, header.name_col)
    cc = header.category_col
    values = [grid.value(r, col) for col, _, _ in header.years]
    if not name and not (cc is not None and grid.text(r, cc)) and all(v is None for v in values):
        return None
    # a category merged down over several KPI rows belongs to each of them
    category = grid.anchor_text(r, cc) if cc is not None else ""
    if labels.skip_row.match(squash(name)) or labels.skip_row.match(squash(category)) or squash(name).startswith("※"):
        return None
    if squash(name).endswith("合計") and all(v is None for v in values):
        return None  # a clerk's cost total, e.g. 事業費合計
    if not name:
        finding(Severity.WARNING, "kpi-without-name",
                "指標名が空の行があります（指標として扱いません）", r, header.name_col)
        return None
    kpi = Kpi(name=name, category=category or None, row=r + 1)
    kpi.tags = re.findall(r"【([^】]+)】", name)
    for col, fy, _ in header.years:
        q = parse_quantity(grid.value(r, col), grid.fmt(r, col), grid.addr(r, col), fy)
        if fy == sheet.baseline_year:
            kpi.baseline = q
        elif fy == sheet.target_year:
            kpi.target = q
        else:
            kpi.actuals.append(q)
    if header.cost_col is not None:
        kpi.cost_thousand_yen = parse_quantity(
            grid.value(r, header.cost_col), grid.fmt(r, header.cost_col),
            grid.addr(r, header.cost_col))
    units = [q.unit for q in [kpi.baseline, *kpi.actuals, kpi.target] if q.unit]
    kpi.unit = Counter(units).most_common(1)[0][0] if units else None
    for q in [kpi.baseline, *kpi.actuals, kpi.target]:
        if q.value is not None and q.unit is None and kpi.unit:
            q.unit = kpi.unit
    kpi.target_kind = infer_kind(kpi)
    kpi.direction = Direction.DOWN if labels.down_words.search(name) else Direction.UP
    t = kpi.target
    kpi.target_detail = Target(t.value, t.unit, kpi.target_kind, None, sheet.target_year,
                               t.text, t.qualifier, t.cell)
    return kpi


def infer_kind(kpi: Kpi) -> TargetKind:
    """The target kind from the KPI's name and target cell."""
    t = kpi.target
    name = normalize_text(kpi.name)
    if t.is_empty or t.is_none_mark:
        return TargetKind.NONE
    if t.value is None:
        return TargetKind.QUALITATIVE
    if "累計" in name:
        return TargetKind.RUNNING_TOTAL
    if re.search(r"/(年|年度|月)", name) or "毎年" in name:
        return TargetKind.PER_YEAR
    if "延べ" in name or "合計" in name:
        return TargetKind.CUMULATIVE
    return TargetKind.AT_YEAR


def _read_check(grid: Grid, sheet: ProgressSheet, findings: list[Finding], labels: _Labels) -> None:
    a = grid.first(labels.check_analysis)
    n = grid.first(labels.check_next)
    if a is None and n is None:
        findings.append(Finding(Severity.WARNING, "missing-check",
                                "評価（Check）欄が見つかりません", None, grid.name))
        return
    blocks = []
    if a and n and n[1] > a[1]:
        blocks = [("check_analysis", a, a[1], n[1]), ("check_next", n, n[1], grid.n_cols)]
    elif a and n:  # stacked vertically
        blocks = [("check_analysis", a, a[1], grid.n_cols), ("check_next", n, n[1], grid.n_cols)]
    elif a:
        blocks = [("check_analysis", a, a[1], grid.n_cols)]
    else:
        blocks = [("check_next", n, n[1], grid.n_cols)]
    for attr, (r, c), c0, c1 in blocks:
        other = [b[1][0] for b in blocks if b[1][0] > r]
        stop = min(other) if other else grid.n_rows
        texts, first = [], None
        for row in range(grid.below(r, c), stop):
            for col in range(c0, c1):
                v = grid.value(row, col)
                if v is not None and isinstance(v, (str, int, float)):
                    m = grid.merge_at(row, col)
                    if m and (m[0], m[1]) != (row, col):
                        continue
                    texts.append(str(v))
                    first = first or grid.addr(row, col)
        setattr(sheet, attr, split_by_department("\n".join(texts)))
        sheet.cells[attr] = first or grid.addr(grid.below(r, c), c)

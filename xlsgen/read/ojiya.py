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
    DepartmentText,
    Direction,
    Finding,
    Kpi,
    Level,
    ProgressSheet,
    Project,
    Severity,
    Target,
    TargetKind,
)
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
DEPT_SUFFIX = re.compile(r"(課|室|局|部|係|センター|事務所|委員会)$")
DOWN_WORDS = re.compile(r"削減|減少|抑制|低減|縮減|待機児童数|事故件数|死亡")


def is_progress_sheet(grid: Grid) -> bool:
    return grid.first(TITLE) is not None or grid.first(KPI_HEADER) is not None


def read_ojiya(path, wb: WorkbookGrids) -> Book:
    """Read every progress sheet of a 小千谷-layout workbook into a Book."""
    book = Book(layout="ojiya", path=str(path))
    for grid in wb.grids():
        if not is_progress_sheet(grid):
            book.findings.append(Finding(
                Severity.WARNING, "sheet-skipped",
                f"シート「{grid.name}」は進行管理シートではないため読み飛ばしました",
                str(path), grid.name))
            continue
        sheet, findings = read_sheet(grid)
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


def _level(grid: Grid, label: str, rows: range) -> Level | None:
    for r, c in grid.find(rf"^{label}[:：]?$", rows=rows):
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


def split_departments(text: str) -> list[str]:
    """`【企画政策課】【商工振興課】` → ["企画政策課", "商工振興課"]."""
    found = re.findall(r"【([^】]+)】", text or "")
    if found:
        return [f.strip() for f in found]
    return [p.strip() for p in re.split(r"[、,・/\s]+", normalize_text(text or "")) if p.strip()]


def parse_projects(text: str) -> list[Project]:
    """`■name（課）【tag】` lines, each followed by description lines."""
    projects: list[Project] = []
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("■"):
            projects.append(_project_line(stripped[1:].strip()))
        elif stripped and projects:
            d = projects[-1].description
            projects[-1].description = (d + "\n" if d else "") + line.strip("\u3000 ")
        elif stripped:
            projects.append(Project(name="", description=line.strip("\u3000 ")))
    return projects


def _project_line(line: str) -> Project:
    tags = [t.strip() for t in re.findall(r"【([^】]+)】", line)]
    rest = re.sub(r"【[^】]+】", "", line).strip()
    department = None
    for m in reversed(list(re.finditer(r"[（(]([^（）()]+)[）)]", rest))):
        if DEPT_SUFFIX.search(m.group(1).strip()):
            department = m.group(1).strip()
            rest = (rest[: m.start()] + rest[m.end():]).strip()
            break
    return Project(name=rest, department=department, tags=tags)


def split_by_department(text: str) -> list[DepartmentText]:
    """Split a Check/Action text at its `【…課】` headings."""
    parts: list[DepartmentText] = []
    current: DepartmentText | None = None
    for line in (text or "").splitlines():
        m = re.match(r"^\s*【([^】]+)】\s*(.*)$", line)
        if m and DEPT_SUFFIX.search(m.group(1).strip()):
            current = DepartmentText(m.group(1).strip(), m.group(2).strip())
            parts.append(current)
            continue
        if current is None:
            current = DepartmentText(None, "")
            parts.append(current)
        current.text = f"{current.text}\n{line}" if current.text else line
    for p in parts:
        p.text = p.text.strip("\n")
    return [p for p in parts if p.text or p.department]


class _Header:
    """The KPI table header: where the name, category, year and cost columns are."""

    def __init__(self, grid: Grid, r: int, c: int):
        self.row = r
        self.name_col = c
        self.last_row = r
        labels = {}
        # the header may continue on the next row (e.g. "(目標値)" on its own line)
        nxt = r + 1
        cont = [grid.label(nxt, col) for col in range(grid.n_cols)]
        if any(cont) and all(not t or re.fullmatch(r"\(.*\)|（.*）|千円|\(千円\)", t) for t in cont):
            self.last_row = nxt
        for col in range(grid.n_cols):
            labels[col] = "".join(grid.label(row, col) for row in range(r, self.last_row + 1))
        self.category_col = next((col for col, t in labels.items() if t in ("区分", "分類", "担当")), None)
        self.cost_col = next((col for col, t in labels.items() if "事業費" in t), None)
        self.years: list[tuple[int, int, str]] = []  # (col, fiscal year, role)
        self.warnings: list[tuple[int, str]] = []
        self.errors: list[tuple[int, str]] = []
        for col, t in labels.items():
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


def read_sheet(grid: Grid) -> tuple[ProgressSheet | None, list[Finding]]:
    """One progress sheet → ProgressSheet (None when it has no KPI table) and findings."""
    findings: list[Finding] = []

    def finding(sev, code, msg, r=None, c=None):
        findings.append(Finding(sev, code, msg, None, grid.name,
                                grid.addr(r, c) if r is not None else None))

    sheet = ProgressSheet(sheet=grid.name)
    title = grid.first(TITLE)
    if title:
        sheet.title = grid.text(*title)
        sheet.cells["title"] = grid.addr(*title)
    no = _labelled_value(grid, r"^シート(No\.?|NO\.?|番号)")
    if no:
        r, c, text = no
        t = normalize_text(text).strip().strip(".")
        sheet.sheet_no = t.zfill(2) if t.isdigit() else t
        sheet.cells["sheet_no"] = grid.addr(r, c)
    page = _labelled_value(grid, r"戦略(ページ|頁)")
    if page:
        r, c, text = page
        sheet.strategy_page = normalize_text(text).replace(" ", "").replace("．", ".")
        sheet.cells["strategy_page"] = grid.addr(r, c)

    header_pos = grid.first(KPI_HEADER)
    do_pos = grid.first(DO_HEADING)
    plan_end = (do_pos or header_pos or (grid.n_rows, 0))[0]
    plan_rows = range(0, plan_end)
    for attr, label in (("basic_goal", "基本目標"), ("basic_policy", "基本方針"), ("measure", "施策項目")):
        lv = _level(grid, label, plan_rows)
        setattr(sheet, attr, lv)
        if lv is None:
            finding(Severity.ERROR, "missing-field", f"「{label}」が見つかりません")
        else:
            sheet.cells[attr] = lv.cell
    dept = _labelled_value(grid, r"^担当(課|部署)", plan_rows)
    if dept:
        sheet.departments = split_departments(dept[2])
        sheet.cells["departments"] = grid.addr(dept[0], dept[1])
    purpose = _labelled_value(grid, r"^事業目的", plan_rows)
    if purpose:
        sheet.purpose = purpose[2]
        sheet.cells["purpose"] = grid.addr(purpose[0], purpose[1])
    summary = _block_text(grid, r"^事業概要", plan_rows)
    if summary:
        sheet.projects = parse_projects(summary[2])
        sheet.cells["projects"] = grid.addr(summary[0], summary[1])

    if header_pos is None:
        finding(Severity.ERROR, "missing-kpi-table",
                "指標（KPI）の表が見つかりません（「重要業績評価指標（KPI)」の見出しがありません）")
        return sheet, findings
    header = _Header(grid, *header_pos)
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

    check_pos = grid.first(CHECK_HEADING) or grid.first(CHECK_ANALYSIS)
    end_row = check_pos[0] if check_pos and check_pos[0] > header.last_row else grid.n_rows
    for r in range(header.last_row + 1, end_row):
        kpi = _read_kpi_row(grid, header, sheet, r, finding)
        if kpi is not None:
            sheet.kpis.append(kpi)
    if not sheet.kpis:
        finding(Severity.ERROR, "no-kpis", "指標（KPI）の行が1つもありません", header.row, header.name_col)
    if not reported:  # no (実績値) label: the edition follows the latest year holding actuals
        filled = [q.fiscal_year for k in sheet.kpis for q in k.actuals if not q.is_empty]
        if filled:
            sheet.extra["edition"] = max(filled) + 1

    _read_check(grid, sheet, findings)
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


def _read_kpi_row(grid: Grid, header: _Header, sheet: ProgressSheet, r: int, finding) -> Kpi | None:
    name = grid.text(r, header.name_col)
    cc = header.category_col
    values = [grid.value(r, col) for col, _, _ in header.years]
    if not name and not (cc is not None and grid.text(r, cc)) and all(v is None for v in values):
        return None
    # a category merged down over several KPI rows belongs to each of them
    category = grid.anchor_text(r, cc) if cc is not None else ""
    if SKIP_ROW.match(squash(name)) or SKIP_ROW.match(squash(category)) or squash(name).startswith("※"):
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
    kpi.direction = Direction.DOWN if DOWN_WORDS.search(name) else Direction.UP
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


def _read_check(grid: Grid, sheet: ProgressSheet, findings: list[Finding]) -> None:
    a = grid.first(CHECK_ANALYSIS)
    n = grid.first(CHECK_NEXT)
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
        if stop > grid.below(r, c) and c1 > c0:  # the block a roll-forward empties
            sheet.cells[f"{attr}_block"] = f"{grid.addr(grid.below(r, c), c0)}:{grid.addr(stop - 1, c1 - 1)}"

"""The generic reader: a layout file's fields, tables and blocks → the one model.

Record units (each wrapped by a kind module of xlsgen.kinds): `sheet` (one measure per
sheet: fields + one KPI table), `block` (KPI blocks stacked on a measure sheet, each with
fields above a small table whose years are rows) and `row` (one KPI per table row, grouped
into measures by a column). Every value keeps the cell it came from; `trace` lists which
field came from which cell, and what is missing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

import xlsgen.layout.parsers as parsers
from xlsgen.layout.spec import Labels, Spec, compile_labels, plain_label
from xlsgen.model import (
    NONE_MARKS,
    Book,
    Direction,
    Finding,
    Kpi,
    Level,
    Measure,
    ProjectLine,
    Quantity,
    Severity,
    Target,
    TargetKind,
    Text,
    derive_unit_cost,
    gather_departments,
)
from xlsgen.quantities import parse_quantity, parse_series, parse_target
from xlsgen.read.grid import Grid, squash
from xlsgen.wareki import find_years, invalid_era_labels, normalize_text

SHEET_FIELDS = {"title", "number", "sheet_no", "strategy_page", "basic_goal", "basic_policy",
                "measure", "departments", "purpose", "policy", "projects", "check_analysis",
                "check_next"}
LEVEL_FIELDS = {"basic_goal", "basic_policy", "measure"}
# a text block's (or text field's) place in the PDCA cycle when the layout does not say
DEFAULT_ROLES = {"check_analysis": "check", "check_next": "action"}
DEFAULT_SKIP = ["re:^(合計|計|小計|総計)$", "re:^※", "re:^\\(?注\\)?"]
DEFAULT_STATUS = ["集計中", "調査中", "未集計", "算定中", "確認中"]
DEFAULT_DOWN = ["削減", "減少", "抑制", "低減", "縮減"]


class Trace:
    """What the engine found where: (sheet, what, cell or None when missing)."""

    def __init__(self):
        self.items: list[tuple[str, str, str | None]] = []

    def add(self, sheet: str, what: str, cell: str | None) -> None:
        self.items.append((sheet, what, cell))


# --- small helpers -----------------------------------------------------------------------

def _labels(value, mode="exact") -> Labels:
    return compile_labels(value, mode)


def _find(grid: Grid, labels: Labels, rows: range | None = None, nth: int = 1):
    hits = [(r, c) for r, c, t in grid.labels() if (rows is None or r in rows) and labels.match(t)]
    return hits[nth - 1] if len(hits) >= nth else None


def _right_value(grid: Grid, r: int, c: int, limit_col: int | None = None):
    col = grid.right_of(r, c)
    stop = grid.n_cols if limit_col is None else limit_col
    while col < stop:
        v = grid.value(r, col)
        if v is not None:
            return r, col
        col += 1
    return None


def _value_cell(grid: Grid, spec_field: dict, region: range, labels: Labels):
    """(row, col, raw value, label text) of a field, by its label and relative position."""
    pos = _find(grid, labels, region, spec_field.get("nth", 1))
    if pos is None:
        return None
    got = _value_at(grid, spec_field, labels, *pos)
    return None if got is None else (*got, grid.text(*pos))


def _value_at(grid: Grid, spec_field: dict, labels: Labels, r: int, c: int):
    at = spec_field.get("at", "right")
    if at == "same":
        return r, c, grid.value(r, c)
    if at == "right":
        found = _right_value(grid, r, c)
        return (found[0], found[1], grid.value(*found)) if found else (r, grid.right_of(r, c), None)
    if at == "below":
        b = grid.below(r, c)
        return b, c, grid.value(b, c)
    if at == "inside":
        text = normalize_text(grid.text(r, c))
        rest = labels.regex.sub("", squash(text), count=1)
        return r, c, rest or None
    if at == "block":  # the merged text area under (or right of) a heading, lines joined
        m = grid.merge_at(r, c)
        last = m[2] if m else r
        texts, first = [], None
        b = last + 1
        # text below the heading until the next non-empty cell in the heading's column
        for row in range(b, grid.n_rows):
            if row > b and grid.value(row, c) is not None and not grid.merge_at(row, c):
                break
            for col, text in _row_texts(grid, row, c, grid.n_cols):
                texts.append(text)
                first = first or (row, col)
            if row >= b and not texts and row > b + 1:
                break
        return (first[0], first[1], "\n".join(texts)) if first else (b, c, None)
    return None


def quantity(grid: Grid, spec: Spec, r: int, c: int, fy: int | None = None) -> Quantity:
    """A cell as a Quantity, with the layout's value rules (none marks, status, percent)."""
    raw = grid.value(r, c)
    values = spec.get("values") or {}
    q = parse_quantity(raw, grid.fmt(r, c), grid.addr(r, c), fy)
    text = squash(raw) if isinstance(raw, str) else ""
    if text and q.value is None:
        status = _labels(values.get("status", DEFAULT_STATUS), "contains")
        marks = values.get("none_marks")
        if marks and _labels(marks).match(text) and not q.is_none_mark:
            q.marked_none = True
        elif status.match(text):
            q.status = raw.strip()
        else:
            _loose_number(raw, q)
    return q


_YEAR_TAIL = re.compile(r"^(.*?)\s*[(（]([^()（）]*)[)）]\s*$", re.S)


def _loose_number(raw: str, q: Quantity) -> None:
    """`12人（H30）` → 12 人 of FY2018; `約1,000人` → 1000 人 (qualifier 約)."""
    s = normalize_text(raw).strip()
    m = _YEAR_TAIL.match(s)
    year = None
    if m and find_years(m.group(2)):
        s, year = m.group(1), find_years(m.group(2))[0][0].year
    approx = s.startswith(("約", "およそ"))
    s = s.removeprefix("約").removeprefix("およそ").strip()
    if s == normalize_text(raw).strip():
        return
    p = parse_quantity(s)
    if p.value is None:
        return
    q.value, q.unit = p.value, p.unit
    q.qualifier = p.qualifier or ("約" if approx else None)
    if year and q.fiscal_year is None:
        q.fiscal_year = year


def _percent_points(q: Quantity, spec: Spec) -> float | None:
    """The value of a 達成率 cell in points (85 for 85%)."""
    if q.value is None:
        return None
    if q.unit and q.unit.startswith("%"):
        return float(q.value)
    if (spec.get("values") or {}).get("percent") == "fraction":
        return float(q.value) * 100
    return float(q.value)


def _text(v) -> str:
    return "" if v is None else str(v).strip()


# --- fields ------------------------------------------------------------------------------

def read_fields(grid: Grid, spec: Spec, fields: dict, region: range, trace: Trace,
                findings: list[Finding], labels_out: dict | None = None,
                ) -> dict[str, tuple[object, str | None]]:
    """Each declared field → (value, cell). Parsers and types applied; `labels_out` gets
    the label each field has on the sheet (squashed), a level gets its key and label."""
    out = {}
    for key, f in (fields or {}).items():
        labels = _labels(f.get("label", key), "start" if f.get("at") == "inside" else "exact")
        got = _value_cell(grid, f, region, labels)
        if got is None or got[2] is None:
            trace.add(grid.name, f"field {key}", None)
            if f.get("required"):
                findings.append(Finding(Severity.ERROR, "missing-field",
                                        f"「{_plain(f.get('label', key))}」が見つかりません",
                                        None, grid.name,
                                        grid.addr(got[0], got[1]) if got else None))
            continue
        r, c, raw, label = got
        cell = grid.addr(r, c)
        if labels_out is not None:
            labels_out[key] = squash(label)
        trace.add(grid.name, f"field {key}", cell)
        kind = f.get("type", "level" if key in LEVEL_FIELDS else "text")
        if f.get("parser"):
            value = parsers.value_parser(f["parser"])(_text(raw))
        elif kind == "quantity":
            value = quantity(grid, spec, r, c)
        elif kind == "year":
            ys = find_years(_text(raw))
            value = ys[0][0].year if ys else None
        elif kind == "level":
            value = _level(grid, r, c, raw)
        else:
            value = _text(raw)
        if isinstance(value, Level):
            value.key, value.label, value.cell = key, squash(label) or None, value.cell or cell
        out[key] = (value, cell)
    return out


def _plain(label) -> str:
    return plain_label(label)


def _level(grid: Grid, r: int, c: int, raw) -> Level:
    """`1` (or `1-1`, `(1)`, `Ⅰ`) then a name right of it, or `1-1 name` / `（１）name` /
    `基本目標1 name` in one cell; the number is kept as written (`code`)."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        whole = float(raw).is_integer()
        code, no, name = (str(int(raw)) if whole else str(raw)), (int(raw) if whole else None), ""
    else:
        code, no, name = parsers.level_code(_text(raw))
    if code is not None and not name:
        nxt = _right_value(grid, r, c)
        name = grid.text(*nxt) if nxt else ""
        return Level(no, name, grid.addr(*nxt) if nxt else grid.addr(r, c), code=code)
    if code is None:
        return Level(None, normalize_text(_text(raw)), grid.addr(r, c))
    return Level(no, name, grid.addr(r, c), code=code)


def level_of_text(text: str, cell: str | None, key: str | None = None,
                  label: str | None = None) -> Level:
    """A level from one cell's text (a grouping column, a section row): code and name."""
    code, no, name = parsers.level_code(text)
    return Level(no, name if code is not None else normalize_text(text).strip(), cell,
                 key=key, label=label, code=code)


def apply_sheet_fields(m: Measure, values: dict, labels: dict | None = None) -> None:
    """Fields read by `read_fields` into the measure: its own attributes, further levels
    (`type: level`), texts (check_analysis, check_next) and the layout's own (`extra`)."""
    labels = labels or {}
    for key, (value, cell) in values.items():
        if key in ("check_analysis", "check_next"):
            texts = parsers.department_texts(value, key) if isinstance(value, str) else value
            for t in texts:
                t.key, t.label, t.cell = key, labels.get(key) or None, cell
                t.role = DEFAULT_ROLES.get(key, "other")
            m.texts.extend(texts)
            m.cells[key] = cell
        elif key in SHEET_FIELDS:
            if key == "projects" and isinstance(value, str):
                value = parsers.project_lines(value)
            if key == "departments" and isinstance(value, str):
                value = parsers.departments(value)
            if key in LEVEL_FIELDS and not isinstance(value, Level):
                value = Level(None, str(value), cell, key=key, label=labels.get(key) or None)
            attr = "number" if key == "sheet_no" else key
            setattr(m, attr, value)
            m.cells[attr] = value.cell if isinstance(value, Level) else cell
        elif isinstance(value, Level):
            m.levels.append(value)
            m.cells[key] = value.cell
        else:
            m.extra[key] = value if isinstance(value, (str, int, float, list)) or value is None \
                else getattr(value, "to_dict", lambda v=value: str(v))()
            m.cells[key] = cell


def _row_texts(grid: Grid, row: int, c0: int, c1: int) -> list[tuple[int, str]]:
    """(column, text) of the cells of `row` from `c0` to before `c1` that hold a value,
    each merged range once (at its top-left cell)."""
    out = []
    for col in range(c0, c1):
        m = grid.merge_at(row, col)
        if m and (m[0], m[1]) != (row, col):
            continue
        v = grid.value(row, col)
        if v is not None:
            out.append((col, str(v)))
    return out


def read_text_blocks(grid: Grid, spec: Spec, sheet: Measure, region: range,
                     trace: Trace, findings: list[Finding] | None = None) -> None:
    """`text_blocks`: a heading, then the text below it up to the next heading."""
    blocks = spec.get("text_blocks") or {}
    heads = {}
    for key, b in blocks.items():
        pos = _find(grid, _labels(b.get("label", key), "start"), region)
        heads[key] = pos
        if pos is None:
            trace.add(grid.name, f"text {key}", None)
    starts = sorted(p[0] for p in heads.values() if p)
    if blocks and not starts and findings is not None:
        names = "・".join(f"「{_plain(b.get('label', k))}」" for k, b in blocks.items())
        findings.append(Finding(Severity.WARNING, "missing-check", f"文章欄（{names}）が見つかりません",
                                None, grid.name))
    for key, pos in heads.items():
        if pos is None:
            continue
        b = blocks[key]
        r, c = pos
        stop = min([s for s in starts if s > r] + [region.stop])
        if b.get("until"):
            u = _find(grid, _labels(b["until"], "start"), range(r + 1, region.stop))
            stop = min(stop, u[0]) if u else stop
        # side-by-side headings on one row: a block ends where the next one begins
        same_row = sorted(p[1] for p in heads.values() if p and p[0] == r and p[1] > c)
        c1 = same_row[0] if same_row else grid.n_cols
        texts, first = [], None
        for row in range(grid.below(r, c), stop):
            for col, text in _row_texts(grid, row, c, c1):
                texts.append(text)
                first = first or grid.addr(row, col)
        text = "\n".join(texts)
        cell = first or grid.addr(grid.below(r, c), c)
        parts = parsers.department_texts(text, key) if b.get("split", "department") == "department" \
            else ([Text(key, text)] if text else [])
        label = squash(grid.text(r, c)) or None
        for part in parts:
            part.label, part.cell = label, cell
            part.role = b.get("role") or DEFAULT_ROLES.get(key, "other")
        sheet.texts.extend(parts)
        sheet.cells[key] = cell
        trace.add(grid.name, f"text {key}", sheet.cells[key])
        top = grid.below(r, c)
        if stop > top and c1 > c:  # the range a roll-forward empties and moves to history
            sheet.cells[f"{key}_block"] = f"{grid.addr(top, c)}:{grid.addr(stop - 1, c1 - 1)}"


# --- tables with years across columns ----------------------------------------------------

ROLE_WORDS = (("achievement", ("達成率", "達成度", "進捗率")), ("grade", ("評価", "判定")),
              ("baseline", ("基準", "従前", "策定時", "現状")), ("target", ("目標",)),
              ("actual", ("実績",)))
ROLES = ("baseline", "actual", "target", "achievement", "grade")


def _role_of(text: str, extra: dict | None = None) -> str | None:
    for k, v in (extra or {}).items():
        if k and k in text:
            return v
    return next((role for role, words in ROLE_WORDS if any(w in text for w in words)), None)


def _header_depth(grid: Grid, r: int) -> int:
    """Header rows when the layout does not say: a header cell merged down over two rows
    (施策 over 施策 and R2年度 under 実績値) means a two-row header."""
    depth = max((m[2] - m[0] + 1 for m in grid.merges if m[0] == r and m[2] > r), default=1)
    # a header continued on the next row by notes only: "(目標値)", "(千円)"
    nxt = [t for t in (grid.label(r + 1, c) for c in range(grid.n_cols)) if t]
    if depth == 1 and nxt and all(re.fullmatch(r"\(.*\)|（.*）|千円|円|単位.*", t) for t in nxt):
        depth = 2
    return min(depth, 3)


class ColumnsTable:
    """A KPI table whose header (one or two rows, merged group headers) gives the columns."""

    def __init__(self, grid: Grid, spec: Spec, table: dict, region: range, findings: list[Finding]):
        self.grid, self.spec, self.table = grid, spec, table
        pos = self._header(grid, table, region)
        self.ok = pos is not None
        if not self.ok:
            return
        self.row, self.name_col = pos
        n = table.get("header_rows") or _header_depth(grid, self.row)
        self.last_row = self.row + n - 1
        header_rows = range(self.row, self.last_row + 1)
        self.cols: dict[str, int] = {}
        for key, col in (table.get("columns") or {}).items():
            labels = _labels(col.get("label", key), "start")
            for r in header_rows:
                hit = next((c for c in range(grid.n_cols) if labels.match(grid.label(r, c))), None)
                if hit is not None:
                    self.cols[key] = hit
                    break
        self.cols.setdefault("name", self.name_col)
        self.name_col = self.cols["name"]
        group_roles = {squash(k): v for k, v in (table.get("group_roles") or {}).items()}
        # (col, fiscal year, role, header row of the year label)
        self.years: list[tuple[int, int, str]] = []
        self.year_rows: dict[int, int] = {}
        self.reported: list[int] = []
        taken = set(self.cols.values())
        for c in range(grid.n_cols):
            if c in taken:
                continue
            # merged-aware header texts of this column, top to bottom: a year merged over
            # 目標値 / 実績値 / 達成率 sub-columns gives each of them its year
            texts = [(r, squash(grid.anchor_text(r, c))) for r in header_rows]
            for r, t in texts:
                for msg in invalid_era_labels(t) if t and len(t) <= 24 else []:
                    findings.append(Finding(Severity.ERROR, "impossible-era", msg, None,
                                            grid.name, grid.addr(r, c)))
            year = None
            for r, t in texts:
                ys = find_years(t) if t and len(t) <= 24 else []
                if ys:
                    year = (r, ys[0])
                    break
            if year is None:
                continue
            r, (fy, warn) = year
            if warn:
                m = grid.merge_at(r, c)
                findings.append(Finding(Severity.WARNING, "era-normalised", warn, None,
                                        grid.name, grid.addr(*(m[:2] if m else (r, c)))))
            role = None
            for _, t in reversed(texts):  # the lowest header text that names a role wins
                role = _role_of(t, group_roles)
                if role:
                    break
            self.years.append((c, fy.year, role or "actual"))
            self.year_rows[c] = r
            own = "".join(t for rr, t in texts if rr >= r and not (rr > r and find_years(t)))
            if "実績" in own:  # the year's own header says 実績値: a reported year
                self.reported.append(fy.year)
        self.years.sort()
        pairs = {(fy, role) for _, fy, role in self.years}
        self.per_year_targets = {fy for fy, role in pairs if role == "target" and (fy, "actual") in pairs}


    def header_text(self, c: int) -> str:
        """The header of column c as the sheet names it (its header rows joined)."""
        texts = (squash(self.grid.anchor_text(r, c)) for r in range(self.row, self.last_row + 1))
        return "".join(dict.fromkeys(t for t in texts if t))  # a header merged down counts once

    @staticmethod
    def _header(grid: Grid, table: dict, region: range):
        """The header cell: of the cells matching `header`, the first whose row (and the
        next) holds most of the declared column labels or a year label."""
        hits = [(r, c) for r, c, t in grid.labels() if r in region
                and _labels(table.get("header", ["指標名", "KPI"]), "start").match(t)]
        if len(hits) <= 1:
            return hits[0] if hits else None
        cols = [_labels(col.get("label", key), "start") for key, col in
                (table.get("columns") or {}).items()]
        n = table.get("header_rows", 1)

        def score(hit):
            texts = [grid.label(r, c) for r in range(hit[0], hit[0] + n) for c in range(grid.n_cols)]
            found = sum(any(lab.match(t) for t in texts if t) for lab in cols)
            years = any(find_years(t) for t in texts if t and len(t) <= 24)
            return found + (1 if years else 0)

        best = max(score(h) for h in hits)
        return next(h for h in hits if score(h) == best)


def _skip_labels(table: dict) -> Labels:
    return _labels(table.get("skip_rows", DEFAULT_SKIP), "start")


def _row_kpi(grid: Grid, spec: Spec, t: ColumnsTable, r: int, context: dict,
             findings: list[Finding]) -> Kpi | None:
    cols = t.cols

    def text_of(key):
        c = cols.get(key)
        return "" if c is None else grid.anchor_text(r, c)

    name = text_of("name")
    kpi = Kpi(name=name, row=r + 1, sheet=grid.name)
    kpi.tags = re.findall(r"【([^】]+)】", name)  # 【地方創生交付金】 in a KPI name
    for key in ("category",):
        if text_of(key):
            kpi.category = text_of(key)
    kpi.department = text_of("department") or None
    kpi.notes = text_of("notes")
    fill_years(kpi, grid, spec, t, r, context.get("_row_role"))
    columns = t.table.get("columns") or {}
    for key in ("baseline", "target", "cost"):
        c = cols.get(key)
        if c is None:
            continue
        parser = (columns.get(key) or {}).get("parser")
        if key == "baseline" and parser == "series":
            _series_baseline(kpi, grid, r, c, findings)
            continue
        if key == "target" and parser == "target_expression":
            _target_expression(kpi, grid, r, c, findings)
            continue
        q = quantity(grid, spec, r, c)
        if key == "baseline":
            kpi.baseline = q
        elif key == "target":
            kpi.target = q
        else:
            kpi.cost = q
            unit = money_unit(t.header_text(c))
            if unit and q.value is not None and q.unit is None:
                q.unit = unit
    # a 達成率 / 評価 column without a year: of the latest year with an actual (a number or,
    # for a qualitative KPI, a text such as 完了)
    latest = max((q.fiscal_year for q in kpi.actuals if q.fiscal_year
                  and (q.value is not None or q.is_qualitative)), default=None)
    for key, bucket in (("achievement", kpi.achievements), ("grade", kpi.grades)):
        c = cols.get(key)
        if c is not None and c not in {yc for yc, _, _ in t.years}:
            bucket.append(quantity(grid, spec, r, c, latest))
    for key in ("baseline_year", "target_year"):
        c = cols.get(key)
        if c is None:
            continue
        raw = grid.text(r, c)
        ys = find_years(raw)
        if ys:
            setattr(kpi, key, ys[0][0].year)
        elif key == "target_year" and re.search(r"毎年", normalize_text(raw)):
            kpi.tags.append("毎年度")
    if kpi.baseline.cell and kpi.baseline_year:
        kpi.baseline.fiscal_year = kpi.baseline_year
    if kpi.target_year:
        kpi.target.fiscal_year = kpi.target_year
    unit_col = cols.get("unit")
    if unit_col is not None:
        unit = grid.text(r, unit_col)
        kpi.unit = None if not unit or unit in NONE_MARKS else unit
    if cols.get("direction") is not None:
        kpi.direction = _direction(grid.text(r, cols["direction"]), name, spec)
    else:
        kpi.direction = _direction("", name, spec)
    _finish_kpi(kpi, spec, context)
    return kpi


def money_unit(header: str) -> str | None:
    """千円 or 円 when a column's header names it (`事業費(千円)`)."""
    h = squash(header)
    return "千円" if "千円" in h else ("円" if re.search(r"[(（]円[)）]|単位:?円", h) else None)


def _series_baseline(kpi: Kpi, grid: Grid, r: int, c: int, findings: list[Finding]) -> None:
    """A `parser: series` baseline column (`700人(H26)、600人(H27)`): every value is a past
    actual with its year; the baseline is the last one with a number."""
    text, cell = grid.anchor_text(r, c), grid.addr(r, c)
    values, warns = parse_series(text, cell)
    for w in warns:
        findings.append(Finding(Severity.WARNING, "era-normalised", w, None, grid.name, cell))
    kpi.actuals.extend(values)
    known = [q for q in values if q.value is not None]
    if known:
        kpi.baseline = replace(known[-1])
        kpi.baseline_year = known[-1].fiscal_year
    else:
        kpi.baseline = Quantity(text=text or None, cell=cell)
    kpi.cells["baseline"] = cell


def _target_expression(kpi: Kpi, grid: Grid, r: int, c: int, findings: list[Finding]) -> None:
    """A `parser: target_expression` target column (`延べ900人（H31～H35）`): value, unit,
    kind and period."""
    text, cell = grid.anchor_text(r, c), grid.addr(r, c)
    kpi.cells["target"] = cell
    if not text:
        kpi.target = Quantity(cell=cell)
        return
    t, warns = parse_target(text, cell)
    for w in warns:
        findings.append(Finding(Severity.WARNING, "era-normalised", w, None, grid.name, cell))
    if t.kind is TargetKind.NONE and t.text and t.text.strip("-—－ "):
        t.kind = TargetKind.QUALITATIVE
    kpi.target_detail = t
    kpi.target = Quantity(value=t.value, unit=t.unit, text=t.text, qualifier=t.qualifier,
                          cell=cell, fiscal_year=t.period_end)
    kpi.target_year = t.period_end
    kpi.unit = kpi.unit or t.unit or kpi.baseline.unit


def fill_years(kpi: Kpi, grid: Grid, spec: Spec, t: ColumnsTable, r: int,
               row_role: str | None = None) -> None:
    """The year cells of row r into the KPI, by the role of each column (or of the row,
    for a plain year column under a row that says 目標値 / 実績値 / 達成率)."""
    for c, fy, role in t.years:
        own = role
        if row_role and role == "actual":
            role = row_role
        elif row_role and role != row_role and grid.value(r, c) is None:
            continue  # a column with its own role, blank on this row
        if row_role and own != "actual" and role != row_role and kpi_has(kpi, role, fy):
            continue
        q = quantity(grid, spec, r, c, fy)
        if role == "baseline":
            kpi.baseline, kpi.baseline_year = q, fy
        elif role == "target" and (fy in t.per_year_targets or row_role == "target"):
            kpi.targets.append(q)
        elif role == "target":
            if kpi.target.cell:
                kpi.targets.append(kpi.target)
            kpi.target, kpi.target_year = q, fy
        elif role == "achievement":
            kpi.achievements.append(q)
        elif role == "grade":
            kpi.grades.append(q)
        else:
            kpi.actuals.append(q)


def kpi_has(kpi: Kpi, role: str, fy: int) -> bool:
    if role == "baseline":
        return kpi.baseline.cell is not None
    if role == "target":
        return kpi.target_year == fy and kpi.target.cell is not None
    return False


def _row_role(grid: Grid, t: ColumnsTable, r: int) -> str | None:
    rr = t.table.get("row_roles")
    if not rr:
        return None
    c = t.cols.get(rr.get("column", "name"), t.name_col)
    text = squash(grid.anchor_text(r, c))
    for label, role in (rr.get("roles") or {"目標": "target", "実績": "actual", "達成": "achievement",
                                            "評価": "grade"}).items():
        if squash(str(label)) in text and text:
            return role
    return None


def _direction(mark: str, name: str, spec: Spec) -> Direction:
    m = normalize_text(mark or "")
    values = spec.get("values") or {}
    down = _labels(values.get("down_marks", ["↓", "減", "低", "下", "低いほど良い"]), "contains")
    if m and down.match(squash(m)):
        return Direction.DOWN
    if m:
        return Direction.UP
    words = (spec.get("direction") or {}).get("down_words", DEFAULT_DOWN)
    return Direction.DOWN if _labels(words, "contains").match(squash(name)) else Direction.UP


def _finish_kpi(kpi: Kpi, spec: Spec, context: dict) -> None:
    """Units, target kind and target detail."""
    qs = [kpi.baseline, *kpi.actuals, kpi.target, *kpi.targets]
    if not kpi.unit:
        units = [q.unit for q in qs if q.unit]
        kpi.unit = Counter(units).most_common(1)[0][0] if units else None
    for q in qs:
        if q.value is not None and q.unit is None and kpi.unit:
            q.unit = kpi.unit
    if kpi.unit == "%":
        for q in qs:
            if q.value is not None and q.unit == "%" and (spec.get("values") or {}).get(
                    "percent") == "fraction" and q.text and "%" not in q.text and abs(q.value) <= 1.5:
                q.value = round(q.value * 100, 10)
    if kpi.target_detail is not None:  # a target expression says its own kind
        kpi.target_kind = kpi.target_detail.kind
    else:
        kpi.target_kind = _kind(kpi)
        t = kpi.target
        kpi.target_detail = Target(t.value, t.unit, kpi.target_kind, None, kpi.target_year,
                                   t.text, t.qualifier, t.cell)
    if kpi.target_kind is TargetKind.RUNNING_TOTAL and (spec.get("values") or {}).get("baseline_cumulative"):
        kpi.extra["baseline_cumulative"] = True  # the baseline is part of the running total


def _kind(kpi: Kpi) -> TargetKind:
    t = kpi.target
    name = normalize_text(kpi.name)
    if t.is_empty or t.is_none_mark:
        return TargetKind.NONE
    if t.value is None:
        return TargetKind.QUALITATIVE
    if "累計" in name:
        return TargetKind.RUNNING_TOTAL
    if "毎年度" in kpi.tags or re.search(r"/(年|年度|月)", name) or "毎年" in name:
        return TargetKind.PER_YEAR
    if "延べ" in name or "合計" in name:
        return TargetKind.CUMULATIVE
    return TargetKind.AT_YEAR


def _text_row(grid: Grid, t: ColumnsTable, r: int, texts: list[str], first_text: str,
              prev: Kpi) -> bool:
    """A text row under a KPI (its 取組状況): a `text_rows` label, or a cell merged from the
    name column over the value columns. The text goes to the KPI above (`extra`)."""
    spec_rows = t.table.get("text_rows") or {}
    field_name = spec_rows.get("field", "text")
    labels = _labels(spec_rows["labels"], "start") if spec_rows.get("labels") else None
    value_cols = {c for c, _, _ in t.years} | {c for k, c in t.cols.items()
                                                if k in ("baseline", "target", "unit")}
    m = grid.merge_at(r, t.name_col)
    merged_over = bool(m and m[0] == r and any(m[1] <= c <= m[3] for c in value_cols))
    if labels and labels.match(first_text):
        body = [x for x in texts if x]
        text = "\n".join(body[1:]) if len(body) > 1 else labels.regex.sub("", first_text, count=1)
    elif merged_over and not (m[0] < r):
        text = grid.text(r, m[1])
    else:
        return False
    old = prev.extra.get(field_name)
    prev.extra[field_name] = f"{old}\n{text}" if old else text
    return True


def _continues(grid: Grid, t: ColumnsTable, r: int, name: str, prev: Kpi) -> bool:
    """A row of the KPI above: its name cell blank, or merged with the row above."""
    m = grid.merge_at(r, t.name_col)
    return not grid.text(r, t.name_col) and (not name or name == prev.name or bool(m and m[0] < r))


def read_columns_table(grid: Grid, spec: Spec, region: range, findings: list[Finding],
                       trace: Trace, on_section=None) -> tuple[ColumnsTable | None, list[tuple[Kpi, dict]]]:
    """Rows of a years-across-columns table → (kpi, context) pairs; context holds the carried
    section and group values of each row."""
    table = spec.get("table") or {}
    t = ColumnsTable(grid, spec, table, region, findings)
    if not t.ok:
        trace.add(grid.name, "table header", None)
        return None, []
    trace.add(grid.name, "table header", grid.addr(t.row, t.name_col))
    for key, c in t.cols.items():
        trace.add(grid.name, f"column {key}", grid.addr(t.row, c))
    for key in (table.get("columns") or {}):
        if key not in t.cols:
            trace.add(grid.name, f"column {key}", None)
            if table["columns"][key].get("required"):
                findings.append(Finding(Severity.ERROR, "missing-column",
                                        f"表の列「{_plain(table['columns'][key].get('label', key))}」が見つかりません",
                                        None, grid.name, grid.addr(t.row, t.name_col)))
    for c, fy, role in t.years:
        trace.add(grid.name, f"year {fy} ({role})", grid.addr(t.year_rows.get(c, t.row), c))
    skip = _skip_labels(table)
    ends = list(table.get("end") or []) if not isinstance(table.get("end"), str) else [table["end"]]
    for b in (spec.get("text_blocks") or {}).values():  # a text block's heading ends the table
        lab = b.get("label")
        ends.extend([lab] if isinstance(lab, str) else lab or [])
    end = _labels(ends, "start") if ends else None
    # a sheet field's label below the table (備考, 担当課) ends it too
    field_labels = []
    for f in (spec.get("fields") or {}).values():
        lab = f.get("label")
        field_labels.extend([lab] if isinstance(lab, str) else lab or [])
    field_end = _labels(field_labels, "exact") if field_labels else None
    section = table.get("section") or {}
    sec_labels = _labels(section["labels"], "start") if section.get("labels") else None
    sec_col = t.cols.get(section.get("column", ""), 0) if section else 0
    carry = {k for k, col in (table.get("columns") or {}).items() if col.get("carry_down")}
    warn_blank = {k for k, col in (table.get("columns") or {}).items() if col.get("warn_blank", True)}
    context: dict = {}
    carried: dict[str, str] = {}
    out = []
    for r in range(t.last_row + 1, region.stop):
        texts = [grid.text(r, c) for c in range(grid.n_cols)]
        if not any(texts):
            continue
        first_text = next((squash(x) for x in texts if x), "")
        if (end and end.match(first_text)) or (field_end and field_end.match(first_text)):
            break
        name = grid.anchor_text(r, t.name_col)
        sec_text = squash(grid.anchor_text(r, sec_col) or first_text)
        if sec_labels and sec_labels.match(sec_text) and (not name or squash(name) == sec_text):
            raw = next(x for x in texts if x)
            level = _level(grid, r, texts.index(raw), raw)
            level.key = section.get("field", "section")
            context[level.key] = (level, grid.addr(r, texts.index(raw)))
            carried.clear()
            continue
        if out and _text_row(grid, t, r, texts, first_text, out[-1][0]):
            continue
        if skip.match(squash(name)) or (not name and skip.match(first_text)):
            continue
        values = [grid.value(r, c) for c, _, _ in t.years]
        row_role = _row_role(grid, t, r)
        if row_role and out and _continues(grid, t, r, name, out[-1][0]):
            fill_years(out[-1][0], grid, spec, t, r, row_role)
            continue
        if not name:
            if any(v is not None for v in values):
                findings.append(Finding(Severity.WARNING, "kpi-without-name",
                                        "指標名が空の行があります（指標として扱いません）",
                                        None, grid.name, grid.addr(r, t.name_col)))
            continue
        row_ctx = dict(context)
        for key in carry:
            c = t.cols.get(key)
            if c is None:
                continue
            v = grid.anchor_text(r, c)
            if v:
                carried[key] = v
            elif key in carried:
                v = carried[key]
                if key in warn_blank and not grid.merge_at(r, c):
                    findings.append(Finding(
                        Severity.WARNING, "carried-down",
                        f"「{_plain(table['columns'][key].get('label', key))}」が空欄のため、"
                        f"上の行の「{v}」として読みました", None, grid.name, grid.addr(r, c)))
            row_ctx[key] = (v, grid.addr(r, c))
        for key in (table.get("columns") or {}):
            if key not in carry and key not in ("name",) and t.cols.get(key) is not None:
                row_ctx.setdefault(key, (grid.anchor_text(r, t.cols[key]), grid.addr(r, t.cols[key])))
        row_ctx["_row_role"] = row_role
        kpi = _row_kpi(grid, spec, t, r, row_ctx, findings)
        row_ctx.pop("_row_role")
        if kpi is not None:
            out.append((kpi, row_ctx))
    return t, out


# --- blocks with years as rows -----------------------------------------------------------

def read_block_kpi(grid: Grid, spec: Spec, rows: range, findings: list[Finding],
                   trace: Trace) -> Kpi | None:
    block = spec.get("block") or {}
    values = read_fields(grid, spec, block.get("fields") or {}, rows, trace, findings)
    name = values.get("name", ("", None))[0]
    if not name:
        start = _find(grid, _labels(block["start"], "start"), rows)
        findings.append(Finding(Severity.ERROR, "missing-field", "指標名が見つかりません",
                                None, grid.name, grid.addr(*start) if start else None))
        return None
    kpi = Kpi(name=str(name), row=(rows.start + 1), sheet=grid.name)
    for key, (value, cell) in values.items():
        if key == "unit":
            kpi.unit = str(value) or None
        elif key == "category":
            kpi.category = str(value)
        elif key in ("baseline", "target"):
            q = value if isinstance(value, Quantity) else Quantity(text=str(value), cell=cell)
            setattr(kpi, key, q)
        elif key in ("baseline_year", "target_year"):
            ys = find_years(str(value)) if not isinstance(value, int) else None
            year = value if isinstance(value, int) else (ys[0][0].year if ys else None)
            setattr(kpi, key, year)
            if year is None and re.search(r"毎年", normalize_text(str(value))):
                kpi.tags.append("毎年度")
        elif key == "direction":
            kpi.direction = _direction(str(value), kpi.name, spec)
        elif key != "name":
            kpi.extra[key] = value.to_dict() if hasattr(value, "to_dict") else value
    if "direction" not in values:
        kpi.direction = _direction("", kpi.name, spec)
    if kpi.baseline_year:
        kpi.baseline.fiscal_year = kpi.baseline_year
    if kpi.target_year:
        kpi.target.fiscal_year = kpi.target_year
    table = spec.get("table") or {}
    if table.get("years") == "columns":
        _block_columns(grid, spec, table, rows, kpi, findings, trace)
        _finish_kpi(kpi, spec, {})
        return kpi
    head = _find(grid, _labels(table.get("header", "年度"), "start"), rows)
    if head is None:
        trace.add(grid.name, "table header", None)
        findings.append(Finding(Severity.ERROR, "missing-kpi-table", "年度ごとの表が見つかりません",
                                None, grid.name, grid.addr(rows.start, 0)))
        return kpi
    hr, ycol = head
    trace.add(grid.name, "table header", grid.addr(hr, ycol))
    cols = {}
    for key, col in (table.get("columns") or {}).items():
        labels = _labels(col.get("label", key), "start")
        hit = next((c for c in range(grid.n_cols) if labels.match(grid.label(hr, c))), None)
        trace.add(grid.name, f"column {key}", grid.addr(hr, hit) if hit is not None else None)
        if hit is not None:
            cols[col.get("role", key)] = hit
    seen = False
    for r in range(hr + 1, rows.stop):
        label = grid.text(r, ycol)
        ys = find_years(label) if len(label) <= 12 else []
        if not ys:
            if seen and not any(grid.text(r, c) for c in range(grid.n_cols)):
                break
            continue
        seen = True
        fy, warn = ys[0]
        if warn:
            findings.append(Finding(Severity.WARNING, "era-normalised", warn, None, grid.name,
                                    grid.addr(r, ycol)))
        for role, c in cols.items():
            q = quantity(grid, spec, r, c, fy.year)
            if role == "actual":
                kpi.actuals.append(q)
            elif role == "target":
                kpi.targets.append(q)
            elif role == "achievement":
                kpi.achievements.append(q)
            elif role == "grade":
                kpi.grades.append(q)
    _finish_kpi(kpi, spec, {})
    return kpi


def _block_columns(grid: Grid, spec: Spec, table: dict, rows: range, kpi: Kpi,
                   findings: list[Finding], trace: Trace) -> None:
    """A block's small table with years across columns: each row is one role of the KPI
    (a 目標値 row, a 実績値 row, a 達成率 row), said by its first cell or `row_roles`."""
    t = ColumnsTable(grid, spec, table, rows, findings)
    if not t.ok:
        trace.add(grid.name, "table header", None)
        findings.append(Finding(Severity.ERROR, "missing-kpi-table", "指標の表が見つかりません",
                                None, grid.name, grid.addr(rows.start, 0)))
        return
    trace.add(grid.name, "table header", grid.addr(t.row, t.name_col))
    for c, fy, role in t.years:
        trace.add(grid.name, f"year {fy} ({role})", grid.addr(t.year_rows.get(c, t.row), c))
    # a header-row cell with its own role (従前値(H26), 目標値(R6)) holds its value below
    for r in range(t.last_row + 1, rows.stop):
        role = _row_role(grid, t, r) or _role_of(squash(grid.anchor_text(r, t.name_col)))
        if role is None:
            continue
        fill_years(kpi, grid, spec, t, r, role)


# --- the city's own 達成率 and 評価, checked against the declared rule --------------------

def check_achievement(kpi: Kpi, spec: Spec, sheet: str, findings: list[Finding]) -> None:
    rule = (spec.get("achievement") or {}).get("rule", "none")
    tol = (spec.get("achievement") or {}).get("tolerance", 0.5)
    scale = sorted((spec.get("grades") or {}).get("scale") or [], key=lambda g: -g["min"])
    targets = {q.fiscal_year: q for q in kpi.targets}
    rates = {q.fiscal_year: q for q in kpi.achievements}
    grades = {q.fiscal_year: q for q in kpi.grades}
    for fy in sorted(set(rates) | set(grades), key=lambda y: y or 0):
        a = rates.get(fy)
        read = _percent_points(a, spec) if a is not None else None
        ours = _rate(rule, kpi, kpi.actual(fy), targets.get(fy))
        if read is not None and ours is not None and abs(read - ours) > tol:
            findings.append(Finding(
                Severity.WARNING, "achievement-differs",
                f"指標「{kpi.name}」の達成率 {read:g}% は、様式の定義（{rule}）による "
                f"{ours:.1f}% と一致しません", None, sheet, a.cell))
        grade = grades.get(fy)
        basis = read if read is not None else ours
        if scale and grade is not None and grade.text and basis is not None:
            expected = next((g["grade"] for g in scale if basis >= g["min"]), scale[-1]["grade"])
            if squash(grade.text) != squash(expected):
                findings.append(Finding(
                    Severity.WARNING, "grade-differs",
                    f"指標「{kpi.name}」の評価「{grade.text}」は、達成率 {basis:g}% と評価の基準から"
                    f"求まる「{expected}」と一致しません", None, sheet, grade.cell))


def _rate(rule: str, kpi: Kpi, actual: Quantity | None, target: Quantity | None) -> float | None:
    if actual is None or actual.value is None:
        return None
    t = target if target is not None and target.value is not None else kpi.target
    a = float(actual.value)
    if rule in ("ratio", "ratio_inverse_when_down"):
        if t.value in (None, 0):
            return None
        if rule == "ratio_inverse_when_down" and kpi.direction is Direction.DOWN:
            return None if a == 0 else float(t.value) / a * 100
        return a / float(t.value) * 100
    b = kpi.baseline.value
    if rule == "progress" and b is not None and kpi.target.value not in (None, b):
        return (a - b) / (float(kpi.target.value) - b) * 100
    if rule == "prorated" and b is not None and kpi.target.value is not None and kpi.baseline_year \
            and kpi.target_year and actual.fiscal_year and kpi.target_year > kpi.baseline_year:
        share = (actual.fiscal_year - kpi.baseline_year) / (kpi.target_year - kpi.baseline_year)
        goal = b + (float(kpi.target.value) - b) * share
        return None if goal == b else (a - b) / (goal - b) * 100
    return None


# --- roll-forward declaration ------------------------------------------------------------

def record_rollforward(sheet: Measure, spec: Spec) -> None:
    """Which cells become next year's input and which text blocks move to history."""
    decl = spec.get("rollforward") or {}
    if not decl:
        return
    filled = [q.fiscal_year for k in sheet.kpis for q in k.actuals
              if q.fiscal_year and (not q.is_empty or q.status)]
    years = sorted({q.fiscal_year for k in sheet.kpis for q in k.actuals if q.fiscal_year})
    later = [y for y in years if not filled or y > max(filled)]
    out: dict = {}
    if decl.get("next_input", "first_empty_actual") == "first_empty_actual" and later:
        year = later[0]
        out["year"] = year
        out["next_input"] = [q.cell for k in sheet.kpis for q in k.actuals
                             if q.fiscal_year == year and q.cell]
    hist = decl.get("history") or []
    hist = [hist] if isinstance(hist, str) else hist
    out["history"] = {h: sheet.cells[h] for h in hist if h in sheet.cells}
    sheet.rollforward = out


# --- record units --------------------------------------------------------------------------

def read_generic(path: str, grids: list[tuple[Grid, dict]], spec: Spec, trace: Trace,
                 read_grid) -> Book:
    """Read the selected sheets (grid, role) with a record unit's `read_grid(grid, spec,
    trace, findings) -> [Measure]` (one of the three below, chosen by the kind module)."""
    book = Book(layout=spec.name, path=str(path))
    for grid, _role in grids:
        findings: list[Finding] = []
        book.measures.extend(read_grid(grid, spec, trace, findings))
        for f in findings:
            f.file = str(path)
        book.findings.extend(findings)
    _finish_book(book)
    return book


def read_sheet_record(grid: Grid, spec: Spec, trace: Trace, findings: list[Finding]) -> list[Measure]:
    """record: sheet: one measure per sheet, its fields, one KPI table and text blocks."""
    region = range(0, grid.n_rows)
    m = Measure(sheet=grid.name)
    labels: dict = {}
    apply_sheet_fields(m, read_fields(grid, spec, spec.get("fields") or {}, region, trace,
                                      findings, labels), labels)
    t, rows = read_columns_table(grid, spec, region, findings, trace)
    if t is None:
        header = (spec.get("table") or {}).get("header", ["指標名", "KPI"])
        findings.append(Finding(
            Severity.ERROR, "missing-kpi-table",
            f"指標（KPI）の表が見つかりません（「{_plain(header)}」の見出しがありません）",
            None, grid.name))
    else:
        m.kpi_header_row = t.row + 1
        m.extra["reported_years"] = sorted(set(t.reported))
        m.year_columns = {fy: grid.addr(0, c).rstrip("0123456789") for c, fy, _ in t.years}
    for kpi, ctx in rows:
        if "category" in ctx and not kpi.category:
            kpi.category = ctx["category"][0] or None
        m.kpis.append(kpi)
    read_text_blocks(grid, spec, m, region, trace, findings)
    finish_measure(m, spec, findings, grid)
    return [m]


def read_block_record(grid: Grid, spec: Spec, trace: Trace, findings: list[Finding]) -> list[Measure]:
    """record: block: one measure per sheet, its fields and KPI blocks stacked below."""
    region = range(0, grid.n_rows)
    m = Measure(sheet=grid.name)
    labels: dict = {}
    apply_sheet_fields(m, read_fields(grid, spec, spec.get("fields") or {}, region, trace,
                                      findings, labels), labels)
    for rows in _blocks(grid, spec):
        kpi = read_block_kpi(grid, spec, rows, findings, trace)
        if kpi is not None:
            m.kpis.append(kpi)
    read_text_blocks(grid, spec, m, region, trace, findings)
    finish_measure(m, spec, findings, grid)
    return [m]


def _blocks(grid: Grid, spec: Spec) -> list[range]:
    block = spec.get("block") or {}
    start = _labels(block["start"], "exact")
    starts = sorted({r for r, c, t in grid.labels() if start.match(t)})
    ends = [block["end"]] if isinstance(block.get("end"), str) else list(block.get("end") or [])
    for b in (spec.get("text_blocks") or {}).values():  # a text block's heading ends a block
        lab = b.get("label")
        ends.extend([lab] if isinstance(lab, str) else lab or [])
    end = _labels(ends, "start") if ends else None
    out = []
    for i, s in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else grid.n_rows
        if end:
            e = _find(grid, end, range(s + 1, stop))
            stop = e[0] if e else stop
        out.append(range(s, stop))
    return out


def read_row_records(grid: Grid, spec: Spec, trace: Trace, findings: list[Finding]) -> list[Measure]:
    """record: row: one KPI per table row, grouped into measures by the `group_by` column
    (its text a level: `1-1 name`); `project_lines` names the columns of each row's project
    line (name, department, content, tags)."""
    region = range(0, grid.n_rows)
    labels: dict = {}
    header_fields = read_fields(grid, spec, spec.get("fields") or {}, region, trace, findings,
                                labels)
    t, rows = read_columns_table(grid, spec, region, findings, trace)
    if t is None:
        return []
    group = spec.get("group_by") or "measure"
    group_label = t.header_text(t.cols[group]) if group in t.cols else None
    lines = spec.get("project_lines") or {}
    years = [fy for _, fy, role in t.years if role == "actual"]
    measures: dict[str, Measure] = {}
    for kpi, ctx in rows:
        raw, gcell = ctx.get(group, ("", None))
        key = raw.name if isinstance(raw, Level) else str(raw or "")
        m = measures.get(key)
        if m is None:
            m = Measure(sheet=grid.name)
            apply_sheet_fields(m, header_fields, labels)
            if isinstance(raw, Level):
                m.measure = raw
            elif key:
                m.measure = level_of_text(key, gcell, label=group_label)
            if m.measure is not None:
                m.measure.key = "measure"
                m.cells["measure"] = gcell
            for k, (v, cell) in ctx.items():
                if isinstance(v, Level) and k in LEVEL_FIELDS and k != "measure":
                    setattr(m, k, v)
                    m.cells[k] = cell
            m.kpi_header_row = t.row + 1
            m.year_columns = {fy: grid.addr(0, c).rstrip("0123456789") for c, fy, _ in t.years}
            measures[key] = m
        if "category" in ctx and not kpi.category:
            kpi.category = ctx["category"][0] or None
        m.kpis.append(kpi)
        line = _project_line(ctx, lines)
        if line is not None:
            m.projects.append(line)
    for m in measures.values():
        finish_measure(m, spec, findings, grid, years)
    return list(measures.values())


def _project_line(ctx: dict, lines: dict) -> ProjectLine | None:
    """A row's project line from the columns `project_lines` names (None without a name)."""
    if not lines:
        return None

    def text(field):
        v = ctx.get(lines.get(field) or "", ("", None))[0]
        return (v.name if isinstance(v, Level) else str(v or "")).strip()

    name = text("name")
    if not name:
        return None
    tags = lines.get("tags") or []
    tags = [tags] if isinstance(tags, str) else tags
    tag_values = [str(ctx.get(k, ("", None))[0] or "").strip() for k in tags]
    cells = {f: ctx[col][1] for f, col in lines.items()
             if isinstance(col, str) and col in ctx and ctx[col][1]}
    return ProjectLine(name=name, department=text("department") or None, content=text("content"),
                       tags=[x for x in tag_values if x], cells=cells)


def finish_measure(m: Measure, spec: Spec, findings: list[Finding], grid: Grid,
                   years: list[int] | None = None) -> None:
    """Years, edition, derived facts (departments, 単位コスト), the city's own rates checked,
    and what a roll-forward changes. `years`: the record's actual year columns when its
    KPIs also hold past values (a series); else the years of the KPIs' actuals."""
    for k in m.kpis:
        check_achievement(k, spec, m.sheet, findings)
    bys = [k.baseline_year for k in m.kpis if k.baseline_year]
    tys = [k.target_year for k in m.kpis if k.target_year]
    m.baseline_year = min(bys) if bys else None
    m.target_year = max(tys) if tys else None
    if years is None:
        years = [q.fiscal_year for k in m.kpis for q in k.actuals if q.fiscal_year]
    m.actual_years = sorted(set(years))
    filled = [q.fiscal_year for k in m.kpis for q in k.actuals
              if q.fiscal_year in m.actual_years and not q.is_empty and not q.is_none_mark
              and not q.status]
    # the edition: the year after the last year headed 実績値, else after the last filled one
    reported = m.extra.get("reported_years")
    if reported:
        m.extra["edition"] = max(reported) + 1
    elif filled:
        m.extra["edition"] = max(filled) + 1
    elif m.baseline_year:
        m.extra["edition"] = m.baseline_year + 1
    if not m.kpis and not any(f.code == "missing-kpi-table" for f in findings):
        findings.append(Finding(Severity.ERROR, "no-kpis", "指標（KPI）が1つも読めませんでした",
                                None, grid.name))
    gather_departments(m)
    derive_unit_cost(m)
    record_rollforward(m, spec)


def _finish_book(book: Book) -> None:
    editions = Counter(m.extra["edition"] for m in book.measures if m.extra.get("edition"))
    if editions:
        book.fiscal_year = editions.most_common(1)[0][0]
    titles = [m.title for m in book.measures if m.title]
    book.title = titles[0] if titles else None

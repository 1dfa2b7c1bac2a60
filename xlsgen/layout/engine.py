"""The generic reader: a layout file's fields, tables and blocks → the one model.

Record units (each wrapped by a kind module of xlsgen.kinds): `sheet` (one measure per
sheet: fields + one KPI table), `block` (KPI blocks stacked on a measure sheet, each with
fields above a small table whose years are rows) and `row` (one KPI per table row, grouped
into measures by a column). A record may span several sheets (`sheets.group`): its other
sheets are read through `Grid.qualified()`, so their cells name their sheet (`'S2'!B5`).
Every value keeps the cell it came from; `trace` lists which field came from which cell,
and what is missing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

import xlsgen.layout.parsers as parsers
from xlsgen.formulas import col_name, on_sheet
from xlsgen.layout.spec import Labels, Spec, compile_labels, plain_label
from xlsgen.model import (
    FUNDING_KEYS,
    NONE_MARKS,
    Amount,
    Book,
    CostBlock,
    CostLine,
    Direction,
    Evaluation,
    Finding,
    Kpi,
    Level,
    Measure,
    PeriodTotal,
    ProjectLine,
    Quantity,
    Severity,
    Target,
    TargetKind,
    Text,
    derive_unit_cost,
    gather_departments,
    grade_for,
)
from xlsgen.quantities import parse_quantity, parse_series, parse_target
from xlsgen.read.grid import Grid, squash
from xlsgen.wareki import find_years, invalid_era_labels, normalize_text, without_years

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


# a clerk's numbering before a heading, kept apart from it by a space: 「５　年度ごとの取組実績」
_NUMBERED = re.compile(r"^[\s\u3000]*[0-9０-９]{1,2}[\s\u3000]+(?=\S)")


def _matches(grid: Grid, labels: Labels, r: int, c: int, t: str) -> bool:
    """A cell's text matches, also without a leading number set off by a space (the text is
    squashed first, so 「５　年度…」 would otherwise read 「5年度…」)."""
    if labels.match(t):
        return True
    if t[:1].isdigit():
        raw = grid.value(r, c)
        if isinstance(raw, str) and _NUMBERED.match(raw):
            return labels.match(squash(_NUMBERED.sub("", raw, count=1)))
    return False


def _find(grid: Grid, labels: Labels, rows: range | None = None, nth: int = 1):
    hits = [(r, c) for r, c, t in grid.labels()
            if (rows is None or r in rows) and _matches(grid, labels, r, c, t)]
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
    if spec_field.get("parser") == "checked_cells":
        return _checked_cells(grid, r, c, at)
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


def _checked_cells(grid: Grid, r: int, c: int, at: str):
    """Tick boxes in cells of their own (`parser: checked_cells`): the option cells right of
    the label on the rows it covers (`at: below`: the rows under it), each merged range once,
    read as one list `□拡充　■現状維持　□改善`. The cell is the first ticked one (else the
    first option)."""
    m = grid.merge_at(r, c)
    if at == "below":
        top = (m[2] if m else r) + 1
        rows, left = range(top, top + 1), c
    else:
        rows, left = range(r, (m[2] if m else r) + 1), grid.right_of(r, c)
    cells = [(row, col, text) for row in rows for col, text in _row_texts(grid, row, left, grid.n_cols)]
    if not cells:
        return r, left, None
    ticked = next(((row, col) for row, col, text in cells if parsers.is_ticked(text)), None)
    first = ticked or (cells[0][0], cells[0][1])
    return first[0], first[1], "\u3000".join(text for _, _, text in cells)


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


def is_none_text(text: str, spec: Spec) -> bool:
    """A cell text that says "nothing here": 「－」 and similar, or the layout's `none_marks`."""
    t = squash(text)
    if not t:
        return True
    marks = (spec.get("values") or {}).get("none_marks")
    return t in NONE_MARKS or normalize_text(text).strip() in NONE_MARKS or \
        bool(marks and _labels(marks).match(t))


_UNIT_IN_NAME = re.compile(r"^(.*?)\s*[（(]([^（）()]{1,12})[）)]\s*$", re.S)


def unit_in_name(name: str) -> str | None:
    """The unit written at the end of a KPI name: 「補助件数（件）」 → 件, 「結成率（%）」 → %."""
    m = _UNIT_IN_NAME.match(normalize_text(name or ""))
    if not m or not m.group(1) or re.search(r"\d", m.group(2)) or find_years(m.group(2)):
        return None
    unit = m.group(2).strip()
    return unit if len(unit) <= 6 and not re.search(r"累計|延べ|暦年|年度|見込", unit) else None


@dataclass
class Held:
    """A field that holds something other than a measure's own attribute (`holds:`): an
    evaluation (with its reason), a text, departments or a note."""

    holds: str
    value: object
    reason: Text | None = None


# --- fields ------------------------------------------------------------------------------

def read_fields(grid: Grid, spec: Spec, fields: dict, region: range, trace: Trace,
                findings: list[Finding], labels_out: dict | None = None,
                ) -> dict[str, tuple[object, str | None]]:
    """Each declared field → (value, cell). Parsers and types applied; `labels_out` gets
    the label each field has on the sheet (squashed), a level gets its key and label (and
    its code from a cell of its own: `code: {label}`); a `holds:` field gives a `Held`."""
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
        kind = f.get("type", "level" if key in LEVEL_FIELDS and not f.get("holds") else "text")
        if f.get("holds"):
            value = _held(grid, spec, key, f, r, c, raw, squash(label) or None)
        elif f.get("parser") in ("checked_choice", "checked_cells"):
            value = parsers.value_parser(f["parser"])(_text(raw), f.get("join") or "、")
        elif f.get("parser"):
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
            if f.get("code"):
                _level_code_from(grid, f["code"], region, value)
        out[key] = (value, cell)
    return out


def _held(grid: Grid, spec: Spec, key: str, f: dict, r: int, c: int, raw, label: str | None) -> Held:
    """A field with `holds:`: the city's evaluation (and its reason right of or below it), a
    text (its role in the PDCA cycle), departments, or a note."""
    holds, cell, text = f["holds"], grid.addr(r, c), _text(raw)
    if f.get("parser"):
        parsed = parsers.value_parser(f["parser"])(text, f.get("join") or "、") \
            if f["parser"] in ("checked_choice", "checked_cells") else parsers.value_parser(f["parser"])(text)
        text = parsed if isinstance(parsed, str) else text
    if holds == "evaluation":
        held = Held(holds, Evaluation(key, text, label, cell))
        where = f.get("reason")
        if where:
            pos = _right_value(grid, r, c) if where == "right" else \
                ((grid.below(r, c), c) if grid.value(grid.below(r, c), c) is not None else None)
            if pos is not None:
                held.reason = Text(key, grid.text(*pos), label=label, role=f.get("role") or "check",
                                   cell=grid.addr(*pos))
        return held
    if holds == "departments":
        value = parsed if f.get("parser") and isinstance(parsed, list) else parsers.departments(text)
        return Held(holds, value)
    if holds == "note":
        return Held(holds, text)
    year = None
    if f.get("fiscal_year") == "from_label":
        ys = find_years(label or "")
        year = ys[0][0].year if ys else None
    return Held(holds, Text(key, text, label=label, role=f.get("role") or DEFAULT_ROLES.get(key, "other"),
                            fiscal_year=year, cell=cell))


def _level_code_from(grid: Grid, code: dict, region: range, level: Level) -> None:
    """`code: {label: [施策番号]}`: the level's number is in a cell of its own, found by its label."""
    labels = _labels(code.get("label", []), "exact")
    got = _value_cell(grid, code, region, labels)
    if got is None or got[2] is None:
        return
    r, c, raw, _ = got
    text = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else _text(raw)
    parsed, no, rest = parsers.level_code(text)
    level.code = parsed if parsed is not None and not rest else parsers.normalized(text)
    level.no = no if parsed is not None and not rest else None
    level.cells["code"] = grid.addr(r, c)


def _plain(label) -> str:
    return plain_label(label)


def _level(grid: Grid, r: int, c: int, raw) -> Level:
    """`1` (or `1-1`, `(1)`, `Ⅰ`) then a name right of it, or `1-1 name` / `（１）name` /
    `基本目標1 name` in one cell; the number is kept as written (`code`)."""
    here = grid.addr(r, c)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        whole = float(raw).is_integer()
        code, no, name = (str(int(raw)) if whole else str(raw)), (int(raw) if whole else None), ""
    else:
        code, no, name = parsers.level_code(_text(raw))
    if code is not None and not name:
        nxt = _right_value(grid, r, c)
        name = grid.text(*nxt) if nxt else ""
        cell = grid.addr(*nxt) if nxt else here
        return Level(no, name, cell, code=code, cells={"code": here, **({"name": cell} if nxt else {})})
    if code is None:
        return Level(None, normalize_text(_text(raw)), here, cells={"name": here})
    return Level(no, name, here, code=code, cells={"code": here, "name": here})


def level_of_text(text: str, cell: str | None, key: str | None = None,
                  label: str | None = None) -> Level:
    """A level from one cell's text (a grouping column, a section row): code and name."""
    code, no, name = parsers.level_code(text)
    cells = ({"code": cell} if code is not None else {}) | {"name": cell} if cell else {}
    return Level(no, name if code is not None else normalize_text(text).strip(), cell,
                 key=key, label=label, code=code, cells=cells)


def apply_sheet_fields(m: Measure, values: dict, labels: dict | None = None) -> None:
    """Fields read by `read_fields` into the measure: its own attributes, further levels
    (`type: level`), texts (check_analysis, check_next), `holds:` fields (evaluations, texts,
    departments, notes), the edition a `fiscal_year` field says, and the layout's own
    (`extra`)."""
    labels = labels or {}
    for key, (value, cell) in values.items():
        if isinstance(value, Held):
            _apply_held(m, key, value, cell)
            continue
        if key == "fiscal_year":  # the edition, when the sheet says it (評価年度)
            year = value if isinstance(value, int) else next(
                (y.year for y, _ in find_years(str(value or ""))), None)
            if year:
                m.extra["fiscal_year"] = year
                m.cells["fiscal_year"] = cell
            continue
        if key in ("check_analysis", "check_next"):
            texts = parsers.department_texts(value, key) if isinstance(value, str) else value
            for t in texts:
                t.key, t.label, t.cell = key, labels.get(key) or None, cell
                t.role = DEFAULT_ROLES.get(key, "other")
            m.texts.extend(texts)
            m.cells[key] = cell
        elif key in SHEET_FIELDS and not (isinstance(value, Level) and key not in LEVEL_FIELDS):
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


def _apply_held(m: Measure, key: str, held: Held, cell: str | None) -> None:
    """A `holds:` field into the measure: evaluations, texts, departments (and `extra`)."""
    m.cells[key] = cell
    if held.holds == "evaluation":
        m.evaluations.append(held.value)
        if held.reason is not None:
            m.texts.append(held.reason)
    elif held.holds == "departments":
        m.departments.extend(d for d in held.value if d not in m.departments)
        m.extra[key] = list(held.value)
    elif held.holds == "note":
        m.texts.append(Text(key, str(held.value), role="other", cell=cell))
    else:
        m.texts.append(held.value)


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
                     trace: Trace, findings: list[Finding] | None = None,
                     done: set[str] | None = None) -> set[str]:
    """`text_blocks`: a heading, then the text below it up to the next heading (`at: right`:
    the text right of the heading, on the rows the heading covers). `by_year: rows` gives one
    text per row that starts with a year (「R1年度 | …」), `fiscal_year: from_label` the year
    the heading names (「R3年度の取組状況」). Blocks in `done` (read on an earlier sheet of the
    record) are not read again; returns the keys read here."""
    blocks = spec.get("text_blocks") or {}
    done = done or set()
    heads = {}
    for key, b in blocks.items():
        pos = _find(grid, _labels(b.get("label", key), "start"), region)
        heads[key] = pos
        if pos is None and key not in done:
            trace.add(grid.name, f"text {key}", None)
    starts = sorted(p[0] for p in heads.values() if p)
    if blocks and not starts and findings is not None:
        names = "・".join(f"「{_plain(b.get('label', k))}」" for k, b in blocks.items())
        findings.append(Finding(Severity.WARNING, "missing-check", f"文章欄（{names}）が見つかりません",
                                None, grid.name))
    read = set()
    for key, pos in heads.items():
        if pos is None or key in done:
            continue
        read.add(key)
        b = blocks[key]
        r, c = pos
        stop = min([s for s in starts if s > r] + [region.stop])
        if b.get("until"):
            u = _find(grid, _labels(b["until"], "start"), range(r + 1, region.stop))
            stop = min(stop, u[0]) if u else stop
        # side-by-side headings on one row: a block ends where the next one begins
        same_row = sorted(p[1] for p in heads.values() if p and p[0] == r and p[1] > c)
        c1 = same_row[0] if same_row else grid.n_cols
        top, left = grid.below(r, c), c
        if b.get("at") == "right":  # the text beside the heading, on the rows it covers
            m = grid.merge_at(r, c)
            top, left, stop = r, grid.right_of(r, c), (m[2] if m else r) + 1
        label = squash(grid.text(r, c)) or None
        year = None
        if b.get("fiscal_year") == "from_label":
            ys = find_years(grid.text(r, c))
            year = ys[0][0].year if ys else None
        rows = []  # (year, [(row, col, text)])
        for row in range(top, stop):
            cells = [(row, col, text) for col, text in _row_texts(grid, row, left, c1)]
            if not cells:
                continue
            if b.get("by_year") == "rows":
                head = cells[0][2].strip()
                ys = find_years(head) if len(squash(head)) <= 12 else []
                if ys:
                    rows.append((ys[0][0].year, cells[1:]))
                    continue
                if rows:
                    rows[-1][1].extend(cells)
                    continue
            if rows and rows[-1][0] == year:
                rows[-1][1].extend(cells)
            else:
                rows.append((year, list(cells)))
        first_cell = None
        for fy, cells in rows:
            if not cells:
                continue
            text = "\n".join(t for _, _, t in cells)
            cell = grid.addr(cells[0][0], cells[0][1])
            first_cell = first_cell or cell
            parts = parsers.department_texts(text, key) if b.get("split", "department") == "department" \
                else ([Text(key, text)] if text else [])
            for part in parts:
                part.label, part.cell, part.fiscal_year = label, cell, fy
                part.role = b.get("role") or DEFAULT_ROLES.get(key, "other")
            sheet.texts.extend(parts)
        cell = first_cell or grid.addr(top, left)
        sheet.cells[key] = cell
        trace.add(grid.name, f"text {key}", sheet.cells[key])
        if stop > top and c1 > left:  # the range a roll-forward empties and moves to history
            sheet.cells[f"{key}_block"] = grid.area(top, left, stop - 1, c1 - 1)
    return read


# --- tables with years across columns ----------------------------------------------------

ROLE_WORDS = (("achievement", ("達成率", "達成度", "進捗率")), ("grade", ("評価", "判定")),
              ("baseline", ("基準", "従前", "策定時", "現状")), ("target", ("目標",)),
              ("estimate", ("見込",)), ("actual", ("実績",)))
ROLES = ("baseline", "actual", "target", "estimate", "achievement", "grade")


def _role_of(text: str, extra: dict | None = None) -> str | None:
    for k, v in (extra or {}).items():
        if k and k in text:
            return v
    return next((role for role, words in ROLE_WORDS if any(w in text for w in words)), None)


def _label_role(text: str) -> str | None:
    """The role a row label says when it is a role label (目標値, 実績値（累計）, 達成率),
    not a name that happens to hold a role word (更新基準年数を超過した車両数)."""
    role = _role_of(text)
    if role is None:
        return None
    core = _heading_core(text)
    for w in sorted(HEADING_WORDS, key=len, reverse=True):
        core = core.replace(w, "")
    return role if len(core) <= 4 else None


def _header_depth(grid: Grid, r: int) -> int:
    """Header rows when the layout does not say: a header cell merged down over two rows
    (施策 over 施策 and R2年度 under 実績値) means a two-row header — unless the rows it covers
    hold values (a row label such as 事業費 merged down beside the table's rows is no
    header: 「事業費」 over A13:A18 leaves a one-row header)."""
    depth = 1
    for h in sorted({m[2] - m[0] + 1 for m in grid.merges if m[0] == r and m[2] > r}, reverse=True):
        if h <= 3 and all(_header_like(grid, rr, r) for rr in range(r + 1, r + h)):
            depth = h
            break
    # a header continued on the next row by notes only: "(目標値)", "(千円)"
    nxt = [t for t in (grid.label(r + 1, c) for c in range(grid.n_cols)) if t]
    if depth == 1 and nxt and all(re.fullmatch(r"\(.*\)|（.*）|千円|円|単位.*", t) for t in nxt):
        depth = 2
    return depth


def _header_like(grid: Grid, rr: int, r: int) -> bool:
    """Row rr (below header row r) may be a header row: it holds no number (a year typed as
    one, 2021, aside) outside the cells merged down from row r."""
    for c in range(grid.n_cols):
        m = grid.merge_at(rr, c)
        if m and m[0] <= r:
            continue  # merged down from the header row
        v = grid.value(rr, c)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and \
                not (float(v).is_integer() and 1900 <= v <= 2200):
            return False
    return True


def _column_anchor(grid: Grid, header_rows: range, c: int) -> tuple[bool, int]:
    """(whether column c is a column of its own, the last column its header covers): at the
    lowest header row where c has a text, a header merged from a column on its left makes
    c part of that column (Excel方眼紙: 「令和２年度」 merged over N:T is one column, N)."""
    for r in reversed(header_rows):
        if grid.anchor_text(r, c):
            m = grid.merge_at(r, c)
            return (not m or m[1] == c), (m[3] if m else c)
    return True, c


def _own_column(grid: Grid, rows: range, c: int) -> bool:
    return bool(rows) and _column_anchor(grid, rows, c)[0] and any(grid.anchor_text(r, c) for r in rows)


# words a year heading holds besides its year: its role, the money kind and the like
# (`R2年度(実績値)`, `令和4年度(当初予算)`, `R4見込`, `達成率(R3)`, `R6年度末目標値`)
HEADING_WORDS = ("実績値", "実績", "目標値", "目標", "基準値", "基準年", "基準", "従前値", "従前",
                 "策定時", "現状値", "現状", "達成率", "達成度", "進捗率", "評価", "判定", "決算額",
                 "決算", "予算額", "予算", "当初", "補正", "計画値", "計画額", "計画", "見込額", "見込み",
                 "見込", "推計", "確定", "速報", "最終", "中間", "年度末", "年度", "末", "時点", "現在",
                 "数値", "値", "額")
# a column that totals a period: 計画期間計（R5～R7）, 合計, 3か年計
_TOTAL_WORDS = re.compile(r"合計|総計|期間計|年間計|[か箇ヵカケヶ]年計|^計$|^小計$")
_RANGE_MARK = re.compile(r"[~〜～\-－―−]")
_HEADING_MARKS = re.compile(r"[()\[\]【】〔〕<>＜＞・:：/／,、。~〜～\-－―−\s]")


def _heading_core(text: str) -> str:
    """A header's words without its years, brackets and marks."""
    return _HEADING_MARKS.sub("", squash(without_years(text)))


def _total_kind(text: str) -> str:
    """What a total column calls itself: 計画期間計（R5～R7） → 計画期間計."""
    return _heading_core(text) or "合計"


def year_heading(text: str, words=()) -> tuple | None:
    """What a header cell says about years: `("year", FiscalYear, warning)` for a year
    heading — a year and at most a few words besides its role or money kind (`R2年度(実績値)`,
    `令和2年度⏎決算`, `R7（目標）`), never a sentence that mentions a year
    (`事業の概要・令和4年度の主な実績`); `("total", kind, first, last)` for a column that totals
    a period (`計画期間計（R5～R7）`); None otherwise."""
    if not text or len(text) > 24:
        return None
    ys = find_years(text)
    if not ys:
        return None
    years = sorted({fy.year for fy, _ in ys})
    core = _heading_core(text)
    if len(years) > 1:  # two different years: a period, a total when it says so
        rest = squash(without_years(text))
        if _TOTAL_WORDS.search(core) or (_RANGE_MARK.search(rest) and not core):
            return "total", _total_kind(text), years[0], years[-1]
        return None
    if _TOTAL_WORDS.search(core):
        return "total", _total_kind(text), years[0], years[0]
    for w in sorted({*HEADING_WORDS, *(squash(x) for x in words if x)}, key=len, reverse=True):
        core = core.replace(w, "")
    if len(core) > 3:
        return None
    return "year", ys[0][0], ys[0][1]


# a header that names the target first and its year in brackets: 目標値(R2), 最終目標(R6年度)
_FINAL_HEADER = re.compile(r"^[^()]*目標[^()]*\([^()]*\)$")


def _as_list(value) -> list:
    return [value] if isinstance(value, str) else list(value or [])


def table_end(table: dict) -> tuple[list, int | None]:
    """A table's `end`: (labels, blank rows that end it). `end: [label, …]` or
    `end: {labels: […], blank_rows: N}`."""
    end = table.get("end")
    if isinstance(end, dict):
        return _as_list(end.get("labels")), end.get("blank_rows")
    return _as_list(end), None


def find_column(grid: Grid, col: dict, key: str, header_rows: range) -> tuple[int, int] | None:
    """(row, col) of a column's header cell: its label at the start of a header cell, on
    the first header row that has one (leftmost); `under`: only below a group header
    matching those labels (merged over it, or directly above); `nth`: the n-th match, left
    to right."""
    labels = _labels(col.get("label", key), "start")
    under = _labels(col["under"], "start") if col.get("under") else None
    hits = []
    for r in header_rows:
        for c in range(grid.n_cols):
            if not labels.match(grid.label(r, c)):
                continue
            if under and not any(under.match(squash(grid.anchor_text(rr, c)))
                                 for rr in range(header_rows.start, r)):
                continue
            hits.append((r, c))
    if not hits:
        return None
    if col.get("nth"):
        hits.sort(key=lambda h: (h[1], h[0]))
        n = col["nth"]
        return hits[n - 1] if len(hits) >= n else None
    return hits[0]


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
        # text columns (`holds: text`): key → [(col, fiscal year or None)], one per year
        # sub-column under the column's (merged) header
        self.text_cols: dict[str, list[tuple[int, int | None]]] = {}
        self.text_labels: dict[str, str | None] = {}
        taken: set[int] = set()
        for key, col in (table.get("columns") or {}).items():
            hit = find_column(grid, col, key, header_rows)
            if hit is None:
                continue
            r, c = hit
            self.cols[key] = c
            taken.add(c)
            if col.get("holds") == "text":
                m = grid.merge_at(r, c)
                span = range(m[1], m[3] + 1) if m else range(c, c + 1)
                subs = []
                for cc in span:
                    if cc != span.start and not _own_column(grid, range(r + 1, self.last_row + 1), cc):
                        continue  # a sub-header merged over several columns is one column
                    below = [squash(grid.anchor_text(rr, cc)) for rr in header_rows if rr > r]
                    ys = next((find_years(t) for t in below if t and len(t) <= 24 and find_years(t)), None)
                    subs.append((cc, ys[0][0].year if ys else None))
                self.text_cols[key] = subs
                self.text_labels[key] = squash(grid.anchor_text(r, c)) or None
                taken.update(cc for cc, _ in subs)
        self.cols.setdefault("name", self.name_col)
        self.name_col = self.cols["name"]
        taken.add(self.name_col)
        group_roles = {squash(k): v for k, v in (table.get("group_roles") or {}).items()}
        words = [*group_roles, *(squash(k) for k in _as_list(table.get("kinds"))),
                 *(squash(k) for k in _as_list((table.get("amounts") or {}).get("kinds")))]
        # (col, fiscal year, role, header row of the year label)
        self.years: list[tuple[int, int, str]] = []
        self.year_rows: dict[int, int] = {}
        self.reported: list[int] = []
        # target columns headed 目標値(R2): the final target, even in a year with an actual
        self.final_cols: set[int] = set()
        # period total columns (計画期間計（R5～R7）, 合計): col → (kind, first year, last year)
        self.totals: dict[int, tuple[str, int | None, int | None]] = {}
        # the last column a year column's merged header covers (its values may sit there)
        self.spans: dict[int, int] = {}
        for c in range(grid.n_cols):
            if c in taken:
                continue
            own, span_end = _column_anchor(grid, header_rows, c)
            if not own:  # covered by a header merged from a column on its left: that column
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
                heading = year_heading(t, words)
                if heading is not None and heading[0] == "total":
                    self.totals[c] = (heading[1], heading[2], heading[3])
                    year = None
                    break
                if heading is not None:
                    year = (r, heading[1:])
                    break
            if year is None:
                joined = "".join(dict.fromkeys(t for _, t in texts if t))
                if c not in self.totals and _TOTAL_WORDS.search(_heading_core(joined)) and \
                        not find_years(joined):
                    self.totals[c] = (_total_kind(joined), None, None)
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
            if span_end > c:
                self.spans[c] = span_end
            if role == "target" and _FINAL_HEADER.match(squash(grid.anchor_text(r, c))):
                self.final_cols.add(c)
            own_text = "".join(t for rr, t in texts if rr >= r and not (rr > r and find_years(t)))
            if "実績" in own_text:  # the year's own header says 実績値: a reported year
                self.reported.append(fy.year)
        self.years.sort()
        pairs = {(fy, role) for c, fy, role in self.years if c not in self.final_cols}
        self.per_year_targets = {fy for fy, role in pairs if role == "target" and (fy, "actual") in pairs}
        # a plan's table of targets, one column per year and no actual column (R5目標 R6目標
        # R7目標): every one is that year's target, the last also the final target
        target_years = sorted(fy for fy, role in pairs if role == "target")
        self.plan_target_year = None
        if len(target_years) >= 2 and not any(role == "actual" for _, role in pairs):
            self.per_year_targets |= set(target_years)
            self.plan_target_year = target_years[-1]
        # a total without years of its own (合計) totals the table's years
        all_years = sorted({fy for _, fy, _ in self.years})
        for c, (kind, first, _last) in list(self.totals.items()):
            if first is None:
                self.totals[c] = (kind, all_years[0] if all_years else None,
                                  all_years[-1] if all_years else None)

    def value_col(self, r: int, c: int) -> int:
        """The column row r's value of year column c is in: c (the top-left of a header
        merged over several columns), or the one other column under that header that holds
        something when c is empty and not merged."""
        end = self.spans.get(c, c)
        grid = self.grid
        if end == c or grid.value(r, c) is not None or grid.merge_at(r, c):
            return c
        hits = [cc for cc in range(c + 1, end + 1) if grid.value(r, cc) is not None]
        return hits[0] if len(hits) == 1 else c

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


def main_year_columns(t: ColumnsTable, final: bool = False) -> dict[int, tuple[str, str]]:
    """One column per year (letter, role): its actual column when the year has several (目標
    / 実績 / 達成率 under one year heading), else its first; `final`: a 目標値(R6) column
    too, for a year without another."""
    main: dict[int, tuple[str, str]] = {}
    for c, fy, role in t.years:
        if c not in t.final_cols and (fy not in main or role == "actual"):
            main[fy] = (_col(c), role)
    for c, fy, role in t.years if final else ():
        if c in t.final_cols and fy not in main:
            main[fy] = (_col(c), role)
    return dict(sorted(main.items()))


def _columns_geometry(grid: Grid, t: ColumnsTable, first: int, last: int,
                      holds: str = "kpis") -> dict:
    """Where a years-across-columns table is (Measure.tables): rows 1-based, `year_columns`
    one column per year (its actual column when the year has several), `role_columns`
    every year column by role, `columns` the named columns (and `final_target`),
    `text_columns` the year sub-columns of each text column."""
    main = {str(fy): c for fy, (c, _) in main_year_columns(t).items()}
    roles = {str(fy): role for fy, (_, role) in main_year_columns(t).items()}
    by_role: dict[str, dict[str, str]] = {}
    for c, fy, role in t.years:
        if c not in t.final_cols:
            by_role.setdefault(role, {})[str(fy)] = _col(c)
    columns = {k: _col(c) for k, c in t.cols.items()
               if k not in t.text_cols or not any(fy for _, fy in t.text_cols[k])}
    for c in sorted(t.final_cols):
        columns.setdefault("final_target", _col(c))
    return {"holds": holds, "sheet": grid.name, "header_row": t.row + 1,
            "first_row": first + 1, "last_row": last + 1, "years": "columns",
            "year_columns": dict(sorted(main.items())), "year_roles": dict(sorted(roles.items())),
            "role_columns": by_role, "columns": columns,
            "text_columns": {k: {str(fy): _col(c) for c, fy in subs if fy}
                             for k, subs in t.text_cols.items() if any(fy for _, fy in subs)}}


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
    columns = t.table.get("columns") or {}
    kpi.cells["name"] = grid.addr(*_origin(grid, r, t.name_col))
    if cols.get("department") is not None and kpi.department:
        kpi.cells["department"] = grid.addr(r, cols["department"])
    notes = [k for k, col in columns.items() if k in cols and (k == "notes" or col.get("holds") == "note")]
    kpi.notes = "\n".join(x for x in (text_of(k) for k in notes) if x)
    if kpi.notes:
        kpi.cells["notes"] = grid.addr(r, cols[notes[0]])
    for key, subs in t.text_cols.items():
        role = columns[key].get("role") or DEFAULT_ROLES.get(key, "other")
        for c, fy in subs:
            text = grid.anchor_text(r, c)
            if text:
                kpi.texts.append(Text(key, text, t.text_labels.get(key), role, None, fy,
                                      grid.addr(r, c)))
    for key in _extra_columns(t):  # the layout's own columns (No. …): kept with their cells
        c = cols[key]
        kpi.extra[key] = _cell_text(grid, r, c)
        kpi.cells[key] = grid.addr(r, c)
    own_quantities = [k for k in _extra_columns(t) if columns[k].get("type") == "quantity"]
    fill_years(kpi, grid, spec, t, r, context.get("_row_role"))
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
        if key in ("baseline", "target"):
            named_value(kpi, grid, spec, t, r, key, context.get("_row_role"), first=True)
            continue
        q = quantity(grid, spec, r, c)
        kpi.cost = q
        unit = money_unit(t.header_text(c))
        if unit and q.value is not None and q.unit is None:
            q.unit = unit
    # a 達成率 / 評価 column without a year: of the year the edition reports (the R5 edition's
    # R4, when the sheet names its edition and the table has that year), else of the latest
    # year with an actual (a number or, for a qualitative KPI, a text such as 完了)
    latest = max((q.fiscal_year for q in kpi.actuals if q.fiscal_year
                  and (q.value is not None or q.is_qualitative)), default=None)
    reported = context.get("_reported")
    if reported and any(q.fiscal_year == reported for q in kpi.actuals):
        latest = reported
    for key, bucket in (("achievement", kpi.achievements), ("grade", kpi.grades)):
        c = cols.get(key)
        if c is not None and c not in {yc for yc, _, _ in t.years}:
            bucket.append(quantity(grid, spec, r, c, latest))
    for key in own_quantities:  # `type: quantity`: a number of that year (前年度比 in points)
        q = quantity(grid, spec, r, cols[key], latest)
        if q.value is not None or not q.is_empty:
            kpi.extra[key] = q.to_dict()
    for key in ("baseline_year", "target_year"):
        c = cols.get(key)
        if c is None:
            continue
        raw = grid.text(r, c)
        if raw:
            kpi.cells[key] = grid.addr(r, c)
        ys = find_years(raw)
        if ys:
            setattr(kpi, key, ys[0][0].year)
        elif key == "target_year" and re.search(r"毎年", normalize_text(raw)):
            kpi.tags.append("毎年度")
    _named_years(kpi, t)
    unit_col = cols.get("unit")
    if unit_col is not None:
        unit = grid.anchor_text(r, unit_col)
        kpi.unit = None if is_none_text(unit, spec) else unit
        if unit:
            kpi.cells["unit"] = grid.addr(r, unit_col)
    if (columns.get("name") or {}).get("unit_in_name") and not kpi.unit and unit_in_name(name):
        kpi.unit, kpi.cells["unit"] = unit_in_name(name), grid.addr(r, t.name_col)
    if cols.get("direction") is not None:
        kpi.direction = _direction(grid.text(r, cols["direction"]), name, spec)
    else:
        kpi.direction = _direction("", name, spec)
    _finish_kpi(kpi, spec, context)
    return kpi


# table columns the model reads itself; any other column a layout names is kept in the KPI's
# `extra` with its cell, unless another part of the layout uses it (grouping, row roles,
# sections, project lines, levels) or it holds a text or a note
MODEL_COLUMNS = {"name", "category", "unit", "baseline", "baseline_year", "target", "target_year",
                 "cost", "direction", "department", "notes", "achievement", "grade", "actual"}


def named_value(kpi: Kpi, grid: Grid, spec: Spec, t: ColumnsTable, r: int, key: str,
                row_role: str | None = None, first: bool = False) -> None:
    """A `baseline` or `target` column the layout names, on row r of the KPI: the first
    row's cell, replaced by a later row of the KPI that holds a value where the first holds
    nothing or 「－」 — and, under rows that say their role, the baseline of the 実績値 row and
    the target of the 目標値 row."""
    c = t.cols.get(key)
    if c is None:
        return
    q = quantity(grid, spec, r, c)
    current = getattr(kpi, key)
    own_row = {"baseline": "actual", "target": "target"}[key] == row_role
    if first or (_blank(current) and not _blank(q)) or (own_row and not _blank(q)):
        setattr(kpi, key, q)


def _named_years(kpi: Kpi, t: ColumnsTable) -> None:
    """The years of the baseline and the final target: a `baseline_year` / `target_year`
    column, else the year the named column's header gives (`R7（目標）` → 2025)."""
    for key, year_key in (("baseline", "baseline_year"), ("target", "target_year")):
        c = t.cols.get(key)
        if c is not None and getattr(kpi, year_key) is None and getattr(kpi, key).cell:
            heading = year_heading(t.header_text(c))
            if heading is not None and heading[0] == "year":
                setattr(kpi, year_key, heading[1].year)
    if kpi.baseline.cell and kpi.baseline_year:
        kpi.baseline.fiscal_year = kpi.baseline_year
    if kpi.target_year:
        kpi.target.fiscal_year = kpi.target_year


def _extra_columns(t: ColumnsTable) -> list[str]:
    spec, table = t.spec, t.table
    used = {spec.get("group_by") or "measure", (table.get("row_roles") or {}).get("column")}
    for v in (spec.get("project_lines") or {}).values():
        used.update([v] if isinstance(v, str) else v)
    return [k for k, col in (table.get("columns") or {}).items()
            if k in t.cols and k not in MODEL_COLUMNS | used | LEVEL_FIELDS
            and not col.get("holds") and col.get("type") != "level"]


def _origin(grid: Grid, r: int, c: int) -> tuple[int, int]:
    """The cell a value is typed in: the top-left of its merged range."""
    m = grid.merge_at(r, c)
    return (m[0], m[1]) if m else (r, c)


def _cell_text(grid: Grid, r: int, c: int) -> str:
    """A cell as typed, a whole number without `.0` (`1`, not `1.0`)."""
    m = grid.merge_at(r, c)
    v = grid.value(*(m[:2] if m else (r, c)))
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return _text(v)


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
    for a plain year column under a row that says 目標値 / 実績値 / 達成率).

    Under rows that say their role, a year column whose header has a role of its own keeps
    it where the row agrees: `H30（基準）` is the baseline on the 実績値 row (the 目標値 /
    達成度 rows of that year hold that year's target / rate, often 「－」); the one
    target-headed column of the latest year (`R7（目標）`) is the final target on the 目標値
    row, with the header's year."""
    own_targets = [c for c, _, role in t.years if role == "target" and c not in t.final_cols]
    last_year = max((fy for _, fy, _ in t.years), default=None)
    for c, fy, role in t.years:
        vc = t.value_col(r, c)
        if c in t.final_cols:  # 目標値(R2): the final target, from whichever row holds it
            q = quantity(grid, spec, r, vc, fy)
            if kpi.target.cell is None or (kpi.target.is_empty and not q.is_empty):
                kpi.target, kpi.target_year = q, fy
            continue
        blank = grid.value(r, vc) is None
        if row_role:
            own = role
            if own == "actual":
                role = row_role
            elif own == "baseline":
                q = quantity(grid, spec, r, vc, fy)
                if row_role == "actual" or (not _blank(q) and _blank(kpi.baseline)):
                    if not blank or kpi.baseline.cell is None:
                        kpi.baseline, kpi.baseline_year = q, fy
                    continue
                if blank:
                    continue
                role = row_role  # the baseline year's 目標値 / 達成度 (「－」)
            elif own == "target" and row_role == "target" and own_targets == [c] and fy == last_year:
                q = quantity(grid, spec, r, vc, fy)
                if kpi.target.cell is None or (_blank(kpi.target) and not _blank(q)):
                    kpi.target, kpi.target_year = q, fy
                continue
            elif own in ("achievement", "grade"):
                if blank and own != row_role:
                    continue
            elif own != row_role:
                if blank:
                    continue  # a column with its own role, blank on this row
                role = row_role
        q = quantity(grid, spec, r, vc, fy)
        if role == "baseline":
            kpi.baseline, kpi.baseline_year = q, fy
        elif role == "target" and (fy in t.per_year_targets or row_role == "target"):
            kpi.targets.append(q)
            if fy == t.plan_target_year and not row_role and kpi.target.cell is None:
                kpi.target, kpi.target_year = replace(q), fy  # the plan's last year: its final target
        elif role == "estimate":
            kpi.estimates.append(q)
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


def _blank(q: Quantity) -> bool:
    """Nothing read: an empty cell or a none-mark (「－」)."""
    return q.is_empty or q.is_none_mark


def _row_role(grid: Grid, t: ColumnsTable, r: int, exact: bool = False) -> str | None:
    """The role a row says it holds (`row_roles`): its cell contains one of the labels, or
    (`exact`) is one of them, whole (decorations such as ■ or (1) aside)."""
    rr = t.table.get("row_roles")
    if not rr:
        return None
    c = t.cols.get(rr.get("column", "name"), t.name_col)
    text = squash(grid.anchor_text(r, c))
    for label, role in (rr.get("roles") or {"目標": "target", "実績": "actual", "達成": "achievement",
                                            "評価": "grade"}).items():
        if not text:
            continue
        if (_labels([str(label)]).match(text) if exact else squash(str(label)) in text):
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
    qs = [kpi.baseline, *kpi.actuals, kpi.target, *kpi.targets, *kpi.estimates]
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
        kpi.target_kind = _kind(kpi, spec)
        t = kpi.target
        kpi.target_detail = Target(t.value, t.unit, kpi.target_kind, None, kpi.target_year,
                                   t.text, t.qualifier, t.cell)
    if kpi.target_kind is TargetKind.RUNNING_TOTAL and (spec.get("values") or {}).get("baseline_cumulative"):
        kpi.extra["baseline_cumulative"] = True  # the baseline is part of the running total


# a KPI named as a rate or an average (…率, 割合, 平均…) or counted in % is a level, never a sum
_RATE_NAME = re.compile(r"(率|割合|比率|比|指数|平均|倍率|(?<!年)度)$")
_RATE_UNITS = ("%", "‰", "倍", "pt", "ポイント")


def _is_rate(kpi: Kpi) -> bool:
    name = re.sub(r"(\([^()]*\))+$", "", squash(kpi.name))  # 出生率（人） → 出生率
    return _RATE_NAME.search(name) is not None or normalize_text(kpi.unit or "") in _RATE_UNITS


def _kind(kpi: Kpi, spec: Spec | None = None) -> TargetKind:
    """How the KPI's target is meant: the layout's `target_kinds` by KPI name first, else from
    its name (（累計）, /年, 毎年, 延べ, 合計 — the last two not for a rate such as 合計特殊出生率)."""
    t = kpi.target
    name = normalize_text(kpi.name)
    if t.is_empty or t.is_none_mark:
        return TargetKind.NONE
    if t.value is None:
        return TargetKind.QUALITATIVE
    for kind, names in ((spec.get("target_kinds") or {}) if spec else {}).items():
        if names and _labels(names, "contains").match(squash(kpi.name)):
            return TargetKind(kind)
    if "累計" in name:
        return TargetKind.RUNNING_TOTAL
    if "毎年度" in kpi.tags or re.search(r"/(年|年度|月)", name) or "毎年" in name:
        return TargetKind.PER_YEAR
    if ("延べ" in name or "合計" in name) and not _is_rate(kpi):
        return TargetKind.CUMULATIVE
    return TargetKind.AT_YEAR


def _after_label(raw: str, labels) -> str:
    """`raw` as typed without the start a label matched (labels see the squashed text: the
    shortest start of `raw` whose squashed form covers the match is dropped)."""
    m = labels.regex.search(squash(raw))
    if m is None or m.end() == 0:
        return raw.strip()
    for k in range(1, len(raw) + 1):
        if len(squash(raw[:k])) >= m.end():
            return raw[k:].strip()
    return ""


def _text_row(grid: Grid, t: ColumnsTable, r: int, texts: list[str], first_text: str,
              prev: Kpi) -> bool:
    """A text row under a KPI (its 取組状況): a `text_rows` label, or a cell merged from the
    name column over the value columns. The text, as typed, goes to the KPI above: its
    `notes` with `field: notes` (or `note`), else its `extra` under the field's name; the
    text's cell in the KPI's `cells`."""
    spec_rows = t.table.get("text_rows") or {}
    field_name = spec_rows.get("field", "text")
    labels = _labels(spec_rows["labels"], "start") if spec_rows.get("labels") else None
    value_cols = {c for c, _, _ in t.years} | {c for k, c in t.cols.items()
                                                if k in ("baseline", "target", "unit")}
    m = grid.merge_at(r, t.name_col)
    merged_over = bool(m and m[0] == r and any(m[1] <= c <= m[3] for c in value_cols))
    if labels and labels.match(first_text):
        body = [(c, x) for c, x in enumerate(texts) if x]
        if len(body) > 1:
            text, cell = "\n".join(x for _, x in body[1:]), grid.addr(r, body[1][0])
        else:
            text, cell = _after_label(body[0][1], labels), grid.addr(r, body[0][0])
    elif merged_over and not (m[0] < r):
        text, cell = grid.text(r, m[1]), grid.addr(r, m[1])
    else:
        return False
    if field_name in ("notes", "note"):
        prev.notes = f"{prev.notes}\n{text}" if prev.notes else text
        prev.cells.setdefault("notes", cell)
        return True
    old = prev.extra.get(field_name)
    prev.extra[field_name] = f"{old}\n{text}" if old else text
    prev.cells.setdefault(field_name, cell)
    return True


def _section_above(grid: Grid, t: ColumnsTable, labels: Labels, region: range) -> int | None:
    """The table's own heading: the nearest of the three non-empty rows above its header
    whose first text matches the section's labels (■活動指標 over the first of two KPI
    tables sharing one header), whose section its first rows are in."""
    seen = 0
    for r in range(t.row - 1, max(region.start, 0) - 1, -1):
        texts = [grid.text(r, c) for c in range(grid.n_cols)]
        first = next((squash(x) for x in texts if x), "")
        if not first:
            continue
        if labels.match(first):
            return r
        seen += 1
        if seen >= 3:
            break
    return None


def section_category(kpi: Kpi, ctx: dict) -> None:
    """A `category` from the row's context (a carried 区分 column, or a section heading:
    ■活動指標 → 活動指標, its cell kept in the KPI's `cells`)."""
    value, cell = ctx.get("category", (None, None))
    if kpi.category or not value:
        return
    if isinstance(value, Level):
        kpi.category = re.sub(r"^[■□●○◆◇▼▽・【〔\[]+|[】〕\]]+$", "", value.name) or value.name
        if cell:
            kpi.cells["category"] = cell
    else:
        kpi.category = str(value)


# section fields that are a KPI's own (its category, its department): the section row's text
KPI_SECTION_FIELDS = ("category", "department")
_DECORATION = re.compile(r"^[\s\u3000■□●○◆◇▼▽▲△・◎]+")


def _section_text(raw) -> str:
    """A section row's text as typed, without the marks in front (■成果指標 → 成果指標)."""
    return _DECORATION.sub("", str(raw)).strip()


def apply_section(kpi: Kpi, ctx: dict, section: dict, levels_to_extra: bool) -> None:
    """The section a KPI row is under (`table.section`): its `category` or `department`
    (when it has none of its own), or — in a record that is one measure (`record: sheet`),
    where a level cannot be the measure's — any other field, kept in the KPI's `extra` (the
    section's name, its cell in `cells`)."""
    key = (section or {}).get("field", "section")
    if key not in ctx:
        return
    value, cell = ctx[key]
    if key in KPI_SECTION_FIELDS:
        if not getattr(kpi, key):
            setattr(kpi, key, value or None)
            kpi.cells.setdefault(key, cell)
    elif levels_to_extra:
        kpi.extra[key] = _section_text(value.name if isinstance(value, Level) else value)
        kpi.cells.setdefault(key, cell)


def _set_section(grid: Grid, section: dict, context: dict, r: int, texts: list[str]) -> None:
    """A section row (`table.section`) sets its field for the KPI rows below it: a KPI's own
    category / department as the text (marks in front dropped), any other field as a level."""
    raw = next(x for x in texts if x)
    key = section.get("field", "section")
    where = grid.addr(r, texts.index(raw))
    if key in KPI_SECTION_FIELDS:
        context[key] = (_section_text(raw), where)
    else:
        level = _level(grid, r, texts.index(raw), raw)
        level.key = key
        context[key] = (level, where)


def _continues(grid: Grid, t: ColumnsTable, r: int, name: str, prev: Kpi) -> bool:
    """A row of the KPI above: its name cell blank, or merged with the row above."""
    m = grid.merge_at(r, t.name_col)
    return not grid.text(r, t.name_col) and (not name or name == prev.name or bool(m and m[0] < r))


def read_columns_table(grid: Grid, spec: Spec, region: range, findings: list[Finding],
                       trace: Trace, on_section=None, reported: int | None = None,
                       table: dict | None = None, name: str | None = None,
                       ) -> tuple[ColumnsTable | None, list[tuple[Kpi, dict]]]:
    """Rows of a years-across-columns table → (kpi, context) pairs; context holds the carried
    section and group values of each row. `reported`: the year the edition reports, when
    the sheet names its edition (a 評価 column without a year is of that year). `table`:
    a further KPI table of the record (`tables.NAME`, `holds: kpis`) instead of `table`."""
    table = table if table is not None else (spec.get("table") or {})
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
    ends, blank_rows = table_end(table)
    for b in (spec.get("text_blocks") or {}).values():  # a text block's heading ends the table
        ends.extend(_as_list(b.get("label")))
    for other_name, other in (spec.get("tables") or {}).items():  # so does a further table's start
        if other_name != name:
            ends.extend(_as_list(other.get("header")))
    if name is not None:  # a further KPI table: the main table's header ends it too
        ends.extend(_as_list((spec.get("table") or {}).get("header")))
    end = _further_tables_end(spec, name, ends)
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
    if sec_labels is not None:  # the table's own heading (■活動指標 above its header) opens its first section
        above = _section_above(grid, t, sec_labels, region)
        if above is not None:
            _set_section(grid, section, context, above, [grid.text(above, c) for c in range(grid.n_cols)])
    carried: dict[str, str] = {}
    out = []
    blanks = 0
    t.stop = region.stop
    t.rows_read = []
    header_again = squash(grid.anchor_text(t.row, t.name_col))
    repeat_until = -1  # a header repeated below a section heading (two tables, one header)
    for r in range(t.last_row + 1, region.stop):
        if r <= repeat_until:
            continue
        texts = [grid.text(r, c) for c in range(grid.n_cols)]
        if not any(texts):
            blanks += 1
            if blank_rows and blanks >= blank_rows and out:
                t.stop = r - blanks + 1
                break
            continue
        blanks = 0
        first_text = next((squash(x) for x in texts if x), "")
        if (end and end.match(first_text)) or (field_end and field_end.match(first_text)):
            t.stop = r
            break
        name = grid.anchor_text(r, t.name_col)
        sec_text = squash(grid.anchor_text(r, sec_col) or first_text)
        if sec_labels and sec_labels.match(sec_text) and (not name or squash(name) == sec_text):
            _set_section(grid, section, context, r, texts)
            carried.clear()
            continue
        if header_again and squash(name) == header_again and (grid.merge_at(r, t.name_col) is None or grid.merge_at(
                r, t.name_col) != grid.merge_at(t.row, t.name_col)):  # the same header again: a second table's
            repeat_until = r + (t.last_row - t.row)
            continue
        skipped = skip.match(squash(name)) or (not name and skip.match(first_text))
        if skipped and "skip_rows" in table:  # the layout's own skip_rows beat text rows
            continue
        if out and _text_row(grid, t, r, texts, first_text, out[-1][0]):
            t.rows_read.append(r)
            continue
        if skipped:
            continue
        values = [grid.value(r, c) for c, _, _ in t.years]
        row_role = _row_role(grid, t, r)
        if row_role and out and _continues(grid, t, r, name, out[-1][0]):
            fill_years(out[-1][0], grid, spec, t, r, row_role)
            for key in ("baseline", "target"):
                named_value(out[-1][0], grid, spec, t, r, key, row_role)
            _named_years(out[-1][0], t)
            t.rows_read.append(r)
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
            merged = grid.merge_at(r, c)
            origin = grid.addr(*(merged[:2] if merged else (r, c)))  # where the value is typed
            if v:
                carried[key] = (v, origin)
            elif key in carried:
                v, origin = carried[key]
                if key in warn_blank and not merged:
                    findings.append(Finding(
                        Severity.WARNING, "carried-down",
                        f"「{_plain(table['columns'][key].get('label', key))}」が空欄のため、"
                        f"上の行の「{v}」として読みました", None, grid.name, grid.addr(r, c)))
            row_ctx[key] = (v, origin)
        for key in (table.get("columns") or {}):
            if key not in carry and key not in ("name",) and t.cols.get(key) is not None:
                row_ctx.setdefault(key, (grid.anchor_text(r, t.cols[key]), grid.addr(r, t.cols[key])))
        for key, col in (table.get("columns") or {}).items():  # `type: level`: code and name
            if col.get("type") == "level" and row_ctx.get(key, ("", None))[0]:
                v, cell = row_ctx[key]
                row_ctx[key] = (level_of_text(v, cell, key, t.header_text(t.cols[key]) or None), cell)
        row_ctx["_row_role"], row_ctx["_reported"] = row_role, reported
        kpi = _row_kpi(grid, spec, t, r, row_ctx, findings)
        row_ctx.pop("_row_role")
        row_ctx.pop("_reported")
        if kpi is not None:
            out.append((kpi, row_ctx))
            t.rows_read.append(r)
    return t, out


# --- blocks with years as rows -----------------------------------------------------------

def _kpi_held(kpi: Kpi, key: str, held: Held, cell: str | None) -> None:
    """A block field with `holds:` into its KPI: a note (備考), a text (実績値の計算方法), the
    city's evaluation (in `extra`, its reason a text), departments (in `extra`)."""
    kpi.cells["notes" if held.holds == "note" else key] = cell
    if held.holds == "note":
        kpi.notes = f"{kpi.notes}\n{held.value}" if kpi.notes else str(held.value)
    elif held.holds == "text":
        kpi.texts.append(held.value)
    elif held.holds == "evaluation":
        kpi.extra[key] = held.value.value
        if held.reason is not None:
            kpi.texts.append(held.reason)
    else:
        kpi.extra[key] = list(held.value)
        kpi.department = kpi.department or (held.value[0] if held.value else None)


def _col(c: int) -> str:
    """A column letter (0-based index)."""
    return col_name(c)


def read_block_kpi(grid: Grid, spec: Spec, rows: range, findings: list[Finding],
                   trace: Trace, geometry: dict | None = None) -> Kpi | None:
    """One KPI block: its fields, then its small table (years as rows, or across columns);
    `geometry` (when given) receives the table's place (see Measure.tables)."""
    block = spec.get("block") or {}
    values = read_fields(grid, spec, block.get("fields") or {}, rows, trace, findings)
    name = values.get("name", ("", None))[0]
    if not name:
        start = _find(grid, _labels(block["start"], "start"), rows)
        findings.append(Finding(Severity.ERROR, "missing-field", "指標名が見つかりません",
                                None, grid.name, grid.addr(*start) if start else None))
        return None
    kpi = Kpi(name=str(name), row=(rows.start + 1), sheet=grid.name)
    fields = block.get("fields") or {}
    for key, (value, cell) in values.items():
        if isinstance(value, Held):
            _kpi_held(kpi, key, value, cell)
        elif key == "name":
            kpi.cells["name"] = cell
            if (fields.get("name") or {}).get("unit_in_name") and unit_in_name(str(value)):
                kpi.unit, kpi.cells["unit"] = unit_in_name(str(value)), cell
        elif key == "unit":
            kpi.unit = None if is_none_text(str(value), spec) else str(value).strip()
            kpi.cells["unit"] = cell
        elif key == "department":
            kpi.department = str(value).strip() or None
            kpi.cells["department"] = cell
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
        else:
            kpi.extra[key] = value.to_dict() if hasattr(value, "to_dict") else value
            kpi.cells[key] = cell
    if "direction" not in values:
        kpi.direction = _direction("", kpi.name, spec)
    if kpi.baseline_year:
        kpi.baseline.fiscal_year = kpi.baseline_year
    if kpi.target_year:
        kpi.target.fiscal_year = kpi.target_year
    table = spec.get("table") or {}
    if table.get("years") == "columns":
        _block_columns(grid, spec, table, rows, kpi, findings, trace, geometry)
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
    text_cols: dict[str, tuple[int, str, str | None]] = {}  # key → (col, text role, label)
    for key, col in (table.get("columns") or {}).items():
        hit = find_column(grid, col, key, range(hr, hr + 1))
        trace.add(grid.name, f"column {key}", grid.addr(*hit) if hit is not None else None)
        if hit is None:
            continue
        if col.get("holds") == "text":
            text_cols[key] = (hit[1], col.get("role") or DEFAULT_ROLES.get(key, "other"),
                              squash(grid.text(*hit)) or None)
        elif col.get("holds") == "note":
            text_cols[key] = (hit[1], "note", None)
        else:
            cols[col.get("role", key)] = hit[1]
    ends, blank_rows = table_end(table)
    end = _labels(ends, "start") if ends else None
    seen, blanks = False, 0
    year_rows: dict[int, int] = {}
    for r in range(hr + 1, rows.stop):
        label = grid.text(r, ycol)
        ys = find_years(label) if len(label) <= 12 else []
        row_texts = [grid.text(r, c) for c in range(grid.n_cols)]
        if end and end.match(next((squash(x) for x in row_texts if x), "")):
            break
        if not ys:
            if not any(row_texts):
                blanks += 1
                if seen and blanks >= (blank_rows or 1):
                    break
            continue
        seen, blanks = True, 0
        fy, warn = ys[0]
        year_rows[fy.year] = r
        if warn:
            findings.append(Finding(Severity.WARNING, "era-normalised", warn, None, grid.name,
                                    grid.addr(r, ycol)))
        for role, c in cols.items():
            q = quantity(grid, spec, r, c, fy.year)
            if role == "actual":
                kpi.actuals.append(q)
            elif role == "target":
                kpi.targets.append(q)
            elif role == "estimate":
                kpi.estimates.append(q)
            elif role == "achievement":
                kpi.achievements.append(q)
            elif role == "grade":
                kpi.grades.append(q)
        for key, (c, role, text_label) in text_cols.items():
            text = grid.anchor_text(r, c)
            if not text:
                continue
            if role == "note":
                kpi.notes = f"{kpi.notes}\n{text}" if kpi.notes else text
                kpi.cells.setdefault("notes", grid.addr(r, c))
            else:
                kpi.texts.append(Text(key, text, text_label, role, None, fy.year, grid.addr(r, c)))
    if geometry is not None and year_rows:
        letters = {role: _col(c) for role, c in cols.items()}
        geometry.update({
            "holds": "kpis", "sheet": grid.name, "header_row": hr + 1,
            "first_row": min(year_rows.values()) + 1, "last_row": max(year_rows.values()) + 1,
            "years": "rows", "year_columns": {}, "year_roles": {},
            "year_rows": {str(y): r + 1 for y, r in sorted(year_rows.items())},
            "columns": letters,
            "text_columns": {k: {str(y): _col(c) for y in sorted(year_rows)}
                             for k, (c, _, _) in text_cols.items()},
            "kpis": [kpi.name]})
    _finish_kpi(kpi, spec, {})
    return kpi


def _block_columns(grid: Grid, spec: Spec, table: dict, rows: range, kpi: Kpi,
                   findings: list[Finding], trace: Trace, geometry: dict | None = None) -> None:
    """A block's small table with years across columns: each row is one role of the KPI
    (a 目標値 row, a 実績値 row, a 達成率 row), said by its first cell or `row_roles`
    (then only rows whose cell is one of its labels, matched whole, are read). The table
    ends at `end` (a label, or blank rows)."""
    t = ColumnsTable(grid, spec, table, rows, findings)
    if not t.ok:
        trace.add(grid.name, "table header", None)
        findings.append(Finding(Severity.ERROR, "missing-kpi-table", "指標の表が見つかりません",
                                None, grid.name, grid.addr(rows.start, 0)))
        return
    trace.add(grid.name, "table header", grid.addr(t.row, t.name_col))
    for c, fy, role in t.years:
        trace.add(grid.name, f"year {fy} ({role})", grid.addr(t.year_rows.get(c, t.row), c))
    ends, blank_rows = table_end(table)
    end = _labels(ends, "start") if ends else None
    declared = bool(table.get("row_roles"))
    blanks, read_rows = 0, []
    # a header-row cell with its own role (従前値(H26), 目標値(R6)) holds its value below
    for r in range(t.last_row + 1, rows.stop):
        texts = [grid.text(r, c) for c in range(grid.n_cols)]
        if not any(texts):
            blanks += 1
            if blank_rows and blanks >= blank_rows and read_rows:
                break
            continue
        blanks = 0
        if end and end.match(next(squash(x) for x in texts if x)):
            break
        if declared:
            role = _row_role(grid, t, r, exact=True)
        else:
            role = _label_role(squash(grid.anchor_text(r, t.name_col)))
        if role is None:
            continue
        fill_years(kpi, grid, spec, t, r, role)
        read_rows.append(r)
        for key in ("baseline", "target"):  # a column the layout names: one value below it
            c = t.cols.get(key)
            if c is None or c == t.name_col:
                continue
            q = quantity(grid, spec, r, c)
            current = getattr(kpi, key)
            if current.cell is None or (current.is_empty and not q.is_empty):
                setattr(kpi, key, q)
    if geometry is not None and read_rows:
        geometry.update(_columns_geometry(grid, t, read_rows[0], read_rows[-1]))
        geometry["kpis"] = [kpi.name]


# --- further tables of a record (`tables:`): project lines and a cost block ----------------

DEFAULT_KINDS = ["決算額", "予算額", "決算", "予算", "計画", "見込"]
# what a planner does with a year of a money table: 決算 is settled (an actual), 予算 the
# budget of the year being run, 計画 / 見込 a plan
KIND_ROLES = (("決算", "actual"), ("実績", "actual"), ("予算", "budget"), ("計画", "plan"),
              ("見込", "plan"))


def _ref(grid: Grid, m: Measure, r: int, c: int) -> str:
    """A cell of the record: `H8`, or `その2!H8` when it is on another sheet than the
    record's first (a record grouped over several sheets)."""
    a = grid.addr(r, c)  # a grouped record's other sheet already names itself
    return a if grid.name == m.sheet or grid.ref_sheet else on_sheet(grid.name, a)


def _year_kinds(grid: Grid, t: ColumnsTable, kinds: list) -> dict[int, str]:
    """Each year column's kind (決算額 / 予算額 / 計画 …): the longest `kinds` word in its
    header texts (a 決算額 merged over two years gives both)."""
    words = sorted((squash(k) for k in kinds), key=len, reverse=True)
    out = {}
    for c, fy, _ in t.years:
        text = "".join(squash(grid.anchor_text(r, c)) for r in range(t.row, t.last_row + 1))
        word = next((w for w in words if w and w in text), None)
        if word:
            out[fy] = next(k for k in kinds if squash(k) == word)
    return out


def _table_unit(grid: Grid, t: ColumnsTable, unit_spec: dict | None, first_row: int,
                m: Measure, shared: range | None = None) -> tuple[str | None, str | None]:
    """(千円 | 円, the cell saying it): a cell matching `unit.label` between the table's
    heading (`after`, else two rows above the header) and its header (or in `shared`: the
    heading above the first measure of a stacked sheet), else a header cell
    (`決算額（千円）`), else `unit.default`."""
    unit_spec = unit_spec or {}
    if unit_spec.get("label"):
        labels = _labels(unit_spec["label"], "start")
        for r, c, text in grid.labels():
            if (first_row <= r <= t.last_row or (shared is not None and r in shared)) \
                    and labels.match(text) and money_unit(text):
                return money_unit(text), _ref(grid, m, r, c)
    for r in range(t.row, t.last_row + 1):
        for c in range(grid.n_cols):
            u = money_unit(grid.label(r, c)) if grid.label(r, c) else None
            if u:
                return u, _ref(grid, m, r, c)
    return unit_spec.get("default"), None


def _further_tables_end(spec: Spec, name: str | None, ends: list) -> Labels | None:
    """The labels that end a table: `ends` (at the start of a cell), and the heading
    (`after`) of every further table but `name` (after a heading's number too)."""
    heads = [x for other_name, other in (spec.get("tables") or {}).items() if other_name != name
             for x in _as_list(other.get("after"))]
    parts = [_labels(ends, "start").pattern] if ends else []
    if heads:
        parts.append(_labels(heads, "heading").pattern)
    return Labels(ends + heads, re.compile("|".join(parts))) if parts else None


def _table_rows(grid: Grid, spec: Spec, t: ColumnsTable, name: str, ts: dict, region: range,
                total: Labels | None = None):
    """The rows of a further table (0-based), up to where it ends: an `end` label, blank
    rows (`end.blank_rows`, default 1), another table's start, a text block heading or a
    field's label; `total`: the table's 合計 row, its last (yielded)."""
    ends, blank_rows = table_end(ts)
    for other_name, other in (spec.get("tables") or {}).items():
        if other_name != name:
            ends.extend(_as_list(other.get("header")))
    for b in (spec.get("text_blocks") or {}).values():
        ends.extend(_as_list(b.get("label")))
    end = _further_tables_end(spec, name, ends)
    field_labels = [x for f in (spec.get("fields") or {}).values() for x in _as_list(f.get("label"))]
    field_end = _labels(field_labels, "exact") if field_labels else None
    blanks, seen = 0, False
    for r in range(t.last_row + 1, region.stop):
        texts = [grid.text(r, c) for c in range(grid.n_cols)]
        if not any(texts):
            blanks += 1
            if seen and blanks >= (blank_rows or 1):
                return
            continue
        blanks = 0
        first = next(squash(x) for x in texts if x)
        if total is not None and total.match(first):
            yield r
            return
        if (end and end.match(first)) or (field_end and field_end.match(first)):
            return
        seen = True
        yield r


def read_tables(grid: Grid, spec: Spec, m: Measure, region: range, findings: list[Finding],
                trace: Trace, shared: range | None = None) -> None:
    """`tables:`: each further table of the record found on this sheet — project lines
    (`holds: projects` → m.projects), a cost block (`holds: cost` → m.cost), a second KPI
    table (`holds: kpis` → m.kpis) or a text table (`holds: texts` → m.texts, one row per
    department) — and its place (m.tables); a `total` row → m.totals."""
    for name, ts in (spec.get("tables") or {}).items():
        if name in m.tables:  # found on an earlier sheet of the record
            continue
        start = region.start
        if ts.get("after"):
            pos = _find(grid, _labels(ts["after"], "heading"), region)
            if pos is None:
                trace.add(grid.name, f"table {name}", None)
                continue
            start = pos[0]
        if ts.get("holds") == "kpis":
            _read_kpi_table(grid, spec, m, name, ts, range(start, region.stop), findings, trace)
            continue
        t = ColumnsTable(grid, spec, ts, range(start, region.stop), findings)
        if not t.ok:
            trace.add(grid.name, f"table {name}", None)
            continue
        trace.add(grid.name, f"table {name}", grid.addr(t.row, t.name_col))
        for c, fy, _ in t.years:
            trace.add(grid.name, f"table {name} year {fy}", grid.addr(t.year_rows.get(c, t.row), c))
        money = (ts.get("amounts") or {}) if ts.get("holds") == "projects" else ts
        kinds = _year_kinds(grid, t, _as_list(money.get("kinds")) or DEFAULT_KINDS)
        unit, unit_cell = _table_unit(grid, t, money.get("unit"),
                                      start if ts.get("after") else max(region.start, t.row - 2), m,
                                      shared)
        total = _labels(ts["total"], "start") if ts.get("total") else None
        rows = list(_table_rows(grid, spec, t, name, ts, region, total))
        total_row = rows.pop() if rows and total is not None and total.match(_first_text(grid, rows[-1])) else None
        if ts.get("holds") == "texts":
            used = _read_text_rows(grid, t, ts, rows, m, name)
        elif ts.get("holds") == "projects":
            used = _read_project_rows(grid, spec, t, ts, rows, m, kinds, unit)
        else:
            used = _read_cost_rows(grid, spec, t, ts, rows, m, kinds, unit, unit_cell)
        if total_row is not None:
            m.totals[name] = [Amount(fy, _cost_value(grid, spec, m, total_row, c, fy, unit), kinds.get(fy))
                              for c, fy, _ in t.years]
        if not used:
            continue
        geometry = _columns_geometry(grid, t, min(used.values()), max(used.values()),
                                     ts.get("holds", "cost"))
        geometry.pop("role_columns", None)
        geometry.pop("text_columns", None)
        geometry["year_kinds"] = {str(y): k for y, k in sorted(kinds.items())}
        geometry["year_roles"] = {str(y): next((role for w, role in KIND_ROLES if w in k), "actual")
                                  for y, k in sorted(kinds.items())} or geometry["year_roles"]
        geometry["unit"] = unit
        if unit_cell:
            geometry["cells"] = {"unit": unit_cell}
        if t.totals:
            geometry["total_columns"] = {_col(c): {"kind": kind, "years": [first, last]}
                                         for c, (kind, first, last) in sorted(t.totals.items())
                                         if first is not None}
        if ts.get("holds") == "cost":
            geometry["line_rows"] = {key: r + 1 for key, r in used.items()}
        if total_row is not None:
            geometry["total_row"] = total_row + 1
        m.tables[name] = geometry


def _first_text(grid: Grid, r: int) -> str:
    return next((squash(grid.text(r, c)) for c in range(grid.n_cols) if grid.text(r, c)), "")


def _read_kpi_table(grid: Grid, spec: Spec, m: Measure, name: str, ts: dict, region: range,
                    findings: list[Finding], trace: Trace) -> None:
    """A second KPI table of the record (`holds: kpis`: 市民満足度 by year beside the 成果指標):
    read as the KPI table is, its KPIs added to the record's, its place `tables[name]`."""
    t, rows = read_columns_table(grid, spec, region, findings, trace, reported=_reported_year(m),
                                 table=ts, name=name)
    if t is None:
        trace.add(grid.name, f"table {name}", None)
        return
    for kpi, ctx in rows:
        section_category(kpi, ctx)
        m.kpis.append(kpi)
    if t.rows_read:
        m.tables[name] = _columns_geometry(grid, t, min(t.rows_read), max(t.rows_read))


def _read_text_rows(grid: Grid, t: ColumnsTable, ts: dict, rows: list[int], m: Measure,
                    name: str) -> dict[int, int]:
    """A text table (`holds: texts`), one row per department: the `department` column names
    the department of the row's texts (its cell in each text's `cells`), `fiscal_year` the
    year; every other column is a text of the measure (key = the column's name, `role` its
    place in the PDCA cycle)."""
    columns = ts.get("columns") or {}
    text_cols = [(k, c) for k, c in t.cols.items() if k in columns and k not in ("department", "fiscal_year")]
    used: dict[int, int] = {}
    for r in rows:
        dept = grid.anchor_text(r, t.cols["department"]).strip() if "department" in t.cols else ""
        fy = None
        if "fiscal_year" in t.cols:
            ys = find_years(grid.anchor_text(r, t.cols["fiscal_year"]))
            fy = ys[0][0].year if ys else None
        for key, c in text_cols:
            text = grid.anchor_text(r, c)
            if not text or _origin(grid, r, c)[0] != r:
                continue
            label = squash(grid.anchor_text(t.row, c)) or None
            role = columns[key].get("role") or DEFAULT_ROLES.get(key, "other")
            cells = {"department": _ref(grid, m, *_origin(grid, r, t.cols["department"]))} if dept else {}
            m.texts.append(Text(key, text, label, role, dept or None, fy, _ref(grid, m, r, c), cells))
            used[r] = r
    if used and text_cols:  # the range a roll-forward empties and moves to history
        cols = [c for _, c in text_cols]
        last = grid.merge_at(max(used), max(cols))
        area = grid.area(min(used), min(cols), max(used), last[3] if last else max(cols))
        m.cells[f"{name}_block"] = area if grid.name == m.sheet or grid.ref_sheet else on_sheet(grid.name, area)
        m.cells[name] = _ref(grid, m, min(used), min(cols))
    return used


def _read_project_rows(grid: Grid, spec: Spec, t: ColumnsTable, ts: dict, rows: list[int],
                       m: Measure, kinds: dict[int, str], unit: str | None) -> dict[int, int]:
    """Each row with a name → a ProjectLine with its amounts by year (and kind)."""
    skip = _skip_labels(ts)
    used = {}
    for r in rows:
        name = grid.anchor_text(r, t.cols["name"])
        first = next((squash(grid.text(r, c)) for c in range(grid.n_cols) if grid.text(r, c)), "")
        if not name or skip.match(squash(name)) or skip.match(first):
            continue
        line = ProjectLine(name=name, tags=re.findall(r"【([^】]+)】", name))
        line.cells["name"] = _ref(grid, m, r, t.cols["name"])
        for key, c in t.cols.items():
            if key == "name":
                continue
            value = grid.anchor_text(r, c)
            line.cells[key] = _ref(grid, m, r, c)
            if key == "department":
                line.department = value or None
            elif key == "content":
                line.content = value
            else:
                raw = grid.value(r, c)
                line.extra[key] = int(raw) if isinstance(raw, float) and raw.is_integer() else (
                    raw if isinstance(raw, (int, float)) and not isinstance(raw, bool) else value)
        for c, fy, _ in t.years:
            line.amounts.append(Amount(fy, _cost_value(grid, spec, m, r, t.value_col(r, c), fy, unit),
                                       kinds.get(fy)))
        line.totals = _period_totals(grid, spec, t, m, r, unit)
        m.projects.append(line)
        used[r] = r
    return used


# a cost row naming a source of money (国・県支出金, 補助金, 市債, 寄附金…): a 財源 line
_FUNDING_WORDS = re.compile(r"(支出金|補助金|交付金|負担金|[国県府都道市区町村地方]債|特定財源|寄[附付]金|"
                            r"基金|繰入金|使用料|手数料|諸収入|分担金)")


def _is_funding(declared, label: str) -> bool:
    """An own cost line is a 財源 (counted in the report's 一般財源 check) when the layout says
    `funding: true`, or — unless it says `funding: false` — when its row label names a source
    of money."""
    if declared is not None:
        return bool(declared)
    return _FUNDING_WORDS.search(squash(label)) is not None


def _read_cost_rows(grid: Grid, spec: Spec, t: ColumnsTable, ts: dict, rows: list[int],
                    m: Measure, kinds: dict[int, str], unit: str | None,
                    unit_cell: str | None) -> dict[str, int]:
    """Rows whose label (any text cell left of the first year column) is one of `lines`
    → CostLines, one value per year; the `unit_cost` line → 単位コスト as typed."""
    first_year = min((c for c, _, _ in t.years), default=grid.n_cols)
    specs = []
    for key, line in (ts.get("lines") or {}).items():
        line = line if isinstance(line, dict) else {"label": line}
        specs.append((key, _labels(line.get("label", key), "start"), line.get("unit"),
                      line.get("funding")))
    uc = ts.get("unit_cost") or {}
    uc_labels = _labels(uc["label"], "start") if uc.get("label") else None
    block = m.cost or CostBlock(unit=unit)
    block.unit = block.unit or unit
    block.years = sorted({fy for _, fy, _ in t.years} | set(block.years))
    block.year_kinds.update(kinds)
    block.cells.setdefault("header", _ref(grid, m, t.row, t.name_col))
    if unit_cell:
        block.cells.setdefault("unit", unit_cell)
    taken = {ln.key for ln in block.lines}
    used: dict[str, int] = {}
    uc_values = None
    for r in rows:
        cells = [(c, grid.anchor_text(r, c)) for c in range(first_year)]
        cells = [(c, x) for c, x in cells if x]
        if uc_labels is not None and uc_values is None:
            hit = next(((c, x) for c, x in cells if uc_labels.match(squash(x))), None)
            if hit:
                uc_values = (hit[1], [_cost_value(grid, spec, m, r, t.value_col(r, c), fy, None)
                                      for c, fy, _ in t.years])
                used["unit_cost"] = r
                continue
        for key, labels, line_unit, funding in specs:
            if key in taken:
                continue
            hit = next(((c, x) for c, x in cells if labels.match(squash(x))), None)
            if hit is None:
                continue
            values = [_cost_value(grid, spec, m, r, t.value_col(r, c), fy, line_unit or unit)
                      for c, fy, _ in t.years]
            block.lines.append(CostLine(key, hit[1], values,
                                        _period_totals(grid, spec, t, m, r, line_unit or unit),
                                        funding=_is_funding(funding, hit[1]) and key not in FUNDING_KEYS))
            block.cells.setdefault(key, values[0].cell if values else _ref(grid, m, r, hit[0]))
            taken.add(key)
            used[key] = r
            break
    if uc:
        kpi = _unit_cost_indicator(m, uc, uc_values[0] if uc_values else "")
        block.unit_cost = {"indicator": kpi.name if kpi else None, "values": []}
        if uc_values:
            per = _per_unit(uc_values[0], kpi)
            for q in uc_values[1]:
                q.unit = per if not q.is_empty else None
            block.unit_cost["values"] = uc_values[1]
            block.cells.setdefault("unit_cost", uc_values[1][0].cell if uc_values[1] else "")
    if block.lines or uc_values:
        m.cost = block
    return used


def _period_totals(grid: Grid, spec: Spec, t: ColumnsTable, m: Measure, r: int,
                   unit: str | None) -> list[PeriodTotal]:
    """Row r's period total columns (計画期間計（R5～R7）, 合計): each the total over its years."""
    return [PeriodTotal(kind, [first, last], _cost_value(grid, spec, m, r, c, None, unit))
            for c, (kind, first, last) in sorted(t.totals.items()) if first is not None]


def _cost_value(grid: Grid, spec: Spec, m: Measure, r: int, c: int, fy: int | None,
                unit: str | None) -> Quantity:
    q = quantity(grid, spec, r, c, fy)
    if q.unit is None and unit and not q.is_empty:
        q.unit = unit
    q.cell = _ref(grid, m, r, c)
    return q


def _unit_cost_indicator(m: Measure, uc: dict, label: str) -> Kpi | None:
    """The KPI a 単位コスト divides by: `indicator: in_label` (its name is written in the
    line's label), `first_kpi`, or labels matched against the KPI names."""
    ind = uc.get("indicator")
    if ind in (None, "first_kpi"):
        return m.kpis[0] if m.kpis else None
    if ind == "in_label":
        text = squash(label)
        named = [k for k in m.kpis if squash(k.name) and squash(k.name) in text]
        if not named:  # a name written with its unit 「…数（件）」: without the unit
            named = [k for k in m.kpis if re.sub(r"\([^()]*\)$", "", squash(k.name)) in text
                     and re.sub(r"\([^()]*\)$", "", squash(k.name))]
        return max(named, key=lambda k: len(k.name)) if named else None
    labels = _labels(ind, "start")
    return next((k for k in m.kpis if labels.match(squash(k.name))), None)


def _per_unit(label: str, kpi: Kpi | None) -> str:
    """The unit of a 単位コスト: 円/<the KPI's unit> (or as the label says: （円／人）)."""
    got = re.search(r"円/([^()/]+?)\)", squash(label))
    if kpi is not None and kpi.unit:
        return f"円/{kpi.unit}"
    return f"円/{got.group(1)}" if got else "円"


# --- the city's own 達成率 and 評価, checked against the declared rule --------------------

def check_achievement(kpi: Kpi, spec: Spec, sheet: str, findings: list[Finding]) -> None:
    """The city's typed 達成率 and 評価 of each year against the layout's rule and scale.

    `achievement.basis`: `per_year` (each year against its own target; a year whose target
    is empty or a none-mark has no target and its 達成率 / 評価 cells must hold `no_target`, a
    none-mark, or nothing: else `grade-without-target`), `final` (against the final target),
    `per_year_else_final` (default). A typed 達成率 or 評価 that is a none-mark (or the
    declared `no_target`) means "not rated" and is never compared. A qualitative actual in
    `values.qualitative` counts 100 (`met`) or 0 (`unmet`)."""
    ach = spec.get("achievement") or {}
    rule = ach.get("rule", "none")
    tol = ach.get("tolerance", 0.5)
    basis = ach.get("basis", "per_year_else_final")
    scale = (spec.get("grades") or {}).get("scale") or []
    no_target = _labels([*_as_list(ach.get("no_target")), *_as_list((spec.get("grades") or {}).get(
        "no_target"))] or ["re:(?!x)x"])
    targets = {q.fiscal_year: q for q in kpi.targets}
    rates = {q.fiscal_year: q for q in kpi.achievements}
    grades = {q.fiscal_year: q for q in kpi.grades}
    qualitative = (spec.get("values") or {}).get("qualitative") or {}

    def unrated(q: Quantity | None) -> bool:
        return q is None or q.is_empty or q.is_none_mark or no_target.match(squash(q.text or ""))

    for fy in sorted(set(rates) | set(grades), key=lambda y: y or 0):
        a, grade = rates.get(fy), grades.get(fy)
        target = targets.get(fy)
        if basis == "final":
            target = None
        elif basis == "per_year" and (target is None or target.value is None and
                                      (target.is_empty or target.is_none_mark)):
            for q in (a, grade):
                if not unrated(q):
                    findings.append(Finding(
                        Severity.WARNING, "grade-without-target",
                        f"指標「{kpi.name}」の{fy or ''}年度は目標値がないのに、達成率・評価に"
                        f"「{q.text}」があります", None, sheet, q.cell))
            continue
        read = _percent_points(a, spec) if a is not None and not unrated(a) else None
        ours = _rate(rule, kpi, kpi.actual(fy), target, qualitative, basis)
        if read is not None and ours is not None and abs(read - ours) > tol:
            findings.append(Finding(
                Severity.WARNING, "achievement-differs",
                f"指標「{kpi.name}」の達成率 {read:g}% は、様式の定義（{rule}）による "
                f"{ours:.1f}% と一致しません", None, sheet, a.cell))
        points = read if read is not None else ours
        if scale and grade is not None and grade.text and not unrated(grade) and points is not None:
            expected = grade_for(scale, points)
            if expected is not None and squash(grade.text) != squash(str(expected)):
                findings.append(Finding(
                    Severity.WARNING, "grade-differs",
                    f"指標「{kpi.name}」の評価「{grade.text}」は、達成率 {points:g}% と評価の基準から"
                    f"求まる「{expected}」と一致しません", None, sheet, grade.cell))


def _rate(rule: str, kpi: Kpi, actual: Quantity | None, target: Quantity | None,
          qualitative: dict | None = None, basis: str = "per_year_else_final") -> float | None:
    if actual is None:
        return None
    if actual.value is None and qualitative and actual.text and rule != "none":
        text = squash(actual.text)  # 完了 / 未着手: met counts 100%, unmet 0%
        if qualitative.get("met") and _labels(qualitative["met"]).match(text):
            return 100.0
        if qualitative.get("unmet") and _labels(qualitative["unmet"]).match(text):
            return 0.0
        return None
    if actual.value is None:
        return None
    if basis == "per_year" and (target is None or target.value is None):
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
    trace, findings, more) -> [Measure]` (one of the three below, chosen by the kind
    module); `more` are the further sheets grouped with `grid` into one record
    (`sheets.group`)."""
    book = Book(layout=spec.name, path=str(path))
    for group in sheet_groups([g for g, _role in grids], spec):
        findings: list[Finding] = []
        book.measures.extend(read_grid(group[0], spec, trace, findings, group[1:]))
        for f in findings:
            f.file = str(path)
        book.findings.extend(findings)
    _finish_book(book)
    return book


def sheet_groups(grids: list[Grid], spec: Spec) -> list[list[Grid]]:
    """`sheets.group`: sheets whose names give the same key (the first group of the regex,
    else the whole match) make one record, in workbook order (「施策1その1」「施策1その2」 →
    施策1). A sheet whose name does not match is a record of its own."""
    pattern = (spec.get("sheets") or {}).get("group")
    if not pattern:
        return [[g] for g in grids]
    labels = compile_labels(pattern, "contains", "sheets.group")
    groups: dict[str, list[Grid]] = {}
    for g in grids:
        m = labels.regex.search(g.name) or labels.regex.search(squash(g.name))
        key = next((x for x in m.groups() if x), m.group(0)) if m else f"\0{g.name}"
        groups.setdefault(key, []).append(g)
    return list(groups.values())


def _grouped_fields(sheets: list[Grid], spec: Spec, fields: dict, trace: Trace,
                    findings: list[Finding]) -> tuple[dict, dict]:
    """Fields of a record over one or more sheets: each from the first sheet that has it
    (a heading repeated on a continuation sheet is not read twice)."""
    values: dict = {}
    labels: dict = {}
    if len(sheets) == 1:
        g = sheets[0]
        return read_fields(g, spec, fields, range(0, g.n_rows), trace, findings, labels), labels
    quiet = {k: {**f, "required": False} for k, f in (fields or {}).items()}
    for g in sheets:
        todo = {k: f for k, f in quiet.items() if k not in values}
        if not todo:
            break
        values.update(read_fields(g, spec, todo, range(0, g.n_rows), trace, findings, labels))
    for key, f in (fields or {}).items():
        if f.get("required") and key not in values:
            findings.append(Finding(Severity.ERROR, "missing-field",
                                    f"「{_plain(f.get('label', key))}」が見つかりません", None,
                                    sheets[0].name))
    return values, labels


def read_sheet_record(grid: Grid, spec: Spec, trace: Trace, findings: list[Finding],
                      more: list[Grid] = ()) -> list[Measure]:
    """record: sheet: one measure per sheet (or per group of sheets), its fields, one KPI
    table and text blocks."""
    if spec.get("stacked"):
        return read_stacked_records(grid, spec, trace, findings, more)
    sheets = [grid, *(g.qualified() for g in more)]
    m = Measure(sheet=grid.name, sheets=[g.name for g in sheets])
    values, labels = _grouped_fields(sheets, spec, spec.get("fields") or {}, trace, findings)
    apply_sheet_fields(m, values, labels)
    _sheet_table_etc(m, sheets, spec, trace, findings, grid, None)
    return [m]


def _sheet_table_etc(m: Measure, sheets: list[Grid], spec: Spec, trace: Trace,
                     findings: list[Finding], grid: Grid, region: range | None,
                     shared: range | None = None) -> None:
    """A sheet record's KPI table, further tables and text blocks (within `region` of a
    single sheet for a measure of a stacked sheet, `shared` the rows above its first
    measure), then the measure finished."""
    def rows_of(g: Grid) -> range:
        return region if region is not None else range(0, g.n_rows)
    t, tg = None, grid
    for tg in sheets:
        t, rows = read_columns_table(tg, spec, rows_of(tg), findings, trace,
                                     reported=_reported_year(m))
        if t is not None:
            break
    if t is None:
        header = (spec.get("table") or {}).get("header", ["指標名", "KPI"])
        findings.append(Finding(
            Severity.ERROR, "missing-kpi-table",
            f"指標（KPI）の表が見つかりません（「{_plain(header)}」の見出しがありません）",
            None, grid.name))
    else:
        m.kpi_header_row = t.row + 1
        m.extra["reported_years"] = sorted(set(t.reported))
        m.year_columns = {fy: c for fy, (c, _) in main_year_columns(t, final=True).items()}
        if t.rows_read:
            m.tables["kpi"] = _columns_geometry(tg, t, min(t.rows_read), max(t.rows_read))
        for kpi, ctx in rows:
            apply_section(kpi, ctx, (spec.get("table") or {}).get("section"), True)
            section_category(kpi, ctx)  # a carried 区分 column
            m.kpis.append(kpi)
    for g in sheets:
        read_tables(g, spec, m, rows_of(g), findings, trace, shared)
    if region is not None:
        read_text_blocks(grid, spec, m, region, trace, findings)
    else:
        _grouped_texts(sheets, spec, m, trace, findings)
    finish_measure(m, spec, findings, grid)


def _stacked_regions(grid: Grid, stacked: dict) -> list[range]:
    """The rows of each measure of a stacked sheet: from a row whose cell matches
    `stacked.start` to the next such row (or a row matching `stacked.end`)."""
    return _regions(grid, stacked["start"], _as_list(stacked.get("end")))


def _regions(grid: Grid, starts_at, ends_at: list) -> list[range]:
    """Rows from each row whose cell matches `starts_at` (exact) to the next such row, or to
    the first row after it matching one of `ends_at` (at the start of a cell)."""
    start = _labels(starts_at, "exact")
    starts = sorted({r for r, c, t in grid.labels() if _matches(grid, start, r, c, t)})
    end = _labels(ends_at, "start") if ends_at else None
    out = []
    for i, s in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else grid.n_rows
        if end:
            e = _find(grid, end, range(s + 1, stop))
            stop = e[0] if e else stop
        out.append(range(s, stop))
    return out


def read_stacked_records(grid: Grid, spec: Spec, trace: Trace, findings: list[Finding],
                         more: list[Grid] = ()) -> list[Measure]:
    """record: sheet with `stacked:`: several measures stacked on one sheet (実施計画の事業
    ブロック), each from a `stacked.start` row: its own fields, KPI table, further tables
    and text blocks, read within its rows. A field found outside every block (a heading
    above the first, notes below the last) is shared by all the sheet's measures."""
    out: list[Measure] = []
    fields = spec.get("fields") or {}
    quiet = {k: {**f, "required": False} for k, f in fields.items()}
    for g in [grid, *(x.qualified() for x in more)]:
        regions = _stacked_regions(g, spec.get("stacked"))
        if not regions:
            findings.append(Finding(Severity.ERROR, "missing-kpi-table",
                                    f"「{_plain(spec['stacked']['start'])}」で始まるブロックがありません",
                                    None, g.name))
            continue
        outside = [range(0, regions[0].start)]
        outside += [range(a.stop, b.start) for a, b in zip(regions, regions[1:]) if a.stop < b.start]
        outside.append(range(regions[-1].stop, g.n_rows))
        shared: dict = {}
        shared_labels: dict = {}
        for rows in outside:
            todo = {k: f for k, f in quiet.items() if k not in shared}
            if todo and len(rows):
                shared.update(read_fields(g, spec, todo, rows, trace, findings, shared_labels))
        for rows in regions:
            m = Measure(sheet=g.name, sheets=[g.name])
            labels: dict = {}
            values = read_fields(g, spec, quiet, rows, trace, findings, labels)
            for key, v in shared.items():
                if key not in values:
                    values[key] = v
                    labels[key] = shared_labels.get(key)
            for key, f in fields.items():
                if f.get("required") and key not in values:
                    findings.append(Finding(Severity.ERROR, "missing-field",
                                            f"「{_plain(f.get('label', key))}」が見つかりません",
                                            None, g.name, g.addr(rows.start, 0)))
            apply_sheet_fields(m, values, labels)
            _sheet_table_etc(m, [g], spec, trace, findings, g, rows, outside[0])
            out.append(m)
    return out


def _grouped_texts(sheets: list[Grid], spec: Spec, m: Measure, trace: Trace,
                   findings: list[Finding]) -> None:
    """Text blocks of a record over one or more sheets, each from the first sheet with it."""
    if len(sheets) == 1:
        read_text_blocks(sheets[0], spec, m, range(0, sheets[0].n_rows), trace, findings)
        return
    done: set[str] = set()
    for g in sheets:
        done |= read_text_blocks(g, spec, m, range(0, g.n_rows), trace, None, done)
    blocks = spec.get("text_blocks") or {}
    if blocks and not done:
        names = "・".join(f"「{_plain(b.get('label', k))}」" for k, b in blocks.items())
        findings.append(Finding(Severity.WARNING, "missing-check", f"文章欄（{names}）が見つかりません",
                                None, sheets[0].name))


def read_block_record(grid: Grid, spec: Spec, trace: Trace, findings: list[Finding],
                      more: list[Grid] = ()) -> list[Measure]:
    """record: block: one measure per sheet (or group of sheets), its fields and KPI blocks
    stacked below."""
    sheets = [grid, *(g.qualified() for g in more)]
    m = Measure(sheet=grid.name, sheets=[g.name for g in sheets])
    values, labels = _grouped_fields(sheets, spec, spec.get("fields") or {}, trace, findings)
    apply_sheet_fields(m, values, labels)
    for g in sheets:
        for rows in _blocks(g, spec):
            geometry: dict = {}
            kpi = read_block_kpi(g, spec, rows, findings, trace, geometry)
            if kpi is not None:
                m.kpis.append(kpi)
                if geometry:  # one table per block: kpi, kpi.2, kpi.3 …
                    n = sum(1 for x in m.tables.values() if x.get("holds") == "kpis")
                    m.tables["kpi" if n == 0 else f"kpi.{n + 1}"] = geometry
    for g in sheets:
        read_tables(g, spec, m, range(0, g.n_rows), findings, trace)
    _grouped_texts(sheets, spec, m, trace, findings)
    finish_measure(m, spec, findings, grid)
    return [m]


def _blocks(grid: Grid, spec: Spec) -> list[range]:
    block = spec.get("block") or {}
    ends = [block["end"]] if isinstance(block.get("end"), str) else list(block.get("end") or [])
    for b in (spec.get("text_blocks") or {}).values():  # a text block's heading ends a block
        lab = b.get("label")
        ends.extend([lab] if isinstance(lab, str) else lab or [])
    return _regions(grid, block["start"], ends)


def read_row_records(grid: Grid, spec: Spec, trace: Trace, findings: list[Finding],
                     more: list[Grid] = ()) -> list[Measure]:
    """record: row: one KPI per table row, grouped into measures by the `group_by` column
    (its text a level: `1-1 name`); `project_lines` names the columns of each row's project
    line (name, department, content, tags). A list continued on further sheets (`sheets.group`)
    adds their rows to the measures of the same name."""
    measures: dict[str, Measure] = {}
    for g in [grid, *(x.qualified() for x in more)]:
        for key, m in _row_measures(g, spec, trace, findings).items():
            if key in measures:
                first = measures[key]
                first.kpis.extend(m.kpis)
                first.projects.extend(m.projects)
                first.sheets.extend(s for s in m.sheets if s not in first.sheets)
                first.actual_years = sorted(set(first.actual_years) | set(m.actual_years))
            else:
                measures[key] = m
    return list(measures.values())


def _row_measures(grid: Grid, spec: Spec, trace: Trace, findings: list[Finding]) -> dict[str, Measure]:
    region = range(0, grid.n_rows)
    labels: dict = {}
    header_fields = read_fields(grid, spec, spec.get("fields") or {}, region, trace, findings,
                                labels)
    probe = Measure(sheet=grid.name)
    apply_sheet_fields(probe, header_fields, labels)
    t, rows = read_columns_table(grid, spec, region, findings, trace, reported=_reported_year(probe))
    if t is None:
        return {}
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
                elif isinstance(v, Level) and k not in (group, "category"):  # a further level column
                    m.levels.append(v)
                    m.cells[k] = cell
            m.kpi_header_row = t.row + 1
            m.year_columns = {fy: c for fy, (c, _) in main_year_columns(t, final=True).items()}
            if t.rows_read:
                m.tables["kpi"] = _columns_geometry(grid, t, min(t.rows_read), max(t.rows_read))
            measures[key] = m
        apply_section(kpi, ctx, (spec.get("table") or {}).get("section"), False)
        section_category(kpi, ctx)  # a carried 区分 column
        m.kpis.append(kpi)
        line = _project_line(ctx, lines)
        if line is not None:
            m.projects.append(line)
    for m in measures.values():
        finish_measure(m, spec, findings, grid, years)
    return measures


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
        if k.unit:  # values read after the KPI row (a 実績 row under its 目標 row) take its unit
            for q in (k.baseline, *k.actuals, k.target, *k.targets, *k.estimates):
                if q.value is not None and q.unit is None:
                    q.unit = k.unit
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
    # the edition: the year the sheet says (a `fiscal_year` field: 評価年度; else the year its
    # title names: 「令和4年度 施策進捗状況調書」), else the year after the last year headed
    # 実績値, else after the last filled one
    reported = m.extra.get("reported_years")
    said = m.extra.get("fiscal_year") or _title_year(m.title)
    if said:
        m.extra["edition"] = said
        if reported:  # a 実績値 column of the edition's own year (or later) still to be filled
            m.extra["reported_years"] = [y for y in reported if y < said or y in filled]
    elif reported:
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


def _reported_year(m: Measure) -> int | None:
    """The year the edition reports, when the sheet names its edition (a `fiscal_year` field
    or a title naming the year): the year before it."""
    said = m.extra.get("fiscal_year") or _title_year(m.title)
    return said - 1 if said else None


def _title_year(title: str | None) -> int | None:
    """The fiscal year a title names first (「令和3年度　施策評価シート（令和2年度実績）」 → 2021)."""
    ys = find_years(normalize_text(title or "")) if title else []
    return ys[0][0].year if ys else None


def _finish_book(book: Book) -> None:
    editions = Counter(m.extra["edition"] for m in book.measures if m.extra.get("edition"))
    if editions:
        book.fiscal_year = editions.most_common(1)[0][0]
    titles = [m.title for m in book.measures if m.title]
    book.title = titles[0] if titles else None

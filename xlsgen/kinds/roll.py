"""Helpers the kinds' roll-forward planners share: era labels of a year, A1 pieces, the
values a snapshot holds, input cells, text blocks moved to history, year tables
(`Measure.tables`) and amounts archived to 過年度実績. Pure (no I/O)."""

from __future__ import annotations

import functools
import re
from typing import Any

from xlsgen.errors import XlsgenError
from xlsgen.formulas import col_index, col_letters
from xlsgen.model import (
    CHECK_HISTORY_SHEET,
    PAST_YEARS_SHEET,
    Book,
    Edit,
    Figure,
    Finding,
    Measure,
    Plan,
    Quantity,
    Severity,
    split_ref,
)
from xlsgen.wareki import FiscalYear, find_years

_YEAR_TOKEN = re.compile(r"(平成|令和|昭和|[HRShrs])\s*(元|[0-9０-９]{1,2})(?=\s*年)")
# a year written without 年 (`R4`, `H30`) when the text has no `…年` one
_BARE_YEAR = re.compile(r"(?<![A-Za-z])(平成|令和|昭和|[HRS])\s*(元|[0-9０-９]{1,2})(?![0-9０-９])")


_FULL_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
_HALF_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def _token(fy: int, kanji: bool, full: bool = False) -> str:
    """The era year of `fy`: `R5` or `令和5` (`令和元`); `full`: its digits full-width (`令和５`)."""
    f = FiscalYear(fy)
    n = "元" if kanji and f.era_year == 1 else str(f.era_year)
    return (f.kanji[:2] if kanji else f.era) + (n.translate(_FULL_DIGITS) if full else n)


def _full_width(num: str) -> bool:
    return any(ch in "０１２３４５６７８９" for ch in num)


def year_label_like(text: str, fy: int) -> str:
    """`text` with its first era year replaced by `fy`, in the same style (era letter or name,
    half- or full-width digits).

    `R2年度\\n(実績値)` → `R3年度\\n(実績値)`; `【Check】令和2年度実績…` → `…令和3年度実績…`;
    `令和５年度` → `令和６年度`.
    """
    m = _YEAR_TOKEN.search(text) or _BARE_YEAR.search(text)
    if m is None:
        short = FiscalYear(fy).short
        return f"{short}年度\n{text}" if text else f"{short}年度"
    return text[: m.start()] + _token(fy, len(m.group(1)) > 1, _full_width(m.group(2))) + text[m.end():]


def _era_year(era: str, num: str) -> int | None:
    n = 1 if num == "元" else int(num.translate(_HALF_DIGITS))
    start = {"令和": 2019, "R": 2019, "r": 2019, "平成": 1989, "H": 1989, "h": 1989,
             "昭和": 1926, "S": 1926, "s": 1926}.get(era)
    return None if start is None else start + n - 1


def years_shifted(text: str, years: set[int]) -> str:
    """`text` with each era year of `years` one year on, in its own style
    (`（令和４年度実績）` → `（令和５年度実績）`)."""
    def repl(m: re.Match) -> str:
        fy = _era_year(m.group(1), m.group(2))
        if fy not in years:
            return m.group(0)
        return _token(fy + 1, len(m.group(1)) > 1, _full_width(m.group(2)))

    return _YEAR_TOKEN.sub(repl, text)


def rewrite_heisei(text: str) -> str | None:
    """`H35年度` → `R5年度` (平成 past 31 means 令和); None when nothing to rewrite."""
    def repl(m: re.Match) -> str:
        era, num = m.group(1), m.group(2)
        n = 1 if num == "元" else int(num.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
        if era not in ("H", "h", "平成") or n <= 31:
            return m.group(0)
        return _token(1988 + n, len(era) > 1)

    new = _YEAR_TOKEN.sub(repl, text)
    return None if new == text else new


@functools.cache
def split_cell(addr: str) -> tuple[str, int]:
    """`C15` → ("C", 15)."""
    m = re.fullmatch(r"([A-Z]+)(\d+)", addr)
    return m.group(1), int(m.group(2))


def shift_col(col: str, at: int, n: int) -> str:
    """A column letter moved right by `n` when at or past column index `at` (1-based)."""
    i = col_index(col)
    return col_letters(i + n) if n and i >= at else col


def block_cells(cells: dict, rows: range, cols: range) -> list[str]:
    """The non-empty cells of a snapshot inside rows × cols (1-based), row by row, without
    the city's own formulas (a helper formula beside a text is neither cleared nor taken
    into last year's text)."""
    formulas = getattr(cells, "formulas", ())
    out = []
    for addr, (v, _) in cells.items():
        c, r = split_cell(addr)
        if v not in (None, "") and r in rows and col_index(c) in cols and addr not in formulas:
            out.append(addr)
    return sorted(out, key=lambda a: (split_cell(a)[1], col_index(split_cell(a)[0])))


def col_of(q: Quantity | None, fallback: str | None = None) -> str | None:
    """The column letter of a value's cell."""
    return split_cell(q.cell)[0] if q is not None and q.cell else fallback


def raw(cells: dict, addr: str | None) -> tuple[Any, str | None]:
    """(value, number format) of a snapshot cell; (None, None) without an address."""
    if not addr:
        return None, None
    v, f = cells.get(addr, (None, "General"))
    return v, f


def not_supported(book: Book, what: str) -> XlsgenError:
    """The refusal of a kind that has no planner yet."""
    return XlsgenError(f"様式「{book.layout_title or book.layout}」（{what}）の繰り越しにはまだ対応していません",
                       book.path)


# --- input cells -------------------------------------------------------------------------

GENERAL = "General"


def formula_cells(cells: dict) -> frozenset:
    """The formula cells of one sheet of a snapshot (the package layer records them in
    `.formulas`): a roll never plans over the city's own formulas."""
    return getattr(cells, "formulas", None) or frozenset()


def like_format(cells: dict, addrs) -> str | None:
    """The first number format other than General among `addrs` (earlier cells of a row or
    column: what the new input cell should look like)."""
    for a in addrs:
        f = cells.get(a, (None, GENERAL))[1] if a else None
        if f and f != GENERAL:
            return f
    return None


def wants_input(value: Any, q: Quantity | None = None) -> bool:
    """A cell the clerk still has to fill: empty, or a status such as 集計中."""
    return value in (None, "") or bool(q is not None and q.status)


def input_edit(sheet: str, addr: str, cells: dict, like, reason: str,
               q: Quantity | None = None) -> Edit | None:
    """The cell `addr` as an input cell: its value kept, shaded when it is still to be filled,
    and given the number format of the cells `like` (the previous year's) when it has none.
    None for a formula cell (the city's own formula is left as it is)."""
    if addr in formula_cells(cells):
        return None
    v, f = raw(cells, addr)
    shade = wants_input(v, q)
    fmt = like_format(cells, like) if shade and (f or GENERAL) == GENERAL else None
    return Edit(sheet, addr, v, reason, number_format=fmt, shade=shade)


def dedupe(plan: Plan) -> Plan:
    """The plan without repeated edits (measures sharing one table or one text block)."""
    seen, out = set(), []
    for e in plan.edits:
        key = (e.sheet, e.cell, repr(e.value), e.reason, e.number_format, e.shade, e.comment, e.unshade_like)
        if key not in seen:
            seen.add(key)
            out.append(e)
    plan.edits = out
    return plan


class Moves:
    """Where cells end up once the plan's columns are inserted: sheet → [(at, n)]; called
    as `moves(sheet, "H12")` → the address after the insertion."""

    def __init__(self):
        self.by_sheet: dict[str, list[tuple[int, int]]] = {}

    def add(self, sheet: str, at: int, n: int) -> None:
        self.by_sheet.setdefault(sheet, []).append((at, n))

    def __call__(self, sheet: str, addr: str) -> str:
        c, r = split_cell(addr)
        for at, n in self.by_sheet.get(sheet, ()):
            c = shift_col(c, at, n)
        return f"{c}{r}"


def _ref(m: Measure, ref: str) -> tuple[str, str]:
    """(sheet, A1) of a recorded cell (`'その2'!H8` on another sheet of a grouped record)."""
    sheet, a1 = split_ref(ref, m.sheet)
    return sheet or m.sheet, a1


def plan_actual_inputs(plan: Plan, book: Book, m: Measure, snap: dict, reported: int,
                       kpis=None, moves: Moves | None = None) -> None:
    """Each KPI's actual cell of `reported` becomes an input cell (value kept, shaded while
    empty, the number format of its earlier actuals), with the year's own text (実績の説明);
    the previous year's actual, once an input cell, loses its shading when filled, and is
    warned about (and shaded) when still empty. The city's own 達成率 / 評価 cells are not
    touched. `moves`: the columns the plan inserts."""
    moves = moves or Moves()
    short = FiscalYear(reported).short

    def put(e: Edit | None, unshade: str | None = None) -> None:
        if e is not None:
            plan.edits.append(Edit(e.sheet, moves(e.sheet, e.cell), e.value, e.reason, e.number_format,
                                   e.shade, unshade_like=moves(e.sheet, unshade) if unshade else None))

    for k in kpis if kpis is not None else m.kpis:
        q = k.actual(reported)
        earlier = sorted((a for a in k.actuals if a.cell and a.fiscal_year and a.fiscal_year < reported),
                         key=lambda a: -a.fiscal_year)

        def like(qs, sheet):
            return [a1 for s, a1 in (_ref(m, a.cell) for a in qs) if s == sheet]
        if q is not None and q.cell:
            sheet, a1 = _ref(m, q.cell)
            put(input_edit(sheet, a1, snap.get(sheet, {}), like(earlier, sheet),
                           f"{short}年度の実績値の入力欄（指標「{k.name}」）", q))
        for t in k.texts:  # the year's own text (実績の説明): written with the value
            if t.fiscal_year == reported and t.cell:
                sheet, a1 = _ref(m, t.cell)
                cells = snap.get(sheet, {})
                if a1 not in formula_cells(cells):
                    v = raw(cells, a1)[0]
                    put(Edit(sheet, a1, v, f"{short}年度の{t.label or '説明'}の入力欄（指標「{k.name}」）",
                             shade=v in (None, "")))
        if not earlier:
            continue
        p = earlier[0]
        sheet, a1 = _ref(m, p.cell)
        cells = snap.get(sheet, {})
        if (p.is_empty and not p.is_none_mark) or p.status:
            plan.findings.append(Finding(
                Severity.WARNING, "missing-actual",
                f"{FiscalYear(p.fiscal_year).short}年度の実績値が"
                f"{'「' + p.status + '」のままです' if p.status else '空です'}（指標「{k.name}」）",
                book.path, sheet, moves(sheet, a1)))
            # the cell the warning asks for is an input cell too
            put(input_edit(sheet, a1, cells, like(earlier[1:], sheet),
                           f"{FiscalYear(p.fiscal_year).short}年度の実績値（未入力）の入力欄（指標「{k.name}」）", p))
        elif len(earlier) > 1 and a1 not in formula_cells(cells) and _ref(m, earlier[1].cell)[0] == sheet:
            put(Edit(sheet, a1, raw(cells, a1)[0],
                     f"{FiscalYear(p.fiscal_year).short}年度の実績値は入力済みのため入力欄の網掛けを外しました"),
                unshade=_ref(m, earlier[1].cell)[1])


def relabel_like(plan: Plan, sheet: str, cells: dict, rows, col: str, prev_col, fy: int,
                 reason: str, moves: Moves | None = None) -> None:
    """Header cells of column `col` in `rows` that read differently from the same rows of
    the previous year's column are rewritten like them (`R3年度\n(見込値)` →
    `R3年度\n(実績値)`, `予算額` → `決算額`). Only cells holding a header are rewritten.
    `prev_col`: the previous year's column, or the earlier years' columns nearest first (a
    heading merged over several of them is written in the first: 決算額 over R2:R3)."""
    moves = moves or Moves()
    earlier = [prev_col] if isinstance(prev_col, str) else list(prev_col)
    for r in rows:
        own = raw(cells, f"{col}{r}")[0]
        like = next((v for v in (raw(cells, f"{c}{r}")[0] for c in earlier) if v not in (None, "")), None)
        if not isinstance(like, str) or not isinstance(own, str) or not like.strip():
            continue
        want = year_label_like(like, fy) if find_years(like) else like
        if want != own:
            plan.edits.append(Edit(sheet, moves(sheet, f"{col}{r}"), want, reason))


def plan_title_year(plan: Plan, book: Book, m: Measure, snap: dict, to: int,
                    done: set | None = None, moves: Moves | None = None) -> None:
    """A title that names the edition's year (`令和4年度　施策の進捗評価シート`) and the
    `fiscal_year` field (評価年度: the edition, as the reader takes it) name the new one; a
    `subtitle` field naming the edition's year or the year it reports (`（令和４年度実績）`)
    names each of them one year on."""
    done = set() if done is None else done
    moves = moves or Moves()
    edition = book.fiscal_year
    for key in ("title", "fiscal_year", "subtitle"):
        ref = m.cells.get(key)
        if not ref or edition is None:
            continue
        sheet, a1 = _ref(m, ref)
        if (sheet, a1) in done:
            continue
        text = raw(snap.get(sheet, {}), a1)[0]
        if key == "subtitle":
            new = years_shifted(text, {edition, edition - 1}) if isinstance(text, str) else text
            if new == text:
                continue
        elif key == "fiscal_year" and isinstance(text, int) and text == edition:
            new = to
        elif isinstance(text, str) and any(fy.year == edition for fy, _ in find_years(text)[:1]):
            new = year_label_like(text, to)
        else:
            continue
        done.add((sheet, a1))
        plan.edits.append(Edit(sheet, moves(sheet, a1), new,
                               f"{'表題' if key == 'title' else '副題' if key == 'subtitle' else '年度'}"
                               f"を{FiscalYear(to).kanji}版に"))


# --- text blocks moved to 前年度評価 -----------------------------------------------------

TEXT_HISTORY_HEADERS = ("年度版", "シート", "番号", "名称", "欄", "前年度の内容", "元のセル")
TEXT_HISTORY_WIDTHS = (9, 10, 6, 18, 14, 52, 10)


def plan_text_history(plan: Plan, book: Book, m: Measure, snap: dict, to: int,
                      moves: Moves | None = None, done: set | None = None,
                      name: str | None = None, skip: tuple[str, ...] = ()) -> None:
    """What the layout names in `rollforward.history` is emptied (the first cell of each
    shaded for the new text) and its old text goes to `前年度評価`, one row per block, with
    the cells it came from: text blocks, fields (an evaluation 評価, a ticked choice) and
    further tables of texts (their block of text cells), as the reader recorded their cells
    (`Measure.cells`: `<name>_block` or `<name>`). The old text
    of the last block (今後の方針: what this year is checked against) is also shown as a note
    on the first block's cell. `skip`: keys the kind empties itself."""
    moves = moves or Moves()
    keys = book.rollforward.get("history") or []
    keys = [keys] if isinstance(keys, str) else list(keys)
    edition = FiscalYear(to - 1).short + "年度版"
    found = []
    for key in keys:
        if key in skip:
            continue
        ref = m.cells.get(f"{key}_block") or m.cells.get(key)
        if not ref:
            continue
        sheet, rng = _ref(m, ref)
        cells = snap.get(sheet, {})
        formulas = formula_cells(cells)
        if ":" in rng:
            a, b = rng.split(":")
            (c1, r1), (c2, r2) = split_cell(a), split_cell(b)
            addrs = [x for x in block_cells(cells, range(r1, r2 + 1), range(col_index(c1), col_index(c2) + 1))
                     if x not in formulas]
        else:
            addrs = [rng] if raw(cells, rng)[0] not in (None, "") and rng not in formulas else []
        home = addrs[0] if addrs else (_ref(m, m.cells[key])[1] if m.cells.get(key) else None)
        if home is None or (done is not None and (sheet, home) in done):
            continue
        if done is not None:
            done.add((sheet, home))
        texts = m.texts_of(key)
        label = next((t.label for t in texts if t.label), None) or \
            next((e.label for e in m.evaluations if e.key == key and e.label), None) or key
        found.append((sheet, label, home, addrs, "\n".join(str(cells[a][0]) for a in addrs)))
    if not found:
        return
    name = name if name is not None else (m.measure.name if m.measure else (m.title or ""))
    for sheet, label, _home, addrs, text in found:
        plan.history.setdefault(CHECK_HISTORY_SHEET, []).append(
            (edition, sheet, m.number or "", name, label, text, ",".join(addrs)))
    last = found[-1]
    for i, (sheet, _label, home, addrs, _) in enumerate(found):
        for addr in addrs or [home]:
            comment = None
            if i == 0 and addr == home and len(found) > 1 and last[4]:
                comment = f"前年度（{edition}）の{last[1]}:\n{last[4]}"
            plan.edits.append(Edit(sheet, moves(sheet, addr), None,
                                   f"{FiscalYear(to).short}年度版の評価欄を空けました（前の文は「{CHECK_HISTORY_SHEET}」シートへ）",
                                   shade=addr == home, comment=comment))
    plan.history_headers.setdefault(CHECK_HISTORY_SHEET, (TEXT_HISTORY_HEADERS, TEXT_HISTORY_WIDTHS))


# --- amounts archived to 過年度実績 ------------------------------------------------------

PAST_HEADERS = ("年度版", "シート", "名称", "項目", "年度", "区分", "値", "元のセル")
PAST_WIDTHS = (9, 10, 18, 26, 11, 9, 12, 9)


def figure(cells: dict, addr: str | None) -> Any:
    """A cell's value for a list sheet: a number as a Figure with its number format."""
    v, f = raw(cells, addr)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return v
    if f and f not in (GENERAL, "@"):
        return Figure(v, f)
    return Figure(v, "#,##0" if float(v).is_integer() else "#,##0.0##")


def archive(plan: Plan, m: Measure, cells: dict, to: int, what: str, addr: str,
            fiscal_year: int | None, kind: str | None) -> None:
    """One cell's old value to `過年度実績` (the generic kinds' columns)."""
    name = m.measure.name if m.measure else (m.title or "")
    plan.history.setdefault(PAST_YEARS_SHEET, []).append((
        FiscalYear(to - 1).short + "年度版", m.sheet, name, what,
        FiscalYear(fiscal_year).kanji if fiscal_year else "（見出しに年度なし）", kind or "",
        figure(cells, addr), addr))
    plan.history_headers.setdefault(PAST_YEARS_SHEET, (PAST_HEADERS, PAST_WIDTHS))


# --- year tables recorded by the reader (Measure.tables) ---------------------------------

SETTLED = re.compile(r"actual|settled|決算|実績")


def tables_of(m: Measure) -> dict[str, dict]:
    """The tables with year columns or year rows the reader recorded on the measure
    (`Measure.tables`, see docs/layouts.md): name → geometry."""
    return dict(getattr(m, "tables", None) or {})


def _years(d: dict | None) -> dict[int, Any]:
    return {int(k): v for k, v in (d or {}).items()}


def plan_year_tables(plan: Plan, book: Book, m: Measure, snap: dict, to: int,
                     moves: Moves | None = None) -> None:
    """Every year-columned table recorded in `Measure.tables` other than the KPI table (a
    cost block, project amounts, per-year texts) closes the year `to - 1` the same way:

    - its header cells read like the previous year's (`R3年度\n予算額` → `R3年度\n決算額`);
    - when that year was not settled yet (its role is a budget or plan: 予算額, 計画), its
      values go to `過年度実績` (year, kind, value with its number format) and its cells are
      emptied for the settled amounts; settled values are kept;
    - its empty cells are shaded input cells with the number format of the year before;
    - the new year's column (`to`), when the table has one, gets its empty cells shaded;
    - formula cells (人件費 = 人工 × 平均職員費, 総事業費, 一般財源 …) are never touched.
    Tables whose years are rows are left as they are."""
    moves = moves or Moves()
    fy = to - 1
    short = FiscalYear(fy).short
    kinds = m.cost.year_kinds if m.cost else {}
    for name, t in tables_of(m).items():
        if t.get("holds") == "kpis" or t.get("years", "columns") != "columns":
            continue
        sheet = t.get("sheet") or m.sheet
        cells = snap.get(sheet, {})
        formulas = formula_cells(cells)
        cols = _years(t.get("year_columns"))
        roles = _years(t.get("year_roles"))
        first, last = t.get("first_row"), t.get("last_row")
        if not cols or first is None or last is None:
            continue
        if fy not in cols:
            plan.findings.append(Finding(
                Severity.WARNING, "table-not-rolled",
                f"表「{name}」に{short}年度の列がないため、この表は繰り越していません", book.path, sheet))
            continue
        col = cols[fy]
        before = sorted((y for y in cols if y < fy), reverse=True)
        prev_col = cols[before[0]] if before else None
        role = str(roles.get(fy) or kinds.get(fy) or "")
        settled = bool(SETTLED.search(role)) or not role
        kind = str(_years(t.get("year_kinds")).get(fy) or kinds.get(fy) or role)
        header = t.get("header_row")
        rows = range(header, first) if header else range(0)
        if prev_col:
            relabel_like(plan, sheet, cells, rows, col, [cols[y] for y in before], fy,
                         f"表「{name}」の{short}年度を前年度と同じ区分の列に", moves)
        what = "金額" if t.get("holds") in ("cost", "projects") else "内容"
        for r in range(first, last + 1):
            addr = f"{col}{r}"
            like = [f"{cols[y]}{r}" for y in before]
            if addr in formulas or any(a in formulas for a in like):  # a computed line
                continue
            v, f = raw(cells, addr)
            fmt = like_format(cells, like) if (f or GENERAL) == GENERAL else None
            if v not in (None, "") and not settled:
                name_col = (t.get("columns") or {}).get("name") if t.get("holds") == "projects" else None
                own = raw(cells, f"{name_col}{r}")[0] if name_col else None
                label = (own.strip() if isinstance(own, str) and own.strip() else None) or \
                    _row_label(cells, r, col) or f"{r}行"
                archive(plan, m, cells, to, label, addr, fy, kind)
                plan.edits.append(Edit(sheet, moves(sheet, addr), None,
                                       f"{short}年度の{what}の入力欄（{kind}は「{PAST_YEARS_SHEET}」シートへ）",
                                       number_format=fmt, shade=True))
            elif v in (None, ""):
                plan.edits.append(Edit(sheet, moves(sheet, addr), None, f"{short}年度の{what}の入力欄（表「{name}」）",
                                       number_format=fmt, shade=True))
        if prev_col:  # last year's input cells, filled: no longer shaded
            for r in range(first, last + 1):
                addr = f"{prev_col}{r}"
                v = raw(cells, addr)[0]
                if addr in formulas or v in (None, ""):
                    continue
                plan.edits.append(Edit(sheet, moves(sheet, addr), v,
                                       f"{FiscalYear(before[0]).short}年度の{what}は入力済みのため入力欄の網掛けを外しました",
                                       unshade_like=moves(sheet, f"{cols[before[1]] if len(before) > 1 else prev_col}{r}")))
        if to in cols:
            nxt = cols[to]
            for r in range(first, last + 1):
                addr = f"{nxt}{r}"
                v, f = raw(cells, addr)
                if addr in formulas or v not in (None, "") or any(
                        f"{cols[y]}{r}" in formulas for y in cols if y < to):
                    continue
                fmt = like_format(cells, [f"{col}{r}", *(f"{cols[y]}{r}" for y in before)]) \
                    if (f or GENERAL) == GENERAL else None
                plan.edits.append(Edit(sheet, moves(sheet, addr), None,
                                       f"{FiscalYear(to).short}年度の{what}の入力欄（表「{name}」）",
                                       number_format=fmt, shade=True))


def plan_text_columns(plan: Plan, m: Measure, snap: dict, reported: int, moves: Moves | None = None) -> None:
    """The KPI tables' per-year text columns (実績の説明, 備考 by year: `text_columns` of
    `Measure.tables`): the closed year's cells of each KPI are shaded input cells."""
    short = FiscalYear(reported).short
    moves = moves or Moves()
    for t in tables_of(m).values():
        if t.get("holds") != "kpis" or not t.get("text_columns"):
            continue
        sheet = t.get("sheet") or m.sheet
        cells = snap.get(sheet, {})
        if t.get("years") == "rows":
            row = _years(t.get("year_rows")).get(reported)
            rows = [row] if row else []
        else:
            first, last = t.get("first_row"), t.get("last_row")
            rows = sorted({_actual_row_of(m, k) for k in m.kpis
                           if _actual_sheet_of(m, k) == sheet and first <= _actual_row_of(m, k) <= last})
        head = t.get("header_row")
        for key, by_year in t["text_columns"].items():
            col = _years(by_year).get(reported)
            label = raw(cells, f"{col}{head}")[0] if col and head else None
            label = " ".join(label.split()) if isinstance(label, str) and label.strip() else key
            for r in rows if col else []:
                addr = f"{col}{r}"
                v = raw(cells, addr)[0]
                if addr in formula_cells(cells) or v not in (None, ""):
                    continue
                plan.edits.append(Edit(sheet, moves(sheet, addr), None, f"{short}年度の「{label}」の入力欄", shade=True))


def plan_yearless_marks(plan: Plan, m: Measure, snap: dict, to: int, moves: Moves | None = None) -> None:
    """A KPI table's 達成率 / 評価 column without a year of its own (the reader gives it to
    the year the edition reports): in the next edition it belongs to the next year, so each
    typed mark goes to `過年度実績` with its year and its cell becomes an empty input cell.
    The city's formulas stay."""
    moves = moves or Moves()
    for t in tables_of(m).values():
        if t.get("holds") != "kpis":
            continue
        sheet = t.get("sheet") or m.sheet
        cells = snap.get(sheet, {})
        formulas = formula_cells(cells)
        yearless = {col: key for key, col in (t.get("columns") or {}).items() if key in ("grade", "achievement")}
        for k in m.kpis:
            for attr, what in (("grades", "評価"), ("achievements", "達成率")):
                for q in getattr(k, attr):
                    if not q.cell:
                        continue
                    where, a1 = _ref(m, q.cell)
                    if where != sheet or split_cell(a1)[0] not in yearless or a1 in formulas:
                        continue
                    if raw(cells, a1)[0] not in (None, ""):
                        archive(plan, m, cells, to, f"{k.name}（{what}）", a1, q.fiscal_year, what)
                    short = FiscalYear(to - 1).short
                    plan.edits.append(Edit(sheet, moves(sheet, a1), None,
                                           f"{short}年度の{what}の入力欄（指標「{k.name}」）", shade=True))


def _actual_row_of(m: Measure, k) -> int:
    q = next((q for q in k.actuals if q.cell), None)
    return split_cell(_ref(m, q.cell)[1])[1] if q is not None else (k.row or 0)


def _actual_sheet_of(m: Measure, k) -> str:
    q = next((q for q in k.actuals if q.cell), None)
    return _ref(m, q.cell)[0] if q is not None else (k.sheet or m.sheet)


def _row_label(cells: dict, r: int, before_col: str) -> str | None:
    """The text nearest to the left of a table cell in its row (the line's label)."""
    for c in range(col_index(before_col) - 1, 0, -1):
        v = raw(cells, f"{col_letters(c)}{r}")[0]
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None

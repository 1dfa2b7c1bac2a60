"""Kind `sheet`: one measure per worksheet (fields, one KPI table whose years are columns,
text blocks) — read by the generic engine; rolled forward one year column at a time.

Roll-forward (R3 → R4): the year that was being planned (R3) becomes the reported year: its
header reads like the previous reported one (`R3年度\n(実績値)`, when the headers say which
years are reported) and each KPI's actual cell (its own row, or its 実績値 row when the
table's rows say 目標値 / 実績値) becomes a shaded input cell (its value kept, the number
format of the KPI's earlier actuals). Every other KPI cell is untouched; last year's input
cells lose their shading once filled, and are warned about and shaded again while empty.
The Check text blocks (`check_analysis`, `check_next`) are emptied and shaded for the new
year; the old texts go to the sheet `前年度評価` (one row per sheet, with the cells they
came from), and the old action text is also shown as a note on the new check cell: it is
what this year is checked against. The KPI table's cost column (事業費, no year of its own)
is the closed year's: its header names R3, its old values go to `過年度実績`, its cells
become input. A title or 評価年度 naming the edition names the new one; the other year
tables of `Measure.tables` (a cost block, project amounts) close R3 as
`xlsgen.kinds.roll.plan_year_tables` says. `--extend-to` inserts year columns when the
plan's target year is reached.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from xlsgen.errors import XlsgenError
from xlsgen.formulas import col_index, col_letters
from xlsgen.kinds.roll import (
    GENERAL,
    TEXT_HISTORY_HEADERS,
    TEXT_HISTORY_WIDTHS,
    Moves,
    archive,
    block_cells,
    formula_cells,
    input_edit,
    like_format,
    plan_text_columns,
    plan_text_history,
    plan_title_year,
    plan_year_tables,
    plan_yearless_marks,
    rewrite_heisei,
    shift_col,
    split_cell,
    year_label_like,
)
from xlsgen.kinds.window import plan_window, plan_window_title
from xlsgen.layout.engine import read_generic, read_sheet_record
from xlsgen.model import CHECK_HISTORY_SHEET as CHECK_SHEET
from xlsgen.model import Book, Edit, Finding, Measure, Plan, Severity, Snapshot
from xlsgen.wareki import FiscalYear, find_years

NAME = "sheet"
# what a book whose year columns move on by one every edition needs (R1 R2 R3 → R2 R3 R4)
WINDOW_HINT = ("年度の列が毎年1年ずつずれる様式（直近3か年、計画期間R5～R7 → R6～R8）なら、"
               "様式ファイルの rollforward に window: true を書くと列の年度を1年進めて繰り越します")


def read(path, wb, spec, roles, trace) -> Book:
    grids = [(g, roles[g.name]) for g in wb.grids() if g.name in roles]
    return read_generic(path, grids, spec, trace, read_sheet_record)


def rules(book: Book) -> Iterator[Finding]:
    return iter(())


def plan_roll(book: Book, snap: Snapshot, to: int, extend_to: int | None) -> Plan:
    plan = Plan()
    plan.history_headers = {CHECK_SHEET: (TEXT_HISTORY_HEADERS, TEXT_HISTORY_WIDTHS)}
    done: set = set()  # cells already planned (measures stacked on one sheet share its title)
    texts: set = set()
    for m in book.measures:
        moves = Moves()
        if book.rollforward.get("window"):  # a rolling window of years: every year moves on
            plan_window(plan, book, m, snap, to, done)
            plan_window_title(plan, book, m, snap, done)
            _plan_check(plan, book, m, snap.get(m.sheet, {}), to, 0, 0)
        else:
            moves = _plan_sheet(plan, book, m, snap, to, extend_to)
        # the rest of `rollforward.history` (evaluations, ticked choices, text tables)
        plan_text_history(plan, book, m, snap, to, moves, texts, skip=CHECK_KEYS)
        plan_yearless_marks(plan, m, snap, to, moves)
    return plan


# the Check blocks this kind empties itself (`_plan_check`)
CHECK_KEYS = ("check_analysis", "check_next")


def _plan_sheet(plan: Plan, book: Book, s: Measure, snap: Snapshot, to: int,
                extend_to: int | None) -> Moves:
    cells = snap.get(s.sheet, {})
    reported = to - 1
    short = FiscalYear(reported).short
    hr = s.kpi_header_row
    if hr is None or not s.year_columns:
        raise XlsgenError(f"シート「{s.sheet}」に指標表の年度の列がないため繰り越せません", book.path)
    cols = dict(s.year_columns)
    roles = (s.tables.get("kpi") or {}).get("role_columns") or {}
    if roles and not roles.get("actual") and not any(k.actuals for k in s.kpis):
        raise XlsgenError(f"シート「{s.sheet}」の指標表には実績値の列がないため（年度の列は{'・'.join(sorted(roles))}"
                          f"の列です）、実績値の入力欄を作れません。{WINDOW_HINT}", book.path)
    at, n = 0, 0
    if s.target_year is not None and reported >= s.target_year:
        if extend_to is None:
            raise XlsgenError(
                f"シート「{s.sheet}」: {FiscalYear(reported).kanji}は計画の目標年度"
                f"（{FiscalYear(s.target_year).kanji}）に達しているため、実績値を書く列がありません。"
                f"計画を延長する場合は --extend-to で新しい目標年度を指定してください", book.path)
        if extend_to <= reported:
            raise XlsgenError(f"--extend-to {FiscalYear(extend_to).short} は繰り越し後の実績年度"
                              f"（{short}）より後でなければなりません", book.path)
        at, n = col_index(cols[s.target_year]), extend_to - s.target_year
        _plan_extend(plan, s, cells, cols, at, n, extend_to)
    if reported not in cols or reported == s.baseline_year:
        raise XlsgenError(f"シート「{s.sheet}」に{FiscalYear(reported).kanji}の列がないため繰り越せません。"
                          f"{WINDOW_HINT}", book.path)
    col = cols[reported]
    original = col if s.year_columns.get(reported) == col and reported != s.target_year else None
    marked = s.extra.get("reported_years") or []  # years whose header says 実績値
    prev = max(marked) if marked else max((fy for fy in s.year_columns if fy < reported), default=0)
    prev_col = s.year_columns.get(prev)

    for fy, c in sorted(s.year_columns.items()):  # era labels past 平成31
        text = cells.get(f"{c}{hr}", (None, ""))[0]
        new = rewrite_heisei(text) if isinstance(text, str) else None
        if new and fy != reported and not (n and fy == s.target_year):
            plan.edits.append(Edit(s.sheet, f"{shift_col(c, at, n)}{hr}", new,
                                   "平成32年度以降の表記を令和に書き換え"))
    header = cells.get(f"{original}{hr}", (None, ""))[0] if original else None
    like = cells.get(f"{prev_col}{hr}", (None, ""))[0] if prev_col and marked else None
    label = year_label_like(like, reported) if isinstance(like, str) else f"{short}年度\n(実績値)"
    if (marked or not original) and label != header:  # headers that say which years are reported
        plan.edits.append(Edit(s.sheet, f"{col}{hr}", label, f"{short}年度を実績値の列にしました"))
    before = [c for fy, c in sorted(s.year_columns.items()) if fy < prev]
    for k in s.kpis:
        row = _actual_row(k)
        value = cells.get(f"{original}{row}", (None, None))[0] if original else None
        q = k.actual(reported) if original else None
        if f"{original}{row}" in formula_cells(cells):
            continue
        need = value in (None, "") or bool(q is not None and q.status)
        fmt = like_format(cells, [f"{c}{row}" for c in reversed([*before, prev_col]) if c]) \
            if need and cells.get(f"{original}{row}", (None, GENERAL))[1] in (None, GENERAL) else None
        plan.edits.append(Edit(s.sheet, f"{col}{row}", value,
                               f"{short}年度の実績値の入力欄（指標「{k.name}」）",
                               number_format=fmt, shade=need))
        p = k.actual(prev) if prev else None
        if p is not None and not p.is_empty and before:
            plan.edits.append(Edit(s.sheet, f"{shift_col(split_cell(p.cell)[0], at, n)}{row}",
                                   cells.get(p.cell, (None, None))[0],
                                   f"{FiscalYear(prev).short}年度の実績値は入力済みのため入力欄の網掛けを外しました",
                                   unshade_like=f"{shift_col(before[-1], at, n)}{row}"))
        if p is not None and p.is_empty:
            here = f"{shift_col(split_cell(p.cell)[0], at, n)}{row}"
            plan.findings.append(Finding(
                Severity.WARNING, "missing-actual",
                f"{FiscalYear(prev).short}年度の実績値が空です（指標「{k.name}」）",
                book.path, s.sheet, here))
            e = input_edit(s.sheet, p.cell, cells, [f"{c}{row}" for c in reversed(before)],
                           f"{FiscalYear(prev).short}年度の実績値（未入力）の入力欄（指標「{k.name}」）", p)
            if e is not None:  # the cell the warning asks for is shaded as an input cell
                plan.edits.append(Edit(s.sheet, here, e.value, e.reason, e.number_format, e.shade))
    _plan_cost(plan, s, cells, to, hr, at, n)
    _plan_check(plan, book, s, cells, to, at, n)
    moves = Moves()
    if n:
        moves.add(s.sheet, at, n)
    plan_title_year(plan, book, s, snap, to, moves=moves)
    plan_year_tables(plan, book, s, snap, to, moves)
    plan_text_columns(plan, s, snap, reported, moves)
    return moves


def _plan_cost(plan: Plan, s: Measure, cells: dict, to: int, hr: int, at: int, n: int) -> None:
    """The KPI table's cost column (事業費(千円), one value per KPI, no year of its own) is
    the cost of the year closed: its header names that year (`事業費(千円)\n(R3年度)`), the
    old values go to `過年度実績` (with the year the header named, if any) and its cells
    become shaded input cells for the new year's amounts."""
    costs = [(k, k.cost) for k in s.kpis if k.cost is not None and k.cost.cell]
    if not costs:
        return
    fy = to - 1
    short = FiscalYear(fy).short
    col = split_cell(costs[0][1].cell)[0]
    where = shift_col(col, at, n)
    head = cells.get(f"{col}{hr}", (None, ""))[0]
    text = head if isinstance(head, str) else ""
    named = find_years(text)
    old_year = named[0][0].year if named else None
    one_line = re.sub(r"\s*\n\s*", "", text) or "事業費"
    label = year_label_like(text, fy) if named else f"{one_line}\n({short}年度)"
    if label != head:
        plan.edits.append(Edit(s.sheet, f"{where}{hr}", label, f"事業費の列を{short}年度の事業費に（年度を見出しに）"))
    what = re.sub(r"\s+", "", re.sub(r"[(（]?[RHS令平]\S*年度[)）]?", "", text)) or "事業費"
    formulas = formula_cells(cells)
    for k, q in costs:
        if q.cell in formulas:
            continue
        v, f = cells.get(q.cell, (None, GENERAL))
        if v not in (None, ""):
            archive(plan, s, cells, to, f"{k.name}: {what}", q.cell, old_year, None)
        fmt = like_format(cells, [q.cell, *(c.cell for _, c in costs if c.cell)])
        plan.edits.append(Edit(s.sheet, f"{where}{split_cell(q.cell)[1]}", None,
                               f"{short}年度の事業費の入力欄（指標「{k.name}」）",
                               number_format=fmt if (f or GENERAL) == GENERAL else None, shade=True))


def _actual_row(k) -> int:
    """The row of a KPI's actuals: its own row, or its 実績値 row (a table whose rows say
    目標値 / 実績値)."""
    q = next((q for q in k.actuals if q.cell), None)
    return split_cell(q.cell)[1] if q is not None else k.row


def _plan_extend(plan: Plan, s: Measure, cells: dict, cols: dict, at: int, n: int,
                 extend_to: int) -> None:
    """--extend-to: insert plain year columns before the target column, which moves on to
    the new target year with its values kept (for the clerk to review)."""
    hr = s.kpi_header_row
    target_col = cols[s.target_year]
    plan.insert_cols.append((s.sheet, at, n))
    like = cells.get(f"{cols[max(y for y in cols if y < s.target_year)]}{hr}", (None, ""))[0]
    plain = re.sub(r"\s*[(（].*[)）]\s*$", "", like or "", flags=re.S) or "R1年度"
    for i in range(n):
        fy = s.target_year + i
        new_col = col_letters(at + i)
        plan.edits.append(Edit(s.sheet, f"{new_col}{hr}", year_label_like(plain, fy),
                               f"計画延長（--extend-to）: {FiscalYear(fy).short}年度の列を追加"))
        cols[fy] = new_col
    new_target = col_letters(at + n)
    old = cells.get(f"{target_col}{hr}", (None, ""))[0] or ""
    plan.edits.append(Edit(s.sheet, f"{new_target}{hr}", year_label_like(old, extend_to),
                           f"計画延長: 目標年度を{FiscalYear(s.target_year).short}から"
                           f"{FiscalYear(extend_to).short}に変更（目標値は据え置き、見直してください）"))


def _plan_check(plan: Plan, book: Book, s: Measure, cells: dict, to: int,
                at: int, n: int) -> None:
    """Empty the Check blocks the reader recorded (`cells["check_*_block"]`)."""
    blocks = {}
    for key in ("check_analysis", "check_next"):
        rng = s.cells.get(f"{key}_block")
        if rng is None:
            continue
        if "!" in rng:  # on another sheet of a record grouped over several sheets
            raise XlsgenError(f"シート「{s.sheet}」の評価欄が続きのシート（{rng.rsplit('!', 1)[0]}）に"
                              "あるため、この様式はまだ繰り越せません", book.path)
        a, b = rng.split(":")
        (c1, r1), (c2, r2) = split_cell(a), split_cell(b)
        blocks[key] = block_cells(cells, range(r1, r2 + 1), range(col_index(c1), col_index(c2) + 1))
    if not blocks:
        return
    edition = FiscalYear(to - 1).short
    texts = {key: "\n".join(str(cells[a][0]) for a in addrs) for key, addrs in blocks.items()}
    for key, addrs in blocks.items():  # one row per block, as every kind writes 前年度評価
        label = next((t.label for t in s.texts_of(key) if t.label), None) or key
        plan.history.setdefault(CHECK_SHEET, []).append((
            f"{edition}年度版", s.sheet, s.number or "", s.measure.name if s.measure else "",
            " ".join(label.split()), texts[key], ",".join(addrs)))
    for key, addrs in blocks.items():
        home = addrs[0] if addrs else s.cells.get(key)
        for addr in addrs or ([home] if home else []):
            c, r = split_cell(addr)
            comment = None
            if key == "check_analysis" and addr == home and texts.get("check_next"):
                comment = f"前年度（{edition}年度版）の今後の取組:\n{texts['check_next']}"
            plan.edits.append(Edit(
                s.sheet, f"{shift_col(c, at, n)}{r}", None,
                f"{FiscalYear(to).short}年度版の評価欄を空けました（前の文は「{CHECK_SHEET}」シートへ）",
                shade=addr == home, comment=comment))

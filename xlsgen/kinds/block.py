"""Kind `block`: KPI blocks stacked on a measure sheet, each with fields above a small table
— read by the generic engine. The table's years are rows (年度 | 目標値 | 実績値 | 達成率 |
評価) or columns (one KPI per sheet: 区分 | 従前値 | H27年度 … | 目標値, a row per role).

Roll-forward (edition R4 → R5, the year closed is R4), planned from the cells the reader
recorded (each KPI's per-year quantities and their cells):

- each KPI's R4 actual cell becomes an input cell: its value kept, shaded while empty (or
  still a status such as 集計中), with the number format of the KPI's earlier actuals; the
  year's own text (実績の説明) is shaded with it. The R3 actual, filled, loses its shading;
  still empty, it is warned about (`missing-actual`). Targets, 達成率 and 評価 — the city's
  own values and formulas — are not touched;
- a title naming the edition's year (`令和4年度 施策の進捗評価シート`) names the new one;
- the text blocks named in `rollforward.history` are emptied for the new year; their old
  text goes to `前年度評価` (one row per block, with its cells) and the last one is shown as
  a note on the first (what this year is checked against);
- other year-columned tables recorded in `Measure.tables` (a cost block) close R4 the same
  way (`xlsgen.kinds.roll.plan_year_tables`).

A block without the closed year's row is refused (rows cannot be added; add the row in
Excel). A block whose years are columns and has no column for it is refused too, unless
`--extend-to FY` is given: year columns are then added after the last one, up to FY (at
least the closed year), with headers like the last one's.
"""

from __future__ import annotations

from collections.abc import Iterator

from xlsgen.errors import XlsgenError
from xlsgen.formulas import col_index, col_letters
from xlsgen.kinds.roll import (
    Moves,
    dedupe,
    formula_cells,
    like_format,
    plan_actual_inputs,
    plan_text_columns,
    plan_text_history,
    plan_title_year,
    plan_year_tables,
    raw,
    split_cell,
    year_label_like,
)
from xlsgen.layout.engine import read_block_record, read_generic
from xlsgen.model import Book, Edit, Finding, Kpi, Measure, Plan, Severity, Snapshot, split_ref
from xlsgen.wareki import FiscalYear, find_years

NAME = "block"


def read(path, wb, spec, roles, trace) -> Book:
    grids = [(g, roles[g.name]) for g in wb.grids() if g.name in roles]
    return read_generic(path, grids, spec, trace, read_block_record)


def rules(book: Book) -> Iterator[Finding]:
    return iter(())


def years_are_columns(k: Kpi) -> bool:
    """The KPI's table runs its years across columns (its actuals share one row)."""
    qs = k.actuals or [k.baseline, *k.estimates, *k.targets, k.target]  # a plan's table: its targets
    cells = [split_cell(split_ref(q.cell)[1]) for q in qs if q.cell]
    return len({r for _, r in cells}) == 1 and len({c for c, _ in cells}) > 1


def plan_roll(book: Book, snap: Snapshot, to: int, extend_to: int | None) -> Plan:
    plan = Plan()
    reported = to - 1
    titles: set = set()
    moves = Moves()
    for m in book.measures:
        for k in m.kpis:  # a plan's table (目標値・見込値 by year): nowhere to put the year's actual
            if not k.actuals:
                raise XlsgenError(f"シート「{m.sheet}」の指標「{k.name}」の表には実績値の列も行もないため"
                                  "（年度の列は基準値・目標値・見込値です）、実績値の入力欄を作れません。この様式"
                                  "（record: block）は年度の列をずらす繰り越しに対応していません。1シートに"
                                  "事業が縦に並ぶ様式は record: sheet と stacked: で読み、rollforward に "
                                  "window: true を書いてください", book.path)
        _plan_columns(plan, book, m, snap.get(m.sheet, {}), reported, extend_to, moves)
        for k in m.kpis:
            if not years_are_columns(k) and k.actual(reported) is None:
                raise _no_year(book, m, k, reported, "行", extend_to,
                               "年度が行の表には行を足せないため、Excel で行を加えてから繰り越してください")
        plan_actual_inputs(plan, book, m, snap, reported, moves=moves)
        plan_title_year(plan, book, m, snap, to, titles, moves)
        plan_text_history(plan, book, m, snap, to, moves)
        plan_year_tables(plan, book, m, snap, to, moves)
        plan_text_columns(plan, m, snap, reported, moves)
    return dedupe(plan)


def _no_year(book: Book, m: Measure, k: Kpi, fy: int, what: str, extend_to, how: str) -> XlsgenError:
    extra = "（--extend-to で加えられるのは年度が列の表の列だけです）" if extend_to is not None and what == "行" else ""
    return XlsgenError(f"シート「{m.sheet}」の指標「{k.name}」の表に{FiscalYear(fy).short}年度の{what}がないため"
                       f"繰り越せません。{how}{extra}", book.path)


def _plan_columns(plan: Plan, book: Book, m: Measure, cells: dict, reported: int,
                  extend_to: int | None, moves: Moves) -> None:
    """Blocks whose years are columns and have no column for the closed year: with
    --extend-to, year columns are inserted after the last one (every block of the sheet
    must end its years in the same column); `moves` learns where cells go."""
    short = FiscalYear(reported).short
    missing = [k for k in m.kpis if years_are_columns(k) and k.actual(reported) is None]
    if not missing:
        return
    k0 = missing[0]
    if extend_to is None:
        raise _no_year(book, m, k0, reported, "列", None,
                       f"列を加える場合は --extend-to {short}（またはそれ以降の年度）を指定してください")
    if extend_to < reported:
        raise XlsgenError(f"--extend-to {FiscalYear(extend_to).short} は繰り越しで閉じる年度（{short}）"
                          "以降でなければなりません", book.path)
    lasts = set()
    for k in missing:
        last = max(q.fiscal_year for q in k.actuals if q.cell and q.fiscal_year)
        sheet, a1 = split_ref(k.actual(last).cell, m.sheet)
        if (sheet or m.sheet) != m.sheet:
            raise XlsgenError(f"シート「{sheet}」の指標「{k.name}」の表には列を加えられません"
                              "（Excel で年度の列を加えてから繰り越してください）", book.path)
        lasts.add((last, split_cell(a1)[0]))
    if len(lasts) != 1:
        raise XlsgenError(f"シート「{m.sheet}」の指標の表ごとに最後の年度の列が違うため、列を加えられません"
                          "（Excel で年度の列を加えてから繰り越してください）", book.path)
    last, last_col = lasts.pop()
    at = col_index(last_col) + 1
    years = list(range(last + 1, max(extend_to, reported) + 1))
    n = len(years)
    plan.insert_cols.append((m.sheet, at, n))
    moves.add(m.sheet, at, n)
    heads = set()
    formulas = formula_cells(cells)
    for k in missing:
        head = _header_row(cells, k, last_col, last)
        role_cells = [q.cell for qs in (k.targets, k.actuals, k.achievements, k.grades)
                      for q in qs if q.cell and q.fiscal_year == last]
        for i, fy in enumerate(years):
            col = col_letters(at + i)
            if head and head not in heads:
                text = raw(cells, f"{last_col}{head}")[0]
                plan.edits.append(Edit(m.sheet, f"{col}{head}", year_label_like(str(text), fy),
                                       f"--extend-to: {FiscalYear(fy).short}年度の列を追加"))
            for addr in role_cells:
                r = split_cell(addr)[1]
                fmt = like_format(cells, [addr])
                is_actual = any(q.cell == addr for q in k.actuals)
                if addr in formulas or not (is_actual or fmt):
                    continue
                shade = is_actual and fy == reported
                reason = (f"{FiscalYear(fy).short}年度の実績値の入力欄（列を追加）（指標「{k.name}」）" if shade
                          else f"--extend-to: {FiscalYear(fy).short}年度の列を追加（指標「{k.name}」）")
                plan.edits.append(Edit(m.sheet, f"{col}{r}", None, reason, number_format=fmt, shade=shade))
        heads.add(head)
    plan.findings.append(Finding(
        Severity.WARNING, "columns-added",
        f"{'・'.join(FiscalYear(y).short for y in years)}年度の列を{col_letters(at)}列から加えました"
        "（目標値・達成率の数式は加えていません。必要なら入力してください）", book.path, m.sheet, f"{col_letters(at)}1"))


def _header_row(cells: dict, k: Kpi, col: str, fy: int) -> int | None:
    """The row above the KPI's values whose cell in `col` names the year `fy`."""
    rows = [split_cell(split_ref(q.cell)[1])[1] for q in k.actuals if q.cell]
    for r in range(min(rows) - 1, max(k.row or 1, 1) - 1, -1):
        v = raw(cells, f"{col}{r}")[0]
        if isinstance(v, str) and any(y.year == fy for y, _ in find_years(v)):
            return r
    return None

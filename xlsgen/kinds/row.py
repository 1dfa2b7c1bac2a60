"""Kind `row`: one KPI per table row, grouped into measures by a column (`group_by`), each
row's project line from the columns `project_lines` names — read by the generic engine.

Roll-forward (edition R5 → R6, the year closed is R5), planned from the cells the reader
recorded (each KPI's per-year quantities and their cells), once per sheet:

- the R5 actual column becomes input: each KPI's cell keeps its value, is shaded while
  empty (or still a status such as 集計中) and takes the number format of the KPI's earlier
  actuals; its header cells read like the previous actual column's (`R5年度\\n(見込)` →
  `R5年度`, like `R4年度`). The R4 actuals, filled, lose their shading; still empty, they
  are warned about (`missing-actual`). Targets, and the city's own 達成度 and 評価 formulas,
  are not touched; a 達成度 / 評価 column without a year of its own belongs to the year the
  edition reports, so its typed marks go to `過年度実績` and its cells become input;
- when the table has no R5 actual column, the roll is refused — unless `--extend-to FY`
  is given: the columns of the last year (実績値 alone, or 目標値 and 実績値 under one year
  heading) are repeated after it for each year up to FY (at least R5), with their headers
  (the year named anew, merged headings merged again, a heading merged over all the year
  columns grown over the new ones) and number formats; the R5 cells are the input cells.
  Every reference to the columns on the right moves with them (`xlsgen.package.columns`);
- a title naming the edition's year names the new one; text blocks named in
  `rollforward.history` move to `前年度評価` as in the other kinds; other year-columned
  tables in `Measure.tables` close R5 the same way (`xlsgen.kinds.roll.plan_year_tables`).
"""

from __future__ import annotations

from collections import Counter
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
    plan_yearless_marks,
    raw,
    relabel_like,
    split_cell,
    tables_of,
    year_label_like,
)
from xlsgen.layout.engine import read_generic, read_row_records
from xlsgen.model import Book, Edit, Finding, Kpi, Measure, Plan, Severity, Snapshot, split_ref
from xlsgen.wareki import FiscalYear, find_years

NAME = "row"


def read(path, wb, spec, roles, trace) -> Book:
    grids = [(g, roles[g.name]) for g in wb.grids() if g.name in roles]
    return read_generic(path, grids, spec, trace, read_row_records)


def rules(book: Book) -> Iterator[Finding]:
    return iter(())


def plan_roll(book: Book, snap: Snapshot, to: int, extend_to: int | None) -> Plan:
    plan = Plan()
    by_sheet: dict[str, list[Measure]] = {}
    for m in book.measures:
        by_sheet.setdefault(m.sheet, []).append(m)
    titles: set = set()
    texts: set = set()
    moves = Moves()
    for sheet, ms in by_sheet.items():
        _plan_sheet(plan, book, sheet, ms, snap.get(sheet, {}), to, extend_to, moves)
        for m in ms:
            plan_actual_inputs(plan, book, m, snap, to - 1, moves=moves)
            plan_title_year(plan, book, m, snap, to, titles, moves)
            plan_text_history(plan, book, m, snap, to, moves, texts, name="")
            plan_year_tables(plan, book, m, snap, to, moves)
            plan_text_columns(plan, m, snap, to - 1, moves)
            plan_yearless_marks(plan, m, snap, to, moves)
    return dedupe(plan)


def _columns(kpis: list[Kpi], attr: str = "actuals") -> dict[int, str]:
    """Year → the column its quantities (`actuals`, `targets` …) are in (the most common)."""
    seen: dict[int, Counter] = {}
    for k in kpis:
        for q in getattr(k, attr):
            if q.cell and q.fiscal_year:
                seen.setdefault(q.fiscal_year, Counter())[split_cell(split_ref(q.cell)[1])[0]] += 1
    return {fy: c.most_common(1)[0][0] for fy, c in sorted(seen.items())}


def _plan_sheet(plan: Plan, book: Book, sheet: str, ms: list[Measure], cells: dict, to: int,
                extend_to: int | None, moves: Moves) -> None:
    """The actual column of the closed year: relabelled like the previous one, or inserted
    (--extend-to; `moves` learns where cells go)."""
    reported = to - 1
    short = FiscalYear(reported).short
    kpis = [k for m in ms for k in m.kpis]
    actual_cols = _columns(kpis)
    geometry = next((t for m in ms for t in tables_of(m).values()
                     if t.get("holds") == "kpis" and t.get("sheet") == sheet), {})
    first = geometry.get("first_row") or min((k.row for k in kpis if k.row), default=None)
    head = geometry.get("header_row") or min((m.kpi_header_row for m in ms if m.kpi_header_row), default=None)
    header_rows = range(head, first) if head and first else range(0)
    if not actual_cols:
        raise XlsgenError(f"シート「{sheet}」の指標の表に年度ごとの実績値の列がないため繰り越せません", book.path)
    if reported in actual_cols:
        before = [fy for fy in actual_cols if fy < reported]
        if before:
            relabel_like(plan, sheet, cells, header_rows, actual_cols[reported],
                         [actual_cols[y] for y in reversed(before)],
                         reported, f"{short}年度を実績値の列に（前年度の列と同じ見出し）")
        return
    last = max(actual_cols)
    if reported < last or reported < min(actual_cols):
        raise XlsgenError(f"シート「{sheet}」の指標の表に{short}年度の実績値の列がないため繰り越せません", book.path)
    if extend_to is None:
        raise XlsgenError(
            f"シート「{sheet}」の指標の表に{short}年度の実績値の列がないため繰り越せません。"
            f"列を加える場合は --extend-to {short}（またはそれ以降の年度）を指定してください", book.path)
    if extend_to < reported:
        raise XlsgenError(f"--extend-to {FiscalYear(extend_to).short} は繰り越しで閉じる年度（{short}）"
                          "以降でなければなりません", book.path)
    _extend(plan, book, sheet, kpis, cells, last, reported, extend_to, header_rows, moves,
            [t for m in ms for t in tables_of(m).values()])


def _extend(plan: Plan, book: Book, sheet: str, kpis: list[Kpi], cells: dict, last: int,
            reported: int, extend_to: int, header_rows: range, moves: Moves, tables: list[dict]) -> None:
    """Repeat the last year's columns for each year after it up to `extend_to`."""
    group = {}  # column letter → role of the last year's columns
    geometry = next((t for t in tables if t.get("holds") == "kpis" and t.get("sheet") == sheet), {})
    for role, by_year in (geometry.get("role_columns") or {}).items():
        if str(last) in by_year:
            group.setdefault(by_year[str(last)], role)
    for by_year in (geometry.get("text_columns") or {}).values():
        if str(last) in by_year:
            group.setdefault(by_year[str(last)], "text")
    if not group:  # a reader that records no geometry: the KPIs' own cells
        for attr, role in (("targets", "target"), ("actuals", "actual")):
            col = _columns(kpis, attr).get(last)
            if col is not None:
                group.setdefault(col, role)
    idx = sorted(col_index(c) for c in group)
    lo, hi = idx[0], idx[-1]
    if hi - lo + 1 != len(idx):
        raise XlsgenError(f"シート「{sheet}」の{FiscalYear(last).short}年度の列が離れているため、年度の列を加えられません"
                          "（Excel で列を加えてから繰り越してください）", book.path)
    years = list(range(last + 1, max(extend_to, reported) + 1))
    w = hi - lo + 1
    at, n = hi + 1, w * len(years)
    plan.insert_cols.append((sheet, at, n))
    moves.add(sheet, at, n)
    if header_rows:
        plan.column_groups.append((sheet, at, n, lo, hi, (header_rows.start, header_rows.stop - 1)))
    formulas = formula_cells(cells)
    for i, fy in enumerate(years):
        fshort = FiscalYear(fy).short
        for j in range(w):
            src, dst = col_letters(lo + j), col_letters(at + i * w + j)
            role = group.get(src)
            quantities = {"target": "targets", "actual": "actuals", "achievement": "achievements",
                          "grade": "grades"}.get(role)
            for r in header_rows:
                text = raw(cells, f"{src}{r}")[0]
                if isinstance(text, str) and text.strip():
                    new = year_label_like(text, fy) if any(y.year == last for y, _ in find_years(text)) else text
                    plan.edits.append(Edit(sheet, f"{dst}{r}", new, f"--extend-to: {fshort}年度の列を追加"))
            for k in kpis:
                if not k.row or f"{src}{k.row}" in formulas:
                    continue
                fmt = like_format(cells, [f"{src}{k.row}"] + [
                    q.cell for q in sorted(getattr(k, quantities) if quantities else [],
                                           key=lambda q: -(q.fiscal_year or 0)) if q.cell])
                shade = fy == reported and role in ("actual", "target")
                if not (shade or fmt):
                    continue
                what = {"actual": "実績値", "target": "目標値"}.get(role, "値")
                reason = (f"{fshort}年度の{what}の入力欄（列を追加）（指標「{k.name}」）" if shade
                          else f"--extend-to: {fshort}年度の列を追加（指標「{k.name}」）")
                plan.edits.append(Edit(sheet, f"{dst}{k.row}", None, reason, number_format=fmt, shade=shade))
    plan.findings.append(Finding(
        Severity.WARNING, "columns-added",
        f"{'・'.join(FiscalYear(y).short for y in years)}年度の列を{col_letters(at)}列から{n}列加えました"
        "（目標値・達成度の数式は加えていません。必要なら入力してください）", book.path, sheet,
        f"{col_letters(at)}{header_rows.start or 1}"))

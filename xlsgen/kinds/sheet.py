"""Kind `sheet`: one measure per worksheet (fields, one KPI table whose years are columns,
text blocks) — read by the generic engine; rolled forward one year column at a time.

Roll-forward (R3 → R4): the year that was being planned (R3) becomes the reported year: its
header reads like the previous reported one (`R3年度\\n(実績値)`) and its KPI cells become
shaded input cells (empty, with the number format of the previous actual). Every other KPI
cell is untouched. The Check text blocks the layout names in `rollforward.history` are
emptied and shaded for the new year; the old texts go to the sheet `前年度評価` (one row per
sheet, with the cells they came from), and the old action text is also shown as a comment
on the new check cell: it is what this year is checked against. `--extend-to` inserts year
columns when the plan's target year is reached.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from xlsgen.errors import XlsgenError
from xlsgen.formulas import col_index, col_letters
from xlsgen.kinds.roll import block_cells, rewrite_heisei, shift_col, split_cell, year_label_like
from xlsgen.layout.engine import read_generic, read_sheet_record
from xlsgen.model import CHECK_HISTORY_SHEET as CHECK_SHEET
from xlsgen.model import Book, Edit, Finding, Measure, Plan, Severity, Snapshot
from xlsgen.wareki import FiscalYear

NAME = "sheet"
# the columns of 前年度評価 (xlsgen's own history sheet) for this kind
CHECK_HEADERS = ("年度版", "シート", "シート№", "施策項目", "（１）現状分析", "元のセル",
                 "（２）今後の取組", "元のセル")
CHECK_WIDTHS = (10, 8, 8, 24, 60, 12, 60, 12)


def read(path, wb, spec, roles, trace) -> Book:
    grids = [(g, roles[g.name]) for g in wb.grids() if g.name in roles]
    return read_generic(path, grids, spec, trace, read_sheet_record)


def rules(book: Book) -> Iterator[Finding]:
    return iter(())


def plan_roll(book: Book, snap: Snapshot, to: int, extend_to: int | None) -> Plan:
    plan = Plan()
    for m in book.measures:
        _plan_sheet(plan, book, m, snap.get(m.sheet, {}), to, extend_to)
    plan.history_headers = {CHECK_SHEET: (CHECK_HEADERS, CHECK_WIDTHS)}
    return plan


def _plan_sheet(plan: Plan, book: Book, s: Measure, cells: dict, to: int,
                extend_to: int | None) -> None:
    reported = to - 1
    short = FiscalYear(reported).short
    hr = s.kpi_header_row
    if hr is None or not s.year_columns:
        raise XlsgenError(f"シート「{s.sheet}」に指標表の年度の列がないため繰り越せません", book.path)
    cols = dict(s.year_columns)
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
        raise XlsgenError(f"シート「{s.sheet}」に{FiscalYear(reported).kanji}の列がないため繰り越せません",
                          book.path)
    col = cols[reported]
    original = col if s.year_columns.get(reported) == col and reported != s.target_year else None
    prev = max(s.extra.get("reported_years") or [0])
    prev_col = s.year_columns.get(prev)

    for fy, c in sorted(s.year_columns.items()):  # era labels past 平成31
        text = cells.get(f"{c}{hr}", (None, ""))[0]
        new = rewrite_heisei(text) if isinstance(text, str) else None
        if new and fy != reported and not (n and fy == s.target_year):
            plan.edits.append(Edit(s.sheet, f"{shift_col(c, at, n)}{hr}", new,
                                   "平成32年度以降の表記を令和に書き換え"))
    header = cells.get(f"{original}{hr}", (None, ""))[0] if original else None
    like = cells.get(f"{prev_col}{hr}", (None, ""))[0] if prev_col else None
    label = year_label_like(like, reported) if isinstance(like, str) else f"{short}年度\n(実績値)"
    if label != header:
        plan.edits.append(Edit(s.sheet, f"{col}{hr}", label, f"{short}年度を実績値の列にしました"))
    for k in s.kpis:
        value = cells.get(f"{original}{k.row}", (None, None))[0] if original else None
        fmt = cells.get(f"{prev_col}{k.row}", (None, "General"))[1] if prev_col else "General"
        plan.edits.append(Edit(s.sheet, f"{col}{k.row}", value,
                               f"{short}年度の実績値の入力欄（指標「{k.name}」）",
                               number_format=fmt if value is None and fmt != "General" else None,
                               shade=value is None))
        p = k.actual(prev) if prev else None
        before = [c for fy, c in sorted(s.year_columns.items()) if fy < prev]
        if p is not None and not p.is_empty and before:
            plan.edits.append(Edit(s.sheet, p.cell, cells.get(p.cell, (None, None))[0],
                                   f"{FiscalYear(prev).short}年度の実績値は入力済みのため入力欄の網掛けを外しました",
                                   unshade_like=f"{before[-1]}{k.row}"))
        if p is not None and p.is_empty:
            plan.findings.append(Finding(
                Severity.WARNING, "missing-actual",
                f"{FiscalYear(prev).short}年度の実績値が空です（指標「{k.name}」）",
                book.path, s.sheet, f"{shift_col(split_cell(p.cell)[0], at, n)}{k.row}"))
    _plan_check(plan, book, s, cells, to, at, n)


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
    where = {key: ",".join(addrs) for key, addrs in blocks.items()}
    plan.history.setdefault(CHECK_SHEET, []).append((
        f"{edition}年度版", s.sheet, s.number or "", s.measure.name if s.measure else "",
        texts.get("check_analysis", ""), where.get("check_analysis", ""),
        texts.get("check_next", ""), where.get("check_next", "")))
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

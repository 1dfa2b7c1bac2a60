"""Roll-forward of a rolling window of year columns (`rollforward: window: true`).

Some books show a fixed number of years that moves on by one every edition: a 実施計画 of
R5–R7 becomes R6–R8 (現状値（R3）/R4見込/R5目標… → 現状値（R4）/R5見込/R6目標…), a
事務事業評価シート shows the last three years (R1 R2 R3 → R2 R3 R4), a cost block R2決算 R3決算
R4予算 → R3決算 R4決算 R5予算. No column is added: every year header of the record's year
tables names the next year, each value moves to the column that now holds its year (the same
role first: 目標 to 目標, else a plan figure to a plan column: R5目標 → R5見込, to review), values
that no column holds any more go to `過年度実績`, and cells left without a value (the newest
year, a 実績 where only a plan figure was known) become shaded input cells. The city's
formulas (一般財源 = 事業費 − …, 計画期間計 = SUM, 達成率) are left as they are; their headers
name the new years too (計画期間計（R5～R7） → （R6～R8））. Pure (no I/O).
"""

from __future__ import annotations

import re

from xlsgen.formulas import col_index
from xlsgen.kinds.roll import (
    GENERAL,
    _ref,
    _row_label,
    _years,
    archive,
    formula_cells,
    like_format,
    raw,
    split_cell,
    tables_of,
)
from xlsgen.model import Book, Edit, Measure, Plan
from xlsgen.wareki import FiscalYear

# an era year in a header: 令和５年度, R5, R5～R7, 平成31年度（令和元年度）, H30
_ERA = re.compile(r"(?<![A-Za-z])(平成|令和|昭和|[HRS])(\s*)(元|[0-9０-９]{1,2})(?![0-9０-９])")
_FULL = str.maketrans("0123456789", "０１２３４５６７８９")
_HALF = str.maketrans("０１２３４５６７８９", "0123456789")
# roles whose values are plan figures (a target, an estimate, a budget) vs figures of record
_PLAN = re.compile(r"target|estimate|budget|plan|予算|計画|見込|目標")
_RECORD = re.compile(r"actual|baseline|settled|achievement|grade|決算|実績|基準|現状")


def shift_years(text: str, by: int = 1) -> str:
    """Every era year of `text` moved on by `by`, written as it was (era as kanji or letter,
    full- or half-width digits): `令和５年度～令和７年度` → `令和６年度～令和８年度`,
    `計画期間計（R5～R7）` → `計画期間計（R6～R8）`, `平成31年度（令和元年度）` → `令和２年度`."""
    def repl(m: re.Match) -> str:
        era, space, num = m.groups()
        n = 1 if num == "元" else int(num.translate(_HALF))
        base = {"平成": 1988, "H": 1988, "令和": 2018, "R": 2018, "昭和": 1925, "S": 1925}[era]
        fy = FiscalYear(base + n + by)
        kanji = len(era) > 1
        new_era = fy.kanji[:2] if kanji else fy.era
        full = any(ch in "０１２３４５６７８９" for ch in num)
        digits = "元" if kanji and fy.era_year == 1 else str(fy.era_year)
        return new_era + space + (digits.translate(_FULL) if full else digits)

    new = _ERA.sub(repl, text)
    # 平成31年度（令和元年度） → 令和元年度（令和元年度）+1 …: one year said twice is said once
    return re.sub(r"^(.+?)(\s*)[(（]\1[)）]$", r"\1", new)


def _slots(t: dict) -> list[tuple[str, int, str]]:
    """(column, year, role) of every year column of a table geometry."""
    out = []
    by_role = t.get("role_columns") or {}
    if by_role:
        for role, cols in by_role.items():
            out.extend((c, int(y), role) for y, c in cols.items())
    else:
        roles = _years(t.get("year_roles"))
        kinds = _years(t.get("year_kinds"))
        out.extend((c, y, str(kinds.get(y) or roles.get(y) or "")) for y, c in _years(t.get("year_columns")).items())
    return sorted(set(out), key=lambda x: col_index(x[0]))


def _plan_like(role: str) -> bool:
    return bool(_PLAN.search(role))


def _family(role: str) -> str | None:
    """`plan` (目標, 見込, 予算, 計画), `record` (実績, 決算, 基準値) or None (a column the
    sheet does not name)."""
    return "record" if _RECORD.search(role) else "plan" if _PLAN.search(role) else None


def _rows(m: Measure, name: str, t: dict) -> list[int]:
    """The value rows of a table: a cost block's lines, a KPI table's KPI rows (its text
    rows and legends are not values), else every row of the table."""
    if t.get("line_rows"):
        return sorted(set(t["line_rows"].values()))
    first, last = t.get("first_row"), t.get("last_row")
    if first is None or last is None:
        return []
    if t.get("holds") == "kpis":
        sheet = t.get("sheet") or m.sheet
        rows = set()
        for k in m.kpis:
            for q in (k.baseline, *k.actuals, k.target, *k.targets, *k.estimates, *k.achievements, *k.grades):
                if q.cell:
                    s, a1 = _ref(m, q.cell)
                    r = split_cell(a1)[1]
                    if s == sheet and first <= r <= last:
                        rows.add(r)
        return sorted(rows)
    return list(range(first, last + 1))


def kept_years(book: Book, m: Measure) -> set[int]:
    """The years whose columns a window leaves where they are (`rollforward.window.keep`):
    the plan's baseline (H30（基準）) and final target (R7（目標）) of a plan whose reported
    years move on between them."""
    window = book.rollforward.get("window")
    keep = set((window.get("keep") or []) if isinstance(window, dict) else [])
    years = set()
    if "baseline" in keep and m.baseline_year is not None:
        years.add(m.baseline_year)
    if "target" in keep and m.target_year is not None:
        years.add(m.target_year)
    return years


def plan_window(plan: Plan, book: Book, m: Measure, snap: dict, to: int, done: set) -> None:
    """Every years-across-columns table of `m` moved on by one year (see the module); the
    columns of the years `rollforward.window.keep` names stay as they are."""
    short = FiscalYear(to - 1).short
    kept = kept_years(book, m)
    for name, t in tables_of(m).items():
        if t.get("years", "columns") != "columns":
            continue
        sheet = t.get("sheet") or m.sheet
        cells = snap.get(sheet, {})
        formulas = formula_cells(cells)
        slots = [s for s in _slots(t) if s[1] not in kept]
        if not slots:
            continue
        # header cells: every year named moves on by one (a merged year over 目標/実績 once)
        cols = {c for c, _, _ in slots} | set(t.get("total_columns") or {})  # 計画期間計（R5～R7）
        header = t.get("header_row")
        first = t.get("first_row") or (header or 0) + 1
        for r in range(header or first, first):
            for c in sorted(cols, key=col_index):
                addr = f"{c}{r}"
                v = raw(cells, addr)[0]
                if (sheet, addr) in done or not isinstance(v, str) or addr in formulas:
                    continue
                new = shift_years(v)
                if new != v:
                    done.add((sheet, addr))
                    plan.edits.append(Edit(sheet, addr, new, f"表「{name}」の年度を1年進めました（{short}年度版の次）"))
        # values: each to the column that now holds its year
        by_key = {(y, role): c for c, y, role in slots}
        for r in _rows(m, name, t):
            moved_from: set[str] = set()
            for c, y, role in slots:
                addr = f"{c}{r}"
                if (sheet, addr) in done or addr in formulas:
                    continue
                done.add((sheet, addr))
                new_year = y + 1
                src = by_key.get((new_year, role))
                review = False
                if src is None:  # the same year under another role: a plan figure to a plan
                    # column (R5目標 → R5見込, R5計画 → R5当初予算), never a plan to a 実績 / 決算
                    src = next((sc for sc, sy, sr in slots if sy == new_year and _family(role) != "record"
                                and _family(sr) != "record"), None)
                    review = src is not None
                src_addr = f"{src}{r}" if src else None
                value = raw(cells, src_addr)[0] if src_addr and src_addr not in formulas else None
                if src_addr and value not in (None, ""):
                    moved_from.add(src_addr)
                label = FiscalYear(new_year).short
                if value in (None, ""):
                    f = raw(cells, addr)[1]
                    fmt = like_format(cells, [f"{sc}{r}" for sc, _, _ in slots]) if (f or GENERAL) == GENERAL else None
                    plan.edits.append(Edit(sheet, addr, None, f"{label}年度の入力欄（表「{name}」）",
                                           number_format=fmt, shade=True))
                else:
                    why = f"{label}年度の値をこの列へ（年度の列を1年進めました）"
                    if review:
                        why = f"{label}年度の計画値を仮に移しました（見直してください）"
                    plan.edits.append(Edit(sheet, addr, value, why, shade=review))
            for c, y, role in slots:  # values no column holds any more
                addr = f"{c}{r}"
                v = raw(cells, addr)[0]
                if addr in formulas or addr in moved_from or v in (None, ""):
                    continue
                name_col = (t.get("columns") or {}).get("name")
                own = raw(cells, f"{name_col}{r}")[0] if name_col else None
                label = (own.strip() if isinstance(own, str) and own.strip() else None) or \
                    _row_label(cells, r, min((sc for sc, _, _ in slots), key=col_index)) or f"{r}行"
                archive(plan, m, cells, to, f"{label}（{name}）", addr, y, role or None)


def plan_window_title(plan: Plan, book: Book, m: Measure, snap: dict, done: set) -> None:
    """The title (and the `fiscal_year` and `subtitle` fields) naming the window
    (令和５年度～令和７年度, （令和３年度実施事業）): every year in it moved on by one."""
    for key in ("title", "fiscal_year", "subtitle"):
        ref = m.cells.get(key)
        if not ref:
            continue
        sheet, a1 = _ref(m, ref)
        if (sheet, a1) in done:
            continue
        v = raw(snap.get(sheet, {}), a1)[0]
        if isinstance(v, str) and shift_years(v) != v:
            done.add((sheet, a1))
            plan.edits.append(Edit(sheet, a1, shift_years(v), "表題の年度を1年進めました"))

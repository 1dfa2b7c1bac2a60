"""Roll a city workbook forward one fiscal year, in the city's own layout.

The roll is planned from the model (`read_book` says where everything is) and a snapshot
of the input's cell values and number formats; the plan is a list of cell edits plus rows
for history sheets. `xlsgen.render.edition` applies it with openpyxl, so the city's look
(widths, merges, fonts, borders, number formats, print setup) is kept.

小千谷 進行管理シート (R3 → R4): the year that was being planned (R3) becomes the reported
year: its header reads `R3年度\\n(実績値)` like the R2 one and its KPI cells are shaded as
input cells (empty, with the number format of the previous actual). Every other KPI cell
is untouched. The Check blocks are emptied and shaded for the new year; the old texts go
to the sheet `前年度評価` (one row per sheet, with the cells they came from), and the old
（２）今後の取組 is also shown as a comment on the new （１）現状分析 cell: it is what this
year is checked against. Labels stay where the reader finds them.

常総 事務事業評価シート (R3 → R4): the Do rows shift (R4 予算額 from the old Plan, R3 決算額
empty to fill with the old R3 成果目標, R2 決算額 kept); the dropped rows (old R3 予算額,
R1 決算額) go to `過年度実績`. Check moves to R3 (emptied; old texts to `前年度評価`), Plan
to R5 (its 成果目標 is the old R5 今後の成果目標), 今後の成果目標 to R6 (old value) and R7.
The 施策 sheet's citizens' opinion is emptied for the new year (old text kept in history).

Every edit is logged in `変更履歴` (sheet, cell, before, after, reason). Heisei labels past
H31 in the headers that are rewritten become 令和. Values typed in cells are never rewritten.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.utils import column_index_from_string, get_column_letter

from xlsgen.errors import XlsgenError
from xlsgen.model import (
    CHANGE_LOG_SHEET,
    Book,
    Change,
    Edit,
    Finding,
    Plan,
    ProgressSheet,
    ProjectSheet,
    Quantity,
    Severity,
    Snapshot,
)
from xlsgen.model import CHECK_HISTORY_SHEET as CHECK_SHEET
from xlsgen.model import PAST_YEARS_SHEET as PAST_SHEET
from xlsgen.wareki import FiscalYear

CHECK_HEADERS = {
    "progress": ("年度版", "シート", "シート№", "施策項目", "（１）現状分析", "元のセル",
              "（２）今後の取組", "元のセル"),
    "projects": ("年度版", "シート", "事業名", "項目", "評価の年度", "本文", "元のセル"),
}
CHECK_WIDTHS = {"progress": (10, 8, 8, 24, 60, 12, 60, 12), "projects": (10, 16, 24, 8, 11, 80, 10)}
PAST_HEADERS = ("年度版", "シート", "事業名", "年度", "区分", "金額（千円）", "うち特定財源（千円）",
                "成果目標", "成果実績", "実施内容と改善点", "元の行")
PAST_WIDTHS = (10, 16, 24, 11, 8, 12, 12, 14, 14, 50, 8)

_YEAR_TOKEN = re.compile(r"(平成|令和|昭和|[HRShrs])\s*(元|[0-9０-９]{1,2})(?=\s*年)")


@dataclass
class RollResult:
    output: Path
    layout: str
    from_year: int
    to_year: int
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the clerk must know (sheets renamed, formulas kept)
    change_log: str = CHANGE_LOG_SHEET  # the sheet the change log went to


def _token(fy: int, kanji: bool) -> str:
    f = FiscalYear(fy)
    n = "元" if kanji and f.era_year == 1 else str(f.era_year)
    return (f.kanji[:2] if kanji else f.era) + n


def year_label_like(text: str, fy: int) -> str:
    """`text` with its first era year replaced by `fy`, in the same style.

    `R2年度\n(実績値)` → `R3年度\n(実績値)`; `【Check】令和2年度実績…` → `…令和3年度実績…`.
    """
    m = _YEAR_TOKEN.search(text)
    if m is None:
        short = FiscalYear(fy).short
        return f"{short}年度\n{text}" if text else f"{short}年度"
    return text[: m.start()] + _token(fy, len(m.group(1)) > 1) + text[m.end():]


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


def parse_year(text: str | int, what: str) -> int:
    try:
        return FiscalYear.parse(text).year
    except ValueError as exc:
        raise XlsgenError(f"{what}「{text}」を年度として読めません（{exc}）") from exc


def plan_rollforward(book: Book, snap: Snapshot, to: int, extend_to: int | None = None) -> Plan:
    """The edits that turn `book` (as read) into the edition of fiscal year `to`. Pure."""
    edition = book.fiscal_year
    if edition is None:
        raise XlsgenError("ブックの年度版を判定できません（実績値の列・予算額の行がありません）", book.path)
    if to != edition + 1:
        raise XlsgenError(
            f"{FiscalYear(to).kanji}へは繰り越せません。このブックは{FiscalYear(edition).kanji}版なので、"
            f"繰り越し先は翌年度の{FiscalYear(edition + 1).kanji}（--to {FiscalYear(edition + 1).short}）だけです",
            book.path)
    plan = Plan()
    supported = book.rollforward.get("supported", False)
    if supported and book.kind == "progress":
        for sheet in book.sheets:
            _plan_ojiya_sheet(plan, book, sheet, snap.get(sheet.sheet, {}), to, extend_to)
    elif supported and book.kind == "projects":
        for project in book.projects:
            _plan_joso_project(plan, book, project, snap.get(project.sheet, {}), to)
        if book.measure_sheet is not None:
            _plan_joso_measure(plan, book, snap.get(book.measure_sheet.sheet, {}), to)
    else:
        raise XlsgenError(f"様式「{book.layout_title or book.layout}」の繰り越しには対応していません"
                          "（様式ファイルに rollforward: supported: true がある様式だけ繰り越せます）",
                          book.path)
    plan.history_headers = {CHECK_SHEET: (CHECK_HEADERS[book.kind], CHECK_WIDTHS[book.kind]),
                            PAST_SHEET: (PAST_HEADERS, PAST_WIDTHS)}
    return plan


# --- 小千谷 ---------------------------------------------------------------------------


@functools.cache
def _split(addr: str) -> tuple[str, int]:
    m = re.fullmatch(r"([A-Z]+)(\d+)", addr)
    return m.group(1), int(m.group(2))


def _shift(col: str, at: int, n: int) -> str:
    i = column_index_from_string(col)
    return get_column_letter(i + n) if n and i >= at else col


def _plan_ojiya_sheet(plan: Plan, book: Book, s: ProgressSheet, cells: dict, to: int,
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
        at, n = column_index_from_string(cols[s.target_year]), extend_to - s.target_year
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
            plan.edits.append(Edit(s.sheet, f"{_shift(c, at, n)}{hr}", new,
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
                book.path, s.sheet, f"{_shift(_split(p.cell)[0], at, n)}{k.row}"))
    _plan_ojiya_check(plan, book, s, cells, to, at, n)


def _plan_extend(plan: Plan, s: ProgressSheet, cells: dict, cols: dict, at: int, n: int,
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
        new_col = get_column_letter(at + i)
        plan.edits.append(Edit(s.sheet, f"{new_col}{hr}", year_label_like(plain, fy),
                               f"計画延長（--extend-to）: {FiscalYear(fy).short}年度の列を追加"))
        cols[fy] = new_col
    new_target = get_column_letter(at + n)
    old = cells.get(f"{target_col}{hr}", (None, ""))[0] or ""
    plan.edits.append(Edit(s.sheet, f"{new_target}{hr}", year_label_like(old, extend_to),
                           f"計画延長: 目標年度を{FiscalYear(s.target_year).short}から"
                           f"{FiscalYear(extend_to).short}に変更（目標値は据え置き、見直してください）"))


def _block_cells(cells: dict, rows: range, cols: range) -> list[str]:
    """The cells of a block holding a value, without the city's own formulas (a helper
    formula beside a text is neither cleared nor taken into last year's text)."""
    formulas = getattr(cells, "formulas", ())
    out = []
    for addr, (v, _) in cells.items():
        c, r = _split(addr)
        if v not in (None, "") and r in rows and column_index_from_string(c) in cols and addr not in formulas:
            out.append(addr)
    return sorted(out, key=lambda a: (_split(a)[1], column_index_from_string(_split(a)[0])))


def _plan_ojiya_check(plan: Plan, book: Book, s: ProgressSheet, cells: dict, to: int,
                      at: int, n: int) -> None:
    """Empty the Check blocks the reader recorded (`cells["check_*_block"]`)."""
    blocks = {}
    for key in ("check_analysis", "check_next"):
        rng = s.cells.get(f"{key}_block")
        if rng is None:
            continue
        a, b = rng.split(":")
        (c1, r1), (c2, r2) = _split(a), _split(b)
        blocks[key] = _block_cells(cells, range(r1, r2 + 1),
                                   range(column_index_from_string(c1), column_index_from_string(c2) + 1))
    if not blocks:
        return
    edition = FiscalYear(to - 1).short
    texts = {key: "\n".join(str(cells[a][0]) for a in addrs) for key, addrs in blocks.items()}
    where = {key: ",".join(addrs) for key, addrs in blocks.items()}
    plan.history.setdefault(CHECK_SHEET, []).append((
        f"{edition}年度版", s.sheet, s.sheet_no or "", s.measure.name if s.measure else "",
        texts.get("check_analysis", ""), where.get("check_analysis", ""),
        texts.get("check_next", ""), where.get("check_next", "")))
    for key, addrs in blocks.items():
        home = addrs[0] if addrs else s.cells.get(key)
        for addr in addrs or ([home] if home else []):
            c, r = _split(addr)
            comment = None
            if key == "check_analysis" and addr == home and texts.get("check_next"):
                comment = f"前年度（{edition}年度版）の今後の取組:\n{texts['check_next']}"
            plan.edits.append(Edit(
                s.sheet, f"{_shift(c, at, n)}{r}", None,
                f"{FiscalYear(to).short}年度版の評価欄を空けました（前の文は「{CHECK_SHEET}」シートへ）",
                shade=addr == home, comment=comment))


# --- 常総 -----------------------------------------------------------------------------


def _col(q: Quantity | None, fallback: str | None = None) -> str | None:
    return _split(q.cell)[0] if q is not None and q.cell else fallback


def _raw(cells: dict, addr: str | None) -> tuple[Any, str | None]:
    if not addr:
        return None, None
    v, f = cells.get(addr, (None, "General"))
    return v, f


def _plan_joso_project(plan: Plan, book: Book, p: ProjectSheet, cells: dict, to: int) -> None:
    edition = FiscalYear(to - 1).short + "年度版"
    rows = sorted(p.do_years, key=lambda d: -d.fiscal_year)
    if not rows:
        raise XlsgenError(f"シート「{p.sheet}」に【Do】の表がないため繰り越せません", book.path)
    first = rows[0]
    fields = {  # field → column letter
        "amount": _col(first.amount), "specific": _col(first.specific_revenue),
        "target": _col(first.target), "result": _col(first.result),
        "content": _split(p.cells[f"content_{first.fiscal_year}"])[0]
        if f"content_{first.fiscal_year}" in p.cells else None,
    }
    fields = {k: v for k, v in fields.items() if v}

    def row_values(r: int) -> dict[str, tuple[Any, str | None]]:
        return {k: _raw(cells, f"{c}{r}") for k, c in fields.items()}

    def write_row(r: int, fy: int, kind: str, values: dict, reason: str, shade=()) -> None:
        ycell = p.cells.get(f"do_year_{r}")  # recorded by the reader
        kcell = p.cells.get(f"do_kind_{r}")
        ycell = ycell if ycell and isinstance(cells.get(ycell, (None,))[0], str) else None
        kcell = kcell if kcell and cells.get(kcell, (None,))[0] not in (None, "") else None
        if ycell:
            plan.edits.append(Edit(p.sheet, ycell, year_label_like(cells[ycell][0], fy), reason))
        if kcell:
            plan.edits.append(Edit(p.sheet, kcell, kind, reason))
        for k, c in fields.items():
            v, f = values.get(k, (None, None))
            plan.edits.append(Edit(p.sheet, f"{c}{r}", v, reason,
                                   number_format=f, shade=k in shade))

    for d in (rows[0], rows[-1]) if len(rows) > 1 else (rows[0],):  # rows leaving the table
        vals = row_values(d.row)
        plan.history.setdefault(PAST_SHEET, []).append((
            edition, p.sheet, p.name, FiscalYear(d.fiscal_year).kanji, d.kind,
            *(vals.get(k, (None,))[0] for k in ("amount", "specific", "target", "result", "content")),
            f"{d.row}行"))
    plan_vals = {"amount": _raw(cells, p.plan_budget.cell),
                 "specific": _raw(cells, p.plan_specific_revenue.cell),
                 "target": _raw(cells, p.plan_target.cell),
                 "result": (None, None),
                 "content": _raw(cells, p.cells.get("plan_content"))}
    plan_fy = FiscalYear(to)
    write_row(rows[0].row, to, "予算額", plan_vals, f"【Plan】の{plan_fy.short}年度計画を予算額の行へ")
    if p.plan_budget.is_empty and "amount" in fields:
        plan.findings.append(Finding(
            Severity.WARNING, "missing-budget",
            f"【Plan】の{plan_fy.short}年度予算額が空のため、{plan_fy.short}年度の予算額（{fields['amount']}{rows[0].row}）も空です。"
            "予算額を入力してください",
            book.path, p.sheet, f"{fields['amount']}{rows[0].row}"))
    if len(rows) > 1:
        closing = {"target": row_values(rows[0].row)["target"]} if "target" in fields else {}
        write_row(rows[1].row, to - 1, "決算額", closing,
                  f"{FiscalYear(to - 1).short}年度を決算額の行に（金額・成果実績・実施内容を入力）",
                  shade=("amount", "specific", "result", "content"))
    for i in range(2, len(rows)):
        old = rows[i - 1]
        write_row(rows[i].row, old.fiscal_year, old.kind, row_values(old.row),
                  f"{FiscalYear(old.fiscal_year).short}年度の行を1行下へ")
        if i == 2 and (old.amount.is_empty or old.result.is_empty):
            missing = [f"{fields[k]}{rows[i].row}" for k, q in (("amount", old.amount), ("result", old.result))
                       if q.is_empty and k in fields]
            plan.findings.append(Finding(
                Severity.WARNING, "missing-actual",
                f"{FiscalYear(old.fiscal_year).short}年度の決算額または成果実績が空です（{','.join(missing)}）",
                book.path, p.sheet, missing[0]))
    _plan_joso_check(plan, book, p, cells, to)
    _plan_joso_plan(plan, p, cells, to)


def _plan_joso_check(plan: Plan, book: Book, p: ProjectSheet, cells: dict, to: int) -> None:
    head = p.cells.get("check_head")
    head = head if head and isinstance(cells.get(head, (None,))[0], str) else None
    reason = f"【Check】を{FiscalYear(to - 1).short}年度実績の評価に（前の文は「{CHECK_SHEET}」シートへ）"
    if head:
        plan.edits.append(Edit(p.sheet, head, year_label_like(cells[head][0], to - 1), reason))
    for attr, label in (("check_evaluation", "評価"), ("check_analysis", "分析")):
        addr = p.cells.get(attr)
        if not addr:
            continue
        plan.history.setdefault(CHECK_SHEET, []).append((
            FiscalYear(to - 1).short + "年度版", p.sheet, p.name, label,
            FiscalYear(p.check_year).kanji if p.check_year else "", getattr(p, attr), addr))
        plan.edits.append(Edit(p.sheet, addr, None, reason, shade=True))


def _plan_joso_plan(plan: Plan, p: ProjectSheet, cells: dict, to: int) -> None:
    nxt = FiscalYear(to + 1)
    reason = f"【Plan】を{nxt.short}年度に"
    if "plan_year" in p.cells:
        addr = p.cells["plan_year"]
        plan.edits.append(Edit(p.sheet, addr, year_label_like(cells[addr][0], nxt.year), reason))
    for q in (p.plan_budget, p.plan_specific_revenue):
        if q.cell:
            plan.edits.append(Edit(p.sheet, q.cell, None, reason + "（予算額を入力）", shade=True))
    if p.cells.get("plan_content"):
        plan.edits.append(Edit(p.sheet, p.cells["plan_content"], None, reason + "（実施内容を入力）",
                               shade=True))
    future = sorted((q for q in p.future_targets if q.cell), key=lambda q: q.fiscal_year)
    if p.plan_target.cell:
        v, f = _raw(cells, future[0].cell) if future else (None, None)
        plan.edits.append(Edit(p.sheet, p.plan_target.cell, v,
                               f"【Plan】の成果目標 = 前の今後の成果目標（{nxt.short}年度）", number_format=f))
    for i, q in enumerate(future):
        label = p.cells.get(f"future_label_{q.fiscal_year}")  # recorded by the reader
        label = label if label and isinstance(cells.get(label, (None,))[0], str) else None
        fy = q.fiscal_year + 1
        if label:
            plan.edits.append(Edit(p.sheet, label, year_label_like(cells[label][0], fy),
                                   "今後の成果目標を1年先へ"))
        if i + 1 < len(future):
            v, f = _raw(cells, future[i + 1].cell)
            plan.edits.append(Edit(p.sheet, q.cell, v, "今後の成果目標を1年先へ", number_format=f))
        else:
            old = _raw(cells, q.cell)[0]
            keep = q.text if (q.is_none_mark or (q.is_empty and q.text)) else None
            plan.edits.append(Edit(p.sheet, q.cell, keep if isinstance(old, str) else None,
                                   f"{FiscalYear(fy).short}年度の成果目標（新しく入力）", shade=True))


def _plan_joso_measure(plan: Plan, book: Book, cells: dict, to: int) -> None:
    m = book.measure_sheet
    head = m.cells.get("opinion_head")  # recorded by the reader
    addr = m.cells.get("opinion")
    if head is None or addr is None:
        return
    reason = f"{FiscalYear(to - 1).short}年度の実施状況への意見欄（前の意見は「{CHECK_SHEET}」シートへ）"
    plan.edits.append(Edit(m.sheet, head, year_label_like(cells[head][0], to - 1), reason))
    plan.history.setdefault(CHECK_SHEET, []).append((
        FiscalYear(to - 1).short + "年度版", m.sheet, m.measure, m.opinion_title,
        cells[head][0], m.opinion, addr))
    plan.edits.append(Edit(m.sheet, addr, None, reason, shade=True))


# --- the file operation ---------------------------------------------------------------


def rollforward_file(src: str | Path, to: str | int, output: str | Path,
                     extend_to: str | int | None = None, layout: str = "auto",
                     layout_file: str | None = None, force: bool = False) -> RollResult:
    """Roll the workbook `src` to the edition of fiscal year `to`, written to `output`.

    The output is the input's package with only the planned cells and the added sheets
    changed (`xlsgen.render.edition`). An existing `output` (an edition the clerk may
    have filled in) is refused unless `force`."""
    from xlsgen.atomic import exists_error, refuse_overwrite
    from xlsgen.layout import read_book
    from xlsgen.render.edition import check_extension, open_package, write_edition

    src, output = Path(src), Path(output)
    refuse_overwrite(output, [src])
    if not force and output.exists():
        raise exists_error(output)
    to_year = parse_year(to, "--to")
    extend_year = parse_year(extend_to, "--extend-to") if extend_to is not None else None
    from xlsgen.package.apply import KEPT_FORMULA
    from xlsgen.read.refuse import refuse_failed_read

    # the reader's safety checks come first
    book = refuse_failed_read(read_book(src, layout, layout_file), "繰り越した版")
    pkg, snap = open_package(src)
    check_extension(pkg, output)
    plan = plan_rollforward(book, snap, to_year, extend_year)
    changes = write_edition(pkg, snap, output, plan, src, force=force)
    from xlsgen.package import Workbook

    renamed = Workbook(pkg).renamed
    notes = [f.message for f in book.findings if f.code == "layout-file-ignored"]
    notes += [f"ブックに xlsgen のものではない「{old}」シートがあるため、そのシートは変更せず「{new}」に書きました"
             for old, new in renamed.items()]
    kept = sorted({f"{c.sheet}!{c.cell}" for c in changes if c.what == KEPT_FORMULA})
    if kept:
        notes.append(f"数式のセル {len(kept)} か所は変更していません（{'、'.join(kept[:5])}"
                     f"{' ほか' if len(kept) > 5 else ''}。「{renamed.get(CHANGE_LOG_SHEET, CHANGE_LOG_SHEET)}」シート参照）")
    return RollResult(output, book.layout, book.fiscal_year, to_year, changes, plan.findings, notes,
                      renamed.get(CHANGE_LOG_SHEET, CHANGE_LOG_SHEET))

"""Validation rules over the model. Rules never raise on user data: each yields Findings
with the file, sheet, cell and a plain Japanese message.

| code | severity | what |
|---|---|---|
| missing-field, missing-kpi-table, no-kpis, missing-year-columns, missing-column | error | from the reader: a required block or field is missing |
| no-measure-read | error | the layout matched but not one measure / project / row was read |
| unreadable | error | the file cannot be read (broken, hostile, wrong format) |
| duplicate-sheet-no | error | two sheets carry the same シート№ |
| impossible-era | error | an era label that cannot exist (from the reader) |
| text-too-long | error | text at or over Excel's 32,767-character cell limit (cut off) |
| uncalculated-formula | error | a value the model reads is a formula never calculated (no saved result) |
| not-a-number | error | a text where the row's other values are numbers (事業費・金額 too) |
| negative-cost | error | a negative 事業費 / 金額 (千円) |
| kpi-without-name | error | a KPI row with values but no name (from the reader) |
| era-normalised | warning | H32–H35 style labels read as 令和 |
| unit-mismatch | warning | units that disagree within a KPI row |
| cumulative-falls | warning | a 累計 KPI whose values fall |
| actual-far-past-target | warning | an actual far past its target (columns may be swapped) |
| target-below-baseline | warning | a growth KPI whose target is below its baseline |
| formula-like-text | warning | text starting with =, +, -, @ |
| missing-target | warning | an indicator without a target |
| sheet-skipped, missing-check | warning | from the reader |
| carried-down | warning | a blank grouped cell read as the value above it (layout `carry_down`) |
| achievement-differs, grade-differs | warning | the city's own 達成率 / 評価 disagrees with its layout's rule and scale |
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from xlsgen.errors import XlsgenError
from xlsgen.model import Book, Direction, Finding, Kpi, Quantity, Severity, TargetKind

EXCEL_CELL_LIMIT = 32_767
FORMULA_PREFIXES = ("=", "+", "-", "@")
FAR_PAST_RATIO = 1.5  # actual > target × 1.5, or ...
FAR_PAST_PROGRESS = 2.0  # ... past the target with (A − B) / (T − B) > 2
ERROR_FROM_READER = {"kpi-without-name"}  # a row with values but no name loses its values


@dataclass
class FileReport:
    path: str
    findings: list[Finding] = field(default_factory=list)
    book: Book | None = None

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def to_dict(self) -> dict:
        return {"path": self.path, "ok": self.ok,
                "layout": self.book.layout if self.book else None,
                "findings": [f.to_dict() for f in self.findings]}


def expand_paths(paths, skipped: list | None = None) -> list[Path]:
    """Files as given, and the input workbooks inside given folders (as `xlsgen run` takes
    them); what a folder holds besides is appended to `skipped` as (path, reason)."""
    from xlsgen.folders import discover_all

    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files, passed = discover_all(p)
            out.extend(files)
            if skipped is not None:
                skipped.extend(passed)
        else:
            out.append(p)
    return out


def validate_paths(paths, layout: str = "auto", layout_file: str | None = None,
                   skipped: list | None = None) -> list[FileReport]:
    """Read and validate each file; a file that cannot be read becomes an `unreadable` error.
    Files of a folder that are not input workbooks go to `skipped` as (path, reason)."""
    from xlsgen.layout import read_book

    reports = []
    for path in expand_paths(paths, skipped):
        try:
            book = read_book(path, layout, layout_file)
        except XlsgenError as exc:
            reports.append(FileReport(str(path), [Finding(Severity.ERROR, "unreadable",
                                                          _reason(exc), str(path))]))
            continue
        reports.append(FileReport(str(path), validate_book(book), book))
    return reports


def _reason(exc: XlsgenError) -> str:
    text = str(exc)
    return text.split(": ", 1)[1] if exc.path and text.startswith(f"{exc.path}: ") else text


def validate_book(book: Book) -> list[Finding]:
    """Every finding for a Book: the reader's own, then the rules below, file filled in."""
    findings = list(book.findings)
    for f in findings:
        if f.code in ERROR_FROM_READER:
            f.severity = Severity.ERROR
    for rule in (_uncalculated, _sheet_numbers, _kpi_rules, _joso_rules, _nishitokyo_rules, _texts):
        findings.extend(rule(book))
    for f in findings:
        f.file = f.file or book.path
    return findings


def _uncalculated(book: Book) -> Iterator[Finding]:
    """Cells the model reads that hold formulas never calculated: every reader sees them
    empty, so the book would pass as having no values. One error per sheet, with cells."""
    from xlsgen.read.grid import uncached_formulas

    used: dict[str | None, set[str]] = defaultdict(set)
    for sheet, cell in _walk_cells(book.to_dict()):
        used[sheet].add(cell)
    try:  # only the sheets the model read: a sheet the layout skipped is never opened
        uncached = uncached_formulas(book.path, set(used)) if book.path else {}
    except (OSError, ValueError, KeyError):
        return
    if not uncached:
        return
    for sheet, cells in uncached.items():
        hit = sorted(cells & used.get(sheet, set()), key=_cell_order)
        if not hit:
            continue
        listed = "、".join(hit[:10]) + (f" ほか {len(hit) - 10} セル" if len(hit) > 10 else "")
        yield Finding(Severity.ERROR, "uncalculated-formula",
                      f"{listed} は計算結果が保存されていない数式です（値が空として読まれます）。"
                      "Excel で開いて保存し直す（または再計算してから保存する）と値が入ります",
                      None, sheet, hit[0])


def _cell_order(cell: str) -> tuple[int, str]:
    letters = cell.rstrip("0123456789")
    return int(cell[len(letters):] or 0), letters.rjust(3)


def _walk_cells(node, sheet=None) -> Iterator[tuple[str | None, str]]:
    """(sheet, A1) of every cell the model records: `cell` fields and `cells` maps."""
    if isinstance(node, dict):
        sheet = node["sheet"] if isinstance(node.get("sheet"), str) else sheet
        for key, value in node.items():
            if key == "cell" and isinstance(value, str):
                yield sheet, value
            elif key == "cells" and isinstance(value, dict):
                yield from ((sheet, v) for v in value.values() if isinstance(v, str))
            elif isinstance(value, (dict, list)):
                yield from _walk_cells(value, sheet)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_cells(item, sheet)


def _sheet_numbers(book: Book) -> Iterator[Finding]:
    seen: dict[str, list] = defaultdict(list)
    for s in book.sheets:
        if s.sheet_no:
            seen[s.sheet_no].append(s)
    for no, sheets in seen.items():
        if len(sheets) > 1:
            names = "、".join(f"「{s.sheet}」" for s in sheets)
            for s in sheets:
                yield Finding(Severity.ERROR, "duplicate-sheet-no",
                              f"シート№ {no} が複数のシート（{names}）にあります", None, s.sheet,
                              s.cells.get("sheet_no"))


def _numbers(kpi: Kpi) -> list[Quantity]:
    return [q for q in [kpi.baseline, *kpi.actuals, kpi.target] if q.value is not None]


def _kpi_rules(book: Book) -> Iterator[Finding]:
    for s in book.sheets:
        for k in s.kpis:
            yield from _check_kpi(s.sheet, k)


def _check_kpi(sheet: str, k: Kpi) -> Iterator[Finding]:
    def f(code, msg, q=None, severity=Severity.WARNING):
        return Finding(severity, code, f"指標「{k.name}」: {msg}", None, sheet,
                       q.cell if q else None)

    values = [k.baseline, *k.actuals, k.target]
    numbers = _numbers(k)
    if len(numbers) >= 2:
        for q in values:
            if q.is_qualitative and q.qualifier is None:
                yield f("not-a-number", f"数値の並ぶ行に文字「{q.text}」があります。数値を入れてください",
                        q, Severity.ERROR)
    units = {q.unit for q in numbers if q.unit}
    if len(units) > 1:
        odd = [q for q in numbers if q.unit and q.unit != k.unit]
        yield f("unit-mismatch", f"単位が揃っていません（{'、'.join(sorted(units))}）",
                odd[0] if odd else None)
    if k.cost_thousand_yen and k.cost_thousand_yen.is_qualitative:
        yield f("not-a-number", f"事業費（千円）が数値ではありません（「{k.cost_thousand_yen.text}」）",
                k.cost_thousand_yen, Severity.ERROR)
    if k.cost_thousand_yen and k.cost_thousand_yen.value is not None and k.cost_thousand_yen.value < 0:
        yield f("negative-cost", f"事業費（千円）が負の値です（{k.cost_thousand_yen.text}）。符号を確認してください",
                k.cost_thousand_yen, Severity.ERROR)
    series = [q for q in [k.baseline, *k.actuals] if q.value is not None]
    if k.target_kind is TargetKind.RUNNING_TOTAL:
        for prev, cur in zip(series, series[1:]):
            if cur.value < prev.value:
                yield f("cumulative-falls",
                        f"累計の値が前の年度より小さくなっています（{prev.text} → {cur.text}）。入力した列と値をご確認ください", cur)
    t, b = k.target, k.baseline
    if t.value is None or k.direction is Direction.DOWN:
        return
    if b.value is not None and t.value < b.value:
        yield f("target-below-baseline",
                f"目標値（{t.text}）が基準値（{b.text}）より小さくなっています。減少を目指す指標でなければ、基準値と目標値の欄をご確認ください", t)
    for q in k.actuals:
        if q.value is None or t.value <= 0:
            continue
        base = b.value if b.value is not None else 0
        progress = (q.value - base) / (t.value - base) if t.value > base else 0
        if q.value > t.value and (q.value > t.value * FAR_PAST_RATIO or progress > FAR_PAST_PROGRESS):
            yield f("actual-far-past-target",
                    f"実績値（{q.text}）が目標値（{t.text}）を大きく上回っています。値と入力した年度の列をご確認ください", q)


def _joso_rules(book: Book) -> Iterator[Finding]:
    for p in book.projects:
        for d in p.do_years:
            for label, q in (("金額（千円）", d.amount), ("うち特定財源（千円）", d.specific_revenue)):
                if q.is_qualitative:
                    yield Finding(Severity.ERROR, "not-a-number",
                                  f"{d.fiscal_year}年度 {label}が数値ではありません（「{q.text}」）",
                                  None, p.sheet, q.cell)
                elif q.value is not None and q.value < 0:
                    yield Finding(Severity.ERROR, "negative-cost",
                                  f"{d.fiscal_year}年度 {label}が負の値です（{q.text}）。符号を確認してください",
                                  None, p.sheet, q.cell)
            a, s = d.amount.value, d.specific_revenue.value
            if a is not None and s is not None and s > a:
                yield Finding(Severity.WARNING, "specific-over-amount",
                              f"{d.fiscal_year}年度のうち特定財源（{s:,.0f}千円）が金額（{a:,.0f}千円）を超えています",
                              None, p.sheet, d.specific_revenue.cell)


def _nishitokyo_rules(book: Book) -> Iterator[Finding]:
    for r in book.plan_rows:
        sheet = r.sheet
        if r.indicator and (r.target is None or r.target.kind is TargetKind.NONE):
            yield Finding(Severity.WARNING, "missing-target", f"活動指標「{r.indicator}」に目標値がありません",
                          None, sheet, r.cells.get("target"))
        if r.target and r.target.unit:
            units = {q.unit.removesuffix("/年") for q in r.current_values if q.unit}
            if units and r.target.unit not in units:
                yield Finding(Severity.WARNING, "unit-mismatch",
                              f"活動指標「{r.indicator}」: 現状値（{'、'.join(sorted(units))}）と目標値（{r.target.unit}）の単位が違います",
                              None, sheet, r.target.cell)


def _texts(book: Book) -> Iterator[Finding]:
    """Every text of the model: over the cell limit (error) or formula-like (warning)."""
    for sheet, cell, text in _walk_texts(book.to_dict()):
        if len(text) >= EXCEL_CELL_LIMIT:  # at the limit: the writer has cut it off
            yield Finding(Severity.ERROR, "text-too-long",
                          f"文字数が Excel の上限（{EXCEL_CELL_LIMIT:,}字）に達しています（{len(text):,}字）。"
                          "文字が切り捨てられている可能性があります",
                          None, sheet, cell)
        stripped = text.lstrip()
        if stripped.startswith(FORMULA_PREFIXES) and not _is_plain_mark(stripped):
            yield Finding(Severity.WARNING, "formula-like-text",
                          f"「{stripped[:20]}」は数式と誤解されるおそれのある文字で始まっています（文字列として扱います）",
                          None, sheet, cell)


def _is_plain_mark(text: str) -> bool:
    from xlsgen.model import NONE_MARKS
    from xlsgen.quantities import parse_quantity

    return text in NONE_MARKS or parse_quantity(text).value is not None


def _walk_texts(node, sheet=None, cells=None) -> Iterator[tuple[str | None, str | None, str]]:
    if isinstance(node, dict):
        sheet = node.get("sheet", sheet) if isinstance(node.get("sheet"), str) else sheet
        cells = node.get("cells", cells) if isinstance(node.get("cells"), dict) else cells
        for key, value in node.items():
            if key in ("cells", "sheet", "path", "cell", "layout", "unit", "kind", "direction",
                       "target_kind", "qualifier", "findings"):
                continue
            if isinstance(value, str) and value:
                cell = node.get("cell") if "cell" in node else (cells or {}).get(key)
                yield sheet, cell, value
            else:
                yield from _walk_texts(value, sheet, cells)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_texts(item, sheet, cells)

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
| not-a-number | error | a text where the row's other values are numbers (事業費, every cost-block line too) |
| negative-cost | error | a negative 事業費 or cost-block value |
| kpi-without-name | error | a KPI row with values but no name (from the reader) |
| era-normalised | warning | H32–H35 style labels read as 令和 |
| unit-mismatch | warning | units that disagree within a KPI, or a target's unit unlike its past values' |
| cumulative-falls | warning | a 累計 KPI whose actuals fall (its baseline too when the layout says `values.baseline_cumulative`) |
| specific-over-amount | warning | a 財源 line (うち特定財源, 国庫支出金 …) over 事業費 in a year |
| actual-far-past-target | warning | an actual far past its target (columns may be swapped) |
| target-below-baseline | warning | a growth KPI whose target is below its baseline (by more than 1 %: a target about the baseline is one to maintain) |
| formula-like-text | warning | text starting with =, +, -, @ |
| missing-target | warning | a KPI whose target cell is empty or a none-mark (and no per-year target) |
| sheet-skipped, missing-check | warning | from the reader |
| carried-down | warning | a blank grouped cell read as the value above it (layout `carry_down`) |
| achievement-differs, grade-differs | warning | the city's own 達成率 / 評価 disagrees with its layout's rule and scale |
| formulas-not-recalculated | warning | the book was edited and not yet recalculated (calcPr fullCalcOnLoad): checks on formulas' saved results are not made (one warning instead of achievement-differs / grade-differs on formula cells, specific-over-amount in a column with a formula) |
| grade-without-target | warning | `achievement.basis: per_year`: a 達成率 / 評価 typed for a year with no target |
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from xlsgen.errors import XlsgenError
from xlsgen.model import (
    FUNDING_KEYS,
    Book,
    Direction,
    Finding,
    Kpi,
    Measure,
    Quantity,
    Severity,
    TargetKind,
    split_ref,
)

EXCEL_CELL_LIMIT = 32_767
FORMULA_PREFIXES = ("=", "+", "-", "@")
FAR_PAST_RATIO = 1.5  # actual > target × 1.5, or ...
FAR_PAST_PROGRESS = 2.0  # ... past the target with (A − B) / (T − B) > 2
# a target within this share below its baseline is one to maintain (維持: 1,100 against 1,102)
MAINTAIN_SHARE = 0.01
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
    for rule in (_uncalculated, _sheet_numbers, _kpi_rules, _cost_rules, _texts, _kind_rules):
        findings.extend(rule(book))
    findings = without_stale_results(book, findings)
    for f in findings:
        f.file = f.file or book.path
    return findings


# findings that compare a formula's saved result: the 達成率 / 評価 cell itself, or a cost
# column whose total (事業費 = SUM of its 財源) is a formula
_FROM_SAVED_RESULTS = {"achievement-differs": "cell", "grade-differs": "cell",
                       "grade-without-target": "cell", "specific-over-amount": "column"}


def without_stale_results(book: Book, findings: list[Finding]) -> list[Finding]:
    """A book that asks to be recalculated on opening (a rolled or collected edition before
    it is opened and saved in Excel): its formulas' saved results may be from before the
    edit, so the checks that rest on them (the city's 達成率 / 評価 against the rule, a 財源
    against a 事業費 column holding a formula) give one warning instead of findings that may
    be false. Typed values are checked as always."""
    from xlsgen.read.grid import saved_results_stale

    candidates = [f for f in findings if f.code in _FROM_SAVED_RESULTS and f.sheet and f.cell]
    if not candidates or not book.path:
        return findings
    try:
        formulas = saved_results_stale(book.path, {f.sheet for f in candidates})
    except (OSError, ValueError, KeyError):
        return findings
    if not formulas:
        return findings

    def stale(f: Finding) -> bool:
        cells = formulas.get(f.sheet, set())
        if _FROM_SAVED_RESULTS[f.code] == "cell":
            return f.cell in cells
        col = _column_of(f.cell)
        return col is not None and any(_column_of(a) == col for a in cells)

    dropped = [f for f in candidates if stale(f)]
    if not dropped:
        return findings
    kept = [f for f in findings if not any(f is d for d in dropped)]
    if not any(f.code == "formulas-not-recalculated" for f in kept):  # once, read or validated
        kept.append(Finding(
            Severity.WARNING, "formulas-not-recalculated",
            "このブックは編集後まだ再計算されていないため、数式の結果を使う確認（達成率・評価、財源と事業費）を"
            "していません。Excel で開いて保存してから確かめてください", book.path))
    return kept


def _column_of(a1: str) -> int | None:
    from xlsgen.formulas import split_cell

    try:
        return split_cell(a1)[1]
    except ValueError:
        return None


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
    """(sheet, A1) of every cell the model records: `cell` fields and `cells` maps (a cell
    on another sheet of a grouped record, `'施策1その2'!H8`, on its own sheet)."""
    if isinstance(node, dict):
        sheet = node["sheet"] if isinstance(node.get("sheet"), str) else sheet
        for key, value in node.items():
            if key == "cell" and isinstance(value, str):
                yield split_ref(value, sheet)
            elif key == "cells" and isinstance(value, dict):
                yield from (split_ref(v, sheet) for v in value.values() if isinstance(v, str))
            elif isinstance(value, (dict, list)):
                yield from _walk_cells(value, sheet)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_cells(item, sheet)


def _kind_rules(book: Book) -> Iterator[Finding]:
    """What only the book's kind can check (xlsgen.kinds: `rules`)."""
    from xlsgen.kinds import KINDS

    kind = KINDS.get(book.kind)
    return kind.rules(book) if kind is not None else iter(())


def _sheet_numbers(book: Book) -> Iterator[Finding]:
    seen: dict[str, list[Measure]] = defaultdict(list)
    for m in book.measures:
        if m.number:
            seen[m.number].append(m)
    for no, measures in seen.items():
        if len(measures) > 1:
            names = "、".join(f"「{m.sheet}」" for m in measures)
            for m in measures:
                yield Finding(Severity.ERROR, "duplicate-sheet-no",
                              f"シート№ {no} が複数のシート（{names}）にあります", None, m.sheet,
                              m.cells.get("number"))


def _per_unit(unit: str | None) -> str | None:
    """A unit without its per-year suffix (人/年 → 人): the same unit for comparing."""
    return unit.removesuffix("/年度").removesuffix("/年") if unit else unit


def _plan_actuals(k: Kpi) -> list[Quantity]:
    """The actuals of the plan's years: after the baseline year (earlier ones are past
    values, such as a 現状値 series)."""
    b = k.baseline_year
    return [q for q in k.actuals if b is None or q.fiscal_year is None or q.fiscal_year > b]


def _kpi_rules(book: Book) -> Iterator[Finding]:
    for m in book.measures:
        for k in m.kpis:
            yield from _check_kpi(k.sheet or m.sheet, k)


def _check_kpi(sheet: str, k: Kpi) -> Iterator[Finding]:
    def f(code, msg, q=None, severity=Severity.WARNING, cell=None):
        return Finding(severity, code, f"指標「{k.name}」: {msg}", None, sheet,
                       q.cell if q else cell)

    actuals = _plan_actuals(k)
    past = [q for q in k.actuals if q not in actuals and q.value is not None]
    values = [k.baseline, *actuals, k.target]
    numbers = [q for q in values if q.value is not None]
    if len(numbers) >= 2:
        for q in values:
            if q.is_qualitative and q.qualifier is None:
                yield f("not-a-number", f"数値の並ぶ行に文字「{q.text}」があります。数値を入れてください",
                        q, Severity.ERROR)
    t = k.target
    read = [q for q in numbers if q is not t]
    units = {_per_unit(q.unit) for q in read if q.unit}
    before = {_per_unit(q.unit) for q in [*read, *past] if q.unit}
    if len(units) > 1:
        odd = [q for q in numbers if q.unit and _per_unit(q.unit) != _per_unit(k.unit)]
        yield f("unit-mismatch", f"単位が揃っていません（{'、'.join(sorted({q.unit for q in numbers if q.unit}))}）",
                odd[0] if odd else None)
    elif t.value is not None and t.unit and before and _per_unit(t.unit) not in before:
        yield f("unit-mismatch", f"目標値の単位（{t.unit}）が基準値・実績値（{'、'.join(sorted(before))}）と違います", t)
    # a target the layout reads (its cell is known) that is empty or a none-mark, and no
    # per-year target either (a layout that reads no target at all gives no finding)
    target_cell = t.cell or k.cells.get("target")
    if k.target_kind is TargetKind.NONE and target_cell and not any(
            q.value is not None or q.is_qualitative for q in k.targets):
        yield f("missing-target", "目標値がありません", None, cell=target_cell)
    yield from _cost_of_kpi(k, f)
    series = sorted((q for q in actuals if q.value is not None and q.fiscal_year is not None),
                    key=lambda q: q.fiscal_year)
    if k.extra.get("baseline_cumulative") and k.baseline.value is not None:
        series = [k.baseline, *series]
    if k.target_kind is TargetKind.RUNNING_TOTAL:
        for prev, cur in zip(series, series[1:]):
            if cur.value < prev.value:
                yield f("cumulative-falls",
                        f"累計の値が前の年度より小さくなっています（{prev.text} → {cur.text}）。入力した列と値をご確認ください", cur)
    b = k.baseline
    if t.value is None or k.direction is Direction.DOWN:
        return
    level = k.target_kind in (TargetKind.AT_YEAR, TargetKind.RUNNING_TOTAL)  # not an amount per period
    if b.value is not None and t.value < b.value * (1 - MAINTAIN_SHARE if b.value > 0 else 1) and level:
        yield f("target-below-baseline",
                f"目標値（{t.text}）が基準値（{b.text}）より小さくなっています。減少を目指す指標でなければ、基準値と目標値の欄をご確認ください", t)
    for q in actuals:
        if q.value is None or t.value <= 0:
            continue
        base = b.value if b.value is not None else 0
        progress = (q.value - base) / (t.value - base) if t.value > base else 0
        if q.value > t.value and (q.value > t.value * FAR_PAST_RATIO or progress > FAR_PAST_PROGRESS):
            yield f("actual-far-past-target",
                    f"実績値（{q.text}）が目標値（{t.text}）を大きく上回っています。値と入力した年度の列をご確認ください", q)


def _cost_of_kpi(k: Kpi, f) -> Iterator[Finding]:
    cost = k.cost
    if cost is None:
        return
    what = f"事業費（{cost.unit}）" if cost.unit else "事業費"
    if cost.is_qualitative:
        yield f("not-a-number", f"{what}が数値ではありません（「{cost.text}」）", cost, Severity.ERROR)
    if cost.value is not None and cost.value < 0:
        yield f("negative-cost", f"{what}が負の値です（{cost.text}）。符号を確認してください",
                cost, Severity.ERROR)


_UNIT_TAIL = re.compile(r"\s*[(（](千円|円)[)）]\s*$")


def _cost_rules(book: Book) -> Iterator[Finding]:
    """Every value of a cost block: a number, not negative; no 財源 line over 事業費."""
    for m in book.measures:
        cost = m.cost
        if cost is None:
            continue
        unit = cost.unit or ""
        for line in cost.lines:
            label = line.label or line.key
            for q in line.values:
                year = f"{q.fiscal_year}年度 " if q.fiscal_year else ""
                if q.is_qualitative:
                    yield Finding(Severity.ERROR, "not-a-number",
                                  f"{year}{label}が数値ではありません（「{q.text}」）", None, m.sheet, q.cell)
                elif q.value is not None and q.value < 0:
                    yield Finding(Severity.ERROR, "negative-cost",
                                  f"{year}{label}が負の値です（{q.text}）。符号を確認してください",
                                  None, m.sheet, q.cell)
        total = cost.line("project_cost")
        if total is None:
            continue
        for line in (ln for ln in cost.lines if ln.key in FUNDING_KEYS or ln.funding):
            for q in line.values:
                a = total.value(q.fiscal_year) if q.fiscal_year else None
                if a is None or a.value is None or q.value is None or q.value <= a.value:
                    continue
                name = _UNIT_TAIL.sub("", line.label or line.key)
                whole = _UNIT_TAIL.sub("", total.label or total.key)
                yield Finding(Severity.WARNING, "specific-over-amount",
                              f"{q.fiscal_year}年度の{name}（{q.value:,.0f}{unit}）が{whole}（{a.value:,.0f}{unit}）を超えています",
                              None, m.sheet, q.cell)


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
            if key in ("cells", "sheet", "sheets", "path", "cell", "layout", "layout_file", "unit",
                       "kind", "direction", "target_kind", "qualifier", "findings", "key", "role",
                       "schema_version", "year_columns", "year_kinds"):
                continue
            if isinstance(value, str) and value:
                cell = node.get("cell") if "cell" in node else (cells or {}).get(key)
                yield sheet, cell, value
            else:
                yield from _walk_texts(value, sheet, cells)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_texts(item, sheet, cells)

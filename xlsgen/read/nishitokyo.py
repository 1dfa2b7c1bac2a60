"""Reader for the 西東京 施策体系 table: one row per activity indicator (活動指標),
columns found by their header labels; target expressions parsed into Targets."""

from __future__ import annotations

import re

from xlsgen.model import Book, Finding, PlanRow, Severity
from xlsgen.quantities import parse_series, parse_target
from xlsgen.read.grid import Grid, WorkbookGrids

COLUMNS = {
    "direction": r"^取組みの方向性|^取組の方向性",
    "measure": r"^施策$",
    "project": r"^事業名",
    "actors": r"^事業主体",
    "summary": r"^事業概要",
    "indicator": r"^活動指標",
    "current": r"^現状値",
    "target": r"^目標値",
    "note": r"^参考",
}


def header_row(grid: Grid, columns: dict | None = None) -> int | None:
    """The row holding both 活動指標 and 目標値 headers."""
    columns = columns or COLUMNS
    for r, _ in grid.find(columns["indicator"]):
        if grid.first(columns["target"], rows=range(r, r + 1)):
            return r
    return None


def read_nishitokyo(path, wb: WorkbookGrids, spec=None, roles: dict | None = None) -> Book:
    """Read the 施策体系 table; column labels from the layout file's `labels:`."""
    book = Book(layout="nishitokyo", path=str(path), kind="plan_rows")
    columns = {k: spec.pattern(k, v) for k, v in COLUMNS.items()} if spec is not None else COLUMNS
    for grid in wb.grids():
        if roles is not None and grid.name not in roles:
            continue
        hr = header_row(grid, columns)
        if hr is None:
            continue
        _read_table(grid, hr, book, columns)
    if not book.plan_rows:
        book.findings.append(Finding(Severity.ERROR, "no-rows", "施策体系表に行がありません", str(path)))
    return book


def _read_table(grid: Grid, hr: int, book: Book, columns: dict) -> None:
    cols = {key: next((c for c in range(grid.n_cols) if re.search(pat, grid.label(hr, c))), None)
            for key, pat in columns.items()}

    def text(r, key):
        c = cols.get(key)
        return "" if c is None else grid.anchor_text(r, c)

    for r in range(hr + 1, grid.n_rows):
        values = {key: text(r, key) for key in COLUMNS}
        if not any(values.values()):
            continue
        row = PlanRow(row=r + 1, sheet=grid.name, direction=values["direction"], measure=values["measure"],
                      project=values["project"], actors=values["actors"], summary=values["summary"],
                      indicator=values["indicator"], current_text=values["current"], note=values["note"])
        row.cells = {k: grid.addr(r, c) for k, c in cols.items() if c is not None}
        row.current_values, warns = parse_series(values["current"], row.cells.get("current"))
        for w in warns:
            book.findings.append(Finding(Severity.WARNING, "era-normalised", w, book.path, grid.name,
                                         row.cells.get("current")))
        if values["target"]:
            row.target, warns = parse_target(values["target"], row.cells.get("target"))
            for w in warns:
                book.findings.append(Finding(Severity.WARNING, "era-normalised", w, book.path,
                                             grid.name, row.cells.get("target")))
        book.plan_rows.append(row)


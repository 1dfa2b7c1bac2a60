"""Write a rolled-forward edition: apply a roll plan to the input workbook with openpyxl
(which keeps the city's widths, merges, fonts, borders, number formats and print setup),
add the history and change-log sheets, and save atomically and reproducibly."""

from __future__ import annotations

import copy
import datetime
import re
import zipfile
from pathlib import Path

from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from xlsgen.atomic import atomic_path
from xlsgen.model import CHANGE_LOG_SHEET as LOG_SHEET
from xlsgen.model import FORMULA_MAP_SHEET
from xlsgen.rollforward import (
    CHECK_HEADERS,
    CHECK_SHEET,
    PAST_HEADERS,
    Change,
    Plan,
    Snapshot,
)

INPUT_FILL = PatternFill("solid", fgColor="FFFFF2CC")  # light yellow: a cell for the clerk
HEAD_FILL = PatternFill("solid", fgColor="FFD9E1F2")
FIXED_TIME = datetime.datetime(2000, 1, 1)
LOG_HEADERS = ("シート", "セル", "変更前", "変更後", "理由")
EMPTY = "（空欄）"


def snapshot(wb) -> Snapshot:
    """Every cell with a value or a number format: sheet → cell → (value, number format)."""
    snap: Snapshot = {}
    for ws in wb.worksheets:
        cells = snap.setdefault(ws.title, {})
        for row in ws.iter_rows():
            for c in row:
                if not isinstance(c, MergedCell) and (c.value is not None or c.number_format != "General"):
                    cells[c.coordinate] = (c.value, c.number_format)
    return snap


def _set(cell, value) -> None:
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text from the input stays text, never a formula


def _top_left(ws, addr: str):
    cell = ws[addr]
    if isinstance(cell, MergedCell):
        for rng in ws.merged_cells.ranges:
            if addr in rng:
                return ws.cell(rng.min_row, rng.min_col)
    return cell


def insert_columns(ws, idx: int, n: int) -> None:
    """Insert `n` columns before column `idx`, keeping merges, widths and the style of the
    column on the left (openpyxl's insert_cols moves only the cells)."""
    ranges = [CellRange(str(r)) for r in ws.merged_cells.ranges]
    for r in ranges:
        ws.unmerge_cells(str(r))
    ws.insert_cols(idx, n)
    for r in ranges:
        if r.min_col >= idx:
            r.shift(col_shift=n)
        elif r.max_col >= idx:
            r.expand(right=n)
        ws.merge_cells(r.coord)
    widths = {k: (d.width, d.customWidth) for k, d in ws.column_dimensions.items()}
    left = get_column_letter(idx - 1)
    for col in range(ws.max_column, idx - 1, -1):
        letter, src = get_column_letter(col), get_column_letter(col - n) if col - n >= idx else left
        if src in widths:
            ws.column_dimensions[letter].width = widths[src][0]
    for row in range(1, ws.max_row + 1):
        for col in range(idx, idx + n):
            cell = ws.cell(row, col)
            if not isinstance(cell, MergedCell):
                cell._style = copy.copy(ws.cell(row, idx - 1)._style)


def _sheet(wb, name: str, headers: tuple, widths: tuple | None = None):
    if name in wb.sheetnames:
        return wb[name]
    ws = wb.create_sheet(name)
    ws.append(list(headers))
    for c in range(1, len(headers) + 1):
        cell = ws.cell(1, c)
        cell.font, cell.fill = Font(bold=True), HEAD_FILL
        ws.column_dimensions[get_column_letter(c)].width = (widths or ())[c - 1] if widths else 18
    ws.freeze_panes = "A2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    return ws


def _append(ws, values) -> None:
    thin = Side(style="thin")
    row = ws.max_row + 1
    for c, v in enumerate(values, start=1):
        cell = ws.cell(row, c)
        _set(cell, v)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)


def _is_input_fill(cell) -> bool:
    """The cell carries the light yellow xlsgen gives a cell left for the clerk."""
    return cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == INPUT_FILL.fgColor.rgb


def apply_plan(wb, plan: Plan) -> list[Change]:
    """Apply the plan's edits to an open workbook; returns the change log."""
    for sheet, idx, n in plan.insert_cols:
        insert_columns(wb[sheet], idx, n)
    changes = []
    for e in plan.edits:
        ws = wb[e.sheet]
        cell = _top_left(ws, e.cell)
        before = cell.value
        unshade = e.unshade_like is not None and _is_input_fill(cell)
        if before == e.value and not (e.shade or e.comment or e.number_format or unshade):
            continue
        _set(cell, e.value)
        if e.number_format:
            cell.number_format = e.number_format
        if e.shade:
            cell.fill = copy.copy(INPUT_FILL)
        if unshade:
            cell.fill = copy.copy(ws[e.unshade_like].fill)
        if e.comment:
            cell.comment = Comment(e.comment, "xlsgen", width=360, height=220)
        changes.append(Change(e.sheet, cell.coordinate, before, e.value, e.reason))
    return changes


def write_edition(wb, output: str | Path, plan: Plan, layout: str) -> list[Change]:
    """Apply `plan` to `wb` (the input, opened with openpyxl) and save it to `output`."""
    from xlsgen.render.formula_map import add_formula_map_openpyxl, notes_from_workbook

    changes = apply_plan(wb, plan)
    for name, rows in plan.history.items():
        headers = CHECK_HEADERS[layout] if name == CHECK_SHEET else PAST_HEADERS
        ws = _sheet(wb, name, headers, (10, 14, 18, 24, 60, 10, 60, 10)[: len(headers)]
                    if name == CHECK_SHEET else None)
        for row in rows:
            _append(ws, row)
    for name in (LOG_SHEET, FORMULA_MAP_SHEET):
        if name in wb.sheetnames:
            del wb[name]
    log = _sheet(wb, LOG_SHEET, LOG_HEADERS, (12, 8, 40, 40, 60))
    for ch in changes:
        _append(log, (ch.sheet, ch.cell, EMPTY if ch.before in (None, "") else ch.before,
                      EMPTY if ch.after in (None, "") else ch.after, ch.reason))
    add_formula_map_openpyxl(wb, notes_from_workbook(wb))
    wb.properties.created = wb.properties.created or FIXED_TIME
    with atomic_path(output) as tmp:
        wb.save(tmp)
        _reproducible(tmp, wb.properties.created)
    return changes


def _reproducible(path: Path, when: datetime.datetime) -> None:
    """Fix the zip timestamps and the saved-at time so the same input gives the same bytes."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED)

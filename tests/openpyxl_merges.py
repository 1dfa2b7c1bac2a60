"""openpyxl's merged-range formatting, the same result in a fraction of the time.

Loading a workbook, openpyxl gives every cell of a merged range the top-left cell's border
on its edge and its protection (`MergedCellRange.format`). It adds each cell's new border
to the workbook's style list one by one, hashing the whole Border every time: loading one
xlsgen report (1,400 merges) costs a second, most of the suite's openpyxl time. `format`
below computes each distinct sum once per workbook (memoised by the style ids it depends
on) and gives every cell the same style ids as openpyxl would; tests/test_openpyxl_merges.py
compares the two cell by cell. The tests install it for their own process only (conftest);
xlsgen itself never loads merges this way (the audit skips their borders)."""

from __future__ import annotations

import copy

from openpyxl.cell.cell import MergedCell
from openpyxl.styles.borders import Border
from openpyxl.styles.cell_style import StyleArray
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.merge import MergedCellRange

_SIDES = ("top", "left", "right", "bottom")


def _cell(ws, cells: dict, coord):
    cell = cells.get(coord)
    if cell is None:
        row, col = coord
        cell = cells[coord] = MergedCell(ws, row=row, column=col)
    if not cell._style:
        cell._style = StyleArray()
    return cell


def format_merged(self) -> None:
    """`MergedCellRange.format` with each Border sum computed once per workbook."""
    ws = self.ws
    wb = ws.parent
    borders = wb._borders
    sums = wb.__dict__.setdefault("_test_border_sums", {})
    cells = ws._cells
    start = self.start_cell
    for name in _SIDES:
        source = start._style.borderId if start._style else 0
        side = getattr(borders[source], name)
        if side and side.style is None:
            continue  # as openpyxl: no border style, nothing to draw
        for coord in getattr(self, name):
            cell = _cell(ws, cells, coord)
            key = (cell._style.borderId, name, source)
            new = sums.get(key)
            if new is None:
                new = sums[key] = borders.add(borders[key[0]] + Border(**{name: side}))
            cell._style.borderId = new
    protection = wb._protections.add(copy.copy(start.protection))
    for coord in self.cells:
        _cell(ws, cells, coord)._style.protectionId = protection


def install() -> bool:
    """Use `format_merged` in this process; False (nothing changed) when this openpyxl
    lacks the parts it relies on."""
    wb = Workbook()
    if not (hasattr(wb, "_borders") and hasattr(wb, "_protections")
            and "borderId" in vars(StyleArray) and "protectionId" in vars(StyleArray)):
        return False
    if not hasattr(MergedCellRange, "_openpyxl_format"):
        MergedCellRange._openpyxl_format = MergedCellRange.format
    MergedCellRange.format = format_merged
    return True

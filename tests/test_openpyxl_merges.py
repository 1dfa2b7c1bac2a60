"""The tests' faster merged-range formatting (tests/openpyxl_merges.py) gives every cell
the style openpyxl's own gives it: same cell types, same style ids, same style lists."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Border, Protection, Side

from tests import openpyxl_merges
from tests.conftest import INPUTS


def _snapshot(wb):
    # a cell's style ids and the workbook's style lists fix every border and protection
    cells = {(ws.title, k): (type(c).__name__, tuple(c._style) if c._style else None)
             for ws in wb.worksheets for k, c in ws._cells.items()}
    return cells, [repr(b) for b in wb._borders], [repr(p) for p in wb._protections]


def _load_both(path, monkeypatch):
    from openpyxl.worksheet.merge import MergedCellRange

    with monkeypatch.context() as m:
        m.setattr(MergedCellRange, "format", MergedCellRange._openpyxl_format)
        theirs = openpyxl.load_workbook(path)
    with monkeypatch.context() as m:
        m.setattr(MergedCellRange, "format", openpyxl_merges.format_merged)
        ours = openpyxl.load_workbook(path)
    return theirs, ours


def _bordered(path):
    """Merges whose top-left and bottom-right cells carry every kind of side, a locked and
    an unlocked top-left, overlapping edges and a merge of one row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    thin, thick, dashed = Side(style="thin"), Side(style="thick", color="FFFF0000"), Side(style="dashed")
    shapes = [(Border(top=thin, left=thick), None), (Border(bottom=dashed, right=thin), Border(right=thick)),
              (Border(), Border(bottom=thick)), (Border(top=thick, bottom=thin, left=dashed, right=thick), None)]
    row = 1
    for i, (first, last) in enumerate(shapes):
        for height, width in ((1, 4), (3, 2), (4, 5)):
            ws.cell(row, 2).border = first
            ws.cell(row, 2).protection = Protection(locked=bool(i % 2))
            if last is not None:
                ws.cell(row + height - 1, 1 + width).border = last
            ws.merge_cells(start_row=row, start_column=2, end_row=row + height - 1, end_column=1 + width)
            row += height + 1
    wb.save(path)
    return path


def test_the_same_styles_as_openpyxl_gives(tmp_path, monkeypatch):
    assert openpyxl_merges.install()
    report = Path(__file__).parent / "golden" / "report_ojiya.xlsx"  # xlsgen's own report
    books = [report, _bordered(tmp_path / "bordered.xlsx"), *sorted(INPUTS.glob("*.xlsx"))]
    merged = 0
    for path in books:
        theirs, ours = _load_both(path, monkeypatch)
        assert _snapshot(ours) == _snapshot(theirs), path.name
        merged += sum(len(ws.merged_cells.ranges) for ws in ours.worksheets)
    assert merged > 1000  # the report's merges and the bordered shapes were all compared


@pytest.mark.parametrize("side", ["top", "left", "right", "bottom"])
def test_an_edge_cell_gets_the_top_left_side(tmp_path, side):
    """What openpyxl promises: each edge cell of a merge shows the top-left cell's side."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B2"].border = Border(**{side: Side(style="medium")})
    ws.merge_cells("B2:D5")
    wb.save(tmp_path / "m.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "m.xlsx").active
    edge = {"top": "C2", "left": "B4", "right": "D3", "bottom": "C5"}[side]
    assert getattr(ws[edge].border, side).style == "medium"
    inner = ws["C3"].border  # an inner cell draws nothing
    assert all(getattr(inner, s) is None or getattr(inner, s).style is None
               for s in ("top", "left", "right", "bottom"))

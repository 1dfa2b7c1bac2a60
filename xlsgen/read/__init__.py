"""Readers: the only place that opens input workbooks. One module per layout.

`read_book(path, layout="auto")` detects the layout (小千谷 進行管理シート, 常総 事務事業評価シート,
西東京 施策体系) from labels in the workbook and returns the model's `Book`.
"""

from __future__ import annotations

from pathlib import Path

from xlsgen.errors import LayoutError
from xlsgen.model import Book
from xlsgen.read.grid import Grid, WorkbookGrids

LAYOUTS = ("ojiya", "joso", "nishitokyo")


def detect_layout(grids: list[Grid]) -> str | None:
    """The layout whose labels the workbook carries, or None."""
    from xlsgen.read import joso, nishitokyo, ojiya

    if any(joso.is_project_sheet(g) for g in grids):
        return "joso"
    if any(nishitokyo.header_row(g) is not None for g in grids):
        return "nishitokyo"
    if any(ojiya.is_progress_sheet(g) for g in grids):
        return "ojiya"
    return None


def read_book(path: str | Path, layout: str = "auto") -> Book:
    """Read a workbook into the model. Raises InputFileError / LayoutError (Japanese)."""
    from xlsgen.read import joso, nishitokyo, ojiya

    with WorkbookGrids(path) as wb:
        if layout == "auto":
            layout = detect_layout(list(wb.grids()))
            if layout is None:
                raise LayoutError(
                    "様式を判定できません（進行管理シート・事務事業評価シート・施策体系表の"
                    "いずれの見出しも見つかりません）。--layout で様式を指定してください",
                    str(path),
                )
        readers = {"ojiya": ojiya.read_ojiya, "joso": joso.read_joso,
                   "nishitokyo": nishitokyo.read_nishitokyo}
        return readers[layout](path, wb)

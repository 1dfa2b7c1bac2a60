"""xlsxwriter formats shared by the simulation and survey workbooks (their page setup is
theme.setup_sheet, re-exported here)."""

from __future__ import annotations

import xlsxwriter

from xlsgen.render import theme
from xlsgen.render.theme import FONT, INPUT_FILL, PCT, YEN, setup_sheet  # noqa: F401  (re-exported)

HEAD_FILL = theme.SUBHEAD_FILL
SECTION_FILL = theme.LABEL_FILL


class Styles:
    """Formats of the workbook (every one in the Japanese font), created on demand."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self._cache: dict[tuple, object] = {}
        theme.standard_font(wb)

    def __call__(self, kind: str, num: str | None = None):
        key = (kind, num)
        if key not in self._cache:
            props = {"font_name": FONT, "font_size": 10, "valign": "vcenter"}
            props.update({
                "title": {"bold": True, "font_size": 14},
                # labels and notes wrap in their column (their row gets the height): a
                # label running over into the next cell is cut where that cell has a value
                "sub": {"font_color": theme.MUTED_FONT, "font_size": 9, "text_wrap": True},
                "unit": {"align": "right", "font_size": 9},
                "head": {"bold": True, "bg_color": HEAD_FILL, "border": 1, "align": "center",
                         "text_wrap": True},
                "section": {"bold": True, "bg_color": SECTION_FILL, "border": 1, "text_wrap": True},
                "text": {"border": 1, "text_wrap": True},
                "note": {"border": 1, "text_wrap": True, "font_size": 9, "font_color": theme.NOTE_FONT},
                "input": {"border": 1, "font_color": theme.INPUT_FONT, "bg_color": INPUT_FILL,
                          "locked": False},
                "num": {"border": 1},
                "total": {"border": 1, "bold": True, "top": 6, "text_wrap": True},
                "result": {"border": 1, "bold": True, "bg_color": theme.RESULT_FILL,
                           "text_wrap": True},
                "center": {"border": 1, "align": "center"},
            }[kind])
            if num:
                props["num_format"] = num
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]


def wide_note(ws, row: int, text: str, fmt) -> None:
    """A note or source line across the sheet's columns, wrapped (it gets its row's height
    instead of running over into cells that are cut off in print)."""
    last = max([c for c in ws.col_info] or [0])
    if last > 0:
        ws.merge_range(row, 0, row, last, "", fmt)
    ws.write_string(row, 0, text, fmt)


def add_formula_map(wb, notes: list) -> None:
    """Add the 数式一覧 sheet: every formula of the workbook grouped the audit's way (one
    group per R1C1 pattern, all its cells), with the explanations of `notes` (sheet, cells,
    formula, explanation) where they name a group's first cell."""
    from xlsgen.render.formula_map import FormulaNote, notes_of_workbook, write_formula_map

    write_formula_map(wb, notes_of_workbook(wb, [FormulaNote(*n) for n in notes]))


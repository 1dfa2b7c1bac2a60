"""xlsxwriter formats and A4 page setup shared by the simulation and survey workbooks."""

from __future__ import annotations

import xlsxwriter

from xlsgen.render import theme
from xlsgen.render.theme import FONT, INPUT_FILL, PCT, YEN  # noqa: F401

HEAD_FILL = theme.SUBHEAD_FILL
SECTION_FILL = theme.LABEL_FILL


class Styles:
    """Formats of the workbook (every one in the Japanese font), created on demand."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self._cache: dict[tuple, object] = {}
        wb.formats[0].set_font_name(FONT)

    def __call__(self, kind: str, num: str | None = None):
        key = (kind, num)
        if key not in self._cache:
            props = {"font_name": FONT, "font_size": 10, "valign": "vcenter"}
            props.update({
                "title": {"bold": True, "font_size": 14},
                "sub": {"font_color": theme.MUTED_FONT, "font_size": 9},
                "unit": {"align": "right", "font_size": 9},
                "head": {"bold": True, "bg_color": HEAD_FILL, "border": 1, "align": "center",
                         "text_wrap": True},
                "section": {"bold": True, "bg_color": SECTION_FILL, "border": 1},
                "text": {"border": 1, "text_wrap": True},
                "note": {"border": 1, "text_wrap": True, "font_size": 9, "font_color": theme.NOTE_FONT},
                "input": {"border": 1, "font_color": theme.INPUT_FONT, "bg_color": INPUT_FILL,
                          "locked": False},
                "num": {"border": 1},
                "total": {"border": 1, "bold": True, "top": 6},
                "result": {"border": 1, "bold": True, "bg_color": theme.RESULT_FILL},
                "center": {"border": 1, "align": "center"},
            }[kind])
            if num:
                props["num_format"] = num
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]


def setup_sheet(ws, title: str, widths: list[float], landscape: bool = False,
                repeat: int | None = None) -> None:
    """A4, fit to the page width, title header, page-number footer, no gridlines."""
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
    ws.set_header(f'&C&"{FONT},Bold"&11{theme.header_text(title, 200)}')
    ws.set_footer("&C&P / &N ページ")
    ws.hide_gridlines(2)
    if repeat is not None:
        ws.repeat_rows(repeat)
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)


def add_formula_map(wb, notes: list) -> None:
    """Add the 数式一覧 sheet through the shared helper when it is installed."""
    try:
        from xlsgen.render.formula_map import FormulaNote, write_formula_map
    except ImportError:
        return
    write_formula_map(wb, [FormulaNote(*n) for n in notes])


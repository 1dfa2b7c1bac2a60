"""xlsxwriter Formats created once per workbook and reused; A4 print setup; sheet names."""

from __future__ import annotations

import math
import re

from xlsgen import text as legal
from xlsgen.wareki import FiscalYear

FONT = "游ゴシック"
BASE = {"font_name": FONT, "font_size": 10, "valign": "top", "border": 1}
INPUT_FILL = "#FFF2CC"
HEAD_FILL = "#D9E1F2"
PCT = '0.0%;"▲"0.0%'
GRADE_COLORS = {"A": "#C6EFCE", "B": "#DDEBF7", "C": "#FFEB9C", "D": "#FFC7CE"}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


class Styles:
    """`styles(**props)` returns one Format per distinct property set (cached)."""

    def __init__(self, workbook):
        self.workbook = workbook
        self._cache: dict[tuple, object] = {}

    def __call__(self, **props):
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.workbook.add_format({**BASE, **props})
        return self._cache[key]

    # the presets the report uses
    def text(self, **kw):
        return self(text_wrap=True, **kw)

    def head(self, **kw):
        return self(bold=True, bg_color=HEAD_FILL, text_wrap=True, align="center",
                    valign="vcenter", **kw)

    def number(self, value=None, **kw):
        decimals = 0 if value is None or float(value).is_integer() else \
            min(len(repr(float(value)).split(".")[1]), 3)
        frac = "." + "0" * decimals if decimals else ""
        fmt = f'#,##0{frac};"▲"#,##0{frac}'
        return self(num_format=fmt, **kw)

    def input(self, value=None):
        return self.number(value, locked=False, bg_color=INPUT_FILL)

    def pct(self, **kw):
        return self(num_format=PCT, align="right", **kw)

    def year(self, fy: int, **kw):
        """A year held as a number but shown `R3年度(2021)`."""
        short = FiscalYear(fy).short
        return self(num_format=f'"{short}年度("0")"', **kw)

    def band(self):
        return self(bold=True, font_size=12, font_color="#FFFFFF", bg_color="#305496",
                    valign="vcenter")


def header_text(text: str, limit: int) -> str:
    """Text for a page header: one line, no controls, `&` doubled, cut to `limit`."""
    return legal.header_text(text, limit)


def page_setup(ws, title: str, sheet_no: str | None, repeat_rows: tuple[int, int] | None = None,
               landscape: bool = True) -> None:
    """A4, fit to page width, print titles, header with the title and シート№, page footer."""
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.6)
    if repeat_rows:
        ws.repeat_rows(*repeat_rows)
    no = f"&Rシート№ {header_text(sheet_no, 40)}" if sheet_no else ""
    ws.set_header(f'&L&"{FONT},標準"&9{header_text(title, 150)}{no}')
    ws.set_footer("&C&P / &N ページ")


def list_sheet(ws, title: str, heads, head_fmt) -> None:
    """A list with one header row: column widths and headings, frozen below the header,
    printed on A4 with the header row repeated on every page."""
    for c, (h, w) in enumerate(heads):
        ws.set_column(c, c, w)
        ws.write_string(0, c, h, head_fmt)
    ws.freeze_panes(1, 0)
    page_setup(ws, title, None, (0, 0))


def sheet_names(wanted: list[str], reserved: set[str]) -> list[str]:
    """Valid, unique sheet names: ≤ 31 characters, none of []:*?/\\, no edge apostrophes."""
    used = {r.lower() for r in reserved}
    out = []
    for name in wanted:
        base = legal.sheet_name(_BAD_SHEET_CHARS.sub("_", name))
        candidate, n = base[:31], 2
        while candidate.lower() in used:
            suffix = f"~{n}"
            candidate, n = base[:31 - len(suffix)] + suffix, n + 1
        used.add(candidate.lower())
        out.append(candidate)
    return out


def text_height(text: str, width_chars: float, line: float = 13.5) -> float:
    """Row height (points) for wrapped text in a cell `width_chars` wide (CJK ≈ 2 units)."""
    lines = 0
    for para in (text or "").split("\n"):
        units = sum(2 if ord(ch) > 0x2E7F else 1 for ch in para)
        lines += max(1, math.ceil(units / max(width_chars * 0.95, 1)))
    return max(line, lines * line + 3)

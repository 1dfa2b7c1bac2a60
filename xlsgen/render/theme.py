"""The look of every xlsgen workbook: font, colours, cell formats, A4 page setup, chart
styles and the row-height rule.

Every writer takes its fonts and colours from here, and calls `fit_rows(workbook)` just
before `close()`: xlsxwriter writes no row heights and neither Excel nor LibreOffice grows a
row for wrapped text when opening a file, so each row with text gets the height its text
needs in its column (or merged range) width.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata

from xlsxwriter.worksheet import Worksheet as XlsxWorksheet

from xlsgen import text as legal
from xlsgen.wareki import FiscalYear

# --- font and colours ----------------------------------------------------------------
FONT = "游ゴシック"
FONT_SIZE = 10
INPUT_FILL = "#FFF2CC"     # cells a clerk types into
HEAD_FILL = "#D9E1F2"      # table headings
SUBHEAD_FILL = "#DDEBF7"   # simulation headings
LABEL_FILL = "#F2F2F2"     # row labels and sections
BAND_FILL = "#305496"      # Plan / Do / Check / Action bands
RESULT_FILL = "#E2EFDA"
WARN_FILL = "#FCE4D6"
WARN_FONT = "#C00000"
GOOD_FILL = "#C6EFCE"
GOOD_FONT = "#006100"
INPUT_FONT = "#0000FF"
LINK_FONT = "blue"
MUTED_FONT = "#595959"
NOTE_FONT = "#404040"
GRADE_COLORS = {"A": "#C6EFCE", "B": "#DDEBF7", "C": "#FFEB9C", "D": "#FFC7CE"}
NA_FILL = "#BFBFBF"
GRID_LINE = "#BFBFBF"
MARK_FILL = "#FFC000"      # a highlighted point (break-even)
MARK_LINE = "#000000"
PCT = '0.0%;"▲"0.0%'
YEN = '#,##0;"▲"#,##0'
BASE = {"font_name": FONT, "font_size": FONT_SIZE, "valign": "top", "border": 1}
# series told apart in black and white: (colour, dash, marker)
SERIES = [("#2F5597", "solid", "circle"), ("#C00000", "dash", "square"),
          ("#7F7F7F", "round_dot", "triangle"), ("#548235", "long_dash", "diamond")]

def font(size: float | None = None, **kw) -> dict:
    """A chart font in the theme's typeface."""
    return {"name": FONT, **({"size": size} if size else {}), **kw}


def series_style(i: int) -> dict:
    """Line, marker and colour of the i-th line series: distinct without colour."""
    colour, dash, marker = SERIES[i % len(SERIES)]
    return {"line": {"color": colour, "width": 2.25, "dash_type": dash},
            "marker": {"type": marker, "size": 6, "fill": {"color": colour},
                       "border": {"color": colour}}}


# The workbook's standard font sets the width unit of every column. Arial 10 has the same
# metrics in Excel and in LibreOffice (Liberation Sans), so a column prints equally wide in
# both; the cells themselves are in FONT.
STANDARD_FONT, STANDARD_SIZE = "Arial", 10
PT_PER_PX = 0.8  # printed points per pixel of column width (LibreOffice draws a little wider)


def standard_font(workbook) -> None:
    """Set the workbook's standard font (the unit of column widths)."""
    workbook.formats[0].set_font_name(STANDARD_FONT)
    workbook.formats[0].set_font_size(STANDARD_SIZE)


class Styles:
    """`styles(**props)` returns one Format per distinct property set (cached)."""

    def __init__(self, workbook):
        self.workbook = workbook
        self._cache: dict[tuple, object] = {}
        self._fast: dict[tuple, object] = {}
        standard_font(workbook)

    def __call__(self, **props):
        fast = tuple(props.items())  # as the call site ordered them: one lookup
        fmt = self._fast.get(fast)
        if fmt is None:
            key = tuple(sorted(fast))  # the same properties in any order: one Format
            fmt = self._cache.get(key)
            if fmt is None:
                fmt = self._cache[key] = self.workbook.add_format({**BASE, **props})
            self._fast[fast] = fmt
        return fmt

    # the presets the report uses
    def text(self, **kw):
        return self(text_wrap=True, **kw)

    def head(self, **kw):
        return self(**{"bold": True, "bg_color": HEAD_FILL, "text_wrap": True, "align": "center",
                       "valign": "vcenter", **kw})

    def link(self, **kw):
        return self.text(font_color=LINK_FONT, underline=1, **kw)

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

    def year_short(self, fy: int, **kw):
        """A year held as a number but shown `H30` (in a narrow column headed 年度)."""
        return self(num_format=f'"{FiscalYear(fy).short}"', align="center", **kw)

    def band(self):
        return self(bold=True, font_size=12, font_color="#FFFFFF", bg_color=BAND_FILL,
                    valign="vcenter")


# --- worksheets -------------------------------------------------------------------------
class Worksheet(XlsxWorksheet):
    """xlsxwriter's worksheet, writing a formula without its scan for Excel 365 functions
    (about 30 regular expressions a formula) when the formula names none of them: the
    report writes thousands of formulas. Add it with
    `workbook.add_worksheet(name, worksheet_class=Worksheet)`."""

    _DYNAMIC = re.compile(
        r"(?:ANCHORARRAY|BYCOL|BYROW|CHOOSECOLS|CHOOSEROWS|DROP|EXPAND|FILTER|HSTACK|LAMBDA|"
        r"MAKEARRAY|MAP|RANDARRAY|REDUCE|SCAN|INGLE|SEQUENCE|SORT|SORTBY|SWITCH|TAKE|"
        r"TEXTSPLIT|TOCOL|TOROW|UNIQUE|VSTACK|WRAPCOLS|WRAPROWS|XLOOKUP)\(")

    def _prepare_formula(self, formula, expand_future_functions=False):
        if self.use_future_functions or expand_future_functions or self._DYNAMIC.search(formula):
            return super()._prepare_formula(formula, expand_future_functions)
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        return formula[:-1] if formula.endswith("}") else formula


# --- page setup ------------------------------------------------------------------------
# A4 in points, the margins in inches (the header and footer sit inside the top and bottom
# margins). Every sheet is printed at a print scale chosen from its column widths, never
# "fit to page": below MIN_SCALE the type would be smaller than about 7.5 pt.
A4_PT = (595.3, 841.9)
MARGINS = {"left": 0.5, "right": 0.5, "top": 0.75, "bottom": 0.6}
HEADER_MARGIN = 0.3
MIN_SCALE = 0.75


def printable_pt(landscape: bool) -> tuple[float, float]:
    """Width and height (points, at 100 %) of the printed area of an A4 page."""
    w, h = (A4_PT[1], A4_PT[0]) if landscape else A4_PT
    width = w - 72 * (MARGINS["left"] + MARGINS["right"])
    height = h - 72 * (MARGINS["top"] + MARGINS["bottom"])
    return width, height * 0.95  # a little room: LibreOffice's rows are not exact


class Print:
    """How a sheet is printed: orientation, print scale (percent) and the height of
    content (points at 100 %) one page holds at that scale."""

    def __init__(self, landscape: bool, scale: int):
        self.landscape, self.scale = landscape, scale
        self.page_height = printable_pt(landscape)[1] * 100 / scale

    def __repr__(self) -> str:
        return f"Print({'landscape' if self.landscape else 'portrait'}, {self.scale}%)"


def _percent(x: float) -> int:
    return max(10, min(100, int(x * 100 + 1e-9)))


def choose_print(width_px: float, height_pt: float | None = None,
                 one_page: bool = False) -> Print:
    """Orientation and scale for content `width_px` wide (and `height_pt` high).

    The scale is the largest at which the width fits the page (at most 100 %). With
    `one_page`, an orientation whose page also holds the whole height at a scale of at least
    MIN_SCALE wins (the larger scale); else the orientation that prints the width largest
    (portrait when both fit at 100 %), on as many pages as it needs."""
    width_pt = width_px * PT_PER_PX
    fits = {}
    for landscape in (False, True):
        w, h = printable_pt(landscape)
        by_width = min(1.0, w / width_pt) if width_pt else 1.0
        fits[landscape] = (by_width, min(by_width, h / height_pt) if height_pt else by_width)
    if one_page and height_pt:
        whole = [(s1, not landscape, landscape) for landscape, (_, s1) in fits.items()
                 if s1 >= MIN_SCALE]
        if whole:
            s1, _, landscape = max(whole)
            return Print(landscape, _percent(s1))
    scale, _, landscape = max((s, not ls, ls) for ls, (s, _) in fits.items())
    # too wide even in landscape: readable type, the columns go on over a second page
    return Print(landscape, _percent(max(scale, MIN_SCALE)))


def sheet_width_px(ws, first_col: int, last_col: int) -> float:
    return sum(_col_px(ws, c) for c in range(first_col, last_col + 1))


def apply_print(ws, how: Print) -> None:
    """A4, the orientation and scale of `how`, the theme's margins."""
    ws.set_paper(9)
    if how.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_print_scale(how.scale)
    ws.set_margins(**MARGINS)


def running_header(ws, document: str, year: str, sheet_label: str) -> None:
    """The header and footer of every page: the document (city and plan) and its fiscal
    year on the left, the sheet on the right; page n / m and the date printed below. Each
    part is cut so the whole stays within Excel's 255 characters."""
    font = f'&"{FONT},標準"'
    left = header_text(document, 110) + ("　" + header_text(year, 30) if year else "")
    ws.set_header(f"&L{font}&9{left}&R{font}&9{header_text(sheet_label, 60)}")
    ws.set_footer(f"&L{font}&8印刷 &D&C{font}&9&P / &N ページ")


def header_text(text: str, limit: int) -> str:
    """Text for a page header: one line, no control characters, `&` doubled, cut to `limit`
    without splitting an `&&` (xlsgen.text)."""
    return legal.header_text(text, limit)


def print_sheet(ws, title: str, last_col: int, repeat_rows: tuple[int, int] | None = None,
                year: str = "", label: str | None = None, height_pt: float | None = None,
                ranges: list[tuple[int, int, int, int]] | None = None) -> Print:
    """Print setup of a list or table sheet: orientation and scale from its width (columns
    0..last_col), the header rows repeated on every page, the running header. `ranges`:
    print areas (first row, first col, last row, last col) printed one after another."""
    how = choose_print(sheet_width_px(ws, 0, last_col), height_pt)
    apply_print(ws, how)
    if repeat_rows:
        ws.repeat_rows(*repeat_rows)
    running_header(ws, title, year, label if label is not None else ws.name)
    if ranges:
        print_ranges(ws, ranges)
    return how


def print_ranges(ws, ranges: list[tuple[int, int, int, int]]) -> None:
    """Several print areas on one sheet, printed in this order (each with the print titles)."""
    from xlsgen.formulas import area, quote_sheet

    first, *rest = ranges
    ws.print_area(*first)
    for r1, c1, r2, c2 in rest:
        ws.print_area_range += f",{quote_sheet(ws.name)}!{area(r1, c1, r2, c2, absolute=True)}"


def page_setup(ws, title: str, sheet_no: str | None, repeat_rows: tuple[int, int] | None = None,
               landscape: bool = True, one_page: bool = False) -> Print:
    """A4 at a scale chosen from the sheet's column widths (never fit to page; `landscape`
    and `one_page` are kept for callers, the widths decide), print titles, the running
    header (`title`, シート№) and footer (page n / m, date printed)."""
    last = max([c for c in ws.col_info] or [0])
    how = choose_print(sheet_width_px(ws, 0, last))
    apply_print(ws, how)
    if repeat_rows:
        ws.repeat_rows(*repeat_rows)
    running_header(ws, title, "", f"シート№ {sheet_no}" if sheet_no else ws.name)
    return how


def setup_sheet(ws, title: str, widths: list[float], landscape: bool = False,
                repeat: int | None = None) -> None:
    """A4 at a scale chosen from the column widths (never fit to page), title header,
    page-number and date footer, no gridlines."""
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    how = choose_print(sum(_width_px(w) for w in widths))
    apply_print(ws, how)
    font = f'&"{FONT},Bold"'
    ws.set_header(f"&C{font}&11{header_text(title, 200)}")
    ws.set_footer(f'&L&"{FONT},標準"&8印刷 &D&C&"{FONT},標準"&9&P / &N ページ')
    ws.hide_gridlines(2)
    if repeat is not None:
        ws.repeat_rows(repeat)


def list_sheet(ws, title: str, heads, head_fmt, year: str = "", label: str | None = None) -> Print:
    """A list with one header row: column widths and headings, frozen below the header,
    printed on A4 with the header row repeated on every page."""
    for c, (h, w) in enumerate(heads):
        ws.set_column(c, c, w)
        ws.write_string(0, c, h, head_fmt)
    ws.freeze_panes(1, 0)
    return print_sheet(ws, title, len(heads) - 1, (0, 0), year=year, label=label)


def _width_px(width_chars: float) -> float:
    """Pixels of a column `width_chars` wide (xlsxwriter's rule for the default font)."""
    return 0 if width_chars <= 0 else int(width_chars * 7 + 0.5) + 5


# --- the row-height rule ----------------------------------------------------------------
LINE = 1.6          # line height in em (游ゴシック's leading; also fits Noto Sans CJK)
PAD_PT = 3.0        # top + bottom cell padding
CELL_PAD_PX = 7     # left + right padding inside a cell
MAX_ROW_PT = 409    # Excel's highest row


def char_em(ch: str) -> float:
    """Advance of one character in em: full-width (CJK, full-width forms) 1, others ~0.6."""
    if unicodedata.east_asian_width(ch) in "WF":
        return 1.0
    if ch in "ilIj.,:;'|!()[] ":
        return 0.35
    return 0.6


@functools.lru_cache(maxsize=65536)  # the same labels recur on every sheet
def text_lines(text: str, width_px: float, font_size: float = FONT_SIZE, wrap: bool = True) -> int:
    """Lines `text` takes in a cell `width_px` pixels wide (full-width characters count
    double a half-width one)."""
    paras = (text or "").split("\n")
    if not wrap:
        return len(paras)
    em_px = font_size * 4 / 3
    avail = max(width_px - CELL_PAD_PX, em_px) * 0.95
    lines = 0
    for para in paras:
        lines += _wrapped(para, avail, em_px)
    return lines


_UNITS = re.compile(r"[!-~]+|.", re.S)  # a run of ASCII without a space is kept whole


def _wrapped(para: str, avail: float, em_px: float) -> int:
    """Lines of one paragraph wrapped the way a spreadsheet does: a line breaks between
    full-width characters or at a space, not inside a run of ASCII (`$A$3:$A$290,0))`),
    which goes to the next line whole unless it is longer than a line."""
    lines, used = 1, 0.0
    for unit in _UNITS.findall(para):
        px = sum(char_em(ch) for ch in unit) * em_px
        if used + px <= avail:
            used += px
            continue
        if unit.isspace():
            continue  # a space at the end of a line takes no room
        if px <= avail:
            lines, used = lines + 1, px
            continue
        if used:  # longer than a line: starts a line of its own and runs over several
            lines += 1
        full, rest = divmod(px, avail)
        lines += int(full) - (1 if rest == 0 else 0)
        used = rest if rest else avail
    return lines


def width_chars(text: str, font_size: float = FONT_SIZE) -> float:
    """The column width (characters) that holds `text` on one line."""
    px = sum(char_em(ch) for ch in text) * font_size * 4 / 3
    return round((px / 0.95 + CELL_PAD_PX - 5) / 7 + 0.5, 1)


def fits_line(text: str, width_chars: float, font_size: float = FONT_SIZE) -> bool:
    """Whether `text` fits one line of a column `width_chars` wide (a hyperlink cell must:
    LibreOffice does not wrap one)."""
    return text_lines(text, width_chars * 7 + 5, font_size) == 1 and "\n" not in text


def chunk_line(items: list[str], width_chars: float, sep: str = ", ") -> list[str]:
    """`items` joined by `sep` into lines that each fit a column `width_chars` wide."""
    lines: list[str] = []
    for item in items:
        if lines and fits_line(lines[-1] + sep + item, width_chars):
            lines[-1] += sep + item
        else:
            lines.append(item)
    return lines


def lines_height(lines: int, font_size: float = FONT_SIZE) -> float:
    """Row height in points for `lines` lines of text."""
    return round(lines * font_size * LINE + PAD_PT, 1)


def _col_px(ws, c: int) -> float:
    info = ws.col_info.get(c)
    if info is None or info.width is None:
        return ws.default_col_width
    return 0 if info.hidden else info.width


def _text_of(cell, strings: dict) -> str | None:
    kind = type(cell).__name__
    if kind == "String":
        s = cell.string
        return strings.get(s, s) if isinstance(s, int) else s
    if kind == "Formula":
        return cell.value if isinstance(cell.value, str) else None
    if kind == "RichString":
        return cell.raw_string
    return None


def fit_rows(workbook) -> None:
    """Set every row's height from its text: the text's lines in its column width (the merged
    width for a merged range; a range over several rows shares its height among them), at its
    font size; never lower than a height already set."""
    table = workbook.str_table.string_table or {}
    strings = {i: s for s, i in table.items()}
    for ws in workbook.worksheets():
        if getattr(ws, "is_chartsheet", False) or ws.constant_memory:
            continue
        merged = {}
        for r1, c1, r2, c2 in ws.merge:
            merged[(r1, c1)] = (r2, sum(_col_px(ws, c) for c in range(c1, c2 + 1)))
        need: dict[int, float] = {}
        spans = []
        for r, cols in ws.table.items():
            for c, cell in cols.items():
                text = _text_of(cell, strings)
                if not text:
                    continue
                fmt = cell.format
                size = (fmt.font_size if fmt is not None else 11) or 11
                wrap = bool(fmt is not None and fmt.text_wrap)
                r2, width = merged.get((r, c), (r, _col_px(ws, c)))
                h = lines_height(text_lines(text, width, size, wrap), size)
                if r2 > r:
                    spans.append((r, r2, h))
                else:
                    need[r] = max(need.get(r, 0), h)
        for r1, r2, h in spans:
            have = sum(_row_pt(ws, r, need) for r in range(r1, r2 + 1))
            if h > have:
                need[r2] = _row_pt(ws, r2, need) + (h - have)
        for r, h in need.items():
            info = ws.row_info.get(r)
            if info is not None and info.hidden:
                continue
            current = info.height * 3 / 4 if info is not None and info.height else 0
            h = min(math.ceil(h * 4 / 3) * 3 / 4, MAX_ROW_PT)  # whole pixels, never below
            if h > current + 0.1:
                opts = {"level": info.level, "collapsed": info.collapsed} if info else None
                ws.set_row(r, h, info.row_format if info else None, opts)


def _row_pt(ws, r: int, need: dict) -> float:
    info = ws.row_info.get(r)
    set_pt = info.height * 3 / 4 if info is not None and info.height else 15
    return max(set_pt, need.get(r, 0))

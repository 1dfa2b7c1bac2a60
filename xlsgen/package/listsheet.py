"""xlsgen's list sheets added to a package (前年度評価, 過年度実績, 変更履歴, 数式一覧):
header row repeated on every printed page, frozen, A4 landscape at full size (the widest
columns narrowed and wrapped until the sheet fits the page width: no shrinking to fit),
explicit row heights from the text so nothing is cut or overprinted, a running header
naming the book and its edition, the sheet and the date printed, and page n / m below.
Numbers (`Figure`) are right-aligned in their own number format."""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
import unicodedata

from xlsgen.model import Figure
from xlsgen.package.ooxml import NS_MAIN, NS_R, escape_attr, escape_text
from xlsgen.package.sheet import cell_xml, col_letters, to_serial

FONT_PT = 10.0
# A4 landscape, 0.4" side margins: 784 pt to print on. A column `w` wide takes up to 7 pt
# per unit (LibreOffice with the usual default fonts; Excel with Calibri 11 about 5.3), so
# the columns of one page add up to at most 112 units
PAGE_UNITS = 112
MIN_WIDTH = 6
NARROW = 12  # columns this narrow (年度, シート, セル) keep their width


@functools.cache
def _char_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WFA" else 1


_NARROW = re.compile(r"[\x00-\x7f\uff61-\uff9f]+")  # ASCII and half-width kana: one column each


@functools.lru_cache(maxsize=4096)
def text_width(text: str) -> int:
    """Display width of one line: full-width and ambiguous characters count 2."""
    if text.isascii():
        return len(text)
    narrow = sum(len(m) for m in _NARROW.findall(text))
    rest = _NARROW.sub("", text)
    return narrow + sum(map(_char_width, rest))


def row_height(values, widths, font_pt: float = FONT_PT) -> float:
    """Points for a row of wrapped cells: the tallest cell's line count × line height.

    A column `w` wide holds about `w - 1` half-width characters of a 10-11pt font."""
    lines = 1
    for v, w in zip(values, widths):
        if v in (None, ""):
            continue
        per_line = max(1.0, (w - 1) * 11.0 / font_pt)
        n = sum(max(1, math.ceil(text_width(part) / per_line)) for part in str(v).split("\n"))
        lines = max(lines, n)
    return round(lines * font_pt * 1.45 + 4, 2)


def _cell(ref: str, value, style: int, styles: dict[str, int], date1904: bool) -> str:
    if isinstance(value, (_dt.date, _dt.datetime)):  # a date shown as a date, in the book's system
        return cell_xml("", ref, to_serial(value, date1904), styles.get("date", style))
    return cell_xml("", ref, value, style)


def fit_widths(widths, page: int = PAGE_UNITS) -> list[float]:
    """The widths narrowed, widest first, until they fit the page width at full size (text
    wraps in the narrowed columns; never below MIN_WIDTH): no shrinking to fit."""
    widths = list(widths)
    if sum(widths) <= page:
        return widths
    small = sum(w for w in widths if w <= NARROW)
    wide = sum(w for w in widths if w > NARROW)
    if wide and page > small:  # the text columns give up their width in proportion
        factor = (page - small) / wide
        widths = [w if w <= NARROW else max(NARROW, int(w * factor)) for w in widths]
    while sum(widths) > page and max(widths) > MIN_WIDTH:
        i = widths.index(max(widths))
        widths[i] -= 1
    return widths


def _header_text(text: str) -> str:
    """A header/footer section's text: `&` doubled, at most 120 characters."""
    text = " ".join(text.split())
    return (text[:119] + "…" if len(text) > 120 else text).replace("&", "&&")


def _number(v) -> tuple[object, str | None]:
    if isinstance(v, Figure):
        return v.value, v.number_format
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v, "#,##0" if isinstance(v, int) or float(v).is_integer() else "#,##0.0##"
    return v, None


def list_sheet_xml(headers, widths, rows, styles: dict[str, int], links=None,
                   date1904: bool = False, header: str = "", number_style=None) -> str:
    """The worksheet part of a list sheet; `links` maps (row, col) → internal location;
    dates are written as date serials of the book's date system (`date1904`); `header`:
    the book and edition printed at the top left of every page; `number_style(format)`:
    the cell style of a number in that format."""
    links = links or {}
    widths = fit_widths(widths)
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                   for i, w in enumerate(widths, start=1))
    out = []
    for r, values in enumerate([tuple(headers), *rows], start=1):
        style = styles["head"] if r == 1 else styles["body"]
        shown = [f"{x.value:,}" if isinstance(x, Figure) else x for x in values]
        ht = row_height(shown, widths)
        cells = []
        for c, v in enumerate(values, start=1):
            v, fmt = _number(v) if r > 1 else (v, None)
            s = styles["link"] if (r, c) in links else (
                number_style(fmt) if fmt and number_style else style)
            cells.append(_cell(f"{col_letters(c)}{r}", v, s, styles, date1904))
        out.append(f'<row r="{r}" ht="{ht}" customHeight="1">{"".join(cells)}</row>')
    last = f"{col_letters(len(widths))}{len(rows) + 1}"
    hyper = ""
    if links:
        hyper = "<hyperlinks>" + "".join(
            f'<hyperlink ref="{col_letters(c)}{r}" location="{escape_attr(loc)}"/>'
            for (r, c), loc in sorted(links.items())) + "</hyperlinks>"
    head = (f"&L{_header_text(header)}" if header else "") + "&C&A&R&D"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">'
        "<sheetPr/>"
        f'<dimension ref="A1:{last}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
        ' state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
        f'<sheetData>{"".join(out)}</sheetData>{hyper}'
        '<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
        '<pageSetup paperSize="9" orientation="landscape" scale="100"/>'
        f"<headerFooter><oddHeader>{escape_text(head)}</oddHeader>"
        f"<oddFooter>{escape_text('&C&P / &N')}</oddFooter></headerFooter>"
        "</worksheet>")

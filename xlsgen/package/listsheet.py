"""xlsgen's list sheets added to a package (前年度評価, 過年度実績, 変更履歴, 数式一覧):
header row repeated on every printed page, frozen, A4 landscape fitted to the page width,
explicit row heights from the text so nothing is cut or overprinted."""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
import unicodedata

from xlsgen.package.ooxml import NS_MAIN, NS_R, escape_attr
from xlsgen.package.sheet import cell_xml, col_letters, to_serial

FONT_PT = 10.0


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


def list_sheet_xml(headers, widths, rows, styles: dict[str, int], links=None,
                   date1904: bool = False) -> str:
    """The worksheet part of a list sheet; `links` maps (row, col) → internal location;
    dates are written as date serials of the book's date system (`date1904`)."""
    links = links or {}
    widths = list(widths)
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                   for i, w in enumerate(widths, start=1))
    out = []
    for r, values in enumerate([tuple(headers), *rows], start=1):
        style = styles["head"] if r == 1 else styles["body"]
        ht = row_height(values, widths)
        cells = "".join(_cell(f"{col_letters(c)}{r}", v, styles["link"] if (r, c) in links else style,
                              styles, date1904)
                        for c, v in enumerate(values, start=1))
        out.append(f'<row r="{r}" ht="{ht}" customHeight="1">{cells}</row>')
    last = f"{col_letters(len(widths))}{len(rows) + 1}"
    hyper = ""
    if links:
        hyper = "<hyperlinks>" + "".join(
            f'<hyperlink ref="{col_letters(c)}{r}" location="{escape_attr(loc)}"/>'
            for (r, c), loc in sorted(links.items())) + "</hyperlinks>"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">'
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="A1:{last}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
        ' state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
        f'<sheetData>{"".join(out)}</sheetData>{hyper}'
        '<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
        '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
        '<headerFooter><oddFooter>&amp;P / &amp;N</oddFooter></headerFooter>'
        "</worksheet>")

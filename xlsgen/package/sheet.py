"""Worksheet parts as text: read cell values, and rewrite single `<c>` elements in place.

Cells are found by the one cell scanner (`xlsgen.read.cells`), which knows every shape Excel
accepts (namespace prefixes, rows and cells without `r`, single quotes, self-closing cells).
Only the `<c>` elements of edited cells change (a missing `<c>` or `<row>` is inserted in
order); every other byte of the part stays as it was, unless the part is out of the order
Excel requires (rows or cells out of order or repeated, or without `r`): then its sheetData
is first written in order, each element kept as it was, with explicit references
(`SheetText.normalised`).
"""

from __future__ import annotations

import datetime as _dt
import functools
import re

from xlsgen.formulas import col_index, col_letters  # noqa: F401  (re-exported)
from xlsgen.package.ooxml import escape_attr, escape_text
from xlsgen.read.cells import (
    SharedStrings,  # noqa: F401  (re-exported: the lazy table)
    SheetScan,
    cell_value,
    may_hold_formulas,
    scan_sheet,
    split_ref,
)
from xlsgen.read.cells import shared_strings as _shared_strings


@functools.cache
def split_addr(addr: str) -> tuple[int, int]:
    """'B12' → (12, 2); SheetXmlError (a ValueError) for a reference outside A1:XFD1048576."""
    return split_ref(addr)


def shared_strings(data: bytes | None) -> list[str]:
    """The shared string table as plain text (rich-text runs joined, furigana left out)."""
    return _shared_strings(data)


class SheetCells(dict):
    """One sheet of a snapshot: address → (value, number format); `formulas` holds the
    addresses of formula cells (a roll never plans over the city's own formulas)."""

    formulas: frozenset = frozenset()


def read_cells(xml: str | bytes, sst: list[str], number_format, date1904: bool | None = None,
               scan: SheetScan | None = None) -> SheetCells:
    """Cells with a value or a number format: address → (value, number format). With
    `date1904` given (the book's date system), numbers in date-formatted cells are dates."""
    scan = scan if scan is not None else scan_sheet(xml)
    out = SheetCells()
    formulas = []
    fmt_of: dict[int, str] = {}
    for c in scan.cells():
        s = c.s
        fmt = fmt_of.get(s)
        if fmt is None:
            fmt = fmt_of[s] = number_format(s) if s else "General"
        value = cell_value(c, sst)
        if c.f is not None:
            formulas.append(c.ref)
        if value is None and fmt == "General":
            continue
        if date1904 is not None and type(value) in (int, float) and fmt != "General" and is_date(fmt):
            value = from_serial(value, date1904)
        out[c.ref] = (value, fmt)
    out.formulas = frozenset(formulas)
    return out


_FMT_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
# a date or time format as openpyxl's is_date_format reads one (the first section, quoted
# text and bracketed locale/colour parts but [h], [mm], [ss] left out): no openpyxl import
_NOT_DATE_PARTS = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
_DATE_CODE = re.compile(r"(?<![_\\])[dmhysDMHYS]")


def _is_date_format(fmt: str | None) -> bool:
    if fmt is None:
        return False
    return _DATE_CODE.search(_NOT_DATE_PARTS.sub("", fmt.split(";")[0])) is not None


@functools.lru_cache(maxsize=512)
def is_date(fmt: str) -> bool:
    """A number format that shows a calendar date (a time of day alone is not one)."""
    if not _is_date_format(fmt):
        return False
    bare = _FMT_LITERALS.sub("", fmt).lower()
    return any(ch in bare for ch in "ydeg") or re.search(r"(?<![h:])m(?!m*:)|mmm", bare) is not None


_EPOCH_1900 = _dt.datetime(1899, 12, 30)
_EPOCH_1904 = _dt.datetime(1904, 1, 1)


def from_serial(value: float, date1904: bool):
    """A date serial of the book's date system as a date (a datetime when it has a time)."""
    if value < 1 or value > 2958465:
        return value
    if not date1904 and value < 61:  # before Excel's 1900-02-29 that never was
        value += 1
    d = (_EPOCH_1904 if date1904 else _EPOCH_1900) + _dt.timedelta(days=value)
    d = d.replace(microsecond=0) if d.microsecond >= 999_000 or d.microsecond < 1000 else d
    return d.date() if d.time() == _dt.time(0) else d


def to_serial(value, date1904: bool) -> float | int:
    """A date (or datetime) as a serial number of the book's date system."""
    if not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day)
    days = (value - (_EPOCH_1904 if date1904 else _EPOCH_1900)).total_seconds() / 86400
    if not date1904 and days < 61:
        days -= 1
    return int(days) if days == int(days) else days


def merges(xml: str) -> list[tuple[int, int, int, int]]:
    """Merged ranges as (min_row, min_col, max_row, max_col)."""
    out = []
    for ref in re.findall(r'<(?:\w+:)?mergeCell\b[^>]*\sref="([^"]+)"', xml):
        a, _, b = ref.partition(":")
        (r1, c1), (r2, c2) = split_addr(a), split_addr(b or a)
        out.append((r1, c1, r2, c2))
    return out


def has_formulas(xml: str | bytes) -> bool:
    """Whether the part holds a formula cell."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    return may_hold_formulas(data) and any(c.f is not None for c in scan_sheet(data).cells())


def cell_xml(prefix: str, addr: str, value: object, style: int) -> str:
    s = f' s="{style}"' if style else ""
    p = prefix
    if value is None or value == "":
        return f'<{p}c r="{addr}"{s}/>'
    if isinstance(value, bool):
        return f'<{p}c r="{addr}"{s} t="b"><{p}v>{int(value)}</{p}v></{p}c>'
    if isinstance(value, (int, float)) and value == value and abs(value) != float("inf"):
        return f'<{p}c r="{addr}"{s}><{p}v>{value!r}</{p}v></{p}c>'
    text = escape_text(str(value))
    return (f'<{p}c r="{addr}"{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">{text}</{p}t>'
            f"</{p}is></{p}c>")


_NAME = re.compile(rb"<([^\s/>]+)")
_HAS_R = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*?\s+r\s*=""")
_SPANS = re.compile(rb'\sspans="(\d+):(\d+)"')


def _qname(data: bytes, at: int) -> bytes:
    return _NAME.match(data, at).group(1)


def _with_ref(tag: bytes, ref: str) -> bytes:
    """An element's text with ` r="ref"` after its name (for one that had no `r`)."""
    m = _NAME.match(tag)
    return tag[: m.end()] + f' r="{ref}"'.encode() + tag[m.end():]


def _opened(tag: bytes) -> bytes:
    """`<x a="1"/>` → `<x a="1">`."""
    return tag[:-2].rstrip() + b">"


class SheetText:
    """A worksheet part's text with its rows and cells located by the cell scanner, for
    in-place cell edits."""

    def __init__(self, xml: str | bytes, scan: SheetScan | None = None):
        data = xml.encode("utf-8") if isinstance(xml, str) else xml
        if scan is None or scan.data_start < 0 or (scan.rows and scan.rows[0].start < 0):
            scan = scan_sheet(data, positions=True)
        if scan.data_start < 0:
            raise ValueError("no sheetData")
        self.normalised = _out_of_order(scan)
        self.dropped_formula = False  # a repeated formula cell left out by the normalisation
        if self.normalised:
            data, self.dropped_formula = _in_order(data, scan)
            scan = scan_sheet(data, positions=True)
        self.data, self.scan = data, scan
        self.prefix = scan.prefix
        self.rows = {row.r: row for row in scan.rows}

    @property
    def xml(self) -> str:
        return self.data.decode("utf-8")

    def row_cells(self, n: int) -> list[tuple[int, str, int, str]]:
        """(col, address, s, `<c>` text) of row `n`'s cells, in column order."""
        row = self.rows.get(n)
        if row is None:
            return []
        return [(c.col, c.ref, c.s, self.data[c.start: c.end].decode("utf-8")) for c in row.cells]

    def cells(self, rows) -> dict[str, tuple[int, str]]:
        """address → (s, the `<c>` text) of the cells in `rows`."""
        return {addr: (s, text) for n in rows for _, addr, s, text in self.row_cells(n)}

    def formula_cells(self) -> set[str]:
        """Addresses of the formula cells of the part."""
        return {c.ref for c in self.scan.cells() if c.f is not None}

    def styles(self, wanted) -> tuple[dict[int, int], _Cols]:
        """(row → s of the custom-formatted rows among `wanted`, [(min, max, s)] of columns)."""
        rows = {}
        for n in wanted:
            row = self.rows.get(n)
            if row is not None and row.attrs.get("customFormat") in ("1", "true"):
                try:
                    rows[n] = int(row.attrs.get("s") or 0)
                except ValueError:
                    rows[n] = 0
        return rows, _Cols(self.data[: self.scan.data_start].decode("utf-8"))

    def apply(self, cells: dict[str, str]) -> str:
        """The part's text with the `<c>` of each address replaced by the given XML (cells
        not there are inserted in column order, rows not there in row order)."""
        by_row: dict[int, dict[int, bytes]] = {}
        for addr, xml in cells.items():
            r, c = split_ref(addr)
            by_row.setdefault(r, {})[c] = xml.encode("utf-8")
        data, p = self.data, self.prefix.encode()
        pieces, pos = [], 0
        new_rows: dict[int, bytes] = {}
        for r in sorted(by_row):
            row = self.rows.get(r)
            if row is None:
                new_rows[r] = (b"<" + p + b'row r="%d">' % r +
                               b"".join(x for _, x in sorted(by_row[r].items())) + b"</" + p + b"row>")
                continue
            pieces.append(data[pos: row.start])
            pieces.append(self._row(row, by_row[r]))
            pos = row.end
        pieces.append(data[pos:])
        out = b"".join(pieces)
        if new_rows:
            out = self._insert_rows(out, new_rows)
        return out.decode("utf-8")

    def _row(self, row, edits: dict[int, bytes]) -> bytes:
        data = self.data
        q = _qname(data, row.start)
        open_tag = data[row.start: row.open_end]
        self_closed = row.end == row.open_end
        if self_closed:
            open_tag, body_end = _opened(open_tag), row.open_end
        else:
            body_end = data.rindex(b"</", row.start, row.end)
        out: list[bytes] = []
        pending = dict(edits)
        pos = row.open_end
        for c in row.cells:
            for k in sorted(k for k in pending if k < c.col):
                out.append(pending.pop(k))
            out.append(data[pos: c.start])
            out.append(pending.pop(c.col) if c.col in pending else data[c.start: c.end])
            pos = c.end
        rest = b"".join(x for _, x in sorted(pending.items()))
        tail = data[pos: body_end]
        added = set(edits) - {c.col for c in row.cells}
        spans = _SPANS.search(open_tag)
        if added and spans:
            lo, hi = int(spans.group(1)), int(spans.group(2))
            if min(added) < lo or max(added) > hi:
                lo, hi = min(lo, *added), max(hi, *added)
                open_tag = open_tag.replace(spans.group(0), b' spans="%d:%d"' % (lo, hi))
        return open_tag + b"".join(out) + rest + tail + b"</" + q + b">"

    def _insert_rows(self, data: bytes, rows: dict[int, bytes]) -> bytes:
        scan = scan_sheet(data, positions=True)  # positions after the cell edits
        if scan.data_end == scan.data_open_end:  # <sheetData/>: open it, attributes kept
            tag = data[scan.data_start: scan.data_open_end]
            q = _qname(data, scan.data_start)
            return (data[: scan.data_start] + _opened(tag) + b"".join(rows[r] for r in sorted(rows)) +
                    b"</" + q + b">" + data[scan.data_end:])
        close = data.rindex(b"</", scan.data_start, scan.data_end)
        inserts = []
        for r in sorted(rows):
            after = next((row.start for row in scan.rows if row.r > r), close)
            inserts.append((after, r, rows[r]))
        for at, _, text in sorted(inserts, reverse=True):
            data = data[:at] + text + data[at:]
        return data


def _out_of_order(scan: SheetScan) -> bool:
    """Rows or cells out of order or repeated, or without their own `r`."""
    last = 0
    for row in scan.rows:
        if row.r <= last or not row.explicit:
            return True
        last = row.r
        col = 0
        for c in row.cells:
            if c.col <= col or c.row != row.r:
                return True
            col = c.col
    return scan.implicit_cells


def _in_order(data: bytes, scan: SheetScan) -> tuple[bytes, bool]:
    """The part with its sheetData rows in order, one per number, each with its cells in
    column order and explicit `r` (a repeated cell: the last one, as readers take it); and
    whether a formula cell was left out that way."""
    rows: dict[int, tuple[bytes, bytes, dict[tuple[int, int], bytes]]] = {}
    formulas: dict[tuple[int, int], bool] = {}
    dropped = False
    for row in scan.rows:
        q = _qname(data, row.start)
        open_tag = data[row.start: row.open_end]
        if row.end == row.open_end:
            open_tag = _opened(open_tag)
        if not row.explicit:
            open_tag = _with_ref(open_tag, str(row.r))
        entry = rows.setdefault(row.r, (open_tag, q, {}))
        for c in row.cells:
            text = data[c.start: c.end]
            if not _HAS_R.match(text):
                text = _with_ref(text, c.ref)
            dropped |= formulas.get((c.row, c.col), False)
            formulas[(c.row, c.col)] = c.f is not None
            entry[2][(c.row, c.col)] = text
    if scan.data_end == scan.data_open_end:  # <sheetData/>
        return data, False
    body = []
    for r in sorted(rows):
        open_tag, q, cells = rows[r]
        body.append(open_tag + b"".join(cells[k] for k in sorted(cells)) + b"</" + q + b">")
    close = data.rindex(b"</", scan.data_start, scan.data_end)
    return data[: scan.data_open_end] + b"".join(body) + data[close:], dropped


class _Cols:
    """[(min, max, style)] of the `<col>` elements, parsed on first use."""

    def __init__(self, head: str):
        self.head, self._cols = head, None

    def __iter__(self):
        if self._cols is None:
            self._cols = []
            for c in re.findall(r"<(?:\w+:)?col\b[^>]*>", self.head):
                lo, hi = re.search(r'\smin="(\d+)"', c), re.search(r'\smax="(\d+)"', c)
                st = re.search(r'\sstyle="(\d+)"', c)
                if lo and hi and st:
                    self._cols.append((int(lo.group(1)), int(hi.group(1)), int(st.group(1))))
        return iter(self._cols)


def set_dimension(xml: str, max_row: int, max_col: int) -> str:
    """Widen `<dimension ref>` to cover (max_row, max_col) if needed."""
    m = re.search(r'(<(?:\w+:)?dimension\b[^>]*\sref=")([^"]+)(")', xml)
    if not m:
        return xml
    a, _, b = m.group(2).partition(":")
    try:
        r1, c1 = split_addr(a)
        r2, c2 = split_addr(b or a)
    except ValueError:  # a dimension Excel would not write: set it from the cells
        r1 = c1 = 1
        r2 = c2 = 0
    r2, c2 = max(r2, max_row), max(c2, max_col)
    ref = f"{col_letters(c1)}{r1}:{col_letters(c2)}{r2}"
    return xml[: m.start(2)] + escape_attr(ref) + xml[m.end(2):]

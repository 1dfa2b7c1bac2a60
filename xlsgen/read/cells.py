"""The one reader of worksheet cells in a package.

Every place that looks at cells in the sheet XML uses it: the grid (number formats and the
real extent, `cell_styles`), the uncached-formula check and the audit's saved results
(`iter_cells`), and the package edit (`scan_sheet`: the snapshot and the positions of the
rows and cells it rewrites). The reading is a streaming expat pass: namespace-aware, so
`<x:c>` bound to the main namespace is a cell and an undeclared prefix is an error, and it
never loads a DTD or fetches anything (the read layer refuses DTDs before this). For the
exact shapes Excel and LibreOffice write, a token-by-token pass over sheetData gives the same
result faster and hands anything else to expat (the tests prove both equal a tree reader).

What a cell is, as Excel reads it:
- `r` may be missing on a row (the row after the previous one) or on a cell (the column after
  the previous one in its row); attributes may use single quotes; elements may be
  self-closing (`<c r="C18"/>` holds nothing).
- `v` is the saved value as text (None when there is no `<v>`); `f` the formula text ("" for
  a shared-formula cell, None when there is no `<f>`); `text` the inline string (`<is>`, runs
  joined, phonetic runs left out; `<t/>` is an empty run).
- A formula is calculated when it has a saved value: a `<v>` with text, or an empty `<v>`
  on a text-typed cell (`t="str"`: the formula returned ""). An empty `<v>` on a number cell
  is not a number: it is what a program writes for a formula it never calculated.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import NamedTuple
from xml.parsers import expat

from xlsgen.formulas import col_letters

MAX_ROW = 1_048_576
MAX_COL = 16_384
_A1 = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
# a start tag, attributes quoted either way (only used at a position expat reported)
_STAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


class SheetXmlError(ValueError):
    """Sheet XML Excel would not open (not well-formed, undeclared prefix, bad reference);
    `str()` is a Japanese phrase for the message that names the file and sheet."""


class Cell(NamedTuple):
    row: int          # 1-based
    col: int          # 1-based
    s: int            # style index (0 when absent)
    t: str            # cell type, "n" when absent
    v: str | None     # text of <v>, None without <v>
    f: str | None     # formula text, None without <f>
    text: str | None  # inline string (t="inlineStr"), None without <is>
    start: int = -1   # byte offsets of the <c> element (with positions=True)
    end: int = -1

    @property
    def ref(self) -> str:
        return f"{col_letters(self.col)}{self.row}"

    @property
    def calculated(self) -> bool:
        """A formula cell with a saved result (see the module docstring)."""
        return self.v is not None and (self.v != "" or self.t in ("str", "inlineStr", "e"))

    @property
    def has_content(self) -> bool:
        return self.v is not None or self.f is not None or self.text is not None


class Row(NamedTuple):
    r: int
    attrs: dict       # the row's own attributes (r, s, customFormat …), not namespaced ones
    cells: list
    start: int = -1   # byte offsets of the <row> element
    end: int = -1
    open_end: int = -1  # end of the start tag (== end when self-closing)
    explicit: bool = True  # the row had its own `r`


class SheetScan(NamedTuple):
    rows: list
    prefix: str           # the prefix the sheet writes its main elements with ("" or "x:")
    data_start: int       # byte offsets of <sheetData> (-1 when absent)
    data_open_end: int
    data_end: int
    implicit_cells: bool  # some cell had no `r`

    def cells(self):
        for row in self.rows:
            yield from row.cells


@functools.lru_cache(maxsize=1 << 16)
def split_ref(ref: str) -> tuple[int, int]:
    """'B12' → (12, 2); SheetXmlError unless it is a cell within A1:XFD1048576."""
    m = _A1.fullmatch(ref or "")
    if m is None:
        raise SheetXmlError(f"セル番地「{ref}」が正しくありません")
    n = 0
    for ch in m.group(1).upper():
        n = n * 26 + ord(ch) - 64
    row = int(m.group(2))
    if not (1 <= row <= MAX_ROW and 1 <= n <= MAX_COL):
        raise SheetXmlError(f"セル番地「{ref}」が Excel の範囲（A1:XFD1048576）の外です")
    return row, n


def unescape(text: str) -> str:
    """`_xHHHH_` as the character it stands for (Excel's escape in stored text)."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _int(value, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _parser():
    p = expat.ParserCreate(namespace_separator=" ")
    p.buffer_text = True
    p.ordered_attributes = False
    # a DTD is refused by the read layer; never fetch anything it names either
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return p


_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _error(exc: expat.ExpatError, data: bytes = b"") -> SheetXmlError:
    if exc.code == expat.errors.codes[expat.errors.XML_ERROR_INVALID_TOKEN] and _CONTROL.search(data):
        return SheetXmlError(f"XML で使えない文字（制御文字）があります（{exc.lineno} 行 {exc.offset} 文字目）")
    if exc.code == expat.errors.codes[expat.errors.XML_ERROR_UNBOUND_PREFIX]:
        return SheetXmlError(f"宣言されていない名前空間の接頭辞があります（{exc.lineno} 行 {exc.offset} 文字目）")
    return SheetXmlError(f"XML が壊れています（{expat.ErrorString(exc.code)}、{exc.lineno} 行 {exc.offset} 文字目）")


def _parse(p, data: bytes | str, start, end=None, chars=None) -> None:
    """Run `p` (from `_parser`) over `data` with these handlers; a broken part raises
    SheetXmlError saying what is wrong, in Japanese."""
    p.StartElementHandler = start
    if end is not None:
        p.EndElementHandler = end
    if chars is not None:
        p.CharacterDataHandler = chars
    try:
        p.Parse(data, True)
    except expat.ExpatError as exc:
        raise _error(exc, data) from None


def scan_sheet(data: bytes | str, positions: bool = False) -> SheetScan:
    """Every row and cell of a worksheet part, in document order, with the byte offsets of
    each `<row>` and `<c>` element (and of `<sheetData>`) in `data` (`positions` asks for
    them; the canonical pass always has them).

    Two passes, one result (the tests prove them equal on generated sheets): the canonical
    pass (`_scan_canonical`) reads the exact shapes Excel and LibreOffice write, token by
    token over the whole sheetData, and gives up on anything else; the expat pass
    (`_scan_expat`) reads every shape XML allows."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    scan = _scan_canonical(data)
    return scan if scan is not None else _scan_expat(data, positions)


# --- the canonical pass -----------------------------------------------------------------
# Unprefixed elements in the main namespace as the default one, attributes in double quotes
# with single spaces, `r` first on every row and cell, cells holding only `<f>` and `<v>`,
# optional whitespace between elements; no comment, CDATA or processing instruction in the
# part. Each token is matched where the previous one ended, so every byte of sheetData is
# accounted for; anything else gives None.

_MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROOT = re.compile(rb'(?:<\?xml [^<>]*\?>\s*)?<worksheet((?: [A-Za-z0-9:]+="[^"<]*")*)\s*>')
_SHEETDATA = re.compile(rb"<sheetData(/?)>")
_ROW_OPEN = re.compile(rb'<row r="([1-9][0-9]{0,6})"((?: [A-Za-z0-9:]+="[^"<]*")*)(/?)>')
_CELL = re.compile(
    rb'<c r="([A-Z]{1,3}[1-9][0-9]{0,6})"((?: [A-Za-z]+="[^"<]*")*)'
    rb'(?:/>|>(<f(?: [A-Za-z]+="[^"<]*")*(?:/>|>([^<]*)</f>))?(?:<v>([^<]*)</v>|(<v/>))?'
    rb'(?:<is><t(?: xml:space="preserve")?>([^<]*)</t></is>)?</c>)')
_WS = re.compile(rb"[ \t\r\n]*")
_ATTRS = re.compile(rb' ([A-Za-z0-9:]+)="([^"<]*)"')
_ENTITY = re.compile(rb"&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6}));")
_NAMED = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"', b"apos": "'"}


class _NotCanonical(Exception):
    pass


def _attrs(raw: bytes) -> dict[str, str]:
    pairs = _ATTRS.findall(raw)
    out = {k.decode(): v.decode("utf-8") for k, v in pairs}
    if len(out) != len(pairs) or "xmlns" in raw.decode("ascii", "replace"):
        raise _NotCanonical  # a repeated attribute (not XML) or a namespace declaration
    return out


@functools.lru_cache(maxsize=4096)
def _style_type(raw: bytes) -> tuple[int, str, bool]:
    """(s, t, ok) of a cell's attributes after `r`."""
    try:
        a = _attrs(raw)
    except _NotCanonical:
        return 0, "n", False
    s = a.get("s", "0")
    if not s.isdigit() or "&" in a.get("t", ""):
        return 0, "n", False
    return int(s), a.get("t") or "n", True


def _text(raw: bytes) -> str:
    """Character data without markup, as an XML parser gives it: line ends normalised,
    references resolved (an unknown reference: not canonical)."""
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if b"&" not in raw:
        return raw.decode("utf-8")
    if raw.count(b"&") != len(_ENTITY.findall(raw)):
        raise _NotCanonical
    out = []
    pos = 0
    for m in _ENTITY.finditer(raw):
        out.append(raw[pos: m.start()].decode("utf-8"))
        if m.group(1):
            out.append(_NAMED[m.group(1)])
        else:
            out.append(chr(int(m.group(2)) if m.group(2) else int(m.group(3), 16)))
        pos = m.end()
    out.append(raw[pos:].decode("utf-8"))
    return "".join(out)


def _scan_canonical(data: bytes) -> SheetScan | None:
    if b"<!" in data or data.find(b"<?", 1) >= 0:
        return None
    root = _ROOT.match(data)
    if root is None or b' xmlns="' + _MAIN + b'"' not in root.group(1):
        return None
    sd = _SHEETDATA.search(data, root.end())
    if sd is None or data.find(b"<sheetData", sd.end()) >= 0:
        return None
    try:
        return _tokens(data, sd)
    except (_NotCanonical, UnicodeDecodeError, ValueError):
        return None


@functools.lru_cache(maxsize=4096)
def _row_attrs(raw: bytes) -> dict[str, str]:
    """A row's own attributes (namespaced ones such as x14ac:dyDescent left out, as in the
    expat pass)."""
    return {k: v for k, v in _attrs(raw).items() if ":" not in k}


@functools.lru_cache(maxsize=1 << 16)
def _ref_b(ref: bytes) -> tuple[int, int]:
    return split_ref(ref.decode("ascii"))


def _tokens(data: bytes, sd: re.Match) -> SheetScan | None:
    rows: list[Row] = []
    ws, row_open, cells_in = _WS.match, _ROW_OPEN.match, _CELL.finditer
    new, ref_of, style_of = tuple.__new__, _ref_b, _style_type
    if sd.group(1):  # <sheetData/>
        return SheetScan(rows, "", sd.start(), sd.end(), sd.end(), False)
    pos = ws(data, sd.end()).end()
    find = data.find
    while True:
        m = row_open(data, pos)
        if m is None:
            if data.startswith(b"</sheetData>", pos):
                return SheetScan(rows, "", sd.start(), sd.end(), pos + 12, False)
            raise _NotCanonical
        r_raw, a_raw, closed = m.groups()
        n = int(r_raw)
        if n > MAX_ROW:
            raise SheetXmlError(f"行番号「{n}」が正しくありません（1～{MAX_ROW:,}）")
        attrs = {"r": r_raw.decode("ascii"), **_row_attrs(a_raw)} if a_raw else {"r": r_raw.decode("ascii")}
        start = m.start()
        pos = open_end = m.end()
        cells: list[Cell] = []
        if closed:
            rows.append(Row(n, attrs, cells, start, open_end, open_end, True))
            pos = ws(data, pos).end()
            continue
        close = find(b"</row>", pos)
        if close < 0:
            raise _NotCanonical
        for c in cells_in(data, pos, close):
            c_start, c_end = c.span()
            if c_start != pos and data[pos: c_start].strip(b" \t\r\n"):
                raise _NotCanonical
            ref, c_attrs, f, f_text, v, v_empty, inline = c.groups()
            rr, col = ref_of(ref)
            s, t, ok = style_of(c_attrs) if c_attrs else (0, "n", True)
            if not ok:
                raise _NotCanonical
            if f is not None:
                f = "" if f_text is None else (f_text.decode("utf-8") if b"&" not in f_text and b"\r" not in f_text
                                               else _text(f_text))
            if v is not None:
                v = v.decode("utf-8") if b"&" not in v and b"\r" not in v else _text(v)
            elif v_empty:
                v = ""
            if inline is not None:
                inline = unescape(inline.decode("utf-8") if b"&" not in inline and b"\r" not in inline
                                  else _text(inline))
            pos = c_end
            cells.append(new(Cell, (rr, col, s, t, v, f, inline, c_start, c_end)))
        if data[pos: close].strip(b" \t\r\n"):
            raise _NotCanonical
        pos = close + 6
        rows.append(Row(n, attrs, cells, start, pos, open_end, True))
        pos = ws(data, pos).end()


# --- the expat pass -----------------------------------------------------------------------

def _scan_expat(data: bytes, positions: bool) -> SheetScan:
    p = _parser()
    rows: list[Row] = []
    tags: dict[str, str] = {}
    buf: list[str] = []
    stag = _STAG.match
    ns = None
    root_prefix = prefix = None
    in_data = False
    row = cell = None
    cells: list = []
    r_now = col_now = 0
    rph = 0
    cap = None  # "v", "f", "t" (a run of an inline string) or "is"
    implicit = False
    span = [-1, -1, -1]

    def prefix_at(idx: int) -> str:
        m = re.match(rb"<([^\s/>]+)", data[idx: idx + 64])
        q = m.group(1).decode("utf-8", "replace") if m else ""
        return q[: q.index(":") + 1] if ":" in q else ""

    def start(name, attrs):
        nonlocal ns, root_prefix, prefix, in_data, row, cell, cells, r_now, col_now, rph, cap, implicit
        local = tags.get(name)
        if local is None:
            if ns is None:  # the root element: its namespace is the sheet's
                ns = name.rsplit(" ", 1)[0] if " " in name else ""
                pre = f"{ns} " if ns else ""
                for x in ("sheetData", "row", "c", "v", "f", "is", "t", "rPh"):
                    tags[pre + x] = x
                root_prefix = prefix_at(p.CurrentByteIndex)
            return
        if local == "c":
            if row is None:
                return
            r = attrs.get("r")
            if r is not None:
                rr, col = split_ref(r)
            else:
                rr, col = r_now, col_now + 1
                implicit = True
                if col > MAX_COL:
                    raise SheetXmlError(f"{r_now} 行のセルが XFD 列を超えます")
            col_now = col
            s = attrs.get("s")
            cell = [rr, col, _int(s) if s else 0, attrs.get("t") or "n", None, None, None, -1, -1]
            if positions:
                idx = p.CurrentByteIndex
                m = stag(data, idx)
                cell[7] = idx
                if m.group(1):
                    cell[8] = m.end()
        elif local == "v" or local == "f":
            if cell is not None:
                cap = local
                buf.clear()
        elif local == "row":
            if not in_data:
                return
            r = attrs.get("r")
            explicit = r is not None
            n = _int(r, -1) if explicit else r_now + 1
            if not 1 <= n <= MAX_ROW:
                raise SheetXmlError(f"行番号「{r}」が正しくありません（1～{MAX_ROW:,}）")
            r_now, col_now = n, 0
            start_i = open_end = end_i = -1
            if positions:
                start_i = p.CurrentByteIndex
                m = stag(data, start_i)
                open_end = m.end()
                end_i = open_end if m.group(1) else -1
            cells = []
            own = {k: v for k, v in attrs.items() if " " not in k}  # namespaced ones left out
            row = [n, own, cells, start_i, end_i, open_end, explicit]
        elif cell is None:
            if local == "sheetData":
                in_data = True
                prefix = prefix_at(p.CurrentByteIndex)
                if positions:
                    idx = p.CurrentByteIndex
                    m = stag(data, idx)
                    span[:] = [idx, m.end(), m.end() if m.group(1) else -1]
        elif local == "rPh":
            rph += 1
        elif local == "is":
            cap = "is"
            cell[6] = ""
        elif local == "t" and cap == "is" and rph == 0:
            cap = "t"
            buf.clear()

    def end(name):
        nonlocal in_data, row, cell, cap, rph
        local = tags.get(name)
        if local is None:
            return
        if local == "c":
            if cell is not None:
                if positions and cell[8] < 0:
                    cell[8] = data.index(b">", p.CurrentByteIndex) + 1
                cells.append(Cell(*cell))
                cell = None
                cap = None
        elif local == "v" or local == "f":
            if cap == local:
                cell[4 if local == "v" else 5] = "".join(buf)
                cap = None
        elif local == "row":
            if row is not None:
                if positions and row[4] < 0:
                    row[4] = data.index(b">", p.CurrentByteIndex) + 1
                rows.append(Row(*row))
                row = None
        elif local == "t":
            if cap == "t":
                cell[6] += "".join(buf)
                cap = "is"
        elif local == "is":
            if cell is not None:
                cell[6] = unescape(cell[6])
                cap = None
        elif local == "rPh":
            if cell is not None:
                rph -= 1
        elif local == "sheetData":
            in_data = False
            if positions and span[2] < 0:
                span[2] = data.index(b">", p.CurrentByteIndex) + 1

    def chars(text):
        if cap is not None and cap != "is":
            buf.append(text)

    _parse(p, data, start, end, chars)
    return SheetScan(rows, prefix if prefix is not None else (root_prefix or ""),
                     span[0], span[1], span[2], implicit)


def cell_styles(data: bytes | str) -> list[list]:
    """[row, col, style, holds something] of every cell, from start tags only (the grid's
    number formats and extent: the cheapest pass, same rules as `scan_sheet`)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    p = _parser()
    out: list[list] = []
    tags: dict[str, str] = {}
    ns = None
    in_row = in_data = False
    cur = None
    r_now = col_now = 0

    def start(name, attrs):
        nonlocal ns, in_row, in_data, cur, r_now, col_now
        local = tags.get(name)
        if local is None:
            if ns is None:
                ns = name.rsplit(" ", 1)[0] if " " in name else ""
                pre = f"{ns} " if ns else ""
                for x in ("sheetData", "row", "c", "v", "f", "is"):
                    tags[pre + x] = x
            return
        if local == "c":
            if not in_row:
                return
            r = attrs.get("r")
            if r is not None:
                rr, col = split_ref(r)
            else:
                rr, col = r_now, col_now + 1
                if col > MAX_COL:
                    raise SheetXmlError(f"{r_now} 行のセルが XFD 列を超えます")
            col_now = col
            s = attrs.get("s")
            cur = [rr, col, _int(s) if s else 0, False]
            out.append(cur)
        elif local == "row":
            if not in_data:
                return
            r = attrs.get("r")
            n = _int(r, -1) if r is not None else r_now + 1
            if not 1 <= n <= MAX_ROW:
                raise SheetXmlError(f"行番号「{r}」が正しくありません（1～{MAX_ROW:,}）")
            r_now, col_now, in_row, cur = n, 0, True, None
        elif local == "sheetData":
            in_data = True
        elif cur is not None:  # v, f or is: the cell holds something
            cur[3] = True

    _parse(p, data, start)
    return out


def iter_cells(data: bytes | str):
    """Every cell of a worksheet part (no positions), in document order."""
    return scan_sheet(data).cells()


_SI_T = re.compile(rb'<t(?: xml:space="preserve")?>([^<]*)</t>')
_SI_RUN = re.compile(rb'<r>(?:<rPr>(?:<[A-Za-z]+(?: [A-Za-z]+="[^"<]*")*/>)*</rPr>)?'
                     rb'<t(?: xml:space="preserve")?>([^<]*)</t></r>')
_SI_SKIP = re.compile(rb'<rPh(?: [A-Za-z]+="[^"<]*")*><t(?: xml:space="preserve")?>[^<]*</t></rPh>'
                      rb'|<phoneticPr(?: [A-Za-z]+="[^"<]*")*/>')


def _plain_item(body: bytes, end: int) -> str | None:
    """The text of one `<si>` body in Excel's usual shapes (one `<t>`, or runs with their
    formatting, then phonetic runs), or None."""
    m = _SI_T.match(body, 0, end)
    pos, parts = 0, []
    if m is not None:
        parts.append(m.group(1))
        pos = m.end()
    else:
        while (m := _SI_RUN.match(body, pos, end)) is not None:
            parts.append(m.group(1))
            pos = m.end()
        if not parts:
            return None
    while pos < end and (m := _SI_SKIP.match(body, pos, end)) is not None:
        pos = m.end()
    if pos != end:
        return None
    return unescape("".join(_text(x) for x in parts))


def shared_strings(data: bytes | None) -> list[str]:
    """The shared string table as plain text: rich-text runs joined, phonetic runs (`rPh`)
    left out, an empty run `<t/>` empty, `_xHHHH_` decoded. Items written as one plain
    `<t>` (what Excel writes for text without formatting) are read directly; a table with
    any other item, a prefix or markup in comments is read by expat."""
    if not data:
        return []
    fast = _plain_strings(data)
    if fast is not None:
        return fast
    return _expat_strings(data)


def _plain_strings(data: bytes) -> list[str] | None:
    if b"<!" in data or data.find(b"<?", 1) >= 0 or b"<si " in data:
        return None
    root = re.match(rb'(?:<\?xml [^<>]*\?>\s*)?<sst((?: [A-Za-z0-9:]+="[^"<]*")*)\s*>', data)
    if root is None or b' xmlns="' + _MAIN + b'"' not in root.group(1):
        return None
    pieces = data.split(b"<si>")
    last = len(pieces) - 2
    out = []
    try:
        for i, body in enumerate(pieces[1:]):
            end = body.find(b"</si>")
            text = _plain_item(body, end) if end >= 0 else None
            rest = body[end + 5:].strip() if end >= 0 else b"?"
            if text is None or (rest if i < last else rest.replace(b"</sst>", b"")):
                return None
            out.append(text)
    except (_NotCanonical, UnicodeDecodeError):
        return None
    return out


_SST_ROOT = re.compile(rb"""(?:\xef\xbb\xbf)?(?:<\?xml [^<>]*\?>\s*)?<sst(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*>""")


class SharedStrings:
    """The shared string table, read only as far as the strings asked for need: a pasted
    data sheet can add hundreds of thousands of strings that no sheet a reader uses needs.
    Indexes and `len` as for the list `shared_strings` gives, except that an index past
    the end gives None (what a reader takes a missing string for).

    From `data` (the part's bytes), or from `stream` (the part opened in the zip): then only
    as much of the part is decompressed as the strings asked for need, and `len` is unknown
    (sys.maxsize). The items are read by `shared_strings`, a run of whole `<si>` items at a
    time inside the table's own root tag; a table with a prefix, a declaration or comment at
    its top, or a run that does not read that way, is read whole (SheetXmlError when it is
    broken)."""

    _CHUNK = 1 << 16  # bytes read and parsed at a time

    def __init__(self, data: bytes | None = None, stream=None):
        self._stream = stream
        data = data or b""
        if stream is not None:
            data = stream.read(self._CHUNK)
        self._data, self._items = data, []
        root = _SST_ROOT.match(data)
        head = data[: root.end()] if root else b""
        if root is None or b"<!" in head or b' xmlns="' + _MAIN + b'"' not in head:
            self._whole()  # a prefixed, empty or unusual table: read at once
            return
        self._root, self._pos = root.group(0), root.end()
        self._len = sys.maxsize if stream is not None else (
            data.count(b"<si>") + data.count(b"<si ") + data.count(b"<si/>"))

    def _whole(self) -> None:
        if self._stream is not None:
            self._data += self._stream.read()
            self._stream = None
        self._items = shared_strings(self._data)
        self._pos = len(self._data)
        self._len = len(self._items)
        self._root = None

    def __len__(self) -> int:
        return self._len

    def _more(self) -> bool:
        chunk = self._stream.read(self._CHUNK) if self._stream is not None else b""
        if not chunk:
            self._stream = None
            return False
        self._data += chunk
        return True

    def __getitem__(self, i: int) -> str | None:
        while i >= len(self._items) and self._root is not None:
            last = False
            end = self._data.find(b"</si>", self._pos + self._CHUNK)
            if end >= 0:
                end += len(b"</si>")
            elif self._more():
                continue
            else:  # the rest of the table
                end, last = self._data.rfind(b"</sst>", self._pos), True
            try:
                if end < 0:
                    raise SheetXmlError("no end")
                items = shared_strings(self._root + self._data[self._pos: end] + b"</sst>")
            except SheetXmlError:  # a run cut where it cannot be (a comment, CDATA): all of it
                self._items = []
                self._whole()
                break
            self._items.extend(items)
            self._pos = end
            if last:
                self._root = None
        return self._items[i] if 0 <= i < len(self._items) else None


def _expat_strings(data: bytes) -> list[str]:
    p = _parser()
    out: list[str] = []
    st = {"ns": None, "si": None, "rph": 0, "cap": False}
    tags: dict[str, str] = {}
    buf: list[str] = []

    def start(name, attrs):
        if st["ns"] is None:
            st["ns"] = name.rsplit(" ", 1)[0] if " " in name else ""
            pre = f"{st['ns']} " if st["ns"] else ""
            tags.update({pre + x: x for x in ("si", "t", "rPh")})
            return
        local = tags.get(name)
        if local == "si":
            st["si"] = []
        elif local == "rPh":
            st["rph"] += 1
        elif local == "t" and st["si"] is not None and st["rph"] == 0:
            st["cap"] = True
            buf.clear()

    def end(name):
        local = tags.get(name)
        if local == "t" and st["cap"]:
            st["si"].append("".join(buf))
            st["cap"] = False
        elif local == "rPh":
            st["rph"] -= 1
        elif local == "si" and st["si"] is not None:
            out.append(unescape("".join(st["si"])))
            st["si"] = None

    def chars(text):
        if st["cap"]:
            buf.append(text)

    _parse(p, data, start, end, chars)
    return out


def cell_value(cell: Cell, sst: list[str]):
    """The value a reader sees in `cell`: text, number, bool, error text, or None."""
    t = cell.t
    if t == "inlineStr":
        return cell.text if cell.text is not None else (cell.v if cell.v else None)
    v = cell.v
    if v is None:
        return None
    if t == "s":
        i = _int(v, -1)
        return sst[i] if 0 <= i < len(sst) else None
    if t in ("str", "e"):
        return unescape(v)
    if t == "b":
        return v.strip() in ("1", "true")
    if v == "":
        return None
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return unescape(v)


_FORMULA_TAG = re.compile(rb"<(?:[^\s/>:]+:)?f[\s>/]")


def may_hold_formulas(data: bytes) -> bool:
    """False only when the part cannot hold a formula element (no `<f` / `<x:f` at all): a
    cheap test before a scan."""
    return _FORMULA_TAG.search(data) is not None

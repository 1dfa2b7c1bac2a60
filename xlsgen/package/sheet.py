"""Worksheet parts as text: read cell values, and rewrite single `<c>` elements in place.

Only the `<c>` elements of edited cells change (a missing `<c>` or `<row>` is inserted in
order); every other byte of the part stays as it was.
"""

from __future__ import annotations

import functools
import re
import sys

from xlsgen.formulas import col_index, col_letters  # noqa: F401  (re-exported)
from xlsgen.package.ooxml import NS_MAIN, escape_attr, escape_text, parse, unescape_text


class _Element:
    """A match-like view of one element found by `_Finder` (group 1: attributes, 2: body)."""

    __slots__ = ("_text", "_start", "_end", "_attrs", "_body")

    def __init__(self, text, start, end, attrs, body):
        self._text, self._start, self._end, self._attrs, self._body = text, start, end, attrs, body

    def group(self, i: int = 0):
        if i == 0:
            return self._text[self._start: self._end]
        if i == 1:
            return self._attrs
        return None if self._body is None else self._text[self._body[0]: self._body[1]]

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end


class _Finder:
    """`finditer` for one element name: the open tag by regex, its end tag by `str.find`
    (a lazy `.*?` over long rows is many times slower)."""

    def __init__(self, name: str):
        self.name = name
        self.open = re.compile(rf"<((?:\w+:)?){name}\b([^>]*?)(/?)>")

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None):
        endpos = len(text) if endpos is None else endpos
        while True:
            m = self.open.search(text, pos, endpos)
            if m is None:
                return
            if m.group(3):
                yield _Element(text, m.start(), m.end(), m.group(2), None)
                pos = m.end()
                continue
            close = f"</{m.group(1)}{self.name}>"
            e = text.find(close, m.end(), endpos)
            if e < 0:
                return
            yield _Element(text, m.start(), e + len(close), m.group(2), (m.end(), e))
            pos = e + len(close)


_ROW = _Finder("row")
_CELL = _Finder("c")
_ADDR = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]+)")
_R = re.compile(r'\sr="([^"]*)"')
_S = re.compile(r'\ss="([0-9]+)"')
_NUM = re.compile(r"-?[0-9]+")




@functools.cache
def split_addr(addr: str) -> tuple[int, int]:
    """'B12' → (12, 2)."""
    m = _ADDR.fullmatch(addr)
    return int(m.group(2)), col_index(m.group(1))


_SI = _Finder("si")


def shared_strings(data: bytes | None) -> list[str]:
    """The shared string table as plain text (rich-text runs joined, furigana left out)."""
    if not data:
        return []
    text = data.decode("utf-8")
    if re.search(r"<\w+:sst\b", text):  # a prefixed table: the XML parser
        t = f"{{{NS_MAIN}}}t"
        return [unescape_text("".join(x.text or "" for x in si.iter(t) if x.getparent().tag != f"{{{NS_MAIN}}}rPh"))
                for si in parse(data).iter(f"{{{NS_MAIN}}}si")]
    return [_si_text(si) for si in _SI.finditer(text)]


def _si_text(si) -> str:
    body = si.group(2) or ""
    if "<rPh" in body:
        body = _RPH.sub("", body)
    return _xml_text("".join(_TEXT.findall(body)))


class SharedStrings:
    """The shared string table, parsed only as far as the cells asked for need: a pasted
    data sheet can add hundreds of thousands of strings that no sheet the roll plans uses.
    Indexes and `len` as for the list `shared_strings` gives, except that an index past
    the end gives None (what a reader takes a missing string for).

    From `data` (the part's bytes), or from `stream` (the part opened in the zip): then
    only as much of the part is decompressed as the strings asked for need, and `len` is
    unknown (sys.maxsize)."""

    _CHUNK = 1 << 16  # bytes decoded and parsed at a time

    def __init__(self, data: bytes | None = None, stream=None):
        self._stream = stream
        data = data or b""
        if stream is not None:
            data = stream.read(self._CHUNK)
        self._items: list[str] = []
        self._data, self._pos = data, 0
        if re.search(rb"<\w+:sst\b", data[:4096]):  # a prefixed table: parsed whole
            if stream is not None:
                data += stream.read()
                self._stream = None
            self._items, self._pos = shared_strings(data), len(data)
            self._len = len(self._items)
        elif stream is not None:
            self._len = sys.maxsize
        else:
            self._len = data.count(b"<si")  # <si>, <si …> and <si/>: no other tag starts so

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
        while i >= len(self._items):
            end = self._data.find(b"</si>", self._pos + self._CHUNK)
            if end >= 0:
                end += len(b"</si>")
            elif self._more():
                continue
            else:
                end = len(self._data)
                if self._pos >= end:
                    return None
            chunk = self._data[self._pos:end].decode("utf-8")
            self._items.extend(_si_text(si) for si in _SI.finditer(chunk))
            self._pos = end
        return self._items[i]


_T = re.compile(r'\st="([^"]*)"')
_IS = re.compile(r"<(?:\w+:)?is>(.*?)</(?:\w+:)?is>", re.S)
_RPH = re.compile(r"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_TEXT = re.compile(r"<(?:\w+:)?t\b[^>]*>(.*?)</(?:\w+:)?t>", re.S)
_V = re.compile(r"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)


def _value(attrs: str, body: str | None, sst: list[str]) -> object:
    if not body:
        return None
    t = _T.search(attrs)
    t = t.group(1) if t else "n"
    if t == "inlineStr":
        is_ = _IS.search(body)
        if not is_:
            return None
        return _xml_text("".join(_TEXT.findall(_RPH.sub("", is_.group(1)))))
    v = _V.search(body)
    if v is None:
        return None
    raw = v.group(1)
    if t == "s":
        i = int(raw)
        return sst[i] if 0 <= i < len(sst) else None
    if t in ("str", "e"):
        return _xml_text(raw)
    if t == "b":
        return raw.strip() == "1"
    if _NUM.fullmatch(raw.strip()):
        return int(raw)
    try:
        return float(raw)
    except ValueError:
        return _xml_text(raw)


def _xml_text(s: str) -> str:
    if "&" not in s and "_x" not in s:
        return s
    s = (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'"))
    s = re.sub(r"&#(x?)([0-9A-Fa-f]+);", lambda m: chr(int(m.group(2), 16 if m.group(1) else 10)), s)
    return unescape_text(s.replace("&amp;", "&"))


_FAST = re.compile(r'<c r="([A-Z]+[0-9]+)"(?: s="([0-9]+)")?(?: t="([a-zA-Z]+)")?(/>|><v>([^<]*)</v></c>|>)')


def read_cells(xml: str, sst: list[str], number_format) -> dict[str, tuple[object, str]]:
    """Cells with a value or a number format: address → (value, number format)."""
    start = max(xml.find("sheetData"), 0)
    out = _read_fast(xml, start, sst, number_format)
    return out if out is not None else _read_general(xml, start, sst, number_format)


def _read_fast(xml: str, start: int, sst: list[str], number_format) -> dict | None:
    """The common `<c r s t>` shape in one regex pass; None when a cell has another shape."""
    out = {}
    n = 0
    for m in _FAST.finditer(xml, start):
        n += 1
        addr, s, t, tail, v = m.groups()
        fmt = number_format(int(s)) if s else "General"
        if tail == ">":  # a formula or an inline string: the general reader for this cell
            end = xml.find("</c>", m.end())
            value = _value(f' t="{t}"' if t else "", xml[m.end(): end], sst)
        elif v is None:
            value = None
        elif t == "s":
            i = int(v)
            value = sst[i] if 0 <= i < len(sst) else None
        elif t is None or t == "n":
            try:
                value = int(v)
            except ValueError:
                try:
                    value = float(v)
                except ValueError:
                    value = _xml_text(v)
        else:
            value = _value(f' t="{t}"', f"<v>{v}</v>", sst)
        if value is not None or fmt != "General":
            out[addr] = (value, fmt)
    return out if n == xml.count("<c ", start) and "<c>" not in xml else None


def _read_general(xml: str, start: int, sst: list[str], number_format) -> dict:
    out = {}
    for m in _CELL.finditer(xml, start):
        attrs, body = m.group(1), m.group(2)
        r = _R.search(attrs)
        if r is None:
            continue
        s = _S.search(attrs)
        fmt = number_format(int(s.group(1))) if s else "General"
        value = _value(attrs, body, sst)
        if value is not None or fmt != "General":
            out[r.group(1)] = (value, fmt)
    return out


def merges(xml: str) -> list[tuple[int, int, int, int]]:
    """Merged ranges as (min_row, min_col, max_row, max_col)."""
    out = []
    for ref in re.findall(r'<(?:\w+:)?mergeCell\b[^>]*\sref="([^"]+)"', xml):
        a, _, b = ref.partition(":")
        (r1, c1), (r2, c2) = split_addr(a), split_addr(b or a)
        out.append((r1, c1, r2, c2))
    return out


_F = re.compile(r"<\w+:f\b")


def has_formulas(xml: str) -> bool:
    return "<f>" in xml or "<f " in xml or ((":f>" in xml or ":f " in xml) and _F.search(xml) is not None)


def cell_xml(prefix: str, addr: str, value: object, style: int) -> str:
    s = f' s="{style}"' if style else ""
    p = prefix
    if value is None or value == "":
        return f'<{p}c r="{addr}"{s}/>'
    if isinstance(value, bool):
        return f'<{p}c r="{addr}"{s} t="b"><{p}v>{int(value)}</{p}v></{p}c>'
    if isinstance(value, (int, float)):
        return f'<{p}c r="{addr}"{s}><{p}v>{value!r}</{p}v></{p}c>'
    text = escape_text(str(value))
    return (f'<{p}c r="{addr}"{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">{text}</{p}t>'
            f"</{p}is></{p}c>")


_ROW_CELL = re.compile(r'<c r="(([A-Z]+)[0-9]+)"(?: s="([0-9]+)")?[^>]*?(?:/>|>.*?</c>)', re.S)
_ROW_R = re.compile(r'<(?:\w+:)?row\b[^>]*?\sr="(\d+)"')


class _Rows:
    """Rows of a sheetData found on demand: number → match-like element."""

    def __init__(self, xml: str, start: int, end: int, prefix: str):
        self.xml, self.end, self.prefix = xml, end, prefix
        self.at = {int(m.group(1)): m.start() for m in _ROW_R.finditer(xml, start, end)}
        if len(self.at) != xml.count(f"<{prefix}row", start, end):
            raise ValueError("row without r")
        self._cache: dict[int, object] = {}

    def __contains__(self, r: int) -> bool:
        return r in self.at

    def get(self, r: int):
        if r not in self.at:
            return None
        if r not in self._cache:
            self._cache[r] = next(_ROW.finditer(self.xml, self.at[r], self.end))
        return self._cache[r]

    __getitem__ = get


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


class SheetText:
    """A worksheet part's text with its rows indexed for in-place cell edits."""

    def __init__(self, xml: str):
        self.xml = xml
        m = re.search(r"<(\w+:)?worksheet\b", xml)
        self.prefix = (m.group(1) or "") if m else ""
        p = self.prefix
        sd = re.search(rf"<{p}sheetData\b[^>]*?(/?)>", xml)
        if sd is None:
            raise ValueError("no sheetData")
        self.sd_start = sd.start()
        self.self_closed = bool(sd.group(1))
        self.body_start = None if self.self_closed else sd.end()
        body_end = sd.end() if self.self_closed else xml.index(f"</{p}sheetData>", sd.end())
        self.rows = _Rows(xml, sd.end(), body_end, p)
        self._row_cells: dict[int, list] = {}

    def row_cells(self, n: int) -> list[tuple[int, str, int, str, int, int]]:
        """(col, address, s, `<c>` text, start, end in the row body) of row `n`'s cells."""
        if n in self._row_cells:
            return self._row_cells[n]
        out = []
        rm = self.rows.get(n)
        body = (rm.group(2) or "") if rm is not None else ""
        if not self.prefix and "<c>" not in body:  # the usual shape: one regex pass
            for m in _ROW_CELL.finditer(body):
                out.append((col_index(m.group(2)), m.group(1), int(m.group(3) or 0), m.group(0), m.start(), m.end()))
            if len(out) == body.count("<c "):
                self._row_cells[n] = out
                return out
            out = []
        for cm in _CELL.finditer(body):
            r, s = _R.search(cm.group(1)), _S.search(cm.group(1))
            if r is None:
                raise ValueError("cell without r")
            addr = r.group(1)
            out.append((split_addr(addr)[1], addr, int(s.group(1)) if s else 0, cm.group(0), cm.start(), cm.end()))
        self._row_cells[n] = out
        return out

    def cells(self, rows) -> dict[str, tuple[int, str]]:
        """address → (s, the `<c>` text) of the cells in `rows`."""
        return {addr: (s, text) for n in rows for _, addr, s, text, _, _ in self.row_cells(n)}

    def styles(self, wanted) -> tuple[dict[int, int], list[tuple[int, int, int]]]:
        """(row → s of the custom-formatted rows among `wanted`, [(min, max, s)] of columns)."""
        rows = {}
        for n in wanted:
            rm = self.rows.get(n)
            if rm is not None and re.search(r'\scustomFormat="(1|true)"', rm.group(1)):
                s = _S.search(rm.group(1))
                rows[n] = int(s.group(1)) if s else 0
        return rows, _Cols(self.xml[: self.sd_start])

    def apply(self, cells: dict[str, str]) -> str:
        """The part's text with the `<c>` of each address replaced by the given XML."""
        by_row: dict[int, dict[int, tuple[str, str]]] = {}
        for addr, xml in cells.items():
            r, c = split_addr(addr)
            by_row.setdefault(r, {})[c] = (addr, xml)
        pieces, pos = [], 0
        p = self.prefix
        new_rows = []
        for r in sorted(by_row):
            if r in self.rows:
                rm = self.rows[r]
                pieces.append(self.xml[pos: rm.start()])
                pieces.append(self._row(r, rm, by_row[r]))
                pos = rm.end()
            else:
                new_rows.append(r)
        pieces.append(self.xml[pos:])
        xml = "".join(pieces)
        if new_rows:
            xml = self._insert_rows(xml, {r: f'<{p}row r="{r}">' + "".join(
                x for _, (_, x) in sorted(by_row[r].items())) + f"</{p}row>" for r in new_rows})
        return xml

    def _row(self, r: int, rm, edits: dict[int, tuple[str, str]]) -> str:
        p = self.prefix
        body = rm.group(2) or ""
        out, pos = [], 0
        pending = dict(edits)
        existing = set()
        for c, _, _, text, start, end in self.row_cells(r):
            existing.add(c)
            if pending and min(pending) < c:
                for k in sorted(k for k in pending if k < c):
                    out.append(pending.pop(k)[1])
            out.append(body[pos: start])
            out.append(pending.pop(c)[1] if c in pending else text)
            pos = end
        tail = body[pos:]
        rest = "".join(x for _, (_, x) in sorted(pending.items()))
        open_tag = self.xml[rm.start(): rm.start() + len("<" + p + "row") + len(rm.group(1))] + ">"
        added = set(edits) - existing
        spans = re.search(r'\sspans="(\d+):(\d+)"', open_tag)
        if added and spans:
            lo, hi = int(spans.group(1)), int(spans.group(2))
            if min(added) < lo or max(added) > hi:
                lo, hi = min(lo, *added), max(hi, *added)
                open_tag = open_tag.replace(spans.group(0), f' spans="{lo}:{hi}"')
        return open_tag + "".join(out) + rest + tail + f"</{p}row>"

    def _insert_rows(self, xml: str, rows: dict[int, str]) -> str:
        p = self.prefix
        if self.self_closed:
            m = re.search(rf"<{p}sheetData\s*/>", xml)
            return xml[: m.start()] + f"<{p}sheetData>" + "".join(rows[r] for r in sorted(rows)) + \
                f"</{p}sheetData>" + xml[m.end():]
        # re-index: rows present after the cell edits
        present = sorted((int(_R.search(m.group(1)).group(1)), m.start())
                         for m in _ROW.finditer(xml, xml.index("sheetData")))
        inserts = []
        for r in sorted(rows):
            after = [start for n, start in present if n > r]
            inserts.append((after[0] if after else xml.index(f"</{p}sheetData>"), r, rows[r]))
        for at, _, text in sorted(inserts, reverse=True):
            xml = xml[:at] + text + xml[at:]
        return xml


def set_dimension(xml: str, max_row: int, max_col: int) -> str:
    """Widen `<dimension ref>` to cover (max_row, max_col) if needed."""
    m = re.search(r'(<(?:\w+:)?dimension\b[^>]*\sref=")([^"]+)(")', xml)
    if not m:
        return xml
    a, _, b = m.group(2).partition(":")
    r1, c1 = split_addr(a)
    r2, c2 = split_addr(b or a)
    r2, c2 = max(r2, max_row), max(c2, max_col)
    ref = f"{col_letters(c1)}{r1}:{col_letters(c2)}{r2}"
    return xml[: m.start(2)] + escape_attr(ref) + xml[m.end(2):]

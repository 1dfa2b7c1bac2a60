"""What Excel requires of the parts a roll changed, checked before anything is written.

Well-formed is not enough: Excel repairs (or refuses) a workbook whose XML uses an undeclared
prefix, whose rows or cells are out of order or repeated, whose references fall outside
A1:XFD1048576, whose merged ranges overlap, whose sheets share a name, whose relationships
point nowhere or whose parts have no content type. `problems(pkg)` lists each such fault of
the changed parts (Japanese, naming the part); the edition writer refuses to write when there
is one.
"""

from __future__ import annotations

import functools
import posixpath
import re
from xml.parsers import expat

from xlsgen.package.ooxml import normalize_tags
from xlsgen.read.cells import MAX_COL, MAX_ROW, SheetXmlError, scan_sheet, split_ref

_XML = (".xml", ".rels", ".vml")
_REF_ATTRS = {
    "mergeCell": "ref", "hyperlink": "ref", "dimension": "ref", "conditionalFormatting": "sqref",
    "dataValidation": "sqref", "selection": "sqref", "autoFilter": "ref", "protectedRange": "sqref",
}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _parse(data: bytes, start=None) -> str | None:
    """None when `data` is namespace-well-formed XML, else why not."""
    p = expat.ParserCreate(namespace_separator=" ")
    if start is not None:
        p.StartElementHandler = start
    try:
        p.Parse(data, True)
    except expat.ExpatError as exc:
        if exc.code == expat.errors.codes[expat.errors.XML_ERROR_UNBOUND_PREFIX]:
            return f"宣言されていない名前空間の接頭辞があります（{exc.lineno} 行 {exc.offset} 文字目）"
        return f"XML が壊れています（{expat.ErrorString(exc.code)}、{exc.lineno} 行 {exc.offset} 文字目）"
    except SheetXmlError as exc:
        return str(exc)
    return None


def _range(ref: str) -> tuple[int, int, int, int]:
    """'A1:B2' (or 'A1', 'A:B', '1:2') → (r1, c1, r2, c2); SheetXmlError outside the sheet."""
    a, _, b = ref.partition(":")
    if not b:
        r, c = split_ref(a)
        return r, c, r, c
    if re.fullmatch(r"\$?[A-Za-z]{1,3}", a) and re.fullmatch(r"\$?[A-Za-z]{1,3}", b):
        (_, c1), (_, c2) = split_ref(a + "1"), split_ref(b + "1")
        return 1, c1, MAX_ROW, c2
    if re.fullmatch(r"\$?[0-9]+", a) and re.fullmatch(r"\$?[0-9]+", b):
        (r1, _), (r2, _) = split_ref("A" + a.lstrip("$")), split_ref("A" + b.lstrip("$"))
        return r1, 1, r2, MAX_COL
    (r1, c1), (r2, c2) = split_ref(a), split_ref(b)
    return r1, c1, r2, c2


_REF_TAG = re.compile(r'<(?:[\w.-]+:)?(mergeCell|hyperlink|dimension|conditionalFormatting|dataValidation|selection'
                      r'|autoFilter|protectedRange)\b([^>]*)>')
_COL_TAG = re.compile(r"<(?:[\w.-]+:)?col\b([^>]*)>")
_COMMENT = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>", re.S)


def _attr(attrs: str, name: str) -> str | None:
    m = re.search(rf'\s{name}="([^"]*)"', attrs)
    return m.group(1) if m else None


_SHEETDATA = re.compile(r"<(?:[\w.-]+:)?sheetData\b[^>]*?(/?)>")
_ROW_OR_CELL = re.compile(r'<(?:[\w.-]+:)?(row|c)\b([^>]*)>')
_R_ATTR = re.compile(r'\sr="([A-Za-z]*)([0-9]*)"')


def _data_end(text: str, sd: re.Match) -> int:
    if sd.group(1):
        return sd.end()
    close = re.compile(r"</(?:[\w.-]+:)?sheetData\s*>").search(text, sd.end())
    return close.end() if close else len(text)


def _order_problems(text: str) -> list[str] | None:
    """Rows and cells of sheetData in order, once each, with explicit references in range,
    from the start tags (the text has one attribute shape; None when a comment or CDATA
    could hide a tag)."""
    sd = _SHEETDATA.search(text)
    if sd is None:
        return []
    end = _data_end(text, sd)
    if "<!" in text[sd.end(): end]:
        return None
    body = text[sd.end(): end]
    quick = _quick_order(body)
    if quick is not None:
        return quick
    out: list[str] = []
    last_row = row = col = 0
    for m in _ROW_OR_CELL.finditer(body):
        r = _R_ATTR.search(m.group(2))
        if m.group(1) == "row":
            if r is None or r.group(1):
                out.append(f"{last_row} 行の次の行に行番号（r）がありません")
                continue
            row, col = int(r.group(2)), 0
            if not 1 <= row <= MAX_ROW:
                out.append(f"行番号「{row}」が正しくありません")
            elif row <= last_row:
                out.append(f"行 {row} が行 {last_row} の後にあります（行は番号の順に一度ずつ）")
            last_row = max(last_row, row)
            continue
        if r is None:
            out.append(f"{row} 行に番地（r）のないセルがあります")
            continue
        try:
            rr, c = split_ref(r.group(1) + r.group(2))
        except SheetXmlError as exc:
            out.append(str(exc))
            continue
        if rr != row:
            out.append(f"セル {r.group(1)}{r.group(2)} が {row} 行の中にあります")
        elif c <= col:
            out.append(f"{row} 行のセル {r.group(1)}{r.group(2)} の順序が正しくないか重複しています")
        col = max(col, c)
    return out


_RC_FIRST = re.compile(r'<(?:[\w.-]+:)?(?:row r="([0-9]{1,7})"|c r="([A-Z]{1,3})([0-9]{1,7})")[\s/>]')
_RC_ANY = re.compile(r"<(?:[\w.-]+:)?(?:row|c)[\s/>]")


@functools.lru_cache(maxsize=20000)
def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _quick_order(body: str) -> list[str] | None:
    """The common case of `_order_problems`: `r` first on every row and cell (as xlsgen and
    Excel write them); None when some tag has another shape."""
    tags = _RC_FIRST.findall(body)
    if len(tags) != len(_RC_ANY.findall(body)):
        return None
    last_row = row = col = 0
    for r, letters, digits in tags:
        if r:
            row, col = int(r), 0
            if row <= last_row or row > MAX_ROW:
                return None  # let the full pass say what is wrong
            last_row = row
            continue
        c = _col(letters)
        if int(digits) != row or c <= col or c > MAX_COL:
            return None
        col = c
    return []


def _scan_order_problems(data: bytes) -> list[str]:
    try:
        scan = scan_sheet(data)
    except SheetXmlError as exc:
        return [str(exc)]
    out: list[str] = []
    last = 0
    for row in scan.rows:
        if not row.explicit:
            out.append(f"{last} 行の次の行に行番号（r）がありません")
        elif row.r <= last:
            out.append(f"行 {row.r} が行 {last} の後にあります（行は番号の順に一度ずつ）")
        last = max(last, row.r)
        col = 0
        for c in row.cells:
            if c.row != row.r:
                out.append(f"セル {c.ref} が {row.r} 行の中にあります")
            elif c.col <= col:
                out.append(f"{row.r} 行のセル {c.ref} の順序が正しくないか重複しています")
            col = max(col, c.col)
    if scan.implicit_cells:
        out.append("番地（r）のないセルがあります")
    return out


def _sheet_problems(data: bytes, text: str | None = None) -> list[str]:
    """Namespaces (expat), rows and cells in order and once with references in range (the
    cell scanner), merged ranges that overlap, references and column ranges outside the
    sheet (the start tags around sheetData, in the one attribute shape of `normalize_tags`)."""
    why = _parse(data)
    if why:
        return [why]
    text = text if text is not None else normalize_tags(data.decode("utf-8"))
    found = _order_problems(text)
    if found is None:  # comments or CDATA in the part: the scanner reads it
        found = _scan_order_problems(data)
    out: list[str] = list(found)
    sd = _SHEETDATA.search(text)
    around = text[: sd.start()] + text[_data_end(text, sd):] if sd else text
    text = _COMMENT.sub("", around)
    merges: list[tuple[int, int, int, int]] = []
    for m in _REF_TAG.finditer(text):
        local, attrs = m.group(1), m.group(2)
        key = _REF_ATTRS[local]
        for ref in (_attr(attrs, key) or "").split():
            try:
                rng = _range(ref)
            except SheetXmlError as exc:
                out.append(f"{local} の {key}: {exc}")
                continue
            if local == "mergeCell":
                merges.append(rng)
    cols: list[tuple[int, int]] = []
    for m in _COL_TAG.finditer(text):
        lo_s, hi_s = _attr(m.group(1), "min"), _attr(m.group(1), "max")
        lo = int(lo_s) if lo_s and lo_s.isdigit() else 0
        hi = int(hi_s) if hi_s and hi_s.isdigit() else 0
        if not 1 <= lo <= hi <= MAX_COL:
            out.append(f"列の範囲（min={lo_s}、max={hi_s}）が XFD 列までに収まっていません")
        cols.append((lo, hi))
    merges.sort()
    for i, a in enumerate(merges):
        for b in merges[i + 1:]:
            if b[0] > a[2]:
                break
            if b[1] <= a[3] and a[1] <= b[3]:
                out.append("結合セルの範囲が重なっています")
                break
    for i in range(1, len(cols)):
        if cols[i][0] <= cols[i - 1][1]:
            out.append("列の設定（col）の範囲が重なっているか順序が正しくありません")
            break
    return out


def _workbook_problems(pkg, data: bytes) -> list[str]:
    sheets: list[tuple[str, str, str]] = []

    def start(name, attrs):
        if name.rsplit(" ", 1)[-1] == "sheet":
            rid = next((v for k, v in attrs.items() if k.endswith(" id")), "")
            sheets.append((attrs.get("name", ""), attrs.get("sheetId", ""), rid))

    why = _parse(data, start)
    if why:
        return [why]
    out = []
    rels = {rid for rid, _, _, _ in pkg.rels(pkg.workbook_part)}
    seen: set[str] = set()
    ids: set[str] = set()
    for name, sid, rid in sheets:
        if not name or len(name) > 31 or _BAD_SHEET_CHARS.search(name) or name.startswith("'") or name.endswith("'"):
            out.append(f"シート名「{name}」は Excel で使えません")
        if name.casefold() in seen:
            out.append(f"シート名「{name}」が重複しています")
        seen.add(name.casefold())
        if sid in ids:
            out.append(f"シート番号（sheetId={sid}）が重複しています")
        ids.add(sid)
        if rid not in rels:
            out.append(f"シート「{name}」の参照（{rid}）がありません")
    return out


def _rels_problems(pkg, part: str, data: bytes) -> list[str]:
    entries: list[tuple[str, str, str]] = []

    def start(name, attrs):
        if name.rsplit(" ", 1)[-1] == "Relationship":
            entries.append((attrs.get("Id", ""), attrs.get("Target", ""), attrs.get("TargetMode", "")))

    why = _parse(data, start)
    if why:
        return [why]
    out = []
    source = posixpath.dirname(posixpath.dirname(part))  # xl/_rels/workbook.xml.rels → xl
    names = {p.lower() for p in pkg.parts}
    seen: set[str] = set()
    for rid, target, mode in entries:
        if rid in seen:
            out.append(f"関係の Id「{rid}」が重複しています")
        seen.add(rid)
        if mode == "External" or not target:
            continue
        full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(source, target))
        if full.lower() not in names:
            out.append(f"関係「{rid}」の参照先 {full} がありません")
    return out


def _content_type_problems(pkg) -> list[str]:
    ns = "{http://schemas.openxmlformats.org/package/2006/content-types}"
    overrides = [o.get("PartName", "").lstrip("/") for o in pkg.content_types.iter(f"{ns}Override")]
    defaults = {d.get("Extension", "").lower() for d in pkg.content_types.iter(f"{ns}Default")}
    known = {o.lower() for o in overrides}
    out = []
    for part in pkg.order:
        if part == "[Content_Types].xml" or part.endswith("/"):
            continue
        if part.lower() not in known and part.rsplit(".", 1)[-1].lower() not in defaults:
            out.append(f"部品 {part} の種類（Content Type）がありません")
    names = {p.lower() for p in pkg.parts}
    out += [f"種類の登録（{o}）に対応する部品がありません" for o in overrides if o.lower() not in names]
    return out


def _part_problems(pkg, part: str, data: bytes, sheet_parts: set[str], current: bool = True) -> list[str]:
    if part == "[Content_Types].xml":
        why = _parse(data)
        return [why] if why else _content_type_problems(pkg)
    if part in sheet_parts:
        return _sheet_problems(data, pkg.text(part) if current else None)
    if part == pkg.workbook_part:
        return _workbook_problems(pkg, data)
    if part.endswith(".rels"):
        return _rels_problems(pkg, part, data)
    if part.endswith(_XML):
        why = _parse(data)
        return [why] if why else []
    return []


def problems(pkg) -> list[str]:
    """Faults Excel would repair or refuse in the parts `pkg` changed: '<part>: <why>'.
    A fault the input's own part already had is not the edit's doing and is left out."""
    out: list[str] = []
    before = getattr(pkg, "original", {})
    sheet_parts = set(pkg.sheets.values())
    changed = sorted(p for p in pkg.changed if p in pkg.parts)
    for part in changed:
        found = _part_problems(pkg, part, pkg.parts[part], sheet_parts)
        if found and part in before and part != "[Content_Types].xml":
            old = set(_part_problems(pkg, part, before[part], sheet_parts, current=False))
            found = [p for p in found if p not in old]
        out += [f"{part}: {p}" for p in dict.fromkeys(found)]
    if changed and "[Content_Types].xml" not in changed:
        out += [f"[Content_Types].xml: {p}" for p in _content_type_problems(pkg)
                if any(c in p for c in changed)]
    return out

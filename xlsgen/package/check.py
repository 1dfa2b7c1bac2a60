"""What Excel requires of the parts a roll changed, checked before anything is written.

Well-formed is not enough: Excel repairs (or refuses) a workbook whose XML uses an undeclared
prefix, whose rows or cells are out of order or repeated, whose references fall outside
A1:XFD1048576, whose merged ranges overlap, whose sheets share a name, whose relationships
point nowhere or whose parts have no content type. `problems(pkg)` lists each such fault of
the changed parts (Japanese, naming the part); the edition writer refuses to write when there
is one.
"""

from __future__ import annotations

import posixpath
import re
from xml.parsers import expat

from xlsgen.read.cells import MAX_COL, MAX_ROW, SheetXmlError, split_ref

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


def _sheet_problems(data: bytes) -> list[str]:
    """One pass over the start tags: namespaces, row and cell order, references in range,
    merged ranges that overlap, column ranges."""
    out: list[str] = []
    merges: list[tuple[int, int, int, int]] = []
    cols: list[tuple[int, int]] = []
    state = {"data": False, "row": 0, "col": 0, "in_row": False, "ns": None}

    def start(name, attrs):
        ns, _, local = name.rpartition(" ")
        if state["ns"] is None:
            state["ns"] = ns
        if ns != state["ns"]:
            return
        if local == "c" and state["in_row"]:
            ref = attrs.get("r")
            if ref is None:
                out.append(f"{state['row']} 行に番地（r）のないセルがあります")
                return
            r, c = split_ref(ref)  # SheetXmlError: reported below
            if r != state["row"]:
                out.append(f"セル {ref} が {state['row']} 行の中にあります")
            elif c <= state["col"]:
                out.append(f"{r} 行のセル {ref} の順序が正しくないか重複しています")
            state["col"] = max(state["col"], c)
            return
        if local == "row" and state["data"]:
            ref = attrs.get("r")
            if ref is None:
                out.append(f"{state['row']} 行の次の行に行番号（r）がありません")
                return
            try:
                r = int(ref)
            except ValueError:
                r = 0
            if not 1 <= r <= MAX_ROW:
                out.append(f"行番号「{ref}」が正しくありません")
            elif r <= state["row"]:
                out.append(f"行 {r} が行 {state['row']} の後にあります（行は番号の順に一度ずつ）")
            state.update(row=max(r, state["row"]), col=0, in_row=True)
            return
        if local == "sheetData":
            state["data"] = True
            return
        key = _REF_ATTRS.get(local)
        if key and attrs.get(key):
            for ref in attrs[key].split():
                try:
                    rng = _range(ref)
                except SheetXmlError as exc:
                    out.append(f"{local} の {key}: {exc}")
                    continue
                if local == "mergeCell":
                    merges.append(rng)
        if local == "col":
            try:
                lo, hi = int(attrs.get("min", "0")), int(attrs.get("max", "0"))
            except ValueError:
                lo = hi = 0
            if not 1 <= lo <= hi <= MAX_COL:
                out.append(f"列の範囲（min={attrs.get('min')}、max={attrs.get('max')}）が XFD 列までに収まっていません")
            cols.append((lo, hi))

    why = _parse(data, start)
    if why:
        return out + [why]
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
    out = []
    for part in pkg.order:
        if part == "[Content_Types].xml" or part.endswith("/"):
            continue
        if pkg.content_type(part) is None:
            out.append(f"部品 {part} の種類（Content Type）がありません")
    overrides = [o.get("PartName", "").lstrip("/") for o in pkg.content_types.iter(
        "{http://schemas.openxmlformats.org/package/2006/content-types}Override")]
    names = {p.lower() for p in pkg.parts}
    out += [f"種類の登録（{o}）に対応する部品がありません" for o in overrides if o.lower() not in names]
    return out


def _part_problems(pkg, part: str, data: bytes, sheet_parts: set[str]) -> list[str]:
    if part == "[Content_Types].xml":
        why = _parse(data)
        return [why] if why else _content_type_problems(pkg)
    if part in sheet_parts:
        return _sheet_problems(data)
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
            old = set(_part_problems(pkg, part, before[part], sheet_parts))
            found = [p for p in found if p not in old]
        out += [f"{part}: {p}" for p in dict.fromkeys(found)]
    if changed and "[Content_Types].xml" not in changed:
        out += [f"[Content_Types].xml: {p}" for p in _content_type_problems(pkg)
                if any(c in p for c in changed)]
    return out

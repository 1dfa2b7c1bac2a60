"""An OOXML package held as its zip parts: read, look up, replace, write back.

Parts are read from the zip when first used (a large sheet a roll never plans is never
decompressed) and kept in their zip order; only parts set with `put` are written anew,
every other part is copied as it is stored in the input (its compressed bytes, not
re-compressed). XML is parsed with a hardened lxml parser (no entities, no network, no
DTD), the same protection defusedxml gives.
"""

from __future__ import annotations

import functools
import posixpath
import re
import struct
import zipfile
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from xlsgen.errors import XlsgenError

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": ".xlsx",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": ".xlsm",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": ".xltx",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": ".xltm",
}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MAX_UNPACKED = 512 * 1024 * 1024

@functools.cache
def _parser():
    from lxml import etree  # imported when a part is first parsed, not by every reader

    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, remove_blank_text=False)


def parse(data: bytes):
    """Parse untrusted XML without entity expansion or network access."""
    if b"<!DOCTYPE" in data[:2048] or b"<!ENTITY" in data:
        raise ValueError("DTD in a package part")
    from lxml import etree

    return etree.fromstring(data, _parser())


_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")


_PLAIN = re.compile("[^&<>_\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]*")


def escape_text(text: str) -> str:
    """`text` made legal for a cell: control characters as `_xHHHH_` (and a literal
    `_xHHHH_` escaped as `_x005F_xHHHH_`), then XML-escaped."""
    if _PLAIN.fullmatch(text):
        return text
    text = _ILLEGAL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(text: str) -> str:
    return escape_text(text).replace('"', "&quot;").replace("\n", "&#10;")


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_text(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


_TOKEN = re.compile(r"""<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>"""
                    r"""|<([^\s/>!?]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)(\s*/?)>""", re.S)
_ATTR = re.compile(r"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ODD_AFTER_EQ = re.compile(r"""=(?:[\s']|"[^"<]*>)""")  # a space or ' after =, or > in a value


def _odd(xml: str) -> bool:
    r"""Whether a start tag may have another shape (cheap: `\s=` by plain finds)."""
    return (_ODD_AFTER_EQ.search(xml) is not None or " =" in xml or "\t=" in xml or "\n=" in xml
            or "\r=" in xml)


def normalize_tags(xml: str) -> str:
    """`xml` with every start tag in the one shape the package code reads: attributes in
    double quotes, no spaces around `=`, no `>` inside a value (`&gt;`). The same document
    for any XML reader; text, comments and CDATA are left as they are."""
    if not _odd(xml):
        return xml

    def tag(m: re.Match) -> str:
        if m.group(1) is None or not m.group(2):
            return m.group(0)
        attrs = []
        for a in _ATTR.finditer(m.group(2)):
            value = a.group(2) if a.group(2) is not None else a.group(3).replace('"', "&quot;")
            attrs.append(f' {a.group(1)}="{value.replace(">", "&gt;")}"')
        return f"<{m.group(1)}{''.join(attrs)}{m.group(3).strip() and '/'}>"

    return _TOKEN.sub(tag, xml)


def _relative(target: str, base: str) -> str:
    """`target` (a part name) relative to the folder `base`: ('xl/comments1.xml', 'xl/worksheets')
    → '../comments1.xml'."""
    t, b = target.split("/"), [x for x in base.split("/") if x]
    n = 0
    while n < len(b) and n < len(t) - 1 and t[n] == b[n]:
        n += 1
    return "/".join([".."] * (len(b) - n) + t[n:])


def _unique_entries(infos: list, z: zipfile.ZipFile, path: str) -> list:
    """The zip entries, each name once: a repeated entry with the same bytes is dropped (a
    writer's slip); two different entries of one name are refused (which one Excel would
    take is unknown)."""
    seen: dict[str, zipfile.ZipInfo] = {}
    out = []
    for i in infos:
        first = seen.get(i.filename)
        if first is None:
            seen[i.filename] = i
            out.append(i)
            continue
        if first.CRC != i.CRC or first.file_size != i.file_size or z.open(first).read() != z.open(i).read():
            raise XlsgenError(f"部品 {i.filename} が2つあり内容が違います（壊れたファイルの可能性）。"
                              "Excel で開いて保存し直してください", path)
    return out


class Parts(MutableMapping):
    """Part name → bytes. A part of the input is read from the zip when first asked for;
    `loaded` names those read (or replaced), so the writer knows what it never looked at."""

    def __init__(self, path: Path, infos: list[zipfile.ZipInfo]):
        self._path = path
        self._infos = {i.filename: i for i in infos}
        self._data: dict[str, bytes] = {}
        self._first: dict[str, bytes] = {}  # an input part's bytes, kept when it is replaced
        self._replaced: set[str] = set()
        self._zip: zipfile.ZipFile | None = None  # opened on the first read, kept for the next

    @property
    def loaded(self) -> set[str]:
        return set(self._data)

    @property
    def original(self) -> Mapping:
        """The input's parts as they were (read when asked for, never changed by `put`)."""
        return _Original(self)

    def _read(self, name: str) -> bytes:
        """One part's bytes. The zip stays open between reads: opening it parses the whole
        central directory, which for each of a book's parts in turn cost more than reading
        them."""
        try:
            if self._zip is None:
                self._zip = zipfile.ZipFile(self._path)
            with self._zip.open(self._infos[name]) as f:  # this entry (names are unique)
                return f.read()
        except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError) as exc:
            raise XlsgenError(f"Excel ブックとして開けません（部品 {name}: {exc}）",
                              str(self._path)) from exc

    def __getitem__(self, name: str) -> bytes:
        data = self._data.get(name)
        if data is None:
            if name not in self._infos:
                raise KeyError(name)
            data = self._data[name] = self._read(name)
        return data

    def __setitem__(self, name: str, data: bytes) -> None:
        if name in self._infos and name not in self._replaced:
            self._replaced.add(name)
            if name in self._data:
                self._first[name] = self._data[name]
        self._data[name] = data

    def __delitem__(self, name: str) -> None:
        self._data.pop(name, None)
        self._infos.pop(name, None)

    def __contains__(self, name) -> bool:
        return name in self._data or name in self._infos

    def __iter__(self):
        yield from self._infos
        yield from (n for n in self._data if n not in self._infos)

    def __len__(self) -> int:
        return len(self._infos) + sum(n not in self._infos for n in self._data)


class _Original(Mapping):
    """An input's parts as stored: a part replaced since is given as it was read first."""

    def __init__(self, parts: Parts):
        self._parts = parts

    def __getitem__(self, name: str) -> bytes:
        p = self._parts
        if name in p._first:
            return p._first[name]
        if name not in p._infos:
            raise KeyError(name)
        if name in p._data and name not in p._replaced:
            return p._data[name]  # read, never replaced
        return p._read(name)

    def __contains__(self, name) -> bool:
        return name in self._parts._infos

    def __iter__(self):
        return iter(self._parts._infos)

    def __len__(self) -> int:
        return len(self._parts._infos)


class Package:
    """The parts of an .xlsx/.xlsm file, in zip order."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            with zipfile.ZipFile(self.path) as z:
                self.infos = _unique_entries(z.infolist(), z, str(path))
        except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
            raise XlsgenError(f"Excel ブックとして開けません（{exc}）", str(path)) from exc
        if sum(i.file_size for i in self.infos) > MAX_UNPACKED:
            raise XlsgenError("展開後のサイズが大きすぎるため開きません（壊れたファイルか圧縮爆弾の可能性）",
                              str(path))
        self.parts = Parts(self.path, self.infos)
        if "[Content_Types].xml" not in self.parts:
            raise XlsgenError("Excel ブックとして開けません（[Content_Types].xml がありません）", str(path))
        self.order = [i.filename for i in self.infos]
        self.original = self.parts.original  # the input's parts (for checks against the edit)
        self.changed: set[str] = set()
        self._texts: dict[str, tuple[bytes, str]] = {}
        self._names = {p.lower() for p in self.parts}
        self._rels: dict[str, list] = {}
        self._ct = None
        self._overrides: list[str] = []
        self._defaults: set[str] = set()
        self.workbook_part = self._main_part()
        if b"purl.oclc.org/ooxml/spreadsheetml" in self.parts.get(self.workbook_part, b""):
            raise XlsgenError("Strict Open XML 形式のブックには対応していません。Excel で「Excel ブック (*.xlsx)」"
                              "として保存し直してから実行してください", str(path))
        self.sheets = self._sheets()  # name → part (in workbook order)

    # --- lookup -------------------------------------------------------------------

    def rels_path(self, part: str) -> str:
        d, f = posixpath.split(part)
        return posixpath.join(d, "_rels", f + ".rels")

    @property
    def content_types(self):
        self._flush_overrides()
        if self._ct is None:
            self._ct = parse(self.parts["[Content_Types].xml"])
        return self._ct

    def rels(self, part: str) -> list[tuple[str, str, str, str]]:
        """(Id, Type, target part, TargetMode) of the relationships of `part`."""
        path = self.rels_path(part)
        if path not in self._rels:
            self._rels[path] = self._read_rels(part)
        return self._rels[path]

    def _read_rels(self, part: str) -> list[tuple[str, str, str, str]]:
        data = self.parts.get(self.rels_path(part))
        if data is None:
            return []
        out = []
        for r in parse(data).iter(f"{{{NS_REL}}}Relationship"):
            mode = r.get("TargetMode", "")
            target = r.get("Target", "")
            if mode != "External":
                target = (target.lstrip("/") if target.startswith("/")
                          else posixpath.normpath(posixpath.join(posixpath.dirname(part), target)))
            out.append((r.get("Id"), r.get("Type"), target, mode))
        return out

    def content_type(self, part: str) -> str | None:
        for o in self.content_types.iter(f"{{{NS_CT}}}Override"):
            if o.get("PartName", "").lstrip("/") == part:
                return o.get("ContentType")
        ext = part.rsplit(".", 1)[-1].lower()
        for d in self.content_types.iter(f"{{{NS_CT}}}Default"):
            if d.get("Extension", "").lower() == ext:
                return d.get("ContentType")
        return None

    def _main_part(self) -> str:
        for _, typ, target, _ in self.rels(""):
            if typ.endswith("/officeDocument"):
                return target
        raise XlsgenError("ブックの本体（workbook.xml）が見つかりません", str(self.path))

    @property
    def kind(self) -> str:
        """The extension the content calls for: .xlsx, .xlsm, .xltx or .xltm."""
        return MAIN_TYPES.get(self.content_type(self.workbook_part) or "", ".xlsx")

    def _sheets(self) -> dict[str, str]:
        targets = {rid: t for rid, typ, t, _ in self.rels(self.workbook_part)}
        wb = parse(self.parts[self.workbook_part])
        out = {}
        for s in wb.iter(f"{{{NS_MAIN}}}sheet"):
            t = targets.get(s.get(f"{{{NS_R}}}id"))
            if t:
                out[s.get("name")] = t
        return out

    def text(self, part: str) -> str:
        """A part as text, its tags in the one shape the package code reads
        (`normalize_tags`): what is put back is the same document."""
        if part == "[Content_Types].xml":
            self._flush_overrides()
        data = self.parts[part]
        hit = self._texts.get(part)
        if hit is None or hit[0] is not data:
            hit = self._texts[part] = (data, normalize_tags(data.decode("utf-8")))
        return hit[1]

    # --- change -------------------------------------------------------------------

    def put(self, part: str, data: bytes | str) -> None:
        """Set a part. Text put here is what `text()` gives back (xlsgen writes its XML in
        the one attribute shape `normalize_tags` makes)."""
        text = None
        if isinstance(data, str):
            text, data = data, data.encode("utf-8")
        if part not in self.parts:
            self.order.append(part)
            self._names.add(part.lower())
        self.parts[part] = data
        if text is not None:
            self._texts[part] = (data, text)
        self.changed.add(part)
        self._rels.pop(part, None)
        if part == "[Content_Types].xml":
            self._ct = None

    def remove(self, part: str) -> None:
        """Drop `part` with the relationships to it and its content-type override."""
        if part not in self.parts:
            return
        del self.parts[part]
        self.order.remove(part)
        self._names.discard(part.lower())
        self.changed.discard(part)
        for rels_path in [p for p in self.parts if p.endswith(".rels")]:
            source = rels_path.replace("_rels/", "").removesuffix(".rels")
            xml = self.text(rels_path)
            ids = [rid for rid, _, target, mode in self.rels(source) if target == part and mode != "External"]
            for rid in ids:
                xml = re.sub(rf'<(?:\w+:)?Relationship\b[^>]*\sId="{re.escape(rid)}"[^>]*/>', "", xml)
            if ids:
                self.put(rels_path, xml)
                self._rels.pop(rels_path, None)
        ct = self.text("[Content_Types].xml")
        new = re.sub(rf'<(?:\w+:)?Override\b[^>]*\sPartName="/{re.escape(part)}"[^>]*/>', "", ct)
        if new != ct:
            self.put("[Content_Types].xml", new)

    def free_name(self, pattern: str) -> str:
        """The first part name `pattern.format(n)` (n = 1, 2, ...) not in the package."""
        n = 1
        while pattern.format(n).lower() in self._names:
            n += 1
        return pattern.format(n)

    def add_override(self, part: str, content_type: str) -> None:
        self._overrides.append(f'<Override PartName="/{part}" ContentType="{content_type}"/>')

    def _flush_overrides(self) -> None:
        if self._overrides:
            tags, self._overrides = "".join(self._overrides), []
            xml = self.parts["[Content_Types].xml"].decode("utf-8")
            self.put("[Content_Types].xml", xml.replace("</Types>", tags + "</Types>"))

    def add_default(self, ext: str, content_type: str) -> None:
        if ext.lower() in self._defaults:
            return
        xml = self.text("[Content_Types].xml")
        if re.search(rf'<(?:\w+:)?Default\b[^>]*\sExtension="{re.escape(ext)}"', xml, re.I):
            self._defaults.add(ext.lower())
            return
        self._defaults.add(ext.lower())
        tag = f'<Default Extension="{ext}" ContentType="{content_type}"/>'
        i = xml.index(">", xml.index("<Types")) + 1
        self.put("[Content_Types].xml", xml[:i] + tag + xml[i:])

    def add_rel(self, part: str, typ: str, target: str) -> str:
        """Add a relationship from `part` to the part `target`; returns its Id."""
        path = self.rels_path(part)
        rel_target = _relative(target, posixpath.dirname(part))
        ids = set(re.findall(r'\sId="([^"]*)"', self.text(path))) if path in self.parts else set()
        n = 1
        while f"rId{n}" in ids:
            n += 1
        tag = f'<Relationship Id="rId{n}" Type="{REL}{typ}" Target="{rel_target}"/>'
        if path in self.parts:
            xml = self.text(path).replace("</Relationships>", tag + "</Relationships>")
        else:
            xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   f'<Relationships xmlns="{NS_REL}">{tag}</Relationships>')
            self.add_default("rels", "application/vnd.openxmlformats-package.relationships+xml")
        self.put(path, xml)
        return f"rId{n}"

    def part_size(self, part: str) -> int:
        """The uncompressed size of an input part (0 for a part the input does not have)."""
        info = next((i for i in self.infos if i.filename == part), None)
        return info.file_size if info else 0

    def untouched(self) -> set[str]:
        """Input parts never read nor replaced: the writer copies their stored bytes."""
        return {i.filename for i in self.infos} - self.parts.loaded - self.changed

    def write(self, path: str | Path) -> None:
        """Write every part, in the input's order: unchanged parts with the same bytes (as
        stored in the input, not compressed again), changed and new parts compressed."""
        self._flush_overrides()
        old = {i.filename: i for i in self.infos}
        with open(path, "wb") as out, zipfile.ZipFile(out, "w") as z, open(self.path, "rb") as src:
            for name in self.order:
                if name in old and name not in self.changed and _copy_stored(z, src, old[name]):
                    continue
                info = zipfile.ZipInfo(name, date_time=old[name].date_time if name in old else ZIP_TIME)
                small = len(self.parts[name]) < 2048  # new small parts (rels, notes): stored, not deflated
                info.compress_type = old[name].compress_type if name in old else (
                    zipfile.ZIP_STORED if small else zipfile.ZIP_DEFLATED)
                info._compresslevel = 1  # fast; the parts are small XML
                info.external_attr = 0o644 << 16
                z.writestr(info, self.parts[name])


def _copy_stored(z: zipfile.ZipFile, src, info: zipfile.ZipInfo) -> bool:
    """Copy one entry of the input zip `src` into `z` as it is stored (compressed bytes,
    CRC and sizes kept): an unchanged part costs no decompression and no compression.
    False (nothing written) when the entry cannot be copied that way."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) \
            or not all(hasattr(z, a) for a in ("fp", "filelist", "NameToInfo", "start_dir")):
        return False
    src.seek(info.header_offset)
    head = src.read(30)
    if len(head) != 30 or head[:4] != b"PK\x03\x04":
        return False
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    src.seek(info.header_offset + 30 + name_len + extra_len)
    raw = src.read(info.compress_size)
    if len(raw) != info.compress_size:
        return False
    out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    out.compress_type = info.compress_type
    out.CRC, out.compress_size, out.file_size = info.CRC, info.compress_size, info.file_size
    out.external_attr = 0o644 << 16
    z._writecheck(out)
    out.header_offset = z.fp.tell()
    z._didModify = True
    z.fp.write(out.FileHeader())
    z.fp.write(raw)
    z.filelist.append(out)
    z.NameToInfo[out.filename] = out
    z.start_dir = z.fp.tell()
    return True

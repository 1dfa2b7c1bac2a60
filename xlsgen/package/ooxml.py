"""An OOXML package held as its zip parts: read, look up, replace, write back.

Parts are kept as bytes in their zip order; only parts set with `put` are written anew,
every other part is written with the same bytes. XML is parsed with a hardened lxml parser
(no entities, no network, no DTD), the same protection defusedxml gives.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path

from lxml import etree

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

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_blank_text=False)


def parse(data: bytes):
    """Parse untrusted XML without entity expansion or network access."""
    if b"<!DOCTYPE" in data[:2048] or b"<!ENTITY" in data:
        raise ValueError("DTD in a package part")
    return etree.fromstring(data, _PARSER)


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


class Package:
    """The parts of an .xlsx/.xlsm file, in zip order."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            with zipfile.ZipFile(self.path) as z:
                self.infos = _unique_entries(z.infolist(), z, str(path))
                if sum(i.file_size for i in self.infos) > MAX_UNPACKED:
                    raise XlsgenError("展開後のサイズが大きすぎるため開きません（壊れたファイルか圧縮爆弾の可能性）",
                                      str(path))
                self.parts = {i.filename: z.open(i).read() for i in self.infos}
        except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
            raise XlsgenError(f"Excel ブックとして開けません（{exc}）", str(path)) from exc
        if "[Content_Types].xml" not in self.parts:
            raise XlsgenError("Excel ブックとして開けません（[Content_Types].xml がありません）", str(path))
        self.order = [i.filename for i in self.infos]
        self.original = dict(self.parts)  # the input's parts (for checks against the edit)
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

    def write(self, path: str | Path) -> None:
        """Write every part, in the input's order, unchanged parts with the same bytes."""
        self._flush_overrides()
        old = {i.filename: i for i in self.infos}
        buf = io.BytesIO()  # built in memory: zipfile seeks back over every entry
        with zipfile.ZipFile(buf, "w") as z:
            for name in self.order:
                info = zipfile.ZipInfo(name, date_time=old[name].date_time if name in old else ZIP_TIME)
                small = len(self.parts[name]) < 2048  # new small parts (rels, notes): stored, not deflated
                info.compress_type = old[name].compress_type if name in old else (
                    zipfile.ZIP_STORED if small else zipfile.ZIP_DEFLATED)
                info._compresslevel = 1  # fast; the parts are small XML
                info.external_attr = 0o644 << 16
                z.writestr(info, self.parts[name])
        Path(path).write_bytes(buf.getvalue())

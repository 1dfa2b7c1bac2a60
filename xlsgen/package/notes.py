"""Notes (cell comments) added to a worksheet: into its comments part and VML drawing when
they exist (existing notes keep their text, visibility, size and font), created otherwise."""

from __future__ import annotations

import re

from xlsgen.package.ooxml import CT_COMMENTS, CT_VML, NS_MAIN, Package, escape_attr, escape_text
from xlsgen.package.sheet import split_addr

AUTHOR = "xlsgen"
_VML_HEAD = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
    ' xmlns:x="urn:schemas-microsoft-com:office:excel">'
    '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{idmap}"/></o:shapelayout>')
_SHAPETYPE = (
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')


def _shape(n: int, row: int, col: int) -> str:
    return (
        f'<v:shape id="_x0000_s{n}" type="#_x0000_t202" style="position:absolute;margin-left:80pt;'
        'margin-top:2pt;width:270pt;height:165pt;z-index:1;visibility:hidden" fillcolor="#ffffe1"'
        ' o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
        '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
        '<div style="text-align:left"></div></v:textbox><x:ClientData ObjectType="Note">'
        f"<x:MoveWithCells/><x:SizeWithCells/><x:Anchor>{col + 1}, 15, {row}, 2, {col + 5}, 15, {row + 12}, 4"
        f"</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{col}</x:Column>"
        "</x:ClientData></v:shape>")


def add_notes(pkg: Package, sheet_part: str, sheet_xml: str, notes: dict[str, str]) -> str:
    """Add `notes` (address → text) to the sheet; returns the sheet's (maybe new) text."""
    if not notes:
        return sheet_xml
    rels = pkg.rels(sheet_part)
    comments = next((t for _, typ, t, _ in rels if typ.endswith("/comments")), None)
    m = re.search(r'<(?:\w+:)?legacyDrawing\b[^>]*\s(?:\w+:)?id="([^"]+)"', sheet_xml)
    vml = next((t for rid, typ, t, _ in rels if m and rid == m.group(1)), None)
    if comments is None:
        comments = pkg.free_name("xl/comments{}.xml")
        old_comments = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                        f'<comments xmlns="{NS_MAIN}"><authors></authors><commentList></commentList></comments>')
        pkg.add_override(comments, CT_COMMENTS)
        pkg.add_rel(sheet_part, "comments", comments)
    else:
        old_comments = pkg.text(comments)
    if vml is None:
        vml = pkg.free_name("xl/drawings/vmlDrawing{}.vml")
        idmap = int(re.search(r"(\d+)\.vml$", vml).group(1))
        old_vml = _VML_HEAD.format(idmap=idmap) + _SHAPETYPE + "</xml>"
        pkg.add_default("vml", CT_VML)
        rid = pkg.add_rel(sheet_part, "vmlDrawing", vml)
        sheet_xml = _add_legacy_drawing(sheet_xml, rid)
    else:
        old_vml = pkg.parts[vml].decode("utf-8", "replace")
    pkg.put(comments, _comments(old_comments, notes))
    pkg.put(vml, _vml(old_vml, notes))
    return sheet_xml


def _comments(xml: str, notes: dict[str, str]) -> str:
    p = (re.search(r"<(\w+:)?comments\b", xml).group(1) or "")
    authors = re.findall(rf"<{p}author>(.*?)</{p}author>", xml, re.S)
    if AUTHOR in authors:
        aid = authors.index(AUTHOR)
    else:
        aid = len(authors)
        tag = f"<{p}author>{AUTHOR}</{p}author>"
        xml = (xml.replace(f"</{p}authors>", tag + f"</{p}authors>", 1) if f"</{p}authors>" in xml
               else re.sub(rf"<{p}authors\s*/>", f"<{p}authors>{tag}</{p}authors>", xml, count=1))
    for addr, text in notes.items():
        body = (f'<{p}text><{p}r><{p}rPr><{p}sz val="9"/><{p}rFont val="游ゴシック"/></{p}rPr>'
                f'<{p}t xml:space="preserve">{escape_text(text)}</{p}t></{p}r></{p}text>')
        old = re.search(rf'<{p}comment\b[^>]*\sref="{addr}"[^>]*>.*?</{p}comment>', xml, re.S)
        if old:  # our own note of last year on this cell: new text, same box
            inner = re.sub(rf"<{p}text>.*?</{p}text>", body, old.group(0), count=1, flags=re.S)
            xml = xml[: old.start()] + inner + xml[old.end():]
            continue
        tag = f'<{p}comment ref="{escape_attr(addr)}" authorId="{aid}">{body}</{p}comment>'
        if f"</{p}commentList>" in xml:
            xml = xml.replace(f"</{p}commentList>", tag + f"</{p}commentList>", 1)
        else:
            xml = re.sub(rf"<{p}commentList\s*/>", f"<{p}commentList>{tag}</{p}commentList>", xml, count=1)
    return xml


def _vml(xml: str, notes: dict[str, str]) -> str:
    """Add a hidden note box for each note whose cell has none yet."""
    have = {(int(r), int(c)) for r, c in re.findall(
        r"<x:Row>(\d+)</x:Row>\s*<x:Column>(\d+)</x:Column>", xml)}
    ids = [int(n) for n in re.findall(r'_x0000_s(\d+)', xml)]
    n = max(ids, default=1024) + 1
    shapes = ""
    for addr in notes:
        row, col = split_addr(addr)
        if (row - 1, col - 1) in have:
            continue
        shapes += _shape(n, row - 1, col - 1)
        n += 1
    if not shapes:
        return xml
    if "_x0000_t202" not in xml:
        shapes = _SHAPETYPE + shapes
    i = xml.rindex("</xml>")
    return xml[:i] + shapes + xml[i:]


_BEFORE_LEGACY = ("sheetData", "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios",
                  "autoFilter", "sortState", "dataConsolidate", "customSheetViews", "mergeCells",
                  "phoneticPr", "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions",
                  "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks", "customProperties",
                  "cellWatches", "ignoredErrors", "smartTags", "drawing")


def _add_legacy_drawing(xml: str, rid: str) -> str:
    """Insert `<legacyDrawing>` right after the last top-level element that precedes it in the
    schema (never inside an extension list)."""
    m = re.search(r"<(\w+:)?worksheet\b", xml)
    p = m.group(1) or ""
    r_prefix = _r_prefix(xml)
    tag = f'<{p}legacyDrawing {r_prefix}:id="{rid}"/>'
    if r_prefix == "xr_r":
        tag = f'<{p}legacyDrawing xmlns:xr_r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xr_r:id="{rid}"/>'
    end = max((_element_end(xml, p, name) for name in _BEFORE_LEGACY), default=-1)
    if end < 0:
        end = xml.rindex(f"</{p}worksheet>")
    return xml[:end] + tag + xml[end:]


def _element_end(xml: str, p: str, name: str) -> int:
    """Where the last top-level `name` element ends (-1 when there is none)."""
    open_tag = f"<{p}{name}"
    i = xml.rfind(open_tag)
    while i >= 0 and xml[i + len(open_tag)] not in " />":
        i = xml.rfind(open_tag, 0, i)
    if i < 0:
        return -1
    j = xml.index(">", i)
    if xml[j - 1] == "/":
        return j + 1
    close = f"</{p}{name}>"
    k = xml.find(close, j)
    return k + len(close) if k >= 0 else -1


def _r_prefix(xml: str) -> str:
    m = re.search(r'xmlns:(\w+)="http://schemas.openxmlformats.org/officeDocument/2006/relationships"', xml)
    return m.group(1) if m else "xr_r"

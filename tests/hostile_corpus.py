"""Hostile input workbooks built by editing the package XML of a copy of a city workbook
as text (so the damage is exactly what a broken writer or a paste from Word would leave)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from tests.conftest import OJIYA


def edit_parts(src: Path, dst: Path, edit) -> Path:
    """Copy `src` to `dst`, passing each part's text through `edit(name, text) -> text`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith((".xml", ".rels")):
                text = edit(info.filename, data.decode("utf-8"))
                data = text.encode("utf-8")
            zout.writestr(info, data)
    return dst


def stray_cell(dst: Path, ref: str = "XFD1048576", dimension: str | None = None,
               src: Path = OJIYA, part: str = "xl/worksheets/sheet1.xml") -> Path:
    """One stray number at `ref` on the first sheet; `dimension` overrides <dimension ref>."""
    row = re.match(r"[A-Z]+(\d+)", ref).group(1) if ref else None

    def edit(name, text):
        if name != part:
            return text
        if ref:
            text = text.replace("</sheetData>",
                                f'<row r="{row}"><c r="{ref}" t="n"><v>1</v></c></row></sheetData>')
        if dimension:
            text = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>', text)
        return text

    return edit_parts(src, dst, edit)


def first_string(src: Path = OJIYA) -> str:
    """The first shared string of `src` (to edit it in place)."""
    with zipfile.ZipFile(src) as zf:
        xml = zf.read("xl/sharedStrings.xml").decode("utf-8")
    return re.search(r"<t[^>]*>([^<]*)</t>", xml).group(1)


def replace_text(dst: Path, old: str, new_xml: str, src: Path = OJIYA) -> Path:
    """Replace every shared string equal to `old` with `new_xml` (already XML-escaped)."""

    def edit(name, text):
        if name != "xl/sharedStrings.xml":
            return text
        return re.sub(r"(<t[^>]*>)" + re.escape(old) + "(</t>)",
                      lambda m: m.group(1) + new_xml + m.group(2), text)

    return edit_parts(src, dst, edit)


def uncalculated(dst: Path, cells: list[str], src: Path = OJIYA,
                 part: str = "xl/worksheets/sheet1.xml") -> Path:
    """The `cells` of the first sheet turned into formulas with no saved result (as a
    program that never calculates would write them)."""

    def edit(name, text):
        if name != part:
            return text
        for ref in cells:
            text, n = re.subn(r'<c r="' + ref + r'"([^>]*?)(?:/>|>.*?</c>)',
                              lambda m, ref=ref: '<c r="' + ref + '"' + re.sub(r'\s*t="\w+"', "", m.group(1))
                              + "><f>1+1</f></c>", text, count=1, flags=re.S)
            assert n == 1, ref
        return text

    return edit_parts(src, dst, edit)


def linked_book(dst: Path, ref_name: bool = True, external: bool = True) -> Path:
    """A small book with a defined name pointing to #REF! and a formula reading
    `[1]Sheet1!A1` through an externalLink part (as Excel writes them)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "計算"
    ws["A1"], ws["A2"], ws["B1"] = 10, 20, "=A1*2"
    if external:
        ws["B2"] = "=[1]Sheet1!$A$1*2"
    plain = dst.with_suffix(".plain.xlsx")
    wb.save(plain)
    link = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames>'
            '<sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>5</v></cell></row>'
            '</sheetData></sheetDataSet></externalBook></externalLink>')
    link_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                 'relationships/externalLinkPath" Target="予算_R3.xlsx" TargetMode="External"/>'
                 '</Relationships>')

    def edit(name, text):
        if name == "xl/workbook.xml":
            extra = ""
            if external:
                extra += ('<externalReferences><externalReference xmlns:r="http://schemas.openxmlformats'
                          '.org/officeDocument/2006/relationships" r:id="rIdX1"/></externalReferences>')
            if ref_name:
                extra += '<definedNames><definedName name="単価">#REF!</definedName></definedNames>'
            text = re.sub(r"(</sheets>)", lambda m: m.group(1) + extra, text.replace("<definedNames/>", ""))
        elif name == "xl/_rels/workbook.xml.rels" and external:
            text = text.replace("</Relationships>",
                                '<Relationship Id="rIdX1" Type="http://schemas.openxmlformats.org/'
                                'officeDocument/2006/relationships/externalLink" '
                                'Target="externalLinks/externalLink1.xml"/></Relationships>')
        elif name == "[Content_Types].xml" and external:
            text = text.replace("</Types>",
                                '<Override PartName="/xl/externalLinks/externalLink1.xml" '
                                'ContentType="application/vnd.openxmlformats-officedocument.'
                                'spreadsheetml.externalLink+xml"/></Types>')
        return text

    edit_parts(plain, dst, edit)
    plain.unlink()
    if external:
        with zipfile.ZipFile(dst, "a") as zf:
            zf.writestr("xl/externalLinks/externalLink1.xml", link)
            zf.writestr("xl/externalLinks/_rels/externalLink1.xml.rels", link_rels)
    return dst

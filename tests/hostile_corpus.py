"""Hostile input workbooks built by editing the package XML of a copy of a city workbook
as text (so the damage is exactly what a broken writer or a paste from Word would leave)."""

from __future__ import annotations

import re
import shutil
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


# --- round three: odd but valid package shapes, and packages that must be refused ---------

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
S1 = "xl/worksheets/sheet1.xml"  # sheet 「01」 of the 小千谷 workbook
_TAG = re.compile(r"<[^<>!?]+>")


def edit_sheets(dst: Path, edit, parts: tuple[str, ...] = (S1,), src: Path = OJIYA) -> Path:
    """Copy `src` passing the text of each part in `parts` through `edit(text) -> text`."""
    return edit_parts(src, dst, lambda name, text: edit(text) if name in parts else text)


def prefixed(xml: str, prefix: str = "x") -> str:
    """The part with its main-namespace elements written `x:row`, `x:c` … (the namespace
    bound to the prefix on the root instead of being the default one)."""
    def tag(m: re.Match) -> str:
        t = m.group(0)
        name = re.match(r"</?([^\s/>]+)", t).group(1)
        if ":" in name:
            return t
        t = t.replace(f"<{name}", f"<{prefix}:{name}", 1) if not t.startswith("</") else \
            t.replace(f"</{name}", f"</{prefix}:{name}", 1)
        return t.replace(f' xmlns="{MAIN_NS}"', f' xmlns:{prefix}="{MAIN_NS}"')
    return _TAG.sub(tag, xml)


def single_quoted(xml: str) -> str:
    """Every attribute value in single quotes (and spaces around `=`), as XML allows."""
    def tag(m: re.Match) -> str:
        return re.sub(r'(\s[\w:.-]+)="([^"\']*)"', r"\1 = '\2'", m.group(0))
    return _TAG.sub(tag, xml)


def without_refs(xml: str) -> str:
    """Rows and cells without `r` wherever the position says it (the row after the last
    one, the column after the last cell), as some writers save them."""
    from xlsgen.formulas import col_index

    out, last_row, last_col = [], 0, 0
    pos = 0
    for m in re.finditer(r'<(row|c)\b([^>]*?)\sr="([A-Z]*)([0-9]+)"', xml):
        kind, row = m.group(1), int(m.group(4))
        keep = True
        if kind == "row":
            keep, last_row, last_col = row != last_row + 1, row, 0
        else:
            col = col_index(m.group(3))
            keep, last_col = col != last_col + 1, col
        out.append(xml[pos: m.start()])
        out.append(m.group(0) if keep else f"<{kind}{m.group(2)}")
        pos = m.end()
    return "".join(out) + xml[pos:]


def swap_cells(xml: str, a: str, b: str) -> str:
    """Cells `a` and `b` (same row) stored in the wrong order."""
    ca = re.search(rf'<c r="{a}"[^>]*?(?:/>|>.*?</c>)', xml, re.S)
    cb = re.search(rf'<c r="{b}"[^>]*?(?:/>|>.*?</c>)', xml, re.S)
    if ca is None or cb is None:
        return xml
    first, second = sorted((ca, cb), key=lambda m: m.start())
    return (xml[: first.start()] + second.group(0) + xml[first.end(): second.start()] + first.group(0)
            + xml[second.end():])


def set_cell(xml: str, ref: str, cell: str) -> str:
    """Replace the `<c>` of `ref` with `cell` (XML text)."""
    new, n = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', cell.replace("\\", "\\\\"), xml, count=1, flags=re.S)
    assert n == 1, ref
    return new


def with_entries(src: Path, dst: Path, extra: list[tuple[str, bytes]]) -> Path:
    """A copy of `src` with more zip entries appended (names may repeat existing ones)."""
    import warnings

    shutil.copy(src, dst)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on a repeated name
        with zipfile.ZipFile(dst, "a") as zf:
            for name, data in extra:
                zf.writestr(name, data)
    return dst


def add_sheet(dst: Path, name: str, rows_xml: str, src: Path = OJIYA) -> Path:
    """A copy of `src` with one more worksheet `name` (its sheetData rows given) at the end."""
    sheet = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}">'
             f"<sheetData>{rows_xml}</sheetData></worksheet>")
    escaped = name.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")

    def edit(part, text):
        if part == "xl/workbook.xml":
            n = len(re.findall(r"<sheet ", text)) + 1
            return text.replace("</sheets>", f'<sheet name="{escaped}" sheetId="{n + 100}" r:id="rIdX{n}"/></sheets>')
        if part == "xl/_rels/workbook.xml.rels":
            n = len(re.findall(r"<sheet ", zipfile.ZipFile(src).read("xl/workbook.xml").decode())) + 1
            return text.replace("</Relationships>", f'<Relationship Id="rIdX{n}" Type="http://schemas.openxmlformats'
                                f'.org/officeDocument/2006/relationships/worksheet" Target="worksheets/city{n}.xml"/>'
                                "</Relationships>")
        if part == "[Content_Types].xml":
            n = len(re.findall(r"<sheet ", zipfile.ZipFile(src).read("xl/workbook.xml").decode())) + 1
            return text.replace("</Types>", f'<Override PartName="/xl/worksheets/city{n}.xml" ContentType="application/'
                                'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        return text

    edit_parts(src, dst, edit)
    n = len(re.findall(r"<sheet ", zipfile.ZipFile(src).read("xl/workbook.xml").decode())) + 1
    with zipfile.ZipFile(dst, "a") as zf:
        zf.writestr(f"xl/worksheets/city{n}.xml", sheet)
    return dst


def inline_row(cells: list[str], r: int = 1) -> str:
    """A `<row>` of inline-string cells A, B, C …"""
    from xlsgen.formulas import col_letters

    return f'<row r="{r}">' + "".join(
        f'<c r="{col_letters(i)}{r}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(cells, 1)) + "</row>"

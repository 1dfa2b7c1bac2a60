"""Fidelity corpus: variants of the 小千谷 workbook, one Excel feature each, made by editing
the package as text (never a load/save through a spreadsheet library), and a checker that
compares an input and its rolled output part by part.

    python -m tests.fidelity_corpus OUT_DIR     # writes one .xlsx/.xlsm per feature
"""

from __future__ import annotations

import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from xlsgen.model import XLSGEN_SHEETS

SRC = Path(__file__).resolve().parent.parent / "inputs" / "ojiya_進行管理シート_R3.xlsx"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
S1 = "xl/worksheets/sheet1.xml"  # sheet 「01」
S2 = "xl/worksheets/sheet2.xml"
ORDER = ("sheetPr dimension sheetViews sheetFormatPr cols sheetData sheetCalcPr sheetProtection "
         "protectedRanges scenarios autoFilter sortState dataConsolidate customSheetViews mergeCells "
         "phoneticPr conditionalFormatting dataValidations hyperlinks printOptions pageMargins pageSetup "
         "headerFooter rowBreaks colBreaks customProperties cellWatches ignoredErrors smartTags drawing "
         "legacyDrawing legacyDrawingHF drawingHF picture oleObjects controls webPublishItems tableParts "
         "extLst").split()

Parts = dict[str, bytes]


def _t(parts: Parts, name: str) -> str:
    return parts[name].decode("utf-8")


def _set(parts: Parts, name: str, text: str | bytes) -> None:
    parts[name] = text.encode("utf-8") if isinstance(text, str) else text


def child(parts: Parts, sheet: str, name: str, tag: str) -> None:
    """Insert `tag` (a `name` element) into a sheet in schema order."""
    xml = _t(parts, sheet)
    later = ORDER[ORDER.index(name) + 1:]
    at = min([m.start() for n in later for m in [re.search(rf"<{n}\b", xml)] if m] + [xml.rindex("</worksheet>")])
    _set(parts, sheet, xml[:at] + tag + xml[at:])


def content_type(parts: Parts, part: str | None, ctype: str, ext: str | None = None) -> None:
    xml = _t(parts, "[Content_Types].xml")
    tag = (f'<Default Extension="{ext}" ContentType="{ctype}"/>' if ext else
           f'<Override PartName="/{part}" ContentType="{ctype}"/>')
    if ext and f'Extension="{ext}"' in xml:
        return
    _set(parts, "[Content_Types].xml", xml.replace("</Types>", tag + "</Types>"))


def rel(parts: Parts, source: str, typ: str, target: str, mode: str = "") -> str:
    d, f = source.rsplit("/", 1) if "/" in source else ("", source)
    path = f"{d}/_rels/{f}.rels" if d else f"_rels/{f}.rels"
    xml = _t(parts, path) if path in parts else f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}"></Relationships>'
    n = 1
    while f'Id="rId{n}"' in xml:
        n += 1
    m = f' TargetMode="{mode}"' if mode else ""
    full = typ if typ.startswith("http") else REL + typ
    xml = xml.replace("</Relationships>", f'<Relationship Id="rId{n}" Type="{full}" Target="{target}"{m}/></Relationships>')
    _set(parts, path, xml)
    return f"rId{n}"


def _anchor(body: str, c1=10, r1=1, c2=14, r2=8) -> str:
    return (f'<xdr:twoCellAnchor><xdr:from><xdr:col>{c1}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{r1}</xdr:row>'
            f'<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>{c2}</xdr:col><xdr:colOff>0</xdr:colOff>'
            f'<xdr:row>{r2}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>{body}<xdr:clientData/></xdr:twoCellAnchor>')


def drawing(parts: Parts, anchors: str) -> str:
    part = "xl/drawings/drawing1.xml"
    _set(parts, part, f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><xdr:wsDr xmlns:xdr="{XDR}" '
         f'xmlns:a="{A}" xmlns:r="{RNS}">{anchors}</xdr:wsDr>')
    content_type(parts, part, "application/vnd.openxmlformats-officedocument.drawing+xml")
    rid = rel(parts, S1, "drawing", "../drawings/drawing1.xml")
    child(parts, S1, "drawing", f'<drawing r:id="{rid}"/>')
    return part


def textbox(parts: Parts) -> None:
    sp = ('<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="2" name="TextBox 1"/><xdr:cNvSpPr txBox="1"/>'
          '</xdr:nvSpPr><xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="2000000" cy="600000"/></a:xfrm>'
          '<a:prstGeom prst="wedgeRectCallout"><a:avLst/></a:prstGeom></xdr:spPr><xdr:txBody><a:bodyPr/>'
          '<a:lstStyle/><a:p><a:r><a:rPr lang="ja-JP"/><a:t>確認してください</a:t></a:r></a:p></xdr:txBody></xdr:sp>')
    arrow = ('<xdr:cxnSp macro=""><xdr:nvCxnSpPr><xdr:cNvPr id="3" name="Arrow 2"/><xdr:cNvCxnSpPr/></xdr:nvCxnSpPr>'
             '<xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="500000" cy="500000"/></a:xfrm><a:prstGeom prst="line">'
             '<a:avLst/></a:prstGeom><a:ln><a:tailEnd type="triangle"/></a:ln></xdr:spPr></xdr:cxnSp>')
    drawing(parts, _anchor(sp) + _anchor(arrow, 10, 9, 12, 12))


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def picture(parts: Parts) -> None:
    _set(parts, "xl/media/image1.png", _png())
    pic = ('<xdr:pic><xdr:nvPicPr><xdr:cNvPr id="2" name="Picture 1"/><xdr:cNvPicPr/></xdr:nvPicPr>'
           '<xdr:blipFill><a:blip r:embed="rId1"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill>'
           '<xdr:spPr><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic>')
    part = drawing(parts, _anchor(pic))
    rel(parts, part, "image", "../media/image1.png")


def chart(parts: Parts) -> None:
    c = "http://schemas.openxmlformats.org/drawingml/2006/chart"
    _set(parts, "xl/charts/chart1.xml", (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><c:chartSpace xmlns:c="{c}" xmlns:a="{A}" '
        f'xmlns:r="{RNS}"><c:chart><c:plotArea><c:layout/><c:barChart><c:barDir val="col"/><c:grouping val="clustered"/>'
        "<c:ser><c:idx val=\"0\"/><c:order val=\"0\"/><c:val><c:numRef><c:f>'01'!$E$17:$H$17</c:f></c:numRef></c:val>"
        '</c:ser><c:axId val="1"/><c:axId val="2"/></c:barChart><c:catAx><c:axId val="1"/><c:scaling/><c:delete val="0"/>'
        '<c:axPos val="b"/><c:crossAx val="2"/></c:catAx><c:valAx><c:axId val="2"/><c:scaling/><c:delete val="0"/>'
        '<c:axPos val="l"/><c:crossAx val="1"/></c:valAx></c:plotArea></c:chart></c:chartSpace>'))
    content_type(parts, "xl/charts/chart1.xml", "application/vnd.openxmlformats-officedocument.drawingml.chart+xml")
    frame = ('<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="2" name="Chart 1"/><xdr:cNvGraphicFramePr/>'
             '</xdr:nvGraphicFramePr><xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm><a:graphic>'
             f'<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:chart xmlns:c="{c}" '
             'r:id="rId1"/></a:graphicData></a:graphic></xdr:graphicFrame>')
    part = drawing(parts, _anchor(frame))
    rel(parts, part, "chart", "../charts/chart1.xml")


X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"


def sparklines(parts: Parts) -> None:
    child(parts, S1, "extLst", (
        f'<extLst><ext uri="{{05C60535-1F16-4fd2-B633-F4F36F0B64E0}}" xmlns:x14="{X14}"><x14:sparklineGroups '
        f'xmlns:xm="{XM}"><x14:sparklineGroup displayEmptyCellsAs="gap"><x14:colorSeries rgb="FF376092"/>'
        "<x14:sparklines><x14:sparkline><xm:f>'01'!E17:H17</xm:f><xm:sqref>K17</xm:sqref></x14:sparkline>"
        "</x14:sparklines></x14:sparklineGroup></x14:sparklineGroups></ext></extLst>"))


def databars(parts: Parts) -> None:
    gid = "{00000000-000E-0000-0000-000001000000}"
    child(parts, S1, "conditionalFormatting", (
        '<conditionalFormatting sqref="E17:H19"><cfRule type="dataBar" priority="1"><dataBar><cfvo type="min"/>'
        '<cfvo type="max"/><color rgb="FF638EC6"/></dataBar><extLst><ext uri="{B025F937-C7B1-47D3-B67F-A62EFF666E3E}" '
        f'xmlns:x14="{X14}"><x14:id>{gid}</x14:id></ext></extLst></cfRule></conditionalFormatting>'))
    child(parts, S1, "extLst", (
        f'<extLst><ext uri="{{78C0D931-6437-407d-A8EE-F0AAD7539E65}}" xmlns:x14="{X14}"><x14:conditionalFormattings>'
        f'<x14:conditionalFormatting xmlns:xm="{XM}"><x14:cfRule type="dataBar" id="{gid}"><x14:dataBar minLength="0" '
        'maxLength="100" gradient="0" border="1"><x14:cfvo type="autoMin"/><x14:cfvo type="autoMax"/>'
        '<x14:borderColor rgb="FF638EC6"/></x14:dataBar></x14:cfRule><xm:sqref>E17:H19</xm:sqref>'
        "</x14:conditionalFormatting></x14:conditionalFormattings></ext></extLst>"))


def _notes(parts: Parts, sheet: str, cells: dict[str, bool], author: str = "職員") -> None:
    n = sheet.rsplit("sheet", 1)[1].split(".")[0]
    cpart, vpart = f"xl/comments{n}.xml", f"xl/drawings/vmlDrawing{n}.vml"
    comments = "".join(f'<comment ref="{a}" authorId="0"><text><r><rPr><b/><sz val="12"/><color rgb="FFFF0000"/>'
                       f'<rFont val="MS Gothic"/></rPr><t>職員のメモ {a}</t></r></text></comment>' for a in cells)
    _set(parts, cpart, f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><comments xmlns="{NS}"><authors>'
         f"<author>{author}</author></authors><commentList>{comments}</commentList></comments>")
    shapes = ""
    for i, (a, shown) in enumerate(cells.items()):
        col = ord(a[0]) - 65
        row = int(a[1:]) - 1
        vis = "visible" if shown else "hidden"
        shapes += (f'<v:shape id="_x0000_s{1025 + i}" type="#_x0000_t202" style="position:absolute;margin-left:100pt;'
                   f'margin-top:10pt;width:300pt;height:120pt;z-index:{i + 1};visibility:{vis}" fillcolor="#ccffcc" '
                   'o:insetmode="auto"><v:fill color2="#ccffcc"/><v:textbox/><x:ClientData ObjectType="Note">'
                   f"<x:Anchor>{col + 1}, 10, {row}, 5, {col + 6}, 10, {row + 8}, 5</x:Anchor>"
                   f"{'<x:Visible/>' if shown else ''}<x:Row>{row}</x:Row><x:Column>{col}</x:Column></x:ClientData></v:shape>")
    _set(parts, vpart, '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
         'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/>'
         '</o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
         f'<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>{shapes}</xml>')
    content_type(parts, cpart, "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml")
    content_type(parts, None, "application/vnd.openxmlformats-officedocument.vmlDrawing", ext="vml")
    rel(parts, sheet, "comments", f"../comments{n}.xml")
    rid = rel(parts, sheet, "vmlDrawing", f"../drawings/vmlDrawing{n}.vml")
    child(parts, sheet, "legacyDrawing", f'<legacyDrawing r:id="{rid}"/>')


def notes(parts: Parts) -> None:
    _notes(parts, S1, {"C5": True, "E15": False})


def threaded_comments(parts: Parts) -> None:
    _notes(parts, S1, {"C6": False}, author="tc={A1B2C3D4-0000-0000-0000-000000000001}")
    tc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ThreadedComments '
          'xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"><threadedComment ref="C6" '
          'dT="2021-05-01T09:00:00.00" personId="{11111111-2222-3333-4444-555555555555}" '
          'id="{A1B2C3D4-0000-0000-0000-000000000001}"><text>この目的で良いか確認</text></threadedComment></ThreadedComments>')
    persons = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><personList '
               'xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"><person displayName="企画政策課" '
               'id="{11111111-2222-3333-4444-555555555555}" userId="kikaku" providerId="None"/></personList>')
    _set(parts, "xl/threadedComments/threadedComment1.xml", tc)
    _set(parts, "xl/persons/person.xml", persons)
    content_type(parts, "xl/threadedComments/threadedComment1.xml", "application/vnd.ms-excel.threadedcomments+xml")
    content_type(parts, "xl/persons/person.xml", "application/vnd.ms-excel.person+xml")
    rel(parts, S1, "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment",
        "../threadedComments/threadedComment1.xml")
    rel(parts, "xl/workbook.xml", "http://schemas.microsoft.com/office/2017/10/relationships/person", "persons/person.xml")


def rich_text(parts: Parts) -> None:
    xml = _t(parts, "xl/sharedStrings.xml")
    old = '<si><t xml:space="preserve">【小千谷市総合戦略】進行管理シート</t></si>'
    new = ('<si><r><rPr><b/><color rgb="FFFF0000"/><sz val="14"/><rFont val="MS Gothic"/></rPr><t>【小千谷市総合戦略】</t></r>'
           '<r><rPr><sz val="11"/><rFont val="MS Gothic"/></rPr><t>進行管理シート</t></r></si>')
    assert old in xml
    _set(parts, "xl/sharedStrings.xml", xml.replace(old, new, 1))


def furigana(parts: Parts) -> None:
    xml = _t(parts, "xl/sharedStrings.xml")
    old = '<si><t xml:space="preserve">戦略ページ</t></si>'
    new = ('<si><t>戦略ページ</t><rPh sb="0" eb="2"><t>センリャク</t></rPh>'
           '<phoneticPr fontId="1" type="Hiragana"/></si>')
    assert old in xml
    _set(parts, "xl/sharedStrings.xml", xml.replace(old, new, 1))
    child(parts, S1, "phoneticPr", '<phoneticPr fontId="1" type="Hiragana"/>')


def vba(parts: Parts) -> None:
    _set(parts, "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"dummy vba project")
    content_type(parts, None, "application/vnd.ms-office.vbaProject", ext="bin")
    xml = _t(parts, "[Content_Types].xml").replace(
        "spreadsheetml.sheet.main+xml", "PLACEHOLDER").replace(
        "application/vnd.openxmlformats-officedocument.PLACEHOLDER", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    _set(parts, "[Content_Types].xml", xml)
    rel(parts, "xl/workbook.xml", "http://schemas.microsoft.com/office/2006/relationships/vbaProject", "vbaProject.bin")


def printer_settings(parts: Parts) -> None:
    _set(parts, "xl/printerSettings/printerSettings1.bin", b"DEVMODE" + bytes(200))
    content_type(parts, None, "application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings", ext="bin")
    rid = rel(parts, S1, "printerSettings", "../printerSettings/printerSettings1.bin")
    xml = _t(parts, S1)
    _set(parts, S1, re.sub(r"(<pageSetup\b[^>]*?)/>", rf'\1 r:id="{rid}"/>', xml, count=1))


def _cell(parts: Parts, sheet: str, row: int, cell: str) -> None:
    """Append a `<c>` (column past J) at the end of an existing row."""
    xml = _t(parts, sheet)
    m = re.search(rf'<row r="{row}"[^>]*>.*?(</row>)', xml, re.S)
    _set(parts, sheet, xml[: m.start(1)] + cell + xml[m.start(1):])


def formulas(parts: Parts) -> None:
    _cell(parts, S1, 17, '<c r="L17"><f>SUM(D17:H17)</f><v>1234</v></c>')
    _cell(parts, S1, 18, '<c r="L18" t="str"><f>IF(E18&gt;0,"済","未")</f><v>済</v></c>')
    _cell(parts, S2, 2, "<c r=\"L2\"><f>'01'!E17*2</f><v>42</v></c>")


def named_styles(parts: Parts) -> None:
    xml = _t(parts, "xl/styles.xml")
    m = re.search(r'<cellStyleXfs count="(\d+)">', xml)
    n = int(m.group(1))
    xml = xml.replace(m.group(0), f'<cellStyleXfs count="{n + 1}">', 1)
    xml = xml.replace("</cellStyleXfs>", '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>', 1)
    m = re.search(r'<cellStyles count="(\d+)">', xml)
    xml = xml.replace(m.group(0), f'<cellStyles count="{int(m.group(1)) + 1}">', 1)
    xml = xml.replace("</cellStyles>", f'<cellStyle name="市の見出し" xfId="{n}"/></cellStyles>', 1)
    m = re.search(r'<cellXfs count="(\d+)">', xml)
    k = int(m.group(1))
    xml = xml.replace(m.group(0), f'<cellXfs count="{k + 1}">', 1)
    xml = xml.replace("</cellXfs>", f'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="{n}"/></cellXfs>', 1)
    _set(parts, "xl/styles.xml", xml)
    _cell(parts, S1, 2, f'<c r="L2" s="{k}" t="inlineStr"><is><t>見出し</t></is></c>')


def validation(parts: Parts) -> None:
    child(parts, S1, "dataValidations", (
        '<dataValidations count="1"><dataValidation type="whole" operator="greaterThanOrEqual" allowBlank="1" '
        'showErrorMessage="1" errorTitle="入力エラー" error="0以上の整数" sqref="E17:I19"><formula1>0</formula1>'
        "</dataValidation></dataValidations>"))


def conditional(parts: Parts) -> None:
    child(parts, S1, "conditionalFormatting", (
        '<conditionalFormatting sqref="E17:H19"><cfRule type="colorScale" priority="1"><colorScale><cfvo type="min"/>'
        '<cfvo type="max"/><color rgb="FFF8696B"/><color rgb="FF63BE7B"/></colorScale></cfRule></conditionalFormatting>'))


def _workbook_child(parts: Parts, tag: str) -> None:
    xml = _t(parts, "xl/workbook.xml")
    if "<definedNames>" in xml:
        xml = xml.replace("</definedNames>", tag + "</definedNames>")
    else:
        xml = xml.replace("</sheets>", f"</sheets><definedNames>{tag}</definedNames>")
    _set(parts, "xl/workbook.xml", xml)


def defined_names(parts: Parts) -> None:
    _workbook_child(parts, "<definedName name=\"目標値_01\">'01'!$I$17:$I$19</definedName>")


def print_area(parts: Parts) -> None:
    _workbook_child(parts, "<definedName name=\"_xlnm.Print_Area\" localSheetId=\"0\">'01'!$A$1:$J$22</definedName>"
                    "<definedName name=\"_xlnm.Print_Titles\" localSheetId=\"0\">'01'!$1:$2</definedName>")


def hidden_sheet(parts: Parts) -> None:
    xml = _t(parts, "xl/workbook.xml")
    _set(parts, "xl/workbook.xml", xml.replace('name="33" sheetId="33" state="visible"', 'name="33" sheetId="33" state="hidden"'))


def outline(parts: Parts) -> None:
    xml = _t(parts, S1)
    for r in (5, 6, 7, 8):
        xml = re.sub(rf'(<row r="{r}"[^>]*?)outlineLevel="0"', r'\1outlineLevel="1"', xml, count=1)
    _set(parts, S1, xml.replace('outlineLevelRow="0"', 'outlineLevelRow="1"'))


def header_footer(parts: Parts) -> None:
    xml = _t(parts, S1)
    _set(parts, S1, xml.replace("<oddHeader></oddHeader><oddFooter></oddFooter>",
                                "<oddHeader>&amp;L&amp;\"MS Gothic\"小千谷市&amp;R&amp;D</oddHeader>"
                                "<oddFooter>&amp;C&amp;P / &amp;N</oddFooter>"))


def hyperlinks(parts: Parts) -> None:
    rid = rel(parts, S1, "hyperlink", "https://www.city.ojiya.niigata.jp/", "External")
    child(parts, S1, "hyperlinks", f"<hyperlinks><hyperlink ref=\"I1\" location=\"'02'!A1\" display=\"次へ\"/>"
          f'<hyperlink ref="J1" r:id="{rid}"/></hyperlinks>')


def custom_properties(parts: Parts) -> None:
    xml = _t(parts, "docProps/custom.xml")
    _set(parts, "docProps/custom.xml", xml.replace("></Properties>", (
        '><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="担当課"><vt:lpwstr>企画政策課</vt:lpwstr>'
        "</property></Properties>")))


def protection(parts: Parts) -> None:
    child(parts, S1, "sheetProtection", '<sheetProtection sheet="1" objects="1" scenarios="1" formatCells="0"/>')


def tab_colour(parts: Parts) -> None:
    xml = _t(parts, S1)
    _set(parts, S1, xml.replace('<sheetPr filterMode="false">', '<sheetPr filterMode="false"><tabColor rgb="FFFF0000"/>', 1))


def frozen(parts: Parts) -> None:
    xml = _t(parts, S1)
    _set(parts, S1, re.sub(r'<selection pane="topLeft"[^>]*/>',
                           '<pane xSplit="3" ySplit="15" topLeftCell="D16" activePane="bottomRight" state="frozen"/>'
                           '<selection pane="topRight"/><selection pane="bottomLeft"/>'
                           '<selection pane="bottomRight" activeCell="E17" sqref="E17"/>', xml, count=1))


def autofilter(parts: Parts) -> None:
    child(parts, S1, "autoFilter", '<autoFilter ref="A15:J19"/>')
    _workbook_child(parts, "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"0\" hidden=\"1\">'01'!$A$15:$J$19</definedName>")


def table(parts: Parts) -> None:
    _cell(parts, S2, 2, '<c r="L2" t="inlineStr"><is><t>項目</t></is></c><c r="M2" t="inlineStr"><is><t>値</t></is></c>')
    _cell(parts, S2, 3, '<c r="L3" t="inlineStr"><is><t>A</t></is></c><c r="M3"><v>1</v></c>')
    _cell(parts, S2, 4, '<c r="L4" t="inlineStr"><is><t>B</t></is></c><c r="M4"><v>2</v></c>')
    _set(parts, "xl/tables/table1.xml", (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><table xmlns="{NS}" id="1" name="表1" '
        'displayName="表1" ref="L2:M4" totalsRowShown="0"><autoFilter ref="L2:M4"/><tableColumns count="2">'
        '<tableColumn id="1" name="項目"/><tableColumn id="2" name="値"/></tableColumns>'
        '<tableStyleInfo name="TableStyleMedium2" showFirstColumn="0" showLastColumn="0" showRowStripes="1" '
        'showColumnStripes="0"/></table>'))
    content_type(parts, "xl/tables/table1.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml")
    rid = rel(parts, S2, "table", "../tables/table1.xml")
    child(parts, S2, "tableParts", f'<tableParts count="1"><tablePart r:id="{rid}"/></tableParts>')


def theme(parts: Parts) -> None:
    from openpyxl.writer.theme import (
        theme_xml,  # a theme part's text only; nothing is loaded or saved
    )
    _set(parts, "xl/theme/theme1.xml", theme_xml)
    content_type(parts, "xl/theme/theme1.xml", "application/vnd.openxmlformats-officedocument.theme+xml")
    rel(parts, "xl/workbook.xml", "theme", "theme/theme1.xml")


def widths_heights(parts: Parts) -> None:
    xml = _t(parts, S1)
    xml = xml.replace('max="3" min="3" style="0" width="30"', 'max="3" min="3" style="0" width="33.5"', 1)
    _set(parts, S1, re.sub(r'(<row r="10"[^>]*?)ht="15"', r'\1ht="27.75"', xml, count=1))


def merges(parts: Parts) -> None:
    xml = _t(parts, S1)
    _set(parts, S1, xml.replace('<mergeCells count="17">', '<mergeCells count="18"><mergeCell ref="I3:J4"/>', 1))


def page_breaks(parts: Parts) -> None:
    child(parts, S1, "rowBreaks", '<rowBreaks count="1" manualBreakCount="1"><brk id="13" max="16383" man="1"/></rowBreaks>')


def sheet_view(parts: Parts) -> None:
    xml = _t(parts, S1)
    _set(parts, S1, xml.replace('showGridLines="true"', 'showGridLines="false"', 1).replace(
        'zoomScale="100" zoomScaleNormal="100"', 'zoomScale="85" zoomScaleNormal="85"', 1))


def page_setup(parts: Parts) -> None:
    xml = _t(parts, S1)
    _set(parts, S1, xml.replace('orientation="landscape"', 'orientation="portrait"', 1).replace(
        '<pageMargins left="0.75"', '<pageMargins left="0.5"', 1))


FEATURES: dict[str, Callable[[Parts], None]] = {
    "textbox": textbox, "picture": picture, "sparklines": sparklines, "threaded_comments": threaded_comments,
    "rich_text": rich_text, "furigana": furigana, "vba": vba, "printer_settings": printer_settings,
    "formulas": formulas, "chart": chart, "databars": databars, "notes": notes, "named_styles": named_styles,
    "validation": validation, "conditional": conditional, "defined_names": defined_names,
    "hidden_sheet": hidden_sheet, "outline": outline, "print_area": print_area, "header_footer": header_footer,
    "hyperlinks": hyperlinks, "custom_properties": custom_properties, "protection": protection,
    "tab_colour": tab_colour, "frozen": frozen, "autofilter": autofilter, "table": table, "theme": theme,
    "widths_heights": widths_heights, "merges": merges, "page_breaks": page_breaks, "sheet_view": sheet_view,
    "page_setup": page_setup,
}


def build(feature: str, out_dir: Path, src: Path = SRC, extra: tuple[str, ...] = ()) -> Path:
    """The variant of `src` with one feature (and any `extra` ones) added, as a new package."""
    with zipfile.ZipFile(src) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i.filename) for i in infos}
    for f in (feature, *extra):
        FEATURES[f](parts)
    out = out_dir / f"ojiya_{'+'.join((feature, *extra))}.{'xlsm' if 'vba' in (feature, *extra) else 'xlsx'}"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in [i.filename for i in infos] + [p for p in parts if p not in {i.filename for i in infos}]:
            z.writestr(name, parts[name])
    return out


# --- the checker ----------------------------------------------------------------------


def _strip_cells(xml: str, cells: set[str]) -> str:
    """A sheet part's text without the given `<c>` elements, empty rows, the dimension and
    a legacyDrawing (what a roll may change in a sheet it edits)."""
    xml = re.sub(r'<(?:\w+:)?c\b[^>]*?\sr="([A-Z]+[0-9]+)"[^>]*?(?:/>|>.*?</(?:\w+:)?c>)',
                 lambda m: "" if m.group(1) in cells else m.group(0), xml, flags=re.S)
    xml = re.sub(r"<row\b[^>]*?>\s*</row>", "", xml)
    xml = re.sub(r'\sspans="[^"]*"', "", xml)
    return re.sub(r'<dimension ref="[^"]*"/>', "", xml)


OWN_SHEETS = XLSGEN_SHEETS  # xlsgen's list sheets, rewritten each roll or collection


def compare(src: Path, out: Path, changed_cells: dict[str, set[str]], sheet_parts: dict[str, str]) -> list[str]:
    """Differences a roll must not make; empty when the output is faithful.

    `changed_cells`: sheet → cells the roll logged; `sheet_parts`: sheet → part name.
    xlsgen's own list sheets (from an earlier roll) may be rewritten."""
    with zipfile.ZipFile(src) as z:
        a = {i.filename: z.read(i.filename) for i in z.infolist()}
        order_a = [i.filename for i in z.infolist()]
    with zipfile.ZipFile(out) as z:
        b = {i.filename: z.read(i.filename) for i in z.infolist()}
        order_b = [i.filename for i in z.infolist()]
    problems = []
    if order_b[: len(order_a)] != order_a:
        problems.append("zip entry order changed")
    edited = {sheet_parts[s]: cells for s, cells in changed_cells.items() if s in sheet_parts}
    own = {sheet_parts[s] for s in OWN_SHEETS if s in sheet_parts}
    for name, data in a.items():
        if name in own:
            continue
        if name not in b:
            problems.append(f"{name}: missing")
        elif name in edited:
            if _strip_cells(a[name].decode(), edited[name]) != re.sub(
                    r"<legacyDrawing [^>]*/>", "", _strip_cells(b[name].decode(), edited[name])) and \
                    _strip_cells(a[name].decode(), edited[name]) != _strip_cells(b[name].decode(), edited[name]):
                problems.append(f"{name}: changed outside the edited cells")
        elif name == "xl/styles.xml":
            problems += _styles_kept(data.decode(), b[name].decode())
        elif name.endswith(".vml") or re.match(r"xl/comments\d*\.xml$", name):
            old_items = re.findall(r"<v:shape\b.*?</v:shape>|<comment\b.*?</comment>", data.decode(), re.S)
            new = b[name].decode()
            problems += [f"{name}: an existing note changed" for x in old_items if x not in new]
        elif name in ("[Content_Types].xml", "xl/workbook.xml") or name.endswith(".rels"):
            old_items = re.findall(r"<(?:Override|Default|Relationship|sheet|definedName)\b[^>]*/?>", data.decode())
            problems += [f"{name}: lost {x}" for x in old_items if x not in b[name].decode()]
        elif data != b[name]:
            problems.append(f"{name}: bytes changed")
    return problems


def _styles_kept(a: str, b: str) -> list[str]:
    out = []
    for sec in ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs"):
        ma = re.search(rf"<{sec}\b[^>]*>(.*?)</{sec}>", a, re.S)
        mb = re.search(rf"<{sec}\b[^>]*>(.*?)</{sec}>", b, re.S)
        if ma and (mb is None or not mb.group(1).startswith(ma.group(1))):
            out.append(f"xl/styles.xml: {sec} entries renumbered or changed")
    return out


if __name__ == "__main__":
    d = Path(sys.argv[1])
    d.mkdir(parents=True, exist_ok=True)
    for f in FEATURES:
        print(build(f, d))

"""Text written into a package: XML-legal (control characters as _xHHHH_), never a formula;
xlsgen's list sheets print on A4 without overprinted or cut text."""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests import printcheck
from tests.conftest import JOSO, OJIYA
from xlsgen import libreoffice
from xlsgen.model import CHANGE_LOG_SHEET, CHECK_HISTORY_SHEET, FORMULA_MAP_SHEET, PAST_YEARS_SHEET
from xlsgen.package.listsheet import row_height, text_width
from xlsgen.package.ooxml import escape_text, parse
from xlsgen.package.sheet import cell_xml, read_cells
from xlsgen.rollforward import rollforward_file


@pytest.mark.parametrize("text", ["=SUM(A1:A3)", "a\x01b\x1fc", "_x0041_ stays literal", "改行\nあり & <tag>",
                                  "+1", "@cmd", "\ttab"])
def test_text_is_written_as_legal_text(text):
    xml = f'<worksheet xmlns="x"><sheetData><row r="1">{cell_xml("", "A1", text, 0)}</row></sheetData></worksheet>'
    parse(xml.encode())  # well-formed XML
    assert "<f>" not in xml and 't="inlineStr"' in xml
    assert read_cells(xml, [], lambda s: "General")["A1"][0] == text


def test_escape_rules():
    assert escape_text("a\x01") == "a_x0001_"
    assert escape_text("_x0041_") == "_x005F_x0041_"
    assert escape_text("<&>") == "&lt;&amp;&gt;"


def test_row_height_counts_full_width_double_and_wraps():
    assert text_width("abc") == 3 and text_width("あいう") == 6
    one = row_height(["短い"], [40])
    assert row_height(["あ" * 40], [40]) > one  # 80 half-widths wrap in a 40-wide column
    assert row_height(["a" * 30], [40]) == one
    assert row_height(["一\n二\n三"], [40]) == pytest.approx(3 * (one - 4) + 4)


def _only_list_sheets(src: Path, dst: Path, names: set[str]) -> None:
    """A copy where every sheet but xlsgen's list sheets is hidden (so only they print)."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w") as w:
        for i in z.infolist():
            data = z.read(i.filename)
            if i.filename == "xl/workbook.xml":
                text = data.decode()
                text = re.sub(r'<sheet name="([^"]*)"([^>]*?)/>',
                              lambda m: m.group(0) if m.group(1) in names else
                              f'<sheet name="{m.group(1)}" state="hidden"{re.sub(r" state=.[a-z]*.", "", m.group(2))}/>',
                              text)
                text = re.sub(r'activeTab="\d+"', f'activeTab="{len(re.findall("<sheet ", text)) - 1}"', text)
                data = text.encode()
            w.writestr(i, data)


@pytest.mark.parametrize("book", [JOSO, OJIYA], ids=["joso", "ojiya"])
def test_list_sheets_print_without_overprint_or_cut_text(tmp_path, book):
    if libreoffice.soffice() is None or shutil.which("pdftotext") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice and pdftotext are required under CI=true")
        pytest.skip("LibreOffice / pdftotext not available")
    out = tmp_path / "R4.xlsx"
    rollforward_file(book, "R4", out)
    names = {CHECK_HISTORY_SHEET, PAST_YEARS_SHEET, CHANGE_LOG_SHEET, FORMULA_MAP_SHEET}
    lists = tmp_path / "lists.xlsx"
    _only_list_sheets(out, lists, names)
    wb = openpyxl.load_workbook(lists)
    assert [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"] == [
        n for n in wb.sheetnames if n in names]
    ws = wb[CHECK_HISTORY_SHEET]
    assert ws.print_title_rows == "$1:$1" and ws.page_setup.paperSize == 9
    if book == JOSO:
        assert ws.column_dimensions["E"].width < 15 < ws.column_dimensions["F"].width  # 評価の年度 narrow, 本文 wide
    pdf = libreoffice.convert(lists, tmp_path / "pdf", "pdf")
    assert printcheck.overprints(str(pdf)) == []
    missing, total = printcheck.clipped(str(lists), str(pdf))
    assert total > 50 and missing == []

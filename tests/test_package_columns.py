"""--extend-to on the package: references at or past the inserted columns move with them
(formulas on every sheet, names, print areas, merges, conditional formats, validations,
links); what cannot be moved safely is refused by name."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import OJIYA
from tests.fidelity_corpus import S1, S2, _cell, _t, chart, child, conditional, print_area, textbox
from xlsgen.errors import XlsgenError
from xlsgen.formulas.shift import shift_formula, shift_sqref
from xlsgen.model import CHANGE_LOG_SHEET
from xlsgen.rollforward import rollforward_file


@pytest.fixture(scope="module")
def r6(tmp_path_factory) -> Path:
    """The R6 edition: its target year (R6, column I of every sheet) is reached next roll."""
    d = tmp_path_factory.mktemp("r6")
    path = OJIYA
    for to in ("R4", "R5", "R6"):
        nxt = d / f"o_{to}.xlsx"
        rollforward_file(path, to, nxt)
        path = nxt
    return path


def _variant(src: Path, out: Path, *edits) -> Path:
    with zipfile.ZipFile(src) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i.filename) for i in infos}
    for edit in edits:
        edit(parts)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in [i.filename for i in infos] + [p for p in parts if p not in {i.filename for i in infos}]:
            z.writestr(name, parts[name])
    return out


def references(parts) -> None:
    _cell(parts, S1, 17, '<c r="L17"><f>I17*2</f><v>100</v></c>')
    _cell(parts, S2, 2, "<c r=\"L2\"><f>'01'!I17+'01'!E17</f><v>67</v></c>")
    child(parts, S1, "dataValidations", (
        '<dataValidations count="1"><dataValidation type="whole" operator="lessThanOrEqual" allowBlank="1" '
        'sqref="I17:I19"><formula1>$I$17*10</formula1></dataValidation></dataValidations>'))
    child(parts, S1, "conditionalFormatting", (
        '<conditionalFormatting sqref="H16:I19"><cfRule type="colorScale" priority="2"><colorScale><cfvo type="min"/>'
        '<cfvo type="max"/><color rgb="FFF8696B"/><color rgb="FF63BE7B"/></colorScale></cfRule></conditionalFormatting>'))
    child(parts, S2, "hyperlinks", "<hyperlinks><hyperlink ref=\"A1\" location=\"'01'!I17\"/></hyperlinks>")
    wb = _t(parts, "xl/workbook.xml")
    parts["xl/workbook.xml"] = wb.replace(
        "</definedNames>", "<definedName name=\"目標値_01\">'01'!$I$17:$I$19</definedName></definedNames>").encode()


def test_shift_rules():
    assert shift_formula("I17*2+SUM(A1:J3)+'01'!K5+Other!K5+\"I17\"", "01", "01", 9, 2) == \
        "K17*2+SUM(A1:L3)+'01'!M5+Other!K5+\"I17\""
    assert shift_formula("SUM($H$1:$H$9)+LOG10(I2)", "01", "01", 9, 2) == "SUM($H$1:$H$9)+LOG10(K2)"
    assert shift_formula("'01'!I:I", "x", "01", 9, 2) == "'01'!K:K"
    assert shift_sqref("E17:I19 A1 H2", 9, 2) == "E17:K19 A1 H2"


def test_extend_to_moves_every_reference(r6, tmp_path, recalc):
    src = _variant(r6, tmp_path / "refs_R6.xlsx", references, conditional, print_area)
    out = tmp_path / "refs_R7.xlsx"
    result = rollforward_file(src, "R7", out, extend_to="R8")
    with zipfile.ZipFile(out) as z:
        s1, s2 = z.read(S1).decode(), z.read(S2).decode()
        wbx = z.read("xl/workbook.xml").decode()
    assert '<c r="N17"><f>K17*2</f><v>100</v></c>' in s1
    assert "<c r=\"N2\"><f>'01'!K17+'01'!E17</f><v>67</v></c>" in s2  # 「02」 was extended too and "location=\"'01'!K17\"" in s2
    assert 'sqref="K17:K19"><formula1>$K$17*10</formula1>' in s1
    assert '<conditionalFormatting sqref="H16:K19">' in s1  # straddles: grows
    assert '<conditionalFormatting sqref="E17:H19">' in s1  # left of the columns: stays
    assert '<mergeCell ref="F21:L21"/>' in s1 and '<mergeCell ref="C5:L5"/>' in s1
    assert "'01'!$K$17:$K$19</definedName>" in wbx and "'01'!$A$1:$L$22</definedName>" in wbx
    log = [r for r in openpyxl.load_workbook(out)[CHANGE_LOG_SHEET].iter_rows(values_only=True)]
    assert any(r[0] == "01" and r[1] == "I:J" and "2列を挿入" in str(r[3]) for r in log)
    assert any(c.cell == "K15" for c in result.changes)  # the target year header moved on
    back = openpyxl.load_workbook(recalc(out), data_only=True)
    assert back["01"]["K17"].value == 50 and back["01"]["N17"].value == 100
    assert back["02"]["N2"].value == 50 + back["01"]["E17"].value


@pytest.mark.parametrize("feature, word", [(chart, "グラフ"), (textbox, "図形")])
def test_extend_to_refuses_what_it_cannot_move(r6, tmp_path, feature, word):
    src = _variant(r6, tmp_path / "v_R6.xlsx", feature)
    out = tmp_path / "v_R7.xlsx"
    with pytest.raises(XlsgenError, match=word) as e:
        rollforward_file(src, "R7", out, extend_to="R8")
    assert "シート「01」" in str(e.value) and "Excel で" in str(e.value)
    assert not out.exists()

"""Lossless roll-forward: every variant of the fidelity corpus (one Excel feature each) rolls
with every part it does not mean to change byte-identical; .xlsm stays a macro workbook;
LibreOffice opens every output."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import JOSO, need_libreoffice
from tests.fidelity_corpus import FEATURES, build, compare
from xlsgen import libreoffice
from xlsgen.cli import cli
from xlsgen.errors import XlsgenError
from xlsgen.model import CHANGE_LOG_SHEET, CHECK_HISTORY_SHEET
from xlsgen.package import Package
from xlsgen.rollforward import rollforward_file


def _ext(feature: str) -> str:
    return "xlsm" if feature == "vba" else "xlsx"


@pytest.fixture(scope="module")
def rolled(tmp_path_factory):
    """feature → (variant, R4 output, result)."""
    d = tmp_path_factory.mktemp("corpus")
    out = {}
    for f in FEATURES:
        src = build(f, d)
        dst = d / f"{f}_R4.{_ext(f)}"
        out[f] = (src, dst, rollforward_file(src, "R4", dst))
    return out


def _changed(result) -> dict[str, set[str]]:
    cells: dict[str, set[str]] = {}
    for c in result.changes:
        cells.setdefault(c.sheet, set()).add(c.cell)
    return cells


def _part(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(name)


@pytest.mark.parametrize("feature", list(FEATURES))
def test_every_feature_is_kept(rolled, feature):
    src, out, result = rolled[feature]
    assert result.changes, "the roll must change the planned cells"
    assert compare(src, out, _changed(result), Package(src).sheets) == []


def test_checker_sees_a_lost_feature(rolled, tmp_path):
    src, out, result = rolled["chart"]
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(out) as z, zipfile.ZipFile(broken, "w") as w:
        for i in z.infolist():
            data = z.read(i.filename)
            if i.filename == "xl/charts/chart1.xml":
                data = data.replace(b"barChart", b"lineChart")
            if i.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<mergeCell ref="A1:H1"/>', b"")
            w.writestr(i, data)
    problems = compare(src, broken, _changed(result), Package(src).sheets)
    assert any("chart1" in p for p in problems) and any("sheet1" in p for p in problems)


def test_xlsm_stays_a_macro_workbook(rolled, tmp_path):
    src, out, _ = rolled["vba"]
    ct = _part(out, "[Content_Types].xml").decode()
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in ct
    assert _part(out, "xl/vbaProject.bin") == _part(src, "xl/vbaProject.bin")
    res = CliRunner().invoke(cli, ["rollforward", str(src), "--to", "R4", "-o", str(tmp_path / "x.xlsx")])
    assert res.exit_code != 0 and ".xlsm" in res.output and "拡張子" in res.output
    assert not (tmp_path / "x.xlsx").exists()
    with pytest.raises(XlsgenError, match=r"\.xlsx"):
        rollforward_file(rolled["notes"][0], "R4", tmp_path / "y.xlsm")


def test_formula_cells_keep_cached_values_and_recalc_is_flagged(rolled):
    _, out, result = rolled["formulas"]
    sheet = _part(out, "xl/worksheets/sheet1.xml").decode()
    assert '<c r="L17"><f>SUM(D17:H17)</f><v>1234</v></c>' in sheet
    assert 'fullCalcOnLoad="1"' in _part(out, "xl/workbook.xml").decode()
    log = openpyxl.load_workbook(out)[CHANGE_LOG_SHEET]
    assert any("fullCalcOnLoad" in str(r[3]) for r in log.iter_rows(values_only=True))
    # no formulas, no recalculation flag
    assert "fullCalcOnLoad" not in _part(rolled["notes"][1], "xl/workbook.xml").decode()


def test_notes_added_beside_existing_ones(rolled):
    src, out, _ = rolled["notes"]
    old, new = _part(src, "xl/comments1.xml").decode(), _part(out, "xl/comments1.xml").decode()
    assert all(c in new for c in re.findall(r"<comment\b.*?</comment>", old, re.S))
    assert 'ref="A22"' in new and "今後の取組" in new
    vml = _part(out, "xl/drawings/vmlDrawing1.vml").decode()
    assert vml.count("<x:Visible/>") == 1 and vml.count('ObjectType="Note"') == 3
    # a sheet with no notes gets a new comments part, rels and legacyDrawing
    sheet2 = _part(out, "xl/worksheets/sheet2.xml").decode()
    assert "<legacyDrawing" in sheet2
    wb = openpyxl.load_workbook(out)
    assert "アンケートの結果を反映し" in wb["01"]["A22"].comment.text
    assert wb["01"]["C5"].comment.text == "職員のメモ C5"


def test_change_log_lists_real_changes_only(rolled):
    _, out, result = rolled["notes"]
    rows = list(openpyxl.load_workbook(out)[CHANGE_LOG_SHEET].iter_rows(min_row=2, values_only=True))
    assert rows and not [r for r in rows if r[2] == "（空欄）" and r[3] == "（空欄）"]
    fills = [r for r in rows if r[3] == "入力欄に設定"]
    assert fills and all(r[2] == "（空欄）" for r in fills)
    headers = {(r[0], r[1]): r for r in rows if "実績値の列" in r[4]}
    assert headers[("02", "F15")][2:4] == ("R3年度", "R3年度\n(実績値)")


def test_rerun_is_byte_identical(rolled, tmp_path):
    src, out, _ = rolled["threaded_comments"]
    again = tmp_path / "again.xlsx"
    rollforward_file(src, "R4", again)
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(out.read_bytes()).digest()


def test_joso_rolls_losslessly(tmp_path):
    out = tmp_path / "joso_R4.xlsx"
    result = rollforward_file(JOSO, "R4", out)
    assert compare(JOSO, out, _changed(result), Package(JOSO).sheets) == []
    assert CHECK_HISTORY_SHEET in openpyxl.load_workbook(out).sheetnames


def test_libreoffice_opens_every_output(rolled, tmp_path):
    """LibreOffice opens each edition and reads every sheet (each written out as CSV, one
    LibreOffice process for all editions)."""
    need_libreoffice()
    features = list(rolled)
    seen = libreoffice.sheet_names_many([rolled[f][1] for f in features], tmp_path / "csv")
    for f, sheets in zip(features, seen):
        expected = openpyxl.load_workbook(rolled[f][1], read_only=True)
        assert {"01", "33", CHECK_HISTORY_SHEET, CHANGE_LOG_SHEET} <= set(sheets), f
        assert sorted(sheets) == sorted(expected.sheetnames), f
        expected.close()


COMBINED = ("vba", "notes", "formulas", "chart", "rich_text", "furigana", "databars", "validation",
            "defined_names", "hyperlinks", "printer_settings", "theme", "protection", "frozen")


def test_round_trip_r3_r4_fill_r5_keeps_every_feature_and_fact(tmp_path):
    from tests.test_rollforward import kpi_facts
    from xlsgen.layout import read_book
    from xlsgen.model import Edit, Plan
    from xlsgen.package import apply_plan

    src = build(COMBINED[0], tmp_path, extra=COMBINED[1:])
    r4 = tmp_path / "r4.xlsm"
    first = rollforward_file(src, "R4", r4)
    assert compare(src, r4, _changed(first), Package(src).sheets) == []
    # the clerk fills the R3 actuals (written into the package like Excel would, no library save)
    book = read_book(r4)
    typed = {(s.sheet, k.actual(2021).cell): 10 + i + j
             for i, s in enumerate(book.measures) for j, k in enumerate(s.kpis)}
    pkg = Package(r4)
    apply_plan(pkg, Plan(edits=[Edit(sh, c, v, "入力") for (sh, c), v in typed.items()]))
    filled = tmp_path / "filled.xlsm"
    pkg.write(filled)
    r5 = tmp_path / "r5.xlsm"
    second = rollforward_file(filled, "R5", r5)
    assert compare(filled, r5, _changed(second), Package(filled).sheets) == []
    for name in ("xl/vbaProject.bin", "xl/charts/chart1.xml", "xl/sharedStrings.xml", "xl/theme/theme1.xml",
                 "xl/printerSettings/printerSettings1.bin"):
        assert _part(r5, name) == _part(src, name), name
    facts = kpi_facts(read_book(r5))
    assert kpi_facts(read_book(filled)) == facts
    assert sum((key[0], key[1]) in typed for key in facts) == len(typed) == 72  # every typed actual is read
    assert not [f for f in second.findings if f.code == "missing-actual"]


def test_new_legacy_drawing_goes_in_schema_order(rolled):
    """Never inside a data bar's extension list: after headerFooter, before the sheet's extLst."""
    sheet = _part(rolled["databars"][1], "xl/worksheets/sheet1.xml").decode()
    tags = re.findall(r"<(\w+)[ />]", sheet[sheet.index("</sheetData>"):])
    top = [t for t in tags if t in ("conditionalFormatting", "headerFooter", "legacyDrawing", "extLst")]
    assert top == ["conditionalFormatting", "extLst", "headerFooter", "legacyDrawing", "extLst"]
    assert sheet.index("<legacyDrawing") > sheet.index("</headerFooter>")

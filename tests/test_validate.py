"""xlsgen validate: rules, exit codes, and hard or hostile input files."""

import hashlib
import json
import shutil
import time
import zipfile

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner
from conftest import INPUTS, JOSO, NISHITOKYO, OJIYA
from workbooks import write_ojiya

from xlsgen.cli import cli
from xlsgen.layout import read_book


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def findings(path):
    result = run("validate", path, "--format", "json")
    data = json.loads(result.output)
    return result.exit_code, data["files"][0]


def test_shipped_workbooks_pass_with_warnings_only():
    result = run("validate", OJIYA, JOSO, NISHITOKYO, "--format", "json")
    assert result.exit_code == 0, result.output
    files = json.loads(result.output)["files"]
    assert [f["ok"] for f in files] == [True, True, True]
    ojiya = files[0]["findings"]
    assert all(f["severity"] == "warning" for f in ojiya)
    # the reconstructed workbook holds rows where an actual is far past its target
    assert {"sheet": "21", "cell": "E18"} in [{"sheet": f["sheet"], "cell": f["cell"]} for f in ojiya
                                              if f["code"] == "actual-far-past-target"]
    era = [f for f in files[2]["findings"] if f["code"] == "era-normalised"]
    assert era and era[0]["cell"].startswith("H") and "令和5年度" in era[0]["message"]


def test_text_output_names_cells():
    result = run("validate", INPUTS)
    assert result.exit_code == 0
    assert "21!E18 actual-far-past-target" in result.output


def test_usage_error_exits_2():
    assert run("validate").exit_code == 2
    assert run("validate", OJIYA, "--format", "xml").exit_code == 2


@pytest.fixture
def edited(tmp_path):
    """A copy of the 小千谷 workbook, edited with openpyxl by the test."""
    def make(edit):
        path = tmp_path / "edited.xlsx"
        shutil.copy(OJIYA, path)
        wb = openpyxl.load_workbook(path)
        edit(wb)
        wb.save(path)
        return path
    return make


def codes_at(file_report):
    return {(f["code"], f["sheet"], f["cell"]) for f in file_report["findings"]}


def test_rules_flag_planted_problems(edited):
    def edit(wb):
        wb["02"]["J1"] = "０１"  # duplicate シート№
        wb["02"]["E16"] = 150  # 累計 falls: 163 → 150
        wb["01"]["E17"] = "多数"  # a text among numbers
        wb["01"]["E19"].number_format = '#,##0"件"'  # unit disagrees with the row's %
        wb["16"]["I16"] = 0.1  # growth target below baseline 20%
        wb["01"]["B11"] = "=HYPERLINK(\"http://example\")"  # formula-like text
        wb["01"]["B11"].data_type = "s"
        wb["03"]["C8"] = "x" * 33000  # openpyxl cuts it at the cell limit
        wb["04"]["F15"] = "H45年度"  # impossible era
    code, report = findings(edited(edit))
    assert code == 1 and not report["ok"]
    got = codes_at(report)
    for expected in [("duplicate-sheet-no", "01", "J1"), ("duplicate-sheet-no", "02", "J1"),
                     ("cumulative-falls", "02", "E16"), ("not-a-number", "01", "E17"),
                     ("unit-mismatch", "01", "E19"), ("target-below-baseline", "16", "I16"),
                     ("formula-like-text", "01", "B11"), ("text-too-long", "03", "C8"),
                     ("impossible-era", "04", "F15")]:
        assert expected in got, expected
    messages = {f["code"]: f["message"] for f in report["findings"]}
    assert "シート№ 01" in messages["duplicate-sheet-no"]


@pytest.mark.parametrize("target, flagged", [(0.199, False), (0.2, False), (0.19, True)])
def test_a_target_about_the_baseline_is_one_to_maintain(edited, target, flagged):
    """Baseline 20 %: a target of 19.9 % (within 1 %) is a 維持 target, 19 % is flagged."""
    def edit(wb):
        wb["16"]["I16"] = target
    _, report = findings(edited(edit))
    assert (("target-below-baseline", "16", "I16") in codes_at(report)) is flagged


def test_missing_required_field_is_an_error(edited):
    def edit(wb):
        wb["05"]["A7"] = None  # the 基本方針 label is gone
    code, report = findings(edited(edit))
    assert code == 1
    assert ("missing-field", "05", None) in codes_at(report)


# --- bad and hostile input ------------------------------------------------------------


def _xlsx_with_part(path, name, data):
    shutil.copy(OJIYA, path)
    with zipfile.ZipFile(OJIYA) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, data if item.filename == name else src.read(item.filename))
        if name not in src.namelist():
            dst.writestr(name, data)
    return path


def make_truncated(p):
    p.write_bytes(OJIYA.read_bytes()[:5000])


def make_not_zip(p):
    p.write_bytes(b"PK\x03\x04 this is not really a zip file at all" * 10)


def make_csv(p):
    p.write_text("区分,指標,基準値\n商工,件数,48\n", encoding="utf-8")


def make_xls(p):
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "Workbook".encode("utf-16-le") * 4)


def make_encrypted(p):
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
                  + "EncryptionInfo".encode("utf-16-le") + "EncryptedPackage".encode("utf-16-le"))


def make_empty_workbook(p):
    wb = xlsxwriter.Workbook(str(p))
    wb.add_worksheet("Sheet1")
    wb.close()


def make_empty_file(p):
    p.write_bytes(b"")


def make_zip_bomb(p):
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(210):
                fh.write(chunk)


def make_entities(p):
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol2;</t></si></sst>')
    _xlsx_with_part(p, "xl/sharedStrings.xml", bomb.encode())


def make_sheet_without_kpis(p):
    book = read_book(OJIYA)
    book.measures = book.measures[:2]
    book.measures[1].kpis = []
    write_ojiya(book, p)
    wb = openpyxl.load_workbook(p)
    ws = wb["02"]
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and "重要業績評価指標" in c.value:
                c.value = None
    wb.save(p)


BAD = {
    "truncated.xlsx": (make_truncated, "壊れている"),
    "notzip.xlsx": (make_not_zip, "壊れている"),
    "renamed_csv.xlsx": (make_csv, "CSV"),
    "legacy.xls": (make_xls, ".xlsx"),
    "protected.xlsx": (make_encrypted, "パスワード"),
    "empty_book.xlsx": (make_empty_workbook, "様式を判定できません"),
    "zero.xlsx": (make_empty_file, "空です"),
    "bomb.xlsx": (make_zip_bomb, "zip 爆弾"),
    "entities.xlsx": (make_entities, "エンティティ"),
    "no_kpi_table.xlsx": (make_sheet_without_kpis, "指標（KPI）の表が見つかりません"),
}


@pytest.mark.parametrize("name", sorted(BAD))
@pytest.mark.parametrize("command", ["extract", "validate"])
def test_bad_input_one_clear_error(tmp_path, name, command):
    make, words = BAD[name]
    path = tmp_path / name
    make(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    start = time.monotonic()
    result = run(command, path)
    assert time.monotonic() - start < 10
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert words in result.output
    assert name in result.output
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_debug_shows_traceback_only_when_asked(tmp_path):
    path = tmp_path / "x.xlsx"
    make_not_zip(path)
    result = CliRunner().invoke(cli, ["--debug", "extract", str(path)])
    assert result.exit_code == 1


def test_validate_folder_reads_xlsm_and_upper_case_and_lists_what_it_skips(tmp_path):
    """A folder is taken as `xlsgen run` takes it: .xlsm and .XLSX are read, every other
    file is listed with its reason (text and JSON), never passed over without a word."""
    import json
    import shutil

    from click.testing import CliRunner

    from tests.conftest import OJIYA
    from xlsgen.cli import cli

    shutil.copy(OJIYA, tmp_path / "UPPER.XLSX")
    shutil.copy(OJIYA, tmp_path / "macro.xlsm")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "~$UPPER.XLSX").write_bytes(b"lock")
    (tmp_path / "memo.txt").write_text("x", encoding="utf-8")
    res = CliRunner().invoke(cli, ["validate", str(tmp_path)])
    assert res.exit_code == 0, res.output
    for name in ("UPPER.XLSX: OK", "macro.xlsm: OK", "old.xls: 対象外", "~$UPPER.XLSX: 対象外",
                 "memo.txt: 対象外"):
        assert name in res.output, name
    res = CliRunner().invoke(cli, ["validate", str(tmp_path), "--format", "json"])
    data = json.loads(res.output)
    assert sorted(f["path"].rsplit("/", 1)[1] for f in data["files"]) == ["UPPER.XLSX", "macro.xlsm"]
    assert sorted(s["path"].rsplit("/", 1)[1] for s in data["skipped"]) == ["memo.txt", "old.xls", "~$UPPER.XLSX"]
    assert all(s["reason"] for s in data["skipped"])


def test_output_onto_a_folder_is_refused_in_japanese(tmp_path):
    from click.testing import CliRunner

    from tests.conftest import OJIYA
    from xlsgen.cli import cli

    for args in (["build", str(OJIYA), "-o", str(tmp_path)], ["extract", str(OJIYA), "-o", str(tmp_path)],
                 ["audit", str(OJIYA), "-o", str(tmp_path)]):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 1, (args, res.output)
        assert "出力先はフォルダです" in res.output
    assert list(tmp_path.iterdir()) == []

"""xlsgen audit: one planted fault per finding kind, the CLI contract, hard input files,
the -o report, the 数式一覧 helpers and the shipped city workbooks."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner

from xlsgen.audit import audit_workbook
from xlsgen.audit.formula import parse_formula
from xlsgen.cli import cli
from xlsgen.render.formula_map import (
    FormulaNote,
    add_formula_map_openpyxl,
    notes_from_workbook,
    write_formula_map,
)

INPUTS = Path(__file__).resolve().parent.parent / "inputs"

# (sheet, cell, code) of every planted fault; nothing else may be reported.
PLANTED = {
    ("計算", "D4", "pattern-break"),
    ("計算", "B8", "pattern-break"),
    ("計算", "F2", "error-value"),
    ("計算", "F5", "error-value"),
    ("計算", "H2", "hardcoded-number"),
    ("計算", "H5", "empty-reference"),
    ("計算", "C6", "text-number"),
    ("計算", "J2", "circular-reference"),
    ("計算", "K2", "circular-reference"),
    ("計算", "J5", "unknown-function"),
    ("計算", "J5", "error-value"),  # its cached #NAME?
    ("計算", "B12", "unused-input"),
    ("計算", "M2", "hidden-formula"),
    ("計算", "A17", "hidden-formula"),
    ("隠し", "A1", "hidden-formula"),
    ("保護", "B2", "unlocked-formula"),
    ("未計算", "B1", "missing-cache"),
}


def build_planted(path: Path) -> Path:
    """A workbook with one fault per kind beside clean cells. xlsxwriter lets each formula
    carry a cached value, as a file saved by Excel does."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("計算")
    ws.write_row("A1", ["項目", "数量", "単価", "金額"])
    for r in range(2, 7):
        ws.write_number(f"B{r}", r)
        ws.write_number(f"C{r}", 10 * r)
        ws.write_formula(f"D{r}", f"=B{r}*C{r}", None, 10 * r * r)
    ws.write_formula("D4", "=B4+C4", None, 44)  # pattern-break
    ws.write_string("C6", "1200")  # text-number (read by D6)
    ws.write_formula("D7", "=SUM(D2:D6)", None, 0)
    ws.write_formula("A8", "=B3", None, 3)
    ws.write_number("B8", 570)  # pattern-break: a value typed over a run of formulas
    ws.write_formula("C8", "=D3", None, 90)
    ws.write_number("G2", 0)
    ws.write_formula("F2", "=B2/G2", None, "#DIV/0!")  # error-value (cached)
    ws.write_formula("F3", "=B3/C3", None, 0.1)
    ws.write_formula("F5", "=#REF!*B5", None, "#REF!")  # error-value (in the formula)
    ws.write_formula("H2", "=D2*1.08", None, 0)  # hardcoded-number
    ws.write_formula("H3", "=ROUND(D3,2)", None, 0)
    ws.write_formula("H5", "=D5+I5", None, 0)  # empty-reference
    ws.write_formula("J2", "=K2+1", None, 0)  # circular-reference
    ws.write_formula("K2", "=J2", None, 0)  # circular-reference
    ws.write_formula("J5", "=SUMM(B2:B6)", None, "#NAME?")  # unknown-function
    ws.write_row("A10", ["係数1", 3])
    ws.write_row("A11", ["係数2", 5])
    ws.write_row("A12", ["係数3", 7])  # unused-input
    ws.write_formula("B14", "=B10*B11", None, 15)
    ws.write_formula("M2", "=B2+C2", None, 22)  # hidden-formula (column M)
    ws.set_column("M:M", None, None, {"hidden": True})
    ws.write_formula("A17", "=B14+B10", None, 18)  # hidden-formula (row 17)
    ws.set_row(16, None, None, {"hidden": True})
    hidden = wb.add_worksheet("隠し")
    hidden.write_formula("A1", "=計算!B2+1", None, 3)  # hidden-formula (sheet)
    hidden.hide()
    prot = wb.add_worksheet("保護")
    prot.write_number("A1", 4)
    prot.write_formula("B1", "=A1*100", None, 400)
    prot.write_formula("B2", "=A1+A1", wb.add_format({"locked": False}), 8)  # unlocked-formula
    prot.protect()
    raw = wb.add_worksheet("未計算")
    raw.write_number("A1", 5)
    raw.write_formula("B1", "=A1+1", None, "")  # missing-cache
    wb.close()
    return path


def build_clean(path: Path) -> Path:
    """Inputs, row formulas, a total via a defined name, a cross-sheet reference."""
    wb = xlsxwriter.Workbook(str(path))
    data = wb.add_worksheet("01 入力")
    more = wb.add_worksheet("02 入力")
    more.write_column("B2", [10, 20])
    calc = wb.add_worksheet("集計")
    for r in range(2, 6):
        data.write_number(f"B{r}", r * 100)
        data.write_number(f"C{r}", r)
        data.write_formula(f"D{r}", f"=B{r}*C{r}", None, r * r * 100)
    wb.define_name("金額", "='01 入力'!$D$2:$D$5")
    calc.write_formula("A1", "=SUM(金額)", None, 5400)
    calc.write_formula("A2", "=ROUND('01 入力'!B2/12,0)", None, 17)
    calc.write_formula("A3", "=SUM('01 入力:02 入力'!B2:B3)", None, 530)  # a 3D reference
    wb.close()
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_each_planted_fault_is_found_at_its_cell_and_nothing_else(tmp_path):
    result = audit_workbook(build_planted(tmp_path / "planted.xlsx"))
    assert {(f.sheet, f.cell, f.code) for f in result.findings} == PLANTED
    assert result.has_errors
    severities = {f.code: f.severity.value for f in result.findings}
    assert severities["circular-reference"] == severities["unknown-function"] == "error"
    assert severities["pattern-break"] == severities["missing-cache"] == "warning"


def test_inventory_resolves_names_cross_sheet_refs_readers_and_patterns(tmp_path):
    result = audit_workbook(build_clean(tmp_path / "clean.xlsx"))
    assert result.findings == []
    by_cell = {(f.sheet, f.cell): f for f in result.formulas}
    total = by_cell[("集計", "A1")]
    assert total.names == ["金額"]
    assert [a.text for a in total.areas] == ["'01 入力'!D2:D5"]
    assert by_cell[("01 入力", "D3")].read_by == 1
    assert [a.text for a in by_cell[("集計", "A2")].areas] == ["'01 入力'!B2"]
    assert [a.text for a in by_cell[("集計", "A3")].areas] == ["'01 入力'!B2:B3", "'02 入力'!B2:B3"]
    rows = [g for g in result.groups if g.sheet == "01 入力"]
    assert [(g.ranges, len(g.cells), g.r1c1) for g in rows] == [("D2:D5", 4, "=RC[-2]*RC[-1]")]


@pytest.mark.parametrize("formula, r1c1, numbers", [
    ("=SUM(A1:B3)*1.08", "=SUM(R[-4]C[-2]:R[-2]C[-1])*1.08", ["1.08"]),
    ("='My Sheet'!$A$1+Rate", "='My Sheet'!R1C1+Rate", []),
    ("=ROUND(C4/3,2)", "=ROUND(R[-1]C/3,2)", ["3"]),
    ("=VLOOKUP(A5,$F:$G,2,0)*12", "=VLOOKUP(RC[-2],C6:C7,2,0)*12", []),
    ("=-5+A$2", "=-5+R2C[-2]", ["5"]),
])
def test_parse_formula_r1c1_and_literals(formula, r1c1, numbers):
    parsed = parse_formula(formula, 5, 3)
    assert (parsed.r1c1, parsed.numbers) == (r1c1, numbers)


def test_cli_json_and_exit_codes(tmp_path):
    runner = CliRunner()
    planted = build_planted(tmp_path / "planted.xlsx")
    res = runner.invoke(cli, ["audit", str(planted), "--format", "json"])
    assert res.exit_code == 1
    data = json.loads(res.output)
    assert data["formulas"] == 24
    assert set(data["findings"][0]) == {"severity", "code", "sheet", "cell", "message"}
    res = runner.invoke(cli, ["audit", str(build_clean(tmp_path / "clean.xlsx"))])
    assert res.exit_code == 0, res.output
    assert "エラー 0 件、警告 0 件" in res.output
    assert runner.invoke(cli, ["audit"]).exit_code == 2
    assert runner.invoke(cli, ["audit", str(planted), "--format", "xml"]).exit_code == 2


def test_report_workbook_links_each_row_and_audits_clean(tmp_path):
    planted = build_planted(tmp_path / "planted.xlsx")
    before = sha(planted)
    out = tmp_path / "out" / "監査結果.xlsx"
    res = CliRunner().invoke(cli, ["audit", str(planted), "-o", str(out)])
    assert res.exit_code == 1
    assert sha(planted) == before
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["指摘事項", "数式一覧", "パターン"]
    findings = wb["指摘事項"]
    assert findings.max_row == len(PLANTED) + 1
    link = findings["D2"].hyperlink
    assert link.target.endswith("planted.xlsx") and link.location.endswith("!" + findings["D2"].value)
    assert wb["数式一覧"]["C2"].data_type == "s"
    # every page names the audited file and the audit date; rows as high as their text
    today = __import__("datetime").date.today().isoformat()
    for ws in wb.worksheets:
        assert "planted.xlsx" in ws.oddHeader.left.text and today in ws.oddHeader.left.text
    assert all(findings.row_dimensions[r].height for r in range(2, findings.max_row + 1))
    assert CliRunner().invoke(cli, ["audit", str(out)]).exit_code == 0
    res = CliRunner().invoke(cli, ["audit", str(planted), "-o", str(planted)])
    assert res.exit_code == 1 and sha(planted) == before


def _zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def _hard_inputs(tmp_path: Path) -> dict[str, Path]:
    good = build_clean(tmp_path / "good.xlsx").read_bytes()
    files = {
        "empty": b"",
        "csv": "施策,目標\n観光,100\n".encode(),
        "xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
        "encrypted": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64
                     + "EncryptedPackage".encode("utf-16-le") + b"\0" * 600,
        "truncated": good[: len(good) // 2],
    }
    paths = {k: tmp_path / f"{k}.xlsx" for k in files}
    for k, data in files.items():
        paths[k].write_bytes(data)
    src = zipfile.ZipFile(io.BytesIO(good))
    parts = {n: src.read(n) for n in src.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    paths["doctype"] = _zip(tmp_path / "doctype.xlsx", {
        **parts, sheet: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + parts[sheet][38:]})
    paths["bomb"] = _zip(tmp_path / "bomb.xlsx", {**parts, "xl/media/pad.xml": b"\0" * (5 << 20)})
    return paths


@pytest.mark.parametrize("kind, words", [
    ("empty", "空"), ("csv", "CSV"), ("xls", ".xls"), ("encrypted", "パスワード"),
    ("truncated", "壊れて"), ("doctype", "DTD"), ("bomb", "zip 爆弾"),
])
def test_hard_inputs_give_one_japanese_line(tmp_path, kind, words):
    path = _hard_inputs(tmp_path)[kind]
    before = sha(path)
    res = CliRunner().invoke(cli, ["audit", str(path)])
    assert res.exit_code == 1
    assert words in res.output and "Traceback" not in res.output
    assert res.output.startswith("エラー: ") and res.output.count("\n") == 1
    assert sha(path) == before


def test_formula_map_from_workbook_openpyxl_and_xlsxwriter(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "01 集計"
    for r in range(1, 4):
        ws.cell(r, 1, r * 10)
        ws.cell(r, 2, f"=A{r}*100")
    ws["C1"] = "=SUM(B1:B3)"
    notes = notes_from_workbook(wb)
    assert [(n.cells, n.formula) for n in notes] == [("B1:B3", "=A1*100"), ("C1", "=SUM(B1:B3)")]
    assert "合計（SUM）" in notes[1].explanation and "B1:B3" in notes[1].explanation
    add_formula_map_openpyxl(wb, notes)
    wb.save(tmp_path / "o.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "o.xlsx")["数式一覧"]
    assert sheet["C2"].value == "=A1*100" and sheet["C2"].data_type == "s"
    assert sheet["B2"].hyperlink.location == "'01 集計'!B1"
    assert not audit_workbook(tmp_path / "o.xlsx").has_errors

    xb = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"))
    xb.add_worksheet("計算").write_formula("A2", "=A1*12", None, 0)
    write_formula_map(xb, [FormulaNote("計算", "A2", "=A1*12", "月額を 12 倍して年額にします。")])
    xb.close()
    sheet = openpyxl.load_workbook(tmp_path / "x.xlsx")["数式一覧"]
    assert [c.value for c in sheet[2]] == ["計算", "A2", "=A1*12", "月額を 12 倍して年額にします。"]
    assert sheet["B2"].hyperlink.location == "'計算'!A2"


@pytest.mark.parametrize("book", sorted(INPUTS.glob("*.xlsx")), ids=lambda p: p.name)
def test_city_workbooks_audit_without_false_positives(book):
    before = sha(book)
    res = CliRunner().invoke(cli, ["audit", str(book), "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["findings"] == [] and data["formulas"] == 0
    assert sha(book) == before


def _formula_cells(path):
    wb = openpyxl.load_workbook(path, read_only=True)
    return [(c.value, c.row, c.column) for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if getattr(c, "data_type", None) == "f" and isinstance(c.value, str)]


def test_the_r1c1_shortcut_gives_the_tokenizers_r1c1():
    """`PatternParser.r1c1` answers a copy from the shape of a formula seen before: on every
    formula of the golden outputs and of generated copies (moved down and across, absolute
    and relative parts, digits in strings and sheet names, whole columns), it gives what
    the tokenizer gives."""
    import random

    from xlsgen.audit.formula import PatternParser

    golden = Path(__file__).parent / "golden"
    cells = [cell for p in ("report_ojiya.xlsx", "report_joso.xlsx", "simulation.xlsx", "survey.xlsx")
             for cell in _formula_cells(golden / p)]
    assert len(cells) > 5000
    rng = random.Random(7)
    shapes = ["=A{r}+$B{r}*C$2", "=SUM($C$3:C{r})", "='表1'!D{r}&\"第{r}号\"", "=IF(E{r}>100,F{r},G$1)",
              "=SUM(H:H)-H{r}", "=ROUND(I{r}/1000,0)", "='12月'!A{r}+1E3", "=INDEX($X$3:$X$290,MATCH($A{r},$N$3:$N$290,0))"]
    for shape in shapes:
        for _ in range(40):
            r, dc = rng.randint(1, 400), rng.randint(0, 3)
            f = shape.format(r=r)
            if dc:  # the same formula copied dc columns to the right
                f = f.replace("A", "BCDE"[dc - 1], 1) if shape.startswith("=A") else f
            cells.append((f, r, rng.randint(1, 30)))
    parser = PatternParser()
    assert [parser.r1c1(f, r, c) for f, r, c in cells] == [parse_formula(f, r, c).r1c1 for f, r, c in cells]
    assert len(parser._by_shape) < len(cells) / 3  # the copies were answered from their shape

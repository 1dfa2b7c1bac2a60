"""xlsgen build: live formulas agree with LibreOffice, inputs move results, the workbook is
printable, protected, safe with formula-like text, and audits clean."""

from __future__ import annotations

import hashlib
from datetime import datetime

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import JOSO, NISHITOKYO, OJIYA
from xlsgen.audit import audit_workbook
from xlsgen.cli import cli
from xlsgen.measures import ReportBook, ReportKpi, ReportMeasure
from xlsgen.model import Direction, Project, Quantity, TargetKind
from xlsgen.render.report import write_report


def formula_cells(path) -> list[tuple[str, str]]:
    wb = openpyxl.load_workbook(path)
    return [(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.data_type == "f"]


def same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return b == pytest.approx(a, rel=1e-12, abs=1e-12)
    return a == b


@pytest.mark.parametrize("src", [OJIYA, JOSO, NISHITOKYO], ids=["ojiya", "joso", "nishitokyo"])
def test_build_shipped_workbook(tmp_path, recalc, src):
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out = tmp_path / "report.xlsx"
    res = CliRunner().invoke(cli, ["build", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before

    # every formula's cached value equals LibreOffice's recalculated value
    cells = formula_cells(out)
    assert len(cells) > 20
    cached = openpyxl.load_workbook(out, data_only=True)
    fresh = openpyxl.load_workbook(recalc(out), data_only=True)
    diffs = [(s, a, cached[s][a].value, fresh[s][a].value) for s, a in cells
             if not same(cached[s][a].value, fresh[s][a].value)]
    assert diffs == []
    assert all(cached[s][a].value is not None for s, a in cells)

    wb = openpyxl.load_workbook(out)
    names = wb.sheetnames
    assert names[0] == "一覧" and names[-3:] == ["データ", "設定", "数式一覧"]
    assert {"評価A", "評価B", "評価C", "評価年度"} <= set(wb.defined_names)
    measure = wb[names[1]]
    # print setup: A4, one page per measure (fit to 1 x 1; openpyxl reads the default 1 as
    # None), print area, print titles, header with シート№, page footer
    assert measure.page_setup.paperSize == 9
    assert measure.page_setup.fitToHeight in (None, 1) and measure.page_setup.fitToWidth in (None, 1)
    assert measure.sheet_properties.pageSetUpPr.fitToPage and measure.print_area
    assert wb["データ"].page_setup.fitToHeight == 0
    assert measure.print_title_rows == "$1:$2"
    assert "シート№" in measure.oddHeader.right.text and "&P" in measure.oddFooter.center.text
    assert measure["A1"].font.name == "游ゴシック"
    # protected; actual cells unlocked and shaded, formula cells locked
    assert measure.protection.sheet
    year_heads = [c for c in measure[measure["A1"].row:measure.max_row] for c in c
                  if isinstance(c.value, int) and 2000 < c.value < 2100 and c.font.b]
    assert year_heads and '年度(' in year_heads[0].number_format
    inputs = [c for row in measure.iter_rows() for c in row
              if c.fill.fgColor.rgb == "FFFFF2CC"]
    assert inputs and all(not c.protection.locked for c in inputs)
    assert all(measure[a].protection.locked for s, a in cells if s == measure.title)
    assert any(dv.formula1 and "拡充" in dv.formula1 for dv in measure.data_validations.dataValidation)
    # computed headers carry a comment
    assert any(c.comment and "評価" in c.value for row in measure.iter_rows() for c in row
               if isinstance(c.value, str))
    # data sheet: one header row, no merged cells, numbers as numbers, 西暦 and 和暦
    data = wb["データ"]
    assert not data.merged_cells.ranges
    head = [c.value for c in data[1]]
    assert {"西暦年度", "和暦年度", "値"} <= set(head)
    values = [r[head.index("値")] for r in data.iter_rows(min_row=2, values_only=True)]
    assert values and all(v is None or isinstance(v, (int, float)) for v in values)
    # the formula auditor finds no error
    assert [f for f in audit_workbook(out).findings if f.severity.value == "error"] == []


def test_changed_actual_moves_achievement_and_grade(tmp_path, recalc):
    out = tmp_path / "ojiya.xlsx"
    CliRunner().invoke(cli, ["build", str(OJIYA), "-o", str(out)])
    wb = openpyxl.load_workbook(out)
    ws = next(ws for ws in wb.worksheets if ws.title.startswith("02 "))
    rows = [r for r in ws.iter_rows() if r[2].value == "鉄工電子組合技能士合格者数（累計）"]
    do_row, check_row = rows[0], rows[1]
    assert do_row[7].value == 176  # R2 actual; baseline 163, target 220 (累計)
    before = openpyxl.load_workbook(out, data_only=True)[ws.title]
    assert before.cell(check_row[0].row, 5).value == pytest.approx(13 / 57)
    assert before.cell(check_row[0].row, 7).value == "D"
    do_row[7].value = 220
    wb.save(out)
    after = openpyxl.load_workbook(recalc(out), data_only=True)
    assert after[ws.title].cell(check_row[0].row, 5).value == pytest.approx(1.0)
    assert after[ws.title].cell(check_row[0].row, 7).value == "A"
    overview = [r for r in after["一覧"].iter_rows(values_only=True)
                if r[3] == "鉄工電子組合技能士合格者数（累計）"]
    assert overview[0][8] == pytest.approx(1.0) and overview[0][10] == "A"


def tiny_report(text: str) -> ReportBook:
    k = ReportKpi(name=text, unit="件", kind=TargetKind.PER_YEAR, direction=Direction.UP,
                  baseline=Quantity(text=text), baseline_year=2019,
                  values={2020: Quantity(text=text, fiscal_year=2020)}, target=Quantity(value=5),
                  target_year=2020, category=text)
    m = ReportMeasure(key="01", title="施策", source_sheet="01", levels=[("施策", text)],
                      purpose=text, projects=[Project(name=text, description=text)], years=[2020],
                      kpis=[k], check=[(text, text)], action=[(text, text)])
    return ReportBook(layout="ojiya", source="x.xlsx", title="t", eval_year=2020,
                      created=datetime(2021, 4, 1), measures=[m])


@pytest.mark.parametrize("text", ["=1+1", "=HYPERLINK(\"http://x\",\"y\")", "+A1", "@SUM(A1)",
                                  "-1-1", "http://example.com"])
def test_input_text_is_written_as_text(tmp_path, text):
    out = tmp_path / "t.xlsx"
    write_report(tiny_report(text), out)
    wb = openpyxl.load_workbook(out)
    hits = [c for ws in wb.worksheets if ws.title != "数式一覧" for row in ws.iter_rows()
            for c in row if c.value == text]
    assert len(hits) >= 8 and all(c.data_type == "s" for c in hits)
    assert not wb["01 施策"]._hyperlinks


def test_protection_switch_and_stable_bytes(tmp_path):
    a, b, c = tmp_path / "a.xlsx", tmp_path / "b.xlsx", tmp_path / "c.xlsx"
    runner = CliRunner()
    for out, extra in ((a, []), (b, []), (c, ["--no-protect"])):
        assert runner.invoke(cli, ["build", str(JOSO), "-o", str(out), *extra]).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    assert all(ws.protection.sheet for ws in openpyxl.load_workbook(a).worksheets[:-1])
    assert not any(ws.protection.sheet for ws in openpyxl.load_workbook(c).worksheets)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "b.xlsx", "c.xlsx"]


def test_build_reports_unreadable_input(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["build", str(bad), "-o", str(tmp_path / "out.xlsx")])
    assert res.exit_code == 1 and "エラー" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "out.xlsx").exists()


def test_long_title_with_ampersand_fits_page_header(tmp_path):
    import re
    import zipfile

    rb = tiny_report("x")
    rb.title = "産業&観光" * 60
    rb.measures[0].title = "研究&開発" * 20
    out = tmp_path / "t.xlsx"
    write_report(rb, out)
    with zipfile.ZipFile(out) as z:
        xml = z.read("xl/worksheets/sheet2.xml").decode("utf-8")
    header = re.search(r"<oddHeader>(.*?)</oddHeader>", xml).group(1).replace("&amp;", "&")
    assert len(header) <= 255 and "産業&&観光" in header
    assert not re.search(r"(?<!&)&(?:&&)*(?=$|[^&LRCP\"0-9])", header.split("&R")[0][2:])
    sheet = openpyxl.load_workbook(out).sheetnames[1]
    assert len(sheet) <= 31

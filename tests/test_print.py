"""Every output kind printed to PDF by LibreOffice (A4, the workbook's page setup): no word
drawn over another, no cell text missing from the page, one page per 小千谷 measure.
Under CI=true these run (LibreOffice and poppler-utils are installed by .ci/run)."""

from __future__ import annotations

import os
import re
import shutil
import zipfile

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner

from tests import printcheck
from tests.conftest import INPUTS, ROOT
from xlsgen import libreoffice
from xlsgen.cli import cli
from xlsgen.render import theme
from xlsgen.render.formula_map import write_formula_map

KINDS = ["report_ojiya", "report_joso", "report_nishitokyo", "findings", "audit", "simulation",
         "survey"]


def _need_tools():
    missing = [t for t, ok in (("LibreOffice", libreoffice.soffice()),
                               ("pdftotext (poppler-utils)", shutil.which("pdftotext"))) if not ok]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{', '.join(missing)} required under CI=true")
        pytest.skip(f"{', '.join(missing)} not installed")


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """Each output kind written by the CLI from the shipped inputs and templates, and its PDF."""
    _need_tools()
    out = tmp_path_factory.mktemp("print")
    runner = CliRunner()
    run = runner.invoke(cli, ["run", str(INPUTS), "-o", str(out / "run")])
    assert run.exit_code == 0, run.output
    report = {stem: out / "run" / f"{p.stem}_報告書.xlsx" for p in INPUTS.glob("*.xlsx")
              for stem in ("ojiya", "joso", "nishitokyo") if p.stem.startswith(stem)}
    books = {f"report_{k}": v for k, v in report.items()}
    books["findings"] = out / "run" / "検証結果.xlsx"
    books["audit"] = out / "audit.xlsx"
    res = runner.invoke(cli, ["audit", str(report["ojiya"]), "-o", str(books["audit"])])
    assert books["audit"].exists(), res.output
    books["simulation"] = out / "simulation.xlsx"
    sims = sorted(str(p) for p in (ROOT / "xlsgen" / "templates" / "simulations").glob("mitaka_model_*.yaml"))
    res = runner.invoke(cli, ["simulate", *sims, "-o", str(books["simulation"])])
    assert books["simulation"].exists(), res.output
    books["survey"] = out / "survey.xlsx"
    res = runner.invoke(cli, ["simulate", str(ROOT / "xlsgen" / "templates" / "reports" / "setagaya_forum_survey.yaml"),
                              "-o", str(books["survey"])])
    assert books["survey"].exists(), res.output
    return {k: (v, libreoffice.to_pdf(v, out / "pdf")) for k, v in books.items()}


@pytest.mark.parametrize("kind", KINDS)
def test_no_overprinted_or_cut_text(printed, kind):
    xlsx, pdf = printed[kind]
    over = printcheck.overprints(pdf)
    assert not over, f"{kind}: {len(over)} overprinted word pairs, e.g. {over[:3]}"
    missing, total = printcheck.clipped(xlsx, pdf)
    assert total > 50
    assert not missing, f"{kind}: {len(missing)} of {total} cell texts cut, e.g. {missing[:5]}"


def test_one_page_per_ojiya_measure(printed):
    xlsx, pdf = printed["report_ojiya"]
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    measures = [ws.title for ws in wb.worksheets if ws.title[:2].isdigit()]
    wb.close()
    per_sheet = printcheck.sheet_numbers(pdf)
    keys = [k for k in per_sheet if k[:2].isdigit()]
    assert len(measures) == 33 and len(keys) == len(measures)
    assert all(per_sheet[k] == 1 for k in keys), {k: n for k, n in per_sheet.items() if n > 1}


def test_rate_chart_inside_the_printed_page(printed):
    """Each measure sheet's chart (drawn only when a KPI has a rate) ends inside the sheet's
    print area, so it is on the sheet's one page, below the print titles."""
    xlsx, _ = printed["report_ojiya"]
    areas = {i: ws.print_area for i, ws in enumerate(openpyxl.load_workbook(xlsx).worksheets, 1)}
    charted = 0
    with zipfile.ZipFile(xlsx) as z:
        for i, area in areas.items():
            if not area:  # 一覧 and the lists print on as many pages as they need
                continue
            rels = f"xl/worksheets/_rels/sheet{i}.xml.rels"
            if rels not in z.namelist():
                continue
            drawing = re.search(r'Target="../drawings/(drawing\d+\.xml)"', z.read(rels).decode())
            if not drawing:
                continue
            xml = z.read(f"xl/drawings/{drawing.group(1)}").decode()
            if "<c:chart" not in xml:
                continue
            charted += 1
            last = int(re.search(r"\$(\d+)$", area).group(1))
            ends = [int(r) + 1 for r in re.findall(r"<xdr:to><xdr:col>\d+</xdr:col><xdr:colOff>-?\d+"
                                                   r"</xdr:colOff><xdr:row>(\d+)</xdr:row>", xml)]
            assert ends and max(ends) <= last, (i, area, ends)
    assert 20 <= charted <= 33


def test_empty_formula_map_is_one_line(tmp_path):
    """A workbook without formulas: 数式一覧 prints one page saying there are none."""
    _need_tools()
    path = tmp_path / "empty.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("データ").write_string(0, 0, "値")
    write_formula_map(wb, [])
    theme.fit_rows(wb)
    wb.close()
    sheet = openpyxl.load_workbook(path)["数式一覧"]
    assert sheet.max_row == 2 and "数式がありません" in sheet["A2"].value
    pdf = libreoffice.to_pdf(path, tmp_path / "pdf")
    assert len(printcheck.pages(pdf)) == 2  # the data sheet's page and the map's one page


@pytest.mark.parametrize("kind", ["report_ojiya", "report_joso", "report_nishitokyo"])
def test_rate_chart_only_when_a_kpi_has_a_rate(printed, kind):
    """A measure sheet draws its chart exactly when one of its 評価年度の達成率 cells (the
    column E formulas) has a number; no empty chart with a made-up axis."""
    xlsx, _ = printed[kind]
    formulas = openpyxl.load_workbook(xlsx)
    values = openpyxl.load_workbook(xlsx, data_only=True)
    with zipfile.ZipFile(xlsx) as z:
        names = z.namelist()
        for i, ws in enumerate(formulas.worksheets, 1):
            if not ws.print_area:
                continue
            has_rate = any(isinstance(values[ws.title][c.coordinate].value, (int, float))
                           for c in ws["E"] if isinstance(c.value, str) and c.value.startswith("="))
            rels = f"xl/worksheets/_rels/sheet{i}.xml.rels"
            drawn = rels in names and re.search(rb"\.\./drawings/drawing\d+\.xml", z.read(rels)) is not None
            assert drawn == has_rate, (ws.title, drawn, has_rate)

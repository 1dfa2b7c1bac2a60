"""Every output kind printed to PDF by LibreOffice (A4, the workbook's page setup) and read
back with pdftotext (tests/printcheck.py): readable type on every page, no word drawn over
another, no cell text missing, a running header with the plan and year on every report
page, KPI rows under their table header, one page per 小千谷 measure, the reference sheets
after the council part. Under CI=true these run (LibreOffice and poppler-utils are
installed by .ci/run)."""

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
from tests.conftest import INPUTS
from xlsgen import libreoffice
from xlsgen.cli import cli
from xlsgen.render import theme
from xlsgen.render.formula_map import write_formula_map
from xlsgen.resources import templates_dir

KINDS = ["report_ojiya", "report_joso", "report_nishitokyo", "report_cost_block", "findings",
         "audit", "simulation", "survey"]
REPORTS = ["report_ojiya", "report_joso", "report_nishitokyo", "report_cost_block"]


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
    # the audit report of the 常総 report: 42 pages with every part of the kind (the 小千谷
    # report's lists 5,285 formulas on 669 pages, 13 s of LibreOffice for the same layout)
    res = runner.invoke(cli, ["audit", str(report["joso"]), "-o", str(books["audit"])])
    assert books["audit"].exists(), res.output
    books["simulation"] = out / "simulation.xlsx"
    sims = sorted(str(p) for p in templates_dir("simulations").glob("mitaka_model_*.yaml"))
    assert sims
    res = runner.invoke(cli, ["simulate", *sims, "-o", str(books["simulation"])])
    assert books["simulation"].exists(), res.output
    books["survey"] = out / "survey.xlsx"
    res = runner.invoke(cli, ["simulate", str(templates_dir("reports") / "setagaya_forum_survey.yaml"),
                              "-o", str(books["survey"])])
    assert books["survey"].exists(), res.output
    # a city's project sheets with a cost block (財源内訳, 人工 × 平均職員費, 総事業費)
    from tests.city_corpus import BOOKS, LAYOUTS_DIR

    name = next(n for n in BOOKS if n.startswith("a_"))
    facts = BOOKS[name](out / name)
    books["report_cost_block"] = out / "cost_block.xlsx"
    res = runner.invoke(cli, ["build", str(out / name), "--layout-file",
                              str(LAYOUTS_DIR / f"{facts['layout']}.next.yaml"), "-o",
                              str(books["report_cost_block"])])
    assert books["report_cost_block"].exists(), res.output
    pdfs = libreoffice.to_pdf_many(list(books.values()), out / "pdf")  # one LibreOffice for all
    return {k: (v, pdf) for (k, v), pdf in zip(books.items(), pdfs)}


@pytest.mark.parametrize("kind", KINDS)
def test_no_overprinted_or_cut_text(printed, kind):
    xlsx, pdf = printed[kind]
    over = printcheck.overprints(pdf)
    assert not over, f"{kind}: {len(over)} overprinted word pairs, e.g. {over[:3]}"
    missing, total = printcheck.clipped(xlsx, pdf)
    assert total > 50
    assert not missing, f"{kind}: {len(missing)} of {total} cell texts cut, e.g. {missing[:5]}"


YEAR = re.compile(r"(令和|平成)\s*[0-9０-９元]+\s*年度")


@pytest.mark.parametrize("kind", KINDS)
def test_type_is_readable_on_every_page(printed, kind):
    """About 8 pt type or more everywhere: word heights median ≥ 6.8 pt and 5th percentile
    ≥ 5.8 pt on every page (a wide sheet shrunk onto A4 gives 4–5 pt)."""
    _, pdf = printed[kind]
    sizes = printcheck.type_sizes(pdf)
    assert sizes
    small = [(i, round(m, 1), round(p, 1)) for i, (m, p) in enumerate(sizes, 1)
             if m < 6.8 or p < 5.8]
    assert not small, f"{kind}: pages with small type (page, median, 5th pct): {small[:5]}"


@pytest.mark.parametrize("kind", REPORTS)
def test_running_header_on_every_report_page(printed, kind):
    """Every page names the plan and its fiscal year above, the page n / m and the date
    printed below; the reference sheets are marked 参考 and come after the council part."""
    xlsx, pdf = printed[kind]
    edges = printcheck.edges(pdf)
    plan = openpyxl.load_workbook(xlsx, read_only=True)["一覧"]["A1"].value.split("　")[0]
    for i, (top, bottom) in enumerate(edges, 1):
        squashed = top.replace(" ", "")
        assert YEAR.search(squashed), (i, top)
        assert plan.replace(" ", "")[:12] in squashed, (i, top)
        assert re.search(rf"{i}/{len(edges)}ページ", bottom.replace(" ", "")), (i, bottom)
        assert re.search(r"印刷\s*\d", bottom), (i, bottom)
    reference = [i for i, (top, _) in enumerate(edges) if "参考資料" in top]
    council = [i for i, (top, _) in enumerate(edges) if "参考資料" not in top]
    assert reference and council and max(council) < min(reference)
    text = "".join(printcheck.pages(pdf)[:len(council)])
    assert "変更できます" not in text and "から選びます" not in text


@pytest.mark.parametrize("kind", REPORTS)
def test_kpi_rows_print_under_their_header(printed, kind):
    """A page that shows a KPI's row shows the table's header (指標名) above it: a table
    that goes on to the next page repeats its header."""
    xlsx, pdf = printed[kind]
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    names = {r[3] for r in wb["一覧"].iter_rows(min_row=3, values_only=True) if r[3]}
    wb.close()
    assert names
    assert printcheck.rows_before_header(pdf, names) == []


def test_one_page_per_ojiya_measure(printed):
    xlsx, pdf = printed["report_ojiya"]
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    measures = [ws.title for ws in wb.worksheets if ws.title[:2].isdigit()]
    wb.close()
    per_sheet = printcheck.sheet_numbers(pdf)
    keys = [k for k in per_sheet if k[:2].isdigit()]
    assert len(measures) == 33 and len(keys) == len(measures)
    assert all(per_sheet[k] == 1 for k in keys), {k: n for k, n in per_sheet.items() if n > 1}


def test_measures_that_continue_repeat_the_table_header(printed):
    """西東京's measures have a dozen KPIs: they go on over pages, and each page with KPI
    rows starts them under the repeated header (the check above); at least one does."""
    _, pdf = printed["report_nishitokyo"]
    per_sheet = printcheck.sheet_numbers(pdf)
    assert any(n > 1 for k, n in per_sheet.items() if k[:2].isdigit())
    pages = printcheck.pages(pdf)
    heads = [p for p in pages if "シート№" in p and "指標名" in p]
    assert len(heads) > len([k for k in per_sheet if k[:2].isdigit()])


def test_no_sheet_is_fit_to_page(printed):
    """Orientation and scale are chosen per sheet; nothing is shrunk to fit a page."""
    for kind, (xlsx, _) in printed.items():
        with zipfile.ZipFile(xlsx) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/sheet"):
                    xml = z.read(name).decode("utf-8")
                    assert 'fitToPage="1"' not in xml, (kind, name)
                    scale = re.search(r'scale="(\d+)"', xml)
                    assert scale is None or int(scale.group(1)) >= 75, (kind, name)


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

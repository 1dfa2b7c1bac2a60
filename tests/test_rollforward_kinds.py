"""Roll-forward of every record kind: KPI blocks (years as rows, years as columns), one row
per KPI (with and without --extend-to), the year tables the reader records in
`Measure.tables` (cost blocks); round trips R(n) → R(n+1) → fill the input cells → R(n+2)
keeping every fact (through the model) and every Excel feature (the fidelity checker);
refusals; the CLI on each shipped layout kind."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests import city_corpus, layout_workbooks, table_workbooks
from tests.conftest import JOSO, NISHITOKYO, ROOT
from tests.fidelity_corpus import build, compare
from xlsgen.cli import cli
from xlsgen.errors import XlsgenError
from xlsgen.layout import read_book
from xlsgen.model import (
    CHANGE_LOG_SHEET,
    CHECK_HISTORY_SHEET,
    FORMULA_MAP_SHEET,
    PAST_YEARS_SHEET,
    Edit,
    Plan,
)
from xlsgen.package import Package, apply_plan
from xlsgen.render.edition import INPUT_FILL_RGB
from xlsgen.rollforward import rollforward_file

LAYOUTS = ROOT / "tests" / "layouts"
# Excel features of the fidelity corpus that apply to any book (its first sheet): one
# drawing (a chart), notes, a macro project, formulas and styles of its own …
FEATURES = ("vba", "notes", "chart", "databars", "validation", "conditional", "hyperlinks",
            "printer_settings", "theme", "protection", "named_styles", "page_setup")
# those whose references the column insertion of --extend-to moves (drawings and extension
# lists are refused by name: xlsgen.package.columns)
MOVABLE = tuple(f for f in FEATURES if f not in ("chart", "databars"))
# (the corpus's named_styles puts a cell at L2, after the list's own cells up to R2: out of
# order, which the package edit puts right; not a feature of the row book)
ROW_BOOK = tuple(f for f in MOVABLE if f != "named_styles")


def with_roll(tmp: Path, layout: Path, history=("check_analysis", "check_next")) -> Path:
    """A copy of a test layout that declares `rollforward: supported: true`."""
    out = tmp / f"{layout.stem}_roll.yaml"
    hist = f"\n  history: [{', '.join(history)}]" if history else ""
    out.write_text(layout.read_text(encoding="utf-8") + f"\nrollforward:\n  supported: true{hist}\n",
                   encoding="utf-8")
    return out


def facts(book) -> dict:
    """Every KPI value by (sheet, KPI, role, year) → (value, text, unit), the KPI's own fields,
    and each measure's name, number and departments."""
    out = {}
    for m in book.measures:
        out[(m.sheet, "measure")] = (m.measure.name if m.measure else None, m.number, tuple(m.departments))
        for k in m.kpis:
            out[(m.sheet, k.name)] = (k.unit, k.direction, k.baseline_year, k.target_year)
            for role in ("baseline", "target"):
                q = getattr(k, role)
                if q is not None and not q.is_empty:
                    out[(m.sheet, k.name, role)] = (q.value, q.text, q.unit)
            for role in ("targets", "actuals", "achievements", "grades"):
                for q in getattr(k, role):
                    if not q.is_empty:
                        out[(m.sheet, k.name, role, q.fiscal_year)] = (q.value, q.text, q.unit)
    return out


def by_cell(book) -> dict:
    """(sheet, cell) → text of every KPI quantity (a roll without inserted columns keeps
    every value in its cell)."""
    return {(m.sheet, q.cell): q.text for m in book.measures for k in m.kpis
            for q in (k.baseline, k.target, *k.targets, *k.actuals, *k.achievements, *k.grades)
            if q is not None and q.cell and not q.is_empty}


def changed(result) -> dict[str, set[str]]:
    cells: dict[str, set[str]] = {}
    for c in result.changes:
        cells.setdefault(c.sheet, set()).add(c.cell)
    return cells


def fill(src: Path, dst: Path, values: dict) -> Path:
    """The clerk types `values` ((sheet, cell) → value) into the edition; written into the
    package like Excel would (no spreadsheet library load/save)."""
    pkg = Package(src)
    apply_plan(pkg, Plan(edits=[Edit(s, c, v, "入力") for (s, c), v in values.items()]))
    pkg.write(dst)
    return dst


def fills(path) -> dict:
    """(sheet, cell) → fill colour of every cell with a fill."""
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): c.fill.fgColor.rgb for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.fill is not None and c.fill.fill_type == "solid"}


def shaded(path, sheet: str, cell: str) -> bool:
    return openpyxl.load_workbook(path)[sheet][cell].fill.fgColor.rgb == INPUT_FILL_RGB


def part(path, name) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(name)


def sheet_part(path, sheet: str) -> str:
    return part(path, Package(path).sheets[sheet]).decode()


# --- KPI blocks, years as rows ------------------------------------------------------------


@pytest.fixture(scope="module")
def blocks_e(tmp_path_factory):
    """The corpus book of KPI blocks with years as rows (R4 edition, the city's own 達成率
    formulas), with Excel features added, and its layout declaring roll-forward."""
    d = tmp_path_factory.mktemp("blocks_e")
    plain = d / "e.xlsx"
    city_corpus.write_kpi_blocks_years_rows(plain)
    src = build(FEATURES[0], d, src=plain, extra=FEATURES[1:] + ("formulas",))
    return src, with_roll(d, LAYOUTS / "corpus" / "kpi_blocks_qualitative.yaml")


def test_blocks_rows_round_trip_keeps_every_fact_and_feature(blocks_e, tmp_path, recalc):
    src, layout = blocks_e
    old = read_book(src, layout_file=layout)
    assert old.fiscal_year == 2022 and not old.findings
    r5 = tmp_path / "e_R5.xlsm"
    first = rollforward_file(src, "R5", r5, layout_file=layout)
    assert compare(src, r5, changed(first), Package(src).sheets) == []
    new = read_book(r5, layout_file=layout)
    assert new.fiscal_year == 2023  # the title names the new edition
    assert facts(new) == facts(old) and by_cell(new) == by_cell(old)
    assert not first.findings  # R3 was reported in full
    wb = openpyxl.load_workbook(r5)
    inputs = {}
    for m in new.measures:
        assert wb[m.sheet]["A1"].value == "令和5年度\u3000施策の進捗評価シート"
        for k in m.kpis:
            q, before = k.actual(2022), k.actual(2021)
            cell = wb[m.sheet][q.cell]
            assert q.is_empty and cell.fill.fgColor.rgb == INPUT_FILL_RGB
            assert cell.number_format == wb[m.sheet][before.cell].number_format
            assert not shaded(r5, m.sheet, k.actual(2023).cell)  # next year's: not yet
            inputs[(m.sheet, q.cell)] = "完了" if before.value is None else int(before.value) + 7
        # the city's own 達成率 formulas are where they were
        for a in k.achievements:
            if a.cell and str(openpyxl.load_workbook(src)[m.sheet][a.cell].value).startswith("="):
                assert wb[m.sheet][a.cell].value == openpyxl.load_workbook(src)[m.sheet][a.cell].value
        assert m.texts_of("check_analysis") == [] and m.texts_of("check_next") == []
    assert len(inputs) == 6
    # the text blocks went to 前年度評価, the old 今後の方針 is a note where the new text goes
    rows = list(wb[CHECK_HISTORY_SHEET].iter_rows(min_row=2, values_only=True))
    for m in old.measures:
        mine = [r for r in rows if r[1] == m.sheet]
        assert [r[4] for r in mine] == ["現状と課題", "今後の方針"]
        assert all(t.text in mine[0][5] for t in m.texts_of("check_analysis"))
        assert all(t.text in mine[1][5] for t in m.texts_of("check_next"))
        assert mine[0][6] == m.cells["check_analysis"] and mine[0][0] == "R4年度版"
        note = wb[m.sheet][m.cells["check_analysis"]].comment.text
        assert "今後の方針" in note and m.texts_of("check_next")[0].text in note
    assert "職員のメモ C5" in part(r5, "xl/comments1.xml").decode()  # the city's own note kept
    # the clerk fills the R4 actuals; the R6 edition keeps them, unshaded, and opens R5
    filled = fill(r5, tmp_path / "e_R5_filled.xlsm", inputs)
    back = read_book(filled, layout_file=layout)
    for (sheet, cell), v in inputs.items():
        q = next(q for m in back.measures if m.sheet == sheet for k in m.kpis for q in k.actuals if q.cell == cell)
        assert (q.value if isinstance(v, int) else q.text) == v
    r6 = tmp_path / "e_R6.xlsm"
    second = rollforward_file(filled, "R6", r6, layout_file=layout)
    assert compare(filled, r6, changed(second), Package(filled).sheets) == []
    newer = read_book(r6, layout_file=layout)
    assert newer.fiscal_year == 2024 and facts(newer) == facts(back)
    assert not [f for f in second.findings if f.code == "missing-actual"]
    for (sheet, cell) in inputs:
        assert not shaded(r6, sheet, cell)
    for m in newer.measures:
        for k in m.kpis:
            assert shaded(r6, m.sheet, k.actual(2023).cell)
    for name in ("xl/vbaProject.bin", "xl/charts/chart1.xml", "xl/theme/theme1.xml",
                 "xl/printerSettings/printerSettings1.bin"):
        assert part(r6, name) == part(src, name), name
    editions = [r[0] for r in openpyxl.load_workbook(r6)[CHECK_HISTORY_SHEET].iter_rows(min_row=2, values_only=True)]
    assert editions == ["R4年度版"] * 4 + ["R5年度版"] * 4
    # LibreOffice opens the edition and recalculates the city's 達成率 on the typed actuals
    back = openpyxl.load_workbook(recalc(r6), data_only=True)
    assert {"施策1-1", "施策1-2", CHECK_HISTORY_SHEET, CHANGE_LOG_SHEET, FORMULA_MAP_SHEET} <= set(back.sheetnames)
    ws = back["施策1-2"]
    assert ws["D12"].value is None or isinstance(ws["D12"].value, (int, float))
    for r in (10, 11, 22):  # typed R2/R3 rates are the formulas' results
        assert isinstance(ws[f"D{r}"].value, float)


def test_blocks_shipped_layout_from_the_cli(tmp_path):
    """`kpi_blocks` (shipped): R4 → R5 → fill → R6 → fill → R7 refused (no R6 row)."""
    src = tmp_path / "blocks.xlsx"
    layout_workbooks.write_kpi_blocks(src)
    old = read_book(src)
    assert (old.layout, old.fiscal_year) == ("kpi_blocks", 2022)
    r5 = tmp_path / "blocks_R5.xlsx"
    res = CliRunner().invoke(cli, ["rollforward", str(src), "--to", "R5", "-o", str(r5)])
    assert res.exit_code == 0, res.output
    assert "令和4年度版 → 令和5年度版" in res.output and "R4年度の実績値の入力欄" in res.output
    new = read_book(r5)
    assert facts(new) == facts(old) and by_cell(new) == by_cell(old)
    wb = openpyxl.load_workbook(r5)
    # a status (集計中) is kept and shaded for the value; a none-mark (－) is the city's answer
    assert wb["施策1"]["C12"].value == "集計中" and shaded(r5, "施策1", "C12")
    assert wb["施策2"]["C12"].value == "－" and not shaded(r5, "施策2", "C12")
    assert shaded(r5, "施策1", "C22") and wb["施策1"]["C22"].number_format == "#,##0"
    # the achievements and grades typed by the city are left as they were
    for m in old.measures:
        for k in m.kpis:
            for q in (*k.achievements, *k.grades):
                assert wb[m.sheet][q.cell].value == openpyxl.load_workbook(src)[m.sheet][q.cell].value
    log = {(r[0], r[1]) for r in wb[CHANGE_LOG_SHEET].iter_rows(min_row=2, values_only=True)}
    assert not [c for c in log if c[1] and c[1][0] in "DE"]  # no 達成率/評価 cell in the change log
    assert FORMULA_MAP_SHEET not in wb.sheetnames  # no formulas: no empty formula map
    filled = fill(r5, tmp_path / "f5.xlsx", {("施策1", "C12"): 5, ("施策1", "C22"): 1110, ("施策2", "C12"): 82})
    r6 = tmp_path / "blocks_R6.xlsx"
    result = rollforward_file(filled, "R6", r6)
    assert read_book(r6).fiscal_year == 2023 and facts(read_book(r6)) == facts(read_book(filled))
    assert not shaded(r6, "施策1", "C12") and shaded(r6, "施策1", "C13")
    assert not [f for f in result.findings if f.code == "missing-actual"]
    filled6 = fill(r6, tmp_path / "f6.xlsx", {("施策1", "C13"): 4, ("施策1", "C23"): 1150, ("施策2", "C13"): 95})
    res = CliRunner().invoke(cli, ["rollforward", str(filled6), "--to", "R7", "-o", str(tmp_path / "r7.xlsx")])
    assert res.exit_code == 1 and "R6年度の行がないため繰り越せません" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "r7.xlsx").exists()
    with pytest.raises(XlsgenError, match="年度が列の表の列だけ"):
        rollforward_file(filled6, "R7", tmp_path / "r7.xlsx", extend_to="R8")


def test_unfilled_previous_year_is_warned_and_shaded(tmp_path):
    src = tmp_path / "blocks.xlsx"
    layout_workbooks.write_kpi_blocks(src)
    r5 = tmp_path / "r5.xlsx"
    rollforward_file(src, "R5", r5)
    r6 = tmp_path / "r6.xlsx"
    result = rollforward_file(fill(r5, tmp_path / "f.xlsx", {("施策1", "C22"): 1110}), "R6", r6)
    warned = {(f.sheet, f.cell) for f in result.findings if f.code == "missing-actual"}
    assert warned == {("施策1", "C12")}  # still 集計中; 施策2's 「－」 is the city's answer
    assert shaded(r6, "施策1", "C12")  # the cell the warning asks for is an input cell


# --- KPI blocks, years as columns (one KPI per sheet) ---------------------------------------


def test_blocks_columns_roll_and_extend(tmp_path):
    src = tmp_path / "per_sheet.xlsx"
    layout_workbooks.write_kpi_per_sheet(src)
    layout = with_roll(tmp_path, LAYOUTS / "kpi_per_sheet.yaml", history=())
    old = read_book(src, layout_file=layout)
    assert old.fiscal_year == 2017
    out = tmp_path / "per_sheet_H30.xlsx"
    result = rollforward_file(src, "H30", out, layout_file=layout)
    assert compare(src, out, changed(result), Package(src).sheets) == []
    wb = openpyxl.load_workbook(out)
    assert wb["KPI1"]["E6"].value is None and shaded(out, "KPI1", "E6")
    assert wb["KPI2"]["E6"].value == 60 and not shaded(out, "KPI2", "E6")  # reported already
    assert facts(read_book(out, layout_file=layout)) == facts(old)

    # a 第1期 KPI sheet whose years end at the target year (R2): R3 needs a new column
    b = tmp_path / "b.xlsx"
    city_corpus.write_kpi_sheets(b)
    layout = with_roll(tmp_path, LAYOUTS / "corpus" / "kpi_sheet_year_columns.yaml", history=())
    before = read_book(b, layout_file=layout)
    assert before.fiscal_year == 2021
    with pytest.raises(XlsgenError, match=r"R3年度の列がないため.*--extend-to R3"):
        rollforward_file(b, "R4", tmp_path / "b_R4.xlsx", layout_file=layout)
    b4 = tmp_path / "b_R4.xlsx"
    result = rollforward_file(b, "R4", b4, layout_file=layout, extend_to="R3")
    after = read_book(b4, layout_file=layout)
    assert facts(after) == facts(before)  # every value kept (its column moved right of I)
    wb, src_wb = openpyxl.load_workbook(b4), openpyxl.load_workbook(b)
    for m in after.measures:
        ws = wb[m.sheet]
        assert ws["I8"].value == "R3年度" and ws["J8"].value == src_wb[m.sheet]["I8"].value  # 目標値(R2) moved
        k = m.kpis[0]
        assert k.actual(2021).cell == "I10" and shaded(b4, m.sheet, "I10")
        assert ws["I10"].number_format == src_wb[m.sheet]["H10"].number_format
        assert ws["H11"].value == src_wb[m.sheet]["H11"].value  # the city's 達成率 formula
    assert any(f.code == "columns-added" for f in result.findings)


# --- one row per KPI ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def list_d(tmp_path_factory):
    d = tmp_path_factory.mktemp("list_d")
    plain = d / "d.xlsx"
    city_corpus.write_kpi_list(plain)
    return plain, with_roll(d, LAYOUTS / "corpus" / "kpi_list_departments.yaml", history=())


def test_rows_round_trip_keeps_every_fact_and_feature(list_d, tmp_path, recalc):
    plain, layout = list_d
    src = build(ROW_BOOK[0], tmp_path, src=plain, extra=ROW_BOOK[1:])
    old = read_book(src, layout_file=layout)
    assert old.fiscal_year == 2022
    r5 = tmp_path / "d_R5.xlsm"
    first = rollforward_file(src, "R5", r5, layout_file=layout)
    assert compare(src, r5, changed(first), Package(src).sheets) == []
    new = read_book(r5, layout_file=layout)
    # the 評価 column has no year of its own: it is the reported year's, so last year's marks
    # go to 過年度実績 (with their year) and the column is empty for the new year
    # (達成度 too where it is typed; its formulas stay)
    src_ws = openpyxl.load_workbook(src)["KPI一覧"]
    typed_cells = {(k.name, role): q.cell for m in old.measures for k in m.kpis
                   for role in ("grades", "achievements") for q in getattr(k, role)
                   if q.cell and not str(src_ws[q.cell].value).startswith("=")}
    marks = {key: v for key, v in facts(old).items() if key[2:] and (key[1], key[2]) in typed_cells}
    assert marks and {key[3] for key in marks} == {2021}
    assert facts(new) == {key: v for key, v in facts(old).items() if key not in marks}
    assert not [q for k in (k for m in new.measures for k in m.kpis) for q in k.grades if not q.is_empty]
    past = {(r[3], r[4], r[6]) for r in openpyxl.load_workbook(r5)[PAST_YEARS_SHEET].iter_rows(min_row=2, values_only=True)}
    for (_, name, role, _), (value, text, _) in marks.items():
        what = {"grades": "評価", "achievements": "達成率"}[role]
        assert (f"{name}（{what}）", "令和3年度", value if value is not None else text) in past
    wb, wb0 = openpyxl.load_workbook(r5), openpyxl.load_workbook(src)
    ws = wb["KPI一覧"]
    kpis = [k for m in new.measures for k in m.kpis]
    typed = {}
    for k in kpis:
        q = k.actual(2022)
        assert q.cell.startswith("M")
        if q.is_empty or q.status:
            assert shaded(r5, "KPI一覧", q.cell)
            assert ws[q.cell].number_format != "General" or q.status or \
                wb0["KPI一覧"][k.actual(2021).cell].number_format == "General"
            typed[("KPI一覧", q.cell)] = 100 + k.row
        else:
            assert not shaded(r5, "KPI一覧", q.cell)
    assert ws["M5"].value == "集計中" and ("KPI一覧", "M5") in typed
    assert ws["M4"].value == "実績値" and ws["L3"].value == "R4年度"  # the header already said so
    assert ws["O5"].value == wb0["KPI一覧"]["O5"].value == "=K5/J5"  # the city's 達成度 formula
    # in the city's own columns only the typed yearless marks were emptied; no formula changed
    assert all(("の評価の入力欄" in c.reason or "の達成率の入力欄" in c.reason) and not str(c.before).startswith("=")
               for c in first.changes if c.cell[0] in "NOP")
    # fill R4; R5 has no column: refused, or added with --extend-to
    filled = fill(r5, tmp_path / "d_R5_filled.xlsm", typed)
    back = read_book(filled, layout_file=layout)
    assert back.fiscal_year == 2023
    with pytest.raises(XlsgenError, match=r"R5年度の実績値の列がないため.*--extend-to R5"):
        rollforward_file(filled, "R6", tmp_path / "no.xlsm", layout_file=layout)
    r6 = tmp_path / "d_R6.xlsm"
    second = rollforward_file(filled, "R6", r6, layout_file=layout, extend_to="R5")
    problems = compare(filled, r6, changed(second), Package(filled).sheets)
    assert problems == [f"{Package(filled).sheets['KPI一覧']}: changed outside the edited cells"]
    newer = read_book(r6, layout_file=layout)
    assert facts(newer) == facts(back)  # every value kept, by KPI, role and year
    ws = openpyxl.load_workbook(r6)["KPI一覧"]
    assert (ws["N3"].value, ws["N4"].value, ws["O4"].value) == ("R5年度", "目標値", "実績値")
    assert "N3:O3" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["P3"].value == "最終目標値(R6)" and ws["Q5"].value == "=K5/J5"  # moved, same refs
    for k in (k for m in newer.measures for k in m.kpis):
        assert k.actual(2023).cell == f"O{k.row}" and shaded(r6, "KPI一覧", f"O{k.row}")
        assert k.target_of(2023).cell == f"N{k.row}" if k.target_of(2023) else True
        assert shaded(r6, "KPI一覧", f"N{k.row}")
    for name in ("xl/vbaProject.bin", "xl/printerSettings/printerSettings1.bin", "xl/comments1.xml"):
        assert part(r6, name) == part(src, name)
    wb6 = openpyxl.load_workbook(r6)
    assert wb6["KPI一覧"].data_validations.dataValidation  # kept
    assert "職員のメモ C5" in part(r6, "xl/comments1.xml").decode()
    # LibreOffice opens it; the moved 達成度 formula still reads the R3 columns
    back = openpyxl.load_workbook(recalc(r6), data_only=True)["KPI一覧"]
    assert back["Q6"].value == pytest.approx(151 / 140)


def test_rows_extend_refuses_what_it_cannot_move(list_d, tmp_path):
    """A drawing (chart) or a data bar on the sheet: the columns cannot be inserted safely;
    refused by name, nothing written."""
    plain, layout = list_d
    src = build("chart", tmp_path, src=plain, extra=("databars",))
    r5 = tmp_path / "r5.xlsx"
    rollforward_file(src, "R5", r5, layout_file=layout)
    typed = {("KPI一覧", k.actual(2022).cell): 1 for m in read_book(r5, layout_file=layout).measures
             for k in m.kpis}
    filled = fill(r5, tmp_path / "filled.xlsx", typed)
    with pytest.raises(XlsgenError, match="図形・画像・グラフ.*スパークライン・拡張書式"):
        rollforward_file(filled, "R6", tmp_path / "r6.xlsx", layout_file=layout, extend_to="R5")
    assert not (tmp_path / "r6.xlsx").exists()


def test_rows_shipped_layout_from_the_cli(tmp_path):
    """`kpi_list` (shipped, R5 edition, actual columns R2–R4 only): refused without
    --extend-to; with it the R5 (and R6) columns are added under the 実績値 heading."""
    src = tmp_path / "list.xlsx"
    layout_workbooks.write_kpi_list(src)
    old = read_book(src)
    assert (old.layout, old.fiscal_year) == ("kpi_list", 2023)
    out = tmp_path / "list_R6.xlsx"
    runner = CliRunner()
    res = runner.invoke(cli, ["rollforward", str(src), "--to", "R6", "-o", str(out)])
    assert res.exit_code == 1 and "--extend-to R5" in res.output and not out.exists()
    res = runner.invoke(cli, ["rollforward", str(src), "--to", "R6", "-o", str(out), "--extend-to", "R6"])
    assert res.exit_code == 0, res.output
    assert "R5年度の実績値の入力欄（列を追加）" in res.output and "R4年度の実績値が「集計中」のままです" in res.output
    new = read_book(out)
    assert facts(new) == facts(old)
    ws = openpyxl.load_workbook(out)["KPI一覧"]
    assert (ws["I4"].value, ws["J4"].value, ws["K3"].value) == ("R5年度", "R6年度", "目標値")
    assert "F3:J3" in {str(r) for r in ws.merged_cells.ranges}  # 実績値 over every year
    assert shaded(out, "KPI一覧", "H6")  # still 集計中: the warning's cell is shaded
    for m in new.measures:
        assert sorted(m.actual_years) == [2020, 2021, 2022, 2023, 2024]
        for k in m.kpis:
            assert shaded(out, "KPI一覧", f"I{k.row}") and ws[f"I{k.row}"].number_format == "#,##0"
            assert not shaded(out, "KPI一覧", f"J{k.row}")
    # filled, R7 needs no new column: R6 (J) becomes the input column, R5 loses its shading
    typed = {("KPI一覧", f"I{k.row}"): 10 + k.row for m in new.measures for k in m.kpis}
    filled = fill(out, tmp_path / "filled.xlsx", typed)
    r7 = tmp_path / "list_R7.xlsx"
    result = rollforward_file(filled, "R7", r7)
    assert not result.findings or all(f.code == "missing-actual" and f.cell == "H6" for f in result.findings)
    assert facts(read_book(r7)) == facts(read_book(filled))
    for (_, cell) in typed:
        assert not shaded(r7, "KPI一覧", cell) and shaded(r7, "KPI一覧", "J" + cell[1:])


def test_nishitokyo_has_no_year_columns_and_is_refused(tmp_path):
    res = CliRunner().invoke(cli, ["rollforward", str(NISHITOKYO), "--to", "R1", "-o", str(tmp_path / "x.xlsx")])
    assert res.exit_code == 1 and "繰り越し" in res.output and "Traceback" not in res.output


# --- year tables recorded by the reader (Measure.tables: cost blocks) ----------------------


def test_cost_block_closes_the_year(tmp_path):
    """A cost block (years as columns, R4 予算額): R4's budget goes to 過年度実績, its cells
    become input for the settled amounts, its header says 決算額 like R3's; the city's
    formulas (一般財源, 人件費, 総事業費, 単位コスト) are untouched."""
    src = tmp_path / "project_cost.xlsx"
    table_workbooks.write_project_cost(src)
    layout = with_roll(tmp_path, LAYOUTS / "tables" / "project_cost.yaml", history=())
    old = read_book(src, layout_file=layout)
    geometry = old.measures[0].tables["cost"]
    assert geometry["year_kinds"]["2022"] == "予算額"
    out = tmp_path / "project_cost_R5.xlsx"
    result = rollforward_file(src, "R5", out, layout_file=layout)
    assert compare(src, out, changed(result), Package(src).sheets) == []
    wb, wb0 = openpyxl.load_workbook(out), openpyxl.load_workbook(src)
    past = list(wb[PAST_YEARS_SHEET].iter_rows(min_row=2))
    for m in old.measures:
        ws, ws0 = wb[m.sheet], wb0[m.sheet]
        t = m.tables["cost"]
        col, head = t["year_columns"]["2022"], t["header_row"]
        assert ws[f"{col}{head + 1}"].value == "決算額"
        for r in range(t["first_row"], t["last_row"] + 1):
            was = ws0[f"{col}{r}"].value
            if isinstance(was, str) and was.startswith("="):
                assert ws[f"{col}{r}"].value == was  # the city's formula
            elif was is not None:
                assert ws[f"{col}{r}"].value is None and shaded(out, m.sheet, f"{col}{r}")
                row = next(p for p in past if p[1].value == m.sheet and p[7].value == f"{col}{r}")
                assert row[6].value == was and row[4].value == "令和4年度" and row[5].value == "予算額"
                if isinstance(was, (int, float)):
                    assert row[6].alignment.horizontal == "right"
                    assert row[6].number_format == (ws0[f"{col}{r}"].number_format
                                                    if ws0[f"{col}{r}"].number_format != "General" else
                                                    row[6].number_format)
        # the KPI table's R4 actual (its 実績値 row) is the input cell, not the target row
        k = m.kpis[0]
        assert shaded(out, m.sheet, k.actual(2022).cell) and not shaded(out, m.sheet, k.target_of(2022).cell)
    assert facts(read_book(out, layout_file=layout)) == facts(old)


def test_cost_block_round_trip(tmp_path):
    """R4 → R5 → fill → R6 on a book whose cost block has R5 計画: R5's plan values go to
    過年度実績 in turn; the R4 settled amounts typed by the clerk stay."""
    src = tmp_path / "management_cost.xlsx"
    table_workbooks.write_management_cost(src)
    layout = with_roll(tmp_path, LAYOUTS / "tables" / "management_cost.yaml", history=())
    r5 = tmp_path / "r5.xlsx"
    first = rollforward_file(src, "R5", r5, layout_file=layout)
    assert compare(src, r5, changed(first), Package(src).sheets) == []
    book = read_book(r5, layout_file=layout)
    typed = {}
    for m in book.measures:
        t = m.tables["cost"]
        col = t["year_columns"]["2022"]
        for r in range(t["first_row"], t["last_row"] + 1):
            if shaded(r5, m.sheet, f"{col}{r}"):
                typed[(m.sheet, f"{col}{r}")] = 1000 + r
        for k in m.kpis:
            typed[(m.sheet, k.actual(2022).cell)] = 50
    filled = fill(r5, tmp_path / "filled.xlsx", typed)
    r6 = tmp_path / "r6.xlsx"
    second = rollforward_file(filled, "R6", r6, layout_file=layout)
    assert compare(filled, r6, changed(second), Package(filled).sheets) == []
    ws = openpyxl.load_workbook(r6)
    for (sheet, cell), v in typed.items():
        assert ws[sheet][cell].value == v and not shaded(r6, sheet, cell)
    past = [r for r in ws[PAST_YEARS_SHEET].iter_rows(min_row=2, values_only=True)]
    assert {r[0] for r in past} == {"R4年度版", "R5年度版"}
    assert {r[5] for r in past if r[0] == "R5年度版"} == {"計画"}
    assert facts(read_book(r6, layout_file=layout)) == facts(read_book(filled, layout_file=layout))


# --- the edition sheets (issue 19) ---------------------------------------------------------


def test_joso_budget_inputs_are_shaded_and_archived_amounts_are_numbers(tmp_path):
    out = tmp_path / "joso_R4.xlsx"
    result = rollforward_file(JOSO, "R4", out)
    wb = openpyxl.load_workbook(out)
    asked = [f for f in result.findings if f.code == "missing-budget"]
    assert len(asked) == 2
    for f in asked:
        cell = wb[f.sheet][f.cell]
        assert cell.fill.fgColor.rgb == INPUT_FILL_RGB and cell.number_format == "#,##0"
        right = wb[f.sheet][f"D{cell.row}"]  # うち特定財源 of the same row
        assert right.fill.fgColor.rgb == INPUT_FILL_RGB
    amounts = [r[5:7] for r in wb[PAST_YEARS_SHEET].iter_rows(min_row=2)]
    numbers = [c for row in amounts for c in row if isinstance(c.value, (int, float))]
    assert len(numbers) >= 6
    assert all(c.data_type == "n" and c.number_format == "#,##0" and c.alignment.horizontal == "right"
               for c in numbers)
    assert FORMULA_MAP_SHEET not in wb.sheetnames  # no formulas in the book: no empty formula map


ADDED = (CHECK_HISTORY_SHEET, PAST_YEARS_SHEET, CHANGE_LOG_SHEET, FORMULA_MAP_SHEET)


def header_of(path, sheet: str) -> tuple[str, str]:
    xml = sheet_part(path, sheet)
    head = re.search(r"<oddHeader>(.*?)</oddHeader>", xml, re.S)
    foot = re.search(r"<oddFooter>(.*?)</oddFooter>", xml, re.S)
    unx = lambda s: s.replace("&amp;", "&")  # noqa: E731
    return unx(head.group(1)) if head else "", unx(foot.group(1)) if foot else ""


@pytest.fixture(scope="module")
def editions(tmp_path_factory, blocks_e, list_d):
    """One edition of each kind, as the CLI writes it: kind → (path, RollResult)."""
    d = tmp_path_factory.mktemp("editions")
    out = {}

    def roll(kind, src, to, name, **kw):
        out[kind] = (d / name, rollforward_file(src, to, d / name, **kw))

    roll("sheet", ROOT / "inputs" / "ojiya_進行管理シート_R3.xlsx", "R4", "ojiya_R4.xlsx")
    roll("project_sheets", JOSO, "R4", "joso_R4.xlsx")
    e = d / "e.xlsx"
    city_corpus.write_kpi_blocks_years_rows(e)
    roll("block", e, "R5", "e_R5.xlsx", layout_file=blocks_e[1])
    src = d / "list.xlsx"
    layout_workbooks.write_kpi_list(src)
    roll("row", src, "R6", "list_R6.xlsx", extend_to="R6")
    cost = d / "management_cost.xlsx"
    table_workbooks.write_management_cost(cost)
    roll("cost", cost, "R5", "cost_R5.xlsx",
         layout_file=with_roll(d, LAYOUTS / "tables" / "management_cost.yaml", history=()))
    return out


def test_added_sheets_carry_a_print_header_naming_the_book_and_edition(editions):
    expected = {"sheet": ("【小千谷市総合戦略】進行管理シート", "令和4年度版"),
                "project_sheets": ("常総市", "令和4年度版"),
                "block": ("令和5年度 施策の進捗評価シート", "令和5年度版"),
                "row": ("第2期総合戦略 KPI一覧", "令和6年度版"),
                "cost": ("事務事業", "令和5年度版")}
    for kind, (path, _) in editions.items():
        names = openpyxl.load_workbook(path, read_only=True).sheetnames
        added = [s for s in names if s in ADDED]
        assert CHANGE_LOG_SHEET in added, kind
        for sheet in added:
            head, foot = header_of(path, sheet)
            for word in (*expected[kind], "&A", "&D"):
                assert word in head, (kind, sheet, head)
            assert "&P / &N" in foot
            xml = sheet_part(path, sheet)
            assert 'fitToWidth' not in xml and 'fitToPage' not in xml  # printed at full size


def test_formula_map_only_when_the_book_has_formulas(editions):
    for kind, (path, _) in editions.items():
        names = openpyxl.load_workbook(path, read_only=True).sheetnames
        has = any(re.search(rb"<f[ >]", part(path, p)) for s, p in Package(path).sheets.items() if s not in ADDED)
        assert (FORMULA_MAP_SHEET in names) == has, kind
        if has:
            rows = list(openpyxl.load_workbook(path)[FORMULA_MAP_SHEET].iter_rows(min_row=2, values_only=True))
            assert rows and all(r[2] for r in rows)


def test_an_old_formula_map_says_there_are_none_now(tmp_path):
    """An earlier edition's 数式一覧 in a book that has no formulas any more is rewritten to
    say so (not left stale, not an empty page)."""
    src = tmp_path / "blocks.xlsx"
    layout_workbooks.write_kpi_blocks(src)
    wb = openpyxl.load_workbook(src)
    ws = wb.create_sheet(FORMULA_MAP_SHEET)  # xlsgen's own list of an earlier edition
    ws.append(["シート", "セル", "数式（例）", "説明"])
    ws.append(["施策1", "D10", "C10/B10", "古い一覧"])
    wb.save(src)
    out = tmp_path / "out.xlsx"
    rollforward_file(src, "R5", out)
    rows = list(openpyxl.load_workbook(out)[FORMULA_MAP_SHEET].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1 and "数式がありません" in rows[0][3]


def only_added(path: Path, dst: Path) -> Path:
    """A copy whose city sheets are hidden: printing it prints the sheets the roll added."""
    shutil.copy(path, dst)
    pkg = Package(dst)
    xml = pkg.text(pkg.workbook_part)
    names = re.findall(r'<sheet\b[^>]*\sname="([^"]*)"', xml)
    first = next(i for i, n in enumerate(names) if n in ADDED)

    def hide(m):
        tag = re.sub(r'\sstate="[^"]*"', "", m.group(0))
        return tag if m.group(1) in ADDED else tag.replace("<sheet ", '<sheet state="hidden" ', 1)
    xml = re.sub(r'<sheet\b[^>]*\sname="([^"]*)"[^>]*/>', hide, xml)
    xml = re.sub(r'\sactiveTab="\d+"', "", xml).replace("<workbookView ", f'<workbookView activeTab="{first}" ', 1)
    xml = re.sub(r'\sfirstSheet="\d+"', "", xml)
    pkg.put(pkg.workbook_part, xml)
    pkg.write(dst.with_suffix(".tmp.xlsx"))
    dst.unlink()
    return dst.with_suffix(".tmp.xlsx").rename(dst)


def test_added_sheets_print_readably(editions, tmp_path):
    """LibreOffice opens every edition; its added sheets print with nothing overprinted or
    cut, at readable type (word height median ≥ 6.8 pt, 5th percentile ≥ 5.8 pt) and with
    the running header on every page."""
    from tests import printcheck
    from tests.test_print import _need_tools
    from xlsgen import libreoffice

    _need_tools()
    for kind, (path, _) in editions.items():
        copy = only_added(path, tmp_path / f"{kind}.xlsx")
        pdf = libreoffice.to_pdf(copy, tmp_path / "pdf")
        assert not printcheck.overprints(pdf), kind
        missing, total = printcheck.clipped(copy, pdf)
        assert total >= 5 and not missing, (kind, missing[:5])
        sizes = printcheck.type_sizes(pdf)
        assert sizes and all(med >= 6.8 and p5 >= 5.8 for med, p5 in sizes), (kind, sizes)
        for top, bottom in printcheck.edges(pdf):
            assert "年度版" in top and "/" in bottom, (kind, top, bottom)


def test_every_cell_asked_for_is_shaded(editions):
    """Each cell the change log calls an input cell (入力欄), and each cell a warning asks
    the clerk to fill, is shaded in the edition."""
    for kind, (path, result) in editions.items():
        wb = openpyxl.load_workbook(path)
        rows = list(wb[CHANGE_LOG_SHEET].iter_rows(min_row=2, values_only=True))
        asked = {(r[0], r[1]) for r in rows if "入力欄" in (r[4] or "")}
        warned = {(f.sheet, f.cell) for f in result.findings if f.cell and f.code.startswith("missing-")}
        assert asked or warned, kind
        asked |= warned
        for sheet, cell in asked:
            assert wb[sheet][cell].fill.fgColor.rgb == INPUT_FILL_RGB, (kind, sheet, cell)
        # the change log lists real changes only: a value changed, or what else did
        assert all(r[2] != r[3] for r in rows), (kind, [r for r in rows if r[2] == r[3]][:3])


def test_validate_finds_the_same_in_the_rolled_edition(tmp_path, blocks_e):
    """A roll adds no finding: `validate` on the new edition says what it said before."""
    from xlsgen.validate import validate_book

    def codes(path, layout=None):
        book = read_book(path, layout_file=layout)
        return sorted((f.code, f.sheet, f.cell) for f in [*book.findings, *validate_book(book)])

    e = tmp_path / "e.xlsx"
    city_corpus.write_kpi_blocks_years_rows(e)
    layout = blocks_e[1]
    rollforward_file(e, "R5", tmp_path / "e5.xlsx", layout_file=layout)
    assert codes(tmp_path / "e5.xlsx", layout) == codes(e, layout) == []
    lst = tmp_path / "list.xlsx"
    layout_workbooks.write_kpi_list(lst)
    rollforward_file(lst, "R6", tmp_path / "l6.xlsx", extend_to="R6")
    assert codes(tmp_path / "l6.xlsx") == codes(lst)
    cost = tmp_path / "cost.xlsx"
    table_workbooks.write_management_cost(cost)
    layout = with_roll(tmp_path, LAYOUTS / "tables" / "management_cost.yaml", history=())
    rollforward_file(cost, "R5", tmp_path / "c5.xlsx", layout_file=layout)
    assert codes(tmp_path / "c5.xlsx", layout) == codes(cost, layout) == []


def test_project_amounts_table_closes_the_year(tmp_path):
    """The planner of year tables on a project-lines table (`holds: projects`: 決算額 R2–R3
    under one merged heading, 予算額 R4): R4's budget goes to 過年度実績, its cells become
    input for the settled amounts, its heading says 決算額; the total line (formulas) stays."""
    from xlsgen.kinds.roll import plan_year_tables
    from xlsgen.package import Workbook

    src = tmp_path / "measure_projects.xlsx"
    table_workbooks.write_measure_projects(src)
    book = read_book(src, layout_file=LAYOUTS / "tables" / "measure_projects.yaml")
    m = book.measures[0]
    t = m.tables["projects"]
    assert (t["holds"], t["year_roles"]["2022"], t["year_kinds"]["2022"]) == ("projects", "budget", "予算額")
    snap = Workbook(Package(src)).snapshot()
    plan = Plan()
    plan_year_tables(plan, book, m, snap, 2023)
    col = t["year_columns"]["2022"]
    edits = {e.cell: e for e in plan.edits}
    head = edits[f"{col}{t['header_row']}"]
    assert head.value == "決算額"  # like R2–R3's merged heading
    lines = range(t["first_row"], t["last_row"] + 1)
    assert {f"{col}{r}" for r in lines} <= set(edits)
    assert all(edits[f"{col}{r}"].value is None and edits[f"{col}{r}"].shade for r in lines)
    archived = plan.history[PAST_YEARS_SHEET]
    assert [(r[3], r[4], r[5], r[6].value, r[7]) for r in archived] == [
        (line.name, "令和4年度", "予算額", a.value.value, a.value.cell)
        for line in m.projects for a in line.amounts if a.fiscal_year == 2022]
    assert not [e for e in plan.edits if e.cell == f"{col}{t['last_row'] + 1}"]  # 合計: the city's formula
    out = tmp_path / "out.xlsx"
    pkg = Package(src)
    apply_plan(pkg, plan)
    pkg.write(out)
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert ws[f"{col}{t['last_row'] + 1}"].value.startswith("=SUM(")
    assert all(shaded(out, m.sheet, f"{col}{r}") for r in lines)

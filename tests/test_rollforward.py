"""xlsgen rollforward, 小千谷 layout: round trips, refusals, determinism, look, hypothesis."""

from __future__ import annotations

import hashlib
import shutil

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import OJIYA
from xlsgen.cli import cli
from xlsgen.errors import XlsgenError
from xlsgen.layout import read_book
from xlsgen.model import CHANGE_LOG_SHEET as LOG_SHEET
from xlsgen.model import CHECK_HISTORY_SHEET as CHECK_SHEET
from xlsgen.model import PAST_YEARS_SHEET as PAST_SHEET
from xlsgen.render.edition import INPUT_FILL_RGB
from xlsgen.rollforward import rollforward_file


def kpi_facts(book) -> dict:
    """Every KPI fact with its cell: (sheet, row, field, year) → (value, unit, text). The
    cost column (事業費, the closed year's) is `cost_facts`: a roll archives it."""
    out = {}
    for s in book.measures:
        for k in s.kpis:
            for q in [k.baseline, *k.actuals, k.target]:
                if q is not None and not q.is_empty:
                    out[(s.sheet, q.cell, k.name, k.category)] = (q.value, q.unit, q.text, q.qualifier)
    return out


def cost_facts(book) -> dict:
    """(sheet, cell) → value of every 事業費 cell with a value."""
    return {(s.sheet, k.cost.cell): k.cost.value for s in book.measures for k in s.kpis
            if k.cost is not None and not k.cost.is_empty}


def plan_facts(book) -> dict:
    return {s.sheet: (s.number, s.title, s.strategy_page, s.basic_goal, s.basic_policy, s.measure,
                      s.departments, s.purpose, [p.to_dict() for p in s.projects],
                      s.baseline_year) for s in book.measures}


def history(path, sheet=CHECK_SHEET) -> list[tuple]:
    ws = openpyxl.load_workbook(path)[sheet]
    return [tuple(r) for r in ws.iter_rows(min_row=2, values_only=True)]


def log_cells(path) -> dict:
    ws = openpyxl.load_workbook(path)[LOG_SHEET]
    return {(r[0], r[1]): r for r in ws.iter_rows(min_row=2, values_only=True)}


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def r4(tmp_path_factory):
    out = tmp_path_factory.mktemp("r4") / "ojiya_R4.xlsx"
    before = sha(OJIYA)
    result = rollforward_file(OJIYA, "R4", out)
    assert sha(OJIYA) == before, "the input must not change"
    return out, result


def test_r4_keeps_every_fact_and_opens_r3_for_input(r4):
    out, result = r4
    old, new = read_book(OJIYA), read_book(out)
    assert (old.fiscal_year, new.fiscal_year) == (2021, 2022)
    assert kpi_facts(new) == kpi_facts(old) and kpi_facts(old)
    assert plan_facts(new) == plan_facts(old)
    ws = openpyxl.load_workbook(out)
    log = log_cells(out)
    n = 0
    for s in new.measures:
        assert s.extra["reported_years"] == [2020, 2021]
        assert ws[s.sheet][f"{s.year_columns[2021]}{s.kpi_header_row}"].value == "R3年度\n(実績値)"
        for k in s.kpis:
            q = k.actual(2021)
            assert q.is_empty and q.cell == f"{s.year_columns[2021]}{k.row}"
            assert ws[s.sheet][q.cell].fill.fgColor.rgb == INPUT_FILL_RGB
            assert "入力欄" in log[(s.sheet, q.cell)][4]
            n += 1
        assert s.texts_of("check_analysis") == [] and s.texts_of("check_next") == []
    assert n == 72
    # the old Check texts are kept, with the cells they came from
    rows = {(r[1], r[6].split(",")[0]): r for r in history(out)}  # one row per block
    for s in old.measures:
        row = rows[(s.sheet, s.cells["check_analysis"])]
        assert row[0] == "R3年度版" and row[4] == " ".join(s.texts_of("check_analysis")[0].label.split())
        assert [t.text for t in s.texts_of("check_analysis")][0] in row[5]
        nxt = next(r for (sheet, _), r in rows.items() if sheet == s.sheet and r is not row)
        assert [t.text for t in s.texts_of("check_next")][-1] in nxt[5]
    # the old 今後の取組 is shown where this year's analysis is written
    comment = ws["01"]["A22"].comment.text
    assert "今後の取組" in comment and "アンケートの結果を反映し" in comment
    # 事業費 is the closed year's: its header names R3, its old values are archived (numbers,
    # right-aligned, #,##0) and its cells are shaded input cells for the R3 amounts
    costs = cost_facts(old)
    assert len(costs) == 48 and cost_facts(new) == {}
    past = openpyxl.load_workbook(out)[PAST_SHEET]
    archived = {(r[1].value, r[7].value): r[6] for r in past.iter_rows(min_row=2)}
    assert {key: c.value for key, c in archived.items()} == costs
    assert all(c.number_format == "#,##0" and c.alignment.horizontal == "right" for c in archived.values())
    assert all(r[4] == "（見出しに年度なし）" and r[0] == "R3年度版" for r in past.iter_rows(min_row=2, values_only=True))
    for s in new.measures:
        assert ws[s.sheet][f"J{s.kpi_header_row}"].value == "事業費(千円)\n(R3年度)"
        for k in s.kpis:
            cell = ws[s.sheet][k.cost.cell]
            assert cell.value is None and cell.fill.fgColor.rgb == INPUT_FILL_RGB
            assert cell.number_format != "General"


def test_fill_r3_then_roll_to_r5_loses_nothing(r4, tmp_path):
    out, _ = r4
    filled = tmp_path / "ojiya_R4_filled.xlsx"
    shutil.copy(out, filled)
    wb = openpyxl.load_workbook(filled)
    book = read_book(out)
    typed = {}
    for i, s in enumerate(book.measures):
        for j, k in enumerate(s.kpis):
            cell = k.actual(2021).cell
            typed[(s.sheet, cell)] = v = (i * 7 + j) % 50 + 1
            percent = "%" in wb[s.sheet][cell].number_format  # Excel stores 3% as 0.03
            wb[s.sheet][cell] = v / 100 if percent else v
    wb["01"]["A22"] = "【企画政策課】\nR3の分析"
    wb["02"]["J16"] = 1234  # the R3 事業費, typed where the R4 edition asks for it
    wb.save(filled)
    back = read_book(filled)
    for s in back.measures:
        for k in s.kpis:
            assert k.actual(2021).value == pytest.approx(typed[(s.sheet, k.actual(2021).cell)])
    r5 = tmp_path / "ojiya_R5.xlsx"
    result = rollforward_file(filled, "R5", r5)
    assert not [f for f in result.findings if f.code == "missing-actual"]
    new = read_book(r5)
    assert new.fiscal_year == 2023
    assert kpi_facts(new) == kpi_facts(back)
    assert set(kpi_facts(read_book(OJIYA))) <= set(kpi_facts(new))
    ws5 = openpyxl.load_workbook(r5)["01"]
    assert ws5["F17"].value == typed[("01", "F17")]
    assert ws5["F17"].fill.fgColor.rgb == ws5["E17"].fill.fgColor.rgb  # filled: no longer yellow
    assert ws5["G17"].fill.fgColor.rgb == "FFFFF2CC"  # R4 now the year to fill
    # 事業費 now names R4; the R3 amount typed in the R4 edition is archived with its year
    assert ws5["J15"].value == "事業費(千円)\n(R4年度)" and ws5["J16"].fill.fgColor.rgb == "FFFFF2CC"
    past = [r for r in history(r5, PAST_SHEET) if r[0] == "R4年度版"]
    assert [(r[1], r[4], r[6], r[7]) for r in past] == [("02", "令和3年度", 1234, "J16")]
    editions = [r[0] for r in history(r5) if r[1] == "01"]
    assert editions == ["R3年度版", "R3年度版", "R4年度版", "R4年度版"]  # 分析 and 取組 each year
    assert any("R3の分析" in (r[5] or "") for r in history(r5))
    # rolling the unfilled R4 edition warns about the empty R3 actuals, with their cells
    unfilled = rollforward_file(out, "R5", tmp_path / "unfilled_R5.xlsx")
    warned = {(f.sheet, f.cell) for f in unfilled.findings if f.code == "missing-actual"}
    assert warned == set(typed)


def test_refusals(tmp_path):
    with pytest.raises(XlsgenError, match="翌年度"):
        rollforward_file(OJIYA, "R5", tmp_path / "x.xlsx")
    with pytest.raises(XlsgenError, match="翌年度"):
        rollforward_file(OJIYA, "2021", tmp_path / "x.xlsx")
    res = CliRunner().invoke(cli, ["rollforward", str(OJIYA), "--to", "令和6年度", "-o", str(tmp_path / "x.xlsx")])
    assert res.exit_code == 1 and "繰り越せません" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x.xlsx").exists()


def test_past_target_year_needs_extend_to(tmp_path):
    path = OJIYA
    for to in ("R4", "R5", "R6"):
        nxt = tmp_path / f"o_{to}.xlsx"
        rollforward_file(path, to, nxt)
        path = nxt
    with pytest.raises(XlsgenError, match="--extend-to"):
        rollforward_file(path, "R7", tmp_path / "o_R7.xlsx")
    before = read_book(path)
    rollforward_file(path, "R7", tmp_path / "o_R7.xlsx", extend_to="R8")
    after = read_book(tmp_path / "o_R7.xlsx")
    assert after.fiscal_year == 2025
    for a, b in zip(before.measures, after.measures):
        assert b.target_year == 2026 and 2024 in b.actual_years and 2025 in b.actual_years
        for ka, kb in zip(a.kpis, b.kpis):
            assert (kb.baseline.text, kb.target.text) == (ka.baseline.text, ka.target.text)
            assert [q.text for q in ka.actuals] == [q.text for q in kb.actuals][: len(ka.actuals)]
            if ka.cost and not ka.cost.is_empty:
                assert kb.cost.value == ka.cost.value


def test_deterministic(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    rollforward_file(OJIYA, "R4", a)
    rollforward_file(OJIYA, 2022, b)
    assert a.read_bytes() == b.read_bytes()


def look(cell) -> tuple:
    """The cell's style; False and None mean the same (openpyxl does not write False back)."""
    return tuple(repr(x).replace("=False", "=None")
                 for x in (cell.font, cell.border, cell.alignment, cell.fill, cell.protection))


def test_look_is_kept(r4):
    out, result = r4
    src, dst = openpyxl.load_workbook(OJIYA), openpyxl.load_workbook(out)
    changed = {(c.sheet, c.cell) for c in result.changes}
    for ws in src.worksheets:
        new = dst[ws.title]
        assert sorted(map(str, ws.merged_cells.ranges)) == sorted(map(str, new.merged_cells.ranges))
        assert {k: d.width for k, d in ws.column_dimensions.items()} == \
            {k: d.width for k, d in new.column_dimensions.items()}
        assert {k: d.height for k, d in ws.row_dimensions.items()} == \
            {k: d.height for k, d in new.row_dimensions.items()}
        assert (ws.page_setup.orientation, ws.page_setup.paperSize, ws.sheet_properties.pageSetUpPr.fitToPage) == \
            (new.page_setup.orientation, new.page_setup.paperSize, new.sheet_properties.pageSetUpPr.fitToPage)
        for row in ws.iter_rows():
            for c in row:
                d = new[c.coordinate]
                if (ws.title, c.coordinate) in changed:
                    assert look(d)[:3] == look(c)[:3], c.coordinate
                    continue
                assert (d.value, d.number_format, *look(d)) == (c.value, c.number_format, *look(c)), \
                    c.coordinate


def test_heisei_labels_are_rewritten_and_logged(tmp_path):
    src = tmp_path / "heisei.xlsx"
    wb = openpyxl.load_workbook(OJIYA)
    for ws in wb.worksheets:
        ws["H15"] = "H35年度"
        ws["I15"] = "H36年度\n(目標値)"
    wb["01"]["E17"] = "=危険な文字列"  # text typed by a clerk, not a formula
    wb["01"]["E17"].data_type = "s"
    wb.save(src)
    out = tmp_path / "out.xlsx"
    result = rollforward_file(src, "R4", out)
    ws = openpyxl.load_workbook(out)["01"]
    assert (ws["H15"].value, ws["I15"].value) == ("R5年度", "R6年度\n(目標値)")
    assert ws["E17"].data_type == "s" and ws["E17"].value == "=危険な文字列"
    era = [c for c in result.changes if "令和に書き換え" in c.reason]
    assert len(era) == 66 and {(c.before, c.after) for c in era if c.cell == "H15"} == {("H35年度", "R5年度")}
    assert read_book(out).measures[0].target_year == 2024


def test_formulas_are_kept_and_listed(tmp_path):
    src = tmp_path / "f.xlsx"
    wb = openpyxl.load_workbook(OJIYA)
    wb["01"]["J17"] = "=D17+E17"
    wb.save(src)
    out = tmp_path / "out.xlsx"
    rollforward_file(src, "R4", out)
    wb = openpyxl.load_workbook(out)
    assert wb["01"]["J17"].value == "=D17+E17"
    rows = list(wb["数式一覧"].iter_rows(min_row=2, values_only=True))
    assert any(r[0] == "01" and "D17" in str(r[2]) for r in rows)


def test_cli_prints_summary(tmp_path):
    out = tmp_path / "o.xlsx"
    res = CliRunner().invoke(cli, ["rollforward", str(OJIYA), "--to", "R4", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "令和3年度版 → 令和4年度版" in res.output and "実績値の入力欄" in res.output
    assert "01!F15: R3年度 → R3年度 (実績値)" in res.output


def test_opens_in_libreoffice(r4, tmp_path):
    """LibreOffice opens the R4 edition and reads every sheet, the added ones included."""
    from tests.conftest import need_libreoffice
    from xlsgen import libreoffice

    need_libreoffice()
    (sheets,) = libreoffice.sheet_names_many([r4[0]], tmp_path / "csv")
    expected = openpyxl.load_workbook(r4[0], read_only=True).sheetnames
    assert sorted(sheets) == sorted(expected) and len(sheets) == 36
    assert (tmp_path / "csv").joinpath(f"0000_{r4[0].stem}-01.csv").stat().st_size > 100


# --- hypothesis: generated 小千谷-layout workbooks -------------------------------------

FORMATS = ["General", "#,##0\\件", "#,##0\\人", "0.0%", "#,##0"]
names = st.text(st.sampled_from("あいうえお指標件数率市民施設ABC１２３（）/"), min_size=1, max_size=12) \
    .filter(lambda s: s.strip() and not s.strip().startswith(("※", "注", "合計", "計", "小計")))
values = st.one_of(st.none(), st.integers(0, 10_000), st.floats(0, 1, allow_nan=False).map(lambda x: round(x, 3)),
                   st.sampled_from(["-", "整備完了", "3日以上", "R6着手予定", "=文字"]))
kpi = st.tuples(names, st.lists(values, min_size=6, max_size=6), st.sampled_from(FORMATS))


def make_book(path, kpis, texts):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "01"
    ws["A1"], ws["I1"], ws["J1"] = "【小千谷市総合戦略】進行管理シート", "シート№", "01"
    ws["A3"] = "■ 計画（Plan）"
    for r, (label, name) in enumerate((("基本目標", "目標"), ("基本方針", "方針"), ("施策項目", "施策")), start=4):
        ws[f"A{r}"], ws[f"B{r}"], ws[f"C{r}"] = label, 1, name
    ws["A7"], ws["B7"] = "担当課", "【企画政策課】"
    ws["A8"] = "■ 実施（Do）"
    header = ["区分", "重要業績評価指標（KPI)", None, "H30年度\n(基準値)", "R2年度\n(実績値)", "R3年度",
              "R4年度", "R5年度", "R6年度\n(目標値)", "事業費\n(千円)"]
    for c, h in enumerate(header, start=1):
        ws.cell(9, c, h)
    for i, (name, vals, fmt) in enumerate(kpis):
        r = 10 + i
        ws.cell(r, 1, "商工")
        ws.cell(r, 2, name).data_type = "s"
        for c, v in zip((4, 5, 6, 7, 8, 9), vals):
            if c in (6, 7, 8):
                v = None  # not yet reported
            cell = ws.cell(r, c, v)
            if isinstance(v, str):
                cell.data_type = "s"
            cell.number_format = fmt
    r = 10 + len(kpis)
    ws[f"A{r}"] = "■ 評価（Check）"
    ws[f"A{r + 1}"], ws[f"F{r + 1}"] = "（１）現状分析（実績値を踏まえた課題・問題点等）", "（２）課題等を踏まえた今後の取組"
    ws[f"A{r + 2}"], ws[f"F{r + 2}"] = texts
    ws[f"A{r + 2}"].data_type = ws[f"F{r + 2}"].data_type = "s"
    wb.save(path)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kpis=st.lists(kpi, min_size=1, max_size=5),
       texts=st.tuples(st.text("あいう課題【】\n=", min_size=1, max_size=30).filter(str.strip),
                       st.text("かきく取組【】\n", min_size=1, max_size=30).filter(str.strip)))
def test_hypothesis_rollforward_keeps_every_fact(tmp_path, kpis, texts):
    src, out = tmp_path / "g.xlsx", tmp_path / "g_R4.xlsx"
    make_book(src, kpis, texts)
    old = read_book(src)
    assert old.fiscal_year == 2021
    rollforward_file(src, "R4", out, force=True)  # each example writes the same output
    new = read_book(out)
    assert new.fiscal_year == 2022
    assert kpi_facts(new) == kpi_facts(old)
    assert [k.name for k in new.measures[0].kpis] == [k.name for k in old.measures[0].kpis]
    rows = history(out)
    assert (rows[0][5], rows[1][5]) == texts

"""xlsgen build: a council document first (一覧, measure pages, then 参考 sheets); every
calculation on the calculation sheet (one row per KPI and year, each column one formula)
agreeing with LibreOffice; inputs move results; the formula map tells the truth and the
audit agrees with it; every section of the one model shows; protected, safe with
formula-like text, byte-stable."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.formula.translate import Translator
from openpyxl.utils import range_boundaries

from tests.conftest import JOSO, NISHITOKYO, OJIYA, need_libreoffice
from xlsgen import libreoffice
from xlsgen.audit import audit_workbook
from xlsgen.audit.formula import parse_formula
from xlsgen.cli import cli
from xlsgen.measures import (
    ReportBook,
    ReportCost,
    ReportCostLine,
    ReportKpi,
    ReportMeasure,
    ReportProjectLine,
)
from xlsgen.model import Direction, ProjectLine, Quantity, TargetKind
from xlsgen.render.report import write_report

MAP_CHECK = Path("/work/shared/tools/formula_map_check.py")
REFERENCE = ["計算", "データ", "設定", "数式一覧"]


def formula_cells(path_or_wb) -> list[tuple[str, str]]:
    wb = path_or_wb if isinstance(path_or_wb, openpyxl.Workbook) else openpyxl.load_workbook(path_or_wb)
    return [(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.data_type == "f"]


def same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return b == pytest.approx(a, rel=1e-12, abs=1e-12)
    return (a if a != "" else None) == (b if b != "" else None)


KEYS = ("ojiya", "joso", "nishitokyo")
EDITED_KPI = "鉄工電子組合技能士合格者数（累計）"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The three cities' reports, built once by the CLI (inputs checked untouched)."""
    out = tmp_path_factory.mktemp("reports")
    books = {}
    for key, src in (("ojiya", OJIYA), ("joso", JOSO), ("nishitokyo", NISHITOKYO)):
        before = hashlib.sha256(src.read_bytes()).hexdigest()
        path = out / f"{key}.xlsx"
        res = CliRunner().invoke(cli, ["build", str(src), "-o", str(path)])
        assert res.exit_code == 0, res.output
        assert hashlib.sha256(src.read_bytes()).hexdigest() == before
        books[key] = path
    return books


def _calc_cell(calc) -> tuple[int, int]:
    """(row, col) of the R2 (2020) actual of EDITED_KPI on the calculation sheet."""
    col = {c.value: c.column for c in calc[2] if c.value}
    row = next(r for r in range(3, calc.max_row + 1)
               if calc.cell(r, col["指標名"]).value == EDITED_KPI
               and calc.cell(r, col["年度\n（西暦）"]).value == 2020)
    return row, col["実績値\n（入力）"]


@pytest.fixture(scope="module")
def recalculated(built, tmp_path_factory):
    """The three reports and a copy of the 小千谷 report with one actual typed over on the
    calculation sheet (176 → 220), recalculated by one LibreOffice process (starting it
    costs more than a workbook): key → recalculated copy; `edited` → (edited report, its
    recalculated copy)."""
    need_libreoffice()
    d = tmp_path_factory.mktemp("recalc")
    edited = d / "ojiya_edited.xlsx"
    wb = openpyxl.load_workbook(built["ojiya"])
    row, col = _calc_cell(wb["計算"])
    assert wb["計算"].cell(row, col).value == 176  # baseline 163, target 220
    wb["計算"].cell(row, col).value = 220
    wb.save(edited)
    backs = libreoffice.recalculate_many([built[k] for k in KEYS] + [edited], d / "out")
    return {**dict(zip(KEYS, backs)), "edited": (edited, backs[-1])}


@pytest.mark.parametrize("key", KEYS)
def test_build_shipped_workbook(built, recalculated, key):
    out = built[key]
    wb = openpyxl.load_workbook(out)
    # every formula's cached value equals LibreOffice's recalculated value
    cells = formula_cells(wb)
    assert len(cells) > 20
    cached = openpyxl.load_workbook(out, data_only=True)
    fresh = openpyxl.load_workbook(recalculated[key], data_only=True)
    diffs = [(s, a, cached[s][a].value, fresh[s][a].value) for s, a in cells
             if not same(cached[s][a].value, fresh[s][a].value)]
    assert diffs == []

    names = wb.sheetnames
    # a council document first: 一覧, the measure pages, then the reference sheets
    assert names[0] == "一覧" and names[-5:] == ["評価の分布", *REFERENCE]
    assert {"評価A", "評価B", "評価C", "評価年度", "基準近接", "評価の基準"} <= set(wb.defined_names)
    for name in names[1:-5]:
        page = wb[name]
        # A4, a print scale of its own (never fit to page), print area and titles
        assert page.page_setup.paperSize == 9 and page.print_area
        assert not page.sheet_properties.pageSetUpPr or not page.sheet_properties.pageSetUpPr.fitToPage
        assert int(page.page_setup.scale or 100) >= 75
        assert page.print_title_rows == "$1:$2"
        header, footer = page.oddHeader, page.oddFooter
        assert "シート№" in header.right.text and re.search(r"(令和|平成)(\d+|元)年度", header.left.text)
        assert "&P" in footer.center.text and "&N" in footer.center.text and "&D" in footer.left.text
        # only looks up: no input cell, no note for the keyboard user, no empty input box
        assert page.protection.sheet
        texts = [c.value for row in page.iter_rows() for c in row if isinstance(c.value, str)]
        assert not any("変更できます" in t or "から選びます" in t for t in texts)
        assert not [c for row in page.iter_rows() for c in row
                    if c.fill.fgColor.rgb == "FFFFF2CC" or not c.protection.locked]
        assert all(("計算" in c.value) for row in page.iter_rows() for c in row
                   if c.data_type == "f")
    for name in REFERENCE:
        assert wb[name].oddHeader.right.text.startswith("参考資料"), name
    # the clerk types actuals on the calculation sheet: unlocked, shaded input cells
    calc = wb["計算"]
    heads = [c.value for c in calc[2]]
    actual = heads.index("実績値\n（入力）") + 1
    inputs = [calc.cell(r, actual) for r in range(3, calc.max_row + 1)
              if calc.cell(r, 1).value]
    assert inputs and all(not c.protection.locked and c.fill.fgColor.rgb == "FFFFF2CC"
                          for c in inputs)
    # data sheet: one header row under its title, no merged cells in the data
    data = wb["データ"]
    head = [c.value for c in data[2]]
    assert {"西暦年度", "和暦年度", "値", "指標ID"} <= set(head)
    values = [r[head.index("値")] for r in data.iter_rows(min_row=3, values_only=True)]
    assert values and all(v is None or isinstance(v, (int, float)) for v in values)
    # the formula auditor finds nothing to report on xlsgen's own report
    assert audit_workbook(out).findings == []


def test_changed_actual_moves_rate_grade_and_overview(built, recalculated):
    """An actual typed on the calculation sheet moves the measure page and 一覧."""
    out = built["ojiya"]
    wb = openpyxl.load_workbook(out)
    page = next(ws for ws in wb.worksheets if ws.title.startswith("02 "))
    kpi_row = next(r for r in range(1, page.max_row + 1)
                   if page.cell(r, 3).value == EDITED_KPI)
    before = openpyxl.load_workbook(out, data_only=True)[page.title]
    assert before.cell(kpi_row, 7).value == 176
    assert before.cell(kpi_row + 1, 6).value == pytest.approx(13 / 57)  # 進捗率
    assert before.cell(kpi_row + 1, 4).value == "進捗率"
    assert before.cell(kpi_row + 1, 11).value == pytest.approx(1 / 3)  # 期待水準 H30 → R6
    assert before.cell(kpi_row + 1, 13).value == "C"  # 0.228 ÷ 0.333 = 68 %
    edited, back = recalculated["edited"]  # the same report with 220 typed on 計算
    calc = openpyxl.load_workbook(edited)["計算"]
    assert calc.cell(*_calc_cell(calc)).value == 220
    after = openpyxl.load_workbook(back, data_only=True)
    assert after[page.title].cell(kpi_row, 7).value == 220
    assert after[page.title].cell(kpi_row + 1, 6).value == pytest.approx(1.0)
    assert after[page.title].cell(kpi_row + 1, 13).value == "A"
    overview = [r for r in after["一覧"].iter_rows(values_only=True)
                if r[3] == "鉄工電子組合技能士合格者数（累計）"]
    assert overview[0][8] == 220 and overview[0][9] == pytest.approx(1.0)
    assert overview[0][12] == "A"


def _overview(wb) -> tuple[list, list[dict]]:
    ws = wb["一覧"]
    heads = [c.value for c in ws[2]]
    heads = [h for h in heads if h]
    rows = [dict(zip(heads, r)) for r in ws.iter_rows(min_row=3, values_only=True) if r[3]]
    return heads, rows


def test_ojiya_overview_for_council(built):
    """一覧: the city, plan and year in the title; 実績値・事業費・担当課; the issue's KPIs
    graded sensibly, named as computed; 再掲 counted once; percent shown as percent."""
    out = built["ojiya"]
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb["一覧"]
    assert ws["A1"].value.startswith("【小千谷市総合戦略】進行管理シート") and "令和3年度版" in ws["A1"].value
    assert "令和2年度実績" in [c.value for c in ws[1]]
    heads, rows = _overview(wb)
    assert {"実績値\n（評価年度）", "事業費\n（千円）", "担当課・\n事業主体", "施策", "区分", "測り方",
            "期待水準", "評価に\n使う値"} <= set(heads)
    by_name = {r["指標名"]: r for r in rows}
    rate = "評価年度\nの率"
    plus = by_name["セミナー等の参加者の結婚や出産等に対するプラスイメージを持つ割合"]
    assert plus["実績値\n（評価年度）"] == 78.9
    assert plus[rate] == "悪化" and plus["評価"] == "D"  # 96.6 → 78.9 against 100
    corp = by_name["多様な産業と連携して商品づくりに取組む農業法人数"]  # 「-」 baseline, 4 of 2
    assert corp[rate] == pytest.approx(2.0) and corp["評価"] == "A" and corp["測り方"] == "達成率"
    users = by_name["就労支援情報等を利用する本市出身者数（累計）"]  # 187 of 2,000
    assert users[rate] == pytest.approx(187 / 2000)
    # 就職率: 55.6 % of the way when 33.3 % was expected is no C
    job = by_name["市内高校卒業生のうち市内事業所への就職率"]
    assert job["測り方"] == "進捗率" and job[rate] == pytest.approx(2 / 3.6)
    assert job["期待水準"] == pytest.approx(1 / 3) and job["評価"] == "A"
    assert job["評価に\n使う値"] == pytest.approx(2 / 3.6 * 3)
    rates = [r[rate] for r in rows]
    assert not any(isinstance(v, (int, float)) and v < 0 for v in rates)
    assert any(isinstance(r["事業費\n（千円）"], (int, float)) for r in rows)
    assert all(r["担当課・\n事業主体"] for r in rows)
    # 評価の分布 counts each KPI once: 再掲 rows are left out
    counts = {r[0]: r[1] for r in wb["評価の分布"].iter_rows(min_row=4, max_row=8, values_only=True)}
    repeats = [r for r in rows if "再掲" in r["指標名"]]
    assert repeats and sum(counts.values()) == len(rows) - len(repeats)
    assert counts["D"] == sum(1 for r in rows if r["評価"] == "D" and "再掲" not in r["指標名"])
    # a percent KPI shows % everywhere: no 42.4 between 40.4% and 44%
    formats = openpyxl.load_workbook(out)
    measure = formats["01 キャリア教育の推進"]
    pct_row = next(r for r in measure.iter_rows() if r[2].value == "市内高校卒業生のうち市内事業所への就職率")
    assert all('"%"' in c.number_format for c in (*pct_row[5:10], pct_row[11]))
    # 3日以上 stays 3日以上 on screen while the cell holds the number 3
    target = next(r for r in measure.iter_rows() if r[2].value == "職場体験実施日数（中学生）/生徒1人")[11]
    assert "日以上" in target.number_format
    assert measure["A2"].value.startswith("出典: 【小千谷市総合戦略】進行管理シート")


def test_nishitokyo_columns_and_title(built):
    wb = openpyxl.load_workbook(built["nishitokyo"], data_only=True)
    heads, rows = _overview(wb)
    title = wb["一覧"]["A1"].value
    assert title.startswith("西東京市産業振興マスタープラン") and re.search(r"(令和|平成)\d+年度版", title)
    assert heads[1:3] == ["取組みの方向性", "施策"]
    agri = [r for r in rows if r["指標名"] == "災害協力農地の新規協定締結件数"][0]
    assert agri["取組みの方向性"].startswith("持続可能な「農」")
    assert agri["施策"] == "農地の多面的機能の発揮"
    assert agri["担当課・\n事業主体"] == "行政・JA・農業者"


def test_joso_budget_account_goal_and_cost(built):
    wb = openpyxl.load_workbook(built["joso"], data_only=True)
    project = wb[wb.sheetnames[2]]
    labels = {r[0].value: r[2].value for r in project.iter_rows() if r[0].value}
    assert labels["予算科目"] == "一般会計 2款 1項 6目 4事業"
    assert labels["施策の目標"] == "市民満足度の高い行財政運営を進める"
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and ws.title not in ("数式一覧", "データ")]
    assert not [t for t in texts if t.endswith(" -") or t == "—%"]
    # the cost block: a row per year, 事業費 and うち特定財源 looked up, 一般財源 computed
    rows = [r for r in project.iter_rows(values_only=True) if r[2] in ("決算額", "予算額", "計画")]
    assert len(rows) >= 3
    head = next(r for r in project.iter_rows(values_only=True) if r[2] and "区分" in str(r[2]))
    amount, specific, general = (head.index(h) for h in ("事業費", "うち特定財源", "一般財源\n（計算）"))
    for r in rows:
        if isinstance(r[amount], (int, float)) and isinstance(r[specific], (int, float)):
            assert r[general] == r[amount] - r[specific]
    # 成果目標 30 in % (per-year targets): shown with its unit
    formats = openpyxl.load_workbook(built["joso"])
    targets = [c for ws in formats.worksheets for row in ws.iter_rows() for c in row
               if '"%"' in c.number_format and c.data_type == "f"]
    assert targets


def tiny_report(text: str) -> ReportBook:
    k = ReportKpi(name=text, unit="件", kind=TargetKind.PER_YEAR, direction=Direction.UP,
                  baseline=Quantity(text=text), baseline_year=2019,
                  values={2020: Quantity(text=text, fiscal_year=2020)}, target=Quantity(value=5),
                  target_year=2020, category=text)
    m = ReportMeasure(key="01", title="施策", source_sheet="01", levels=[("施策", text)],
                      purpose=text, projects=[ProjectLine(name=text, content=text)], years=[2020],
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
    rb = tiny_report("x")
    rb.title = "産業&観光" * 60
    rb.measures[0].title = "研究&開発" * 20
    out = tmp_path / "t.xlsx"
    write_report(rb, out)
    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if not name.startswith("xl/worksheets/sheet"):
                continue
            xml = z.read(name).decode("utf-8")
            for part in ("oddHeader", "oddFooter"):
                m = re.search(rf"<{part}>(.*?)</{part}>", xml)
                text = m.group(1).replace("&amp;", "&") if m else ""
                assert len(text) <= 255, (name, part)
    header = re.search(r"<oddHeader>(.*?)</oddHeader>",
                       zipfile.ZipFile(out).read("xl/worksheets/sheet2.xml").decode()).group(1)
    header = header.replace("&amp;", "&")
    assert "産業&&観光" in header and "令和3年度版" in header
    assert not re.search(r"(?<!&)&(?:&&)*(?=$|[^&LRCPND\"0-9])", header.split("&R")[0][2:])
    assert len(openpyxl.load_workbook(out).sheetnames[1]) <= 31


def test_title_names_city_plan_and_year(tmp_path):
    rb = tiny_report("x")
    rb.title, rb.city = "連携事業", "テスト市"
    out = tmp_path / "t.xlsx"
    write_report(rb, out)
    wb = openpyxl.load_workbook(out)
    assert wb["一覧"]["A1"].value.startswith("テスト市 連携事業") and "令和3年度版" in wb["一覧"]["A1"].value
    assert "テスト市 連携事業" in wb["01 施策"].oddHeader.left.text


# --- the formula map and the audit share one notion of pattern -------------------------
def map_groups(wb) -> list[tuple[str, list[tuple[str, str]]]]:
    """数式一覧 read back: (head formula, [(sheet, cell)]) per group; a 〃 row belongs to
    the group above; each head row's formula belongs to its first cell."""
    groups = []
    for sheet, cells, formula, _ in wb["数式一覧"].iter_rows(min_row=2, values_only=True):
        if not sheet or not cells:
            continue
        listed = []
        for part in cells.split(","):
            c1, r1, c2, r2 = range_boundaries(part.strip())
            listed += [(sheet, f"{openpyxl.utils.get_column_letter(c)}{r}")
                       for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
        if formula != "〃":
            groups.append((formula, listed))
        else:
            groups[-1][1].extend(listed)
    return groups


def assert_map_truthful(out) -> list:
    """Walk 数式一覧: every listed cell is the head formula translated to it (the same
    formula in R1C1 terms), every formula cell is listed once, and `xlsgen audit` finds the
    same groups cell for cell. Returns the audit's groups."""
    from openpyxl.utils import get_column_letter

    wb = openpyxl.load_workbook(out)
    groups = map_groups(wb)
    seen = {}
    for formula, cells in groups:
        head_sheet, head = cells[0]
        assert wb[head_sheet][head].value == formula
        for sheet, ref in cells:
            want = Translator(formula, origin=head).translate_formula(ref)
            assert wb[sheet][ref].value == want, (sheet, ref)
            assert (sheet, ref) not in seen
            seen[(sheet, ref)] = formula
    formulas = [(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
                for c in row if c.data_type == "f"]
    assert set(seen) == set(formulas)
    result = audit_workbook(out)
    audit = sorted(sorted((s, f"{get_column_letter(c)}{r}") for s, r, c in g.members)
                   for g in result.groups)
    assert audit == sorted(sorted(cells) for _, cells in groups)
    for g in result.groups:  # one R1C1 pattern per group
        assert len({parse_formula(f.formula, f.row, f.col).r1c1
                    for f in result.formulas if f.group == g.id}) == 1
    return result.groups


@pytest.mark.parametrize("key", ["ojiya", "joso", "nishitokyo"])
def test_formula_map_tells_the_truth_and_the_audit_agrees(built, key):
    """The report's map and the audit of the report share one notion of pattern."""
    out = built[key]
    groups = assert_map_truthful(out)
    if key == "ojiya":
        assert len(groups) <= 40
    if MAP_CHECK.exists():  # the shared checker, run from outside
        res = subprocess.run([sys.executable, str(MAP_CHECK), str(out)], capture_output=True,
                             text=True)
        assert res.returncode == 0, res.stdout[-2000:]


@pytest.mark.parametrize("kind", ["simulation", "survey", "findings"])
def test_other_outputs_map_every_formula(tmp_path, kind):
    """The simulation, survey and 検証結果 workbooks map every formula they hold."""
    from xlsgen.resources import templates_dir

    out = tmp_path / f"{kind}.xlsx"
    runner = CliRunner()
    if kind == "simulation":
        args = ["simulate", *sorted(str(p) for p in templates_dir("simulations")
                                    .glob("mitaka_model_*.yaml")), "-o", str(out)]
    elif kind == "survey":
        args = ["simulate", str(templates_dir("reports") / "setagaya_forum_survey.yaml"),
                "-o", str(out)]
    else:
        args = ["run", str(JOSO.parent), "-o", str(tmp_path / "run")]
    res = runner.invoke(cli, args)
    if kind == "findings":
        out = tmp_path / "run" / "検証結果.xlsx"
    assert out.exists(), res.output
    assert assert_map_truthful(out)


# --- the one model's sections ----------------------------------------------------------
def every_kind() -> ReportBook:
    """A measure with everything the one model holds: per-year targets and texts, notes,
    the city's own rates and grades, project lines, a cost block and evaluations."""
    years = [2019, 2020, 2021]
    q = lambda v, y=None, unit=None: Quantity(value=v, fiscal_year=y, unit=unit)  # noqa: E731
    k = ReportKpi(name="相談件数", unit="件", kind=TargetKind.PER_YEAR, direction=Direction.UP,
                  baseline=Quantity(), baseline_year=None,
                  values={2019: q(80, 2019), 2020: q(90, 2020), 2021: Quantity(fiscal_year=2021)},
                  target=q(120), target_year=2021,
                  targets={2019: q(100, 2019), 2020: q(100, 2020), 2021: q(120, 2021)},
                  texts={2019: "新型感染症で窓口を縮小。", 2020: "オンライン相談を開始。"},
                  text_label="実績の分析・要因", note="延べ件数（電話を含む）",
                  own_rates={2019: q(80, 2019, "%"), 2020: q(90, 2020, "%")},
                  own_grades={2019: Quantity(text="B"), 2020: Quantity(text="A")})
    line = lambda key, label, values: ReportCostLine(key, label, {  # noqa: E731
        y: q(v, y) for y, v in zip(years, values)})
    cost = ReportCost(unit="千円", years=years, year_kinds={2019: "決算額", 2020: "決算額",
                                                           2021: "予算額"},
                      lines=[line("project_cost", "事業費", [1000, 1200, 1500]),
                             line("national", "国庫支出金", [300, 300, 400]),
                             line("general", "一般財源", [700, 900, 1100]),
                             line("staff", "職員人工", [0.5, 0.5, 0.6]),
                             line("staff_unit_cost", "平均職員費", [8000, 8000, 8000]),
                             line("personnel", "人件費", [4000, 4000, 4800]),
                             line("total", "総事業費", [5000, 5300, 6300])],
                      unit_cost_kpi="相談件数")
    m = ReportMeasure(key="01", title="相談支援事業", source_sheet="事業01",
                      levels=[("事業名", "相談支援事業")], purpose="相談しやすい窓口をつくる。",
                      projects=[], years=years, kpis=[k], check=[("分析", "件数は増えた。")],
                      action=[("今後", "継続する。")], policy="継続",
                      project_lines=[ReportProjectLine(
                          "窓口相談", department="福祉課", content="窓口で相談を受ける。",
                          amounts=[(2020, "決算額", q(600)), (2021, "予算額", q(700))], unit="千円")],
                      cost=cost, evaluations=[("有効性", "高い"), ("総合評価", "B")])
    return ReportBook(layout="test", source="test.xlsx", title="事務事業評価", eval_year=2020,
                      created=datetime(2021, 4, 1), measures=[m], city="テスト市")


def test_every_section_of_the_one_model_shows(tmp_path, recalc):
    out = tmp_path / "kinds.xlsx"
    write_report(every_kind(), out)
    for wb in (openpyxl.load_workbook(out, data_only=True),
               openpyxl.load_workbook(recalc(out), data_only=True)):
        ws = wb["01 相談支援事業"]
        rows = list(ws.iter_rows(values_only=True))
        text = " ".join(str(v) for r in rows for v in r if v is not None)
        for shown in ("新型感染症で窓口を縮小。", "オンライン相談を開始。", "実績の分析・要因",
                      "延べ件数（電話を含む）", "テスト市の達成率", "テスト市の評価", "窓口相談",
                      "福祉課", "窓口で相談を受ける。", "有効性", "総合評価", "継続",
                      "単位コストの成果指標は「相談件数」"):
            assert shown in text, shown
        kpi = next(i for i, r in enumerate(rows) if r[2] == "相談件数")
        assert list(rows[kpi][6:9]) == [80, 90, None]  # actuals
        assert list(rows[kpi + 1][6:9]) == [pytest.approx(0.8), pytest.approx(0.9), "−"]
        targets = next(r for r in rows if r[1] and "各年度の目標値" in str(r[1]))
        assert list(targets[6:9]) == [100, 100, 120]
        # the cost block: a row per year; derived figures as formulas, the sheet's own beside
        by_year: dict = {}
        for i, r in enumerate(rows):
            if r[2] and str(r[2]).startswith("区分"):
                for line in rows[i + 1:i + 4]:
                    by_year.setdefault(line[1], {"区分": line[2]}).update(
                        {h: v for h, v in zip(r[3:], line[3:]) if h})
        assert sorted(by_year) == [2019, 2020, 2021]
        y2019, y2020, y2021 = by_year[2019], by_year[2020], by_year[2021]
        assert y2019["区分"] == "決算額" and y2021["区分"] == "予算額"
        assert y2019["人件費\n（計算）"] == 4000 and y2019["総事業費\n（計算）"] == 5000
        assert y2019["一般財源\n（計算）"] == 700 and y2019["一般財源の差"] == 0
        assert y2019["単位コスト\n（円）"] == pytest.approx(5000 * 1000 / 80)
        assert y2020["総事業費"] == 5300 and y2020["総事業費\n（計算）"] == 5200
        assert y2020["総事業費の差"] == 100  # the sheet's own figure differs: flagged
        assert y2021["人件費\n（計算）"] == pytest.approx(4800)
        assert y2021["単位コスト\n（円）"] == "−"  # no actual yet
    # a difference from the sheet's own figure is marked (a number other than 0)
    page = openpyxl.load_workbook(out)["01 相談支援事業"]
    marked = {str(rng.sqref) for rng in page.conditional_formatting
              for rule in rng.rules if rule.formula and "<>0" in rule.formula[0]}
    head = next(c for row in page.iter_rows() for c in row if c.value == "総事業費の差")
    under = [page.cell(r, head.column).coordinate for r in range(head.row + 1, head.row + 4)]
    assert set(under) <= marked


def test_cost_formulas_follow_an_input(tmp_path, recalc):
    """人件費 = 人工 × 平均職員費, 総事業費 and 単位コスト move when 職員人工 is changed."""
    out = tmp_path / "kinds.xlsx"
    write_report(every_kind(), out)
    wb = openpyxl.load_workbook(out)
    calc = wb["計算"]
    heads = [c.value for c in calc[2]]
    staff = heads.index("職員人工") + 1
    year = heads.index("区分") - 1 + 1  # the cost table: 施策, 年度, 区分, …
    row = next(r for r in range(3, 6) if calc.cell(r, year).value == 2019)
    calc.cell(row, staff).value = 1.0
    wb.save(out)
    fresh = openpyxl.load_workbook(recalc(out), data_only=True)["計算"]
    values = {h: fresh.cell(row, i + 1).value for i, h in enumerate(heads) if h}
    assert values["人件費\n（計算）"] == 8000 and values["総事業費\n（計算）"] == 9000
    assert values["人件費の差"] == -4000
    assert values["単位コスト"] == pytest.approx(9000 * 1000 / 80)


# --- workbooks of kinds the shipped layouts do not have -----------------------------------
@pytest.fixture(scope="module")
def corpus_reports(tmp_path_factory):
    """A report of each unseen-city corpus book (its layout with the schema additions)."""
    from tests.city_corpus import LAYOUTS_DIR, write_corpus

    d = tmp_path_factory.mktemp("corpus")
    facts = write_corpus(d / "books")
    out = {}
    for name, f in facts.items():
        path = d / f"{Path(name).stem}_報告書.xlsx"
        res = CliRunner().invoke(cli, ["build", str(d / "books" / name), "--layout-file",
                                       str(LAYOUTS_DIR / f"{f['layout']}.next.yaml"), "-o", str(path)])
        assert res.exit_code == 0, (name, res.output)
        out[name[0]] = path
    return out


def test_every_corpus_book_reports_clean(corpus_reports):
    """Project sheets with cost blocks, one KPI per sheet, a measure over two sheets, a KPI
    list, KPI blocks, package quirks, project management sheets: each report audits clean and
    its formula map is truthful."""
    assert len(corpus_reports) == 7
    for key, path in corpus_reports.items():
        assert audit_workbook(path).findings == [], key
        assert assert_map_truthful(path), key


def test_corpus_cost_block_recalculated(corpus_reports, recalc):
    """A city's cost block (事業費, 財源内訳, 職員人工 × 平均職員費, 総事業費): the computed
    人件費 and 総事業費 agree with the sheet's own figures, 単位コスト is 総事業費 ÷ the output
    indicator, and LibreOffice gives the values cached."""
    out = corpus_reports["a"]
    cached = openpyxl.load_workbook(out, data_only=True)
    fresh = openpyxl.load_workbook(recalc(out), data_only=True)
    cells = formula_cells(out)
    assert [(s, a) for s, a in cells if not same(cached[s][a].value, fresh[s][a].value)] == []
    calc = cached["計算"]
    heads = [c.value for c in calc[2]]
    col = {h: i for i, h in enumerate(heads) if h}
    rows = [r for r in calc.iter_rows(min_row=3, values_only=True)
            if isinstance(r[col["職員人工"]], (int, float))]
    assert rows
    assert any(isinstance(r[col["単位コスト"]], (int, float)) for r in rows)
    for r in rows:
        assert r[col["人件費の差"]] == 0 and r[col["総事業費の差"]] == 0
        if isinstance(r[col["成果指標の実績"]], (int, float)):
            assert r[col["単位コスト"]] == pytest.approx(
                r[col["総事業費\n（計算）"]] * r[col["円換算"]] / r[col["成果指標の実績"]])

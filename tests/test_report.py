"""xlsgen build: live formulas agree with LibreOffice, inputs move results, the workbook is
printable, protected, safe with formula-like text, and audits clean."""

from __future__ import annotations

import hashlib
from datetime import datetime

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import JOSO, NISHITOKYO, OJIYA, need_libreoffice
from xlsgen import libreoffice
from xlsgen.audit import audit_workbook
from xlsgen.cli import cli
from xlsgen.measures import ReportBook, ReportKpi, ReportMeasure
from xlsgen.model import Direction, ProjectLine, Quantity, TargetKind
from xlsgen.render.report import write_report


def formula_cells(path) -> list[tuple[str, str]]:
    wb = openpyxl.load_workbook(path)
    return [(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.data_type == "f"]


def same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return b == pytest.approx(a, rel=1e-12, abs=1e-12)
    return a == b


SHIPPED = {"ojiya": OJIYA, "joso": JOSO, "nishitokyo": NISHITOKYO}
EDITED_KPI = "鉄工電子組合技能士合格者数（累計）"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The shipped books built by the command line, and a copy of the 小千谷 report whose R2
    actual of one KPI is typed over (220), all recalculated by one LibreOffice process:
    key → (report, recalculated copy); `edited` → (edited report, recalculated copy)."""
    need_libreoffice()
    d = tmp_path_factory.mktemp("built")
    reports = {}
    for key, src in SHIPPED.items():
        before = hashlib.sha256(src.read_bytes()).hexdigest()
        out = d / f"{key}.xlsx"
        res = CliRunner().invoke(cli, ["build", str(src), "-o", str(out)])
        assert res.exit_code == 0, res.output
        assert hashlib.sha256(src.read_bytes()).hexdigest() == before
        reports[key] = out
    edited = d / "ojiya_edited.xlsx"
    wb = openpyxl.load_workbook(reports["ojiya"])
    ws = next(ws for ws in wb.worksheets if ws.title.startswith("02 "))
    do_row = [r for r in ws.iter_rows() if r[2].value == EDITED_KPI][0]
    assert do_row[7].value == 176  # R2 actual; baseline 163, target 220 (累計)
    do_row[7].value = 220
    wb.save(edited)
    reports["edited"] = edited
    backs = libreoffice.recalculate_many(list(reports.values()), d / "recalc")
    return {k: (v, back) for (k, v), back in zip(reports.items(), backs)}


@pytest.mark.parametrize("key", list(SHIPPED))
def test_build_shipped_workbook(built, key):
    out, recalculated = built[key]
    # every formula's cached value equals LibreOffice's recalculated value
    cells = formula_cells(out)
    assert len(cells) > 20
    cached = openpyxl.load_workbook(out, data_only=True)
    fresh = openpyxl.load_workbook(recalculated, data_only=True)
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


def test_changed_actual_moves_achievement_and_grade(built):
    out, _ = built["ojiya"]
    wb = openpyxl.load_workbook(out)
    ws = next(ws for ws in wb.worksheets if ws.title.startswith("02 "))
    rows = [r for r in ws.iter_rows() if r[2].value == EDITED_KPI]
    do_row, check_row = rows[0], rows[1]
    assert do_row[7].value == 176  # R2 actual; baseline 163, target 220 (累計)
    before = openpyxl.load_workbook(out, data_only=True)[ws.title]
    assert before.cell(check_row[0].row, 5).value == pytest.approx(13 / 57)
    assert before.cell(check_row[0].row, 7).value == "D"
    edited, recalculated = built["edited"]  # the same report with 220 typed in do_row[7]
    assert openpyxl.load_workbook(edited)[ws.title].cell(do_row[7].row, 8).value == 220
    after = openpyxl.load_workbook(recalculated, data_only=True)
    assert after[ws.title].cell(check_row[0].row, 5).value == pytest.approx(1.0)
    assert after[ws.title].cell(check_row[0].row, 7).value == "A"
    overview = [r for r in after["一覧"].iter_rows(values_only=True)
                if r[3] == "鉄工電子組合技能士合格者数（累計）"]
    assert overview[0][8] == 220  # 実績値（評価年度） follows the measure sheet
    assert overview[0][9] == pytest.approx(1.0) and overview[0][11] == "A"


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


def _build(tmp_path, src):
    out = tmp_path / f"{src.stem}_report.xlsx"
    res = CliRunner().invoke(cli, ["build", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


def _overview(wb) -> tuple[list, list[dict]]:
    ws = wb["一覧"]
    heads = [c.value for c in ws[2]]
    heads = heads[:heads.index(None)]  # the KPI table; 評価の分布 stands to its right
    rows = [dict(zip(heads, r)) for r in ws.iter_rows(min_row=3, values_only=True) if r[3]]
    return heads, rows


def test_ojiya_overview_for_council(tmp_path):
    """一覧: plan title with the evaluated year, 実績値・事業費・担当課, the issue's KPIs graded
    sensibly, 再掲 counted once, qualifiers kept, 出典 naming the workbook's title."""
    out = _build(tmp_path, OJIYA)
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb["一覧"]
    assert ws["A1"].value.startswith("【小千谷市総合戦略】進行管理シート")
    assert "令和2年度実績" in [c.value for c in ws[1]]
    heads, rows = _overview(wb)
    assert {"実績値\n（評価年度）", "事業費\n（千円）", "担当課・\n事業主体", "施策", "区分"} <= set(heads)
    by_name = {r["指標名"]: r for r in rows}
    plus = by_name["セミナー等の参加者の結婚や出産等に対するプラスイメージを持つ割合"]
    assert plus["実績値\n（評価年度）"] == 78.9
    assert plus["評価年度の\n達成率"] == "悪化" and plus["評価"] == "D"  # 96.6 → 78.9 against 100
    corp = by_name["多様な産業と連携して商品づくりに取組む農業法人数"]  # 「-」 baseline, 4 of 2
    assert corp["評価年度の\n達成率"] == pytest.approx(2.0) and corp["評価"] == "A"
    users = by_name["就労支援情報等を利用する本市出身者数（累計）"]  # 187 of 2,000
    assert users["評価年度の\n達成率"] == pytest.approx(187 / 2000)
    rates = [r["評価年度の\n達成率"] for r in rows]
    assert not any(isinstance(v, (int, float)) and v < 0 for v in rates)
    paces = [r["期待水準"] for r in rows if r["目標の種類"] in ("時点", "累計")]
    assert paces and all(v == pytest.approx(2 / 6) for v in paces)  # R2 on the way H30 → R6
    assert any(isinstance(r["事業費\n（千円）"], (int, float)) for r in rows)
    assert all(r["担当課・\n事業主体"] for r in rows)
    # 評価の分布 counts each KPI once: 再掲 rows are left out
    counts = {r[len(heads) + 1]: r[len(heads) + 2] for r in ws.iter_rows(min_row=3, max_row=7,
                                                                          values_only=True)}
    repeats = [r for r in rows if "再掲" in r["指標名"]]
    assert repeats and sum(counts.values()) == len(rows) - len(repeats)
    assert counts["D"] == sum(1 for r in rows if r["評価"] == "D" and "再掲" not in r["指標名"])
    # 3日以上 stays 3日以上 on screen while the cell holds the number 3
    formats = openpyxl.load_workbook(out)
    measure = formats["01 キャリア教育の推進"]
    qualified = [c for row in measure.iter_rows() for c in row if c.value == 3
                 and "日以上" in c.number_format]
    assert qualified
    src = measure["A2"].value
    assert src.startswith("出典: 【小千谷市総合戦略】進行管理シート") and ".xlsx" not in src


def test_nishitokyo_columns_and_title(tmp_path):
    out = _build(tmp_path, NISHITOKYO)
    wb = openpyxl.load_workbook(out, data_only=True)
    heads, rows = _overview(wb)
    first_sheet = wb.sheetnames[1]
    assert not wb["一覧"]["A1"].value.startswith(first_sheet.split(" ", 1)[1])
    assert heads[1:3] == ["取組みの方向性", "施策"]
    agri = [r for r in rows if r["指標名"] == "災害協力農地の新規協定締結件数"][0]
    assert agri["取組みの方向性"].startswith("持続可能な「農」")
    assert agri["施策"] == "農地の多面的機能の発揮"
    assert agri["担当課・\n事業主体"] == "行政・JA・農業者"


def test_joso_budget_account_goal_and_units(tmp_path):
    out = _build(tmp_path, JOSO)
    wb = openpyxl.load_workbook(out)
    project = wb[wb.sheetnames[2]]
    labels = {r[0].value: r[2].value for r in project.iter_rows() if r[0].value}
    assert labels["予算科目"] == "一般会計 2款 1項 6目 4事業"
    assert labels["施策の目標"] == "市民満足度の高い行財政運営を進める"
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and ws.title not in ("数式一覧", "データ")]
    assert not [t for t in texts if t.endswith(" -") or t == "—%"]
    # 成果目標 30 in % (no unit column in the budget table): the unit is in the format
    targets = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
               if c.value == 30 and '"%"' in c.number_format]
    assert targets


def test_fixed_references_anchored_one_pattern_per_row(tmp_path):
    """A KPI's achievement copied across its year columns is one R1C1 pattern."""
    from xlsgen.audit.formula import parse_formula

    out = _build(tmp_path, OJIYA)
    wb = openpyxl.load_workbook(out)
    ws = wb["02 技術承継・人材育成"]
    head = next(r for r in ws.iter_rows() if r[4].value == "評価年度の\n達成率")
    year_cols = [c.column for c in head if isinstance(c.value, int)]
    row = next(r for r in ws.iter_rows(min_row=head[0].row + 1)
               if r[2].value == "鉄工電子組合技能士合格者数（累計）")
    patterns = {parse_formula(row[c - 1].value, row[c - 1].row, c).r1c1 for c in year_cols}
    assert len(year_cols) >= 3 and len(patterns) == 1
    assert "$M" in row[year_cols[0] - 1].value  # the target column is fixed

"""The one model and its kinds: level codes as written, texts with their role, project lines
and series of a row layout, the cost block and 単位コスト, validation over the model
(cumulative baselines, cost lines), the kind registry, and layout-file messages."""

from __future__ import annotations

import json

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import JOSO, NISHITOKYO, OJIYA

from xlsgen.cli import cli
from xlsgen.errors import XlsgenError
from xlsgen.kinds import KINDS, kind_of
from xlsgen.layout import builtin_dir, load_spec, read_book
from xlsgen.layout.parsers import level_code
from xlsgen.layout.spec import LayoutSpecError
from xlsgen.model import (
    Book,
    CostBlock,
    CostLine,
    Kpi,
    Measure,
    Quantity,
    derive_unit_cost,
)
from xlsgen.validate import validate_book


def extract(path, spec):
    r = CliRunner().invoke(cli, ["extract", str(path), "--layout-file", str(spec)])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


@pytest.mark.parametrize("text, expected", [
    ("1-1 観光の振興", ("1-1", None, "観光の振興")),
    ("１－（１）　観光の振興", ("1-(1)", None, "観光の振興")),
    ("（１）観光の振興", ("(1)", 1, "観光の振興")),
    ("Ⅱ 観光の振興", ("Ⅱ", 2, "観光の振興")),
    ("IV. 観光の振興", ("IV", 4, "観光の振興")),
    ("基本目標1　しごとをつくる", ("1", 1, "しごとをつくる")),
    ("１ 持続可能な「農」", ("1", 1, "持続可能な「農」")),
    ("1-2", ("1-2", None, "")),
    ("ICT活用の推進", (None, None, "ICT活用の推進")),
    ("観光の振興", (None, None, "観光の振興")),
])
def test_level_codes_are_kept_as_written(text, expected):
    assert level_code(text) == expected


def test_level_codes_in_a_row_layout(tmp_path):
    """Measures grouped by a column whose cells carry 1-1 / (1) / Ⅰ codes: no name 「-1」 or 「)」."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["施策体系 KPI"])
    ws.append(["施策", "指標名", "基準値", "目標値"])
    for measure, name in (("1-1 観光の振興", "観光客数"), ("（２）農業の振興", "新規就農者数"),
                          ("Ⅲ 商工の振興", "創業件数"), ("1-(2) 交流の促進", "交流人口")):
        ws.append([measure, name, 10, 20])
    wb.save(tmp_path / "b.xlsx")
    (tmp_path / "s.yaml").write_text("""name: coded
record: row
detect: [{labels: [施策体系 KPI], match: contains}]
table:
  header: [施策]
  columns:
    measure: {label: [施策]}
    name: {label: [指標名]}
    baseline: {label: [基準値]}
    target: {label: [目標値]}
""", encoding="utf-8")
    d = extract(tmp_path / "b.xlsx", tmp_path / "s.yaml")
    assert d["kind"] == "row"
    got = [(m["measure"]["code"], m["measure"]["no"], m["measure"]["name"], m["measure"]["label"])
           for m in d["measures"]]
    assert got == [("1-1", None, "観光の振興", "施策"), ("(2)", 2, "農業の振興", "施策"),
                   ("Ⅲ", 3, "商工の振興", "施策"), ("1-(2)", None, "交流の促進", "施策")]


def test_row_layout_project_lines_series_and_targets():
    """西東京's rows through the row kind: 施策 is the KPI's category, 事業名/事業主体/事業概要
    the measure's project line, 現状値 the past actuals (the last the baseline), 参考 notes."""
    book = read_book(NISHITOKYO)
    assert book.kind == "row" and len(book.measures) == 4
    m = book.measures[0]
    assert (m.measure.code, m.measure.label) == ("1", "取組みの方向性")
    assert len(m.projects) == len(m.kpis) == 8
    p, k = m.projects[0], m.kpis[0]
    assert (p.name, p.department, p.tags) == ("災害時協力農地の拡大", "行政・JA・農業者", ["農地の多面的機能の発揮"])
    assert p.content.startswith("JA及び農業者と連携して") and p.cells["name"] == "C2"
    assert (k.name, k.category, k.department) == ("災害協力農地の新規協定締結件数", "農地の多面的機能の発揮",
                                                  "行政・JA・農業者")
    assert (k.baseline.value, k.baseline_year, k.target_kind.value, k.target_year) == (0, 2017, "cumulative", 2023)
    assert "行政・JA・農業者" in m.departments
    loan = next(k for mm in book.measures for k in mm.kpis if k.name == "融資制度申込件数")
    assert loan.notes.startswith("（参考）事業資金融資制度")
    assert loan.baseline.is_empty and loan.actuals == []


def test_texts_carry_key_label_role_and_department():
    m = read_book(OJIYA).measures[0]
    analysis = m.texts_of("check_analysis")
    assert [t.department for t in analysis] == ["企画政策課", "商工振興課", "学校教育課"]
    assert {(t.role, t.cell) for t in analysis} == {("check", "A22")}
    assert analysis[0].label.startswith("(1)現状分析")
    assert {t.role for t in m.texts_of("check_next")} == {"action"}


def test_project_sheets_map_into_measures():
    book = read_book(JOSO)
    assert book.kind == "project_sheets" and [m.extra["sheet_role"] for m in book.measures] == \
        ["measure", "project", "project"]
    p = book.measures[1]
    assert [lv.label for lv in p.levels] == ["施策の大綱", "施策の目標", "施策", "施策の方向"]
    assert p.measure.label == "事業名" and p.departments == ["常創戦略課"]
    cost = p.cost
    assert (cost.unit, cost.years) == ("千円", [2019, 2020, 2021, 2022])
    assert cost.year_kinds == {2019: "決算額", 2020: "決算額", 2021: "予算額", 2022: "計画"}
    assert [ln.key for ln in cost.lines] == ["project_cost", "specific"]
    kpi = p.kpis[0]
    assert [q.fiscal_year for q in kpi.targets] == [2019, 2020, 2021, 2022, 2023, 2024]
    assert [(t.fiscal_year, t.role) for t in kpi.texts][:2] == [(2019, "do"), (2020, "do")]
    assert {t.key: t.role for t in p.texts} == {"budget_account": "plan", "check_evaluation": "check",
                                                "check_analysis": "check", "action_indicator": "action",
                                                "plan_content": "action"}
    opinion = book.measures[0].texts_of("opinion")[0]
    assert (opinion.fiscal_year, opinion.role) == (2020, "check")


def test_unit_cost_is_total_over_the_named_indicator():
    kpi = Kpi(name="利用者数", unit="人", actuals=[Quantity(400, "人", fiscal_year=2020),
                                                    Quantity(None, fiscal_year=2021)])
    cost = CostBlock(unit="千円", years=[2020, 2021], lines=[CostLine("total", "総事業費", [
        Quantity(1200, "千円", fiscal_year=2020), Quantity(1500, "千円", fiscal_year=2021)])],
        unit_cost={"indicator": "利用者数"})
    m = Measure(sheet="s", kpis=[kpi], cost=cost)
    derive_unit_cost(m)
    values = cost.unit_cost["values"]
    assert [(q.fiscal_year, q.value, q.unit) for q in values] == [(2020, 3000, "円/人"), (2021, None, "円/人")]


def test_none_marks_are_written_as_none():
    assert Quantity(text="—").to_dict()["none"] is True
    assert Quantity(text="該当なし", marked_none=True).to_dict()["none"] is True
    assert "none" not in Quantity(value=0, text="0").to_dict()


def _cumulative_book(tmp_path, declared: bool):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "施策1"
    ws.append(["KPI進捗シート"])
    ws.append(["施策", "観光"])
    ws.append(["指標名", "従前値(H30)", "R1年度(実績値)", "R2年度(実績値)", "R6年度(目標値)"])
    ws.append(["登録団体数（累計）", 4, 3, 5, 10])  # 従前値 of one year; 累計 from R1
    wb.save(tmp_path / "c.xlsx")
    spec = tmp_path / "c.yaml"
    spec.write_text("name: cumul\ndetect: [{labels: [KPI進捗シート]}]\nfields: {measure: {label: [施策]}}\n"
                    "table: {header: [指標名]}\n"
                    + ("values: {baseline_cumulative: true}\n" if declared else ""), encoding="utf-8")
    return read_book(tmp_path / "c.xlsx", layout_file=str(spec))


def test_cumulative_falls_compares_actuals_and_a_baseline_only_when_declared(tmp_path):
    book = _cumulative_book(tmp_path, declared=False)
    k = book.measures[0].kpis[0]
    assert k.target_kind.value == "running_total" and k.baseline.value == 4
    assert not [f for f in validate_book(book) if f.code == "cumulative-falls"]
    declared = _cumulative_book(tmp_path, declared=True)
    falls = [f for f in validate_book(declared) if f.code == "cumulative-falls"]
    assert [(f.sheet, f.cell) for f in falls] == [("施策1", "C4")]


def test_cost_block_rules():
    def q(v, fy, cell, text=None):
        return Quantity(v, "千円" if v is not None else None, text or (None if v is None else str(v)),
                        cell=cell, fiscal_year=fy)

    cost = CostBlock(unit="千円", years=[2020, 2021], year_kinds={2020: "決算額", 2021: "予算額"}, lines=[
        CostLine("project_cost", "事業費（千円）", [q(100, 2020, "C5"), q(-5, 2021, "D5")]),
        CostLine("national", "国庫支出金", [q(120, 2020, "C6"), q(None, 2021, "D6", "未定")]),
    ])
    book = Book(layout="t", path="t.xlsx", measures=[Measure(sheet="s", cost=cost)])
    got = {(f.code, f.cell): f.message for f in validate_book(book)}
    assert got[("negative-cost", "D5")].startswith("2021年度 事業費（千円）が負の値です")
    assert got[("not-a-number", "D6")] == "2021年度 国庫支出金が数値ではありません（「未定」）"
    assert got[("specific-over-amount", "C6")] == "2020年度の国庫支出金（120千円）が事業費（100千円）を超えています"


def test_every_layout_picks_its_kind():
    assert set(KINDS) == {"sheet", "block", "row", "project_sheets"}
    kinds = {load_spec(p).name: kind_of(load_spec(p)).NAME for p in builtin_dir().glob("*.yaml")}
    assert kinds == {"ojiya": "sheet", "joso": "project_sheets", "nishitokyo": "row",
                     "kpi_blocks": "block", "kpi_list": "row"}
    for kind in KINDS.values():
        assert callable(kind.read) and callable(kind.rules) and callable(kind.plan_roll)


@pytest.mark.parametrize("name", ["block", "row"])
def test_kinds_refuse_a_year_they_have_no_cell_for_in_japanese(name):
    """A KPI whose table has no cell for the year a roll closes (R4): refused, naming the
    sheet and what to do."""
    kpi = Kpi(name="指標", row=5, actuals=[Quantity(1, cell="C6", fiscal_year=2020),
                                         Quantity(2, cell="C7", fiscal_year=2021)])
    if name == "row":
        kpi.actuals = [Quantity(1, cell="C5", fiscal_year=2020), Quantity(2, cell="D5", fiscal_year=2021)]
    book = Book(layout="x", path="x.xlsx", kind=name, layout_title="ある様式", fiscal_year=2022,
                measures=[Measure(sheet="施策1", kpis=[kpi], kpi_header_row=4)])
    with pytest.raises(XlsgenError, match="シート「施策1」.*R4年度の(行|実績値の列)がないため繰り越せません"):
        KINDS[name].plan_roll(book, {}, 2023, None)


def test_a_boolean_yaml_key_is_named_with_its_line(tmp_path):
    spec = tmp_path / "b.yaml"
    spec.write_text("name: b\ndetect: [{labels: [a]}]\ntable:\n  header: [a]\n  columns:\n"
                    "    no: {label: [№]}\n", encoding="utf-8")
    with pytest.raises(LayoutSpecError) as exc:
        load_spec(spec)
    msg = str(exc.value)
    assert str(spec) in msg and "6行目" in msg and "「no」" in msg and "false" in msg and '"no"' in msg


def test_no_layout_file_names_where_it_looked(tmp_path, monkeypatch):
    import xlsgen.layout as layout

    empty = tmp_path / "none"
    empty.mkdir()
    monkeypatch.setattr(layout, "builtin_dir", lambda: empty)
    wb = openpyxl.Workbook()
    wb.active["A1"] = "表"
    wb.save(tmp_path / "a.xlsx")
    with pytest.raises(XlsgenError) as exc:
        read_book(tmp_path / "a.xlsx")
    msg = str(exc.value)
    assert "（）" not in msg and "探した場所" in msg and str(empty) in msg and "layouts" in msg


def test_layout_help_without_shipped_files_says_where(monkeypatch):
    from xlsgen import app
    from xlsgen.cli import _layout_help

    assert "同梱: " in _layout_help() and "ojiya" in _layout_help()
    monkeypatch.setattr(app, "layout_names", lambda: [])
    text = _layout_help()
    assert "同梱: ）" not in text and "見つかりません" in text and str(builtin_dir()) in text


def test_level_parser_on_a_field(tmp_path):
    """`parser: level` on a field gives the same level as `type: level`: code, name, label."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["A2"], ws["B2"], ws["A3"], ws["B3"] = "施策シート", "施策", "1-(2) 観光の振興", "方向", "Ⅱ 誘客"
    ws["A5"], ws["B5"], ws["A6"], ws["B6"] = "指標名", "R2年度", "来客数", 10
    wb.save(tmp_path / "b.xlsx")
    (tmp_path / "s.yaml").write_text("""name: lv
detect: [{labels: [施策シート]}]
fields:
  measure: {label: [施策], parser: level}
  direction: {label: [方向], type: level}
table: {header: [指標名]}
""", encoding="utf-8")
    m = extract(tmp_path / "b.xlsx", tmp_path / "s.yaml")["measures"][0]
    assert {k: m["measure"][k] for k in ("key", "label", "code", "name", "cell")} == \
        {"key": "measure", "label": "施策", "code": "1-(2)", "name": "観光の振興", "cell": "B2"}
    assert [(lv["key"], lv["code"], lv["no"], lv["name"]) for lv in m["levels"]] == [("direction", "Ⅱ", 2, "誘客")]


def test_missing_target_only_where_the_layout_reads_a_target(tmp_path):
    """A KPI whose target cell is empty or 「-」 is warned about; a layout that reads no target
    at all (no target column) gives no finding."""
    found = {(f.sheet, f.cell) for f in validate_book(read_book(OJIYA)) if f.code == "missing-target"}
    assert found == {("01", "I18"), ("07", "I17")}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["実績シート"])
    ws.append(["施策", "観光"])
    ws.append(["指標名", "R2年度(実績値)", "R3年度(実績値)"])
    ws.append(["来客数", 10, 12])
    wb.save(tmp_path / "n.xlsx")
    (tmp_path / "n.yaml").write_text("name: n\ndetect: [{labels: [実績シート]}]\nfields: {measure: {label: [施策]}}\n"
                                     "table: {header: [指標名]}\n", encoding="utf-8")
    book = read_book(tmp_path / "n.xlsx", layout_file=str(tmp_path / "n.yaml"))
    assert book.measures[0].kpis[0].target_kind.value == "none"
    assert not [f for f in validate_book(book) if f.code == "missing-target"]

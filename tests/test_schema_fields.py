"""The field half of the schema additions (issue 17, phase two), each on a workbook made in
its shape (tests/field_workbooks.py) with the layout a city would write for it:

several sheets grouped into one measure (cells on the other sheet named with it), measure
fields from row columns (担当課, level columns, the layout's own columns), level codes with
dashes and brackets (and the code in its own cell), qualitative KPIs, none-marks in unit
cells, grade bounds, `achievement.basis` and years without a target, the city's own
evaluations with their reasons, `policy` from tick boxes, `number`, `fiscal_year`,
`unit_in_name`, texts by year (rows, the heading's year, right of a heading), per-year texts
in KPI blocks, and the edition a title names. Every extract is checked against the JSON
Schema.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from click.testing import CliRunner
from field_workbooks import (
    LAYOUT_BLOCKS,
    LAYOUT_KPI_LIST,
    LAYOUT_PROJECT,
    LAYOUT_TWO_SHEETS,
    write_blocks,
    write_kpi_list,
    write_project,
    write_two_sheets,
)

from xlsgen.cli import cli
from xlsgen.layout import load_spec
from xlsgen.layout.check import check_layout
from xlsgen.layout.parsers import checked_choice
from xlsgen.layout.spec import LayoutSpecError
from xlsgen.model import Finding, Severity, grade_for, grade_scale_problems, split_ref
from xlsgen.resources import schema_path


@pytest.fixture(scope="module")
def validator():
    return jsonschema.Draft202012Validator(json.loads(schema_path().read_text(encoding="utf-8")))


def _made(tmp_path, writer, layout: str, **kw):
    book, spec = tmp_path / "book.xlsx", tmp_path / "layout.yaml"
    writer(book, **kw)
    spec.write_text(layout, encoding="utf-8")
    return book, spec


def _extract(book, spec, validator=None, ok=True):
    r = CliRunner().invoke(cli, ["extract", str(book), "--layout-file", str(spec)])
    if not ok:
        return r
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    if validator is not None:
        errors = list(validator.iter_errors(d))
        assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:3]]
    return d


def _validate(book, spec) -> list[dict]:
    r = CliRunner().invoke(cli, ["validate", str(book), "--layout-file", str(spec), "--format", "json"])
    return [f for file in json.loads(r.output)["files"] for f in file["findings"]]


# --- several sheets, one measure ------------------------------------------------------------

def test_sheets_grouped_into_one_measure(tmp_path, validator):
    book, spec = _made(tmp_path, write_two_sheets, LAYOUT_TWO_SHEETS)
    d = _extract(book, spec, validator)
    assert [m["sheets"] for m in d["measures"]] == [["施策1その1", "施策1その2"], ["施策2その1", "施策2その2"]]
    m = d["measures"][0]
    assert m["sheet"] == "施策1その1"
    # その1's fields and KPI table; the heading 施策 repeated on その2 is not read again
    assert (m["measure"]["code"], m["measure"]["name"], m["cells"]["measure"]) == ("2-1", "健康づくりの推進", "C4")
    assert [k["name"] for k in m["kpis"]] == ["特定健康診査受診率", "週1回以上運動する市民の割合"]
    # その2's evaluation, tick-box policy and text, their cells naming their sheet
    assert m["evaluations"] == [{"key": "overall", "label": "総合評価", "value": "C", "cell": "'施策1その2'!B5"}]
    reason = next(t for t in m["texts"] if t["key"] == "overall")
    assert (reason["text"], reason["role"], reason["cell"]) == ("受診率がコロナ禍前に戻っていない。", "check",
                                                                "'施策1その2'!C5")
    assert (m["policy"], m["cells"]["policy"]) == ("継続", "'施策1その2'!B6")
    issue = next(t for t in m["texts"] if t["key"] == "issue")
    assert issue["cell"] == "'施策1その2'!A9" and "※" not in issue["text"]
    # departments: 主担当課, then 関係課 (holds: departments), then the KPIs' 担当課, once each
    assert m["departments"] == ["健康増進課", "保険年金課", "スポーツ振興課"]
    assert m["extra"]["related"] == ["保険年金課", "スポーツ振興課"] and m["cells"]["related"] == "E5"
    assert [(k["department"], k["cells"]["department"]) for k in m["kpis"]] == [
        ("保険年金課", "F8"), ("スポーツ振興課", "F9")]
    assert d["fiscal_year"] == 2022 and d["findings"] == []
    assert _validate(book, spec) == []


def test_without_group_a_continuation_sheet_without_kpi_table_refuses_the_book(tmp_path):
    layout = "\n".join(x for x in LAYOUT_TWO_SHEETS.splitlines() if not x.startswith(("sheets:", "  group:")))
    book, spec = _made(tmp_path, write_two_sheets, layout + "\n")
    r = _extract(book, spec, ok=False)
    assert r.exit_code == 1 and "施策1その2" in r.output


def test_a_finding_on_the_second_sheet_names_that_sheet(tmp_path):
    """validate finds an unsaved formula in a cell the model read on その2, by its own sheet."""
    book, spec = _made(tmp_path, write_two_sheets, LAYOUT_TWO_SHEETS, formula_on_second=True)
    found = [f for f in _validate(book, spec) if f["code"] == "uncalculated-formula"]
    assert [(f["sheet"], f["cell"]) for f in found] == [("施策1その2", "A9"), ("施策2その2", "A9")]


def test_qualified_cells_split_into_sheet_and_cell():
    assert split_ref("'施策1その2'!H8", "施策1その1") == ("施策1その2", "H8")
    assert split_ref("'it''s'!A1") == ("it's", "A1")
    assert split_ref("H8", "施策1その1") == ("施策1その1", "H8")
    f = Finding(Severity.WARNING, "x", "m", None, "施策1その1", "'施策1その2'!D22")
    assert (f.sheet, f.cell) == ("施策1その2", "D22")


# --- measure fields from row columns, level columns ---------------------------------------

def test_row_columns_fill_the_measure(tmp_path, validator):
    book, spec = _made(tmp_path, write_kpi_list, LAYOUT_KPI_LIST)
    d = _extract(book, spec, validator)
    assert [(m["basic_goal"]["code"], m["measure"]["code"], m["measure"]["name"]) for m in d["measures"]] == [
        ("1", "1-(1)", "地域産業の振興"), ("1", "1-(2)", "農業の振興"), ("2", "2-(1)", "移住・定住の促進")]
    first = d["measures"][0]
    # a merged level cell: code and name in one cell, recorded at the merge's top-left
    assert first["basic_goal"]["name"] == "しごとをつくる"
    assert first["basic_goal"]["cells"] == {"code": "A5", "name": "A5"}
    assert d["measures"][2]["basic_goal"]["cells"] == {"code": "A8", "name": "A8"}
    assert d["measures"][2]["departments"] == ["企画政策課", "都市計画課"]
    k = first["kpis"][0]
    assert (k["department"], k["cells"]["department"]) == ("商工振興課", "K5")
    # columns the model does not know: kept with their cells
    assert k["extra"] == {"number": "1", "kind": "成果"}
    assert (k["cells"]["number"], k["cells"]["kind"]) == ("C5", "L5")


def test_none_mark_unit_is_no_unit_and_its_cell_is_kept(tmp_path):
    book, spec = _made(tmp_path, write_kpi_list, LAYOUT_KPI_LIST)
    k = _extract(book, spec)["measures"][2]["kpis"][0]
    assert (k["name"], k["unit"], k["cells"]["unit"]) == ("移住ポータルサイトの開設", None, "E8")
    assert all(q["unit"] is None for q in (*k["actuals"], *k["targets"]))
    book, spec = _made(tmp_path, write_blocks, LAYOUT_BLOCKS)
    k = _extract(book, spec)["measures"][0]["kpis"][1]
    assert (k["unit"], k["cells"]["unit"]) == (None, "B12")
    # a layout's own none-mark in the unit cell
    book, spec = _made(tmp_path, write_kpi_list, LAYOUT_KPI_LIST.replace(
        "  percent: fraction", "  percent: fraction\n  none_marks: [該当なし]"))
    import openpyxl
    wb = openpyxl.load_workbook(book)
    wb.active["E9"] = "該当なし"
    wb.save(book)
    k = _extract(book, spec)["measures"][2]["kpis"][1]
    assert (k["unit"], k["cells"]["unit"]) == (None, "E9")


# --- level codes --------------------------------------------------------------------------

def test_level_code_in_its_own_cell_and_code_from_another_label(tmp_path, validator):
    book, spec = _made(tmp_path, write_project, LAYOUT_PROJECT)
    m = _extract(book, spec, validator)["measures"][0]
    assert m["basic_goal"] == {"key": "basic_goal", "label": "基本目標", "no": 1, "code": "Ⅰ",
                               "name": "子どもを産み育てやすいまちづくり", "cell": "C3",
                               "cells": {"code": "B3", "name": "C3"}}
    assert [(lv["key"], lv["code"], lv["no"], lv["name"], lv["cells"]) for lv in m["levels"]] == [
        ("basic_project", "(1)", 1, "地域の子育て力の向上", {"code": "B4", "name": "C4"})]
    book, spec = _made(tmp_path, write_blocks, LAYOUT_BLOCKS)
    m = _extract(book, spec, validator)["measures"][0]
    # 施策番号 「１－１」 in its own cell (code: {label: [施策番号]}), the name right of 施策名
    assert (m["measure"]["code"], m["measure"]["name"]) == ("1-1", "公共交通ネットワークの維持・確保")
    assert m["measure"]["cells"] == {"code": "B2", "name": "D2"}


# --- qualitative KPIs, grade bounds, years without a target ------------------------------

def test_qualitative_kpis_and_grade_bounds_agree_with_the_citys_cells(tmp_path):
    book, spec = _made(tmp_path, write_blocks, LAYOUT_BLOCKS)
    d = _extract(book, spec)
    q = d["measures"][0]["kpis"][1]
    assert [(x["fiscal_year"], x["text"]) for x in q["actuals"]] == [(2020, "着手"), (2021, "未着手")]
    assert [(x["fiscal_year"], x["value"]) for x in q["achievements"]] == [(2020, 100), (2021, 0)]
    assert [(x["fiscal_year"], x["text"]) for x in q["grades"]] == [(2020, "A"), (2021, "C")]
    # 100% is A (80以上100以下), 102% is S (100より大きい), 0% (未着手) is C (0以下); the year
    # without a target (「－」) is not graded
    assert d["findings"] == [] and _validate(book, spec) == []


def test_a_wrong_grade_of_a_qualitative_kpi_is_found(tmp_path):
    book, spec = _made(tmp_path, write_blocks, LAYOUT_BLOCKS, wrong_grade="A")
    found = [f for f in _extract(book, spec)["findings"] if f["code"] == "grade-differs"]
    assert [(f["cell"], "「C」" in f["message"]) for f in found] == [("E15", True)]
    # 未着手 typed as 100% and A: met/unmet say it is 0%; without values.qualitative a text
    # actual gives no rate of xlsgen's own, so only the typed rate and grade are compared
    book, spec = _made(tmp_path, write_blocks, LAYOUT_BLOCKS, wrong_rate=True)
    assert [(f["code"], f["cell"]) for f in _extract(book, spec)["findings"]] == [
        ("achievement-differs", "D15")]
    book, spec = _made(tmp_path, write_blocks, LAYOUT_BLOCKS.replace(
        "  qualitative: {met: [完了, 着手], unmet: [未着手]}\n", ""), wrong_rate=True)
    assert _extract(book, spec)["findings"] == []


def test_per_year_basis_and_a_grade_given_without_a_target(tmp_path):
    book, spec = _made(tmp_path, write_blocks, LAYOUT_BLOCKS, graded_without_target=True)
    found = _extract(book, spec)["findings"]
    assert [(f["code"], f["cell"]) for f in found] == [("grade-without-target", "E9")]
    # with the default basis the 「－」 grade of that year is never compared with the final target
    book, spec = _made(tmp_path, write_blocks, LAYOUT_BLOCKS.replace("  basis: per_year\n", ""))
    assert _extract(book, spec)["findings"] == []


def test_grade_bounds():
    scale = [{"grade": "S", "above": 100}, {"grade": "A", "min": 80, "at_most": 100},
             {"grade": "B", "min": 50, "max": 80}, {"grade": "C", "above": 0, "max": 50},
             {"grade": "D", "at_most": 0}]
    assert [grade_for(scale, p) for p in (100.1, 100, 80, 79.9, 50, 0.1, 0, -5)] == [
        "S", "A", "A", "B", "B", "C", "D", "D"]
    assert grade_scale_problems(scale) == []
    # a scale of min only, as before bounds: highest first, the last takes what is below
    assert [grade_for([{"grade": "B", "min": 80}, {"grade": "A", "min": 100}], p) for p in (120, 90, 10)] == [
        "A", "B", "B"]
    gaps = grade_scale_problems([{"grade": "A", "min": 90}, {"grade": "B", "min": 50, "max": 80}])
    assert any("85%" in g for g in gaps) and any("49%" in g for g in gaps)
    overlap = grade_scale_problems([{"grade": "A", "min": 80}, {"grade": "B", "min": 50, "at_most": 90}])
    assert any("A・B" in g for g in overlap)


def test_layout_check_lists_gaps_and_a_grade_without_bounds_is_refused(tmp_path):
    book, spec = _made(tmp_path, write_blocks, LAYOUT_BLOCKS.replace(
        "    - {grade: B, above: 0, max: 80}\n", ""))
    ok, lines = check_layout(spec, book)
    assert any("[評価の基準]" in x and "当たる評価がありません" in x for x in lines)
    spec.write_text(LAYOUT_BLOCKS.replace("{grade: S, above: 100}", "{grade: S}"), encoding="utf-8")
    with pytest.raises(LayoutSpecError, match="範囲"):
        load_spec(spec)


# --- evaluations, policy, number, fiscal_year, unit_in_name --------------------------------

def test_evaluations_with_reasons_policy_number_and_the_edition(tmp_path, validator):
    book, spec = _made(tmp_path, write_project, LAYOUT_PROJECT)
    d = _extract(book, spec, validator)
    m = d["measures"][0]
    assert [(e["key"], e["label"], e["value"], e["cell"]) for e in m["evaluations"]] == [
        ("necessity", "必要性", "A", "B12"), ("effectiveness", "有効性", "B", "B13"),
        ("overall", "総合評価", "B", "B14")]
    reasons = {t["key"]: (t["cell"], t["role"]) for t in m["texts"] if t["key"] in
               ("necessity", "effectiveness", "overall")}
    # right of the value (the next cell holding something, D13 past the empty C13), or below it
    assert reasons == {"necessity": ("C12", "check"), "effectiveness": ("D13", "check"),
                       "overall": ("B15", "check")}
    assert (m["policy"], m["number"]) == ("現状維持", "0101")
    assert [(t["key"], t["role"]) for t in m["texts"] if t["key"] == "improvement"] == [("improvement", "action")]
    # 評価年度 gives the edition
    assert (d["fiscal_year"], m["extra"]["fiscal_year"], m["cells"]["fiscal_year"]) == (2022, 2022, "F1")
    assert d["findings"] == []


def test_unit_written_inside_the_kpi_name(tmp_path):
    book, spec = _made(tmp_path, write_project, LAYOUT_PROJECT)
    kpis = _extract(book, spec)["measures"][0]["kpis"]
    assert [(k["name"], k["unit"], k["cells"]["unit"]) for k in kpis] == [
        ("センター開設日数（日）", "日", "A7"), ("利用者の満足度（%）", "%", "A9")]
    assert [q["unit"] for q in kpis[0]["actuals"] if q["value"] is not None] == ["日", "日"]
    book, spec = _made(tmp_path, write_project, LAYOUT_PROJECT.replace(", unit_in_name: true", ""))
    assert _extract(book, spec)["measures"][0]["kpis"][0]["unit"] is None


def test_checked_choice():
    assert checked_choice("□拡充　■現状維持　□改善　□縮小") == "現状維持"
    assert checked_choice("☑拡充 □継続") == "拡充"
    assert checked_choice("■拡充　■継続") == "拡充、継続"
    assert checked_choice("継続") == "継続"


# --- texts by year ---------------------------------------------------------------------------

def test_text_blocks_by_year_rows_heading_year_and_right_of_the_heading(tmp_path):
    book, spec = _made(tmp_path, write_blocks, LAYOUT_BLOCKS)
    m = _extract(book, spec)["measures"][0]
    texts = {(t["key"], t["fiscal_year"]): (t["text"], t["cell"], t["role"]) for t in m["texts"]}
    assert texts[("done", 2021)] == ("路線の再編案を作成した。", "B17", "do")  # R3年度の取組状況
    assert texts[("history", 2020)] == ("会議を設置した。", "B20", "do")
    # a row without a year continues the year above
    assert texts[("history", 2021)] == ("計画を策定した。\n（続き）住民説明会を開いた。", "B21", "do")
    # at: right — the rows the heading covers, so the footnote below is not read as 方針
    assert texts[("next", None)] == ("路線の再編を進める。\nデマンド交通の事業者を募る。", "B24", "action")
    # without it the block is what is below the heading (merged over two rows): the footnote
    book, spec = _made(tmp_path, write_blocks, LAYOUT_BLOCKS.replace(", at: right", ""))
    below = [t["text"] for t in _extract(book, spec)["measures"][0]["texts"] if t["key"] == "next"]
    assert below == ["※ この行は注記で、方針ではない。"]


def test_per_year_texts_in_kpi_blocks(tmp_path):
    book, spec = _made(tmp_path, write_blocks, LAYOUT_BLOCKS)
    k = _extract(book, spec)["measures"][0]["kpis"][0]
    assert [(t["key"], t["fiscal_year"], t["cell"], t["role"]) for t in k["texts"]] == [
        ("explanation", 2020, "F7", "do"), ("explanation", 2021, "F8", "do"),
        ("explanation", 2022, "F9", "do")]


def test_a_numbered_heading_and_years_in_rows(tmp_path):
    """「５　年度ごとの取組実績」: the clerk's number set off by a space is not part of the label."""
    book, spec = _made(tmp_path, write_project, LAYOUT_PROJECT)
    m = _extract(book, spec)["measures"][0]
    assert [(t["fiscal_year"], t["text"], t["cell"]) for t in m["texts"] if t["key"] == "do"] == [
        (2020, "オンライン相談を開始した。", "B20"), (2021, "アプリを導入した。", "B21")]


# --- the edition -----------------------------------------------------------------------------

def test_the_title_names_the_edition_and_an_empty_actual_column_of_that_year_is_not_reported(tmp_path):
    """R3年度(実績値) filled, R4年度(実績値) still empty, the title 「令和4年度 …」: the R4 edition."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "施策01"
    ws["A1"] = "令和4年度　施策進捗状況調書"
    ws["A2"], ws["B2"] = "施策名", "商工業の振興"
    for c, h in zip("ABCD", ["指標名", "R3年度(実績値)", "R4年度(実績値)", "R6年度(目標値)"]):
        ws[f"{c}4"] = h
    ws.append(["市内事業所数", 3120, None, 3200])
    book = tmp_path / "f.xlsx"
    wb.save(book)
    layout = """\
name: progress
detect: [{labels: [施策進捗状況調書], match: contains}]
fields:
  title: {label: ["re:施策進捗状況調書$"], at: same}
  measure: {label: [施策名], required: true}
table:
  header: [指標名]
"""
    spec = tmp_path / "p.yaml"
    spec.write_text(layout, encoding="utf-8")
    d = _extract(book, spec)
    assert d["fiscal_year"] == 2022 and d["measures"][0]["extra"]["reported_years"] == [2021]
    # without the title the headers decide: the year after the last one headed 実績値
    spec.write_text(layout.replace('  title: {label: ["re:施策進捗状況調書$"], at: same}\n', ""),
                    encoding="utf-8")
    assert _extract(book, spec)["fiscal_year"] == 2023


# --- the report ------------------------------------------------------------------------------

@pytest.mark.parametrize("writer, layout", [(write_two_sheets, LAYOUT_TWO_SHEETS),
                                            (write_kpi_list, LAYOUT_KPI_LIST),
                                            (write_blocks, LAYOUT_BLOCKS),
                                            (write_project, LAYOUT_PROJECT)],
                         ids=["two_sheets", "kpi_list", "blocks", "project"])
def test_build_writes_a_report_of_every_shape(tmp_path, writer, layout):
    import openpyxl

    book, spec = _made(tmp_path, writer, layout)
    out = tmp_path / "report.xlsx"
    r = CliRunner().invoke(cli, ["build", str(book), "-o", str(out), "--layout-file", str(spec)])
    assert r.exit_code == 0, r.output
    assert openpyxl.load_workbook(out).sheetnames

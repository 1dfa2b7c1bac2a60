"""Layout keys for what a 施策評価シート carries besides its KPI table (issue 17, blind test):
two KPI tables under their own headings sharing one header (a section heading above the
header: `section`), tick boxes in cells of their own (`parser: checked_cells`) and the
separator of several ticks (`join`), a projects table with a 合計 row (`total`), survey values
by year as a second KPI table (`holds: kpis`, a 前年度比 column `type: quantity`), a text table
with one row per 担当課 (`holds: texts`), and a 評価 column without a year (the year the
edition reports, not the latest year with an actual). Each from a small book built here.
"""

from __future__ import annotations

import json

import jsonschema
import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from xlsgen.cli import cli
from xlsgen.layout import read_book
from xlsgen.resources import schema_path

LAYOUT = {
    "name": "further",
    "record": "sheet",
    "detect": [{"id": "k", "labels": ["指標名"]}],
    "fields": {
        "title": {"label": ["re:評価シート$"], "at": "same"},
        "measure": {"label": ["施策"], "required": True},
        "method": {"label": ["実施手法"], "parser": "checked_choice", "join": "・"},
        "policy": {"label": ["事業の方向性"], "parser": "checked_cells"},
    },
    "table": {"header": ["指標名"],
              "columns": {"name": {"label": ["指標名"]}, "unit": {"label": ["単位"]},
                          "grade": {"label": ["評価"]}},
              "section": {"column": "name", "labels": ["re:^■(活動|成果)指標"], "field": "category"}},
    "tables": {
        "projects": {"holds": "projects", "after": ["主な事業"], "header": ["事業名"],
                     "columns": {"name": {"label": ["事業名"]}},
                     "amounts": {"unit": {"default": "千円"}}, "total": ["合計"]},
        "survey": {"holds": "kpis", "after": ["市民満足度"], "header": ["項目"],
                   "columns": {"name": {"label": ["項目"]},
                               "change": {"label": ["前年度比"], "type": "quantity"}}},
        "issues": {"holds": "texts", "after": ["課題と今後の方向性"], "header": ["担当課"],
                   "columns": {"department": {"label": ["担当課"]}, "issue": {"label": ["課題"], "role": "check"},
                               "next": {"label": ["今後の方向性"], "role": "action"}}},
    },
    "values": {"status": ["集計中"], "percent": "fraction"},
}


def write_book(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "施策1"
    rows = [
        ["令和５年度　施策評価シート"],
        ["施策", "地産地消の推進"],
        ["実施手法", "□直営　■委託　■補助"],
        [],
        ["■活動指標"],
        ["指標名", "単位", "R3年度", "R4年度", "評価"],
        ["講習会の開催回数", "回", 10, 12, "A"],
        ["■成果指標"],
        ["指標名", "単位", "R3年度", "R4年度", "評価"],
        ["直売所の売上", "百万円", 300, "集計中", "－"],
        ["給食の地場産率", "%", 0.3, 0.32, "B"],
        [],
        ["主な事業"],
        ["事業名", "令和３年度", "令和４年度"],
        ["直売所支援", 1000, 1200],
        ["給食連携", 500, 600],
        ["合計", 1500, 1800],
        [],
        ["市民満足度"],
        ["項目", "令和３年度", "令和４年度", "前年度比"],
        ["満足度", 0.352, 0.368, 1.6],
        ["重要度", 0.714, 0.702, -1.2],
        [],
        ["課題と今後の方向性"],
        ["担当課", "課題", "今後の方向性"],
        ["農政課", "担い手が不足している。", "研修を拡充する。"],
        ["学校給食課", "量の確保が難しい。", "契約栽培を試行する。"],
        [],
        ["事業の方向性", "□拡充", "■現状維持", "□縮小"],
    ]
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row, start=1):
            ws.cell(r, c, v)
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    d = tmp_path_factory.mktemp("further")
    (d / "further.yaml").write_text(yaml.safe_dump(LAYOUT, allow_unicode=True), "utf-8")
    path = write_book(d / "sheet.xlsx")
    return path, d / "further.yaml", read_book(path, layout_file=str(d / "further.yaml"))


def test_two_kpi_tables_under_their_headings_share_one_header(book):
    _, _, b = book
    m = b.measures[0]
    got = [(k.name, k.category, k.cells.get("category")) for k in m.kpis if k.name != "満足度" and k.name != "重要度"]
    assert got == [("講習会の開催回数", "活動指標", "A5"), ("直売所の売上", "成果指標", "A8"),
                   ("給食の地場産率", "成果指標", "A8")]


def test_a_yearless_grade_belongs_to_the_year_the_edition_reports(book):
    _, _, b = book
    m = b.measures[0]
    k = next(k for k in m.kpis if k.name == "直売所の売上")  # R4 actual 集計中: still R4's grade
    assert [(q.fiscal_year, q.text) for q in k.grades] == [(2022, "－")]
    k = next(k for k in m.kpis if k.name == "講習会の開催回数")
    assert [(q.fiscal_year, q.text) for q in k.grades] == [(2022, "A")]


def test_tick_boxes_in_one_cell_joined_as_the_layout_says_and_in_cells_of_their_own(book):
    _, _, b = book
    m = b.measures[0]
    assert m.extra["method"] == "委託・補助"
    assert m.policy == "現状維持" and m.cells["policy"] == "C29"  # the ticked cell


def test_a_projects_total_row_is_the_tables_total_not_a_project(book):
    _, _, b = book
    m = b.measures[0]
    assert [p.name for p in m.projects] == ["直売所支援", "給食連携"]
    assert [(a.fiscal_year, a.value.value, a.value.cell) for a in m.totals["projects"]] == \
        [(2021, 1500, "B17"), (2022, 1800, "C17")]
    assert m.tables["projects"]["total_row"] == 17


def test_survey_values_by_year_are_a_second_kpi_table_with_its_point_change(book):
    _, _, b = book
    m = b.measures[0]
    sat = next(k for k in m.kpis if k.name == "満足度")
    assert [(q.fiscal_year, q.value, q.cell) for q in sat.actuals] == [(2021, 0.352, "B21"), (2022, 0.368, "C21")]
    assert sat.extra["change"]["value"] == 1.6 and sat.extra["change"]["cell"] == "D21"
    assert m.tables["survey"]["year_columns"] == {"2021": "B", "2022": "C"}


def test_a_text_table_gives_each_rows_texts_their_department(book):
    _, _, b = book
    m = b.measures[0]
    got = [(t.key, t.role, t.department, t.text, t.cell, t.cells.get("department"))
           for t in m.texts if t.key in ("issue", "next")]
    assert got == [("issue", "check", "農政課", "担い手が不足している。", "B26", "A26"),
                   ("next", "action", "農政課", "研修を拡充する。", "C26", "A26"),
                   ("issue", "check", "学校給食課", "量の確保が難しい。", "B27", "A27"),
                   ("next", "action", "学校給食課", "契約栽培を試行する。", "C27", "A27")]


def test_the_extract_fits_the_schema_and_build_works(book, tmp_path):
    path, layout, _ = book
    r = CliRunner().invoke(cli, ["extract", str(path), "--layout-file", str(layout)])
    assert r.exit_code == 0, r.output
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(json.loads(r.output)))
    assert not errors, [e.message for e in errors[:3]]
    out = tmp_path / "r.xlsx"
    r = CliRunner().invoke(cli, ["build", str(path), "--layout-file", str(layout), "-o", str(out)])
    assert r.exit_code == 0, r.output

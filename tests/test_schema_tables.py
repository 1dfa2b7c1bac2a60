"""The table half of the layout schema additions (issue 17, phase two): further tables of a
record (`tables:` with `holds: projects` / `holds: cost`), tables that end where the layout
says (`end: {labels, blank_rows}` on every table form), text and note columns (`holds`),
columns by group header (`under`) and `nth`, circled numbers as decoration, a 目標値(R2)
header as the final target, and the geometry of every table (`Measure.tables`).

Each shape has a workbook (tests/table_workbooks.py) whose facts are pinned
(tests/table_facts/); every fact must be read, nothing read from a cell that holds no fact,
`validate` silent, the extract valid against the JSON Schema, and `build` must work.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import openpyxl
import pytest
import yaml
from city_corpus import cell_problems, dump
from click.testing import CliRunner
from fact_coverage import check
from table_workbooks import BOOKS, LAYOUTS_DIR, facts_file, write_books

from xlsgen.cli import cli
from xlsgen.layout import load_spec, read_book
from xlsgen.layout.spec import LayoutSpecError, compile_labels
from xlsgen.read.grid import squash
from xlsgen.resources import schema_path

LAYOUT = {name: LAYOUTS_DIR / f"{Path(name).stem}.yaml" for name in BOOKS}


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    d = tmp_path_factory.mktemp("table_books")
    return d, write_books(d)


@pytest.fixture(scope="module")
def extracts(books):
    d, _ = books
    out = {}
    for name in BOOKS:
        r = CliRunner().invoke(cli, ["extract", str(d / name), "--layout-file", str(LAYOUT[name])])
        assert r.exit_code == 0, r.output
        out[name] = json.loads(r.output)
    return out


def _measure(extracts, book, sheet):
    return next(m for m in extracts[book]["measures"] if m["sheet"] == sheet)


def _q(q):
    return (q["fiscal_year"], q["value"], q["unit"], q["cell"])


# --- the books and their facts -------------------------------------------------------------

def test_the_generator_gives_the_pinned_facts(books):
    _, facts = books
    for name, f in facts.items():
        assert dump(f) == facts_file(name).read_text(encoding="utf-8"), \
            f"{name}: facts changed; run `python tests/table_workbooks.py --pin` if meant"


def test_every_fact_is_in_its_cell_and_formulas_cache_what_libreoffice_computes(books, recalc):
    d, facts = books
    for name, f in facts.items():
        assert cell_problems(d / name, f) == [], name
        if any("formula" in x for x in f["facts"]):
            assert cell_problems(d / name, f, values_only_from=recalc(d / name)) == [], name


@pytest.mark.parametrize("name", sorted(BOOKS))
def test_every_fact_is_read_and_nothing_else(books, extracts, name):
    _, facts = books
    res = check(extracts[name], facts[name])
    assert res.missing_facts == [], res.missing_facts[:5]
    assert res.ratio == 1.0
    assert res.stray == [], res.stray[:5]  # nothing read from a label, a total or a legend
    assert res.none_units == []
    assert extracts[name]["fiscal_year"] == facts[name]["fiscal_year"]


@pytest.mark.parametrize("name", sorted(BOOKS))
def test_validate_finds_nothing_and_the_extract_fits_the_schema(books, extracts, name):
    d, _ = books
    r = CliRunner().invoke(cli, ["validate", str(d / name), "--layout-file", str(LAYOUT[name]),
                                 "--format", "json"])
    assert r.exit_code == 0, r.output
    findings = [f for file in json.loads(r.output)["files"] for f in file["findings"]]
    assert findings == []
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(extracts[name]))
    assert not errors, [e.message for e in errors[:3]]


@pytest.mark.parametrize("name", ["measure_projects.xlsx", "project_cost.xlsx"])
def test_build_works(books, tmp_path, name):
    d, _ = books
    out = tmp_path / "report.xlsx"
    r = CliRunner().invoke(cli, ["build", str(d / name), "--layout-file", str(LAYOUT[name]), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert len(openpyxl.load_workbook(out).sheetnames) >= 3


# --- tables: holds: projects --------------------------------------------------------------

def test_project_lines_with_amounts_by_year_and_kind(extracts):
    m = _measure(extracts, "measure_projects.xlsx", "施策01")
    assert [p["name"] for p in m["projects"]] == ["特定健康診査事業", "がん検診事業", "健康マイレージ事業【新規】"]
    first, _, last = m["projects"]
    assert (first["department"], first["content"]) == ("保険年金課", "国保加入者の特定健診を行う。")
    assert [(a["fiscal_year"], a["kind"], a["value"]["value"], a["value"]["unit"], a["value"]["cell"])
            for a in first["amounts"]] == [(2020, "決算額", 58420, "千円", "F13"),
                                           (2021, "決算額", 49815, "千円", "G13"),
                                           (2022, "予算額", 60210, "千円", "H13")]
    # an empty amount keeps its cell (next year's input), without a unit; 【新規】 is a tag
    assert _q(last["amounts"][0]["value"]) == (2020, None, None, "F15")
    assert last["tags"] == ["新規"]
    # No. is not a known column: kept in extra, with its cell; 合計 is not a line
    assert (first["extra"], first["cells"]) == ({"number": 1}, {"name": "B13", "number": "A13",
                                                                "department": "C13", "content": "D13"})
    yen = _measure(extracts, "measure_projects.xlsx", "施策02")
    assert len(yen["projects"]) == 1
    assert {a["value"]["unit"] for a in yen["projects"][0]["amounts"]} == {"円"}  # （単位：円）


def test_the_kpi_table_ends_where_the_projects_table_begins(extracts):
    m = _measure(extracts, "measure_projects.xlsx", "施策01")
    assert [k["name"] for k in m["kpis"]] == ["特定健診受診率", "健康教室参加者数"]
    assert m["tables"]["projects"] == {
        "holds": "projects", "sheet": "施策01", "header_row": 11, "first_row": 13, "last_row": 15,
        "years": "columns", "year_columns": {"2020": "F", "2021": "G", "2022": "H"},
        "year_roles": {"2020": "actual", "2021": "actual", "2022": "budget"},
        "year_kinds": {"2020": "決算額", "2021": "決算額", "2022": "予算額"},
        "columns": {"number": "A", "name": "B", "department": "C", "content": "D"},
        "unit": "千円", "cells": {"unit": "H10"}}


# --- tables: holds: cost ---------------------------------------------------------------------

def test_cost_block_lines_by_year_in_the_sheets_unit(extracts):
    m = _measure(extracts, "project_cost.xlsx", "事業01")
    c = m["cost"]
    assert (c["unit"], c["years"]) == ("千円", [2020, 2021, 2022])
    assert c["year_kinds"] == {"2020": "決算額", "2021": "決算額", "2022": "予算額"}
    assert [(ln["key"], ln["label"]) for ln in c["lines"]] == [
        ("project_cost", "①事業費"), ("national", "国庫支出金"), ("prefectural", "県支出金"),
        ("other", "その他"), ("general", "一般財源"), ("staff", "②職員人工（人）"),
        ("staff_unit_cost", "③平均職員費"), ("personnel", "④人件費（②×③）"),
        ("total", "⑤総事業費（①＋④）")]
    lines = {ln["key"]: ln["values"] for ln in c["lines"]}
    assert [_q(q) for q in lines["total"]] == [(2020, 36398, "千円", "E24"), (2021, 32809, "千円", "F24"),
                                               (2022, 36034, "千円", "G24")]
    assert [_q(q) for q in lines["staff"]][0] == (2020, 1.5, "人", "E21")  # the line's own unit
    assert lines["other"][0]["none"] is True and lines["other"][0]["value"] is None
    assert (c["cells"]["unit"], c["cells"]["header"], c["cells"]["total"]) == ("H13", "A14", "E24")
    # 単位コスト as the sheet has it, its indicator named in its label
    assert c["unit_cost"]["indicator"] == "センター利用者数"
    assert [_q(q) for q in c["unit_cost"]["values"]] == [
        (2020, 3170, "円/人", "E25"), (2021, 4731, "円/人", "F25"), (2022, None, None, "G25")]
    yen = _measure(extracts, "project_cost.xlsx", "事業02")["cost"]
    assert yen["unit"] == "円" and yen["lines"][0]["values"][0]["unit"] == "円"


def test_cost_block_geometry_for_roll_forward(extracts):
    m = _measure(extracts, "project_cost.xlsx", "事業01")
    assert m["tables"]["cost"] == {
        "holds": "cost", "sheet": "事業01", "header_row": 14, "first_row": 16, "last_row": 25,
        "years": "columns", "year_columns": {"2020": "E", "2021": "F", "2022": "G"},
        "year_roles": {"2020": "actual", "2021": "actual", "2022": "budget"},
        "year_kinds": {"2020": "決算額", "2021": "決算額", "2022": "予算額"},
        "columns": {"name": "A"}, "unit": "千円", "cells": {"unit": "H13"},
        "line_rows": {"project_cost": 16, "national": 17, "prefectural": 18, "other": 19, "general": 20,
                      "staff": 21, "staff_unit_cost": 22, "personnel": 23, "total": 24, "unit_cost": 25}}
    kpi = m["tables"]["kpi"]
    assert (kpi["header_row"], kpi["first_row"], kpi["last_row"]) == (5, 6, 11)
    assert kpi["columns"] == {"name": "A", "unit": "C", "kind": "D", "note": "H"}


def test_kinds_in_the_year_cell_own_keys_and_a_derived_unit_cost(extracts):
    one = _measure(extracts, "management_cost.xlsx", "No.1")["cost"]
    assert one["year_kinds"] == {"2020": "決算", "2021": "決算", "2022": "予算", "2023": "計画"}
    assert [ln["key"] for ln in one["lines"]] == ["project_cost", "grants", "general", "regular_staff",
                                                  "personnel", "total"]
    assert one["unit_cost"]["indicator"] == "防災訓練への補助件数"
    assert [q["value"] for q in one["unit_cost"]["values"]] == [378571, 278484, None, None]
    # the footnote after the blank row is not a line, and 計画 is a plan year for the planner
    m = _measure(extracts, "management_cost.xlsx", "No.1")
    assert m["tables"]["cost"]["year_roles"]["2023"] == "plan"
    assert m["tables"]["cost"]["last_row"] == 19
    # a sheet without the 1件あたりコスト line: derived, total × 1000 ÷ the indicator's actual
    two = _measure(extracts, "management_cost.xlsx", "No.2")["cost"]
    assert two["unit_cost"]["indicator"] == "耐震改修補助件数"
    got = [(q["fiscal_year"], q["value"], q["cell"]) for q in two["unit_cost"]["values"]]
    assert got[:2] == [(2020, pytest.approx((14850 + 7900) * 1000 / 9), None),
                       (2021, pytest.approx((19620 + 7850) * 1000 / 12), None)]


# --- table ends --------------------------------------------------------------------------------

def test_a_blocks_years_across_columns_table_ends_at_its_end_label(books, tmp_path):
    d, _ = books
    path = d / "kpi_sheets_end.xlsx"
    spec = yaml.safe_load(LAYOUT["kpi_sheets_end.xlsx"].read_text("utf-8"))
    del spec["table"]["row_roles"]  # roles guessed from the first cell (目標値 / 実績値 / 達成率)
    guessed = tmp_path / "guessed.yaml"
    guessed.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    k = read_book(path, layout_file=str(guessed)).measures[0].kpis[0]
    # 数値の基準年度 (row 10) is not a baseline row, 評価基準 (row 12) no grade row
    assert (k.baseline.cell, k.baseline.value, k.baseline_year) == ("B7", 4, 2018)
    assert k.grades == [] and {q.cell[1:] for q in k.actuals} == {"7"}
    del spec["table"]["end"]
    endless = tmp_path / "endless.yaml"
    endless.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    k = read_book(path, layout_file=str(endless)).measures[0].kpis[0]
    # what the end prevents: a label row below the table (数値の基準年度, 実績値の計算方法) read
    # as the baseline
    assert k.baseline.cell in ("B10", "B11", "B12")


def test_declared_row_roles_are_matched_whole_in_a_block(books, tmp_path):
    d, _ = books
    spec = yaml.safe_load(LAYOUT["kpi_sheets_end.xlsx"].read_text("utf-8"))
    spec["table"]["row_roles"]["roles"]["評価"] = "grade"
    del spec["table"]["end"]
    f = tmp_path / "roles.yaml"
    f.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    k = read_book(d / "kpi_sheets_end.xlsx", layout_file=str(f)).measures[0].kpis[0]
    assert k.grades == []  # 評価基準 is not 評価
    assert (k.baseline.cell, k.target.cell) == ("B7", "F7")


def test_target_header_with_its_year_in_brackets_is_the_final_target(extracts):
    one = _measure(extracts, "kpi_sheets_end.xlsx", "KPI1")["kpis"][0]
    two = _measure(extracts, "kpi_sheets_end.xlsx", "KPI2")["kpis"][0]
    # 目標値(R3) beside R3年度: the final target, on the 実績値 row (KPI1) or the 目標値 row (KPI2)
    assert (one["target"]["cell"], one["target"]["value"], one["target_year"]) == ("F7", 12, 2021)
    assert (two["target"]["cell"], two["target"]["value"], two["target_year"]) == ("F6", 1400, 2021)
    assert [q["cell"] for q in one["targets"]] == ["C6", "D6", "E6"]
    assert one["targets"][0]["none"] is True
    assert _measure(extracts, "kpi_sheets_end.xlsx", "KPI1")["tables"]["kpi"]["columns"]["final_target"] == "F"


def _book(tmp_path, rows, **table):
    """A record sheet: 施策 field, a KPI table (指標名 | R2年度 | R3年度) and the rows given."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "施策1"
    ws["A1"], ws["B1"] = "施策", "観光の振興"
    for c, v in zip("ABC", ["指標名", "R2年度", "R3年度"]):
        ws[f"{c}3"] = v
    for i, row in enumerate(rows, start=4):
        for c, v in zip("ABC", row):
            if v is not None:
                ws[f"{c}{i}"] = v
    wb.save(tmp_path / "b.xlsx")
    spec = {"name": "t", "record": "sheet", "detect": [{"id": "k", "labels": ["指標名"]}],
            "fields": {"measure": {"label": ["施策"]}}, "table": {"header": ["指標名"], **table}}
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    return read_book(tmp_path / "b.xlsx", layout_file=str(tmp_path / "t.yaml"))


def test_a_record_table_ends_at_blank_rows(tmp_path):
    rows = [["観光客数", 100, 120], ["宿泊者数", 30, 35], [None, None, None], ["参考：県全体", 9000, 9100]]
    assert [k.name for k in _book(tmp_path, rows).measures[0].kpis] == ["観光客数", "宿泊者数", "参考：県全体"]
    book = _book(tmp_path, rows, end={"blank_rows": 1})
    assert [k.name for k in book.measures[0].kpis] == ["観光客数", "宿泊者数"]
    assert book.measures[0].tables["kpi"]["last_row"] == 5
    book = _book(tmp_path, rows, end={"labels": ["参考"]})
    assert [k.name for k in book.measures[0].kpis] == ["観光客数", "宿泊者数"]


def test_a_years_as_rows_table_ends_at_a_label(books, tmp_path):
    d, _ = books
    spec = yaml.safe_load(LAYOUT["kpi_blocks_texts.xlsx"].read_text("utf-8"))
    spec["table"]["end"] = ["R4"]  # a label: the R4 row and below are not read
    f = tmp_path / "end.yaml"
    f.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    k = read_book(d / "kpi_blocks_texts.xlsx", layout_file=str(f)).measures[0].kpis[0]
    assert [q.fiscal_year for q in k.targets] == [2020, 2021]


# --- text and note columns -----------------------------------------------------------------

def test_a_text_column_by_year_is_texts_not_actuals(extracts):
    m = _measure(extracts, "measure_projects.xlsx", "施策01")
    k = m["kpis"][0]
    assert [q["cell"] for q in k["actuals"]] == ["G7", "H7"]  # not I7, J7: 実績の分析・要因 holds texts
    assert m["actual_years"] == [2020, 2021]
    assert [(t["key"], t["label"], t["role"], t["fiscal_year"], t["text"], t["cell"]) for t in k["texts"]] == [
        ("analysis", "実績の分析・要因", "check", 2020, "受診勧奨はがきで上昇した。", "I7"),
        ("analysis", "実績の分析・要因", "check", 2021, "受診控えで大きく低下した。", "J7")]
    assert (k["notes"], k["cells"]["notes"]) == ("国の目標に合わせた", "K7")
    assert m["kpis"][1]["notes"] == "" and "notes" not in m["kpis"][1]["cells"]
    assert m["tables"]["kpi"]["text_columns"] == {"analysis": {"2020": "I", "2021": "J"}}


def test_text_and_note_columns_in_a_years_as_rows_table(extracts):
    m = _measure(extracts, "kpi_blocks_texts.xlsx", "施策1-1")
    bus, demand = m["kpis"]
    assert [(t["fiscal_year"], t["role"], t["text"], t["cell"]) for t in bus["texts"]] == [
        (2020, "do", "外出自粛で減少した。", "D7"), (2021, "do", "回復傾向にある。", "D8")]
    assert (bus["notes"], demand["notes"]) == ("4～5月は運休", "R4.3に地区を拡大")
    assert [q["fiscal_year"] for q in bus["actuals"]] == [2020, 2021, 2022]  # the legend row is not read
    assert m["tables"]["kpi"]["year_rows"] == {"2020": 7, "2021": 8, "2022": 9}
    assert m["tables"]["kpi.2"]["year_rows"] == {"2020": 16, "2021": 17, "2022": 18}
    assert m["tables"]["kpi"]["columns"] == {"target": "B", "actual": "C"}


# --- columns by group header and nth ---------------------------------------------------------

def test_columns_under_a_group_header_and_the_nth(books, extracts, tmp_path):
    k = _measure(extracts, "measure_projects.xlsx", "施策01")["kpis"][0]
    assert (k["baseline"]["cell"], k["baseline_year"]) == ("C7", 2018)
    assert (k["target"]["cell"], k["target"]["value"], k["target_year"]) == ("E7", 60, 2023)
    d, _ = books
    spec = yaml.safe_load(LAYOUT["measure_projects.xlsx"].read_text("utf-8"))
    del spec["table"]["columns"]["target"]["under"]
    spec["table"]["columns"]["target_year"] = {"label": ["年度"]}
    f = tmp_path / "plain.yaml"
    f.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    k = read_book(d / "measure_projects.xlsx", layout_file=str(f)).measures[0].kpis[0]
    assert (k.target.cell, k.target_year) == ("C7", 2018)  # without them: the baseline's columns


# --- labels ------------------------------------------------------------------------------------

def test_circled_numbers_are_decoration():
    total = compile_labels(["総事業費"], "start")
    assert total.match(squash("⑤総事業費（①＋④）"))
    assert compile_labels(["事業費"]).match(squash("①事業費"))
    assert not compile_labels(["事業費"], "start").match(squash("⑤総事業費（①＋④）"))
    assert squash("⑳合計") == "(20)合計"


def test_a_heading_with_its_number_is_found_by_after():
    heading = compile_labels(["事業費の推移"], "heading")
    assert heading.match(squash("２　事業費の推移")) and heading.match(squash("■事業費の推移"))
    assert not compile_labels(["事業費の推移"], "start").match(squash("２　事業費の推移"))


# --- the layout file ---------------------------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    ({"tables": {"cost": {"header": ["項目"], "lines": {"total": ["総事業費"]}}}}, "holds"),
    ({"tables": {"cost": {"holds": "money", "header": ["項目"], "lines": {"total": ["x"]}}}}, "money"),
    ({"tables": {"cost": {"holds": "cost", "header": ["項目"]}}}, "lines"),
    ({"tables": {"p": {"holds": "projects", "header": ["事業名"], "columns": {"x": {"label": ["x"]}}}}},
     "columns.name"),
    ({"tables": {"cost": {"holds": "cost", "header": ["項目"],
                          "lines": {"staff": {"label": ["職員"], "units": "人"}}}}}, "units"),
    ({"table": {"header": ["指標名"], "end": {"blank_rows": "1"}}}, "blank_rows"),
    ({"table": {"header": ["指標名"], "columns": {"a": {"label": ["分析"], "holds": "memo"}}}}, "memo"),
    ({"table": {"header": ["指標名"], "columns": {"a": {"label": ["分析"], "holds": "text",
                                                        "role": "actual"}}}}, "actual"),
])
def test_wrong_table_keys_are_refused_with_their_line(tmp_path, change, message):
    spec = {"name": "t", "detect": [{"id": "k", "labels": ["指標名"]}], "table": {"header": ["指標名"]}}
    spec.update(change)
    f = tmp_path / "t.yaml"
    f.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    with pytest.raises(LayoutSpecError) as exc:
        load_spec(f)
    assert message in str(exc.value) and "行目" in str(exc.value)


def test_the_layouts_of_this_module_load():
    for f in LAYOUT.values():
        assert load_spec(f).get("tables") is not None or load_spec(f).get("table")


def test_every_table_of_the_shipped_books_has_its_geometry():
    """The KPI table of a one-sheet-per-measure book, a KPI list and the 【Do】 table of the
    project sheets: where next year's cells are, the same cells the values were read from."""
    from conftest import JOSO, NISHITOKYO, OJIYA

    for path in (OJIYA, NISHITOKYO):
        for m in read_book(path).measures:
            t = m.tables["kpi"]
            assert t["year_columns"] == {str(y): c for y, c in m.year_columns.items()}
            assert t["header_row"] == m.kpi_header_row
            assert t["first_row"] <= min(k.row for k in m.kpis) <= max(k.row for k in m.kpis) <= t["last_row"]
    projects = [m for m in read_book(JOSO).measures if m.extra.get("sheet_role") == "project"]
    assert projects
    for m in projects:
        t = m.tables["kpi"]
        assert t["years"] == "rows" and t["kpis"] == [m.kpis[0].name]
        for q in m.kpis[0].actuals:
            assert q.cell == f"{t['columns']['result']}{t['year_rows'][str(q.fiscal_year)]}"
        for q in m.cost.line("project_cost").values:
            if str(q.fiscal_year) in t["year_rows"]:
                assert q.cell == f"{t['columns']['amount']}{t['year_rows'][str(q.fiscal_year)]}"

"""Reading gaps a city's own layout files met on unseen workbooks (issue 17, blind test 1):
section headings in a one-measure sheet, departments with a space inside, text rows under a
KPI table, 合計 in a KPI name, the layout's own cost lines, sheets skipped on purpose.

Every book is built here, small, with the shape that went wrong; no city's labels.
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
from xlsgen.layout.check import check_layout
from xlsgen.layout.spec import LayoutSpecError, load_spec
from xlsgen.resources import schema_path


def _write(tmp_path, sheets: dict, spec: dict, name="b.xlsx"):
    """A workbook of `sheets` ({title: {cell: value}}, merges as "A1:C1" keys with value None)
    and the layout `spec` beside it → (book path, layout path)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, cells in sheets.items():
        ws = wb.create_sheet(title)
        for ref, v in cells.items():
            if ":" in ref:
                ws.merge_cells(ref)
                if v is not None:
                    ws[ref.split(":")[0]] = v
            else:
                ws[ref] = v
    wb.save(tmp_path / name)
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    return tmp_path / name, tmp_path / "t.yaml"


def _extract(book, layout) -> dict:
    """The extract's JSON, checked against the shipped JSON Schema."""
    r = CliRunner().invoke(cli, ["extract", str(book), "--layout-file", str(layout)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    schema = jsonschema.Draft202012Validator(json.loads(schema_path().read_text(encoding="utf-8")))
    assert [e.message for e in schema.iter_errors(d)] == []
    return d


# --- section headings in a sheet layout ----------------------------------------------------

def _two_tables(field="category"):
    """One measure per sheet; two indicator tables with the same header, each under a heading
    (the first heading right above its header, the second between the tables)."""
    cells = {"A1": "事業名", "B1": "検診事業", "A3": "■活動指標",
             "A4": "指標名", "B4": "単位", "C4": "R2年度", "D4": "R3年度",
             "A5": "通知数", "B5": "通", "C5": 600, "D5": 610,
             "A6": "実施回数", "B6": "回", "C6": 12, "D6": 11,
             "A8": "■成果指標",
             "A9": "指標名", "B9": "単位", "C9": "R2年度", "D9": "R3年度",
             "A10": "受診率", "B10": "％", "C10": 20, "D10": 21}
    spec = {"name": "t", "record": "sheet", "detect": [{"id": "k", "labels": ["指標名"]}],
            "fields": {"measure": {"label": ["事業名"]}},
            "table": {"header": ["指標名"], "columns": {"unit": {"label": ["単位"]}},
                      "skip_rows": ["re:^指標名$"],
                      "section": {"column": "name", "labels": ["re:^■(活動|成果)指標"], "field": field}}}
    return {"S1": cells}, spec


def test_a_section_heading_gives_the_kpis_under_it_their_category(tmp_path):
    book, layout = _write(tmp_path, *_two_tables())
    d = _extract(book, layout)  # the extract is JSON (a section used to crash it here)
    kpis = d["measures"][0]["kpis"]
    assert [(k["name"], k["category"], k["cells"]["category"]) for k in kpis] == [
        ("通知数", "活動指標", "A3"), ("実施回数", "活動指標", "A3"), ("受診率", "成果指標", "A8")]
    assert "■成果指標" not in json.dumps(d, ensure_ascii=False)  # the heading is no KPI text


def test_another_section_field_in_a_sheet_layout_is_kept_in_the_kpis_extra(tmp_path):
    book, layout = _write(tmp_path, *_two_tables("kpi_group"))
    kpis = _extract(book, layout)["measures"][0]["kpis"]
    assert [(k["extra"]["kpi_group"], k["cells"]["kpi_group"]) for k in kpis] == [
        ("活動指標", "A3"), ("活動指標", "A3"), ("成果指標", "A8")]
    assert all(k["category"] in (None, "") for k in kpis)
    ok, lines = check_layout(layout, book)
    assert ok
    assert any("[様式の注意]" in x and "extra.kpi_group" in x and "field: category" in x for x in lines)


def test_the_tables_heading_opens_its_section_within_three_rows_above_the_header(tmp_path):
    sheets, spec = _two_tables()
    sheets["S1"]["A3"], sheets["S1"]["A2"] = "（説明の行）", "■活動指標"  # a line between
    book, layout = _write(tmp_path, sheets, spec)
    kpis = read_book(book, layout_file=str(layout)).measures[0].kpis
    assert [k.category for k in kpis] == ["活動指標", "活動指標", "成果指標"]
    assert kpis[0].cells["category"] == "A2"


def test_a_heading_further_up_opens_no_section(tmp_path):
    sheets, spec = _two_tables()
    cells = sheets["S1"]
    # the table moves down under three other lines: its heading is four lines above it
    moved = {"A8": "■活動指標", "A9": "（説明1）", "A10": "（説明2）", "A11": "（説明3）",
             "A12": "指標名", "B12": "単位", "C12": "R2年度", "D12": "R3年度",
             "A13": "通知数", "B13": "通", "C13": 600, "D13": 610}
    sheets["S1"] = {k: v for k, v in cells.items() if k in ("A1", "B1")} | moved
    book, layout = _write(tmp_path, sheets, spec)
    kpis = read_book(book, layout_file=str(layout)).measures[0].kpis
    assert [(k.name, k.category) for k in kpis] == [("通知数", None)]


def test_the_section_column_is_kept_as_the_kpis_value_in_a_row_layout(tmp_path):
    cells = {"A1": "No.", "B1": "施策", "C1": "指標名", "D1": "R3年度",
             "A2:D2": "基本目標Ⅰ　しごとをつくる",
             "A3": 1, "B3": "観光の振興", "C3": "観光客数", "D3": 100,
             "A4": 2, "B4": "観光の振興", "C4": "宿泊者数", "D4": 30}
    spec = {"name": "t", "record": "row", "group_by": "measure",
            "detect": [{"id": "k", "labels": ["指標名"]}],
            "table": {"header": ["指標名"], "columns": {"number": {"label": ["No."]},
                                                       "measure": {"label": ["施策"]}},
                      "section": {"column": "number", "labels": ["re:^基本目標"], "field": "basic_goal"}}}
    book, layout = _write(tmp_path, {"S": cells}, spec)
    m = read_book(book, layout_file=str(layout)).measures[0]
    assert [k.extra.get("number") for k in m.kpis] == ["1", "2"]


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(record="block", block={"start": ["指標名"]}), "record: block"),
    (lambda s: s["table"]["section"].update(column="nothing"), "table.columns にない列"),
    (lambda s: s["table"]["section"].pop("labels"), "labels"),
])
def test_a_section_the_engine_cannot_use_is_refused_by_the_layout_check(tmp_path, change, message):
    _, spec = _two_tables()
    change(spec)
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    with pytest.raises(LayoutSpecError, match=message):
        load_spec(f)


# --- departments ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, names", [
    ("農林水産部 農政課", ["農林水産部 農政課"]),
    ("農林水産部　農政課、林務水産課", ["農林水産部 農政課", "林務水産課"]),
    ("健康福祉部\n子育て支援課", ["健康福祉部 子育て支援課"]),
    ("企画課　商工課", ["企画課", "商工課"]),
    ("総務部 企画部", ["総務部", "企画部"]),
    ("市民協働課・人権推進課／生涯学習課", ["市民協働課", "人権推進課", "生涯学習課"]),
    ("企画課，財政課", ["企画課", "財政課"]),
    ("【企画課】【商工課】", ["企画課", "商工課"]),
])
def test_departments_are_split_at_separators_not_inside_a_units_name(text, names):
    from xlsgen.layout.parsers import departments
    assert departments(text) == names


def test_a_department_with_its_parent_unit_is_one_department_of_the_measure(tmp_path):
    cells = {"A1": "施策名", "B1": "担い手の確保", "A2": "主管課", "B2": "農林水産部　農政課",
             "A3": "関係課", "B3": "農地整備課、林務水産課",
             "A5": "指標名", "B5": "R3年度", "A6": "新規就農者数", "B6": 12}
    spec = {"name": "t", "record": "sheet", "detect": [{"id": "k", "labels": ["指標名"]}],
            "fields": {"measure": {"label": ["施策名"]},
                       "departments": {"label": ["主管課"], "parser": "departments"},
                       "related": {"label": ["関係課"], "parser": "departments", "holds": "departments"}},
            "table": {"header": ["指標名"]}}
    book, layout = _write(tmp_path, {"S": cells}, spec)
    m = _extract(book, layout)["measures"][0]
    assert m["departments"][:1] == ["農林水産部 農政課"]
    assert "農林水産部" not in m["departments"] and "農政課" not in m["departments"]


# --- text rows under a KPI table -------------------------------------------------------------

def _notes_book(tmp_path, text_rows, skip_rows=None):
    """Two KPIs; under the table a legend and a note, each merged across the table."""
    cells = {"A1": "施策名", "B1": "農業の振興", "A3": "指標名", "B3": "R2", "C3": "R3", "D3": "R4",
             "A4": "新規就農者数", "B4": 12, "C4": 14, "D4": 16,
             "A5": "耕作放棄地面積", "B5": 285, "C5": 280, "D5": 276,
             "A6:D6": "※達成度＝実績値÷目標値",
             "A7:D7": "※令和２年度は４月～６月の調査を中止した。"}
    table = {"header": ["指標名"], "text_rows": text_rows}
    if skip_rows is not None:
        table["skip_rows"] = skip_rows
    spec = {"name": "t", "record": "sheet", "detect": [{"id": "k", "labels": ["指標名"]}],
            "fields": {"measure": {"label": ["施策名"]}}, "table": table}
    book, layout = _write(tmp_path, {"S": cells}, spec)
    return _extract(book, layout)["measures"][0]["kpis"]


def test_a_text_row_reaches_the_kpis_notes_as_typed_with_its_cell(tmp_path):
    kpis = _notes_book(tmp_path, {"field": "notes"}, skip_rows=["re:^※達成度"])
    assert (kpis[1]["notes"], kpis[1]["cells"]["notes"]) == ("※令和２年度は４月～６月の調査を中止した。", "A7")
    assert kpis[0]["notes"] == ""
    assert "達成度＝" not in json.dumps(kpis, ensure_ascii=False)  # skip_rows beat text rows


def test_without_the_layouts_skip_rows_a_legend_is_a_text_row(tmp_path):
    kpis = _notes_book(tmp_path, {"field": "notes"})
    assert kpis[1]["notes"].splitlines() == ["※達成度＝実績値÷目標値", "※令和２年度は４月～６月の調査を中止した。"]
    assert kpis[1]["cells"]["notes"] == "A6"


def test_a_text_row_label_is_dropped_and_the_rest_kept_as_typed(tmp_path):
    kpis = _notes_book(tmp_path, {"labels": ["re:^※令和"], "field": "remark"}, skip_rows=["re:^※達成度"])
    assert (kpis[1]["extra"]["remark"], kpis[1]["cells"]["remark"]) == ("２年度は４月～６月の調査を中止した。", "A7")
    kpis = _notes_book(tmp_path, {"labels": ["re:^(?=※令和)"], "field": "remark"}, skip_rows=["re:^※達成度"])
    assert kpis[1]["extra"]["remark"] == "※令和２年度は４月～６月の調査を中止した。"  # a lookahead drops nothing


# --- what a KPI's target means ---------------------------------------------------------------

def _kinds_book(tmp_path, target_kinds=None):
    cells = {"A1": "指標名", "B1": "単位", "C1": "基準値", "D1": "目標値", "E1": "R3",
             "A2": "合計特殊出生率", "B2": None, "C2": 1.42, "D2": 1.5, "E2": 1.38,
             "A3": "相談件数の合計", "B3": "件", "C3": 0, "D3": 900, "E3": 300,
             "A4": "延べ利用者数", "B4": "人", "C4": 0, "D4": 5000, "E4": 1200,
             "A5": "乳がん検診受診率（合計）", "B5": "％", "C5": 20, "D5": 30, "E5": 22,
             "A6": "市民農園の区画数", "B6": "区画", "C6": 100, "D6": 120, "E6": 105}
    spec = {"name": "t", "record": "row", "detect": [{"id": "k", "labels": ["指標名"]}],
            "table": {"header": ["指標名"], "columns": {
                "unit": {"label": ["単位"]}, "baseline": {"label": ["基準値"]}, "target": {"label": ["目標値"]}}}}
    if target_kinds:
        spec["target_kinds"] = target_kinds
    book, layout = _write(tmp_path, {"KPI": cells}, spec)
    return {k["name"]: k["target_kind"] for m in _extract(book, layout)["measures"] for k in m["kpis"]}


def test_a_rate_with_goukei_in_its_name_is_no_sum(tmp_path):
    kinds = _kinds_book(tmp_path)
    assert kinds == {"合計特殊出生率": "at_year", "相談件数の合計": "cumulative", "延べ利用者数": "cumulative",
                     "乳がん検診受診率（合計）": "at_year", "市民農園の区画数": "at_year"}


def test_the_layout_names_a_kpis_target_kind(tmp_path):
    kinds = _kinds_book(tmp_path, {"at_year": ["延べ利用者数"], "cumulative": ["re:^市民農園"]})
    assert (kinds["延べ利用者数"], kinds["市民農園の区画数"], kinds["相談件数の合計"]) == (
        "at_year", "cumulative", "cumulative")


def test_an_unknown_target_kind_is_refused(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump({"name": "t", "record": "row", "detect": [{"id": "k", "labels": ["指標名"]}],
                                 "table": {"header": ["指標名"]}, "target_kinds": {"sum": ["合計"]}},
                                allow_unicode=True), "utf-8")
    with pytest.raises(LayoutSpecError, match="target_kinds"):
        load_spec(f)


# --- the layout's own 財源 lines --------------------------------------------------------------

def _cost_book(tmp_path, lines):
    """A project sheet with a cost block whose 国・県 line is one row (an own key)."""
    cells = {"A1": "事業名", "B1": "耐震化促進事業", "A3": "指標名", "B3": "R3", "A4": "耐震化率", "B4": 80,
             "A6": "事業費の推移", "D6": "（単位：千円）",
             "A7": "項目", "B7": "R4年度", "C7": "R5年度",
             "A8": "事業費", "B8": 1000, "C8": 1200,
             "A9": "うち国・県支出金", "B9": 400, "C9": 500,
             "A10": "うち地方債", "B10": 300, "C10": 300,
             "A11": "うち一般財源", "B11": 300, "C11": 400}
    spec = {"name": "t", "record": "sheet", "detect": [{"id": "k", "labels": ["指標名"]}],
            "fields": {"measure": {"label": ["事業名"]}}, "table": {"header": ["指標名"]},
            "tables": {"cost": {"holds": "cost", "after": ["事業費の推移"], "header": ["項目"],
                                "unit": {"label": ["re:^\\(単位"], "default": "千円"}, "lines": lines}}}
    return _write(tmp_path, {"S": cells}, spec)


@pytest.mark.parametrize("declared, funding", [(None, True), (False, False), (True, True)])
def test_an_own_cost_line_naming_a_source_of_money_is_a_funding_line(tmp_path, declared, funding):
    own = {"label": ["うち国・県支出金"]} | ({} if declared is None else {"funding": declared})
    book, layout = _cost_book(tmp_path, {"project_cost": ["事業費"], "grants": own,
                                         "bond": ["うち地方債"], "general": ["うち一般財源"],
                                         "memo": ["re:^うち一般"]})
    lines = {ln["key"]: ln for ln in _extract(book, layout)["measures"][0]["cost"]["lines"]}
    assert lines["grants"].get("funding", False) is funding
    assert [q["value"] for q in lines["grants"]["values"]] == [400, 500]


def test_the_reports_general_funds_count_the_own_funding_line(tmp_path, recalc):
    book, layout = _cost_book(tmp_path, {"project_cost": ["事業費"], "grants": ["うち国・県支出金"],
                                         "bond": ["うち地方債"], "general": ["うち一般財源"]})
    out = tmp_path / "r.xlsx"
    r = CliRunner().invoke(cli, ["build", str(book), "--layout-file", str(layout), "-o", str(out)])
    assert r.exit_code == 0, r.output
    calc = openpyxl.load_workbook(recalc(out), data_only=True)["計算"]
    rows = list(calc.iter_rows(values_only=True))
    head = next(i for i, row in enumerate(rows) if "一般財源の差" in row)
    at = rows[head].index("一般財源の差")
    diffs = [row[at] for row in rows[head + 1:] if row[at] is not None and row[at] != ""]
    assert diffs == [0, 0]


# --- sheets skipped on purpose ---------------------------------------------------------------

def test_a_sheet_the_layout_skips_on_purpose_gives_no_warning(tmp_path):
    sheet = {"A1": "施策名", "B1": "観光の振興", "A3": "指標名", "B3": "R3", "A4": "観光客数", "B4": 100}
    sheets = {"記入要領": {"A1": "このシートには記入しないでください"}, "S1": sheet, "メモ": {"A1": "作業用"}}
    spec = {"name": "t", "record": "sheet", "detect": [{"id": "k", "labels": ["指標名"]}],
            "sheets": {"read": ["re:^S\\d"], "skip": ["記入要領"]},
            "fields": {"measure": {"label": ["施策名"]}}, "table": {"header": ["指標名"]}}
    book, layout = _write(tmp_path, sheets, spec)
    found = [(f["code"], f["sheet"]) for f in _extract(book, layout)["findings"]]
    assert ("sheet-skipped", "メモ") in found  # not named by the layout: worth a word
    assert ("sheet-skipped", "記入要領") not in found


# --- roll-forward keeps the city's way of writing years ----------------------------------------

def test_the_rolled_edition_and_subtitle_keep_full_width_digits(tmp_path):
    from xlsgen.rollforward import rollforward_file

    cells = {"A1": "総合戦略　進捗管理表", "E1": "令和５年度", "A2": "（令和４年度実績）", "E2": "令和５年８月31日現在",
             "A4": "施策", "B4": "指標名", "C4": "R3", "D4": "R4", "E4": "R5",
             "A5": "観光の振興", "B5": "観光客数", "C5": 100, "D5": 120,
             "A6": "観光の振興", "B6": "宿泊者数", "C6": 30, "D6": 35}
    spec = {"name": "t", "record": "row", "group_by": "measure", "detect": [{"id": "k", "labels": ["指標名"]}],
            "fields": {"fiscal_year": {"label": ["re:^令和\\d+年度$"], "at": "same", "type": "year"},
                       "subtitle": {"label": ["re:年度実績\\)$"], "at": "same"},
                       "as_of": {"label": ["re:現在$"], "at": "same"}},
            "table": {"header": ["指標名"], "columns": {"measure": {"label": ["施策"]}}},
            "rollforward": {"supported": True}}
    book, layout = _write(tmp_path, {"KPI": cells}, spec)
    assert read_book(book, layout_file=str(layout)).fiscal_year == 2023
    out = tmp_path / "next.xlsx"
    rollforward_file(book, "R6", out, layout_file=str(layout))
    ws = openpyxl.load_workbook(out)["KPI"]
    assert (ws["E1"].value, ws["A2"].value) == ("令和６年度", "（令和５年度実績）")
    assert ws["E2"].value == "令和５年８月31日現在"  # a date is the clerk's to change
    assert read_book(out, layout_file=str(layout)).fiscal_year == 2024


def test_half_width_years_stay_half_width():
    from xlsgen.kinds.roll import year_label_like, years_shifted
    assert year_label_like("令和5年度", 2024) == "令和6年度"
    assert year_label_like("R5年度", 2024) == "R6年度"
    assert years_shifted("（令和４年度～令和５年度）", {2022}) == "（令和５年度～令和５年度）"


# --- header shapes: merged year headings, sentences with a year, period totals, row labels -----

def test_a_year_heading_merged_over_several_columns_is_one_year_column(tmp_path):
    """方眼紙: 令和２年度 over C1:D1 and 令和３年度 over E1:F1, each value at the merge's left."""
    cells = {"A1": "施策名", "B1": "観光", "A3": "指標名", "C3:D3": "令和２年度", "E3:F3": "令和３年度",
             "G3:I3": "事業の概要・令和３年度の主な実績",
             "A4": "観光客数", "C4:D4": 100, "E4:F4": 120, "G4:I4": "誘客イベントを開催した。"}
    spec = {"name": "t", "record": "sheet", "detect": [{"id": "k", "labels": ["指標名"]}],
            "fields": {"measure": {"label": ["施策名"]}}, "table": {"header": ["指標名"]}}
    book, layout = _write(tmp_path, {"S": cells}, spec)
    m = _extract(book, layout)["measures"][0]
    k = m["kpis"][0]
    assert [(q["fiscal_year"], q["value"], q["cell"]) for q in k["actuals"]] == [(2020, 100, "C4"), (2021, 120, "E4")]
    assert m["tables"]["kpi"]["year_columns"] == {"2020": "C", "2021": "E"}  # a sentence is no year column


def test_a_period_total_column_is_no_years_value(tmp_path):
    cells = {"A1": "事業名", "B1": "耐震化促進", "A3": "指標名", "B3": "R3", "A4": "耐震化率", "B4": 80,
             "A6": "事業費", "D6": "（単位：千円）",
             "A7": "項目", "B7": "R5計画", "C7": "R6計画", "D7": "計画期間計（R5～R6）",
             "A8": "事業費", "B8": 100, "C8": 200, "D8": 300}
    spec = {"name": "t", "record": "sheet", "detect": [{"id": "k", "labels": ["指標名"]}],
            "fields": {"measure": {"label": ["事業名"]}}, "table": {"header": ["指標名"]},
            "tables": {"cost": {"holds": "cost", "after": ["事業費"], "header": ["項目"],
                                "unit": {"label": ["re:^\\(単位"], "default": "千円"},
                                "lines": {"project_cost": ["事業費"]}}}}
    book, layout = _write(tmp_path, {"S": cells}, spec)
    line = _extract(book, layout)["measures"][0]["cost"]["lines"][0]
    assert [(q["fiscal_year"], q["value"]) for q in line["values"]] == [(2023, 100), (2024, 200)]
    assert [(t["years"], t["value"]["value"], t["value"]["cell"]) for t in line["totals"]] == [([2023, 2024], 300, "D8")]


def test_a_row_label_merged_down_beside_the_rows_does_not_deepen_the_header(tmp_path):
    cells = {"A1": "事業名", "B1": "耐震化促進", "A3": "指標名", "B3": "R3", "A4": "耐震化率", "B4": 80,
             "A6": "事業費の推移",
             "A7:A10": "事業費", "B7": "区分", "C7": "R5計画", "D7": "R6計画",
             "B8": "事業費", "C8": 100, "D8": 200,
             "B9": "うち地方債", "C9": 0, "D9": 0,
             "B10": "うち一般財源", "C10": 100, "D10": 200}
    spec = {"name": "t", "record": "sheet", "detect": [{"id": "k", "labels": ["指標名"]}],
            "fields": {"measure": {"label": ["事業名"]}}, "table": {"header": ["指標名"]},
            "tables": {"cost": {"holds": "cost", "after": ["事業費の推移"], "header": ["区分"],
                                "lines": {"project_cost": ["事業費"], "bond": ["うち地方債"],
                                          "general": ["うち一般財源"]}}}}
    book, layout = _write(tmp_path, {"S": cells}, spec)
    lines = {ln["key"]: ln for ln in _extract(book, layout)["measures"][0]["cost"]["lines"]}
    assert [(q["value"], q["cell"]) for q in lines["project_cost"]["values"]] == [(100, "C8"), (200, "D8")]
    assert [q["value"] for q in lines["general"]["values"]] == [100, 200]


def test_row_roles_baseline_and_final_target_columns(tmp_path):
    """Three rows per KPI (目標値 / 実績値 / 達成度); H30（基準） holds the baseline on the 実績値
    row (－ on the others), R7（目標） the final target on the 目標値 row."""
    cells = {"A1": "施策名", "B1": "農業", "A3": "指標名", "B3": "区分", "C3": "H30（基準）", "D3": "R3", "E3": "R4",
             "F3": "R7（目標）",
             "A4:A6": "新規就農者数", "B4": "目標値", "C4": "－", "D4": 12, "E4": 13, "F4": 15,
             "B5": "実績値", "C5": 10, "D5": 11, "E5": 14,
             "B6": "達成度", "C6": "－", "D6": 0.92, "E6": 1.08}
    spec = {"name": "t", "record": "sheet", "detect": [{"id": "k", "labels": ["指標名"]}],
            "fields": {"measure": {"label": ["施策名"]}},
            "table": {"header": ["指標名"], "columns": {"kind": {"label": ["区分"]}},
                      "row_roles": {"column": "kind", "roles": {"目標値": "target", "実績値": "actual",
                                                                "達成度": "achievement"}}}}
    book, layout = _write(tmp_path, {"S": cells}, spec)
    k = _extract(book, layout)["measures"][0]["kpis"][0]
    assert (k["baseline"]["value"], k["baseline"]["cell"], k["baseline"]["fiscal_year"]) == (10, "C5", 2018)
    assert (k["target"]["value"], k["target"]["cell"], k["target_year"]) == (15, "F4", 2025)
    assert [(q["fiscal_year"], q["value"]) for q in k["actuals"]] == [(2021, 11), (2022, 14)]

"""`xlsgen diff`: by label, not by address. Inserted rows and columns, a moved KPI row and
a moved sheet are no change; a changed value, a lowered target, a changed unit and a
renamed KPI are each reported once; R3 → R4 editions differ only by the emptied Check
texts."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest
from click.testing import CliRunner

from tests.conftest import JOSO, OJIYA
from tests.test_roundtrip_libreoffice import calc, uno_python  # noqa: F401 - fixture
from xlsgen import app
from xlsgen.cli import cli
from xlsgen.layout import read_book
from xlsgen.model import Edit, Plan
from xlsgen.package import Package, apply_plan


def test_r3_to_r4_changes_only_the_emptied_check_texts_and_costs(tmp_path):
    """The roll empties the Check texts (moved to 前年度評価) and the 事業費 column (the
    closed year's, its old values moved to 過年度実績); nothing else changes."""
    r4 = tmp_path / "ojiya_R4.xlsx"
    app.rollforward_file(OJIYA, "R4", r4)
    result = app.diff_files(OJIYA, r4)
    book = read_book(OJIYA)
    texts = [(m.number, t.key, t.department) for m in book.measures for t in m.texts]
    costs = [k.cost for m in book.measures for k in m.kpis if k.cost is not None and not k.cost.is_empty]
    assert len(result.changes) == len(texts) + len(costs) and len(texts) > 80 and len(costs) == 48
    assert all(c.new is None and c.old not in (None, "") for c in result.changes)
    assert {c.kind for c in result.changes} == {"text", "value"}
    assert all(c.item == "cost" for c in result.changes if c.kind == "value")
    assert (result.old_edition, result.new_edition) == (2021, 2022)


def test_inserted_rows_and_moved_blocks_are_not_changes(uno_python, tmp_path):  # noqa: F811
    src = tmp_path / "src.xlsx"
    shutil.copy(OJIYA, src)
    moved = tmp_path / "moved.xlsx"
    calc(uno_python, tmp_path, {"file": str(src), "insert_rows": [["01", 1, 2], ["05", 12, 1]],
                                "insert_cols": [["03", 0, 1]], "move_row": [["04", 17, 16]],
                                "move_sheet": [["33", 0]], "save_as": str(moved)})
    a, b = read_book(OJIYA), read_book(moved)
    cells = lambda book, no: [q.cell for m in book.measures if m.number == no for k in m.kpis  # noqa: E731
                              for q in k.actuals]
    assert cells(a, "01") != cells(b, "01") and cells(a, "03") != cells(b, "03")
    names = lambda book: [k.name for m in book.measures if m.number == "04" for k in m.kpis]  # noqa: E731
    assert names(a) != names(b) and sorted(names(a)) == sorted(names(b))  # two KPI rows swapped
    assert b.measures[0].number == "33"
    assert app.diff_files(OJIYA, moved).changes == []


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    """A copy of the R3 book with one actual changed, a target lowered, a unit changed and
    a KPI renamed (written into the package as Excel would)."""
    d = tmp_path_factory.mktemp("edited")
    out = d / "edited.xlsx"
    pkg = Package(OJIYA)
    apply_plan(pkg, Plan(edits=[
        Edit("01", "E17", 18, "値"),
        Edit("01", "I17", "40件", "目標"),
        Edit("01", "D16", 3, "単位", number_format='#,##0"時間"'),
        Edit("01", "E16", 0, "単位", number_format='#,##0"時間"'),
        Edit("01", "I16", "3時間以上", "単位"),
        Edit("02", "B16", "名前を変えた指標", "名前"),
    ]))
    pkg.write(out)
    return out


def test_each_change_is_reported_once_by_label(edited):
    result = app.diff_files(OJIYA, edited)
    got = {(c.kind, c.kpi, c.item, c.fiscal_year, c.old, c.new, c.flag) for c in result.changes}
    old_name = next(k.name for m in read_book(OJIYA).measures if m.sheet == "02" for k in m.kpis if k.row == 16)
    assert got == {
        ("value", "インターンシップ実施支援件数/年", "actual", 2020, 17, 18, None),
        ("target", "インターンシップ実施支援件数/年", "final_target", None, 50, 40, "target-lowered"),
        ("unit", "職場体験実施日数（中学生）/生徒1人", "unit", None, "日", "時間", None),
        ("kpi_removed", old_name, "kpi", None, old_name, None, None),
        ("kpi_added", "名前を変えた指標", "kpi", None, None, "名前を変えた指標", None),
    }
    assert next(c for c in result.changes if c.flag).old_cell == "01!I17"


def test_diff_outputs_text_json_and_a_linked_workbook(edited, tmp_path):
    res = CliRunner().invoke(cli, ["diff", str(OJIYA), str(edited)])
    assert res.exit_code == 0 and "【目標の引き下げ】インターンシップ実施支援件数/年 最終目標値: 50件 → 40件 (01!I17)" in res.output
    assert "監査の注意: 目標・基準値の変更 1 件（うち目標の引き下げ 1 件）" in res.output
    res = CliRunner().invoke(cli, ["diff", str(OJIYA), str(edited), "--format", "json"])
    data = json.loads(res.output)
    assert data["flags"]["target-lowered"] == 1 and data["counts"] == {
        "value": 1, "target": 1, "unit": 1, "kpi_removed": 1, "kpi_added": 1}
    assert {"kind", "measure", "kpi", "what", "old", "new", "old_cell", "new_cell", "flag"} <= set(data["changes"][0])
    out = tmp_path / "変更点.xlsx"
    res = CliRunner().invoke(cli, ["diff", str(OJIYA), str(edited), "-o", str(out)])
    assert res.exit_code == 0, res.output
    with zipfile.ZipFile(out) as z:
        rels = z.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
        sheet = z.read("xl/worksheets/sheet1.xml").decode().replace("&apos;", "'")
    assert OJIYA.name in rels and "edited.xlsx" in rels  # both books, relative to the output
    assert sheet.count("location=\"'01'!I17\"") == 2  # the lowered target, in each book


def test_diff_refuses_books_of_different_layouts(tmp_path):
    res = CliRunner().invoke(cli, ["diff", str(OJIYA), str(JOSO)])
    assert res.exit_code == 1 and "様式が違う" in res.output

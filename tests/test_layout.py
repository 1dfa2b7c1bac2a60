"""Layouts as data: built-in layout files give today's facts, two further layouts read from
their own workbooks, every workbook is refused by every other layout, spec errors name
their file and line, and a failed read writes nothing."""

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import JOSO, NISHITOKYO, OJIYA
from layout_workbooks import write_kpi_blocks, write_kpi_list

from xlsgen.cli import cli
from xlsgen.layout import builtin_dir, load_spec
from xlsgen.layout.spec import LayoutSpecError

LAYOUTS = builtin_dir()


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def extract(path, *args):
    result = run("extract", path, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    d = tmp_path_factory.mktemp("layouts")
    write_kpi_blocks(d / "blocks.xlsx")
    write_kpi_list(d / "list.xlsx")
    return {"ojiya": OJIYA, "joso": JOSO, "nishitokyo": NISHITOKYO,
            "kpi_blocks": d / "blocks.xlsx", "kpi_list": d / "list.xlsx"}


def texts(s, key):
    """The texts of one key of a measure (its 【…課】 parts) as department and text."""
    return [{"department": t["department"], "text": t["text"]} for t in s["texts"] if t["key"] == key]


@pytest.mark.parametrize("name", ["ojiya", "joso", "nishitokyo"])
def test_layout_file_gives_the_same_facts_as_detection(books, name):
    auto = extract(books[name])
    forced = extract(books[name], "--layout-file", LAYOUTS / f"{name}.yaml")
    assert forced == auto
    assert forced["layout"] == name and forced["layout_file"].endswith(f"{name}.yaml")
    assert forced["layout_title"] == load_spec(LAYOUTS / f"{name}.yaml").title


def test_ojiya_kpis_carry_their_years_and_roll_forward_cells(books):
    d = extract(books["ojiya"])
    s = d["measures"][0]
    k = s["kpis"][1]
    assert (k["baseline_year"], k["target_year"]) == (2018, 2024)
    # R3 (2021) is the year the next edition reports: its column becomes the input
    assert s["rollforward"]["year"] == 2021
    assert s["rollforward"]["next_input"] == [x["actuals"][1]["cell"] for x in s["kpis"]]
    assert set(s["rollforward"]["history"]) == {"check_analysis", "check_next"}


def test_kpi_blocks_facts(books):
    d = extract(books["kpi_blocks"])
    assert d["layout"] == "kpi_blocks" and d["fiscal_year"] == 2022
    assert [s["sheet"] for s in d["measures"]] == ["施策1", "施策2"]
    s = d["measures"][0]
    assert s["measure"]["name"] == "子育て支援の充実" and s["measure"]["cell"] == "B2"
    assert s["departments"] == ["子育て支援課", "保育課"]
    assert texts(s, "check_analysis") == [{"department": "子育て支援課", "text": "待機児童は減少した。"},
                                   {"department": "保育課", "text": "保育士の確保が課題。"}]
    assert texts(d["measures"][1], "check_next") == [{"department": "企画課", "text": "首都圏での相談会を増やす。"}]
    wait, talks = s["kpis"]
    assert (wait["name"], wait["unit"], wait["direction"]) == ("保育所待機児童数", "人", "down")
    assert (wait["baseline"]["value"], wait["baseline"]["fiscal_year"], wait["baseline"]["cell"]) == (12, 2018, "B7")
    assert (wait["target"]["value"], wait["target"]["fiscal_year"], wait["target"]["cell"]) == (0, 2024, "B8")
    assert [(q["fiscal_year"], q["value"], q["cell"]) for q in wait["targets"]] == [
        (2020, 10, "B10"), (2021, 8, "B11"), (2022, 6, "B12"), (2023, 4, "B13")]
    assert [(q["fiscal_year"], q["value"], q.get("status")) for q in wait["actuals"]] == [
        (2020, 8, None), (2021, 10, None), (2022, None, "集計中"), (2023, None, None)]
    assert [(q["value"], q["unit"]) for q in wait["achievements"][:2]] == [(125, "%"), (80, "%")]
    assert [q["text"] for q in wait["grades"][:2]] == ["A", "B"]
    assert talks["baseline"]["fiscal_year"] == 2019  # R元
    other = d["measures"][1]["kpis"][0]
    assert other["actuals"][2]["text"] == "－" and "status" not in other["actuals"][2]
    # the city's grade B at 102% disagrees with its own scale (A from 100%)
    diff = [f for f in d["findings"] if f["code"] == "grade-differs"]
    assert [(f["sheet"], f["cell"]) for f in diff] == [("施策1", "E21")]
    assert not [f for f in d["findings"] if f["code"] == "achievement-differs"]
    # 表紙 is skipped on purpose (`sheets.skip`): no warning
    assert not any(f["code"] == "sheet-skipped" and f["sheet"] == "表紙" for f in d["findings"])


def test_kpi_list_facts(books):
    d = extract(books["kpi_list"])
    assert d["layout"] == "kpi_list"
    sheets = d["measures"]
    assert [(s["measure"]["name"], s["basic_goal"]["no"], s["basic_goal"]["name"]) for s in sheets] == [
        ("企業誘致の推進", 1, "しごとをつくる"), ("創業支援", 1, "しごとをつくる"),
        ("移住定住の促進", 2, "ひとの流れをつくる")]
    kpis = [k for s in sheets for k in s["kpis"]]
    assert [(k["name"], k["row"], k["baseline_year"], k["target_year"]) for k in kpis] == [
        ("新規立地企業数", 6, 2018, 2024), ("新規雇用者数", 7, 2019, 2024), ("創業件数", 8, 2018, None),
        ("転入者数", 10, 2019, 2024), ("移住相談件数", 11, 2018, 2024)]
    hire = kpis[1]
    assert (hire["baseline"]["value"], hire["baseline"]["text"], hire["unit"]) == (1250, "1,250", "人")
    assert [(q["fiscal_year"], q["value"], q["cell"]) for q in hire["actuals"]] == [
        (2020, 1300, "F7"), (2021, 1410, "G7"), (2022, None, "H7")]
    assert hire["actuals"][2]["text"] == "－" and "status" not in hire["actuals"][2]
    assert kpis[0]["actuals"][2]["status"] == "集計中"
    assert kpis[2]["target_kind"] == "per_year"  # 毎年度
    carried = [f for f in d["findings"] if f["code"] == "carried-down"]
    assert [(f["cell"], f["severity"]) for f in carried] == [("A11", "warning")]
    assert len(kpis) == 5  # the ※ note row and the section rows are no KPIs


def test_wrong_layout_matrix(books):
    """Every workbook against every other layout file: refused, never read empty."""
    for book_name, path in books.items():
        for spec in LAYOUTS.glob("*.yaml"):
            name = load_spec(spec).name
            if name == book_name:
                continue
            result = run("extract", path, "--layout-file", spec)
            assert result.exit_code == 1, (book_name, name, result.output)
            assert "見出しが見つかりません" in result.output, (book_name, name)
            assert "Traceback" not in result.output
            forced = run("extract", path, "--layout", name)
            assert forced.exit_code == 1 and "このブックはこの様式ではありません" in forced.output


def _stranger(path):
    """A workbook in a layout nobody described: KPI labels, years, values."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["重点施策", "KPI", "R2", "R3", "目標"])
    for i in range(5):
        ws.append([f"施策{i}", f"指標{i}", i, i + 1, 10])
    wb.save(path)


def test_unknown_layout_is_refused_everywhere(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    _stranger(src / "other.xlsx")
    out = tmp_path / "out"
    r = run("extract", src / "other.xlsx")
    assert r.exit_code == 1 and "様式を判定できません" in r.output
    assert "見つかりません" not in r.output and "がありません" in r.output  # names missing anchors
    r = run("build", src / "other.xlsx", "-o", out / "r.xlsx")
    assert r.exit_code == 1 and not (out / "r.xlsx").exists()
    r = run("run", src, "-o", out, "--jobs", "1")
    assert r.exit_code == 1 and "失敗 1" in r.output
    assert not list(out.glob("*_報告書.xlsx"))
    v = run("validate", src / "other.xlsx")
    assert v.exit_code == 1 and "unreadable" in v.output


def test_local_layouts_folder_and_two_matches(tmp_path, books):
    shutil.copy(books["kpi_list"], tmp_path / "list.xlsx")
    (tmp_path / "layouts").mkdir()
    text = (LAYOUTS / "kpi_list.yaml").read_text(encoding="utf-8")
    (tmp_path / "layouts" / "mine.yaml").write_text(text.replace("name: kpi_list", "name: mine"),
                                                    encoding="utf-8")
    r = run("extract", tmp_path / "list.xlsx")
    assert r.exit_code == 1 and "複数の様式に当てはまります" in r.output
    assert "kpi_list" in r.output and "mine" in r.output
    d = extract(tmp_path / "list.xlsx", "--layout", "mine")
    assert d["layout"] == "mine" and len(d["measures"]) == 3


def test_layout_that_matches_but_reads_nothing(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["B1"], ws["C1"] = "取組みの方向性", "活動指標", "目標値"  # a header, no rows
    wb.save(tmp_path / "n.xlsx")
    v = run("validate", tmp_path / "n.xlsx", "--format", "json")
    codes = [f["code"] for f in json.loads(v.output)["files"][0]["findings"]]
    assert v.exit_code == 1 and "no-measure-read" in codes
    b = run("build", tmp_path / "n.xlsx", "-o", tmp_path / "r.xlsx")
    assert b.exit_code == 1 and not (tmp_path / "r.xlsx").exists()


@pytest.mark.parametrize("body, line, words", [
    ("name: x\ndetect:\n  - labels: [a]\n    colour: red\ntable: {header: [a]}\n", 4, "知らないキー「colour」"),
    ("name: x\ndetect:\n  - labels: [\"re:(unclosed\"]\ntable: {header: [a]}\n", 3, "正規表現"),
    ("name: x\ndetect: [a\n", 3, "YAML"),
    ("name: x\nrecord: table\ndetect:\n  - labels: [a]\ntable: {header: [a]}\n", 2, "record"),
    ("name: x\ndetect:\n  - labels: [a]\nfields:\n  p: {label: a, parser: nope}\ntable: {header: [a]}\n",
     5, "parser「nope」"),
])
def test_spec_errors_name_file_and_line(tmp_path, body, line, words):
    spec = tmp_path / "bad.yaml"
    spec.write_text(body, encoding="utf-8")
    with pytest.raises(LayoutSpecError) as exc:
        load_spec(spec)
    assert str(spec) in str(exc.value) and f"{line}行目" in str(exc.value) and words in str(exc.value)
    r = run("extract", OJIYA, "--layout-file", spec)
    assert r.exit_code == 1 and f"{line}行目" in r.output


def test_layout_check_reports_cells(books):
    r = run("layout", "check", LAYOUTS / "kpi_list.yaml", books["kpi_list"])
    assert r.exit_code == 0, r.output
    assert "✓ baseline_year: KPI一覧!E3" in r.output and "column target: I3" in r.output
    assert "carried-down" in r.output
    r = run("layout", "check", LAYOUTS / "kpi_blocks.yaml", books["kpi_list"])
    assert r.exit_code == 1 and "✗ final_target: 見つかりません" in r.output


def test_build_reads_a_new_layout(tmp_path, books):
    out = tmp_path / "r.xlsx"
    r = run("build", books["kpi_list"], "-o", out)
    assert r.exit_code == 0, r.output
    assert "指標 5" in r.output and out.exists()
    Path(out).unlink()


def test_documented_sheet_example_reads_its_workbook(tmp_path):
    """Example 3 of docs/layouts.md (record: sheet, years across columns), as printed."""
    doc = (Path(__file__).parents[1] / "docs" / "layouts.md").read_text(encoding="utf-8")
    part = doc.split("## Example 3", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "my_city.yaml").write_text(part, encoding="utf-8")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "観光"
    ws["A1"], ws["A2"], ws["B2"], ws["A8"] = "事務事業評価シート", "施策", "観光の振興", "現状分析"
    ws["A9"] = "【観光交流課】\n入込客数は回復途上。"
    heads = ["区分", "指標名", "H30年度(基準値)", "R2年度(実績値)", "R3年度", "R4年度", "R6年度(目標値)"]
    rows = [heads, ["観光", "観光入込客数", 520000, 310000, None, None, 600000],
            ["観光", "宿泊者数/年", 41000, 30000, None, None, 45000]]
    for r, row in enumerate(rows, start=4):
        for c, v in enumerate(row, start=1):
            cell = ws.cell(r, c, v)
            if isinstance(v, int):
                cell.number_format = '#,##0"人"'
    wb.save(tmp_path / "book.xlsx")
    d = extract(tmp_path / "book.xlsx", "--layout-file", tmp_path / "my_city.yaml")
    s = d["measures"][0]
    assert s["measure"]["name"] == "観光の振興" and s["cells"]["measure"] == "B2"
    k = s["kpis"][1]
    assert (k["name"], k["category"], k["unit"], k["target_kind"]) == ("宿泊者数/年", "観光", "人", "per_year")
    assert (k["baseline"]["value"], k["baseline_year"], k["target"]["value"], k["target_year"]) == (
        41000, 2018, 45000, 2024)
    assert [(q["fiscal_year"], q["value"], q["cell"]) for q in k["actuals"]] == [
        (2020, 30000, "D6"), (2021, None, "E6"), (2022, None, "F6")]
    assert texts(s, "check_analysis") == [{"department": "観光交流課", "text": "入込客数は回復途上。"}]
    assert d["fiscal_year"] == 2021
    # the same city file declaring roll-forward support: the next edition in its own layout
    spec = tmp_path / "my_city.yaml"
    spec.write_text(part + "rollforward:\n  supported: true\n  history: [check_analysis]\n",
                    encoding="utf-8")
    r = run("rollforward", tmp_path / "book.xlsx", "--to", "R4", "-o", tmp_path / "book_R4.xlsx",
            "--layout-file", spec)
    assert r.exit_code == 0, r.output
    rolled = extract(tmp_path / "book_R4.xlsx", "--layout-file", spec)
    assert rolled["fiscal_year"] == 2022 and texts(rolled["measures"][0], "check_analysis") == []
    assert rolled["measures"][0]["kpis"][1]["actuals"][0]["value"] == 30000


def test_layout_options_on_every_reading_command(tmp_path, books):
    spec = LAYOUTS / "kpi_list.yaml"
    for command in ("extract", "validate", "build", "rollforward", "run"):
        out = run(command, "--help").output
        assert "--layout-file" in out and "--layout" in out, command
    v = run("validate", books["kpi_list"], "--layout-file", spec, "--format", "json")
    assert json.loads(v.output)["files"][0]["layout"] == "kpi_list"
    # a layout whose file does not declare roll-forward support is refused, nothing written
    plain = tmp_path / "kpi_list_plain.yaml"
    plain.write_text(spec.read_text(encoding="utf-8").replace("supported: true", "supported: false"),
                     encoding="utf-8")
    r = run("rollforward", books["kpi_list"], "--to", "R6", "-o", tmp_path / "e.xlsx", "--layout-file", plain,
            "--extend-to", "R6")
    assert r.exit_code == 1 and "rollforward: supported: true" in r.output and not (tmp_path / "e.xlsx").exists()
    # a forced layout that does not fit: refused by rollforward and run, nothing written
    r = run("rollforward", OJIYA, "--to", "R4", "-o", tmp_path / "o.xlsx", "--layout-file", spec)
    assert r.exit_code == 1 and "見出しが見つかりません" in r.output and not (tmp_path / "o.xlsx").exists()
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(books["kpi_list"], src / "list.xlsx")
    shutil.copy(OJIYA, src / "ojiya.xlsx")
    r = run("run", src, "-o", tmp_path / "out", "--jobs", "1", "--layout-file", spec)
    assert r.exit_code == 1 and "失敗 1" in r.output
    assert [p.name for p in (tmp_path / "out").glob("*_報告書.xlsx")] == ["list_報告書.xlsx"]


def test_read_error_writes_no_edition(tmp_path):
    """A 小千谷 book with an impossible era label reads with an error: no roll-forward."""
    wb = openpyxl.load_workbook(OJIYA)
    wb["01"]["F15"] = "H45年度"
    wb.save(tmp_path / "bad.xlsx")
    r = run("rollforward", tmp_path / "bad.xlsx", "--to", "R4", "-o", tmp_path / "bad_R4.xlsx")
    assert r.exit_code == 1 and "読み取りでエラーがあったため" in r.output
    assert not (tmp_path / "bad_R4.xlsx").exists()
    b = run("build", tmp_path / "bad.xlsx", "-o", tmp_path / "r.xlsx")
    assert b.exit_code == 1 and not (tmp_path / "r.xlsx").exists()


def test_field_positions_inside_below_nth(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["A2"], ws["A3"], ws["B3"] = "施策評価シート", "シート№ ０７", "■施策名：", "観光の振興"
    ws["D1"], ws["D2"] = "担当課", "観光課"  # the value below its label
    ws["A4"], ws["B4"], ws["A5"], ws["B5"] = "指標名", "R2年度", "来客数", 10
    ws["A7"], ws["B7"] = "備考", "一つ目"
    ws["A8"], ws["B8"] = "備考", "二つ目"
    wb.save(tmp_path / "b.xlsx")
    (tmp_path / "s.yaml").write_text("""name: positions
detect: [{labels: [施策評価シート]}]
fields:
  sheet_no: {label: [シート№], at: inside, parser: number_code}
  measure: {label: [施策名], required: true}
  departments: {label: [担当課], at: below, parser: departments}
  note: {label: [備考], nth: 2}
table: {header: [指標名]}
""", encoding="utf-8")
    s = extract(tmp_path / "b.xlsx", "--layout-file", tmp_path / "s.yaml")["measures"][0]
    assert (s["number"], s["measure"]["name"], s["departments"]) == ("07", "観光の振興", ["観光課"])
    assert s["extra"]["note"] == "二つ目" and s["cells"]["note"] == "B8"
    assert [k["name"] for k in s["kpis"]] == ["来客数"]  # a field label below the table ends it
    assert s["cells"]["measure"] == "B3" and s["cells"]["departments"] == "D2"


def test_every_layout_in_the_docs_loads(tmp_path, books):
    """Each complete example (a YAML block with name:) in docs/layouts.md is a valid layout."""
    doc = (Path(__file__).parents[1] / "docs" / "layouts.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in doc.split("```yaml\n")[1:]]
    full = [b for b in blocks if b.startswith(("name:", "#")) or "\nname:" in b]
    assert len(full) == 4  # Example 4 reads its workbook in test_schema_fields.py
    for i, text in enumerate(full):
        (tmp_path / f"{i}.yaml").write_text(text, encoding="utf-8")
        load_spec(tmp_path / f"{i}.yaml")

    def kpis(d):
        return [(k["name"], k["baseline"]["value"], k["target"]["value"], k["baseline_year"],
                 [(q["fiscal_year"], q["value"], q["cell"]) for q in k["actuals"]])
                for s in d["measures"] for k in s["kpis"]]

    # the two annotated examples read their workbooks like the shipped files they explain
    for i, name in ((0, "kpi_list"), (1, "kpi_blocks")):
        doc_read = extract(books[name], "--layout-file", tmp_path / f"{i}.yaml")
        assert kpis(doc_read) == kpis(extract(books[name])), name


def test_grade_scale_checked_without_a_rate_column(tmp_path):
    """◎○△× by progress from the baseline, a 評価 column without a year: the city's grade is
    compared with its own scale for the latest year with an actual."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["A2"], ws["B2"] = "施策評価シート", "施策名", "観光"
    ws.append([])
    ws.append(["指標名", "基準値(H30)", "R2年度実績", "R6年度目標", "評価"])
    ws.append(["来客数", 100, 150, 200, "○"])
    ws.append(["宿泊数", 100, 190, 200, "○"])
    wb.save(tmp_path / "g.xlsx")
    (tmp_path / "g.yaml").write_text("""name: g
detect: [{labels: [施策評価シート]}]
fields: {measure: {label: [施策名]}}
table:
  header: [指標名]
  columns:
    grade: {label: [評価]}
achievement: {rule: progress}
grades:
  scale: [{grade: ◎, min: 90}, {grade: ○, min: 50}, {grade: △, min: 20}, {grade: ×, min: 0}]
""", encoding="utf-8")
    d = extract(tmp_path / "g.xlsx", "--layout-file", tmp_path / "g.yaml")
    k = d["measures"][0]["kpis"][0]
    assert [(g["fiscal_year"], g["text"], g["cell"]) for g in k["grades"]] == [(2020, "○", "E5")]
    assert [(f["code"], f["cell"]) for f in d["findings"]] == [("grade-differs", "E6")]


def test_project_sheets_record_their_roll_forward_cells(books):
    d = extract(books["joso"])
    p = d["measures"][1]
    # the year being carried out (予算額 row): its 成果実績 and 実施内容 are next year's input
    year = next(int(y) for y, kind in p["cost"]["year_kinds"].items() if kind == "予算額")
    result = next(q for q in p["kpis"][0]["actuals"] if q["fiscal_year"] == year)
    assert p["rollforward"]["year"] == year == 2021
    assert p["rollforward"]["next_input"] == [result["cell"], p["cells"]["content_2021"]]
    assert p["rollforward"]["history"] == {"check_evaluation": p["cells"]["check_evaluation"],
                                           "check_analysis": p["cells"]["check_analysis"]}


def test_findings_name_a_city_layout_by_its_own_title(tmp_path):
    """A layout file kept beside the workbooks (not shipped) is named in 検証結果 by the
    `title` the city wrote, not by its short name."""
    from layout_workbooks import write_rows_by_kind

    src = tmp_path / "in"
    (src / "layouts").mkdir(parents=True)
    shutil.copy(Path(__file__).parent / "layouts" / "rows_by_kind.yaml", src / "layouts" / "city.yaml")
    write_rows_by_kind(src / "評価.xlsx")
    r = run("run", src, "-o", tmp_path / "out", "--jobs", "1")
    assert r.exit_code == 0, r.output
    ws = openpyxl.load_workbook(tmp_path / "out" / "検証結果.xlsx").worksheets[0]
    titles = [row[1] for row in ws.iter_rows(values_only=True) if row[0] == "評価.xlsx"]
    assert titles == [load_spec(src / "layouts" / "city.yaml").title]

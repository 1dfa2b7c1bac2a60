"""The yearly round trip on the 小千谷 book: distribute R3 → R4 forms, fill them as the
departments would (right answers, wrong types, edits in locked cells, a form of another
year and of another book, two departments on one cell, a late corrected resubmission),
collect, and check the master's facts, the status table and that nothing else changed."""

from __future__ import annotations

import json
import shutil

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import OJIYA
from tests.fidelity_corpus import compare
from tests.layout_workbooks import write_kpi_blocks
from tests.roundtrip_forms import fill, inputs, jst
from xlsgen import app
from xlsgen.cli import cli
from xlsgen.layout import read_book
from xlsgen.package import Package
from xlsgen.roundtrip.assignment import AMOUNT, KPI, NUMBER

FY = 2021  # the R4 edition asks for the R3 actuals
BOOK = "ojiya_進行管理シート"


def _answer(a, n: int):
    if a.value_type != NUMBER:
        return f"{a.departments[0]}: {a.sheet} {a.label}（{n}）"
    if a.group == AMOUNT:
        return 1000 + n
    return round(10.5 + n / 10, 1) if a.unit == "%" else 100 + n


@pytest.fixture(scope="module")
def trip(tmp_path_factory):
    d = tmp_path_factory.mktemp("trip")
    out = d / "照会"
    res = CliRunner().invoke(cli, ["distribute", str(OJIYA), "--to", "R4", "-o", str(out),
                                   "--due", "2022年5月31日", "--contact", "企画政策課 内線123"])
    assert res.exit_code == 0, res.output
    master = out / f"{BOOK}_R4.xlsx"
    forms = {p.name.split("_")[0]: p for p in out.glob("*.xlsx") if p != master}
    back = d / "回答"
    expected: dict[str, object] = {}      # assignment key → value that must land in the master
    rejected: dict[str, str] = {}         # assignment key → problem code
    files = []
    shared = []
    for owner, form in sorted(forms.items()):
        if owner == "福祉課":
            continue  # never answers
        answers = {}
        for n, (key, i) in enumerate(inputs(form).items()):
            a = i.assignment
            if len(a.departments) > 1:
                shared.append(key)
                if owner == a.departments[0]:
                    answers[key] = 5
                elif owner == a.departments[1]:
                    answers[key] = 6
                continue
            answers[key] = _answer(a, n)
            expected[key] = answers[key]
        locked = {}
        mine = list(inputs(form).values())
        if owner == "商工振興課":  # wrong types
            kpis = [i.assignment for i in mine if i.assignment.group == KPI and i.assignment.unit == "件"]
            amounts = [i.assignment for i in mine if i.assignment.group == AMOUNT]
            texts = [i.assignment for i in mine if i.assignment.value_type != NUMBER]
            for key, value, code in ((kpis[0].key, "たくさん", "not-a-number"), (kpis[1].key, "17人", "wrong-unit"),
                                     (amounts[0].key, -5, "out-of-range"), (texts[0].key, "あ" * 1001, "too-long")):
                answers[key] = value
                rejected[key] = code
                expected.pop(key)
        if owner == "観光交流課":  # the KPI name of one row, a reference and the cover changed
            row, other = [i for i in mine if i.assignment.group == KPI][:2]
            locked = {(row.sheet, f"C{row.cell[1:]}"): "書き換えた指標名", ("表紙", "B3"): "別の課",
                      (other.sheet, f"F{other.cell[1:]}"): "参考を消した"}  # only reported: still taken
            rejected[row.assignment.key] = "row-changed"
            expected.pop(row.assignment.key)
        if owner == "農林課":  # v1 on 5/20, corrected v2 on 5/25, given first on the command line
            first = back / "v1" / form.name
            fill(form, first, answers, jst(20))
            kpi = next(i.assignment for i in mine if i.assignment.group == KPI)
            answers[kpi.key] = expected[kpi.key] = answers[kpi.key] + 1000
            second = back / "v2" / form.name
            fill(form, second, answers, jst(25))
            files += [second, first]
            continue
        files.append(fill(form, back / form.name, answers, jst(21), locked, unprotect=bool(locked)))
    # a form of the R3 edition of the same book, and one of another book
    old = d / "R3照会"
    app.distribute_book(OJIYA, old)
    r3 = next(old.glob("学校教育課_*.xlsx"))
    files.append(fill(r3, back / "古い年度" / r3.name, {k: _answer(i.assignment, 1) for k, i in inputs(r3).items()},
                      jst(22)))
    other_book = d / "blocks.xlsx"
    write_kpi_blocks(other_book)
    other = d / "他のブック"
    app.distribute_book(other_book, other)
    files.append(next(other.glob("企画課_*.xlsx")))
    stray = back / "stray.xlsx"
    shutil.copy(OJIYA, stray)
    files.append(stray)
    new = d / "ojiya_R4_回収.xlsx"
    status = d / "status.json"
    res = CliRunner().invoke(cli, ["collect", str(master), *map(str, files), "-o", str(new),
                                   "--status", str(status)])
    assert res.exit_code == 0, res.output
    return {"dir": d, "master": master, "forms": forms, "files": files, "new": new, "output": res.output,
            "status": json.loads(status.read_text(encoding="utf-8")), "expected": expected,
            "rejected": rejected, "shared": shared, "back": back}


def _assignments(trip) -> dict:
    out = {}
    for form in trip["forms"].values():
        out.update({k: i.assignment for k, i in inputs(form).items()})
    return out


def test_one_form_per_department(trip):
    book = read_book(OJIYA)
    departments = {d for m in book.measures for d in m.departments} | {
        t.department for m in book.measures for t in m.texts if t.department}
    assert set(trip["forms"]) == departments and len(departments) == 9
    for owner, path in trip["forms"].items():
        assert path.name == f"{owner}_{BOOK}_R4.xlsx"
    assert read_book(trip["master"]).fiscal_year == 2022  # the R4 edition, rolled by distribute
    wb = openpyxl.load_workbook(trip["forms"]["学校教育課"])
    assert wb["表紙"]["B5"].value == "2022年5月31日" and wb["表紙"]["B6"].value == "企画政策課 内線123"
    assert [ws.sheet_state for ws in wb] == ["visible", "visible", "visible", "veryHidden"]
    assert all(wb[s].protection.sheet for s in ("表紙", "数値の入力", "文章の入力"))


def test_every_accepted_answer_lands_in_the_master(trip):
    new = read_book(trip["new"])
    values, texts = {}, {}
    for m in new.measures:
        for k in m.kpis:
            q = k.actual(FY)
            values[f"{k.sheet or m.sheet}!{q.cell}"] = q
            if k.cost is not None:
                values[f"{m.sheet}!{k.cost.cell}"] = k.cost
        for t in m.texts:
            texts[f"{m.sheet}!{t.cell}#{t.department}"] = t.text
    assignments = _assignments(trip)
    checked = 0
    for key, value in trip["expected"].items():
        a = assignments[key]
        if a.segment:
            assert texts.get(key) == value, key
        else:
            assert values[key].value == pytest.approx(value), key
        checked += 1
    assert checked > 150
    snap = {}
    from xlsgen.package import Workbook

    for name, cells in Workbook(Package(trip["master"])).snapshot().items():
        snap.update({f"{name}!{a}": v for a, (v, _) in cells.items()})
    for key in [*trip["rejected"], *trip["shared"]]:
        a = assignments[key]
        got = texts.get(key) if a.segment else values[key].value
        was = snap.get(key.split("#")[0])
        assert got in (None, "") if a.segment or was is None else got == was, (key, got, was)


def test_only_the_answered_cells_change(trip):
    applied = trip["status"]["applied"]
    cells: dict[str, set[str]] = {}
    for a in applied:
        cells.setdefault(a["sheet"], set()).add(a["cell"])
    assert compare(trip["master"], trip["new"], cells, Package(trip["master"]).sheets) == []
    expected = {tuple(k.split("#")[0].split("!")) for k in trip["expected"]}
    assert {(a["sheet"], a["cell"]) for a in applied} == expected


def test_every_rejected_input_is_reported_with_department_and_cells(trip):
    problems = trip["status"]["problems"]
    assignments = _assignments(trip)
    for key, code in trip["rejected"].items():
        a = assignments[key]
        hits = [p for p in problems if p["code"] == code and p["master_cell"] == a.where]
        assert hits and hits[0]["owner"] in a.departments and hits[0]["form_cell"].count("!") == 1, key
    for key in trip["shared"]:  # two departments on one cell: both named, neither applied
        a = assignments[key]
        conflict = [p for p in problems if p["code"] == "conflict" and p["master_cell"] == a.where]
        assert {p["owner"] for p in conflict} == set(a.departments[:2])
        assert all(a.departments[0] in p["message"] and a.departments[1] in p["message"] for p in conflict)
    locked = [p for p in problems if p["code"] == "locked-edit"]
    assert len(locked) == 3 and all(p["owner"] == "観光交流課" for p in locked)
    assert "表紙!B3" in {p["form_cell"] for p in locked}
    reasons = {r["file"]: r["reason"] for r in trip["status"]["rejected"]}
    assert "令和3年度版の照会様式です" in reasons[f"学校教育課_{BOOK}_R3.xlsx"]
    assert "別のブック" in next(v for k, v in reasons.items() if k.startswith("企画課_"))
    assert "照会様式ではありません" in reasons["stray.xlsx"]


def test_a_corrected_resubmission_replaces_the_earlier(trip):
    owners = {o["owner"]: o for o in trip["status"]["owners"]}
    name = trip["forms"]["農林課"].name
    assert owners["農林課"]["replaced"] == [name] and owners["農林課"]["saved"] == "2022-05-25 09:00"
    notes = [p for p in trip["status"]["problems"] if p["code"] == "resubmitted"]
    assert len(notes) == 1 and "→" in notes[0]["message"]
    wb = openpyxl.load_workbook(trip["new"], read_only=True)
    log = [r for r in wb["変更履歴"].iter_rows(min_row=2, values_only=True)]
    assert all(r[4].split("の回答")[0] in trip["forms"] for r in log)
    assert sum("農林課の回答" in r[4] for r in log) == sum(
        a["owner"] == "農林課" for a in trip["status"]["applied"])


def test_status_table_lists_every_department(trip):
    owners = {o["owner"]: o for o in trip["status"]["owners"]}
    assert set(owners) == set(trip["forms"])
    assert owners["福祉課"]["status"] == "未提出"
    assert all(o["status"] == "提出" for k, o in owners.items() if k != "福祉課")
    assert all(o["filled"] + o["empty"] == o["inputs"] for o in owners.values())
    wb = openpyxl.load_workbook(trip["new"], read_only=True)
    rows = list(wb["回収状況"].iter_rows(values_only=True))
    assert rows[0][:3] == ("課・施策", "状況", "入力欄")
    by_owner = {r[0]: r for r in rows[1:]}
    assert by_owner["福祉課"][1] == "未提出" and by_owner["商工振興課"][1] == "提出"
    assert sum(r[1] == "不受理" for r in rows[1:]) == 3
    assert "福祉課: 未提出" in trip["output"]


def test_recollecting_gives_the_same_bytes(trip, tmp_path):
    again = tmp_path / "again.xlsx"
    app.collect_forms(trip["master"], trip["files"], again)
    assert again.read_bytes() == trip["new"].read_bytes()


def test_refuses_when_the_master_changed_in_a_cell_a_form_writes(trip, tmp_path):
    from xlsgen.model import Edit, Plan
    from xlsgen.package import apply_plan

    key = next(k for k in trip["expected"] if "#" not in k)
    sheet, cell = key.split("!")
    changed = tmp_path / trip["master"].name
    pkg = Package(trip["master"])
    apply_plan(pkg, Plan(edits=[Edit(sheet, cell, 999, "後から直した")]))
    pkg.write(changed)
    out = tmp_path / "new.xlsx"
    res = CliRunner().invoke(cli, ["collect", str(changed), *map(str, trip["files"]), "-o", str(out)])
    assert res.exit_code == 1 and key in res.output and "配布後に変更" in res.output
    assert len(res.output.strip().splitlines()) == 1 and not out.exists()
    # a change in a cell no answer touches does not stop the collection
    pkg = Package(trip["master"])
    apply_plan(pkg, Plan(edits=[Edit("01", "A2", "メモ", "後から直した")]))
    other = tmp_path / "other" / trip["master"].name
    other.parent.mkdir()
    pkg.write(other)
    assert app.collect_forms(other, trip["files"], tmp_path / "ok.xlsx").applied


def test_diff_against_the_distributed_master_lists_exactly_the_answers(trip):
    result = app.diff_files(trip["master"], trip["new"])
    changed = {(c.new_cell, c.department) for c in result.changes}
    applied = {(f"{a['sheet']}!{a['cell']}", a["segment"]) for a in trip["status"]["applied"]}
    assert changed == applied
    assert all(c.kind in ("value", "text") for c in result.changes)


def test_one_folder_for_master_forms_and_output(trip, tmp_path):
    """The master, the returned forms and the output in one folder: the master and the
    output are not taken for forms, and collecting again gives the same bytes."""
    folder = tmp_path / "回収"
    folder.mkdir()
    master = folder / trip["master"].name
    shutil.copy(trip["master"], master)
    for f in trip["files"]:
        if f.parent.name != "v1":  # the earlier 農林課 form has the same name as the corrected one
            shutil.copy(f, folder / f.name)
    out = folder / "回収結果.xlsx"
    first = app.collect_forms(master, [folder], out)
    data = out.read_bytes()
    again = app.collect_forms(master, [folder], out)
    assert out.read_bytes() == data and len(first.rejected) == len(again.rejected) == 3
    assert {a.cell for a in first.applied} == {a["cell"] for a in trip["status"]["applied"]}

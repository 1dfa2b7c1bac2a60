"""Round trips on the other books: 常総 (one sheet per project, rolled R3 → R4), KPI blocks
with years as rows (departments from 担当課 and 【…課】/〔…課〕 texts), a KPI list without
departments (one form per measure), and the 西東京 plan table (nothing to ask: refused)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import JOSO, NISHITOKYO
from tests.fidelity_corpus import compare
from tests.layout_workbooks import write_kpi_blocks, write_kpi_list
from tests.roundtrip_forms import fill, inputs, jst
from xlsgen import app
from xlsgen.cli import cli
from xlsgen.layout import builtin_dir, read_book
from xlsgen.package import Package
from xlsgen.roundtrip.assignment import AMOUNT, CHOICE, NUMBER


def _changed(result) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for a in result.applied:
        out.setdefault(a.sheet, set()).add(a.cell)
    return out


def _forms(folder: Path, master: Path) -> dict[str, Path]:
    from xlsgen.roundtrip.form import read_form

    return {read_form(p).owner: p for p in folder.glob("*.xlsx") if p != master}


def test_joso_projects_round_trip(tmp_path):
    out = tmp_path / "照会"
    dist = app.distribute_book(JOSO, out, "R4")
    assert dist.rolled_from == JOSO and dist.master.name == "joso_事務事業評価シート_R4.xlsx"
    book = read_book(JOSO)
    forms = _forms(out, dist.master)
    # one form per 担当 of a project sheet (the 施策 sheet asks nothing of anyone)
    assert set(forms) == {d for m in book.measures for d in m.departments}
    filled, expected = [], {}
    for n, (owner, form) in enumerate(sorted(forms.items())):
        answers = {}
        for key, i in inputs(form).items():
            a = i.assignment
            if a.value_type == CHOICE:
                answers[key] = "継続" if n == 0 else "やめる"   # the second is not in the list
            elif a.value_type == NUMBER:
                answers[key] = 120 + n if a.group == AMOUNT else "協定締結" if a.free_text else 35
            else:
                answers[key] = f"{owner}の{a.item}"
            if not (a.value_type == CHOICE and n == 1):
                expected[key] = answers[key]
        filled.append(fill(form, tmp_path / "回答" / form.name, answers, jst(20 + n)))
    new = tmp_path / "joso_R4_回収.xlsx"
    result = app.collect_forms(dist.master, filled, new)
    assert [p.code for p in result.problems if p.severity == "error"] == ["not-in-list"]
    assert compare(dist.master, new, _changed(result), Package(dist.master).sheets) == []
    got = read_book(new)
    projects = [m for m in got.measures if m.cost is not None]
    assert len(projects) == 2
    for m in projects:
        assert m.cost.year_kinds[2021] == "決算額"
        for line in m.cost.lines:
            for year in (2021, 2023):  # the year closed and the plan year after the edition
                q = line.value(year)
                assert q.value == expected[f"{m.sheet}!{q.cell}"], (m.sheet, line.key, year)
        result = m.kpis[0].actual(2021)
        got_result = result.value if result.value is not None else result.text
        assert got_result == expected[f"{m.sheet}!{result.cell}"]
        content = next(t for t in m.kpis[0].texts if t.fiscal_year == 2021)
        assert content.text == f"{m.departments[0]}のR3年度 {content.label}"
        assert m.text("check_evaluation") == f"{m.departments[0]}のR3年度 評価"
    assert sorted(m.policy for m in projects) == ["", "継続"]  # the answer outside the list is reported


def test_kpi_blocks_shared_kpis_and_department_texts(tmp_path):
    src = tmp_path / "blocks.xlsx"
    write_kpi_blocks(src)
    out = tmp_path / "照会"
    dist = app.distribute_book(src, out)
    assert dist.master == src and dist.edition == 2022 and dist.fiscal_year == 2021
    forms = _forms(out, src)
    assert set(forms) == {"子育て支援課", "保育課", "企画課"}
    filled = []
    for owner, form in sorted(forms.items()):
        answers = {}
        for key, i in inputs(form).items():
            a = i.assignment
            # a KPI of a measure with two departments is in both forms; the same answer is no conflict
            answers[key] = 11 if a.value_type == NUMBER else f"{owner}の{a.item}"
        filled.append(fill(form, tmp_path / "回答" / form.name, answers, jst(21)))
    new = tmp_path / "new.xlsx"
    result = app.collect_forms(src, filled, new)
    assert not [p for p in result.problems if p.severity == "error"]
    assert compare(src, new, _changed(result), Package(src).sheets) == []
    got = read_book(new)
    for m in got.measures:
        assert all(k.actual(2021).value == 11 for k in m.kpis)
        texts = {t.department: t.text for t in m.texts_of("check_analysis")}
        label = m.texts_of("check_analysis")[0].label
        assert texts == {d: f"{d}の{label}" for d in m.departments}
    raw = next(c.after for c in result.changes if c.sheet == "施策2" and isinstance(c.after, str))
    assert raw.startswith("〔企画課〕\n")  # the department's own heading style is kept


def test_kpi_list_without_departments_gives_one_form_per_measure(tmp_path):
    src = tmp_path / "list.xlsx"
    write_kpi_list(src)
    out = tmp_path / "照会"
    dist = app.distribute_book(src, out)
    book = read_book(src)
    from xlsgen.roundtrip.inputs import _measure_owner

    assert len(dist.forms) == len(book.measures) and all(f.kind == "measure" for f in dist.forms)
    assert {f.owner for f in dist.forms} == {_measure_owner(m.number or "", m.measure.name) for m in book.measures}
    filled = [fill(f.path, tmp_path / "回答" / f.path.name,
                   {k: 40 + n for n, k in enumerate(inputs(f.path))}, jst(21)) for f in dist.forms]
    new = tmp_path / "new.xlsx"
    result = app.collect_forms(src, filled, new)
    assert result.applied and compare(src, new, _changed(result), Package(src).sheets) == []
    values = {q.cell: q.value for m in read_book(new).measures for k in m.kpis for q in [k.actual(2022)]}
    assert all(values[a.cell] == a.after for a in result.applied)


def test_plan_table_without_year_cells_is_refused(tmp_path):
    out = tmp_path / "照会"
    res = CliRunner().invoke(cli, ["distribute", str(NISHITOKYO), "-o", str(out)])
    assert res.exit_code == 1 and "書き込むセルがありません" in res.output
    assert len(res.output.strip().splitlines()) == 1 and not out.exists()


def test_a_layout_that_cannot_roll_refuses_the_next_edition(tmp_path):
    src = tmp_path / "blocks.xlsx"
    write_kpi_blocks(src)
    out = tmp_path / "照会"
    plain = tmp_path / "kpi_blocks_plain.yaml"  # the shipped layout without roll-forward
    plain.write_text((builtin_dir() / "kpi_blocks.yaml").read_text(encoding="utf-8").replace(
        "supported: true", "supported: false"), encoding="utf-8")
    res = CliRunner().invoke(cli, ["distribute", str(src), "--to", "R5", "-o", str(out), "--layout-file", str(plain)])
    assert res.exit_code == 1 and "繰り越し" in res.output and not out.exists()
    res = CliRunner().invoke(cli, ["distribute", str(src), "--to", "R7", "-o", str(out)])
    assert res.exit_code == 1 and "--to" in res.output and not out.exists()


@pytest.mark.parametrize("owner,book,edition,name", [
    ("商工振興課", Path("ojiya_進行管理シート_R3.xlsx"), 2022, "商工振興課_ojiya_進行管理シート_R4.xlsx"),
    ("施策01_移住/定住:促進", Path("KPI一覧.xlsx"), 2023, "施策01_移住_定住_促進_KPI一覧_R5.xlsx"),
    ("a" * 300, Path("b.xlsx"), 2022, None),
])
def test_form_file_names_are_legal(owner, book, edition, name):
    from xlsgen.distribute import book_name, file_name

    got = file_name(owner, book_name(book), edition)
    assert len(got.encode("utf-8")) <= 255 and not set(got) & set('\\/:*?"<>|')
    if name:
        assert got == name

"""A rolling window that keeps the plan's baseline and final target in place
(`rollforward: window: {keep: [baseline, target]}`): `H30（基準） R元 R2 R3 R4 R7（目標）` →
`H30（基準） R2 R3 R4 R5 R7（目標）`, the reported years moving on between them. And a rolled
edition read before Excel recalculates it: its formulas' saved results are from before the
roll, so the city's 達成率 are not compared with the rule (one warning says so).

The book is built here (rows 目標値 / 実績値 / 達成度 per KPI, 達成度 a formula), its formulas
calculated by LibreOffice as Excel would have saved them.
"""

from __future__ import annotations

import openpyxl
import pytest
import yaml

from xlsgen.layout import read_book
from xlsgen.layout.spec import LayoutSpecError, load_spec
from xlsgen.rollforward import rollforward_file
from xlsgen.validate import validate_book

YEARS = ["H30（基準）", "R元", "R2", "R3", "R4", "R7（目標）"]  # columns F..K
COLS = "FGHIJK"
KPIS = [  # name, unit, targets by year column, actuals by year column
    ("新規就農者数", "人", [None, 12, 12, 13, 13, 15], [10, 11, 14, 12, 16, None]),
    ("認定農業者数", "経営体", [None, 420, 425, 430, 435, 450], [412, 409, 415, 418, 421, None]),
]

LAYOUT = {
    "name": "keep_window",
    "record": "sheet",
    "detect": [{"id": "title", "labels": ["施策評価シート"], "match": "contains"},
               {"id": "kubun", "labels": ["区分"]}],
    "fields": {"title": {"label": ["re:施策評価シート"], "at": "same"},
               "fiscal_year": {"label": ["re:施策評価シート"], "at": "same", "type": "year"},
               "measure": {"label": ["施策"], "required": True}},
    "table": {"header": ["指標名"],
              "columns": {"name": {"label": ["指標名"], "required": True}, "unit": {"label": ["単位"]},
                          "kind": {"label": ["区分"]}, "target": {"label": ["re:\\(目標\\)$"]}},
              "row_roles": {"column": "kind",
                            "roles": {"目標値": "target", "実績値": "actual", "達成度": "achievement"}}},
    "values": {"none_marks": ["－"], "percent": "fraction"},
    "achievement": {"rule": "ratio", "tolerance": 0.5},
    "rollforward": {"supported": True, "window": {"keep": ["baseline", "target"]}},
}


def _book(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "施策1"
    ws["A1"] = "令和５年度　施策評価シート（令和４年度実績）"
    ws["A2"], ws["C2"] = "施策", "担い手の確保"
    for c, text in zip("ABCDE", ["No.", "指標名", "単位", "方向", "区分"]):
        ws[f"{c}4"] = text
    for c, text in zip(COLS, YEARS):
        ws[f"{c}4"] = text
    r = 5
    for i, (name, unit, targets, actuals) in enumerate(KPIS, 1):
        ws[f"A{r}"], ws[f"B{r}"], ws[f"C{r}"], ws[f"D{r}"] = i, name, unit, "↑"
        ws.merge_cells(f"B{r}:B{r + 2}")
        for j, role in enumerate(["目標値", "実績値", "達成度"]):
            ws[f"E{r + j}"] = role
        for c, t, a in zip(COLS, targets, actuals):
            ws[f"{c}{r}"] = "－" if t is None and c == "F" else t
            ws[f"{c}{r + 1}"] = a
            if c not in "FK":
                ws[f"{c}{r + 2}"] = f"={c}{r + 1}/{c}{r}"
        r += 3
    wb.save(path)


@pytest.fixture
def edition(tmp_path, recalc):
    """The R5 edition as Excel would save it (formulas with their results) and its layout."""
    _book(tmp_path / "plan_R5_raw.xlsx")
    book = recalc(tmp_path / "plan_R5_raw.xlsx")
    layout = tmp_path / "keep.yaml"
    layout.write_text(yaml.safe_dump(LAYOUT, allow_unicode=True), "utf-8")
    return book, layout


def test_the_baseline_and_the_final_target_stay_while_the_reported_years_move_on(edition, tmp_path, recalc):
    from xlsgen.model import PAST_YEARS_SHEET

    book, layout = edition
    old = read_book(book, layout_file=str(layout))
    assert not [f for f in old.findings if f.severity.value == "error"]
    out = tmp_path / "plan_R6.xlsx"
    rollforward_file(book, "R6", out, layout_file=str(layout))
    ws = openpyxl.load_workbook(out)["施策1"]
    assert [ws[f"{c}4"].value for c in COLS] == ["H30（基準）", "R2", "R3", "R4", "R5", "R7（目標）"]
    assert ws["A1"].value == "令和６年度　施策評価シート（令和５年度実績）"
    assert [ws[f"{c}7"].value for c in "GHIJ"] == ["=G6/G5", "=H6/H5", "=I6/I5", "=J6/J5"]  # untouched

    new = read_book(out, layout_file=str(layout))
    assert new.fiscal_year == 2024
    m0, m1 = old.measures[0], new.measures[0]
    assert (m1.baseline_year, m1.target_year) == (2018, 2025)
    for k0, k1 in zip(m0.kpis, m1.kpis):
        assert (k1.baseline.value, k1.baseline.cell) == (k0.baseline.value, k0.baseline.cell)
        assert (k1.target.value, k1.target.cell) == (k0.target.value, k0.target.cell)
        assert [(q.fiscal_year, q.value) for q in k1.actuals] == \
            [(y, k0.actual(y).value) for y in (2020, 2021, 2022)] + [(2023, None)]
        assert [(q.fiscal_year, q.value) for q in k1.targets if q.fiscal_year != 2018] == \
            [(y, next(q.value for q in k0.targets if q.fiscal_year == y)) for y in (2020, 2021, 2022)] + \
            [(2023, None)]
    # the oldest reported year (R元) is kept on 過年度実績, not lost
    past = openpyxl.load_workbook(out)[PAST_YEARS_SHEET]
    archived = {row[7]: row[6] for row in past.iter_rows(min_row=2, values_only=True)}
    k0 = m0.kpis[0]
    assert archived[k0.actual(2019).cell] == k0.actual(2019).value

    # read before Excel recalculates: one warning, no comparison of stale 達成度 results
    codes = [f.code for f in validate_book(new)]
    assert "formulas-not-recalculated" in codes
    assert "achievement-differs" not in codes
    # recalculated (as Excel does on opening): the moved values give the 達成度 again, no warning
    again = read_book(recalc(out), layout_file=str(layout))
    assert not {"formulas-not-recalculated", "achievement-differs"} & {f.code for f in validate_book(again)}
    k = again.measures[0].kpis[0]
    rate = next(q for q in k.achievements if q.fiscal_year == 2022)
    target = next(q.value for q in k.targets if q.fiscal_year == 2022)
    assert rate.value == pytest.approx(k.actual(2022).value / target, rel=1e-6)  # the moved R4 values


def test_without_keep_the_baseline_column_would_move(edition, tmp_path):
    """The same book with `window: true`: the baseline's header moves on too (what `keep`
    is for)."""
    book, layout = edition
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump({**LAYOUT, "rollforward": {"supported": True, "window": True}},
                                    allow_unicode=True), "utf-8")
    out = tmp_path / "plain_R6.xlsx"
    rollforward_file(book, "R6", out, layout_file=str(plain))
    assert openpyxl.load_workbook(out)["施策1"]["F4"].value != "H30（基準）"


def test_keep_takes_baseline_and_target_only(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**LAYOUT, "rollforward": {"window": {"keep": ["基準"]}}},
                                  allow_unicode=True), "utf-8")
    with pytest.raises(LayoutSpecError, match="window.keep"):
        load_spec(bad)


# --- what rollforward.history empties: an evaluation field and a table of texts -------------

def _with_evaluation(path):
    wb = openpyxl.load_workbook(path)
    ws = wb["施策1"]
    ws["A12"], ws["C12"] = "評価", "A"
    ws["A14"], ws["B14"], ws["C14"] = "担当課", "課題", "今後の方向性"
    ws["A15"], ws["B15"], ws["C15"] = "農政課", "離農が続く", "定着支援を強める"
    ws["A16"], ws["B16"], ws["C16"] = "林務課", "担い手の高齢化", "研修を続ける"
    wb.save(path)


HISTORY = {**LAYOUT,
           "fields": {**LAYOUT["fields"], "overall": {"label": ["評価"], "holds": "evaluation"}},
           "tables": {"issues": {"holds": "texts", "header": ["担当課"],
                                 "columns": {"department": {"label": ["担当課"]},
                                             "issue": {"label": ["課題"], "role": "check"},
                                             "next": {"label": ["今後の方向性"], "role": "action"}}}},
           "rollforward": {"supported": True, "window": {"keep": ["baseline", "target"]},
                           "history": ["overall", "issues"]}}


def test_history_empties_an_evaluation_and_a_table_of_texts(tmp_path, recalc):
    from xlsgen.model import CHECK_HISTORY_SHEET

    _book(tmp_path / "raw.xlsx")
    _with_evaluation(tmp_path / "raw.xlsx")
    book = recalc(tmp_path / "raw.xlsx")
    layout = tmp_path / "history.yaml"
    layout.write_text(yaml.safe_dump(HISTORY, allow_unicode=True), "utf-8")
    old = read_book(book, layout_file=str(layout))
    m0 = old.measures[0]
    assert [(e.key, e.value) for e in m0.evaluations] == [("overall", "A")]
    assert {(t.department, t.text) for t in m0.texts} >= {("農政課", "離農が続く"), ("林務課", "研修を続ける")}
    out = tmp_path / "history_R6.xlsx"
    rollforward_file(book, "R6", out, layout_file=str(layout))
    wb = openpyxl.load_workbook(out)
    ws = wb["施策1"]
    assert ws["C12"].value is None and [ws[f"{c}{r}"].value for r in (15, 16) for c in "BC"] == [None] * 4
    assert ws["A15"].value == "農政課"  # the department names stay
    rows = list(wb[CHECK_HISTORY_SHEET].iter_rows(min_row=2, values_only=True))
    kept = "\n".join(str(r[5]) for r in rows)
    for text in ("A", "離農が続く", "定着支援を強める", "担い手の高齢化", "研修を続ける"):
        assert text in kept
    new = read_book(out, layout_file=str(layout))
    assert not [e for e in new.measures[0].evaluations if e.value]
    assert not [t for t in new.measures[0].texts if t.text]


def test_a_history_name_the_layout_does_not_have_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**HISTORY, "rollforward": {"history": ["issue"]}}, allow_unicode=True), "utf-8")
    with pytest.raises(LayoutSpecError, match="rollforward.history の「issue」"):
        load_spec(bad)

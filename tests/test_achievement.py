"""Achievement rules pinned by hand-computed cases: the Python value, and the same formula
recalculated by LibreOffice in a built report (one recalculation for all cases)."""

from __future__ import annotations

from datetime import datetime

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from tests.conftest import need_libreoffice
from xlsgen import libreoffice
from xlsgen.formulas import achievement as ach
from xlsgen.measures import BudgetLine, ReportBook, ReportKpi, ReportMeasure
from xlsgen.model import Direction, Quantity, TargetKind
from xlsgen.render.report import write_report

YEARS = [2020, 2021, 2022, 2023, 2024]
NA = ach.NA


def kpi(name, kind, baseline, actuals, target, direction=Direction.UP, period=None):
    values = {y: Quantity(value=v, fiscal_year=y) if isinstance(v, (int, float))
              else Quantity(text=v, fiscal_year=y) for y, v in zip(YEARS, actuals)}
    base = Quantity(text=baseline) if isinstance(baseline, str) else Quantity(value=baseline)
    return ReportKpi(name=name, unit="件", kind=kind, direction=direction,
                     baseline=base, baseline_year=2018, values=values,
                     target=Quantity(value=target) if isinstance(target, (int, float))
                     else Quantity(text=target),
                     target_year=2024, period=period)


# name → (kpi, expected achievement per year, expected pace at 2021, expected grade at 2021)
# expected pace of a point-in-time / running total: (2021 − 2018) / (2024 − 2018) = 0.5
WORSE = ach.WORSE
CASES = {
    "単年度": (kpi("単年度", TargetKind.PER_YEAR, 48, [40, 60, None, None, None], 50),
            [0.8, 1.2, NA, NA, NA], NA, "A"),
    "期間累計": (kpi("期間累計", TargetKind.CUMULATIVE, None, [10, 30, None, None, None], 100,
                 period=(2020, 2023)),
             [0.1, 0.4, NA, NA, NA], 0.5, "D"),
    "累計": (kpi("累計", TargetKind.RUNNING_TOTAL, 163, [176, 200, None, None, None], 220),
           [13 / 57, 37 / 57, NA, NA, NA], 0.5, "C"),
    "時点": (kpi("時点", TargetKind.AT_YEAR, 40.4, [42.4, None, None, None, 45], 44),
           [2 / 3.6, NA, NA, NA, 45 / 44], 0.5, NA),
    "減少": (kpi("減少", TargetKind.AT_YEAR, 100, [90, 95, None, None, None], 80, Direction.DOWN),
           [0.5, 0.25, NA, NA, NA], 0.5, "D"),
    # 小千谷 23: 96.6 → 78.9 against 100 moved away from the target (was ▲520.6 %)
    "悪化": (kpi("悪化", TargetKind.AT_YEAR, 96.6, [None, 78.9, None, None, None], 100),
           [NA, WORSE, NA, NA, NA], 0.5, "D"),
    "減少で悪化": (kpi("減少で悪化", TargetKind.AT_YEAR, 100, [110, 80, None, None, None], 80,
                    Direction.DOWN), [WORSE, 1.0, NA, NA, NA], 0.5, "A"),
    # a baseline within 5 % of the target: actual ÷ target, not (99 − 97) / (100 − 97)
    "基準が目標に近い": (kpi("基準が目標に近い", TargetKind.AT_YEAR, 97, [99, 98, None, None, None], 100),
                  [0.99, 0.98, NA, NA, NA], 0.5, "B"),
    # 小千谷 03 and 22: a target but a 「-」 baseline → actual ÷ target
    "基準なし": (kpi("基準なし", TargetKind.AT_YEAR, "-", [None, 4, None, None, None], 2),
             [NA, 2.0, NA, NA, NA], 0.5, "A"),
    "累計で基準なし": (kpi("累計で基準なし", TargetKind.RUNNING_TOTAL, "-", [None, 187, None, None, None],
                      2000), [NA, 187 / 2000, NA, NA, NA], 0.5, "D"),
    "定性": (kpi("定性", TargetKind.QUALITATIVE, None, ["実施", "実施", None, None, None], "整備完了"),
           [NA] * 5, NA, NA),
    "目標＝基準": (kpi("目標＝基準", TargetKind.RUNNING_TOTAL, 3, [0, 3, None, None, None], 3),
              [0.0, 1.0, NA, NA, NA], 0.5, "A"),
    "水準維持": (kpi("水準維持", TargetKind.AT_YEAR, 3, [0, 3, None, None, None], 3),
             [0.0, 1.0, NA, NA, NA], 0.5, "A"),
}


def report(cases) -> ReportBook:
    m = ReportMeasure(key="01", title="テスト施策", source_sheet="01", levels=[("施策", "テスト")],
                      purpose="", projects=[], years=YEARS, kpis=[c[0] for c in cases.values()],
                      check=[], action=[])
    # 常総: a per-year KPI whose target changes every year (成果目標 in the budget table)
    joso = kpi("年度別目標", TargetKind.PER_YEAR, None, [8, 20, None, None, None], 20)
    joso.year_targets = True
    budget = [BudgetLine(y, "決算額", Quantity(value=100), Quantity(value=40),
                         Quantity(value=t, fiscal_year=y)) for y, t in ((2020, 10), (2021, 25))]
    j = ReportMeasure(key="02", title="常総型", source_sheet="02", levels=[], purpose="",
                      projects=[], years=YEARS, kpis=[joso], check=[], action=[], budget=budget)
    return ReportBook(layout="ojiya", source="test.xlsx", title="テスト", eval_year=2021,
                      created=datetime(2021, 4, 1), measures=[m, j])


def check_rows(ws) -> dict:
    """KPI name → {column header: value} of the Check table (year headers are numbers)."""
    head = next(r for r in ws.iter_rows() if r[4].value == "評価年度の\n達成率")
    cols = {c.column: c.value for c in head if c.value is not None}
    out = {}
    for row in ws.iter_rows(min_row=head[0].row + 1):
        if row[2].value in (*CASES, "年度別目標") and row[2].value not in out:
            out[row[2].value] = {cols[c.column]: c.value for c in row if c.column in cols}
    return out


def test_python_values_hand_computed():
    r = ach.Ref
    assert ach.ratio(r("E5", 40), r("J5", 50))[1] == pytest.approx(0.8)
    assert ach.ratio(r("E5", None), r("J5", 50))[1] == NA
    assert ach.ratio(r("E5", 3), r("J5", 0))[1] == NA
    assert ach.cumulative(r("F5", 30), "E5:F5", [10, 30], r("J5", 100))[1] == pytest.approx(0.4)
    assert ach.progress(r("E5", 176), r("D5", 163), r("J5", 220))[1] == pytest.approx(13 / 57)
    assert ach.reduction(r("E5", 90), r("D5", 100), r("J5", 80))[1] == pytest.approx(0.5)
    assert ach.pace("$H$9:$K$9", [2020, 2021, 2022, 2023], 2021)[1] == 0.5
    assert [ach.grade(r("E9", v))[1] for v in (1.0, 0.99, 0.8, 0.5, 0.49, NA, WORSE)] == \
        ["A", "B", "B", "C", "D", NA, "D"]
    # moved away from the target since the baseline: 悪化, never a negative rate
    assert ach.progress(r("E5", 78.9), r("$D5", 96.6), r("$J5", 100))[1] == WORSE
    assert ach.reduction(r("E5", 110), r("$D5", 100), r("$J5", 80))[1] == WORSE
    # no baseline, or one within NEAR of the target: actual ÷ target (lower is better: T ÷ A)
    assert ach.progress(r("E5", 187), r("$D5", None), r("$J5", 2000))[1] == pytest.approx(0.0935)
    assert ach.progress(r("E5", 99), r("$D5", 97), r("$J5", 100))[1] == pytest.approx(0.99)
    assert ach.progress(r("E5", 99), r("$D5", 97), r("$J5", 100), near=0.01)[1] == \
        pytest.approx(2 / 3)
    assert ach.reduction(r("E5", 50), r("$D5", None), r("$J5", 40))[1] == pytest.approx(0.8)
    assert ach.linear_pace(r("$F5", 2018), r("$L5", 2024), 2021)[1] == 0.5
    assert ach.linear_pace(r("$F5", 2018), r("$L5", 2024), 2030)[1] == 1.0
    assert ach.linear_pace(r("$F5", None), r("$L5", 2024), 2021)[1] == NA
    assert ach.rule_for(TargetKind.AT_YEAR, Direction.UP, 2023, 2024, None) == "progress"
    assert ach.rule_for(TargetKind.AT_YEAR, Direction.UP, 2024, 2024, None) == "ratio"
    assert ach.rule_for(TargetKind.CUMULATIVE, Direction.UP, 2018, 2023, (2019, 2023)) is None


@pytest.fixture(scope="module")
def rules_books(tmp_path_factory):
    """The rules workbook, and a copy with 基準近接 0.01 and 評価年度 2020 typed into 設定,
    recalculated by one LibreOffice process: (workbook, recalculated, edited, recalculated)."""
    need_libreoffice()
    d = tmp_path_factory.mktemp("rules")
    out = d / "rules.xlsx"
    write_report(report(CASES), out)
    wb = openpyxl.load_workbook(out)
    rows = {r[0].value: r for r in wb["設定"].iter_rows()}
    rows["基準近接"][1].value = 0.01
    rows["評価年度"][1].value = 2020
    edited = d / "settings.xlsx"
    wb.save(edited)
    back, edited_back = libreoffice.recalculate_many([out, edited], d / "recalc")
    return out, back, edited, edited_back


def test_rules_in_workbook_and_recalculated(rules_books):
    out, back, _, _ = rules_books
    cached_wb = openpyxl.load_workbook(out, data_only=True)
    fresh_wb = openpyxl.load_workbook(back, data_only=True)
    cached, fresh = check_rows(cached_wb["01 テスト施策"]), check_rows(fresh_wb["01 テスト施策"])
    for wb in (cached_wb, fresh_wb):
        got = check_rows(wb["02 常総型"])["年度別目標"]
        assert [got[2020], got[2021], got[2022]] == [pytest.approx(0.8), pytest.approx(0.8), NA]
        assert got["評価"] == "B"
        general = [r[6].value for r in wb["02 常総型"].iter_rows() if r[3].value == "決算額"]
        assert general == [60, 60]  # 一般財源 = 事業費 − うち特定財源
    for name, (_, per_year, pace, grade) in CASES.items():
        for got in (cached[name], fresh[name]):
            years = [got[y] for y in YEARS]
            assert years == [pytest.approx(v) if v != NA else NA for v in per_year], name
            assert got["期待水準"] == (pytest.approx(pace) if pace != NA else NA), name
            assert got["評価"] == grade, name
            rate = per_year[YEARS.index(2021)]
            assert got["評価年度の\n達成率"] == (pytest.approx(rate) if rate != NA else NA), name


def test_settings_move_results_and_year_label_follows(rules_books):
    """基準近接 and 評価年度 are live inputs: changing them moves rates, pace, grade, label."""
    out, _, edited, edited_back = rules_books
    wb = openpyxl.load_workbook(out)
    settings = wb["設定"]
    rows = {r[0].value: r for r in settings.iter_rows()}
    year = rows["評価年度"][1]
    assert year.value == 2021 and "年度" not in year.number_format  # no era typed in the format
    dv = [d for d in settings.data_validations.dataValidation if year.coordinate in str(d.sqref)]
    assert dv and dv[0].type == "list" and "2020" in dv[0].formula1 and "2024" in dv[0].formula1
    assert openpyxl.load_workbook(out, data_only=True)["設定"][
        rows["評価年度（和暦）"][1].coordinate].value == "令和3年度"
    typed = {r[0].value: r[1].value for r in openpyxl.load_workbook(edited)["設定"].iter_rows()}
    assert typed["基準近接"] == 0.01 and typed["評価年度"] == 2020  # what the fixture typed
    fresh = openpyxl.load_workbook(edited_back, data_only=True)
    assert fresh["設定"][rows["評価年度（和暦）"][1].coordinate].value == "令和2年度"
    got = check_rows(fresh["01 テスト施策"])
    near = got["基準が目標に近い"]
    assert near[2021] == pytest.approx(1 / 3) and near[2020] == pytest.approx(2 / 3)
    assert near["評価年度の\n達成率"] == pytest.approx(2 / 3) and near["評価"] == "C"
    assert got["累計"]["期待水準"] == pytest.approx(2 / 6)
    assert got["減少で悪化"]["評価年度の\n達成率"] == WORSE and got["減少で悪化"]["評価"] == "D"
    assert str(fresh["一覧"].cell(1, 12).value) == "令和2年度実績"


def test_progress_never_negative_and_worse_exactly_when_moving_away():
    """Property: progress / reduction give 悪化 iff the actual moved away from the target,
    otherwise a number ≥ 0 (never ▲520 %), or − when it cannot be computed."""
    num = hs.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda v: round(v, 2))

    @settings(max_examples=300, deadline=None)
    @given(a=num, b=hs.one_of(hs.none(), num), t=num)
    def check(a, b, t):
        r = ach.Ref
        for fn, away in ((ach.progress, b is not None and (a - b) * (t - b) < 0),
                         (ach.reduction, b is not None and (b - a) * (b - t) < 0)):
            v = fn(r("E5", a), r("$D5", b), r("$J5", t))[1]
            assert (v == WORSE) == away
            if v not in (WORSE, NA) and fn is ach.progress:
                assert v >= 0 or a * t < 0  # only actual ÷ target of opposite signs
    check()

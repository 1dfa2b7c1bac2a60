"""Achievement rules pinned by hand-computed cases: the Python values on the calculation
sheet (計算: one row per KPI and year), the measure page's lookups of them, and the same
formulas recalculated by LibreOffice (one recalculation for all cases); the settings
(基準近接, 評価年度, 評価の基準) and the city's declared rule and scale move them."""

from __future__ import annotations

from datetime import datetime

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from tests.conftest import need_libreoffice
from xlsgen import libreoffice
from xlsgen.formulas import calc as fc
from xlsgen.formulas.achievement import NA, WORSE
from xlsgen.measures import ReportBook, ReportCost, ReportCostLine, ReportKpi, ReportMeasure
from xlsgen.model import Direction, Quantity, TargetKind
from xlsgen.render.report import write_report

YEARS = [2020, 2021, 2022, 2023, 2024]


def kpi(name, kind, baseline, actuals, target, direction=Direction.UP, period=None):
    values = {y: Quantity(value=v, fiscal_year=y) if isinstance(v, (int, float))
              else Quantity(text=v, fiscal_year=y) for y, v in zip(YEARS, actuals)}
    base = Quantity(text=baseline) if isinstance(baseline, str) else Quantity(value=baseline)
    return ReportKpi(name=name, unit="件", kind=kind, direction=direction,
                     baseline=base, baseline_year=2018, values=values,
                     target=Quantity(value=target) if isinstance(target, (int, float))
                     else Quantity(text=target),
                     target_year=2024, period=period)


# name → (kpi, rate per year, 期待水準 in 2021, 評価に使う値 in 2021, grade in 2021)
# 期待水準 of a share of the way (進捗率, 累計達成率) in 2021: (2021 − 2018) / (2024 − 2018) = 0.5;
# a cumulative period 2020–2023: (2021 − 2019) / (2023 − 2019) = 0.5
CASES = {
    "単年度": (kpi("単年度", TargetKind.PER_YEAR, 48, [40, 60, None, None, None], 50),
            [0.8, 1.2, NA, NA, NA], NA, 1.2, "A"),
    "期間累計": (kpi("期間累計", TargetKind.CUMULATIVE, None, [10, 30, None, None, None], 100,
                 period=(2020, 2023)), [0.1, 0.4, NA, NA, NA], 0.5, 0.8, "B"),
    # 37 of the 57 to go by half way: ahead of pace (was C on the rate alone)
    "累計": (kpi("累計", TargetKind.RUNNING_TOTAL, 163, [176, 200, None, None, None], 220),
           [13 / 57, 37 / 57, NA, NA, NA], 0.5, 74 / 57, "A"),
    # one rule every year: progress also in the target year (was 45 ÷ 44 there)
    "時点": (kpi("時点", TargetKind.AT_YEAR, 40.4, [42.4, None, None, None, 45], 44),
           [2 / 3.6, NA, NA, NA, 4.6 / 3.6], 0.5, NA, NA),
    "減少": (kpi("減少", TargetKind.AT_YEAR, 100, [90, 95, None, None, None], 80, Direction.DOWN),
           [0.5, 0.25, NA, NA, NA], 0.5, 0.5, "C"),
    # 小千谷 23: 96.6 → 78.9 against 100 moved away from the target (was ▲520.6 %)
    "悪化": (kpi("悪化", TargetKind.AT_YEAR, 96.6, [None, 78.9, None, None, None], 100),
           [NA, WORSE, NA, NA, NA], NA, WORSE, "D"),
    "減少で悪化": (kpi("減少で悪化", TargetKind.AT_YEAR, 100, [110, 80, None, None, None], 80,
                    Direction.DOWN), [WORSE, 1.0, NA, NA, NA], 0.5, 2.0, "A"),
    # a baseline within 5 % of the target: actual ÷ target (達成率, no pace to keep)
    "基準が目標に近い": (kpi("基準が目標に近い", TargetKind.AT_YEAR, 97, [99, 98, None, None, None], 100),
                  [0.99, 0.98, NA, NA, NA], NA, 0.98, "B"),
    # 小千谷 03 and 22: a target but a 「-」 baseline → actual ÷ target
    "基準なし": (kpi("基準なし", TargetKind.AT_YEAR, "-", [None, 4, None, None, None], 2),
             [NA, 2.0, NA, NA, NA], NA, 2.0, "A"),
    "累計で基準なし": (kpi("累計で基準なし", TargetKind.RUNNING_TOTAL, "-", [None, 187, None, None, None],
                      2000), [NA, 187 / 2000, NA, NA, NA], NA, 0.0935, "D"),
    "定性": (kpi("定性", TargetKind.QUALITATIVE, None, ["実施", "実施", None, None, None], "整備完了"),
           [NA] * 5, NA, NA, NA),
    "目標＝基準": (kpi("目標＝基準", TargetKind.RUNNING_TOTAL, 3, [0, 3, None, None, None], 3),
              [0.0, 1.0, NA, NA, NA], NA, 1.0, "A"),
    "水準維持": (kpi("水準維持", TargetKind.AT_YEAR, 3, [0, 3, None, None, None], 3),
             [0.0, 1.0, NA, NA, NA], NA, 1.0, "A"),
    # no final target, a number to reach each year: actual ÷ the year's target
    "年度目標のみ": (kpi("年度目標のみ", TargetKind.NONE, None, [8, 20, None, None, None], "-"),
               [0.8, 1.0, NA, NA, NA], NA, 1.0, "A"),
}
CASES["年度目標のみ"][0].targets = {y: Quantity(value=t, fiscal_year=y) for y, t in ((2020, 10), (2021, 20))}


def report(cases, **book) -> ReportBook:
    m = ReportMeasure(key="01", title="テスト施策", source_sheet="01", levels=[("施策", "テスト")],
                      purpose="", projects=[], years=YEARS, kpis=[c[0] for c in cases.values()],
                      check=[], action=[])
    # a per-year KPI whose target changes every year (成果目標 of a project sheet) and the
    # project's cost block (事業費, うち特定財源)
    joso = kpi("年度別目標", TargetKind.PER_YEAR, None, [8, 20, None, None, None], 20)
    joso.targets = {y: Quantity(value=t, fiscal_year=y) for y, t in ((2020, 10), (2021, 25))}
    cost = ReportCost(unit="千円", years=[2020, 2021], year_kinds={2020: "決算額", 2021: "決算額"},
                      lines=[ReportCostLine("project_cost", "事業費",
                                            {y: Quantity(value=100) for y in (2020, 2021)}),
                             ReportCostLine("specific", "うち特定財源",
                                            {y: Quantity(value=40) for y in (2020, 2021)})])
    j = ReportMeasure(key="02", title="年度別", source_sheet="02", levels=[], purpose="",
                      projects=[], years=YEARS, kpis=[joso], check=[], action=[], cost=cost)
    return ReportBook(layout="test", source="test.xlsx", title="テスト計画", eval_year=2021,
                      created=datetime(2021, 4, 1), measures=[m, j], **book)


def calc_rows(wb) -> dict:
    """(指標名, 年度) → {heading: value} of the calculation sheet's KPI × year table."""
    ws = wb["計算"]
    heads = [c.value for c in ws[2]]
    end = heads.index(None) if None in heads else len(heads)
    out = {}
    for row in ws.iter_rows(min_row=3, max_col=end, values_only=True):
        d = dict(zip(heads[:end], row))
        if d.get("指標名"):
            out[(d["指標名"], d["年度\n（西暦）"])] = d
    return out


def page_rows(ws) -> dict:
    """指標名 → (the KPI's values row, its rates row) of a measure page, as values."""
    rows = list(ws.iter_rows(values_only=True))
    out = {}
    for i, r in enumerate(rows):
        if r[2] in (*CASES, "年度別目標") and r[2] not in out:
            out[r[2]] = (r, rows[i + 1])
    return out


def approx(v):
    return pytest.approx(v) if isinstance(v, (int, float)) else v


def test_python_values_hand_computed():
    t = fc.Table("計算", {k: i for i, k in enumerate(
        ["id", "measure", "name", "year", "actual", "target", "final", "baseline", "method",
         "start", "pace_from", "pace_to", "cost", "key", "shown", "compared", "uses_baseline",
         "ratio", "progress", "rate", "label", "pace", "basis", "grade"])}, 2, 40)
    assert fc.ratio(t, 2, fc.RATIO, 40, 50)[1] == pytest.approx(0.8)
    assert fc.ratio(t, 2, fc.RATIO, NA, 50)[1] == NA
    assert fc.ratio(t, 2, fc.RATIO, 3, 0)[1] == NA
    assert fc.ratio(t, 2, fc.INVERSE, 50, 40)[1] == pytest.approx(0.8)
    assert fc.uses_baseline(t, 2, fc.PROGRESS, 163, 220, 0.05)[1] is True
    assert fc.uses_baseline(t, 2, fc.PROGRESS, 97, 100, 0.05)[1] is False
    assert fc.uses_baseline(t, 2, fc.RATIO, 163, 220, 0.05)[1] is False
    assert fc.progress(t, 2, fc.PROGRESS, True, 176, 163, 220)[1] == pytest.approx(13 / 57)
    assert fc.progress(t, 2, fc.REDUCTION, True, 90, 100, 80)[1] == pytest.approx(0.5)
    assert fc.progress(t, 2, fc.PROGRESS, False, 78.9, 96.6, 100)[1] == WORSE
    assert fc.progress(t, 2, fc.REDUCTION, True, 110, 100, 80)[1] == WORSE
    assert fc.rate(t, 2, fc.PROGRESS, False, WORSE, 0.789)[1] == WORSE
    assert fc.rate(t, 2, fc.PROGRESS, False, NA, 0.99)[1] == 0.99
    assert fc.pace(t, 2, fc.PROGRESS, True, 2021, 2018, 2024)[1] == 0.5
    assert fc.pace(t, 2, fc.PROGRESS, True, 2030, 2018, 2024)[1] == 1.0
    assert fc.pace(t, 2, fc.PROGRESS, False, 2021, 2018, 2024)[1] == NA  # 達成率: no pace
    assert fc.pace(t, 2, fc.CUMULATIVE, False, 2021, 2019, 2023)[1] == 0.5
    assert fc.basis(t, 2, 0.556, 1 / 3, True)[1] == pytest.approx(1.668)
    assert fc.basis(t, 2, 0.556, 1 / 3, False)[1] == 0.556
    scale = [fc.Grade("A", "評価A", 1.0), fc.Grade("B", "評価B", 0.8), fc.Grade("C", "評価C", 0.5),
             fc.Grade("D", None, None)]
    assert [fc.grade(t, 2, v, scale)[1] for v in (1.0, 0.99, 0.8, 0.5, 0.49, NA, WORSE)] == \
        ["A", "B", "B", "C", "D", NA, "D"]
    strict = [fc.Grade("S", "評価S", 1.0, strict=True), fc.Grade("A", None, None)]
    assert [fc.grade(t, 2, v, strict)[1] for v in (1.0, 1.01)] == ["A", "S"]
    # the formulas of one column are one R1C1 pattern: anchored columns, relative rows
    f2, f9 = fc.rate(t, 2, fc.PROGRESS, True, 0, 0)[0], fc.rate(t, 9, fc.PROGRESS, True, 0, 0)[0]
    assert f2.replace("3", "#") == f9.replace("10", "#") and "$I3" in f2


CITY_CASES = ("累計", "減少", "単年度")


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """The rules workbook; a copy with 基準近接 0.01 and 評価年度 2020 typed into 設定, and one
    with 評価の基準 = 率 typed in as well; a workbook with a city's rule and scale. All four
    recalculated by one LibreOffice process (starting it costs more than a workbook):
    name → (workbook, recalculated copy)."""
    need_libreoffice()
    d = tmp_path_factory.mktemp("rules")
    rules = d / "rules.xlsx"
    write_report(report(CASES), rules)
    wb = openpyxl.load_workbook(rules)
    rows = {r[0].value: r for r in wb["設定"].iter_rows()}
    rows["基準近接"][1].value = 0.01
    rows["評価年度"][1].value = 2020
    settings_ = d / "settings.xlsx"
    wb.save(settings_)
    rows["評価の基準"][1].value = "率"
    basis = d / "basis.xlsx"
    wb.save(basis)
    rb = report({k: CASES[k] for k in CITY_CASES}, achievement_rule="ratio_inverse_when_down",
                grade_scale=[{"grade": "S", "above": 100}, {"grade": "A", "min": 80},
                             {"grade": "B", "min": 50}, {"grade": "C", "min": 0}])
    city = d / "city.xlsx"
    write_report(rb, city)
    names = {"rules": rules, "settings": settings_, "basis": basis, "city": city}
    backs = libreoffice.recalculate_many(list(names.values()), d / "recalc")
    return {k: (v, back) for (k, v), back in zip(names.items(), backs)}


def test_rules_on_the_calculation_sheet_and_recalculated(books):
    out, back = books["rules"]
    cached_wb = openpyxl.load_workbook(out, data_only=True)
    fresh_wb = openpyxl.load_workbook(back, data_only=True)
    for wb in (cached_wb, fresh_wb):
        rows = calc_rows(wb)
        for name, (_, per_year, pace, basis, grade) in CASES.items():
            assert [rows[(name, y)]["率"] for y in YEARS] == [approx(v) for v in per_year], name
            at = rows[(name, 2021)]
            assert at["期待水準"] == approx(pace), name
            assert at["評価に\n使う値"] == approx(basis), name
            assert at["評価"] == grade, name
            # one method for every year of a KPI, named as computed
            assert len({rows[(name, y)]["測り方"] for y in YEARS}) == 1, name
        assert rows[("累計", 2021)]["測り方"] == "進捗率"
        assert rows[("基準なし", 2021)]["測り方"] == "達成率"
        assert rows[("期間累計", 2021)]["測り方"] == "累計達成率"
        assert [rows[("年度別目標", y)]["率"] for y in (2020, 2021, 2022)] == \
            [pytest.approx(0.8), pytest.approx(0.8), NA]
        # the measure page shows the calculation sheet's values (its rates row)
        page = page_rows(wb["01 テスト施策"])
        for name, (_, per_year, _, _, grade) in CASES.items():
            _, rates = page[name]
            assert list(rates[6:11]) == [approx(v) for v in per_year], name
            assert rates[5] == approx(per_year[1]) and rates[13] == grade, name
        # 一般財源 = 事業費 − うち特定財源 of the budget table, looked up on the page
        cost = wb["02 年度別"]
        general = [r for r in cost.iter_rows(values_only=True) if r[2] == "決算額"]
        heads = next(r for r in cost.iter_rows(values_only=True) if r[2] and "区分" in str(r[2]))
        assert [g[heads.index("一般財源\n（計算）")] for g in general] == [60, 60]


def test_settings_move_results_and_year_label_follows(books):
    """基準近接, 評価年度 and 評価の基準 are live inputs: changing them moves rates, pace,
    grades, the grade counts and the 一覧's heading."""
    out, _ = books["rules"]
    wb = openpyxl.load_workbook(out)
    settings_ = wb["設定"]
    rows = {r[0].value: r for r in settings_.iter_rows()}
    year = rows["評価年度"][1]
    assert year.value == 2021 and "年度" not in year.number_format  # no era typed in the format
    dv = [d for d in settings_.data_validations.dataValidation if year.coordinate in str(d.sqref)]
    assert dv and dv[0].type == "list" and "2020" in dv[0].formula1 and "2024" in dv[0].formula1
    assert rows["評価の基準"][1].value == "期待水準比"
    cached = openpyxl.load_workbook(out, data_only=True)
    assert "令和3年度実績" in [c.value for c in cached["一覧"][1]]
    edited, back = books["settings"]  # 基準近接 0.01, 評価年度 2020
    typed = {r[0].value: r[1].value for r in openpyxl.load_workbook(edited)["設定"].iter_rows()}
    assert typed["基準近接"] == 0.01 and typed["評価年度"] == 2020
    fresh = openpyxl.load_workbook(back, data_only=True)
    assert "令和2年度実績" in [c.value for c in fresh["一覧"][1]]
    got = calc_rows(fresh)
    near = [got[("基準が目標に近い", y)] for y in (2020, 2021)]
    assert [n["率"] for n in near] == [pytest.approx(2 / 3), pytest.approx(1 / 3)]
    assert near[0]["測り方"] == "進捗率" and near[0]["期待水準"] == pytest.approx(1 / 3)
    page = page_rows(fresh["01 テスト施策"])
    assert page["基準が目標に近い"][1][5] == pytest.approx(2 / 3)  # the year 2020 now
    assert page["基準が目標に近い"][1][13] == "A"  # 2/3 of the way when 1/3 was expected
    assert page["減少で悪化"][1][5] == WORSE and page["減少で悪化"][1][13] == "D"
    # 評価の基準 = 率: the rate itself is graded
    edited, back = books["basis"]
    assert {r[0].value: r[1].value for r in openpyxl.load_workbook(edited)["設定"].iter_rows()}["評価の基準"] == "率"
    fresh = openpyxl.load_workbook(back, data_only=True)
    assert page_rows(fresh["01 テスト施策"])["累計"][1][13] == "D"  # 13/57 in 2020


def test_city_rule_and_scale(books):
    """A city's declared rule (ratio, target ÷ actual when lower is better) and its scale
    (highest first, in %) replace xlsgen's; 設定 says which rule is used."""
    out, back = books["city"]
    for wb in (openpyxl.load_workbook(out, data_only=True),
               openpyxl.load_workbook(back, data_only=True)):
        rows = calc_rows(wb)
        assert rows[("累計", 2021)]["率"] == pytest.approx(200 / 220)
        assert rows[("累計", 2021)]["評価"] == "A"
        assert rows[("減少", 2021)]["率"] == pytest.approx(80 / 95)
        assert rows[("単年度", 2021)]["評価"] == "S"  # 120 % is more than 100
        assert rows[("単年度", 2020)]["評価"] == "A"
        assert rows[("累計", 2021)]["期待水準"] == NA  # ratio: no pace
    text = " ".join(str(c.value) for r in openpyxl.load_workbook(out)["設定"].iter_rows()
                    for c in r if c.value)
    assert "ratio_inverse_when_down" in text and "様式の評価段階" in text
    assert "評価S" in openpyxl.load_workbook(out).defined_names


def test_progress_never_negative_and_worse_exactly_when_moving_away():
    """Property: the rate of a progress method gives 悪化 iff the actual moved away from the
    target, otherwise a number ≥ 0 (never ▲520 %), or − when it cannot be computed."""
    num = hs.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda v: round(v, 2))
    t = fc.Table("計算", {k: i for i, k in enumerate(
        ["method", "uses_baseline", "compared", "baseline", "target", "progress", "ratio"])},
        2, 9)

    @settings(max_examples=300, deadline=None)
    @given(a=num, b=hs.one_of(hs.none(), num), tg=num,
           method=hs.sampled_from([fc.PROGRESS, fc.REDUCTION]))
    def check(a, b, tg, method):
        base = b if b is not None else NA
        uses = fc.uses_baseline(t, 2, method, base, tg, 0.05)[1]
        prog = fc.progress(t, 2, method, uses, a, base, tg)[1]
        rat = fc.ratio(t, 2, method, a, tg)[1]
        v = fc.rate(t, 2, method, uses, prog, rat)[1]
        away = b is not None and (a - b) * (tg - b) < 0
        assert (v == WORSE) == away
        if uses and v != WORSE:
            assert v >= 0
    check()

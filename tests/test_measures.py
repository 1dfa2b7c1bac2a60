"""The pure conversion of each layout's Book into the common list of measures to report."""

from __future__ import annotations

from tests.conftest import JOSO, NISHITOKYO, OJIYA
from xlsgen.layout import read_book
from xlsgen.measures import report_book
from xlsgen.model import TargetKind


def test_ojiya_one_measure_per_sheet():
    book = read_book(OJIYA)
    rb = report_book(book)
    assert len(rb.measures) == len(book.measures) == 33
    assert sum(len(m.kpis) for m in rb.measures) == 72
    m = rb.measures[0]
    assert m.key == "01" and m.title == "キャリア教育の推進" and m.years == [2020, 2021, 2022, 2023]
    assert [lab for lab, _ in m.levels][:3] == ["基本目標", "基本方針", "施策項目"]
    k = next(k for mm in rb.measures for k in mm.kpis if k.name == "鉄工電子組合技能士合格者数（累計）")
    assert (k.kind, k.baseline.value, k.values[2020].value, k.target.value) == \
        (TargetKind.RUNNING_TOTAL, 163, 176, 220)
    assert rb.eval_year == 2020 and rb.created.year == 2021


def test_joso_project_sheets_and_measure_indicator():
    rb = report_book(read_book(JOSO))
    assert [m.key for m in rb.measures] == ["施策", "01", "02"]
    ind = rb.measures[0].kpis[0]
    assert (ind.kind, ind.baseline.value, ind.baseline_year, ind.target.value, ind.target_year) == \
        (TargetKind.AT_YEAR, 12.3, 2017, 17.3, 2022)
    assert rb.measures[0].years == [2018, 2019, 2020, 2021, 2022]
    p = rb.measures[2]
    assert p.years == [2019, 2020, 2021]
    assert (p.kpis[0].kind, p.kpis[0].target.value) == (TargetKind.PER_YEAR, 30)
    amounts = p.cost.line("project_cost").values
    assert [(fy, p.cost.year_kinds[fy], amounts[fy].value if fy in amounts else None)
            for fy in p.cost.years][-2:] == [(2021, "予算額", 500), (2022, "計画", None)]
    assert {y: q.value for y, q in p.kpis[0].targets.items()}[2021] == 30
    assert rb.measures[1].kpis[0].kind is TargetKind.QUALITATIVE


def test_nishitokyo_grouped_by_direction():
    import openpyxl

    book = read_book(NISHITOKYO)
    rb = report_book(book)
    ws = openpyxl.load_workbook(NISHITOKYO, read_only=True).worksheets[0]
    directions = {r: (row[0] or "").strip() for r, row in enumerate(ws.iter_rows(values_only=True), start=1)
                  if r > 1 and any(v is not None for v in row)}
    assert sum(len(m.kpis) for m in rb.measures) == len(directions)
    assert len(rb.measures) == len(set(directions.values()) - {""})
    assert rb.measure_label == "取組みの方向性" and rb.category_label == "施策"
    # a blank 取組みの方向性 belongs to the 方向性 above it, never to a sheet of its own
    assert not any("記載なし" in m.title for m in rb.measures)
    for r in (r for r, d in directions.items() if not d):
        above = [d for rr, d in directions.items() if rr < r and d][-1]
        home = next(i for i, m in enumerate(book.measures) if r in [k.row for k in m.kpis])
        assert rb.measures[home].title in above
    m = rb.measures[0]
    assert m.years == [2019, 2020, 2021, 2022, 2023]
    k = next(k for k in m.kpis if k.name == "緑のアカデミーへの参加者数")
    assert (k.kind, k.target.value, k.period, k.baseline.value, k.baseline_year) == \
        (TargetKind.CUMULATIVE, 900, (2019, 2023), 180, 2017)
    assert all(q.is_empty for q in k.values.values())
    assert [q.fiscal_year for q in k.history] == [2014, 2015, 2016, 2017]
    # a book without actual columns is of the year after its baselines (2017 → 2018)
    assert rb.eval_year == 2019 and book.fiscal_year == 2018

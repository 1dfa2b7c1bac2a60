"""The pure conversion of each layout's Book into the common list of measures to report."""

from __future__ import annotations

from tests.conftest import JOSO, NISHITOKYO, OJIYA
from xlsgen.layout import read_book
from xlsgen.measures import report_book
from xlsgen.model import TargetKind


def test_ojiya_one_measure_per_sheet():
    book = read_book(OJIYA)
    rb = report_book(book)
    assert len(rb.measures) == len(book.sheets) == 33
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
    assert [(b.fiscal_year, b.kind, b.amount.value) for b in p.budget][-2:] == \
        [(2021, "予算額", 500), (2022, "計画", None)]
    assert rb.measures[1].kpis[0].kind is TargetKind.QUALITATIVE


def test_nishitokyo_grouped_by_direction():
    book = read_book(NISHITOKYO)
    rb = report_book(book)
    assert sum(len(m.kpis) for m in rb.measures) == len(book.plan_rows)
    assert len(rb.measures) == len({r.direction.strip() for r in book.plan_rows} - {""})
    # a blank 取組みの方向性 belongs to the 方向性 above it, never to a sheet of its own
    assert not any("記載なし" in m.title for m in rb.measures)
    blank = [r for r in book.plan_rows if not r.direction.strip()]
    for r in blank:
        above = [x for x in book.plan_rows if x.sheet == r.sheet and x.row < r.row
                 and x.direction.strip()][-1]
        home = next(m for m in rb.measures if (r.indicator or r.project) in [k.name for k in m.kpis]
                    and m.levels[0][1] == above.direction.strip())
        assert home
    m = rb.measures[0]
    assert m.years == [2019, 2020, 2021, 2022, 2023]
    k = next(k for k in m.kpis if k.name == "緑のアカデミーへの参加者数")
    assert (k.kind, k.target.value, k.period, k.baseline.value, k.baseline_year) == \
        (TargetKind.CUMULATIVE, 900, (2019, 2023), 180, 2017)
    assert all(q.is_empty for q in k.values.values())
    assert rb.eval_year == 2019 and rb.created.year == 2000

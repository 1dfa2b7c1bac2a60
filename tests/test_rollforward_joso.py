"""xlsgen rollforward, 常総 layout: the Do years shift, Check/Plan move on, nothing is lost."""

from __future__ import annotations

import hashlib
import shutil

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import JOSO
from xlsgen.errors import XlsgenError
from xlsgen.layout import read_book
from xlsgen.model import CHECK_HISTORY_SHEET as CHECK_SHEET
from xlsgen.model import PAST_YEARS_SHEET as PAST_SHEET
from xlsgen.rollforward import rollforward_file


class DoYear:
    """One 【Do】 row as the tests read it from the one model: the cost block's amounts, the
    KPI's target, actual and text of the year."""

    def __init__(self, m, fy):
        cost, kpi = m.cost, m.kpis[0]
        self.fiscal_year, self.kind = fy, cost.year_kinds[fy]
        self.amount = cost.line("project_cost").value(fy)
        self.specific_revenue = cost.line("specific").value(fy)
        self.target, self.result = kpi.target_of(fy), kpi.actual(fy)
        self.content = next((t.text for t in kpi.texts if t.fiscal_year == fy), "")

    def to_dict(self):
        return {"fiscal_year": self.fiscal_year, "kind": self.kind, "amount": self.amount.to_dict(),
                "specific_revenue": self.specific_revenue.to_dict(), "target": self.target.to_dict(),
                "result": self.result.to_dict(), "content": self.content}


class Project:
    """A project sheet as the tests read it from its Measure (kind project_sheets)."""

    def __init__(self, m):
        self.m, self.sheet, self.cells, self.name, self.purpose = m, m.sheet, m.cells, m.title, m.purpose
        kpi, plan = m.kpis[0], m.extra["plan_year"]
        self.do_years = [DoYear(m, fy) for fy in sorted(m.cost.years, reverse=True) if fy != plan]
        self.plan_year, self.check_year = plan, m.extra["check_year"]
        self.plan_budget = m.cost.line("project_cost").value(plan)
        self.plan_target = kpi.target_of(plan)
        self.plan_content = m.text("plan_content")
        self.future_targets = [q for q in kpi.targets if q.fiscal_year > plan]
        self.check_evaluation, self.check_analysis = m.text("check_evaluation"), m.text("check_analysis")
        self.position = {lv.label: lv.name for lv in m.levels}
        self.action_indicator = m.text("action_indicator")


def projects(book):
    return [Project(m) for m in book.measures if m.extra.get("sheet_role") == "project"]


def measure_sheet(book):
    return next(m for m in book.measures if m.extra.get("sheet_role") == "measure")


def norm(v):
    """A cell value as text or number: `1,000` (formatted) and 1000 (raw) are the same fact."""
    try:
        return float(str(v).replace(",", ""))
    except ValueError:
        return str(v)


def do_facts(book) -> set:
    """(sheet, fiscal year, kind, field, text) of every Do row value, plus the kept history."""
    out = set()
    for p in projects(book):
        for d in p.do_years:
            for name in ("amount", "specific_revenue", "target", "result"):
                q = getattr(d, name)
                if q.text:
                    out.add((p.sheet, d.fiscal_year, d.kind, name, norm(q.text)))
            if d.content:
                out.add((p.sheet, d.fiscal_year, d.kind, "content", d.content))
    return out


def past_facts(path) -> set:
    wb = openpyxl.load_workbook(path)
    out = set()
    if PAST_SHEET not in wb.sheetnames:
        return out
    for r in wb[PAST_SHEET].iter_rows(min_row=2, values_only=True):
        fy = read_book_year(r[3])
        for name, v in zip(("amount", "specific_revenue", "target", "result", "content"), r[5:10]):
            if v not in (None, ""):
                out.add((r[1], fy, r[4], name, norm(v)))
    return out


def read_book_year(label: str) -> int:
    from xlsgen.wareki import FiscalYear

    return FiscalYear.parse(label).year


def all_facts(path) -> set:
    return do_facts(read_book(path)) | past_facts(path)


def test_r4_shifts_years_and_keeps_every_fact(tmp_path):
    before = hashlib.sha256(JOSO.read_bytes()).digest()
    out = tmp_path / "joso_R4.xlsx"
    result = rollforward_file(JOSO, "R4", out)
    assert hashlib.sha256(JOSO.read_bytes()).digest() == before
    old, new = read_book(JOSO), read_book(out)
    assert (old.fiscal_year, new.fiscal_year) == (2021, 2022)
    old_facts = {(s, fy, k, n, t) for s, fy, k, n, t in do_facts(old)}
    assert old_facts <= all_facts(out)
    for po, pn in zip(projects(old), projects(new)):
        rows = {d.fiscal_year: d for d in pn.do_years}
        assert [(d.fiscal_year, d.kind) for d in pn.do_years] == [(2022, "予算額"), (2021, "決算額"), (2020, "決算額")]
        r3, r2o = rows[2021], next(d for d in po.do_years if d.fiscal_year == 2020)
        assert r3.amount.is_empty and r3.result.is_empty and not r3.content
        assert r3.target.text == next(d for d in po.do_years if d.fiscal_year == 2021).target.text
        assert rows[2020].to_dict() == r2o.to_dict() | {
            k: {**getattr(r2o, k).to_dict(), "cell": getattr(rows[2020], k).cell}
            for k in ("amount", "specific_revenue", "target", "result")}
        assert rows[2022].target.text == po.plan_target.text
        assert rows[2022].content == po.plan_content
        assert (pn.check_year, pn.check_evaluation, pn.check_analysis) == (2021, "", "")
        assert pn.plan_year == 2023 and pn.plan_target.text == po.future_targets[0].text
        assert [q.fiscal_year for q in pn.future_targets] == [2024, 2025]
        assert pn.future_targets[0].text == po.future_targets[1].text
        assert (pn.name, pn.purpose, pn.position, pn.action_indicator) == \
            (po.name, po.purpose, po.position, po.action_indicator)
    checks = [r for r in openpyxl.load_workbook(out)[CHECK_SHEET].iter_rows(min_row=2, values_only=True)]
    for p in projects(old):
        assert any(r[1] == p.sheet and r[5] == p.check_evaluation for r in checks)
        assert any(r[1] == p.sheet and r[5] == p.check_analysis for r in checks)
    assert any(r[5] == measure_sheet(old).text("opinion") for r in checks)
    assert measure_sheet(new).kpis[0].to_dict() == measure_sheet(old).kpis[0].to_dict()
    assert {c.cell for c in result.changes if c.sheet == "施策"} == {"A13", "B14"}


def test_fill_r3_then_roll_to_r5_loses_nothing(tmp_path):
    r4 = tmp_path / "joso_R4.xlsx"
    rollforward_file(JOSO, "R4", r4)
    filled = tmp_path / "filled.xlsx"
    shutil.copy(r4, filled)
    wb = openpyxl.load_workbook(filled)
    for i, p in enumerate(projects(read_book(r4))):
        r3 = next(d for d in p.do_years if d.fiscal_year == 2021)
        wb[p.sheet][r3.amount.cell] = 90 + i
        wb[p.sheet][r3.result.cell] = "実績あり"
        wb[p.sheet][p.cells["content_2021"]] = "R3に実施した内容"
    wb.save(filled)
    back = read_book(filled)
    for i, p in enumerate(projects(back)):
        r3 = next(d for d in p.do_years if d.fiscal_year == 2021)
        assert (r3.amount.value, r3.result.text, r3.content) == (90 + i, "実績あり", "R3に実施した内容")
    r5 = tmp_path / "joso_R5.xlsx"
    rollforward_file(filled, "R5", r5)
    assert read_book(r5).fiscal_year == 2023
    assert all_facts(filled) <= all_facts(r5)
    assert do_facts(read_book(JOSO)) <= all_facts(r5)


def test_refusals_and_determinism(tmp_path):
    with pytest.raises(XlsgenError, match="翌年度"):
        rollforward_file(JOSO, "R3", tmp_path / "x.xlsx")
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    rollforward_file(JOSO, "R4", a)
    rollforward_file(JOSO, "令和4年度", b)
    assert a.read_bytes() == b.read_bytes()


def test_missing_closed_year_actual_is_a_warning(tmp_path):
    src = tmp_path / "j.xlsx"
    wb = openpyxl.load_workbook(JOSO)
    ws = wb["定住自立圏構想推進事業"]
    ws["F16"] = None  # R2 成果実績 left empty
    wb.save(src)
    result = rollforward_file(src, "R4", tmp_path / "out.xlsx")
    warned = [f for f in result.findings if f.code == "missing-actual"]
    assert [(f.sheet, f.cell) for f in warned] == [("定住自立圏構想推進事業", "F17")]


def test_empty_plan_budget_becomes_an_empty_budget_with_a_warning(tmp_path):
    src = tmp_path / "j.xlsx"
    wb = openpyxl.load_workbook(JOSO)
    wb["東京農業大学との包括連携事業"]["C29"] = 600  # the R4 plan budget is filled in one sheet
    wb.save(src)
    result = rollforward_file(src, "R4", tmp_path / "out.xlsx")
    warned = [(f.sheet, f.cell) for f in result.findings if f.code == "missing-budget"]
    assert warned == [("定住自立圏構想推進事業", "C15")]
    assert openpyxl.load_workbook(tmp_path / "out.xlsx")["東京農業大学との包括連携事業"]["C15"].value == 600


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.integers(0, 99_999), st.sampled_from(["—", "-", "協定締結", "=式ではない", "30%"])),
                min_size=12, max_size=12))
def test_hypothesis_joso_keeps_every_fact(tmp_path, values):
    src, out = tmp_path / "g.xlsx", tmp_path / "g_R4.xlsx"
    wb = openpyxl.load_workbook(JOSO)
    ws = wb["定住自立圏構想推進事業"]
    for cell, v in zip(("C15", "D15", "E15", "C16", "D16", "E16", "F16", "C17", "F17", "C29", "B30", "C32"), values):
        ws[cell] = v
        if isinstance(v, str):
            ws[cell].data_type = "s"
    wb.save(src)
    rollforward_file(src, "R4", out, force=True)  # each example writes the same output
    assert do_facts(read_book(src)) <= all_facts(out)
    new = projects(read_book(out))[0]
    assert new.do_years[0].amount.text == projects(read_book(src))[0].plan_budget.text

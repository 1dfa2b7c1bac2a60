"""Fiscal years and quantities: tables of cases."""

import pytest

from xlsgen.quantities import parse_quantity, unit_of_format
from xlsgen.wareki import FiscalYear, invalid_era_labels, parse_with_warning


@pytest.mark.parametrize("text, year", [
    ("H30", 2018), ("平成30年度", 2018), ("R2", 2020), ("令和元年度", 2019), ("R1", 2019),
    ("2019年度", 2019), ("Ｈ３０", 2018), ("令和３年度", 2021), ("平成31年度", 2019),
    ("R6年度\n(目標値)", 2024), (2022, 2022), ("２０２１", 2021),
])
def test_parse_fiscal_year(text, year):
    assert FiscalYear.parse(text).year == year


def test_h31_is_r1():
    assert FiscalYear.parse("H31") == FiscalYear.parse("R1") == FiscalYear(2019)


@pytest.mark.parametrize("text, year", [("H32", 2020), ("H35", 2023), ("平成33年度", 2021)])
def test_heisei_past_31_normalises_with_warning(text, year):
    fy, warning = parse_with_warning(text)
    assert fy.year == year and fy.era == "R"
    assert "令和" in warning


@pytest.mark.parametrize("fy, short, kanji, label", [
    (2018, "H30", "平成30年度", "H30年度(2018)"),
    (2019, "R1", "令和元年度", "R1年度(2019)"),
    (2024, "R6", "令和6年度", "R6年度(2024)"),
])
def test_fiscal_year_labels(fy, short, kanji, label):
    f = FiscalYear(fy)
    assert (f.short, f.kanji, f.label) == (short, kanji, label)
    assert FiscalYear.parse(f.kanji) == f == FiscalYear.parse(f.short)


@pytest.mark.parametrize("text", ["R0年度", "H99年度", "令和0年度"])
def test_impossible_era(text):
    with pytest.raises(ValueError):
        FiscalYear.parse(text)
    assert invalid_era_labels(text)


@pytest.mark.parametrize("raw, fmt, value, unit, qualifier", [
    ("48件", None, 48, "件", None),
    ("17.8%", None, 17.8, "%", None),
    (0.178, "0.0%", 17.8, "%", None),
    ("1,083", None, 1083, None, None),
    ("４８件", None, 48, "件", None),
    ("１７．８％", None, 17.8, "%", None),
    ("3日以上", None, 3, "日", "以上"),
    ("▲1,200", None, -1200, None, None),
    ("△1,200", None, -1200, None, None),
    (48, "#,##0\\件", 48, "件", None),
    (5, '#,##0"経営体"', 5, "経営体", None),
    (604, '#,##0"千㎡"', 604, "千㎡", None),
    ("６０４千㎡", None, 604, "千㎡", None),
    (4.17, '#,##0.0"ha"', 4.17, "ha", None),
])
def test_numbers(raw, fmt, value, unit, qualifier):
    q = parse_quantity(raw, fmt, "D17")
    assert (q.value, q.unit, q.qualifier, q.cell) == (value, unit, qualifier, "D17")
    assert q.text is not None


@pytest.mark.parametrize("raw", ["-", "—", "－", None, ""])
def test_none_marks(raw):
    q = parse_quantity(raw)
    assert q.value is None and (q.is_none_mark or q.is_empty)
    assert not q.is_qualitative


@pytest.mark.parametrize("raw", ["整備完了", "4校･13回", "R6着手予定", "各校1回以上", "認定"])
def test_qualitative_kept_as_text(raw):
    q = parse_quantity(raw)
    assert q.value is None and q.text == raw and q.is_qualitative


def test_unit_of_format():
    assert unit_of_format("#,##0\\t") == "t"
    assert unit_of_format('#,##0"百万円"') == "百万円"
    assert unit_of_format("0.0%") == "%"
    assert unit_of_format("#,##0") is None
    assert unit_of_format("General") is None

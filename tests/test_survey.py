"""The 世田谷 forum survey: response rate and every percentage are formulas over the counts."""

import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xlsgen.cli import cli
from xlsgen.errors import XlsgenError
from xlsgen.survey import load_survey

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "xlsgen" / "templates" / "reports" / "setagaya_forum_survey.yaml"
PUBLISHED = [0.458, 0.545, 0.455, 0.818, 0.545, 0.364, 0.545]  # 回答率, then Q1 and Q2 in order


def rates(path):
    """回答率 and the option percentages (集計 column C), as the workbook holds them."""
    book = openpyxl.load_workbook(path, data_only=True)
    formulas = openpyxl.load_workbook(path)
    (sheet, ref), = formulas.defined_names["回答率"].destinations
    ws, fs = book["集計"], formulas["集計"]
    shares = [ws[f"C{r}"].value for r in range(1, ws.max_row + 1) if fs[f"C{r}"].data_type == "f"]
    return [book[sheet][ref.replace("$", "")].value] + shares


def test_survey_reproduces_published_percentages_by_formula(tmp_path, recalc):
    out = tmp_path / "survey.xlsx"
    result = CliRunner().invoke(cli, ["simulate", str(TEMPLATE), "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "回答率 45.8%" in result.output and "警告" not in result.output
    formulas = openpyxl.load_workbook(out)
    assert formulas["集計"]["B6"].value == "=COUNTA(参加団体)"
    assert formulas["集計"]["B8"].value == "=回答数/参加団体数"
    cached = rates(out)
    assert [round(v, 3) for v in cached] == pytest.approx(PUBLISHED)

    # change a count and the respondents: LibreOffice recalculates every percentage
    edited = tmp_path / "edited.xlsx"
    shutil.copy(out, edited)
    book = openpyxl.load_workbook(edited)
    book["集計"]["B7"].value = 12  # 回答数
    book["集計"]["B12"].value = 7  # 他自治体との連携を重視
    book.save(edited)
    edited_back, out_back = recalc.many([edited, out])
    recomputed = rates(edited_back)
    assert recomputed[0] == pytest.approx(12 / 24)
    assert recomputed[1] == pytest.approx(7 / 12)
    assert recomputed[4] == pytest.approx(6 / 12)
    assert [round(v, 3) for v in rates(out_back)] == pytest.approx(PUBLISHED)


def test_survey_template_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TEMPLATE.read_text(encoding="utf-8").replace("count: 9,", "count: 12,"),
                   encoding="utf-8")
    with pytest.raises(XlsgenError, match="回答数 12 が回答団体数 11 を超えています"):
        load_survey(bad)


def _count_check(path):
    ws = openpyxl.load_workbook(path, data_only=True)["チェック"]
    return next(r for r in ws.iter_rows(values_only=True) if str(r[0]).startswith("参加団体数"))


def test_participant_count_check_compares_counts(tmp_path, recalc):
    """チェック: 参加団体数 shows the counted list against the published total, not a difference."""
    out = tmp_path / "survey.xlsx"
    CliRunner().invoke(cli, ["simulate", str(TEMPLATE), "-o", str(out)], catch_exceptions=False)
    assert _count_check(out)[1:3] == (24, 24) and _count_check(out)[4] == "一致"
    fewer = tmp_path / "fewer.xlsx"
    book = openpyxl.load_workbook(out)
    members = book["参加団体"]
    last = max(r for r in range(1, members.max_row + 1) if members.cell(r, 2).value)
    members.cell(last, 2).value = None  # one participant fewer in the list
    book.save(fewer)
    out_back, fewer_back = recalc.many([out, fewer])
    assert _count_check(out_back)[1:3] == (24, 24)
    row = _count_check(fewer_back)
    assert row[1:3] == (23, 24) and row[4] == "不一致"

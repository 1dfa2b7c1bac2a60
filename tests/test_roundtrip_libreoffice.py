"""The forms in LibreOffice: they open, their protection holds when a clerk types into a
locked cell, their validation rules are the ones LibreOffice evaluates (Mark Invalid Data
circles exactly the bad answers), and a form filled and saved by LibreOffice is collected."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import JOSO, OJIYA
from xlsgen import app
from xlsgen.roundtrip.assignment import AMOUNT, CHOICE, KPI, NUMBER
from xlsgen.roundtrip.form import read_form

SCRIPT = Path(__file__).with_name("uno_calc.py")


@pytest.fixture(scope="module")
def uno_python():
    """A Python that can import LibreOffice's uno module (fails under CI=true when none)."""
    for exe in dict.fromkeys([sys.executable, "/usr/bin/python3", shutil.which("python3") or ""]):
        if exe and shutil.which("soffice") and subprocess.run(
                [exe, "-c", "import uno"], capture_output=True).returncode == 0:
            return exe
    if os.environ.get("CI") == "true":
        pytest.fail("LibreOffice with python3-uno is required under CI=true")
    pytest.skip("LibreOffice's python3-uno not installed")


def calc(uno_python, tmp_path, job: dict) -> dict:
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    for _ in range(2):  # LibreOffice 7.4 headless now and then dies on a refused keystroke: once more
        out = subprocess.run([uno_python, str(SCRIPT), str(path)], capture_output=True, text=True,
                             timeout=300, env=env)
        if out.returncode == 0 or "DisposedException" not in out.stderr:
            break
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_protection_and_validation_hold_in_libreoffice(uno_python, tmp_path):
    dist = app.distribute_book(OJIYA, tmp_path / "照会", "R4")
    form = next(f.path for f in dist.forms if f.owner == "商工振興課")
    inputs = read_form(form).inputs
    kpi = next(i for i in inputs if i.assignment.group == KPI and i.assignment.allowed_texts
               and not i.assignment.free_text)
    amount = next(i for i in inputs if i.assignment.group == AMOUNT)
    good_amount = [i for i in inputs if i.assignment.group == AMOUNT][1]
    text = next(i for i in inputs if i.assignment.value_type != NUMBER)
    label = (kpi.sheet, f"C{kpi.cell[1:]}")
    saved = tmp_path / "typed_in_libreoffice.xlsx"
    got = calc(uno_python, tmp_path, {
        "file": str(form),
        # (one refused keystroke per session: LibreOffice 7.4 headless crashes on a second one
        # on another sheet)
        "type": [[*label, "書き換えた指標名"], [kpi.sheet, kpi.cell, "42"]],
        "api": [[amount.sheet, amount.cell, -5], [text.sheet, text.cell, "あ" * 1001],
                [good_amount.sheet, good_amount.cell, 10]],
        "show_invalid": [amount.sheet, text.sheet],
        "probe": [[kpi.sheet, kpi.cell], [amount.sheet, amount.cell], [text.sheet, text.cell], list(label),
                  ["表紙", "B3"]],
        "save_as": str(saved)})
    assert got["sheets"] == {"表紙": {"protected": True, "visible": True},
                             "数値の入力": {"protected": True, "visible": True},
                             "文章の入力": {"protected": True, "visible": True},
                             "_xlsgen": {"protected": True, "visible": False}}
    typed = got["typed"]
    where = f"{label[0]}!{label[1]}"  # protection refuses the keyboard
    assert typed[where]["after"] == typed[where]["before"] != ""
    assert typed[f"{kpi.sheet}!{kpi.cell}"]["after"] == "42"
    cells = got["cells"]
    assert cells[where]["locked"] and cells["表紙!B3"]["locked"] and not cells[f"{kpi.sheet}!{kpi.cell}"]["locked"]
    v = cells[f"{amount.sheet}!{amount.cell}"]["validation"]
    assert (v["type"], v["alert"], v["operator"], v["formula1"]) == ("DECIMAL", "STOP", "BETWEEN", "0")
    v = cells[f"{kpi.sheet}!{kpi.cell}"]["validation"]
    assert (v["type"], v["alert"]) == ("DECIMAL", "WARNING")  # 集計中 or － allowed after a warning
    v = cells[f"{text.sheet}!{text.cell}"]["validation"]
    assert (v["type"], v["alert"], v["operator"], v["formula1"]) == ("TEXT_LEN", "STOP", "LESS_EQUAL", "1000")
    assert sorted(got["invalid"]) == sorted([f"{amount.sheet}!{amount.cell}", f"{text.sheet}!{text.cell}"])
    # the form LibreOffice saved is collected: 42 lands, the bad answers are reported
    result = app.collect_forms(dist.master, [saved], tmp_path / "new.xlsx")
    assert not result.rejected
    codes = {p.master_cell: p.code for p in result.problems if p.severity == "error"}
    assert codes == {amount.assignment.where: "out-of-range", text.assignment.where: "too-long"}
    assert not [p for p in result.problems if p.code == "locked-edit"]
    applied = {(a.sheet, a.cell): a.after for a in result.applied}
    assert applied[(kpi.assignment.sheet, kpi.assignment.cell)] == 42
    assert applied[(good_amount.assignment.sheet, good_amount.assignment.cell)] == 10


def test_choice_lists_are_lists_in_libreoffice(uno_python, tmp_path):
    dist = app.distribute_book(JOSO, tmp_path / "照会", "R4")
    form = dist.forms[0].path
    choice = next(i for i in read_form(form).inputs if i.assignment.value_type == CHOICE)
    got = calc(uno_python, tmp_path, {"file": str(form), "api": [[choice.sheet, choice.cell, "やめる"]],
                                      "show_invalid": [choice.sheet], "probe": [[choice.sheet, choice.cell]]})
    v = got["cells"][f"{choice.sheet}!{choice.cell}"]["validation"]
    assert (v["type"], v["alert"]) == ("LIST", "STOP")
    assert all(c in v["formula1"] for c in choice.assignment.choices)
    assert got["invalid"] == [f"{choice.sheet}!{choice.cell}"]


def test_forms_and_the_diff_workbook_print_on_a4_without_cut_or_overprinted_text(tmp_path):
    from tests import printcheck
    from xlsgen import libreoffice

    if not libreoffice.soffice() or not shutil.which("pdftotext"):
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice and pdftotext are required under CI=true")
        pytest.skip("LibreOffice or pdftotext not installed")
    dist = app.distribute_book(OJIYA, tmp_path / "照会", "R4", due="2022年5月31日", contact="企画政策課")
    form = next(f.path for f in dist.forms if f.owner == "商工振興課")
    diff = tmp_path / "変更点.xlsx"
    app.diff_workbook(app.diff_files(OJIYA, dist.master), diff)
    for xlsx in (form, diff):
        pdf = libreoffice.to_pdf(xlsx, tmp_path / "pdf")
        assert not printcheck.overprints(pdf), xlsx.name
        missing, total = printcheck.clipped(xlsx, pdf)
        assert total > 50 and not missing, (xlsx.name, missing[:5])
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        assert "(A4)" in info, info

"""The tests' LibreOffice (xlsgen/libreoffice.py): one office kept running per test process,
driven through UNO, gives what `soffice --convert-to` gives: recalculated values, PDFs,
one CSV per sheet under the same names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import xlsxwriter

from tests.conftest import NISHITOKYO, ROOT, need_libreoffice
from xlsgen import libreoffice


def _stale(path):
    """A workbook whose saved results are wrong (xlsxwriter caches what it is told)."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("計算")
    ws.write("A1", 5)
    ws.write_formula("A2", "=A1*3", None, 0)
    wb.add_worksheet("二枚目").write("B2", "x")
    wb.close()
    return path


def test_the_running_office_recalculates_and_names_outputs_like_convert_to(tmp_path):
    need_libreoffice()
    if os.environ.get("CI") == "true":  # .ci/run installs python3-uno: the office must be used
        assert libreoffice._office() is not None
    src = _stale(tmp_path / "stale.xlsx")
    back = libreoffice.recalculate(src, tmp_path / "office")
    assert openpyxl.load_workbook(back, data_only=True)["計算"]["A2"].value == 15
    ours = libreoffice.sheet_names_many([src, NISHITOKYO], tmp_path / "csv")
    pdf = libreoffice.to_pdf(src, tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    # the same calls where every conversion starts soffice --convert-to
    code = ("import json, sys; from pathlib import Path; from xlsgen import libreoffice as lo; "
            "d = Path(sys.argv[1]); out = lo.recalculate(sys.argv[2], d / 'x'); "
            "print(json.dumps([lo._office() is None, str(out), lo.sheet_names_many(sys.argv[2:], d / 'c')]))")
    env = dict(os.environ, XLSGEN_LO_SERVER="0", PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path / "cli"), str(src), str(NISHITOKYO)],
                         capture_output=True, text=True, env=env, check=True)
    no_office, out, theirs = json.loads(res.stdout)
    assert no_office and openpyxl.load_workbook(out, data_only=True)["計算"]["A2"].value == 15
    assert ours == theirs and ours[0] == ["二枚目", "計算"]


def _alive_in_group(pgid: int) -> list[int]:
    """Processes of the group (zombies aside), from /proc."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            alive.append(int(stat.parent.name))
    return alive


def test_a_conversion_past_its_timeout_stops_the_office_and_the_next_one_starts(tmp_path):
    """A stuck conversion does not hang the tests: the helper and its soffice are killed
    (nothing of the process group is left), no lock file stays beside the input, and the
    next conversion gets a new office."""
    need_libreoffice()
    if libreoffice._office() is None:
        return  # the subprocess path has its own timeout
    office = libreoffice._office()
    big = tmp_path / "report.xlsx"
    big.write_bytes((ROOT / "tests" / "golden" / "report_ojiya.xlsx").read_bytes())
    assert not office.convert(big, tmp_path / "report.pdf", "calc_pdf_Export", "", 0.05)
    office.proc.wait(timeout=10)
    assert not _alive_in_group(office.proc.pid)
    assert not list(tmp_path.glob(".~lock.*"))
    back = libreoffice.recalculate(_stale(tmp_path / "stale.xlsx"), tmp_path / "again")
    assert openpyxl.load_workbook(back, data_only=True)["計算"]["A2"].value == 15
    assert libreoffice._office() is not office

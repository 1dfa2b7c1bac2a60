"""Hostile conditions (issue 12): inputs never overwritten, huge extents refused cheaply,
control characters made legal, success never reported on empty results, folders listed,
environment errors explained, templates checked. Inputs are built by `hostile_corpus`."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path
from xml.parsers import expat

import openpyxl
import pytest
from click.testing import CliRunner

from tests import hostile_corpus as corpus
from tests.conftest import JOSO, OJIYA, ROOT
from xlsgen.cli import cli

MODEL_A = ROOT / "xlsgen" / "templates" / "simulations" / "mitaka_model_a.yaml"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_clean_error(res, *words):
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and "予期しない" not in res.output, res.output
    assert res.output.strip().startswith("エラー"), res.output
    for w in words:
        assert w in res.output, (w, res.output)


def assert_well_formed(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith((".xml", ".rels", ".vml")):
                expat.ParserCreate().Parse(zf.read(name), True)


# --- 1. output onto its own input ----------------------------------------------------------

@pytest.mark.parametrize("how", ["same", "symlink", "dotdot", "case"])
@pytest.mark.parametrize("command", ["build", "extract", "rollforward", "audit"])
def test_output_onto_input_is_refused(tmp_path, how, command):
    src = tmp_path / "in" / "book.xlsx"
    src.parent.mkdir()
    shutil.copy(OJIYA, src)
    (tmp_path / "link.xlsx").symlink_to(src)
    out = {"same": src, "symlink": tmp_path / "link.xlsx",
           "dotdot": tmp_path / "in" / ".." / "in" / "book.xlsx",
           "case": tmp_path / "in" / "BOOK.XLSX"}[how]
    before = digest(src)
    extra = {"rollforward": ["--to", "R4"]}.get(command, [])
    res = invoke(command, src, *extra, "-o", out)
    assert_clean_error(res, "入力ファイル", "同じです")
    assert digest(src) == before
    assert not (tmp_path / "in" / "BOOK.XLSX").exists() or how != "case"
    assert sorted(p.name for p in src.parent.iterdir()) == ["book.xlsx"]


def test_simulate_onto_its_template_is_refused(tmp_path):
    tpl = tmp_path / "model.yaml"
    shutil.copy(MODEL_A, tpl)
    before = digest(tpl)
    for out in (tpl, tmp_path / "MODEL.YAML", tmp_path / "sub" / ".." / "model.yaml"):
        res = invoke("simulate", tpl, "-o", out)
        assert_clean_error(res, "入力ファイル")
    assert digest(tpl) == before


def test_refuse_overwrite_sees_hard_links(tmp_path):
    from xlsgen.atomic import refuse_overwrite
    from xlsgen.errors import XlsgenError

    src = tmp_path / "a.xlsx"
    shutil.copy(OJIYA, src)
    os.link(src, tmp_path / "b.xlsx")
    with pytest.raises(XlsgenError):
        refuse_overwrite(tmp_path / "b.xlsx", [src])
    refuse_overwrite(tmp_path / "c.xlsx", [src])  # a different name is fine


# --- 2. one stray cell far away; crashed workers --------------------------------------------

def test_stray_cell_is_refused_cheaply(tmp_path):
    book = corpus.stray_cell(tmp_path / "stray.xlsx")
    res = invoke("validate", book)
    assert res.exit_code == 1
    assert "XFD1048576" in res.output and "上限" in res.output and "シート「01」" in res.output
    res = invoke("build", book, "-o", tmp_path / "r.xlsx")
    assert_clean_error(res, "XFD1048576")
    assert not (tmp_path / "r.xlsx").exists()


def test_extent_comes_from_the_cells_not_the_dimension(tmp_path):
    from xlsgen.layout import read_book

    lying = corpus.stray_cell(tmp_path / "lie.xlsx", ref=None, dimension="A1:XFD1048576")
    assert len(read_book(lying).measures) == len(read_book(OJIYA).measures)
    small_dim = corpus.stray_cell(tmp_path / "small.xlsx", dimension="A1:B2")
    res = invoke("validate", small_dim)
    assert res.exit_code == 1 and "XFD1048576" in res.output
    wide = corpus.stray_cell(tmp_path / "wide.xlsx", ref="XFD1")  # 16,384 cells: fine
    assert len(read_book(wide).measures) == len(read_book(OJIYA).measures)


def test_audit_of_a_stray_cell_book_completes(tmp_path):
    book = corpus.stray_cell(tmp_path / "stray.xlsx")
    res = invoke("audit", book, "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["sheets"] == 33


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_run_with_a_stray_cell_book_completes(tmp_path, jobs):
    inp = tmp_path / "in"
    inp.mkdir()
    corpus.stray_cell(inp / "a_stray.xlsx")
    shutil.copy(JOSO, inp / JOSO.name)
    res = invoke("run", inp, "-o", tmp_path / "out", "--jobs", jobs)
    assert res.exit_code == 1
    assert "a_stray.xlsx" in res.output and "XFD1048576" in res.output
    assert (tmp_path / "out" / f"{JOSO.stem}_報告書.xlsx").exists()
    wb = openpyxl.load_workbook(tmp_path / "out" / "検証結果.xlsx")
    rows = {r[0]: r[2] for r in wb["ファイル"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert rows["a_stray.xlsx"] == "失敗" and rows[JOSO.name] == "成功"


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_book_that_kills_its_worker_fails_alone(tmp_path, monkeypatch, jobs):
    """A worker dying (abort, as calamine does on a huge allocation) fails that book only."""
    from xlsgen import batch

    inp = tmp_path / "in"
    inp.mkdir()
    for name in ("a.xlsx", "b_crash.xlsx", "c.xlsx"):
        shutil.copy(JOSO, inp / name)
    real = batch.process_file

    def process(path, out_dir, options=None):
        if "crash" in Path(path).name:
            import faulthandler

            faulthandler.disable()  # pytest's handler would print the child's stack
            os.abort()
        return real(path, out_dir, options)

    monkeypatch.setattr(batch, "process_file", process)  # forked workers inherit it
    s = batch.run(inp, tmp_path / "out", jobs)
    assert [r["name"] for r in s["failed"]] == ["b_crash.xlsx"]
    assert "異常終了" in s["failed"][0]["reason"] and "SIGABRT" in s["failed"][0]["reason"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "a_報告書.xlsx", "c_報告書.xlsx", "検証結果.xlsx"]


# --- 3. control characters ------------------------------------------------------------------

TITLE = "キャリア教育の推進"


@pytest.mark.parametrize("inserted", ["_x000B_", "_x0007__x001B__x0000_", "_x005F_x000B_"])
def test_control_characters_in_a_title_give_valid_reports(tmp_path, inserted):
    book = corpus.replace_text(tmp_path / "ctl.xlsx", TITLE, f"キャリア{inserted}教育の推進")
    out = tmp_path / "report.xlsx"
    res = invoke("build", book, "-o", out)
    assert res.exit_code == 0, res.output
    assert_well_formed(out)
    wb = openpyxl.load_workbook(out)
    name = wb.sheetnames[1]
    assert name.startswith("01 キャリア") and name.endswith("教育の推進")
    assert not any(ord(ch) < 32 for ch in name)
    assert not any(ord(ch) < 32 for ch in wb[name].oddHeader.left.text)
    with zipfile.ZipFile(out) as zf:
        strings = zf.read("xl/sharedStrings.xml").decode()
    assert "01 キャリア_x" in strings  # cell text keeps the character, escaped


@pytest.mark.parametrize("inserted", ["_x000B_", "_x0007__x001B__x0000_", "_x005F_x000B_"])
def test_control_characters_in_a_title_give_a_valid_rolled_edition(tmp_path, inserted):
    """The roll-forward copies the title's part untouched and writes the old Check texts and
    the change log (which quote the title) as legal XML."""
    book = corpus.replace_text(tmp_path / "ctl.xlsx", TITLE, f"キャリア{inserted}教育の推進")
    out = tmp_path / "ctl_R4.xlsx"
    res = invoke("rollforward", book, "--to", "R4", "-o", out)
    assert res.exit_code == 0, res.output
    assert_well_formed(out)
    with zipfile.ZipFile(book) as a, zipfile.ZipFile(out) as b:
        assert a.read("xl/sharedStrings.xml") == b.read("xl/sharedStrings.xml")
    wb = openpyxl.load_workbook(out)
    assert {"前年度評価", "変更履歴"} <= set(wb.sheetnames)


def test_control_characters_survive_run_and_the_summary(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    corpus.replace_text(inp / "ctl.xlsx", TITLE, "キャリア_x0007_教育の推進")
    res = invoke("run", inp, "-o", tmp_path / "out", "--jobs", "1")
    assert res.exit_code == 0, res.output
    for p in (tmp_path / "out").iterdir():
        assert_well_formed(p)


def test_a_damaged_output_is_never_renamed_into_place(tmp_path):
    from xlsgen.atomic import atomic_path
    from xlsgen.errors import XlsgenError

    target = tmp_path / "out.xlsx"
    with pytest.raises(XlsgenError, match="壊れています"):
        with atomic_path(target) as tmp:
            with zipfile.ZipFile(tmp, "w") as zf:
                zf.writestr("[Content_Types].xml", "<Types/>")
                zf.writestr("xl/workbook.xml", '<workbook><sheet name="a\x0bb"/></workbook>')
    assert list(tmp_path.iterdir()) == []


# --- 4. success on empty results ------------------------------------------------------------

def test_uncalculated_kpi_formulas_are_an_error(tmp_path):
    book = corpus.uncalculated(tmp_path / "uncalc.xlsx", ["E16", "F16", "E17"])
    res = invoke("validate", book, "--format", "json")
    assert res.exit_code == 1
    found = [f for f in json.loads(res.output)["files"][0]["findings"]
             if f["code"] == "uncalculated-formula"]
    assert len(found) == 1 and found[0]["severity"] == "error" and found[0]["sheet"] == "01"
    assert "E16、F16、E17" in found[0]["message"] and "Excel で開いて保存" in found[0]["message"]


@pytest.fixture
def edited(tmp_path):
    def make(edit, name="edited.xlsx"):
        path = tmp_path / name
        wb = openpyxl.load_workbook(OJIYA)
        edit(wb)
        wb.save(path)
        return path
    return make


def _errors(path) -> set[tuple[str, str, str]]:
    res = invoke("validate", path, "--format", "json")
    return {(f["code"], f["sheet"], f["cell"]) for f in json.loads(res.output)["files"][0]["findings"]
            if f["severity"] == "error"}


def test_text_among_numbers_is_an_error(edited):
    def edit(wb):
        wb["01"]["I17"] = "abc人"
    assert ("not-a-number", "01", "I17") in _errors(edited(edit))


def test_negative_cost_is_an_error(edited):
    def edit(wb):
        wb["01"]["J16"] = -500
    assert ("negative-cost", "01", "J16") in _errors(edited(edit))


def test_kpi_row_with_values_but_no_name_is_an_error(edited):
    def edit(wb):
        ws = wb["01"]
        name_cell = next(c for c in ws[17] if c.value and "インターンシップ" in str(c.value))
        name_cell.value = None
    assert any(code == "kpi-without-name" for code, _, _ in _errors(edited(edit)))


# --- 5. folders ------------------------------------------------------------------------------

def test_xlsm_and_upper_case_are_read_and_skipped_files_listed(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    shutil.copy(JOSO, inp / "joso.XLSX")
    shutil.copy(JOSO, inp / "macro.xlsm")
    for name in ("~$joso.XLSX", ".hidden.xlsx", "old.xls", "data.csv", "joso_報告書.xlsx",
                 "検証結果.xlsx", ".joso.1_abcd.xlsgen-tmp"):
        (inp / name).write_bytes(b"x")
    (inp / "sub").mkdir()
    res = invoke("run", inp, "-o", tmp_path / "out", "--jobs", "1")
    assert res.exit_code == 0, res.output
    assert "ファイル 2（失敗 0）" in res.output
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "joso_報告書.xlsx", "macro_報告書.xlsx", "検証結果.xlsx"}
    for name in ("~$joso.XLSX", ".hidden.xlsx", "old.xls", "data.csv", "joso_報告書.xlsx",
                 "検証結果.xlsx", "sub"):
        assert f"対象外: {name}（" in res.output, name
    wb = openpyxl.load_workbook(tmp_path / "out" / "検証結果.xlsx")
    rows = {r[0]: (r[2], r[3]) for r in wb["ファイル"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert rows["old.xls"][0] == "対象外" and ".xlsx" in rows["old.xls"][1]
    assert rows["~$joso.XLSX"][0] == "対象外" and "ロック" in rows["~$joso.XLSX"][1]
    assert rows["macro.xlsm"][0] == "成功"

    res = invoke("validate", inp / "joso.XLSX", inp / "macro.xlsm")
    assert res.exit_code == 0 and res.output.count(": OK") == 2


def test_run_on_a_missing_folder_is_an_error(tmp_path):
    res = invoke("run", tmp_path / "nope", "-o", tmp_path / "out")
    assert_clean_error(res, "見つかりません")


# --- 6. audit ---------------------------------------------------------------------------------

def test_audit_reports_ref_names_and_external_links(tmp_path):
    book = corpus.linked_book(tmp_path / "linked.xlsx")
    res = invoke("audit", book, "--format", "json")
    assert res.exit_code == 1
    findings = json.loads(res.output)["findings"]
    codes = {(f["code"], f["cell"]) for f in findings}
    assert ("name-ref-error", None) in codes and ("external-link", "B2") in codes
    link = [f for f in findings if f["code"] == "external-link" and f["cell"] is None]
    assert link and "予算_R3.xlsx" in link[0]["message"]
    ref = next(f for f in findings if f["code"] == "name-ref-error")
    assert ref["severity"] == "error" and "単価" in ref["message"]
    out = tmp_path / "audit.xlsx"
    invoke("audit", book, "-o", out)
    assert_well_formed(out)


def test_audit_of_a_clean_book_has_neither_code(tmp_path):
    book = corpus.linked_book(tmp_path / "clean.xlsx", ref_name=False, external=False)
    res = invoke("audit", book, "--format", "json")
    codes = {f["code"] for f in json.loads(res.output)["findings"]}
    assert not codes & {"name-ref-error", "external-link"}


# --- 7. temporaries and permissions -----------------------------------------------------------

def test_temp_names_and_permissions(tmp_path):
    from xlsgen.atomic import TEMP_SUFFIX, atomic_path

    long = tmp_path / ("長" * 80 + ".json")  # 245 bytes
    seen = []
    old = os.umask(0o002)
    try:
        with atomic_path(long) as tmp:
            seen.append(tmp.name)
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    name = seen[0]
    assert name.startswith(".") and name.endswith(TEMP_SUFFIX) and not name.endswith(".xlsx")
    assert len(name.encode()) <= len(long.name.encode())
    assert long.stat().st_mode & 0o777 == 0o664
    res = invoke("build", JOSO, "-o", tmp_path / "r.xlsx")
    assert res.exit_code == 0
    assert (tmp_path / "r.xlsx").stat().st_mode & 0o777 == 0o666 & ~old


def test_run_removes_stale_temps_of_dead_runs_only(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = out / f".report.{int(dead):x}_ab12.xlsgen-tmp"
    alive = out / f".report.{os.getpid():x}_ab12.xlsgen-tmp"
    stale.write_bytes(b"x")
    alive.write_bytes(b"x")
    inp = tmp_path / "in"
    inp.mkdir()
    shutil.copy(JOSO, inp / JOSO.name)
    assert invoke("run", inp, "-o", out, "--jobs", "1").exit_code == 0
    assert not stale.exists() and alive.exists()


def test_sigterm_stops_workers_and_removes_temps(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    inp = tmp_path / "in"
    inp.mkdir()
    for i in range(12):
        shutil.copy(OJIYA, inp / f"b{i:02d}.xlsx")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "xlsgen", "run", str(inp), "-o", str(out),
                             "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True)
    children: set[int] = set()
    deadline = time.time() + 60
    while time.time() < deadline and not children:
        time.sleep(0.2)
        for task in Path(f"/proc/{proc.pid}/task").glob("*/children"):
            children |= {int(p) for p in task.read_text().split()}
    assert children, "the run started no worker"
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "中断しました" in err and "Traceback" not in err
    time.sleep(0.5)
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", pid
    assert not [p for p in out.iterdir() if p.name.endswith(".xlsgen-tmp")] if out.exists() else True


# --- 8. environment errors --------------------------------------------------------------------

@pytest.mark.parametrize("code,words", [(errno.EACCES, "書き込めません"), (errno.EROFS, "書き込めません"),
                                        (errno.ENOSPC, "空き容量が足りません")])
def test_environment_errors_at_create(tmp_path, monkeypatch, code, words):
    import xlsgen.atomic as atomic

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(args[0]))

    monkeypatch.setattr(atomic.os, "open", refuse)
    out = tmp_path / "r.xlsx"
    res = invoke("build", JOSO, "-o", out)
    assert_clean_error(res, words, str(out))
    assert list(tmp_path.iterdir()) == []


def test_disk_full_while_writing(tmp_path, monkeypatch):
    import xlsxwriter.workbook

    class FullDisk(zipfile.ZipFile):
        """Writes two parts, then the disk is full (a partial file is on disk)."""

        def writestr(self, *args, **kwargs):
            if len(self.filelist) >= 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().writestr(*args, **kwargs)

    monkeypatch.setattr(xlsxwriter.workbook, "ZipFile", FullDisk)
    out = tmp_path / "r.xlsx"
    res = invoke("build", JOSO, "-o", out)
    assert_clean_error(res, "空き容量が足りません", str(out))
    assert list(tmp_path.iterdir()) == []


def test_name_too_long(tmp_path):
    out = tmp_path / ("長" * 90 + ".xlsx")  # 275 bytes
    res = invoke("build", JOSO, "-o", out)
    assert_clean_error(res, "名前が長すぎます")
    assert list(tmp_path.iterdir()) == []


def test_long_input_name_builds(tmp_path):
    src = tmp_path / ("あ" * 78 + ".xlsx")  # 239 bytes; the report name is 251
    shutil.copy(JOSO, src)
    res = invoke("build", src, "-o", tmp_path / f"{src.stem}_報告書.xlsx")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([src.name, f"{src.stem}_報告書.xlsx"])


# --- 9. simulation templates ------------------------------------------------------------------

def _template(tmp_path, old, new, name="t.yaml", encoding="utf-8"):
    text = MODEL_A.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_bytes(text.replace(old, new).replace("³", "3").encode(encoding))
    return path


@pytest.mark.parametrize("value,words", [
    ("1e308", "大きすぎます"), (".nan", "有限の数値ではありません"), ("-.inf", "有限の数値ではありません"),
    ("9" * 400, "400 桁"), ("abc人", "数値ではありません")])
def test_template_numbers(tmp_path, value, words):
    tpl = _template(tmp_path, "value: 0.4, unit: ha", f"value: {value}, unit: ha")
    res = invoke("simulate", tpl, "-o", tmp_path / "o.xlsx")
    assert_clean_error(res, words, "15行目", str(tpl))
    assert not (tmp_path / "o.xlsx").exists()


@pytest.mark.parametrize("name", ["R1C1", "A1", "XFD1", "RC", "R2C", "1st"])
def test_template_names_excel_rejects(tmp_path, name):
    text = MODEL_A.read_text(encoding="utf-8").replace("単収", name)
    tpl = tmp_path / "t.yaml"
    tpl.write_text(text, encoding="utf-8")
    res = invoke("simulate", tpl, "-o", tmp_path / "o.xlsx")
    assert_clean_error(res, f"名前「{name}」", "16行目")
    assert not (tmp_path / "o.xlsx").exists()


def test_template_saved_in_shift_jis(tmp_path):
    tpl = _template(tmp_path, "value: 0.4, unit: ha", "value: 0.4, unit: ha", encoding="cp932")
    with pytest.raises(UnicodeDecodeError):
        tpl.read_bytes().decode("utf-8")
    out = tmp_path / "o.xlsx"
    res = invoke("simulate", tpl, "-o", out)
    assert res.exit_code == 0, res.output
    assert "作付面積" in openpyxl.load_workbook(out).defined_names or \
        any("作付面積" in n for n in openpyxl.load_workbook(out).defined_names)


def test_template_yaml_error_names_line(tmp_path):
    tpl = _template(tmp_path, "value: 0.4, unit: ha", "value: [0.4, unit: ha")
    res = invoke("simulate", tpl, "-o", tmp_path / "o.xlsx")
    assert_clean_error(res, "YAML", "行目")


# --- 10. missing inputs -----------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["build", "{m}", "-o", "{o}"], ["extract", "{m}"], ["rollforward", "{m}", "--to", "R4", "-o", "{o}"],
    ["audit", "{m}"], ["validate", "{m}"], ["simulate", "{m}", "-o", "{o}"], ["run", "{m}", "-o", "{o}"]])
def test_missing_input_is_a_japanese_error(tmp_path, args):
    missing = tmp_path / "無い.xlsx"
    res = invoke(*[a.format(m=missing, o=tmp_path / "out.xlsx") for a in args])
    assert res.exit_code == 1, res.output
    assert "見つかりません" in res.output and "Usage" not in res.output
    assert "Traceback" not in res.output


def test_two_inputs_with_one_report_name(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    shutil.copy(JOSO, inp / "a.xlsx")
    shutil.copy(JOSO, inp / "a.xlsm")
    res = invoke("run", inp, "-o", tmp_path / "out", "--jobs", "1")
    assert res.exit_code == 1
    assert "a.xlsm" in res.output and "同じになる" in res.output
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"a_報告書.xlsx", "検証結果.xlsx"}


def test_pattern_parser_equals_parsing_each_cell():
    """One parse per R1C1 pattern gives what parsing every cell gives (refs, bounds, text)."""
    from xlsgen.audit.formula import PatternParser, parse_formula

    cells = [("=SUM($D$2:D{r})+Sheet2!A{r}:B$3+A:A+3:4", 0), ('=IF(C{r}>0,"A1",E{r}*$F$1)', 0),
             ("=LOG10(B{r})+'My Sheet'!C{r}", 0), ("=SUM({r}:{r})+B:C", 0)]
    pp = PatternParser()
    for template, _ in cells:
        for r in range(5, 9):
            text = template.format(r=r)
            got, want = pp.parse(text, r, 5), parse_formula(text, r, 5)
            assert [(x.text, x.bounds, x.sheet) for x in got.refs] == \
                [(x.text, x.bounds, x.sheet) for x in want.refs], text
            assert got.r1c1 == want.r1c1 and got.numbers == want.numbers


def test_control_character_in_an_input_sheet_name(tmp_path):
    """A sheet named with `_x0007_` (BEL once decoded): findings link to it, the summary and
    the report stay well-formed."""
    inp = tmp_path / "in"
    inp.mkdir()

    def edit(name, text):
        if name == "xl/workbook.xml":
            return text.replace('<sheet name="01"', '<sheet name="0_x0007_1"')
        return text

    corpus.edit_parts(corpus.uncalculated(tmp_path / "u.xlsx", ["E16"]), inp / "bel.xlsx", edit)
    res = invoke("run", inp, "-o", tmp_path / "out", "--jobs", "1")
    assert "Traceback" not in res.output
    for p in (tmp_path / "out").iterdir():
        assert_well_formed(p)
    assert (tmp_path / "out" / "検証結果.xlsx").exists()


def test_rollforward_of_a_book_with_raw_control_characters_names_the_input(tmp_path):
    """Raw BEL/ESC in the input's shared strings: the roll copies that part as it is, the
    output check finds it not well-formed, and the message says the input is at fault and
    what to do; nothing is written."""
    from click.testing import CliRunner

    from tests.hostile_corpus import first_string, replace_text
    from xlsgen.cli import cli

    title = first_string()
    src = replace_text(tmp_path / "ctrl.xlsx", title, title + "\x07\x1b")
    before = src.read_bytes()
    out = tmp_path / "ctrl_R4.xlsx"
    res = CliRunner().invoke(cli, ["rollforward", str(src), "--to", "R4", "-o", str(out)])
    assert res.exit_code == 1
    assert "ctrl.xlsx" in res.output and "XML で使えない文字" in res.output and "保存し直して" in res.output
    assert "Traceback" not in res.output
    assert not out.exists() and src.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ctrl.xlsx"]

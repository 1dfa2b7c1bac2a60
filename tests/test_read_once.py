"""One read per book per request, and a pasted data sheet no layout reads costs (almost)
nothing: it is never loaded by the reader, never opened by the roll-forward (its part is
copied as stored), and reading reports progress sheet by sheet."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import OJIYA
from tests.large_book import with_data_sheet
from xlsgen import app
from xlsgen.layout import read_book
from xlsgen.model import CHANGE_LOG_SHEET
from xlsgen.package import ooxml
from xlsgen.read import grid as grid_mod

DATA = "データ"


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """The 小千谷 book plus a pasted data sheet of 12,000 records (a part over the large-
    sheet size, so it is treated as a pasted sheet would be)."""
    path = with_data_sheet(OJIYA, tmp_path_factory.mktemp("big") / "big_進行管理シート_R3.xlsx", 12_000)
    with zipfile.ZipFile(path) as z:
        size = max(i.file_size for i in z.infolist() if i.filename.startswith("xl/worksheets/"))
    assert size > grid_mod.LARGE_SHEET_BYTES
    return path


@pytest.fixture
def loads(monkeypatch):
    """Names of the sheets the reader loads whole, and of those it looks at the top of."""
    seen = {"full": [], "head": []}
    full, head = grid_mod.WorkbookGrids._load, grid_mod.WorkbookGrids._head

    def spy_full(self, name):
        seen["full"].append(name)
        return full(self, name)

    def spy_head(self, name):
        seen["head"].append(name)
        return head(self, name)

    monkeypatch.setattr(grid_mod.WorkbookGrids, "_load", spy_full)
    monkeypatch.setattr(grid_mod.WorkbookGrids, "_head", spy_head)
    return seen


def _facts(book) -> dict:
    d = book.to_dict()
    d.pop("path", None)
    d["findings"] = [f for f in d["findings"] if f["code"] != "sheet-skipped"]
    return d


def test_unread_sheet_is_never_loaded_and_the_book_reads_the_same(big, loads):
    book = read_book(big)
    assert DATA not in loads["full"] and loads["head"] == [DATA]  # detection: its top rows only
    assert len(loads["full"]) == 33
    assert _facts(book) == _facts(read_book(OJIYA))
    skipped = [f for f in book.findings if f.code == "sheet-skipped"]
    assert [f.sheet for f in skipped] == [DATA]


def test_a_large_sheet_with_the_layouts_labels_on_top_is_read(monkeypatch, loads):
    """Every sheet counts as large here: detection finds the anchors in the top rows, and
    the sheets the layout reads are then loaded whole."""
    monkeypatch.setattr(grid_mod, "LARGE_SHEET_BYTES", 1000)
    book = read_book(OJIYA)
    assert len(loads["head"]) == 33 and len(loads["full"]) == 33
    monkeypatch.setattr(grid_mod, "LARGE_SHEET_BYTES", 10 ** 9)
    assert _facts(book) == _facts(read_book(OJIYA))


def test_layout_sheet_rules_skip_a_sheet_by_name_without_loading_it(tmp_path, loads):
    """A layout whose `sheets.skip` names the pasted sheet never looks at it at all."""
    spec = Path(app.layout_path("ojiya")).read_text(encoding="utf-8")
    spec = spec.replace("sheets:\n", f"sheets:\n  skip: [{DATA}]\n", 1)
    assert f"skip: [{DATA}]" in spec
    layout = tmp_path / "ojiya_skip.yaml"
    layout.write_text(spec, encoding="utf-8")
    small = with_data_sheet(OJIYA, tmp_path / "small.xlsx", 50)  # not large: named, not sized
    book = read_book(small, layout_file=str(layout))
    assert DATA not in loads["full"] + loads["head"]
    assert len(book.measures) == 33


def _stored(path: Path, name: str) -> tuple[int, bytes]:
    """(CRC, compressed bytes) of one zip entry as stored in the file."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        head = fh.read(30)
        n, m = struct.unpack("<HH", head[26:30])
        fh.seek(info.header_offset + 30 + n + m)
        return info.CRC, fh.read(info.compress_size)


def test_rollforward_copies_the_unread_sheet_as_stored(big, tmp_path, monkeypatch, loads):
    opened = []
    get = ooxml.Parts.__getitem__

    def spy(self, name):
        opened.append(name)
        return get(self, name)

    monkeypatch.setattr(ooxml.Parts, "__getitem__", spy)
    out = tmp_path / "big_R4.xlsx"
    result = app.rollforward_file(big, "R4", out)
    part = ooxml.Package(big).sheets[DATA]
    assert part not in opened and DATA not in loads["full"]
    assert _stored(out, part) == _stored(big, part)  # not even compressed again
    with zipfile.ZipFile(big) as a, zipfile.ZipFile(out) as b:
        same = [n for n in a.namelist() if n != part and a.read(n) == b.read(n)]
    assert len(same) >= 4
    for name in same:  # every part the roll did not change: the input's stored bytes
        assert _stored(out, name) == _stored(big, name), name
    wb = openpyxl.load_workbook(out, read_only=True)
    assert DATA in wb.sheetnames
    log = [r for r in wb[CHANGE_LOG_SHEET].iter_rows(values_only=True) if r[0] == "（ブック全体）"]
    wb.close()
    # the unread sheet might hold formulas over the changed cells: Excel recalculates on open
    assert log and DATA in log[0][4] and "fullCalcOnLoad" in log[0][3]
    with zipfile.ZipFile(out) as z:
        assert b'fullCalcOnLoad="1"' in z.read("xl/workbook.xml")
    small = app.rollforward_file(OJIYA, "R4", tmp_path / "small_R4.xlsx")
    assert [(c.sheet, c.cell, c.after) for c in result.changes] == \
        [(c.sheet, c.cell, c.after) for c in small.changes]


def test_build_of_the_book_with_a_pasted_sheet(big, tmp_path, loads):
    res = app.build_file(big, tmp_path / "r.xlsx")
    assert res["sheets"] == 33 and DATA not in loads["full"]


def test_progress_reports_each_sheet_as_it_is_read(big, tmp_path):
    seen = []
    book = app.extract_book(OJIYA, progress=lambda n, m, sheet: seen.append((n, m, sheet)))
    assert [n for n, _, _ in seen] == list(range(1, 34)) and {m for _, m, _ in seen} == {33}
    assert [s for _, _, s in seen] == [m.sheet for m in book.measures]
    seen.clear()
    res = app.process_book(big, tmp_path, "big.xlsx", progress=lambda *a: seen.append(a))
    assert res["ok"]
    assert [n for n, _, _ in seen] == list(range(1, 35)) and {m for _, m, _ in seen} == {34}
    assert seen[-1] == (34, 34, DATA)  # looked at (its top rows), never read


def test_one_upload_reads_its_book_once(tmp_path, monkeypatch):
    """process_book: one reader open, one safety check, for report, findings, roll-forward
    (planned from the same Book) and audit."""
    from xlsgen.read import safety

    opens, checks = [], []
    init = grid_mod.WorkbookGrids.__init__
    check = safety.check_workbook_file

    def spy_init(self, path, progress=None):
        opens.append(path)
        init(self, path, progress)

    def spy_check(path):
        checks.append(path)
        check(path)

    monkeypatch.setattr(grid_mod.WorkbookGrids, "__init__", spy_init)
    monkeypatch.setattr(grid_mod, "check_workbook_file", spy_check)
    monkeypatch.setattr(safety, "check_workbook_file", spy_check)
    res = app.process_book(OJIYA, tmp_path, OJIYA.name)
    assert res["ok"] and set(res["outputs"]) == {"report", "edition", "audit"}
    assert len(opens) == 1 and len(checks) == 1


def test_app_functions_take_the_book_read(tmp_path, monkeypatch):
    book = app.extract_book(OJIYA)
    monkeypatch.setattr(grid_mod.WorkbookGrids, "__init__", lambda *a, **k: pytest.fail("read again"))
    assert app.build_file(book, tmp_path / "r.xlsx")["sheets"] == 33
    assert app.rollforward_file(book, "R4", tmp_path / "r4.xlsx").to_year == 2022
    assert app.validate_book(book) is not None
    assert app.audit_file(book).file == str(OJIYA)
    from xlsgen.errors import XlsgenError

    with pytest.raises(XlsgenError):  # the book's own file is still refused as the output
        app.build_file(book, OJIYA)


def test_a_forbidden_character_in_a_large_copied_part_names_the_input(big, tmp_path, monkeypatch):
    """The shared strings of a pasted sheet are copied as stored and, being large, scanned
    for the characters XML forbids rather than parsed: a raw BEL from a paste is still found
    and reported as the input's fault, and nothing is written."""
    from tests.hostile_corpus import first_string, replace_text
    from xlsgen import atomic
    from xlsgen.errors import XlsgenError

    monkeypatch.setattr(atomic, "LARGE_COPIED_BYTES", 100_000)
    with zipfile.ZipFile(big) as z:
        assert z.getinfo("xl/sharedStrings.xml").file_size > atomic.LARGE_COPIED_BYTES
    title = first_string(big)
    src = replace_text(tmp_path / "ctrl.xlsx", title, title + "\x07", src=big)
    out = tmp_path / "ctrl_R4.xlsx"
    with pytest.raises(XlsgenError, match="XML で使えない文字") as e:
        app.rollforward_file(src, "R4", out)
    assert "ctrl.xlsx" in str(e.value) and "保存し直して" in str(e.value)
    assert not out.exists()


def test_roll_lists_the_inputs_formulas_from_its_package_as_openpyxl_reads_them(tmp_path, monkeypatch):
    """数式一覧 of an edition comes from the package the roll holds, never from an openpyxl
    load of the book, and says the same as openpyxl's reading would: plain, shared (the
    followers translated), array formulas and defined names, sheet-scoped ones included."""
    import warnings

    import openpyxl.reader.excel

    from tests.fidelity_corpus import S1, _cell, _workbook_child, build
    from xlsgen.package import Package
    from xlsgen.package.formulas import FormulaBook
    from xlsgen.render.formula_map import notes_from_workbook

    def shared_and_array(parts):
        _cell(parts, S1, 17, '<c r="M17"><f t="shared" ref="M17:M19" si="0">D17*2+$E$17</f><v>1</v></c>'
                             '<c r="N17"><f t="array" ref="N17">SUM(D17:H17*2)</f><v>3</v></c>')
        _cell(parts, S1, 18, '<c r="M18"><f t="shared" si="0"/><v>2</v></c>')
        _cell(parts, S1, 19, '<c r="M19"><f t="shared" si="0"/><v>2</v></c>')
        _workbook_child(parts, "<definedName name=\"局所\" localSheetId=\"1\">'02'!$B$2</definedName>")
        _cell(parts, "xl/worksheets/sheet2.xml", 2, '<c r="M2"><f>局所*2&amp;"円"</f><v>1</v></c>')

    from tests import fidelity_corpus

    monkeypatch.setitem(fidelity_corpus.FEATURES, "shared", shared_and_array)
    src = build("formulas", tmp_path, extra=("shared", "defined_names"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = [(n.sheet, n.cells, n.formula, n.explanation) for n in notes_from_workbook(src)]
    got = [(n.sheet, n.cells, n.formula, n.explanation) for n in notes_from_workbook(FormulaBook(Package(src)))]
    assert got == want
    assert any(c.startswith("M17:M19") for _, c, _, _ in got) and any("局所" in e for *_, e in got)
    monkeypatch.setattr(openpyxl.reader.excel, "load_workbook",
                        lambda *a, **k: pytest.fail("the roll loaded the book with openpyxl"))
    monkeypatch.setattr(openpyxl, "load_workbook",
                        lambda *a, **k: pytest.fail("the roll loaded the book with openpyxl"))
    out = tmp_path / "R4.xlsm" if src.suffix == ".xlsm" else tmp_path / "R4.xlsx"
    app.rollforward_file(src, "R4", out)
    monkeypatch.undo()
    from xlsgen.model import FORMULA_MAP_SHEET

    listed = [r for r in openpyxl.load_workbook(out)[FORMULA_MAP_SHEET].iter_rows(min_row=2, values_only=True)]
    assert [(r[0], r[2]) for r in listed if r[0]] == [(s, f) for s, _, f, _ in want]

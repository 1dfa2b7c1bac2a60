"""One read per book per request, and a pasted data sheet no layout reads costs (almost)
nothing: it is never loaded by the reader, never opened by the roll-forward (its part is
copied as stored), and reading reports progress sheet by sheet."""

from __future__ import annotations

import re
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
    events = []
    res = app.process_book(big, tmp_path, "big.xlsx", progress=lambda *a: seen.append(a) or events.append("read"),
                           on_stage=events.append)
    assert res["ok"]
    assert [n for n, _, _ in seen] == list(range(1, 35)) and {m for _, m, _ in seen} == {34}
    assert seen[-1] == (34, 34, DATA)  # looked at (its top rows), never read
    # the stages as they start, the read's sheets inside the first one (read once)
    assert [e for i, e in enumerate(events) if e != "read" or events[i - 1] != "read"] == \
        ["report", "read", "edition", "audit"]


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


# --- the lazy pieces are the one scanner's reading, in any shape ------------------------------

SST_ITEMS = [
    "<si><t>plain {i}</t></si>",
    '<si><r><rPr><b/><sz val="11"/></rPr><t>rich {i}</t></r><r><t xml:space="preserve"> run</t></r></si>',
    '<si><t>ふりがな{i}</t><rPh sb="0" eb="1"><t>フ</t></rPh><phoneticPr fontId="1"/></si>',
    "<si><t>a_x000D_b &amp; &lt;c&gt; {i}</t></si>",
    "<si><t/></si>",
    "<si/>",
]


def _sst(n: int, comment: bool = False, prefix: str = "") -> bytes:
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    items = [SST_ITEMS[i % len(SST_ITEMS)].format(i=i) for i in range(n)]
    if comment:
        items.insert(n // 2, "<!-- a note </si><si><t>not an item</t></si> -->")
    body = "".join(items)
    if prefix:
        body = re.sub(r"<(/?)(si|t|r|rPr|b|sz|rPh|phoneticPr)\b", rf"<\1{prefix}:\2", body)
        root = f'<{prefix}:sst xmlns:{prefix}="{ns}" count="{n}">{body}</{prefix}:sst>'
    else:
        root = f'<sst xmlns="{ns}" count="{n}" uniqueCount="{n}">{body}</sst>'
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + root).encode("utf-8")


@pytest.mark.parametrize("shape", ["plain", "comment between items", "prefix"])
@pytest.mark.parametrize("source", ["data", "stream"])
def test_shared_strings_read_lazily_say_what_the_whole_table_says(monkeypatch, shape, source):
    """The lazy table reads runs of whole items with `shared_strings` (the scanner's table
    reader): every index gives the same text as the whole table read at once, in any order,
    whatever the run size; past the end, None."""
    import io

    from xlsgen.read.cells import SharedStrings, shared_strings

    data = _sst(3000, comment=shape.startswith("comment"), prefix="x" if shape == "prefix" else "")
    whole = shared_strings(data)
    assert len(whole) == 3000 and whole[1] == "rich 1 run" and whole[2] == "ふりがな2"
    assert whole[3] == "a\rb & <c> 3" and whole[4] == whole[5] == ""
    for chunk in (97, 1000, 1 << 16):
        monkeypatch.setattr(SharedStrings, "_CHUNK", chunk)
        lazy = SharedStrings(data) if source == "data" else SharedStrings(stream=io.BytesIO(data))
        assert lazy[2999] == whole[2999]  # the far end first, then every index
        assert [lazy[i] for i in range(3000)] == whole
        assert lazy[3000] is None
        if source == "data":
            assert len(lazy) == 3000 or shape.startswith("comment")
        first = SharedStrings(stream=io.BytesIO(data))
        assert first[0] == whole[0]


def test_a_broken_shared_string_table_is_the_books_fault(tmp_path):
    """A table that does not read stops the roll's package with one line naming the part."""
    from tests.hostile_corpus import edit_parts
    from xlsgen.errors import XlsgenError
    from xlsgen.package import Package, Workbook

    src = edit_parts(OJIYA, tmp_path / "sst.xlsx",
                     lambda name, text: text.replace("</si>", "</sx>", 1) if name == "xl/sharedStrings.xml" else text)
    with pytest.raises(XlsgenError, match="xl/sharedStrings.xml（共有文字列）を読めません") as e:
        Workbook(Package(src)).snapshot()["01"]
    assert "sst.xlsx" in str(e.value)


def _trimmed(rows) -> list[list]:
    out = []
    for row in rows:
        row = list(row)
        while row and row[-1] in ("", None):
            row.pop()
        out.append(row)
    while out and not out[-1]:
        out.pop()
    return out


@pytest.mark.parametrize("shape", ["as written", "prefix", "single quotes", "rows and cells without r"])
def test_the_top_of_a_large_sheet_reads_as_its_full_grid(big, tmp_path, shape, loads):
    """Detection's view of a large sheet (its first rows, from the start of the part, through
    the cell scanner and the streamed shared strings) holds what the full read holds there,
    in every shape the scanner reads."""
    from tests import hostile_corpus as C

    edits = {"as written": lambda x: x, "prefix": C.prefixed, "single quotes": C.single_quoted,
             "rows and cells without r": C.without_refs}
    part = ooxml.Package(big).sheets[DATA]
    parts = (part, "xl/sharedStrings.xml") if shape == "prefix" else (part,)
    src = C.edit_sheets(tmp_path / "odd.xlsx", edits[shape], parts, src=big)
    with grid_mod.WorkbookGrids(src) as wb:
        assert wb.is_large(DATA)
        head = wb._head(DATA)
        assert loads["full"] == []  # the head did not fall back to the whole sheet
        full = wb.grid(DATA)
    assert len(head.rows) == grid_mod.HEAD_ROWS
    assert _trimmed(head.rows) == _trimmed(full.rows[: grid_mod.HEAD_ROWS])
    assert head.rows[0][:3] == ["番号", "日付", "区分"]


@pytest.mark.parametrize("shape", ["prefix", "single quotes"])
def test_the_formula_list_from_the_package_in_odd_shapes(tmp_path, shape):
    """The roll's formula list comes from the cell scanner's reading of each sheet, so a
    book written with a namespace prefix or single quotes lists the same formulas as
    openpyxl reads there (shared formulas translated, array formulas kept)."""
    import warnings

    from tests import hostile_corpus as C
    from tests.fidelity_corpus import S1, _cell, build
    from xlsgen.package import Package
    from xlsgen.package.formulas import FormulaBook
    from xlsgen.render.formula_map import notes_from_workbook

    def shared_and_array(parts):
        _cell(parts, S1, 17, '<c r="M17"><f t="shared" ref="M17:M19" si="0">D17*2+$E$17</f><v>1</v></c>'
                             '<c r="N17"><f t="array" ref="N17">SUM(D17:H17*2)</f><v>3</v></c>')
        _cell(parts, S1, 18, '<c r="M18"><f t="shared" si="0"/><v>2</v></c>')
        _cell(parts, S1, 19, '<c r="M19"><f t="shared" si="0"/><v>2</v></c>')

    from tests import fidelity_corpus

    fidelity_corpus.FEATURES["shared_odd"] = shared_and_array
    try:
        plain = build("formulas", tmp_path, extra=("shared_odd",))
    finally:
        fidelity_corpus.FEATURES.pop("shared_odd")
    edit = C.prefixed if shape == "prefix" else C.single_quoted
    with zipfile.ZipFile(plain) as z:
        sheets = tuple(n for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
    src = C.edit_sheets(tmp_path / f"odd{plain.suffix}", edit, sheets, src=plain)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = [(n.sheet, n.cells, n.formula) for n in notes_from_workbook(src)]
    got = [(n.sheet, n.cells, n.formula) for n in notes_from_workbook(FormulaBook(Package(src)))]
    assert got == want
    assert ("01", "M17:M19", "=D17*2+$E$17") in got and any(f == "=SUM(D17:H17*2)" for *_, f in got)


def test_date_formats_read_as_openpyxl_reads_them():
    """The package's date test needs no openpyxl: the same answer as openpyxl's."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    from xlsgen.package.sheet import _is_date_format

    formats = [*BUILTIN_FORMATS.values(), '[$-411]ggge"年"m"月"d"日"', '"年度"0', '0"日以上"', "[h]:mm:ss",
               "[Red]0.00", "yyyy/m/d;@", "#,##0_ ;[Red]\\-#,##0 ", '0.0"%"', "[DBNum1]General", "_(* #,##0_)",
               '"m"0', "\\d0", "General", None, "0_);[Red](0)", "ge.m.d", "[mm]:ss", '0.0"ha";"▲"0.0"ha"']
    assert [_is_date_format(f) for f in formats] == [is_date_format(f) for f in formats]


def test_extract_and_roll_of_a_book_without_formulas_import_no_openpyxl(tmp_path):
    """What a clerk waits for at every start: reading and rolling a book whose sheets hold no
    formula never import openpyxl (with numpy) nor xlsxwriter."""
    import subprocess
    import sys

    code = ("import sys; from xlsgen import app; b = app.extract_book(sys.argv[1]); "
            "app.rollforward_file(b, 'R4', sys.argv[2]); "
            "print(sorted(m for m in ('openpyxl', 'numpy', 'xlsxwriter') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(OJIYA), str(tmp_path / "r4.xlsx")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr
    assert (tmp_path / "r4.xlsx").exists()

"""Hostile conditions, round three (issue 20) — the package: one cell scanner for every shape
Excel accepts, a roll that never destroys, an edit that is checked against what Excel
requires before it is written. Inputs are built by editing the package XML as text
(`tests/hostile_corpus.py`)."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path
from xml.parsers import expat

import openpyxl
import pytest
from click.testing import CliRunner

from tests import hostile_corpus as C
from tests.conftest import JOSO, OJIYA
from xlsgen.cli import cli
from xlsgen.errors import XlsgenError
from xlsgen.layout import read_book
from xlsgen.model import CHANGE_LOG_SHEET, CHECK_HISTORY_SHEET, FORMULA_MAP_SHEET, PAST_YEARS_SHEET
from xlsgen.package import Package
from xlsgen.package.apply import KEPT_FORMULA
from xlsgen.package.check import problems
from xlsgen.read.cells import _scan_canonical, _scan_expat, scan_sheet
from xlsgen.rollforward import rollforward_file
from xlsgen.validate import validate_book

S1 = C.S1
ALL_SHEETS = tuple(f"xl/worksheets/sheet{i}.xml" for i in range(1, 34))


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def changes(result) -> list[tuple]:
    return [(c.sheet, c.cell, c.before, c.after) for c in result.changes]


def facts(path) -> str:
    """Everything the reader gives, but where the file is (and what a book's own findings
    mention: the file name)."""
    d = read_book(path).to_dict()
    for key in ("path", "findings"):
        d.pop(key, None)
    return json.dumps(d, ensure_ascii=False, sort_keys=True)


def part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(name).decode("utf-8")


def sheet_part(path: Path, sheet: str) -> str:
    return Package(path).sheets[sheet]


def assert_excel_order(path: Path) -> None:
    """Every worksheet of `path`: rows and cells in order, once each, with explicit refs,
    namespaces declared (the package checker on every part, as if all were edited)."""
    pkg = Package(path)
    pkg.changed = set(pkg.parts)
    assert problems(pkg) == []


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """The 小千谷 book's R4 roll and facts, to compare every odd-shaped copy with."""
    d = tmp_path_factory.mktemp("baseline")
    result = rollforward_file(OJIYA, "R4", d / "R4.xlsx")
    return {"changes": changes(result), "facts": facts(OJIYA), "out": d / "R4.xlsx"}


# --- 1. the cell scanner: every shape Excel accepts reads the same ----------------------------

SHAPES = {
    "prefix": C.prefixed,
    "single quotes": C.single_quoted,
    "rows and cells without r": C.without_refs,
    "cells out of order": lambda x: C.swap_cells(C.swap_cells(x, "D16", "E16"), "A18", "J18"),
}


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("where", ["one sheet", "every sheet"])
def test_odd_shapes_read_and_roll_like_the_original(tmp_path, baseline, shape, where):
    parts = (S1,) if where == "one sheet" else ALL_SHEETS
    src = C.edit_sheets(tmp_path / "odd.xlsx", SHAPES[shape], parts)
    assert facts(src) == baseline["facts"]
    out = tmp_path / "odd_R4.xlsx"
    result = rollforward_file(src, "R4", out)
    assert changes(result) == baseline["changes"]  # the change log is the same
    assert_excel_order(out)
    assert facts(out) == facts(baseline["out"])


@pytest.mark.parametrize("shape,parts", [
    ("prefix", ("xl/workbook.xml", "xl/styles.xml", "xl/sharedStrings.xml", *ALL_SHEETS)),
    ("single quotes", ("xl/workbook.xml", "xl/styles.xml", "xl/sharedStrings.xml", "[Content_Types].xml",
                       "xl/_rels/workbook.xml.rels", "_rels/.rels", *ALL_SHEETS)),
])
def test_every_part_in_the_odd_shape(tmp_path, baseline, shape, parts):
    src = C.edit_sheets(tmp_path / "odd.xlsx", SHAPES[shape], parts)
    out = tmp_path / "odd_R4.xlsx"
    result = rollforward_file(src, "R4", out)
    assert changes(result) == baseline["changes"]
    assert_excel_order(out)
    if shape == "prefix":  # written back in the book's own shape
        assert "<x:c " in part(out, sheet_part(out, "01")) and "<c " not in part(out, sheet_part(out, "01"))


def test_odd_shapes_come_out_in_order_with_explicit_refs(tmp_path):
    src = C.edit_sheets(tmp_path / "odd.xlsx", lambda x: C.without_refs(C.swap_cells(x, "D16", "E16")))
    out = tmp_path / "odd_R4.xlsx"
    rollforward_file(src, "R4", out)
    xml = part(out, S1)
    row16 = re.search(r'<row r="16".*?</row>', xml, re.S).group(0)
    refs = re.findall(r'<c r="([A-Z]+)16"', row16)
    assert refs == sorted(refs, key=lambda c: (len(c), c)) and len(refs) == len(set(refs)) == 10
    assert len(re.findall(r"<row\b", xml)) == len(re.findall(r'<row r="\d+"', xml))
    assert len(re.findall(r"<c\b", xml)) == len(re.findall(r'<c r="[A-Z]+\d+"', xml))


def _formula_row(xml: str, cells: dict[str, str]) -> str:
    for ref, cell in cells.items():
        xml = C.set_cell(xml, ref, cell)
    return xml


@pytest.mark.parametrize("cached,uncalculated", [
    ('t="str"><f>IF(E18="","",E18)</f><v></v>', False),      # returned "": calculated (Excel, LibreOffice)
    ('t="str"><f>IF(E18="","",E18)</f><v/>', False),
    ('><f>E18*2</f><v>0.356</v>', False),
    ('t="str"><f>"-"</f><v>-</v>', False),
    ('><f>E18*2</f>', True),                                  # no saved value at all
    ('><f>E18*2</f><v></v>', True),                           # an empty number: never calculated
])
def test_formula_after_a_self_closing_cell(tmp_path, cached, uncalculated):
    """`<c r="C18" s="8"/>` right before the formula in D18 (the 基準値 column): the formula
    is D18's, never C18's, and a saved empty text is a saved value."""
    src = C.edit_sheets(tmp_path / "f.xlsx", lambda x: _formula_row(x, {
        f"D{r}": f'<c r="D{r}" s="10" {cached}</c>'.replace("E18", f"E{r}") for r in (16, 17, 18, 19)}))
    assert '<c r="C18" s="8"/><c r="D18"' in part(src, S1)
    found = [f for f in validate_book(read_book(src)) if f.code == "uncalculated-formula"]
    if uncalculated:
        assert [(f.sheet, f.cell) for f in found] == [("01", "D16")]
        assert "D16、D17、D18、D19" in found[0].message and "C1" not in found[0].message
    else:
        assert found == []


def _rich(text: str) -> str:
    """`text` as rich text with an empty `<t/>` run, an empty run and a phonetic run."""
    half = len(text) // 2
    return (f'<si><r><t/></r><r><rPr><b/></rPr><t xml:space="preserve">{text[:half]}</t></r><r><t></t></r>'
            f'<r><t>{text[half:]}</t></r><rPh sb="0" eb="1"><t>ヨミ</t></rPh></si>')


def test_rich_text_with_an_empty_run(tmp_path):
    """An empty `<t/>` run and a phonetic run in the shared string of a Check text give the
    plain text in the reader, in 前年度評価 and in the change log (never markup)."""
    cell = _analysis_cells()[0].split(":")[0]
    index = int(re.search(rf'<c r="{cell}"[^>]*t="s"[^>]*><v>(\d+)</v>', part(OJIYA, S1)).group(1))
    sst = part(OJIYA, "xl/sharedStrings.xml")
    items = list(re.finditer(r"<si>.*?</si>", sst, re.S))
    from xlsgen.read.cells import shared_strings

    plain = shared_strings(zipfile.ZipFile(OJIYA).read("xl/sharedStrings.xml"))[index]

    def edit(name, text):
        if name != "xl/sharedStrings.xml":
            return text
        m = items[index]
        return text[: m.start()] + _rich(plain) + text[m.end():]

    src = C.edit_parts(OJIYA, tmp_path / "rich.xlsx", edit)
    assert "<t/>" in part(src, "xl/sharedStrings.xml")
    assert facts(src) == facts(OJIYA)
    out = tmp_path / "rich_R4.xlsx"
    result = rollforward_file(src, "R4", out)
    history = [c.value for c in openpyxl.load_workbook(out)[CHECK_HISTORY_SHEET][2]]
    assert plain in history and not any("<" in str(v) or "ヨミ" in str(v) for v in history if v)
    assert any(c.before == plain for c in result.changes)


def test_an_inline_string_with_runs(tmp_path):
    cell = _analysis_cells()[0].split(":")[0]
    inline = C.edit_sheets(tmp_path / "inline.xlsx", lambda x: C.set_cell(
        x, cell, f'<c r="{cell}" s="8" t="inlineStr"><is><r><t/></r><r><t>分析&amp;&lt;本文&gt;</t></r>'
                 '<rPh sb="0" eb="1"><t>ブンセキ</t></rPh></is></c>'))
    out = tmp_path / "inline_R4.xlsx"
    rollforward_file(inline, "R4", out)
    row = [c.value for c in openpyxl.load_workbook(out)[CHECK_HISTORY_SHEET][2]]
    assert "分析&<本文>" in row and not any("ブンセキ" in str(v) for v in row if v)


def _lxml_cells(data: bytes) -> list[tuple]:
    """A reference reader: lxml's tree, namespace-aware (slow, simple, obviously right)."""
    from lxml import etree

    root = etree.fromstring(data)
    ns = root.nsmap.get(None) or next(v for k, v in root.nsmap.items() if v.endswith("/main"))
    q = lambda t: f"{{{ns}}}{t}"  # noqa: E731
    out, r_now = [], 0
    for row in root.iter(q("row")):
        r_now = int(row.get("r")) if row.get("r") else r_now + 1
        col = 0
        for c in row.iter(q("c")):
            from xlsgen.read.cells import split_ref
            rr, col = split_ref(c.get("r")) if c.get("r") else (r_now, col + 1)
            v, f, is_ = c.find(q("v")), c.find(q("f")), c.find(q("is"))
            text = None
            if is_ is not None:
                text = "".join(t.text or "" for t in is_.iter(q("t")) if t.getparent().tag != q("rPh"))
            out.append((rr, col, int(c.get("s") or 0), c.get("t") or "n", None if v is None else (v.text or ""),
                        None if f is None else (f.text or ""), text))
    return out


def _scanned(data: bytes) -> list[tuple]:
    return [tuple(c[:7]) for c in scan_sheet(data).cells()]


def test_scanner_equals_a_tree_reader_on_the_city_books():
    for book in (OJIYA, JOSO):
        with zipfile.ZipFile(book) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/sheet"):
                    data = z.read(name)
                    assert _scanned(data) == _lxml_cells(data), (book.name, name)


_PREFIXES = ["", "x:"]


def _sheet_xml(rows, prefix: str, quote: str, drop_r: bool, ws: str, comment: bool) -> bytes:
    """A worksheet in one of the shapes Excel reads, from [(row, [(col, s, kind, value)])]."""
    from xlsgen.formulas import col_letters

    p = prefix
    decl = f'xmlns{":" + p[:-1] if p else ""}="{C.MAIN_NS}"'
    out = [f"<{p}worksheet {decl}><{p}sheetData>"]
    for r, cells in rows:
        out.append(f"<{p}row" + ("" if drop_r else f" r={quote}{r}{quote}") + ">" + ws)
        for col, s, kind, value in cells:
            ref = "" if drop_r else f" r={quote}{col_letters(col)}{r}{quote}"
            st = f" s={quote}{s}{quote}" if s else ""
            if kind == "empty":
                out.append(f"<{p}c{ref}{st}/>")
            elif kind == "number":
                out.append(f"<{p}c{ref}{st}><{p}v>{value}</{p}v></{p}c>")
            elif kind == "shared":
                out.append(f"<{p}c{ref}{st} t={quote}s{quote}><{p}v>{value}</{p}v></{p}c>")
            elif kind == "formula":
                note = "<!-- n -->" if comment else ""
                out.append(f"<{p}c{ref}{st} t={quote}str{quote}><{p}f>{value}&amp;1</{p}f>{note}<{p}v></{p}v></{p}c>")
            elif kind == "inline":
                out.append(f"<{p}c{ref}{st} t={quote}inlineStr{quote}><{p}is><{p}r><{p}t/></{p}r>"
                           f"<{p}r><{p}t>{value}</{p}t></{p}r></{p}is></{p}c>")
            out.append(ws)
        out.append(f"</{p}row>{ws}")
    out.append(f"</{p}sheetData></{p}worksheet>")
    return "".join(out).encode()


def test_scanner_equals_a_tree_reader_on_generated_sheets():
    """Generated sheets in every shape (prefixes, quotes, missing r, whitespace, comments,
    self-closing, inline strings, entities): the scanner reads what a tree reader reads."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    cell = st.tuples(st.integers(0, 40), st.sampled_from(["empty", "number", "shared", "formula", "inline"]),
                     st.one_of(st.integers(-10**6, 10**6).map(str), st.sampled_from(["a&amp;b", "x", "&#12354;"])))

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.lists(cell, max_size=6), min_size=1, max_size=6), st.sampled_from(_PREFIXES),
           st.sampled_from(['"', "'"]), st.booleans(), st.sampled_from(["", "\n  ", " "]), st.booleans())
    def check(rows, prefix, quote, drop_r, ws, comment):
        data_rows = [(r, [(c, s, k, v) for c, (s, k, v) in enumerate(cells, start=1)])
                     for r, cells in enumerate(rows, start=1)]
        data = _sheet_xml(data_rows, prefix, quote, drop_r, ws, comment)
        assert _scanned(data) == _lxml_cells(data)
        canonical = _scan_canonical(data)  # both passes, positions included, when both apply
        if canonical is not None:
            assert canonical == _scan_expat(data, True)

    check()


def test_the_canonical_passes_agree_with_expat_on_the_city_books():
    from xlsgen.read.cells import _expat_strings, _plain_strings

    for book in (OJIYA, JOSO):
        with zipfile.ZipFile(book) as z:
            sst = z.read("xl/sharedStrings.xml")
            assert _plain_strings(sst) == _expat_strings(sst)
            for name in z.namelist():
                if name.startswith("xl/worksheets/sheet"):
                    data = z.read(name)
                    fast = _scan_canonical(data)
                    assert fast is not None and fast.rows == _scan_expat(data, True).rows, name


# --- 2. roll-forward never destroys -----------------------------------------------------------

CITY_ROWS = C.inline_row(["市の記録", "2021-04-01 更新", "担当"]) + C.inline_row(["本文", "消してはいけない"], 2)


@pytest.mark.parametrize("own", [CHANGE_LOG_SHEET, FORMULA_MAP_SHEET, CHECK_HISTORY_SHEET])
def test_a_city_sheet_named_like_ours_is_never_replaced(tmp_path, own):
    from tests.fidelity_corpus import build

    # a book with formulas (one without gets no 数式一覧 at all)
    base = build("formulas", tmp_path) if own == FORMULA_MAP_SHEET else OJIYA
    src = C.add_sheet(tmp_path / "city.xlsx", own, CITY_ROWS, src=base)
    city_part = sheet_part(src, own)
    before = part(src, city_part)
    out = tmp_path / "city_R4.xlsx"
    result = rollforward_file(src, "R4", out)
    assert part(out, city_part) == before  # the city's sheet, byte for byte
    wb = openpyxl.load_workbook(out)
    assert wb[own]["B2"].value == "消してはいけない"
    moved = f"{own}(2)"
    assert moved in wb.sheetnames and wb[moved]["A1"].value != "市の記録"
    assert any(own in n and moved in n for n in result.notes)
    log = wb[result.change_log]
    assert result.change_log == (f"{CHANGE_LOG_SHEET}(2)" if own == CHANGE_LOG_SHEET else CHANGE_LOG_SHEET)
    assert any(r[0].value == moved and own in str(r[3].value) for r in log.iter_rows(min_row=2))
    lines = invoke("rollforward", src, "--to", "R4", "-o", tmp_path / "cli.xlsx")
    assert lines.exit_code == 0 and "注意: " in lines.output and moved in lines.output
    if own == CHECK_HISTORY_SHEET:  # the reasons name the sheet the texts went to
        assert any(f"「{moved}」シートへ" in c.reason for c in result.changes)


def test_an_empty_city_sheet_is_kept_too_and_a_taken_free_name_is_skipped(tmp_path):
    src = C.add_sheet(tmp_path / "a.xlsx", CHANGE_LOG_SHEET, "")
    src = C.add_sheet(tmp_path / "b.xlsx", f"{CHANGE_LOG_SHEET}(2)", CITY_ROWS, src=src)
    out = tmp_path / "b_R4.xlsx"
    result = rollforward_file(src, "R4", out)
    assert result.change_log == f"{CHANGE_LOG_SHEET}(3)"
    wb = openpyxl.load_workbook(out)
    assert wb[f"{CHANGE_LOG_SHEET}(2)"]["B2"].value == "消してはいけない" and wb[CHANGE_LOG_SHEET].max_row == 1


def test_our_own_sheets_of_last_year_are_still_reused(tmp_path):
    r4 = tmp_path / "R4.xlsx"
    rollforward_file(OJIYA, "R4", r4)
    r5 = tmp_path / "R5.xlsx"
    result = rollforward_file(r4, "R5", r5)
    assert result.notes == [] and result.change_log == CHANGE_LOG_SHEET
    wb = openpyxl.load_workbook(r5)
    assert not [n for n in wb.sheetnames if n.endswith("(2)")]
    assert wb[CHECK_HISTORY_SHEET]["A2"].value == "R3年度版"  # last year's history kept
    assert wb[CHANGE_LOG_SHEET].max_row - 1 == len(result.changes)  # this year's log


def _analysis_cells():
    """The 小千谷 sheet 01's Check blocks as the reader recorded them (A22:E22, F22:J22)."""
    book = read_book(OJIYA)
    first = (getattr(book, "measures", None) or book.sheets)[0]
    return first.cells["check_analysis_block"], first.cells["check_next_block"]


@pytest.mark.parametrize("variant", ["number helper", "text helper", "home cell", "with calc chain"])
def test_a_formula_in_a_cleared_block_is_kept_and_logged(tmp_path, variant):
    """The helper formula beside (inside the range of) a Check block survives, its value is
    not appended to last year's text, and the change log says which cells were kept."""
    a, b = _analysis_cells()
    first, last = a.split(":")
    next_first, next_last = b.split(":")
    cells = {
        "number helper": {last: f'<c r="{last}" s="8"><f>LEN({first})</f><v>123</v></c>'},
        "text helper": {next_last: f'<c r="{next_last}" s="8" t="str"><f>IF({next_first}="","未記入","記入済")</f>'
                                   "<v>記入済</v></c>"},
        "home cell": {first: f'<c r="{first}" s="8" t="str"><f>"分析: "&amp;B3</f><v>分析: 施策</v></c>'},
    }
    cells["with calc chain"] = {**cells["number helper"], **cells["text helper"]}
    src = C.edit_sheets(tmp_path / "helper.xlsx", lambda x: _formula_row(x, cells[variant]))
    if variant == "with calc chain":
        src = _with_calc_chain(src, tmp_path / "chain.xlsx", [last, next_last])
    out = tmp_path / "helper_R4.xlsx"
    result = rollforward_file(src, "R4", out)
    xml = part(out, S1)
    for ref, cell in cells[variant].items():
        formula = re.search(r"<f>(.*?)</f>", cell).group(1)
        assert re.search(rf'<c r="{ref}"[^>]*><f>{re.escape(formula)}</f>', xml), ref
    history = [c.value for c in openpyxl.load_workbook(out)[CHECK_HISTORY_SHEET][2]]
    assert not any(v in ("123", "記入済", "分析: 施策") or (isinstance(v, str) and v.endswith(("\n123", "\n記入済")))
                   for v in history)
    kept = {c.cell for c in result.changes if c.what == KEPT_FORMULA}
    if variant == "home cell":
        assert kept == {first} and any("数式のセル" in n for n in result.notes)
    else:
        assert kept == set()  # a helper beside the text is not even planned
    if variant == "with calc chain":
        chain = part(out, "xl/calcChain.xml")
        formulas = {c.ref for c in scan_sheet(part(out, S1)).cells() if c.f is not None}
        assert set(re.findall(r'<c r="([A-Z]+[0-9]+)"', chain)) <= formulas


def _with_calc_chain(src: Path, dst: Path, refs: list[str]) -> Path:
    chain = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns="{C.MAIN_NS}">'
             + "".join(f'<c r="{r}" i="1"/>' for r in refs) + "</calcChain>")

    def edit(name, text):
        if name == "xl/_rels/workbook.xml.rels":
            return text.replace("</Relationships>", '<Relationship Id="rIdCC" Type="http://schemas.openxmlformats.org/'
                                'officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>')
        if name == "[Content_Types].xml":
            return text.replace("</Types>", '<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.'
                                'openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>')
        return text

    C.edit_parts(src, dst, edit)
    with zipfile.ZipFile(dst, "a") as z:
        z.writestr("xl/calcChain.xml", chain)
    return dst


def test_an_existing_edition_is_never_overwritten(tmp_path):
    out = tmp_path / "R4.xlsx"
    rollforward_file(OJIYA, "R4", out)
    wb = openpyxl.load_workbook(out)
    wb["01"]["F16"] = 12  # the clerk fills the new actual
    wb.save(out)
    before = out.read_bytes()
    res = invoke("rollforward", OJIYA, "--to", "R4", "-o", out)
    assert res.exit_code == 1 and "既にあります" in res.output and "--force" in res.output
    assert out.read_bytes() == before
    with pytest.raises(XlsgenError, match="既にあります"):
        rollforward_file(OJIYA, "R4", out)
    res = invoke("rollforward", OJIYA, "--to", "R4", "-o", out, "--force")
    assert res.exit_code == 0 and out.read_bytes() != before


def test_run_does_not_overwrite_an_edition_the_clerk_filled_in(tmp_path):
    inp, outd = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    (inp / "joso.xlsx").write_bytes(JOSO.read_bytes())
    first = invoke("run", inp, "-o", outd, "--rollforward-to", "R4", "--jobs", "1")
    assert first.exit_code == 0, first.output
    edition = outd / "joso_R4.xlsx"
    wb = openpyxl.load_workbook(edition)
    wb.worksheets[0]["A1"] = "記入済み"
    wb.save(edition)
    filled = edition.read_bytes()
    second = invoke("run", inp, "-o", outd, "--rollforward-to", "R4", "--jobs", "1")
    assert second.exit_code == 0 and "既にあるため書き出しませんでした" in second.output
    assert edition.read_bytes() == filled
    summary = openpyxl.load_workbook(outd / "検証結果.xlsx")
    assert any("edition-exists" in str(c.value) or "既にあるため" in str(c.value)
               for ws in summary.worksheets for row in ws.iter_rows() for c in row)
    third = invoke("run", inp, "-o", outd, "--rollforward-to", "R4", "--jobs", "1", "--force")
    assert third.exit_code == 0 and edition.read_bytes() != filled


def test_the_final_rename_never_replaces_a_file_made_meanwhile(tmp_path):
    from xlsgen.atomic import atomic_path

    target = tmp_path / "x.xlsx"
    with pytest.raises(XlsgenError, match="既にあります"):
        with atomic_path(target, replace=False) as tmp:
            tmp.write_bytes(Path(OJIYA).read_bytes())
            target.write_bytes(b"the clerk's")
    assert target.read_bytes() == b"the clerk's" and [p.name for p in tmp_path.iterdir()] == ["x.xlsx"]


# --- 3. the package edit ------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["swapped cells", "rows out of order", "repeated cell", "repeated row"])
def test_cells_are_written_in_order_once_each(tmp_path, how):
    def rows_swapped(x):
        r16 = re.search(r'<row r="16".*?</row>', x, re.S).group(0)
        r17 = re.search(r'<row r="17".*?</row>', x, re.S).group(0)
        return x.replace(r16 + r17, r17 + r16)

    def repeated_cell(x):  # an earlier copy of F17 with another value: readers take the last
        return x.replace('<c r="F17" s="10"/>', '<c r="F17" s="10"><v>99</v></c><c r="F17" s="10"/>')

    def repeated_row(x):
        return x.replace('<row r="20" customFormat="false"', '<row r="20"></row><row r="20" customFormat="false"')

    edit = {"swapped cells": lambda x: C.swap_cells(x, "E17", "F17"), "rows out of order": rows_swapped,
            "repeated cell": repeated_cell, "repeated row": repeated_row}[how]
    src = C.edit_sheets(tmp_path / "order.xlsx", edit)
    out = tmp_path / "order_R4.xlsx"
    rollforward_file(src, "R4", out)
    assert_excel_order(out)
    refs = re.findall(r'<c r="([A-Z]+[0-9]+)"', part(out, S1))
    assert len(refs) == len(set(refs))
    ws = openpyxl.load_workbook(out)["01"]
    assert ws["F17"].value is None and ws["D16"].value == 3  # the roll's input cell, the kept value


def test_repeated_zip_entries(tmp_path):
    same = C.with_entries(OJIYA, tmp_path / "same.xlsx", [("xl/styles.xml", zipfile.ZipFile(OJIYA).read("xl/styles.xml"))])
    out = tmp_path / "same_R4.xlsx"
    rollforward_file(same, "R4", out)
    names = zipfile.ZipFile(out).namelist()
    assert len(names) == len(set(names))
    other = part(OJIYA, S1).replace("<v>48</v>", "<v>4800</v>").encode()
    differ = C.with_entries(OJIYA, tmp_path / "differ.xlsx", [(S1, other)])
    for args in (["extract", differ], ["validate", differ], ["rollforward", differ, "--to", "R4", "-o", tmp_path / "d.xlsx"],
                 ["audit", differ]):
        res = invoke(*args)
        assert res.exit_code == 1 and "部品 xl/worksheets/sheet1.xml が2つあり内容が違います" in res.output, args
        assert "Traceback" not in res.output and "予期しない" not in res.output
    assert not (tmp_path / "d.xlsx").exists()


@pytest.fixture(scope="module")
def r6(tmp_path_factory) -> Path:
    """The R6 edition of the 小千谷 book: its next roll needs --extend-to."""
    d = tmp_path_factory.mktemp("r6")
    path = OJIYA
    for to in ("R4", "R5", "R6"):
        nxt = d / f"o_{to}.xlsx"
        rollforward_file(path, to, nxt)
        path = nxt
    return path


@pytest.mark.parametrize("edit,words", [
    (lambda x: x.replace("</sheetData>", '<row r="40"><c r="XFD40"><v>1</v></c></row></sheetData>'), "セル XFD40"),
    (lambda x: x.replace("</sheetData>", '<row r="40"><c r="XFB40" s="3"/></row></sheetData>'), "セル XFB40"),
    (lambda x: x.replace("</mergeCells>", '<mergeCell ref="XFC41:XFD41"/></mergeCells>'), "結合セル XFC41:XFD41"),
])
def test_extend_to_never_goes_past_xfd(tmp_path, r6, edit, words):
    src = C.edit_sheets(tmp_path / "far.xlsx", edit, src=r6)
    out = tmp_path / "far_R7.xlsx"
    res = invoke("rollforward", src, "--to", "R7", "--extend-to", "R9", "-o", out)
    assert res.exit_code == 1 and words in res.output and "XFD" in res.output, res.output
    assert "Traceback" not in res.output and not out.exists()


def test_extend_to_refuses_a_formula_reference_pushed_past_xfd(tmp_path, r6):
    src = C.edit_sheets(tmp_path / "ref.xlsx", lambda x: x.replace(
        "</sheetData>", "<row r=\"40\"><c r=\"A40\"><f>'01'!XFC5+1</f><v>1</v></c></row></sheetData>"),
        parts=("xl/worksheets/sheet2.xml",), src=r6)
    res = invoke("rollforward", src, "--to", "R7", "--extend-to", "R9", "-o", tmp_path / "o.xlsx")
    assert res.exit_code == 1 and "XFC5" in res.output and "XFD" in res.output


def test_extend_to_clamps_ranges_that_reach_xfd(tmp_path, r6):
    """Whole-row formats and conditional formats up to XFD stop at XFD, as in Excel."""
    def edit(x):
        x = re.sub(r"(<cols>.*?)(</cols>)", r'\1<col min="20" max="16384" width="9"/>\2', x, count=1, flags=re.S)
        return x.replace("</mergeCells>", '</mergeCells><conditionalFormatting sqref="K3:XFD3 XFC4:XFD4">'
                         '<cfRule type="containsBlanks" priority="9" dxfId="0"><formula>LEN(TRIM(K3))=0</formula>'
                         "</cfRule></conditionalFormatting>", 1)
    src = C.edit_sheets(tmp_path / "wide.xlsx", edit, src=r6)
    out = tmp_path / "wide_R7.xlsx"
    rollforward_file(src, "R7", out, extend_to="R9")
    xml = part(out, S1)  # three columns inserted (R7, R8 before the target moved to R9)
    assert '<col min="23" max="16384" width="9"/>' in xml
    assert 'sqref="N3:XFD3"' in xml  # the end stops at XFD; XFC4:XFD4 moved off the sheet and is gone
    assert_excel_order(out)


@pytest.mark.parametrize("name", ["A1", "R1C1", "TRUE", "My Sheet", "RC", "C5", "1年"])
def test_sheet_names_are_quoted_in_link_locations(tmp_path, name):
    src = C.add_sheet(tmp_path / "q.xlsx", name, '<row r="1"><c r="B1"><f>1+1</f><v>2</v></c></row>')
    out = tmp_path / "q_R4.xlsx"
    rollforward_file(src, "R4", out)
    map_xml = part(out, sheet_part(out, FORMULA_MAP_SHEET))
    locations = re.findall(r'location="([^"]*)"', map_xml)
    quoted = "'" + name + "'!"
    assert any(loc.replace("&apos;", "'").startswith(quoted) for loc in locations), locations


def test_quote_sheet_rules():
    from xlsgen.formulas import quote_sheet

    for name, want in [("Sheet1", "Sheet1"), ("A1", "'A1'"), ("xfd1048576", "'xfd1048576'"), ("R1C1", "'R1C1'"),
                       ("R", "'R'"), ("c", "'c'"), ("RC", "'RC'"), ("R1C", "'R1C'"), ("TRUE", "'TRUE'"),
                       ("false", "'false'"), ("ABCD1", "ABCD1"), ("Data_2", "Data_2"), ("1st", "'1st'"),
                       ("My Sheet", "'My Sheet'"), ("O'Neil", "'O''Neil'"), ("報告", "'報告'")]:
        assert quote_sheet(name) == want, name


def _date_style(parts_xml: str) -> tuple[str, int]:
    """styles.xml with one more cell style showing dates (numFmtId 14); its index."""
    xfs = re.search(r"<cellXfs count=\"(\d+)\">", parts_xml)
    n = int(xfs.group(1))
    new = parts_xml.replace(xfs.group(0), f'<cellXfs count="{n + 1}">', 1)
    new = new.replace("</cellXfs>", '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/>'
                      "</cellXfs>", 1)
    return new, n


@pytest.mark.parametrize("system", ["1904", "1900"])
def test_a_date_stays_a_date(tmp_path, system):
    """A date in a cleared Check block of a 1904-date-system book is a date in 変更履歴 and
    in 前年度評価's text (never a serial number, never four years off)."""
    from xlsgen.package.sheet import to_serial

    day = dt.date(2022, 3, 31)
    serial = to_serial(day, system == "1904")
    a, _ = _analysis_cells()
    first, last = a.split(":")
    styles, idx = _date_style(part(OJIYA, "xl/styles.xml"))

    def edit(name, text):
        if name == "xl/workbook.xml":
            return text.replace('date1904="false"', f'date1904="{"true" if system == "1904" else "false"}"')
        if name == "xl/styles.xml":
            return styles
        if name == S1:
            return C.set_cell(text, first, f'<c r="{first}" s="{idx}"><v>{serial}</v></c>')
        return text

    src = C.edit_parts(OJIYA, tmp_path / "d.xlsx", edit)
    assert openpyxl.load_workbook(src)["01"][first].value.date() == day
    out = tmp_path / "d_R4.xlsx"
    result = rollforward_file(src, "R4", out)
    wb = openpyxl.load_workbook(out)
    log = wb[CHANGE_LOG_SHEET]
    row = next(r for r in log.iter_rows(min_row=2) if r[0].value == "01" and r[1].value == first)
    assert isinstance(row[2].value, dt.datetime) and row[2].value.date() == day
    text = "\n".join(str(c.value) for c in wb[CHECK_HISTORY_SHEET][2] if c.value)
    assert "2022-03-31" in text and str(serial) not in text
    assert any(c.before == day for c in result.changes)


def test_a_date_copied_by_the_roll_keeps_its_day(tmp_path):
    """常総, 1904 date system: a number typed as a date in a Do row that leaves the table goes
    to 過年度実績 as the same day (a date, not a serial, not four years off)."""
    from xlsgen.package.sheet import to_serial

    sheet_name, ref = _joso_leaving_cell(tmp_path)
    day = dt.date(2023, 3, 31)
    styles, idx = _date_style(part(JOSO, "xl/styles.xml"))
    sheet = Package(JOSO).sheets[sheet_name]

    def edit(name, text):
        if name == "xl/workbook.xml":
            return re.sub(r"<workbookPr\b", '<workbookPr date1904="1"', text, count=1) if "date1904" not in text \
                else re.sub(r'date1904="[^"]*"', 'date1904="1"', text)
        if name == "xl/styles.xml":
            return styles
        if name == sheet:
            return C.set_cell(text, ref, f'<c r="{ref}" s="{idx}"><v>{to_serial(day, True)}</v></c>')
        return text

    src = C.edit_parts(JOSO, tmp_path / "j.xlsx", edit)
    out = tmp_path / "j_R4.xlsx"
    rollforward_file(src, "R4", out)
    wb = openpyxl.load_workbook(out)
    assert wb.epoch.year == 1904
    past = wb[PAST_YEARS_SHEET]
    assert any(isinstance(c.value, dt.datetime) and c.value.date() == day for r in past.iter_rows(min_row=2) for c in r)


def _joso_leaving_cell(tmp_path) -> tuple[str, str]:
    """(sheet, cell) of a number in a Do row that leaves the table on the R4 roll (it goes to
    過年度実績), found from a plain roll's 過年度実績 row and its 元の行."""
    out = tmp_path / "plain_R4.xlsx"
    rollforward_file(JOSO, "R4", out)
    row = next(openpyxl.load_workbook(out)[PAST_YEARS_SHEET].iter_rows(min_row=2, values_only=True))
    sheet, number = row[1], int(re.match(r"(\d+)", str(row[-1])).group(1))
    values = [v for v in row[5:9] if isinstance(v, (int, float)) and not isinstance(v, bool)]
    ws = openpyxl.load_workbook(JOSO)[sheet]
    cell = next(c for c in ws[number] if c.value in values and c.value not in (None, ""))
    return sheet, cell.coordinate


def _edited_package(edit) -> Package:
    pkg = Package(OJIYA)
    edit(pkg)
    return pkg


@pytest.mark.parametrize("edit,words", [
    (lambda p: p.put(S1, p.text(S1).replace('<c r="A1"', '<y:c r="A1"', 1).replace("</c>", "</y:c>", 1)),
     "宣言されていない名前空間"),
    (lambda p: p.put(S1, re.sub(r'(<row r="16".*?</row>)(<row r="17".*?</row>)', r"\2\1", p.text(S1), flags=re.S)),
     "行 16 が行 17 の後"),
    (lambda p: p.put(S1, p.text(S1).replace('<c r="B16"', '<c r="A16" s="3"/><c r="B16"', 1)), "重複"),
    (lambda p: p.put(S1, p.text(S1).replace('<c r="J16"', '<c r="XFE16"', 1)), "XFE16"),
    (lambda p: p.put(S1, p.text(S1).replace("</mergeCells>", '<mergeCell ref="B15:D15"/></mergeCells>')), "結合セル"),
    (lambda p: p.put(S1, p.text(S1).replace("<cols>", '<cols><col min="16380" max="16390" width="3"/>', 1)), "XFD"),
    (lambda p: p.put(p.workbook_part, p.text(p.workbook_part).replace('name="02"', 'name="01"')), "重複"),
    (lambda p: p.put("xl/_rels/workbook.xml.rels", p.text("xl/_rels/workbook.xml.rels").replace(
        "</Relationships>", '<Relationship Id="rIdZ" Type="x" Target="worksheets/nothere.xml"/></Relationships>')),
     "nothere.xml"),
    (lambda p: p.put("xl/extra.bin", b"1"), "Content Type"),
])
def test_the_checker_finds_what_excel_would_repair(edit, words):
    found = problems(_edited_package(edit))
    assert any(words in f for f in found), found


def test_the_checker_passes_a_faithful_roll(baseline):
    pkg = Package(baseline["out"])
    pkg.changed = set(pkg.parts)
    assert problems(pkg) == []


def test_a_damaged_edit_is_never_written(tmp_path, monkeypatch):
    """Whatever goes wrong in the edit, an output Excel would repair is refused: exit 1,
    nothing at the output path."""
    from xlsgen.package import sheet as sheet_module

    real = sheet_module.SheetText.apply

    def scrambled(self, cells):
        xml = real(self, cells)
        return re.sub(r'(<row r="15".*?</row>)(<row r="16".*?</row>)', r"\2\1", xml, count=1, flags=re.S)

    monkeypatch.setattr(sheet_module.SheetText, "apply", scrambled)
    out = tmp_path / "bad.xlsx"
    res = invoke("rollforward", OJIYA, "--to", "R4", "-o", out)
    assert res.exit_code == 1 and "Excel の要件を満たさない" in res.output and "行 15 が行 16 の後" in res.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_an_undeclared_prefix_in_any_output_is_refused(tmp_path):
    from xlsgen.atomic import check_well_formed
    from xlsgen.errors import OutputError

    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(OJIYA) as z, zipfile.ZipFile(bad, "w") as w:
        for i in z.infolist():
            data = z.read(i)
            if i.filename == S1:
                data = data.replace(b"<sheetData>", b"<sheetData><q:x/>", 1)
            w.writestr(i, data)
    expat.ParserCreate().Parse(part(bad, S1), True)  # well-formed without namespaces
    with pytest.raises(OutputError, match="部品 xl/worksheets/sheet1.xml"):
        check_well_formed(bad)


def test_libreoffice_opens_the_odd_shaped_outputs(tmp_path, recalc):
    for shape in SHAPES:
        src = C.edit_sheets(tmp_path / f"{shape}.xlsx", SHAPES[shape], ALL_SHEETS)
        out = tmp_path / f"{shape}_R4.xlsx"
        rollforward_file(src, "R4", out)
        back = openpyxl.load_workbook(recalc(out), read_only=True)
        assert {"01", "33", CHECK_HISTORY_SHEET, CHANGE_LOG_SHEET} <= set(back.sheetnames), shape
        back.close()


def test_a_repeated_formula_cell_drops_the_stale_calc_chain(tmp_path):
    """A repeated cell whose first copy holds a formula: the last copy is kept (as readers
    take it), so the formula is gone and calcChain.xml goes with its relationship and type."""
    src = C.edit_sheets(tmp_path / "dup.xlsx", lambda x: x.replace(
        '<c r="F17" s="10"/>', '<c r="F17" s="10"><f>D17*2</f><v>96</v></c><c r="F17" s="10"/>'))
    src = _with_calc_chain(src, tmp_path / "dupchain.xlsx", ["F17"])
    out = tmp_path / "dup_R4.xlsx"
    result = rollforward_file(src, "R4", out)
    names = zipfile.ZipFile(out).namelist()
    assert "xl/calcChain.xml" not in names
    assert "calcChain" not in part(out, "xl/_rels/workbook.xml.rels")
    assert "calcChain" not in part(out, "[Content_Types].xml")
    assert any(c.what == "calcChain.xml を削除" for c in result.changes)
    assert_excel_order(out)


def test_an_input_part_with_an_undeclared_prefix_is_named(tmp_path):
    """A part the roll copies as it is, with an undeclared prefix: the input is at fault and
    the message says what is wrong with which part (nothing written)."""
    src = C.edit_parts(OJIYA, tmp_path / "app.xlsx", lambda name, t: t.replace(
        "</Properties>", "<q:extra>1</q:extra></Properties>") if name == "docProps/app.xml" else t)
    out = tmp_path / "app_R4.xlsx"
    res = invoke("rollforward", src, "--to", "R4", "-o", out)
    assert res.exit_code == 1 and "docProps/app.xml" in res.output and "XML として正しくありません" in res.output
    assert "Traceback" not in res.output and not out.exists()

"""A worksheet as a grid of cached values, number formats and merged ranges.

Values and merges come from python-calamine (fast, cached formula results); number formats
come from the cell scanner's pass over the sheet XML (`xlsgen.read.cells`) plus styles.xml, which is all the reader needs
of styles (units such as 件, and % cells). Every input goes through `safety` first.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine
from defusedxml import ElementTree as DET

from xlsgen.errors import InputFileError
from xlsgen.formulas import cell as a1
from xlsgen.formulas import on_sheet
from xlsgen.model import XLSGEN_SHEETS
from xlsgen.patterns import compile_user
from xlsgen.read.cells import (
    SharedStrings,
    SheetXmlError,
    cell_styles,
    cell_value,
    iter_cells,
    may_hold_formulas,
    scan_sheet,
)
from xlsgen.read.safety import check_workbook_file
from xlsgen.wareki import normalize_text

_BUILTIN_FORMATS = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%",
    11: "0.00E+00", 14: "yyyy-mm-dd", 37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)",
    49: "@",
}
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
MAX_GRID_CELLS = 4_000_000  # rows × columns from A1 to the farthest cell holding something
LARGE_SHEET_BYTES = 2 * 1024 * 1024  # a sheet part this large (uncompressed) is read lazily
HEAD_ROWS = 200  # rows of a large sheet that layout detection looks at
_SPACES = re.compile(r"[\s\u3000]+")


# a clerk's numbering ①…⑳ is a decoration, like (1): NFKC would make 「⑤総事業費」 「5総事業費」
_CIRCLED = {0x2460 + i: f"({i + 1})" for i in range(20)}


def squash(text) -> str:
    """Normalised label text for matching: NFKC, no spaces or line breaks; ①…⑳ become
    (1)…(20), a numbering label matching passes over."""
    if text is None:
        return ""
    return _SPACES.sub("", normalize_text(str(text).translate(_CIRCLED)))


@dataclass
class Grid:
    """One worksheet: zero-based rows and columns, as values, formats and merges."""

    name: str
    rows: list[list] = field(default_factory=list)
    formats: dict[tuple[int, int], str] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    _labels: list[tuple[int, int, str]] | None = field(default=None, repr=False, compare=False)
    # set on the second (third …) sheet of a record grouped over several sheets: every
    # address read from it names its sheet (`'施策1その2'!H8`)
    ref_sheet: str | None = field(default=None, repr=False, compare=False)

    def qualified(self) -> Grid:
        """The same sheet, its addresses written with its name (`'Sheet'!A1`)."""
        return Grid(self.name, self.rows, self.formats, self.merges, self._labels, self.name)

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def value(self, r: int, c: int):
        if 0 <= r < len(self.rows) and 0 <= c < len(self.rows[r]):
            v = self.rows[r][c]
            return None if v == "" else v
        return None

    def text(self, r: int, c: int) -> str:
        v = self.value(r, c)
        return "" if v is None else str(v).strip()

    def anchor_text(self, r: int, c: int) -> str:
        """The text of (r, c), or of the top-left cell of the merged block holding it."""
        m = self.merge_at(r, c)
        return self.text(m[0], m[1]) if m else self.text(r, c)

    def label(self, r: int, c: int) -> str:
        return squash(self.value(r, c))

    def fmt(self, r: int, c: int) -> str | None:
        return self.formats.get((r, c))

    def addr(self, r: int, c: int) -> str:
        return on_sheet(self.ref_sheet, a1(r, c)) if self.ref_sheet else a1(r, c)

    def area(self, r0: int, c0: int, r1: int, c1: int) -> str:
        """A range (`A5:J9`), qualified like `addr` on a grouped record's other sheet."""
        rng = f"{a1(r0, c0)}:{a1(r1, c1)}"
        return on_sheet(self.ref_sheet, rng) if self.ref_sheet else rng

    def merge_at(self, r: int, c: int) -> tuple[int, int, int, int] | None:
        for m in self.merges:
            if m[0] <= r <= m[2] and m[1] <= c <= m[3]:
                return m
        return None

    def value_right(self, r: int, c: int) -> tuple[int, object]:
        """(col, value) of the cell just right of (r, c)'s merged block, even if empty."""
        col = self.right_of(r, c)
        return col, self.value(r, col)

    def right_of(self, r: int, c: int) -> int:
        """The first column right of (r, c)'s merged block."""
        m = self.merge_at(r, c)
        return (m[3] if m else c) + 1

    def below(self, r: int, c: int) -> int:
        m = self.merge_at(r, c)
        return (m[2] if m else r) + 1

    def cells(self):
        """(row, col, value) for every non-empty cell, row by row."""
        for r, row in enumerate(self.rows):
            for c, v in enumerate(row):
                if v != "" and v is not None:
                    yield r, c, v

    def labels(self) -> list[tuple[int, int, str]]:
        """(row, col, squashed text) of every text cell, computed once per sheet."""
        if self._labels is None:
            self._labels = [(r, c, squash(v)) for r, c, v in self.cells() if isinstance(v, str)]
        return self._labels

    def find(self, *patterns, rows: range | None = None) -> list[tuple[int, int]]:
        """Cells whose squashed text matches any pattern (search), top-left first: compiled
        patterns, or strings, which may come from layout files and run with a time budget."""
        regs = [p if hasattr(p, "search") else compile_user(p) for p in patterns]
        return [(r, c) for r, c, text in self.labels()
                if (rows is None or r in rows) and any(rg.search(text) for rg in regs)]

    def first(self, *patterns, rows: range | None = None) -> tuple[int, int] | None:
        found = self.find(*patterns, rows=rows)
        return found[0] if found else None

    def detection_view(self) -> Grid:
        """What layout detection looks at: the whole sheet (see `_SheetGrid` for a large
        sheet, whose top rows only are looked at until a layout reads it)."""
        return self

    @property
    def head_only(self) -> bool:
        """True when `detection_view()` is the top of the sheet, not all of it."""
        return False


class _SheetGrid(Grid):
    """A worksheet loaded when first used: its name is known at once, its values, formats
    and merges only when a reader asks for them, so a sheet no layout reads is never
    loaded. A large sheet (part over LARGE_SHEET_BYTES) shows detection only its first
    HEAD_ROWS rows (`detection_view`), read from the start of its XML."""

    def __init__(self, owner: WorkbookGrids, name: str):  # noqa: D107 - no dataclass init
        self.name = name
        self._labels = None
        self._owner = owner
        self._head: Grid | None = None

    def __getattr__(self, attr: str):
        if attr in ("rows", "formats", "merges"):
            full = self._owner._full(self.name)
            self.rows, self.formats, self.merges = full.rows, full.formats, full.merges
            return self.__dict__[attr]
        raise AttributeError(attr)

    @property
    def head_only(self) -> bool:
        return "rows" not in self.__dict__ and self._owner.is_large(self.name)

    def detection_view(self) -> Grid:
        if not self.head_only:
            return self
        if self._head is None:
            self._head = self._owner._head(self.name)
        return self._head


_RECALC_ON_LOAD = re.compile(rb"<(?:\w+:)?calcPr\b[^>]*\bfullCalcOnLoad\s*=\s*[\"'](?:1|true)[\"']")


class WorkbookGrids:
    """Opens an input workbook once; its sheets as Grids, in workbook order, each loaded
    only when a reader uses it (a sheet no layout reads costs nothing).

    `progress(n, m, sheet)`, when given, is called as sheet n of the workbook's m sheets
    is loaded (or its top rows looked at), so a front end can show a big book's read moving.
    """

    def __init__(self, path: str | Path, progress=None):
        self.path = Path(path)
        check_workbook_file(self.path)
        try:
            self._book = python_calamine.CalamineWorkbook.from_path(str(self.path))
        except Exception as exc:  # calamine raises its own error types
            raise InputFileError(f"ブックを開けません（{exc}）", str(self.path)) from None
        self.sheet_names: list[str] = list(self._book.sheet_names)
        if not self.sheet_names:
            raise InputFileError("シートがありません", str(self.path))
        self._zip = zipfile.ZipFile(self.path)
        self._xf_formats = self._read_styles()
        self._parts = self._sheet_parts()
        self._cache: dict[str, Grid] = {}
        self._lazy: dict[str, _SheetGrid] = {}
        self._progress = progress

    def close(self) -> None:
        self._zip.close()
        self._book.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def grid(self, name: str) -> Grid:
        """The sheet `name`, loaded now."""
        return self._full(name)

    def _full(self, name: str) -> Grid:
        if name not in self._cache:
            self._report(name)
            self._cache[name] = self._load(name)
        return self._cache[name]

    def _report(self, name: str) -> None:
        if self._progress is not None:
            self._progress(self.sheet_names.index(name) + 1, len(self.sheet_names), name)

    def _load(self, name: str) -> Grid:
        formats = self._formats(name)  # also checks the real extent before calamine sees it
        try:
            sheet = self._book.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            merges = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
        except Exception as exc:
            raise InputFileError(f"シート「{name}」を読めません（{exc}）", str(self.path)) from None
        return Grid(name, rows, formats, merges)

    def grids(self):
        """The workbook's sheets in order, without the sheets xlsgen itself adds
        (history, change log, formula map), which no reader should take for input. Each
        is loaded when a reader first uses its cells."""
        for name in self.sheet_names:
            if name not in XLSGEN_SHEETS:
                if name not in self._lazy:
                    self._lazy[name] = _SheetGrid(self, name)
                yield self._lazy[name]

    # -- large sheets: detection sees the top rows only --------------------------------

    def sheet_bytes(self, name: str) -> int:
        """The uncompressed size of the sheet's part (from the zip directory: free)."""
        part = self._parts.get(name)
        try:
            return self._zip.getinfo(part).file_size if part else 0
        except KeyError:
            return 0

    def is_large(self, name: str) -> bool:
        return self.sheet_bytes(name) > LARGE_SHEET_BYTES

    def _head(self, name: str) -> Grid:
        """The first HEAD_ROWS rows of a large sheet, values only, from the start of its XML
        (the rest of the part is never decompressed): the XML up to the end of row
        HEAD_ROWS, closed where it was cut, read by the cell scanner. A start that does not
        read that way (a comment or CDATA cut open) gives the whole sheet."""
        self._report(name)
        chunks, ends = [], 0
        with self._zip.open(self._parts[name]) as fh:
            while ends < HEAD_ROWS:
                chunk = fh.read(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
                ends += chunk.count(b"row>")  # </row>, </x:row> (and <row>: read on)
        data = b"".join(chunks)
        head = _closed_head(data)
        if head is None:
            return self._full(name)
        part = self._shared_strings_part()
        try:
            with (self._zip.open(part) if part and part in self._zip.NameToInfo else _empty()) as fh:
                # streamed: the table is decompressed only as far as the strings on top need
                sst = SharedStrings(stream=fh)
                rows: list[list] = []
                for c in scan_sheet(head).cells():
                    if c.row > HEAD_ROWS:
                        continue
                    value = cell_value(c, sst)
                    if value is None or value == "":
                        continue
                    while len(rows) < c.row:
                        rows.append([])
                    row = rows[c.row - 1]
                    if len(row) < c.col:
                        row.extend([""] * (c.col - len(row)))
                    row[c.col - 1] = value
        except SheetXmlError:
            return self._full(name)  # the full read names what is wrong
        return Grid(name, rows)

    def _shared_strings_part(self) -> str | None:
        try:
            rels = DET.fromstring(self._zip.read("xl/_rels/workbook.xml.rels"))
        except Exception:  # noqa: BLE001 - no table: text cells read as empty
            return None
        for r in rels.iterfind("rel:Relationship", _NS):
            if (r.get("Type") or "").endswith("/sharedStrings"):
                target = r.get("Target") or ""
                return target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join("xl", target))
        return None

    # -- styles: number formats per cell ------------------------------------------------

    def _read_styles(self) -> list[str]:
        try:
            root = DET.fromstring(self._zip.read("xl/styles.xml"))
        except KeyError:
            return []
        except Exception:
            raise InputFileError("書式情報（styles.xml）が壊れています", str(self.path)) from None
        custom = {int(n.get("numFmtId")): n.get("formatCode")
                  for n in root.iterfind("m:numFmts/m:numFmt", _NS)}
        out = []
        for xf in root.iterfind("m:cellXfs/m:xf", _NS):
            fid = int(xf.get("numFmtId", 0))
            out.append(custom.get(fid) or _BUILTIN_FORMATS.get(fid, "General"))
        return out

    def _sheet_parts(self) -> dict[str, str]:
        return sheet_parts(self._zip)

    def _formats(self, name: str) -> dict[tuple[int, int], str]:
        """Number formats per cell, from one pass of the cell scanner over the sheet XML
        (`xlsgen.read.cells`); the same pass finds the farthest cell holding something (the
        `<dimension>` may lie) and refuses a sheet whose grid from A1 to it exceeds
        MAX_GRID_CELLS, before any allocation."""
        part = self._parts.get(name)
        if not part:
            return {}
        try:
            xml = self._zip.read(part)
        except KeyError:
            return {}
        try:
            cells = cell_styles(xml)
        except SheetXmlError as exc:
            raise InputFileError(f"シート「{name}」を読めません（{exc}）", str(self.path)) from None
        out = {}
        far_row = far_col = 0
        formats, n = self._xf_formats, len(self._xf_formats)
        for row, col, s, held in cells:
            if held:
                if row > far_row:
                    far_row = row
                if col > far_col:
                    far_col = col
            if s and s < n and formats[s] != "General":
                out[(row - 1, col - 1)] = formats[s]
        if far_row * far_col > MAX_GRID_CELLS:
            far = next(a1(r - 1, c - 1) for r, c, _, held in cells
                       if held and (r == far_row or c == far_col))
            raise InputFileError(
                f"シート「{name}」の {far} に値があり、読み取る範囲（{far_row:,} 行 × {far_col:,} 列）が"
                f"上限（{MAX_GRID_CELLS:,} セル）を超えます。離れたセルの値を削除して保存し直してください",
                str(self.path))
        return out



def _empty():
    import io

    return io.BytesIO(b"")


_ROW_END = re.compile(rb"</(?:[^\s/>:]+:)?row\s*>|<(?:[^\s/>:]+:)?row\b[^<>]*/>")
_OPEN = re.compile(rb"<((?:[^\s/>:!?]+:)?)(worksheet|sheetData)\b")


def _closed_head(data: bytes) -> bytes | None:
    """The start of a sheet part up to its last complete row, with its `sheetData` and
    root element closed again (a well-formed part of the rows it holds), or None when the
    start holds no sheetData."""
    opened = {m.group(2): m.group(1) for m in _OPEN.finditer(data[: 1 << 20])}
    if b"worksheet" not in opened or b"sheetData" not in opened:
        return None
    cut = None
    for m in _ROW_END.finditer(data):
        cut = m
    if cut is None:
        return None
    return (data[: cut.end()] + b"</" + opened[b"sheetData"] + b"sheetData></" +
            opened[b"worksheet"] + b"worksheet>")


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Each worksheet's name → its part in the package (`xl/worksheets/sheet1.xml`), in
    workbook order; {} when workbook.xml or its relationships cannot be read."""
    try:
        wb = DET.fromstring(zf.read("xl/workbook.xml"))
        rels = DET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except Exception:  # noqa: BLE001 - the reader reports broken parts itself
        return {}
    targets = {r.get("Id"): r.get("Target") for r in rels.iterfind("rel:Relationship", _NS)}
    parts = {}
    for s in wb.iterfind("m:sheets/m:sheet", _NS):
        target = targets.get(s.get(f"{{{_NS['r']}}}id"), "") or ""
        parts[s.get("name")] = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join("xl", target))
    return parts


def sheet_xml(zf: zipfile.ZipFile, sheets=None):
    """(name, XML bytes) of each worksheet present in the package, in workbook order (only
    those named in `sheets` when given)."""
    for name, part in sheet_parts(zf).items():
        if sheets is not None and name not in sheets:
            continue
        try:
            yield name, zf.read(part)
        except KeyError:
            continue


def saved_results_stale(path: str | Path, sheets=None) -> dict[str, set[str]]:
    """When the book asks to be recalculated on opening (calcPr fullCalcOnLoad, as a package
    edit or a program leaves it), its formula cells by sheet name — their saved results may
    be from before the last edit; {} for a book Excel calculated and saved.
    `sheets`: only these sheets are opened."""
    out: dict[str, set[str]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            if not _RECALC_ON_LOAD.search(zf.read("xl/workbook.xml")):
                return {}
            for name, xml in sheet_xml(zf, sheets):
                if not may_hold_formulas(xml):
                    continue
                try:
                    cells = {c.ref for c in iter_cells(xml) if c.f is not None}
                except SheetXmlError:
                    continue
                if cells:
                    out[name] = cells
    except (KeyError, OSError, zipfile.BadZipFile):
        return {}
    return out


def uncached_formulas(path: str | Path, sheets=None) -> dict[str, set[str]]:
    """Formula cells without a saved result by sheet name, as A1 addresses: the book was
    written by a program and never calculated, so every reader sees those cells empty.
    A saved empty text (`t="str"`, the formula returned "") is a result (`Cell.calculated`).
    `sheets`: only these sheets are opened."""
    out: dict[str, set[str]] = {}
    with zipfile.ZipFile(path) as zf:
        for name, xml in sheet_xml(zf, sheets):
            if not may_hold_formulas(xml):
                continue
            try:
                cells = {c.ref for c in iter_cells(xml) if c.f is not None and not c.calculated}
            except SheetXmlError:
                continue  # the grid reports a broken sheet by name
            if cells:
                out[name] = cells
    return out

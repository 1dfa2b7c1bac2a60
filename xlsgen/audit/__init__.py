"""Formula audit of any .xlsx: an inventory of every formula and findings a reviewer acts on.

    result = audit_workbook("book.xlsx")   # raises InputFileError on unsafe/broken files
    result.findings, result.formulas, result.groups, result.to_dict(), result.to_text()

The file is checked by `xlsgen.read.safety.check_workbook_file`, then read once with
openpyxl; the saved results of formula cells are kept during that same parse (or, on an
openpyxl without the hooks, read by a regex pass over the sheet XML). Each distinct formula
pattern is tokenized once. Nothing is written.

Finding codes (stable; severity in brackets):

| code               | severity | meaning                                                          |
|--------------------|----------|------------------------------------------------------------------|
| error-value        | error    | #REF!, #DIV/0!, #NAME?, #VALUE!, #NUM!, #NULL! in the formula or  |
|                    |          | its cached result (only where the error starts), a missing sheet |
|                    |          | or undefined name, an unreadable formula; cached #N/A: warning   |
| circular-reference | error    | the cell is part of a reference cycle                            |
| unknown-function   | error    | a function neither Excel nor LibreOffice knows                   |
| pattern-break      | warning  | differs from identical row/column neighbours, or a number typed  |
|                    |          | between two identical formulas                                   |
| hardcoded-number   | warning  | a number inside a formula other than 0, 1, 12, 100, 1000 (and    |
|                    |          | structural arguments such as ROUND digits, VLOOKUP column);      |
|                    |          | once per pattern group, at its first cell                        |
| empty-reference    | warning  | a single-cell reference to an empty cell (not an unlocked input cell of a protected sheet, left for the clerk) |
| text-number        | warning  | a number stored as text that a formula reads (at the text cell)  |
| unlocked-formula   | warning  | a formula cell left unlocked on a protected sheet                |
| unused-input       | warning  | a number no formula reads, beside numbers formulas do read       |
|                    |          | (whole numbers 1900–2100 are taken for year labels)              |
| hidden-formula     | warning  | a hidden sheet, row or column holding formulas or cells read by  |
|                    |          | formulas (one finding per sheet, row or column)                  |
| missing-cache      | warning  | no formula on the sheet has a saved result (never recalculated); |
|                    |          | one finding per sheet                                            |
| name-ref-error     | error    | a defined name whose reference is #REF! (its cells were deleted)  |
| external-link      | warning  | a link to another workbook: each externalLink part (with its     |
|                    |          | file), each defined name and each formula reading `[n]Sheet!A1`  |
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from pathlib import Path

from xlsgen.audit.inventory import FormulaCell, Group, Inventory, compress_cells
from xlsgen.errors import InputFileError
from xlsgen.model import Finding, Severity

SEVERITY_JA = {Severity.ERROR: "エラー", Severity.WARNING: "警告"}


@dataclass
class AuditResult:
    file: str
    sheets: list[str]
    formulas: list[FormulaCell]
    groups: list[Group]
    findings: list[Finding]

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)

    def counts(self) -> dict[str, int]:
        return {s.value: sum(f.severity is s for f in self.findings) for s in Severity}

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "formulas": len(self.formulas),
            "patterns": len(self.groups),
            "sheets": len(self.sheets),
            "summary": self.counts(),
            "findings": [{"severity": f.severity.value, "code": f.code, "sheet": f.sheet,
                          "cell": f.cell, "message": f.message} for f in self.findings],
            "inventory": [{"sheet": f.sheet, "cell": f.cell, "formula": f.formula,
                           "reads": [a.text for a in f.areas], "names": f.names,
                           "read_by": f.read_by, "pattern": f.group} for f in self.formulas],
            "groups": [{"pattern": g.id, "sheet": g.sheet, "cells": g.ranges, "count": len(g.cells),
                        "sheets": {sheet: compress_cells(cells) for sheet, cells in g.by_sheet.items()},
                        "formula": g.formula, "r1c1": g.r1c1} for g in self.groups],
        }

    def to_text(self) -> str:
        c = self.counts()
        lines = [f"監査: {self.file}",
                 f"数式 {len(self.formulas)} 個（パターン {len(self.groups)} 種類、シート {len(self.sheets)} 枚）",
                 f"エラー {c['error']} 件、警告 {c['warning']} 件"]
        if self.findings:
            lines.append("")
        for f in self.findings:
            where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or f.cell or "ブック")
            lines.append(f"[{SEVERITY_JA[f.severity]}] {f.code}  {where}  {f.message}")
        if self.groups:
            lines += ["", "数式のパターン:"]
            for g in self.groups:
                where = f"{g.sheet}!{g.ranges}" if len(g.by_sheet) == 1 else g.ranges
                lines.append(f"  {g.id:>4}  {where}（{len(g.cells)} セル）  {g.formula}")
        return "\n".join(lines)


def load_inventory(path: str | Path, checked: bool = False) -> Inventory:
    """Check the file (unless the reader has, `checked`), open it for formulas and for
    cached values, build the inventory."""
    from xlsgen.read.safety import check_workbook_file

    if not checked:
        check_workbook_file(path)
    import openpyxl

    try:
        with warnings.catch_warnings(), _merges_without_borders(), _saved_results() as saved:
            warnings.simplefilter("ignore")  # openpyxl warns on extensions it drops
            wb = openpyxl.load_workbook(path)
        cached = {ws.title: saved[ws] for ws in wb.worksheets if ws in saved} \
            if saved is not None else cached_formula_values(path)
    except Exception as exc:  # noqa: BLE001 - any parser failure is a broken input
        raise InputFileError(f"ブックを読み取れませんでした（{type(exc).__name__}）", str(path)) from None
    inv = Inventory(wb, cached)
    inv.raw_names = defined_names(path)
    return inv


def defined_names(path) -> list[tuple[str, str | None, str]]:
    """(name, the sheet of a local name or None, reference text) of every defined name as
    workbook.xml stores it, print areas and print titles included (openpyxl turns those into
    sheet settings and drops what it cannot parse, such as `Sheet1!#REF!`)."""
    import posixpath
    import zipfile

    from defusedxml import ElementTree as DET

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel = "{http://schemas.openxmlformats.org/package/2006/relationships}"
    try:
        with zipfile.ZipFile(path) as zf:
            target = "xl/workbook.xml"
            for r in DET.fromstring(zf.read("_rels/.rels")).iter(f"{rel}Relationship"):
                if r.get("Type", "").endswith("/officeDocument"):
                    target = posixpath.normpath(r.get("Target", target).lstrip("/"))
            root = DET.fromstring(zf.read(target))
    except Exception:  # noqa: BLE001 - openpyxl already read the book; nothing more to say
        return []
    sheets = [s.get("name") for s in root.iter(f"{main}sheet")]
    out = []
    for dn in root.iter(f"{main}definedName"):
        local = dn.get("localSheetId")
        scope = sheets[int(local)] if local is not None and local.isdigit() and int(local) < len(sheets) else None
        out.append((dn.get("name") or "", scope, dn.text or ""))
    return out


def cached_formula_values(path) -> dict[str, dict[tuple[int, int], object]]:
    """Saved results of formula cells by sheet and (row, col), from the cell scanner's pass
    over each sheet's XML (`xlsgen.read.cells`; a second openpyxl load would cost as much as
    the first). Numbers, text, booleans and error values (#REF! …) as openpyxl gives them; a
    formula without a saved result is absent (an empty text result is "")."""
    import zipfile

    from xlsgen.read.cells import cell_value, iter_cells, may_hold_formulas
    from xlsgen.read.grid import sheet_xml

    out: dict[str, dict[tuple[int, int], object]] = {}
    with zipfile.ZipFile(path) as zf:
        for name, xml in sheet_xml(zf):
            values = out[name] = {}
            if not may_hold_formulas(xml):
                continue
            for c in iter_cells(xml):
                if c.f is None or not c.calculated:
                    continue
                value = cell_value(c, [])
                values[(c.row, c.col)] = "" if value is None else value
    return out


def _cached_values(values_wb) -> dict[str, dict[tuple[int, int], object]]:
    """Cached results by sheet and (row, col), read in openpyxl's fast read-only mode."""
    out = {}
    for ws in values_wb.worksheets:
        out[ws.title] = {(c.row, c.column): c.value for row in ws.iter_rows()
                         for c in row if getattr(c, "value", None) is not None}
    values_wb.close()
    return out


@contextlib.contextmanager
def _saved_results():
    """Keep each formula cell's saved result while openpyxl parses the sheet for formulas,
    so no second pass over the file is needed. Yields {worksheet: {(row, col): value}}, or
    None when this openpyxl does not have the hooks (then `cached_formula_values` is used)."""
    try:
        from openpyxl.worksheet._reader import (
            VALUE_TAG,
            WorkSheetParser,
            WorksheetReader,
            _cast_number,
        )
        original_cell, original_bind = WorkSheetParser.parse_cell, WorksheetReader.bind_cells
    except (ImportError, AttributeError):
        yield None
        return
    saved: dict = {}

    def parse_cell(self, element):
        cell = original_cell(self, element)
        store = getattr(self, "_xlsgen_saved", None)
        if store is not None and cell["data_type"] == "f":
            text = element.findtext(VALUE_TAG)
            kind = element.get("t", "n")
            if text == "" and kind == "str":  # the formula returned "": a saved result
                store[(cell["row"], cell["column"])] = ""
            elif text:
                if kind == "b":
                    value = text.strip() in ("1", "true")
                elif kind in ("str", "e", "inlineStr"):
                    value = text
                else:
                    try:
                        value = _cast_number(text)
                    except ValueError:
                        value = text
                store[(cell["row"], cell["column"])] = value
        return cell

    def bind_cells(self):
        self.parser._xlsgen_saved = saved[self.ws] = {}
        return original_bind(self)

    WorkSheetParser.parse_cell, WorksheetReader.bind_cells = parse_cell, bind_cells
    try:
        yield saved
    finally:
        WorkSheetParser.parse_cell, WorksheetReader.bind_cells = original_cell, original_bind


@contextlib.contextmanager
def _merges_without_borders():
    """Load merged ranges without openpyxl redrawing their borders cell by cell, which the
    audit never looks at and which costs seconds on a report with a thousand merges."""
    from openpyxl.cell.cell import MergedCell
    from openpyxl.worksheet.worksheet import Worksheet

    original = Worksheet._clean_merge_range

    def clean(self, mcr):
        cells = mcr.cells
        next(cells)
        for row, col in cells:
            self._cells[row, col] = MergedCell(self, row, col)

    Worksheet._clean_merge_range = clean
    try:
        yield
    finally:
        Worksheet._clean_merge_range = original


def audit_inventory(inv: Inventory, file: str = "") -> AuditResult:
    from xlsgen.audit.rules import RULES

    order = {name: i for i, name in enumerate(inv.sheets)}
    findings = [f for rule in RULES for f in rule(inv)]
    for f in findings:
        f.file = file
    findings.sort(key=lambda f: (f.severity is not Severity.ERROR, order.get(f.sheet, 0),
                                 _row_col(f.cell), f.code))
    return AuditResult(file, inv.sheets, list(inv.formulas.values()), inv.groups, findings)


def audit_workbook(path: str | Path, checked: bool = False) -> AuditResult:
    """Audit one workbook file. Raises InputFileError (Japanese) on unsafe or broken files
    (`checked`: the reader of this request has run the safety checks on it already)."""
    with _no_gc():
        inv = load_inventory(path, checked)
        try:
            return audit_inventory(inv, str(path))
        finally:
            _release(inv.wb)


def _release(wb) -> None:
    """Drop the loaded workbook's cells now, while the collector is off: sheets, cells and
    workbook point at each other, so left alone they would wait for the next full
    collection, which walks the whole heap (0.4 s after auditing 100,000 cells)."""
    for ws in getattr(wb, "worksheets", []):
        cells = getattr(ws, "_cells", None)
        if isinstance(cells, dict):
            cells.clear()


@contextlib.contextmanager
def _no_gc():
    """The audit builds millions of small objects and frees none until it ends; the cyclic
    collector would rescan the whole heap over and over (half the audit's time)."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # everything allocated meanwhile sits in the youngest generation: move it to the
        # oldest in O(1) (freeze + unfreeze), or the next collection would walk it all
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


def _row_col(cell: str | None) -> tuple[int, int]:
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    if not cell:
        return (0, 0)
    col, row = coordinate_from_string(cell)
    return (row, column_index_from_string(col))

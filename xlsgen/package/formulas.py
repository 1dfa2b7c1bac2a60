"""The formulas of a package's worksheets as the formula inventory reads them, without an
openpyxl load of the workbook: a roll-forward lists the input's formulas (数式一覧) from the
package it already holds.

`FormulaBook(pkg, skip)` looks like the part of openpyxl's Workbook that
`xlsgen.audit.inventory.Inventory` uses: `worksheets` (title, `_cells` with `value` and
`data_type`, `max_row`, `max_column`, sheet-scoped `defined_names`), `defined_names`,
`sheetnames` and `wb[title]`. Cells come from the one cell scanner (`xlsgen.read.cells`,
the roll's own scan of each sheet) and are read as openpyxl reads them: a formula cell's
value is `=` + its text (a shared formula's followers translated from the first cell of the
group, an array formula as an ArrayFormula), every `<c>` element is a cell (so a sheet's
extent is openpyxl's), defined names reserved by Excel (`_xlnm.…`) are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xlsgen.package.ooxml import NS_MAIN, Package, parse
from xlsgen.read.cells import Cell, SheetScan, cell_value

# the `<f>` start tag inside one `<c>` element the scanner located (its attributes only)
_F_TAG = re.compile(rb"""<(?:[^\s/>:]+:)?f((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*/?>""")
_ATTR = re.compile(r"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


@dataclass
class _Cell:
    value: object
    data_type: str = "n"


@dataclass
class _Name:
    name: str
    attr_text: str


@dataclass
class FormulaSheet:
    title: str
    _cells: dict = field(default_factory=dict)
    defined_names: dict = field(default_factory=dict)

    @property
    def max_row(self) -> int:
        return max((r for r, _ in self._cells), default=1)

    @property
    def max_column(self) -> int:
        return max((c for _, c in self._cells), default=1)


class FormulaBook:
    """The worksheets of `pkg` with their cells and formulas (sheets named in `skip` left
    out: a large sheet the roll never opens)."""

    def __init__(self, pkg: Package, skip=()):
        from xlsgen.package.apply import Workbook

        wb = Workbook(pkg)
        kinds = {t: typ for _, typ, t, _ in pkg.rels(pkg.workbook_part)}
        self.worksheets: list[FormulaSheet] = []
        order: list[str] = []  # every sheet (chartsheets too), for localSheetId
        for name, part in pkg.sheets.items():
            order.append(name)
            if not kinds.get(part, "").endswith("/worksheet") or name in skip or part not in pkg.parts:
                continue
            data, scan = wb.scan(name)
            self.worksheets.append(_read_sheet(name, data, scan, wb.sst))
        self._by_title = {ws.title: ws for ws in self.worksheets}
        self.defined_names: dict[str, _Name] = {}
        for dn in parse(pkg.parts[pkg.workbook_part]).iter(f"{{{NS_MAIN}}}definedName"):
            name, text, local = dn.get("name") or "", dn.text or "", dn.get("localSheetId")
            if local is None:
                self.defined_names[name] = _Name(name, text)
            elif not name.startswith("_xlnm.") and local.isdigit() and int(local) < len(order):
                sheet = self._by_title.get(order[int(local)])
                if sheet is not None:
                    sheet.defined_names[name] = _Name(name, text)

    @property
    def sheetnames(self) -> list[str]:
        return [ws.title for ws in self.worksheets]

    def __getitem__(self, title: str) -> FormulaSheet:
        return self._by_title[title]


def _f_attrs(data: bytes, c: Cell) -> dict[str, str]:
    """The attributes of the `<f>` of a formula cell (t="shared" si, t="array" ref …)."""
    m = _F_TAG.search(data, c.start, c.end) if c.start >= 0 else None
    if m is None or not m.group(1):
        return {}
    return {a.group(1): a.group(2) if a.group(2) is not None else a.group(3)
            for a in _ATTR.finditer(m.group(1).decode("utf-8"))}


def _read_sheet(title: str, data: bytes, scan: SheetScan, sst) -> FormulaSheet:
    from openpyxl.formula.translate import Translator
    from openpyxl.worksheet.formula import ArrayFormula

    ws = FormulaSheet(title)
    shared: dict[str, Translator] = {}
    for c in scan.cells():
        if c.f is None:
            ws._cells[(c.row, c.col)] = _Cell(cell_value(c, sst))
            continue
        fattrs = _f_attrs(data, c)
        value = "=" + c.f
        kind = fattrs.get("t")
        if kind == "array":
            value = ArrayFormula(ref=fattrs.get("ref"), text=value)
        elif kind == "shared":
            si = fattrs.get("si")
            if si in shared:
                value = shared[si].translate_formula(c.ref)
            elif value != "=":
                shared[si] = Translator(value, c.ref)
        ws._cells[(c.row, c.col)] = _Cell(value, "f")
    return ws

"""The formulas of a package's worksheets as the formula inventory reads them, without an
openpyxl load of the workbook: a roll-forward lists the input's formulas (数式一覧) from the
package it already holds.

`FormulaBook(pkg, skip)` looks like the part of openpyxl's Workbook that
`xlsgen.audit.inventory.Inventory` uses: `worksheets` (title, `_cells` with `value` and
`data_type`, `max_row`, `max_column`, sheet-scoped `defined_names`), `defined_names`,
`sheetnames` and `wb[title]`. Cells are read as openpyxl reads them: a formula cell's value
is `=` + its text (a shared formula's followers translated from the first cell of the
group, an array formula as an ArrayFormula), every `<c>` element is a cell (so a sheet's
extent is openpyxl's), defined names reserved by Excel (`_xlnm.…`) are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xlsgen.package.ooxml import NS_MAIN, Package, parse
from xlsgen.package.sheet import _CELL, _R, SharedStrings, _value, split_addr

_F = re.compile(r"<(?:\w+:)?f\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_ATTR = re.compile(r'\s(\w+)="([^"]*)"')
_ENTITY = re.compile(r"&(?:#(x?)([0-9A-Fa-f]+)|(lt|gt|quot|apos|amp));")
_NAMED = {"lt": "<", "gt": ">", "quot": '"', "apos": "'", "amp": "&"}


def _unxml(text: str) -> str:
    """XML character references and entities decoded (the formula text as a parser gives
    it; `_xHHHH_` stays as written, as openpyxl leaves it)."""
    if "&" not in text:
        return text
    return _ENTITY.sub(lambda m: _NAMED[m.group(3)] if m.group(3) else
                       chr(int(m.group(2), 16 if m.group(1) else 10)), text)


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
        sst = wb.sst
        kinds = {t: typ for _, typ, t, _ in pkg.rels(pkg.workbook_part)}
        self.worksheets: list[FormulaSheet] = []
        order: list[str] = []  # every sheet (chartsheets too), for localSheetId
        for name, part in pkg.sheets.items():
            order.append(name)
            if not kinds.get(part, "").endswith("/worksheet") or name in skip or part not in pkg.parts:
                continue
            self.worksheets.append(_read_sheet(name, pkg.text(part), sst))
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


def _read_sheet(title: str, xml: str, sst: SharedStrings) -> FormulaSheet:
    from openpyxl.formula.translate import Translator
    from openpyxl.worksheet.formula import ArrayFormula

    ws = FormulaSheet(title)
    shared: dict[str, Translator] = {}
    start = max(xml.find("sheetData"), 0)
    for m in _CELL.finditer(xml, start):
        attrs, body = m.group(1), m.group(2)
        r = _R.search(attrs)
        if r is None:
            continue
        addr = r.group(1)
        row, col = split_addr(addr)
        f = _F.search(body) if body and "f" in body else None
        if f is None:
            ws._cells[(row, col)] = _Cell(_value(attrs, body, sst))
            continue
        fattrs = dict(_ATTR.findall(f.group(1)))
        value = "=" + _unxml(f.group(2) or "")
        kind = fattrs.get("t")
        if kind == "array":
            value = ArrayFormula(ref=fattrs.get("ref"), text=value)
        elif kind == "shared":
            si = fattrs.get("si")
            if si in shared:
                value = shared[si].translate_formula(addr)
            elif value != "=":
                shared[si] = Translator(value, addr)
        ws._cells[(row, col)] = _Cell(value, "f")
    return ws

"""The formula inventory of a workbook: every formula cell with the cells and defined names
it reads (resolved), who reads each cell, and groups of cells sharing one R1C1 pattern."""

from __future__ import annotations

import bisect
import heapq
from collections import defaultdict
from dataclasses import dataclass, field

from openpyxl.utils.cell import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula

from xlsgen.audit.formula import ParsedFormula, PatternParser, area_text, parse_formula
from xlsgen.formulas import compress_cells  # noqa: F401  (re-exported)

Key = tuple[str, int, int]  # (sheet, row, col), 1-based


@dataclass(frozen=True)
class Area:
    sheet: str
    r1: int
    c1: int
    r2: int
    c2: int

    @property
    def single(self) -> bool:
        return self.r1 == self.r2 and self.c1 == self.c2

    @property
    def size(self) -> int:
        return (self.r2 - self.r1 + 1) * (self.c2 - self.c1 + 1)

    @property
    def text(self) -> str:
        return area_text(self.sheet, self.r1, self.c1, self.r2, self.c2)


@dataclass
class FormulaCell:
    sheet: str
    row: int
    col: int
    formula: str
    parsed: ParsedFormula
    areas: list[Area] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # missing sheets / undefined names
    cached: object = None
    read_by: int = 0
    group: int = 0

    @property
    def key(self) -> Key:
        return (self.sheet, self.row, self.col)

    @property
    def cell(self) -> str:
        return f"{get_column_letter(self.col)}{self.row}"


@dataclass
class Group:
    """Formula cells that are the same formula in relative R1C1 form, on any sheet: copies
    of one formula (the notion of "same formula" of Excel's inconsistent-formula check,
    merged across sheets). `members` in workbook order: (sheet, row, col), 1-based."""

    id: int
    r1c1: str
    formula: str  # the first cell's formula
    members: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def sheet(self) -> str:
        """The sheet of the first cell."""
        return self.members[0][0]

    @property
    def by_sheet(self) -> dict[str, list[tuple[int, int]]]:
        """Cells (row, col) per sheet, sheets in order of their first cell."""
        out: dict[str, list[tuple[int, int]]] = {}
        for sheet, r, c in self.members:
            out.setdefault(sheet, []).append((r, c))
        return out

    @property
    def cells(self) -> list[tuple[int, int]]:
        """(row, col) of every cell, the first sheet's first."""
        return [(r, c) for _, r, c in self.members]

    @property
    def ranges(self) -> str:
        """Compact A1 ranges; prefixed by the sheet when the group spans several."""
        sheets = self.by_sheet
        if len(sheets) == 1:
            return compress_cells(next(iter(sheets.values())))
        return ",".join(area_text(sheet, *_bounds(part)) for sheet, cells in sheets.items()
                        for part in compress_cells(cells).split(","))


def _bounds(a1: str) -> tuple[int, int, int, int]:
    from openpyxl.utils.cell import range_boundaries

    c1, r1, c2, r2 = range_boundaries(a1 if ":" in a1 else f"{a1}:{a1}")
    return r1, c1, r2, c2


def pattern_groups(cells) -> list[Group]:
    """Formula cells grouped by their relative R1C1 form, across sheets: the one notion of
    "the same formula" of the audit's inventory and the reports' formula map.

    `cells`: (sheet, row, col, formula, r1c1) in workbook order (row and col 1-based); r1c1
    None is computed here. Groups are numbered from 1 in order of their first cell."""
    parser = None
    groups: dict[str, Group] = {}
    for sheet, r, c, formula, r1c1 in cells:
        if r1c1 is None:
            parser = parser or PatternParser()
            r1c1 = parser.r1c1(formula, r, c)
        g = groups.get(r1c1)
        if g is None:
            g = groups[r1c1] = Group(len(groups) + 1, r1c1, formula)
        g.members.append((sheet, r, c))
    return list(groups.values())




class Inventory:
    """Built from an openpyxl workbook loaded with formulas, and optionally the cached
    values of the same file by sheet and (row, col)."""

    def __init__(self, wb, cached_values: dict | None = None):
        self.wb = wb
        self.sheets = [ws.title for ws in wb.worksheets]  # chartsheets hold no cells
        self._names = _name_index(wb)
        self._extent: dict[str, tuple[int, int]] = {}
        self._name_cache: dict[tuple[str, str], list[Area] | None] = {}
        parser = PatternParser()
        self.cells: dict[str, dict[tuple[int, int], object]] = {}  # non-empty values
        self.formulas: dict[Key, FormulaCell] = {}
        for ws in wb.worksheets:
            self.cells[ws.title] = values = {}
            cached = (cached_values or {}).get(ws.title, {})
            # ws._cells: the parsed cells only; iter_rows would create every empty cell
            for (r, c), cell in sorted(ws._cells.items()):
                value = cell.value
                if value is None:
                    continue
                values[(r, c)] = value
                text = _formula_text(value) if cell.data_type == "f" else None
                if text is None:
                    continue
                f = FormulaCell(ws.title, r, c, text, parser.parse(text, r, c))
                f.cached = cached.get((r, c))
                self._resolve(f)
                self.formulas[f.key] = f
        self.readers: dict[Key, list[Key]] = defaultdict(list)
        self._link()
        self.groups = self._group()

    def value(self, key: Key):
        return self.cells.get(key[0], {}).get((key[1], key[2]))

    def _resolve(self, f: FormulaCell) -> None:
        for ref in f.parsed.refs:
            if ref.external:
                continue
            if ref.name is not None:
                areas = self._name_areas(ref.sheet or f.sheet, ref.name, 0)
                if areas is None:
                    f.unresolved.append(ref.name)
                else:
                    f.names.append(ref.name)
                    f.areas.extend(areas)
                continue
            sheets = self._sheet_span(ref.sheet or f.sheet)
            if not sheets:
                f.unresolved.append(ref.text)
            for sheet in sheets:
                area = self._clip(sheet, ref.bounds)
                if area is not None:
                    f.areas.append(area)

    def _sheet_span(self, sheet: str) -> list[str]:
        """[sheet], or every sheet of a 3D reference `First:Last`; [] when missing."""
        if sheet in self.sheets:
            return [sheet]
        first, _, last = sheet.partition(":")
        if first in self.sheets and last in self.sheets:
            i, j = sorted((self.sheets.index(first), self.sheets.index(last)))
            return self.sheets[i:j + 1]
        return []

    def _clip(self, sheet: str, bounds) -> Area | None:
        """The area limited to the sheet's used range (whole columns stay cheap)."""
        if sheet not in self.sheets:
            return None
        r1, c1, r2, c2 = bounds
        if r1 == r2 and c1 == c2:
            return Area(sheet, r1, c1, r2, c2)
        if sheet not in self._extent:  # openpyxl recomputes max_row over every cell
            ws = self.wb[sheet]
            self._extent[sheet] = (ws.max_row, ws.max_column)
        max_row, max_col = self._extent[sheet]
        r2, c2 = min(r2, max_row), min(c2, max_col)
        if r1 > r2 or c1 > c2:
            return None
        return Area(sheet, r1, c1, r2, c2)

    def _name_areas(self, sheet: str, name: str, depth: int) -> list[Area] | None:
        key = (sheet, name.upper())
        if depth == 0 and key in self._name_cache:
            return self._name_cache[key]
        areas = self._name_areas_uncached(sheet, name, depth)
        if depth == 0:
            self._name_cache[key] = areas
        return areas

    def _name_areas_uncached(self, sheet: str, name: str, depth: int) -> list[Area] | None:
        dn = self._names.get((sheet, name.upper())) or self._names.get((None, name.upper()))
        if dn is None:
            return None
        if depth > 5 or not dn.attr_text:
            return []
        parsed = parse_formula("=" + dn.attr_text, 1, 1)
        areas: list[Area] = []
        for ref in parsed.refs:
            if ref.name is not None:
                areas.extend(self._name_areas(ref.sheet or sheet, ref.name, depth + 1) or [])
            elif ref.sheet and not ref.external:
                area = self._clip(ref.sheet, ref.bounds)
                if area is not None:
                    areas.append(area)
        return areas

    def _link(self) -> None:
        """Fill `readers` (non-empty cell → [first formula reading it]), `read_by` of each
        formula cell and `precedent_formulas` (the graph the cycle check walks).

        Linear in cells + areas × columns (times a log): per sheet and column, the rows each
        formula reads are merged into intervals and swept once over the occupied cells, so
        a running total (=SUM($D$2:D9) down 20,000 rows) costs no more than its cells. The
        precedent graph reaches formula cells through a segment tree per column (virtual
        nodes `("", sheet, col, node)`), O(log n) edges per interval instead of n."""
        spans: dict[tuple[str, int], list[tuple[int, int, int]]] = defaultdict(list)
        order = {key: i for i, key in enumerate(self.formulas)}
        for key, f in self.formulas.items():
            if len(f.areas) == 1:  # the common case: nothing to merge
                a, idx = f.areas[0], order[key]
                for c in range(a.c1, a.c2 + 1):
                    spans[(a.sheet, c)].append((a.r1, a.r2, idx))
                continue
            per_col: dict[tuple[str, int], list[list[int]]] = defaultdict(list)
            for a in f.areas:
                for c in range(a.c1, a.c2 + 1):
                    per_col[(a.sheet, c)].append([a.r1, a.r2])
            for col_key, intervals in per_col.items():
                intervals.sort()
                merged = [intervals[0]]
                for r1, r2 in intervals[1:]:
                    if r1 <= merged[-1][1] + 1:
                        merged[-1][1] = max(merged[-1][1], r2)
                    else:
                        merged.append([r1, r2])
                spans[col_key].extend((r1, r2, order[key]) for r1, r2 in merged)
        keys = list(self.formulas)
        by_col: dict[tuple[str, int], list[int]] = defaultdict(list)
        for sheet, cells in self.cells.items():
            for (r, c) in cells:
                by_col[(sheet, c)].append(r)
        formula_rows: dict[tuple[str, int], list[int]] = defaultdict(list)
        for (sheet, r, c) in self.formulas:
            formula_rows[(sheet, c)].append(r)
        for col_key, intervals in spans.items():
            rows = sorted(by_col.get(col_key, ()))
            if rows:
                self._sweep(col_key, rows, intervals, keys)
        self._spans, self._formula_rows, self._keys = spans, formula_rows, keys
        self._graph: dict | None = None

    @property
    def may_cycle(self) -> bool:
        """False when every formula reads only formula cells before it in (sheet, row,
        column) order, so no reference cycle can exist (checked in one pass)."""
        sheet_no = {name: i for i, name in enumerate(self.sheets)}
        for (sheet, c), intervals in self._spans.items():
            frows = self._formula_rows.get((sheet, c))
            if not frows:
                continue
            lo, hi = min(frows), max(frows)
            for r1, r2, idx in intervals:
                if r2 < lo or r1 > hi:
                    continue
                rs, rr, rc = self._keys[idx]
                if (sheet_no.get(sheet, 0), r2, c) >= (sheet_no.get(rs, 0), rr, rc):
                    return True
        return False

    @property
    def precedent_formulas(self) -> dict:
        """Reader formula → the formula cells it reads, through a segment tree per column
        (virtual nodes have 4-tuples as keys); built on first use."""
        if self._graph is None:
            graph: dict = {}
            for col_key, intervals in self._spans.items():
                frows = sorted(self._formula_rows.get(col_key, ()))
                if frows:
                    _segment_edges(col_key, frows, intervals, self._keys, graph)
            self._graph = graph
        return self._graph

    def _sweep(self, col_key, rows: list[int], intervals, keys) -> None:
        sheet, c = col_key
        intervals.sort()
        active: list[tuple[int, int]] = []  # heap of (formula order, last row)
        ends: list[int] = []  # heap of last rows, for the count
        i = 0
        for r in rows:
            while i < len(intervals) and intervals[i][0] <= r:
                r1, r2, idx = intervals[i]
                heapq.heappush(active, (idx, r2))
                heapq.heappush(ends, r2)
                i += 1
            while ends and ends[0] < r:
                heapq.heappop(ends)
            if not ends:
                continue
            while active[0][1] < r:
                heapq.heappop(active)
            key = (sheet, r, c)
            self.readers[key] = [keys[active[0][0]]]
            if key in self.formulas:
                self.formulas[key].read_by = len(ends)

    def occupied(self, area: Area):
        """Keys of the non-empty cells inside the area."""
        cells = self.cells.get(area.sheet, {})
        if area.size <= len(cells):
            for r in range(area.r1, area.r2 + 1):
                for c in range(area.c1, area.c2 + 1):
                    if (r, c) in cells:
                        yield (area.sheet, r, c)
        else:
            for (r, c) in cells:
                if area.r1 <= r <= area.r2 and area.c1 <= c <= area.c2:
                    yield (area.sheet, r, c)

    def _group(self) -> list[Group]:
        groups = pattern_groups((f.sheet, f.row, f.col, f.formula, f.parsed.r1c1)
                                for f in self.formulas.values())
        for g in groups:
            for key in g.members:
                self.formulas[key].group = g.id
        return groups


def _segment_edges(col_key, frows: list[int], intervals, keys, graph: dict) -> None:
    """Edges reader → formula cells of `frows` inside each interval, through a bottom-up
    segment tree over `frows` whose inner nodes are virtual keys of length 4."""
    sheet, c = col_key
    n = len(frows)
    size = 1
    while size < n:
        size *= 2

    def node(v: int):
        if v >= size:
            return (sheet, frows[v - size], c)
        return ("", sheet, c, v)

    built = False
    for r1, r2, idx in intervals:
        lo, hi = bisect.bisect_left(frows, r1), bisect.bisect_right(frows, r2)
        if lo >= hi:
            continue
        out = graph.setdefault(keys[idx], [])
        lo, hi = lo + size, hi + size
        while lo < hi:
            if lo & 1:
                out.append(node(lo))
                built = built or lo < size
                lo += 1
            if hi & 1:
                hi -= 1
                out.append(node(hi))
                built = built or hi < size
            lo >>= 1
            hi >>= 1
    if built:
        for v in range(size - 1, 0, -1):
            kids = [node(k) for k in (2 * v, 2 * v + 1)
                    if (k < size and ("", sheet, c, k) in graph) or (k >= size and k - size < n)]
            if kids:
                graph[node(v)] = kids


def _formula_text(value) -> str | None:
    if isinstance(value, ArrayFormula):
        return value.text if value.text and value.text.startswith("=") else None
    return value if isinstance(value, str) and len(value) > 1 else None


def _name_index(wb) -> dict:
    """(sheet or None, NAME upper) → DefinedName; names are case-insensitive in Excel."""
    index = {(None, n.upper()): dn for n, dn in wb.defined_names.items()}
    for ws in wb.worksheets:
        for n, dn in ws.defined_names.items():
            index[(ws.title, n.upper())] = dn
    return index


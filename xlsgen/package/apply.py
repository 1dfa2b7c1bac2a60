"""Apply a roll plan to a workbook package in place.

Edited sheet parts change only in the `<c>` elements of the edited cells (plus the notes
the plan adds); styles.xml gets new entries at the end of its lists; the history, change-log
and formula-map sheets are new parts (or replace xlsgen's own sheets of last year). Every
other part keeps its bytes.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from xlsgen.errors import XlsgenError
from xlsgen.formulas import quote_sheet
from xlsgen.model import CHANGE_LOG_SHEET, FORMULA_MAP_SHEET, Change, Figure, Plan, Snapshot
from xlsgen.package.listsheet import list_sheet_xml
from xlsgen.package.notes import add_notes
from xlsgen.package.ooxml import CT_SHEET, Package
from xlsgen.package.sheet import (
    SheetText,
    cell_xml,
    col_letters,
    is_date,
    merges,
    read_cells,
    set_dimension,
    split_addr,
    to_serial,
)
from xlsgen.package.styles import INPUT_RGB, Styles, _set_attr
from xlsgen.read.cells import SharedStrings, SheetXmlError, may_hold_formulas, scan_sheet

EMPTY = "（空欄）"
LOG_HEADERS = ("シート", "セル", "変更前", "変更後", "理由")
LOG_WIDTHS = (12, 8, 40, 40, 50)
MAP_HEADERS = ("シート", "セル", "数式（例）", "説明")
MAP_WIDTHS = (16, 18, 40, 70)
NO_FORMULAS = ("（ブック全体）", "", "", "このブックには数式がありません（前の版の一覧を置き換えました）")
CHAIN_REASON = ("同じセルが2つあったため後のものを残し、消えた数式を含む計算チェーンを削除しました"
                "（Excel が開くときに作り直します）")
KEPT_FORMULA = "数式のセルのため変更しませんでした（元の数式をそのまま残しています）"
DATE_FORMAT = "yyyy/m/d"
RECALC_REASON = ("数式が読むセルを変更したため、Excel で開いたときに全体を再計算する設定"
                 "（fullCalcOnLoad）にしました。数式のキャッシュ値は再計算まで前の値です")
RECALC_UNREAD = ("値を変更し、読み取っていない大きなシート（{sheets}）に数式があるかもしれないため、"
                 "Excel で開いたときに全体を再計算する設定（fullCalcOnLoad）にしました")
LARGE_PART_BYTES = 2 * 1024 * 1024  # a sheet part this large is not opened unless planned


class LazySnapshot(Mapping):
    """Sheet name → its cells (value, number format), each sheet parsed when first asked
    for: a roll reads only the sheets it plans."""

    def __init__(self, wb: Workbook):
        self._wb = wb
        self._sheets: dict[str, dict] = {}

    def __getitem__(self, name: str) -> dict:
        if name not in self._sheets:
            pkg = self._wb.pkg
            part = pkg.sheets.get(name)
            if part is None or part not in pkg.parts:
                raise KeyError(name)
            data, scan = self._wb.scan(name)
            self._sheets[name] = read_cells(data, self._wb.sst, self._wb.styles.number_format,
                                            self._wb.date1904, scan)
        return self._sheets[name]

    def __iter__(self) -> Iterator[str]:
        pkg = self._wb.pkg
        return (name for name, part in pkg.sheets.items() if part in pkg.parts)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _BookStrings(SharedStrings):
    """The book's shared strings, parsed as far as the cells read need; a table that cannot
    be read is the book's fault, said in one line."""

    def __init__(self, pkg: Package, part: str):
        self._book, self._part = str(pkg.path), part
        try:
            super().__init__(pkg.parts.get(part))
        except SheetXmlError as exc:
            raise self._error(exc) from None

    def _error(self, exc: SheetXmlError) -> XlsgenError:
        return XlsgenError(f"ブックの部品 {self._part}（共有文字列）を読めません（{exc}）。Excel で開いて"
                           "保存し直してから繰り越してください（出力は書き出していません）", self._book)

    def __getitem__(self, i: int):
        try:
            return super().__getitem__(i)
        except SheetXmlError as exc:
            raise self._error(exc) from None


class Workbook:
    """A package opened for a roll: shared strings, styles and sheet texts (one per package)."""

    def __new__(cls, pkg: Package):
        if getattr(pkg, "_workbook", None) is None:
            pkg._workbook = super().__new__(cls)
            pkg._workbook._init(pkg)
        return pkg._workbook

    def _init(self, pkg: Package):
        self.pkg = pkg
        self._formulas: bool | None = None
        self._scans: dict[str, tuple[bytes, bytes, Any]] = {}  # part → (raw, text, scan)
        self.renamed: dict[str, str] = {}  # xlsgen sheet → the free name used instead
        self.stale_chain = False  # a formula cell is gone: calcChain.xml must go too
        rels = pkg.rels(pkg.workbook_part)
        self.sst_part = next((t for _, typ, t, _ in rels if typ.endswith("/sharedStrings")), None)
        self.styles_part = next((t for _, typ, t, _ in rels if typ.endswith("/styles")), None)
        self.sst = _BookStrings(pkg, self.sst_part) if self.sst_part else []
        self.styles = Styles(pkg.text(self.styles_part)) if self.styles_part else Styles(
            "<styleSheet><cellXfs count=\"1\"><xf/></cellXfs></styleSheet>")
        self.date1904 = re.search(r'<(?:\w+:)?workbookPr\b[^>]*\sdate1904="(?:1|true)"',
                                  pkg.text(pkg.workbook_part)) is not None

    def scan(self, name: str):
        """(text as bytes, the cell scan with positions) of sheet `name` as it is now."""
        part = self.pkg.sheets[name]
        raw = self.pkg.parts[part]
        hit = self._scans.get(part)
        if hit is None or hit[0] is not raw:
            data = self.pkg.text(part).encode("utf-8")
            try:
                hit = (raw, data, scan_sheet(data, positions=True))
            except SheetXmlError as exc:
                raise XlsgenError(f"シート「{name}」（{part}）を読めません（{exc}）。Excel で開いて保存し直して"
                                  "から繰り越してください（出力は書き出していません）", str(self.pkg.path)) from None
            self._scans[part] = hit
        return hit[1], hit[2]

    def snapshot(self) -> LazySnapshot:
        """Every cell with a value or a number format of a worksheet (cached values of
        formula cells; dates as dates), each sheet's formula cells in `.formulas`, by sheet
        name; a sheet is parsed when first asked for (a roll reads only the sheets it plans)."""
        return LazySnapshot(self)

    def unread(self) -> list[str]:
        """Large sheets the roll has not opened (a pasted data sheet): left as they are,
        never searched for formulas."""
        pkg = self.pkg
        return [name for name, part in pkg.sheets.items()
                if part in pkg.parts and part not in pkg.parts.loaded
                and pkg.part_size(part) > LARGE_PART_BYTES]

    def formulas(self) -> bool:
        """Any formula in the input's sheets the roll opens (the roll never writes one);
        the large sheets it leaves unread are not searched."""
        if self._formulas is None:
            unread = set(self.unread())
            self._formulas = any(
                may_hold_formulas(self.pkg.parts[p]) and any(c.f is not None for c in self.scan(n)[1].cells())
                for n, p in self.pkg.sheets.items() if p in self.pkg.parts and n not in unread)
        return self._formulas


def _style_of(addr: str, cells: dict, rows: dict, cols: list) -> int:
    if addr in cells:
        return cells[addr]
    r, c = split_addr(addr)
    if r in rows:
        return rows[r]
    return next((s for lo, hi, s in cols if lo <= c <= hi), 0)


class _Merges:
    """The top-left cell of the merged range a cell is in (the cell itself when none)."""

    def __init__(self, ranges: list):
        self.ranges = ranges
        self.cache: dict[str, str] = {}

    def top_left(self, addr: str) -> str:
        if addr not in self.cache:
            r, c = split_addr(addr)
            self.cache[addr] = next((f"{col_letters(c1)}{r1}" for r1, c1, r2, c2 in self.ranges
                                     if r1 <= r <= r2 and c1 <= c <= c2), addr)
        return self.cache[addr]


def _top_left(addr: str, ranges) -> str:
    return ranges.top_left(addr)


def _same(a: Any, b: Any) -> bool:
    return (a in (None, "") and b in (None, "")) or a == b


def _apply_sheet(wb: Workbook, name: str, edits: list, snap: dict, changes: list[Change]) -> bool:
    """Apply the edits of one sheet; True when a cell value changed. A formula cell is never
    changed (its edit is logged as kept); dates are written in the book's date system."""
    pkg, styles = wb.pkg, wb.styles
    part = pkg.sheets[name]
    data, scan = wb.scan(name)
    try:
        st = SheetText(data, scan)
        ranges = _Merges(merges(st.xml))
    except (SheetXmlError, ValueError) as exc:
        raise XlsgenError(f"シート「{name}」を書き換えられません（{exc}）", str(pkg.path)) from None
    formulas = st.formula_cells()
    wb.stale_chain |= st.dropped_formula
    wanted = {split_addr(_top_left(a, ranges))[0] for e in edits for a in (e.cell, e.unshade_like) if a}
    row_s, col_s = st.styles(wanted)
    found = st.cells(wanted)
    cell_s = {a: s for a, (s, _) in found.items()}
    originals = {a: x for a, (_, x) in found.items()}
    state: dict[str, tuple[Any, int, bool]] = {}
    notes: dict[str, str] = {}
    kept: set[str] = set()
    value_changed = False
    for e in edits:
        addr = _top_left(e.cell, ranges)
        before, s, dirty = state.get(addr, (snap.get(addr, (None, ""))[0],
                                            _style_of(addr, cell_s, row_s, col_s), False))
        if e.comment:
            notes[addr] = e.comment
        if addr in formulas:  # the city's own formula: kept as it is, and the log says so
            if addr not in kept and (not _same(before, e.value) or e.shade or e.number_format):
                kept.add(addr)
                changes.append(Change(name, addr, before, before, e.reason, KEPT_FORMULA))
            continue
        new_s = s
        if e.number_format:
            new_s = styles.derive(new_s, number_format=e.number_format)
        if e.shade and not styles.is_input_fill(new_s):
            new_s = styles.derive(new_s, fill_rgb=INPUT_RGB)
        unshade = e.unshade_like is not None and styles.is_input_fill(s)
        if unshade:
            like = _style_of(_top_left(e.unshade_like, ranges), cell_s, row_s, col_s)
            # the fill of the cell it is like, unless that one is an input cell too: none
            new_s = styles.derive(new_s, fill_id=0 if styles.is_input_fill(like) else styles.fill_id(like))
        changed = not _same(before, e.value)
        if not changed and new_s == s and not e.comment:
            continue
        what = ""
        if not changed:
            what = ("入力欄に設定" if e.shade and new_s != s else
                    "入力済みのため網掛けを外しました" if unshade else
                    "表示形式を設定" if new_s != s else "メモを追加")
        state[addr] = (e.value if changed else before, new_s, dirty or changed)
        value_changed |= changed
        changes.append(Change(name, addr, before, e.value, e.reason, what))
    if not state and not notes:
        return False
    p = st.prefix
    cells = {}
    for addr, (value, s, dirty) in state.items():
        if dirty and isinstance(value, (_dt.date, _dt.datetime)):  # a date stays a date
            if not is_date(styles.number_format(s)):
                s = styles.derive(s, number_format=DATE_FORMAT)
            value = to_serial(value, wb.date1904)
        if dirty or addr not in originals:
            cells[addr] = cell_xml(p, addr, value, s) if dirty else f'<{p}c r="{addr}"' + (
                f' s="{s}"/>' if s else "/>")
        else:  # same value (rich text, cached value kept): only the style changes
            m = re.match(r"<[\w:]+\b[^>]*?(?=/?>)", originals[addr])
            head = _set_attr(m.group(0), "s", str(s)) if s or ' s="' in m.group(0) else m.group(0)
            cells[addr] = head + originals[addr][m.end():]
    xml = st.apply(cells) if cells else st.xml
    if cells:
        rows = [split_addr(a) for a in cells]
        xml = set_dimension(xml, max(r for r, _ in rows), max(c for _, c in rows))
    xml = add_notes(pkg, part, xml, notes)
    if cells or notes or st.normalised:
        pkg.put(part, xml)
    return value_changed


def _history_rows(snap: dict, width: int) -> list[tuple]:
    """The data rows (below the header) of one of xlsgen's list sheets, from a snapshot
    (numbers keep their number format)."""
    by_row: dict[int, dict[int, Any]] = {}
    for addr, (v, f) in snap.items():
        r, c = split_addr(addr)
        if r > 1 and c <= width:
            if isinstance(v, (int, float)) and not isinstance(v, bool) and f not in (None, "General", "@"):
                v = Figure(v, f)
            by_row.setdefault(r, {})[c] = v
    return [tuple(by_row[r].get(c) for c in range(1, width + 1)) for r in sorted(by_row)]


def _list_sheet_name(pkg: Package, snap: Snapshot, name: str, headers) -> str:
    """Where one of xlsgen's list sheets goes: its own name, unless the book has a sheet of
    that name that is not xlsgen's (its first row is not the list's headers); then the
    first free name `name(2)`, `name(3)` … (or one of those that is xlsgen's from last year).
    A city's own sheet is never replaced."""
    existing = {n.casefold(): n for n in pkg.sheets}
    k = 1
    while True:
        candidate = name if k == 1 else f"{name}({k})"
        real = existing.get(candidate.casefold())
        if real is None or _is_list_sheet(snap.get(real, {}), headers):
            return real or candidate
        k += 1


def _is_list_sheet(cells: dict, headers) -> bool:
    if not cells:
        return False
    first = tuple(cells.get(f"{col_letters(i)}1", (None,))[0] for i in range(1, len(headers) + 1))
    return first == tuple(headers)


def _renamed_reason(c: Change, renamed: dict[str, str]) -> Change:
    reason = c.reason
    for old, new in renamed.items():
        reason = reason.replace(f"「{old}」シート", f"「{new}」シート")
    return c if reason == c.reason else Change(c.sheet, c.cell, c.before, c.after, reason, c.what)


def _display(v: Any) -> Any:
    return EMPTY if v in (None, "") else v


def apply_plan(pkg: Package, plan: Plan, snap: Snapshot | None = None,
               formula_notes: Callable[[], list] | None = None) -> list[Change]:
    """Apply `plan` to `pkg` (in memory); returns the change log rows written."""
    wb = Workbook(pkg)
    snap = snap if snap is not None else wb.snapshot()
    changes: list[Change] = []
    if plan.insert_cols:
        from xlsgen.package.columns import insert_columns, repeat_header_merges
        groups = {(g[0], g[1]): g for g in plan.column_groups}
        for sheet, idx, n in plan.insert_cols:
            shifted = insert_columns(wb, sheet, idx, n)
            cols = f"{col_letters(idx)}:{col_letters(idx + n - 1)}"
            group = groups.get((sheet, idx))
            where = (f"{col_letters(group[3])}:{col_letters(group[4])}列と同じ年度の列を後ろに挿入" if group
                     else "年度の列を挿入")
            changes.append(Change(sheet, cols, None, None, f"計画延長（--extend-to）: {where}",
                                  f"{n}列を挿入（右の列を参照する数式・名前・リンク {shifted} か所をずらしました）"))
            if group:
                merged = repeat_header_merges(wb, sheet, idx, n, group[3], group[4], group[5])
                if merged:
                    changes.append(Change(sheet, cols, None, None, "計画延長（--extend-to）: 見出しのセル結合",
                                          f"見出しの結合セル {merged} か所を新しい列にも設定しました"))
        snap = wb.snapshot()
    names = {name: _list_sheet_name(pkg, snap, name, plan.history_headers[name][0])
             for name in plan.history if name in plan.history_headers}
    names[CHANGE_LOG_SHEET] = _list_sheet_name(pkg, snap, CHANGE_LOG_SHEET, LOG_HEADERS)
    # no empty page: a book without formulas gets no 数式一覧 (one that an earlier roll wrote
    # says there are none now); without `formula_notes` the sheet is left as it is
    notes = formula_notes() if formula_notes and wb.formulas() else []
    map_name = _list_sheet_name(pkg, snap, FORMULA_MAP_SHEET, MAP_HEADERS)
    if formula_notes is not None and (notes or map_name in pkg.sheets):
        names[FORMULA_MAP_SHEET] = map_name
    wb.renamed = {name: new for name, new in names.items() if new != name}
    for name, new in wb.renamed.items():
        changes.append(Change(new, "", None, None,
                              f"ブックに xlsgen のものではない「{name}」シートがあるため（そのシートは変更していません）",
                              f"「{name}」の代わりに「{new}」シートに書きました"))
    by_sheet: dict[str, list] = {}
    for e in plan.edits:
        by_sheet.setdefault(e.sheet, []).append(e)
    values_changed = False
    for name, edits in by_sheet.items():
        values_changed |= _apply_sheet(wb, name, edits, snap.get(name, {}), changes)
    if wb.renamed:  # reasons name the sheet the old texts went to
        changes[:] = [_renamed_reason(c, wb.renamed) for c in changes]
    if wb.stale_chain:  # Excel rebuilds the chain; one that names a cell without formula is repaired
        for _, typ, target, _ in list(pkg.rels(pkg.workbook_part)):
            if typ.endswith("/calcChain") and target in pkg.parts:
                pkg.remove(target)
                changes.append(Change("（ブック全体）", "", None, None, CHAIN_REASON, "calcChain.xml を削除"))
    unread = wb.unread() if values_changed else []
    recalc = values_changed and (wb.formulas() or bool(unread))
    lists = wb.styles.list_styles()
    new_sheets: list[tuple[str, str]] = []

    def put_sheet(name: str, xml: str) -> None:
        if name in pkg.sheets:
            pkg.put(pkg.sheets[name], xml)
        else:
            part = pkg.free_name("xl/worksheets/sheet{}.xml")
            pkg.put(part, xml)
            pkg.add_override(part, CT_SHEET)
            new_sheets.append((name, part))
            pkg.sheets[name] = part

    def list_xml(headers, widths, rows, links=None) -> str:
        return list_sheet_xml(headers, widths, rows, lists, links, wb.date1904, plan.print_header,
                              wb.styles.list_number)

    for name, rows in plan.history.items():
        headers, widths = plan.history_headers[name]
        target = names.get(name, name)
        old = _history_rows(snap.get(target, {}), len(headers)) if target in pkg.sheets else []
        put_sheet(target, list_xml(headers, widths, old + list(rows)))
    log = [(c.sheet, c.cell, _display(c.before), c.what or _display(c.after), c.reason) for c in changes]
    if recalc:
        log.append(("（ブック全体）", "", "", "fullCalcOnLoad=1", RECALC_REASON if wb.formulas()
                    else RECALC_UNREAD.format(sheets="、".join(unread))))
    put_sheet(names[CHANGE_LOG_SHEET], list_xml(LOG_HEADERS, LOG_WIDTHS, log))
    links = {(r, 2): n.location for r, n in enumerate(notes, start=2)}
    rows = [(n.sheet, n.cells, n.formula, n.explanation) for n in notes]
    if FORMULA_MAP_SHEET in names:
        put_sheet(names[FORMULA_MAP_SHEET], list_xml(MAP_HEADERS, MAP_WIDTHS, rows or [NO_FORMULAS], links))
    _workbook_xml(wb, new_sheets, recalc)
    styles_xml = wb.styles.render()
    if styles_xml is not None:
        pkg.put(wb.styles_part, styles_xml)
    return changes


def _workbook_xml(wb: Workbook, new_sheets: list[tuple[str, str]], recalc: bool) -> None:
    pkg = wb.pkg
    xml = pkg.text(pkg.workbook_part)
    p = re.search(r"<(\w+:)?workbook\b", xml).group(1) or ""
    ids = [int(i) for i in re.findall(r'<(?:\w+:)?sheet\b[^>]*\ssheetId="(\d+)"', xml)]
    n = max(ids, default=0)
    tags = ""
    for name, part in new_sheets:
        rid = pkg.add_rel(pkg.workbook_part, "worksheet", part)
        n += 1
        ns = ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
        tags += f'<{p}sheet name="{_attr_text(name)}" sheetId="{n}"{ns} r:id="{rid}"/>'
    if tags:
        i = xml.index(f"</{p}sheets>")
        xml = xml[:i] + tags + xml[i:]
    names = re.findall(r'<(?:\w+:)?sheet\b[^>]*\sname="([^"]*)"', xml)
    titles = ""
    for name in [n for n, _ in new_sheets]:
        idx = names.index(_attr_text(name))
        if not re.search(rf'name="_xlnm.Print_Titles"[^>]*localSheetId="{idx}"', xml):
            titles += (f'<{p}definedName name="_xlnm.Print_Titles" localSheetId="{idx}">'
                       f"{_attr_text(quote_sheet(name))}!$1:$1</{p}definedName>")
    if titles:
        if f"</{p}definedNames>" in xml:
            i = xml.index(f"</{p}definedNames>")
            xml = xml[:i] + titles + xml[i:]
        else:
            xml = _insert_after(xml, p, ("sheets", "functionGroups", "externalReferences"),
                                f"<{p}definedNames>{titles}</{p}definedNames>")
    if recalc:
        m = re.search(rf"<{p}calcPr\b[^>]*?/?>", xml)
        if m:
            xml = xml[: m.start()] + _set_attr(m.group(0), "fullCalcOnLoad", "1") + xml[m.end():]
        else:
            xml = _insert_after(xml, p, ("sheets", "functionGroups", "externalReferences", "definedNames"),
                                f'<{p}calcPr fullCalcOnLoad="1"/>')
    pkg.put(pkg.workbook_part, xml)


def _insert_after(xml: str, p: str, names: tuple, tag: str) -> str:
    end = 0
    for name in names:
        for m in re.finditer(rf"</{p}{name}>|<{p}{name}\b[^>]*/>", xml):
            end = max(end, m.end())
    return xml[:end] + tag + xml[end:]


def _attr_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")

"""Every formula string and A1 reference xlsgen writes is built in this package, from the
model. Modules: this one (references), `achievement` (KPI achievement and grades),
`simulation` (business-model workbooks). Nothing else in xlsgen assembles formula text."""

from __future__ import annotations

import re

MAX_ROW, MAX_COL = 1_048_576, 16_384  # the largest sheet Excel has
_NEEDS_QUOTES = re.compile(r"[^A-Za-z0-9_.]")
# names Excel would read as something else: a cell (A1, XFD1048576), an R1C1 reference
# (R, C, RC, R1C1, R[1]C, C5), a boolean
_LOOKS_LIKE_REF = re.compile(r"[A-Za-z]{1,3}[0-9]+|[Rr][0-9]*(?:[Cc][0-9]*)?|[Cc][0-9]*|TRUE|FALSE",
                             re.IGNORECASE)


def quote_sheet(name: str) -> str:
    """A sheet name as it must appear in a reference: `'01 キャリア'!`, `'A1'!`, `'R1C1'!`,
    `'TRUE'!` quoted (anything but letters, digits, `_` and `.`, a leading digit or `.`, a
    name Excel would read as a cell, an R1C1 reference or a boolean)."""
    if not name or _NEEDS_QUOTES.search(name) or name[0].isdigit() or name[0] == "." or \
            _LOOKS_LIKE_REF.fullmatch(name):
        return "'" + name.replace("'", "''") + "'"
    return name


def cell(row: int, col: int, absolute: bool = False) -> str:
    """A1 address of a zero-based (row, col): cell(0, 0) == 'A1'."""
    d = "$" if absolute else ""
    return f"{d}{col_letters(col + 1)}{d}{row + 1}"


def cell_fixed_col(row: int, col: int) -> str:
    """A reference whose column stays when copied across: cell_fixed_col(18, 12) == '$M19'."""
    return f"${col_letters(col + 1)}{row + 1}"


def running_area(row: int, first_col: int, col: int) -> str:
    """A row range whose start stays when copied across: running_area(18, 7, 9) == '$H19:J19'."""
    return f"{cell_fixed_col(row, first_col)}:{cell(row, col)}"


def name_target(sheet: str, row: int, col: int) -> str:
    """What a defined name refers to: one absolute cell, `='設定'!$B$5`."""
    return link(on_sheet(sheet, cell(row, col, absolute=True)))


def col_name(col: int) -> str:
    """Letters of a zero-based column: col_name(0) == 'A'."""
    return col_letters(col + 1)


def col_index(letters: str) -> int:
    """One-based column number of upper-case letters: col_index("AA") == 27."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(i: int) -> str:
    """Letters of a one-based column number: col_letters(27) == "AA"."""
    s = ""
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def area(first_row: int, first_col: int, last_row: int, last_col: int,
         absolute: bool = False) -> str:
    """A1 range of zero-based corners: area(0, 0, 1, 2) == 'A1:C2'."""
    a = cell(first_row, first_col, absolute)
    b = cell(last_row, last_col, absolute)
    return a if a == b else f"{a}:{b}"


def area_text(sheet: str | None, r1: int, c1: int, r2: int, c2: int) -> str:
    """A1 text of a one-based area, `'Sheet'!` prefixed when a sheet is given; whole columns
    as A:A, whole rows as 1:1."""
    if r1 == 1 and r2 == MAX_ROW:
        addr = f"{col_letters(c1)}:{col_letters(c2)}"
    elif c1 == 1 and c2 == MAX_COL:
        addr = f"{r1}:{r2}"
    else:
        addr = f"{col_letters(c1)}{r1}"
        if (r1, c1) != (r2, c2):
            addr += f":{col_letters(c2)}{r2}"
    if sheet is None:
        return addr
    return "'" + sheet.replace("'", "''") + "'!" + addr


def compress_cells(cells: list[tuple[int, int]]) -> str:
    """`[(2,3),(3,3),(4,3),(2,5)]` → "C2:C4,E2": one-based (row, col) cells as contiguous
    runs per column, runs of adjacent columns over the same rows merged into rectangles."""
    by_col: dict[int, list[int]] = {}
    for r, c in cells:
        by_col.setdefault(c, []).append(r)
    runs = []
    for c in sorted(by_col):
        rows = sorted(by_col[c])
        start = prev = rows[0]
        for r in rows[1:] + [None]:
            if r is not None and r == prev + 1:
                prev = r
                continue
            runs.append((start, c, prev, c))
            if r is not None:
                start = prev = r
    merged: list[list[int]] = []
    for r1, c1, r2, c2 in sorted(runs, key=lambda x: (x[0], x[2], x[1])):
        last = merged[-1] if merged else None
        if last and last[0] == r1 and last[2] == r2 and last[3] + 1 == c1:
            last[3] = c2
        else:
            merged.append([r1, c1, r2, c2])
    merged.sort(key=lambda x: (x[1], x[0]))
    return ",".join(area_text(None, *m) for m in merged)


def split_cell(addr: str) -> tuple[int, int]:
    """One-based (row, col) of an A1 address: split_cell('B12') == (12, 2)."""
    m = _A1.fullmatch(addr)
    if m is None:
        raise ValueError(f"not an A1 address: {addr!r}")
    return int(m.group(2)), col_index(m.group(1))


_A1 = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]+)")


def on_sheet(sheet: str, ref: str) -> str:
    """A reference on another sheet: on_sheet('01', 'D5') == "'01'!D5"."""
    return f"{quote_sheet(sheet)}!{ref}"


def text_literal(text: str) -> str:
    """A string literal inside a formula: quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def link(ref: str) -> str:
    """A cell that shows another cell or a named value: `=製造費用`, `='01'!D5`."""
    return f"={ref}"

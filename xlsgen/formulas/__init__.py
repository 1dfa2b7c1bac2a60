"""Every formula string and A1 reference xlsgen writes is built in this package, from the
model. Modules: this one (references), `achievement` (KPI achievement and grades),
`simulation` (business-model workbooks). Nothing else in xlsgen assembles formula text."""

from __future__ import annotations

import re

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

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
    return xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)


def cell_fixed_col(row: int, col: int) -> str:
    """A reference whose column stays when copied across: cell_fixed_col(18, 12) == '$M19'."""
    return xl_rowcol_to_cell(row, col, col_abs=True)


def running_area(row: int, first_col: int, col: int) -> str:
    """A row range whose start stays when copied across: running_area(18, 7, 9) == '$H19:J19'."""
    return f"{cell_fixed_col(row, first_col)}:{cell(row, col)}"


def name_target(sheet: str, row: int, col: int) -> str:
    """What a defined name refers to: one absolute cell, `='設定'!$B$5`."""
    return link(on_sheet(sheet, cell(row, col, absolute=True)))


def col_name(col: int) -> str:
    return xl_col_to_name(col)


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


def on_sheet(sheet: str, ref: str) -> str:
    """A reference on another sheet: on_sheet('01', 'D5') == "'01'!D5"."""
    return f"{quote_sheet(sheet)}!{ref}"


def text_literal(text: str) -> str:
    """A string literal inside a formula: quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def link(ref: str) -> str:
    """A cell that shows another cell or a named value: `=製造費用`, `='01'!D5`."""
    return f"={ref}"

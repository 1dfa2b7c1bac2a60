"""Shift A1 references when columns are inserted into a sheet (`--extend-to`).

`shift_formula` rewrites every reference to the sheet at or past the inserted columns in a
formula (string literals untouched); `shift_sqref` does the same for space-separated ranges
(merges, conditional formats, validations). A range that straddles the insertion grows."""

from __future__ import annotations

import re

from xlsgen.formulas import col_index, col_letters

_SHEET = r"(?:'(?:[^']|'')+'|[^\s!'\"(),;:=+\-*/^&<>{}\[\]]+)"
_COL = r"\$?[A-Z]{1,3}"
_ROW = r"\$?[0-9]+"
_REF = re.compile(
    rf"(?<![\w.$'\]])(?:(?P<sheet>{_SHEET})!)?"
    rf"(?P<ref>{_COL}{_ROW}(?::{_COL}{_ROW})?|{_COL}:{_COL}|{_ROW}:{_ROW})(?![\w(])")
_STRING = re.compile(r'"(?:[^"]|"")*"')




def _unquote(sheet: str) -> str:
    return sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet


MAX_COL = 16_384  # XFD


class PastLastColumn(ValueError):
    """A cell (or the start of a range) that the insertion would move past column XFD."""


def _shift_part(part: str, at: int, n: int, is_end: bool, start_col: int | None) -> str:
    m = re.fullmatch(r"(\$?)([A-Z]{1,3})(\$?[0-9]*)", part)
    if m is None:
        return part  # a row-only part
    c = col_index(m.group(2))
    if c >= at or (is_end and start_col is not None and start_col < at <= c):
        c += n
        if c > MAX_COL:
            if not is_end:
                raise PastLastColumn(part)
            c = MAX_COL  # the end of a range stops at XFD, as in Excel
    return f"{m.group(1)}{col_letters(c)}{m.group(3)}"


def shift_ref(ref: str, at: int, n: int) -> str:
    """`ref` (A1, A1:B2, A:C, 1:3) with columns at or past `at` moved right by `n`."""
    if ":" not in ref:
        return _shift_part(ref, at, n, False, None)
    a, b = ref.split(":", 1)
    ma = re.match(r"\$?([A-Z]{1,3})", a)
    start = col_index(ma.group(1)) if ma else None
    return f"{_shift_part(a, at, n, False, None)}:{_shift_part(b, at, n, True, start)}"


def shift_formula(formula: str, host: str, sheet: str, at: int, n: int) -> str:
    """`formula` (on sheet `host`) with its references to `sheet` shifted."""
    out, pos = [], 0
    for s in _STRING.finditer(formula):
        out.append(_shift_code(formula[pos: s.start()], host, sheet, at, n))
        out.append(s.group(0))
        pos = s.end()
    out.append(_shift_code(formula[pos:], host, sheet, at, n))
    return "".join(out)


def _shift_code(code: str, host: str, sheet: str, at: int, n: int) -> str:
    def repl(m: re.Match) -> str:
        target = _unquote(m.group("sheet")) if m.group("sheet") else host
        if target != sheet:
            return m.group(0)
        prefix = f"{m.group('sheet')}!" if m.group("sheet") else ""
        return prefix + shift_ref(m.group("ref"), at, n)
    return _REF.sub(repl, code)


def shift_sqref(sqref: str, at: int, n: int) -> str:
    """Space-separated ranges of the sheet itself, shifted."""
    return " ".join(shift_ref(r, at, n) for r in sqref.split())

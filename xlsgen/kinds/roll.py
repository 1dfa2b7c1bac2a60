"""Helpers the kinds' roll-forward planners share: era labels of a year, A1 pieces, the
values a snapshot holds. Pure (no I/O)."""

from __future__ import annotations

import functools
import re
from typing import Any

from xlsgen.errors import XlsgenError
from xlsgen.formulas import col_index, col_letters
from xlsgen.model import Book, Quantity
from xlsgen.wareki import FiscalYear

_YEAR_TOKEN = re.compile(r"(平成|令和|昭和|[HRShrs])\s*(元|[0-9０-９]{1,2})(?=\s*年)")


def _token(fy: int, kanji: bool) -> str:
    f = FiscalYear(fy)
    n = "元" if kanji and f.era_year == 1 else str(f.era_year)
    return (f.kanji[:2] if kanji else f.era) + n


def year_label_like(text: str, fy: int) -> str:
    """`text` with its first era year replaced by `fy`, in the same style.

    `R2年度\\n(実績値)` → `R3年度\\n(実績値)`; `【Check】令和2年度実績…` → `…令和3年度実績…`.
    """
    m = _YEAR_TOKEN.search(text)
    if m is None:
        short = FiscalYear(fy).short
        return f"{short}年度\n{text}" if text else f"{short}年度"
    return text[: m.start()] + _token(fy, len(m.group(1)) > 1) + text[m.end():]


def rewrite_heisei(text: str) -> str | None:
    """`H35年度` → `R5年度` (平成 past 31 means 令和); None when nothing to rewrite."""
    def repl(m: re.Match) -> str:
        era, num = m.group(1), m.group(2)
        n = 1 if num == "元" else int(num.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
        if era not in ("H", "h", "平成") or n <= 31:
            return m.group(0)
        return _token(1988 + n, len(era) > 1)

    new = _YEAR_TOKEN.sub(repl, text)
    return None if new == text else new


@functools.cache
def split_cell(addr: str) -> tuple[str, int]:
    """`C15` → ("C", 15)."""
    m = re.fullmatch(r"([A-Z]+)(\d+)", addr)
    return m.group(1), int(m.group(2))


def shift_col(col: str, at: int, n: int) -> str:
    """A column letter moved right by `n` when at or past column index `at` (1-based)."""
    i = col_index(col)
    return col_letters(i + n) if n and i >= at else col


def block_cells(cells: dict, rows: range, cols: range) -> list[str]:
    """The non-empty cells of a snapshot inside rows × cols (1-based), row by row, without
    the city's own formulas (a helper formula beside a text is neither cleared nor taken
    into last year's text)."""
    formulas = getattr(cells, "formulas", ())
    out = []
    for addr, (v, _) in cells.items():
        c, r = split_cell(addr)
        if v not in (None, "") and r in rows and col_index(c) in cols and addr not in formulas:
            out.append(addr)
    return sorted(out, key=lambda a: (split_cell(a)[1], col_index(split_cell(a)[0])))


def col_of(q: Quantity | None, fallback: str | None = None) -> str | None:
    """The column letter of a value's cell."""
    return split_cell(q.cell)[0] if q is not None and q.cell else fallback


def raw(cells: dict, addr: str | None) -> tuple[Any, str | None]:
    """(value, number format) of a snapshot cell; (None, None) without an address."""
    if not addr:
        return None, None
    v, f = cells.get(addr, (None, "General"))
    return v, f


def not_supported(book: Book, what: str) -> XlsgenError:
    """The refusal of a kind that has no planner yet."""
    return XlsgenError(f"様式「{book.layout_title or book.layout}」（{what}）の繰り越しにはまだ対応していません",
                       book.path)

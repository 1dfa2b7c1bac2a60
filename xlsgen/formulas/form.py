"""Formulas of the input forms (`xlsgen distribute`)."""

from __future__ import annotations

from xlsgen.formulas import cell


def text_length(row: int, col: int) -> str:
    """The number of characters typed in a cell: `=LEN(E2)`."""
    return f"=LEN({cell(row, col)})"

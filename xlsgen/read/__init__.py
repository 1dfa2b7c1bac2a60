"""Readers: the only place that opens input workbooks.

`read_book(path, layout="auto", layout_file=None)` picks the one layout file whose anchors
are all found in the workbook (see `xlsgen.layout`) and reads it into the model's `Book`.
Every layout is read by the generic engine except `joso.yaml`, which names the project-sheet
parser of this package (`read/joso.py`), its labels still taken from the layout file.
"""

from __future__ import annotations

from pathlib import Path

from xlsgen.model import Book
from xlsgen.read.grid import WorkbookGrids


def read_book(path: str | Path, layout: str = "auto", layout_file: str | None = None) -> Book:
    """Read a workbook into the model. Raises InputFileError / LayoutError / LayoutSpecError
    (Japanese, naming the file) when it cannot be read or no layout (or the forced one)
    matches."""
    from xlsgen.layout import choose, read_with_spec

    with WorkbookGrids(path) as wb:
        spec, result = choose(path, list(wb.grids()), layout, layout_file)
        return read_with_spec(path, wb, spec, result)

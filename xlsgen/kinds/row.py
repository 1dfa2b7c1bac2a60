"""Kind `row`: one KPI per table row, grouped into measures by a column (`group_by`), each
row's project line from the columns `project_lines` names — read by the generic engine.

Roll-forward is not planned yet for this kind; `plan_roll` refuses clearly."""

from __future__ import annotations

from collections.abc import Iterator

from xlsgen.kinds.roll import not_supported
from xlsgen.layout.engine import read_generic, read_row_records
from xlsgen.model import Book, Finding, Plan, Snapshot

NAME = "row"


def read(path, wb, spec, roles, trace) -> Book:
    grids = [(g, roles[g.name]) for g in wb.grids() if g.name in roles]
    return read_generic(path, grids, spec, trace, read_row_records)


def rules(book: Book) -> Iterator[Finding]:
    return iter(())


def plan_roll(book: Book, snap: Snapshot, to: int, extend_to: int | None) -> Plan:
    raise not_supported(book, "1行1指標の一覧の様式")

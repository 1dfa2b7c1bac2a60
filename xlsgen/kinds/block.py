"""Kind `block`: KPI blocks stacked on a measure sheet, each with fields above a small table
whose years are rows (年度 | 目標値 | 実績値 | 達成率 | 評価) — read by the generic engine.

Roll-forward is not planned yet for this kind (the cells it would change are recorded:
`Measure.rollforward`); `plan_roll` refuses clearly."""

from __future__ import annotations

from collections.abc import Iterator

from xlsgen.kinds.roll import not_supported
from xlsgen.layout.engine import read_block_record, read_generic
from xlsgen.model import Book, Finding, Plan, Snapshot

NAME = "block"


def read(path, wb, spec, roles, trace) -> Book:
    grids = [(g, roles[g.name]) for g in wb.grids() if g.name in roles]
    return read_generic(path, grids, spec, trace, read_block_record)


def rules(book: Book) -> Iterator[Finding]:
    return iter(())


def plan_roll(book: Book, snap: Snapshot, to: int, extend_to: int | None) -> Plan:
    raise not_supported(book, "指標のブロックが縦に並ぶ様式")

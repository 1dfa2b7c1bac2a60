"""The interface every kind module provides (a kind = the shape of a layout's records).

A layout file picks its kind by its shape (`parser:` names a record parser, else `record:`
says sheet / block / row), the way pandas picks an engine; see `xlsgen.kinds.kind_of`.
Each kind is a module with these module-level names:
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from xlsgen.model import Book, Finding, Plan, Snapshot


class Kind(Protocol):
    NAME: str  # the kind's name in Book.kind and the JSON (`sheet`, `project_sheets` …)

    def read(self, path, wb, spec, roles: dict[str, dict], trace) -> Book:
        """Read the workbook `wb` (xlsgen.read.grid.WorkbookGrids) with the layout `spec`;
        `roles` maps each selected sheet to its `sheets.roles` entry."""

    def rules(self, book: Book) -> Iterator[Finding]:
        """Validation rules only this kind can check (may yield nothing)."""

    def plan_roll(self, book: Book, snap: Snapshot, to: int, extend_to: int | None) -> Plan:
        """The roll-forward plan to the edition of `to`; XlsgenError (Japanese) when the
        kind cannot roll forward."""

"""Kinds: the shape of a layout's records picks one module, like pandas picks an engine.

| kind | layout | reader |
|---|---|---|
| `sheet` | `record: sheet` (the default) | generic engine: one measure per sheet |
| `block` | `record: block` | generic engine: KPI blocks whose years are rows |
| `row` | `record: row` | generic engine: one KPI per row, grouped into measures |
| `project_sheets` | `parser: project_sheets` | record parser: a 施策 sheet and one sheet per 事務事業 |

Each module provides the same interface (xlsgen.kinds.base.Kind): `read`, `rules`,
`plan_roll`. Adding a kind is one module and one entry below.
"""

from __future__ import annotations

from xlsgen.kinds import block, project_sheets, row, sheet

KINDS = {"sheet": sheet, "block": block, "row": row, "project_sheets": project_sheets}


def kind_of(spec):
    """The kind module of a layout: its record parser (`parser:`), else its `record:`."""
    return KINDS[spec.get("parser") or spec.record]


def kind_named(name: str):
    """The kind module that read a Book (`book.kind`)."""
    return KINDS[name]

"""Sheet names; the formats, colours, page setup and row-height rule live in
xlsgen.render.theme and are re-exported here for existing imports."""

from __future__ import annotations

import re

from xlsgen import text as legal
from xlsgen.render.theme import (  # noqa: F401  (re-exported)
    BASE,
    FONT,
    GRADE_COLORS,
    HEAD_FILL,
    INPUT_FILL,
    PCT,
    Styles,
    header_text,
    list_sheet,
)

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_names(wanted: list[str], reserved: set[str]) -> list[str]:
    """Valid, unique sheet names: ≤ 31 characters, none of []:*?/\\, no edge apostrophes."""
    used = {r.lower() for r in reserved}
    out = []
    for name in wanted:
        base = legal.sheet_name(_BAD_SHEET_CHARS.sub("_", name))
        candidate, n = base[:31], 2
        while candidate.lower() in used:
            suffix = f"~{n}"
            candidate, n = base[:31 - len(suffix)] + suffix, n + 1
        used.add(candidate.lower())
        out.append(candidate)
    return out

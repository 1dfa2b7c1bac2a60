"""A text cell written by several departments: `【企画政策課】\\n…\\n【商工振興課】\\n…`.

`split` finds each department's part (the heading line kept as written, so `〔企画課〕`
stays `〔企画課〕`); `replace` puts one department's new text in its place, or adds the
part where the department's order says when the cell has none yet. Text before the
first heading belongs to no department and is kept as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xlsgen.layout.parsers import DEPT_SUFFIX

_HEADING = re.compile(r"^\s*[【〔]([^】〕]+)[】〕]\s*(.*)$")


@dataclass
class Part:
    department: str | None
    heading: str  # the heading line as written ("" for the text before the first heading)
    body: str


def split(text: str | None) -> list[Part]:
    """The parts of a text cell, in order."""
    parts: list[Part] = []
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        m = _HEADING.match(line)
        if m and DEPT_SUFFIX.search(m.group(1).strip()):
            heading = line if not m.group(2) else line[: line.index(m.group(2))].rstrip()
            parts.append(Part(m.group(1).strip(), heading, m.group(2).strip()))
            continue
        if not parts:
            parts.append(Part(None, "", ""))
        p = parts[-1]
        p.body = f"{p.body}\n{line}" if p.body else line
    for p in parts:
        p.body = p.body.strip("\n")
    return [p for p in parts if p.body or p.department]


def body(text: str | None, department: str) -> str:
    """The text of `department`'s part ("" when it has none)."""
    return next((p.body for p in split(text) if p.department == department), "")


def join(parts: list[Part]) -> str:
    lines = []
    for p in parts:
        if p.heading:
            lines.append(p.heading)
        if p.body:
            lines.append(p.body)
    return "\n".join(lines)


def replace(text: str | None, department: str, new_body: str, order: list[str]) -> str:
    """`text` with `department`'s part replaced by `new_body` (added, in `order`, when the
    cell has no part for it)."""
    parts = split(text)
    for p in parts:
        if p.department == department:
            p.body = new_body.strip("\n")
            return join(parts)
    rank = {d: i for i, d in enumerate(order)}
    mine = rank.get(department, len(order))
    at = len(parts)
    for i, p in enumerate(parts):
        if p.department is not None and rank.get(p.department, len(order)) > mine:
            at = i
            break
    parts.insert(at, Part(department, f"【{department}】", new_body.strip("\n")))
    return join(parts)

"""Named parsers a layout file may call by name.

Value parsers (`fields.<key>.parser`) turn one cell's text into a value:

| name | input → output |
|---|---|
| `departments` | `【企画政策課】【商工振興課】` (or `企画政策課、商工振興課`) → list of names |
| `project_lines` | lines `■name（課）【tag】` each followed by description lines → projects |
| `department_texts` | a text with `【…課】` / `〔…課〕` headings → one text per department |
| `series` | `700人(H26)、600人(H27)` → quantities with their years |
| `target_expression` | `延べ900人（H31～H35）` → a target with kind and period |
| `normalized` | `Ｐ．33` → `P.33` (full-width to half-width, spaces removed) |
| `number_code` | `０１`, `1`, `1.` → `01` (a sheet number, two digits) |

Record parsers (`parser:` of a layout or of a sheet role) read a whole sheet or book whose
structure the generic record units do not cover; they take their labels from the layout's
`labels:` / `columns:` and are listed in `RECORD_PARSERS`.
"""

from __future__ import annotations

import re

from xlsgen.model import DepartmentText, Project
from xlsgen.wareki import normalize_text

DEPT_SUFFIX = re.compile(r"(課|室|局|部|係|センター|事務所|委員会)$")
_HEADING = re.compile(r"^\s*[【〔]([^】〕]+)[】〕]\s*(.*)$")


def departments(text: str) -> list[str]:
    """`【企画政策課】【商工振興課】` → ["企画政策課", "商工振興課"]."""
    found = re.findall(r"【([^】]+)】", text or "")
    if found:
        return [f.strip() for f in found]
    return [p.strip() for p in re.split(r"[、,・/\s]+", normalize_text(text or "")) if p.strip()]


def project_lines(text: str) -> list[Project]:
    """`■name（課）【tag】` lines, each followed by description lines."""
    projects: list[Project] = []
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("■"):
            projects.append(_project_line(stripped[1:].strip()))
        elif stripped and projects:
            d = projects[-1].description
            projects[-1].description = (d + "\n" if d else "") + line.strip("\u3000 ")
        elif stripped:
            projects.append(Project(name="", description=line.strip("\u3000 ")))
    return projects


def _project_line(line: str) -> Project:
    tags = [t.strip() for t in re.findall(r"【([^】]+)】", line)]
    rest = re.sub(r"【[^】]+】", "", line).strip()
    department = None
    for m in reversed(list(re.finditer(r"[（(]([^（）()]+)[）)]", rest))):
        if DEPT_SUFFIX.search(m.group(1).strip()):
            department = m.group(1).strip()
            rest = (rest[: m.start()] + rest[m.end():]).strip()
            break
    return Project(name=rest, department=department, tags=tags)


def department_texts(text: str) -> list[DepartmentText]:
    """Split a text at its `【…課】` / `〔…課〕` headings (department None before the first)."""
    parts: list[DepartmentText] = []
    current: DepartmentText | None = None
    for line in (text or "").splitlines():
        m = _HEADING.match(line)
        if m and DEPT_SUFFIX.search(m.group(1).strip()):
            current = DepartmentText(m.group(1).strip(), m.group(2).strip())
            parts.append(current)
            continue
        if current is None:
            current = DepartmentText(None, "")
            parts.append(current)
        current.text = f"{current.text}\n{line}" if current.text else line
    for p in parts:
        p.text = p.text.strip("\n")
    return [p for p in parts if p.text or p.department]


def _series(text: str):
    from xlsgen.quantities import parse_series

    return [q.to_dict() for q in parse_series(text)[0]]


def _target(text: str):
    from xlsgen.quantities import parse_target

    return parse_target(text)[0].to_dict()


def normalized(text: str) -> str:
    """Full-width letters and digits to half-width, spaces removed (`Ｐ．33` → `P.33`)."""
    return re.sub(r"[\s\u3000]+", "", normalize_text(text or ""))


def number_code(text: str) -> str:
    """A sheet number as two digits (`０１`, `1.` → `01`); other text normalised."""
    t = normalized(text).strip(".")
    return t.zfill(2) if t.isdigit() else t


VALUE_PARSERS = {
    "normalized": normalized,
    "number_code": number_code,
    "departments": departments,
    "project_lines": project_lines,
    "department_texts": department_texts,
    "series": _series,
    "target_expression": _target,
}


def value_parser(name: str):
    return VALUE_PARSERS[name]


def _joso(path, wb, spec, roles):
    from xlsgen.layout.joso import read_joso

    return read_joso(path, wb, spec, roles)


# name -> (reader(path, wb, spec, roles) -> Book, the model kind it fills)
RECORD_PARSERS = {
    "project_sheets_joso": (_joso, "projects"),
}

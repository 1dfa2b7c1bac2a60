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
| `level` | `1-1 name`, `（１）name`, `Ⅰ name`, `基本目標1 name` → a level with its code and name |
| `checked_choice` | `□拡充　■現状維持　□改善` → `現状維持` (the ticked word) |

Record parsers (`parser:` of a layout) read a whole book whose structure the generic record
units do not cover; each is a kind module (xlsgen/kinds/) that takes its labels from the
layout's `labels:`. Their names are listed in `RECORD_PARSERS`.
"""

from __future__ import annotations

import re

from xlsgen.model import Level, ProjectLine, Text
from xlsgen.wareki import normalize_text

DEPT_SUFFIX = re.compile(r"(課|室|局|部|係|センター|事務所|委員会)$")
_HEADING = re.compile(r"^\s*[【〔]([^】〕]+)[】〕]\s*(.*)$")


# a unit that holds others (部, 局) and one it holds (課, 室…): "農林水産部 農政課" is one 課
_PARENT_UNIT = re.compile(r"(部|局|本部|事業本部|区役所|支所)$")
_CHILD_UNIT = re.compile(r"(課|室|係|班|担当|グループ|センター|事務所|館)$")


def departments(text: str) -> list[str]:
    """`【企画政策課】【商工振興課】` → ["企画政策課", "商工振興課"]. Otherwise the names are
    separated by 、 , ・ /; a space or a line break separates two names too (企画課　商工課),
    except between a unit and the unit it holds (`農林水産部 農政課` is one department)."""
    found = re.findall(r"【([^】]+)】", text or "")
    if found:
        return [f.strip() for f in found]
    names: list[str] = []
    for part in re.split(r"[、,・/]+", normalize_text(text or "")):
        words = part.split()
        while words:
            w = words.pop(0)
            while words and _PARENT_UNIT.search(w) and _CHILD_UNIT.search(words[0]):
                w = f"{w} {words.pop(0)}"
            names.append(w)
    return [n for n in names if n]


def project_lines(text: str) -> list[ProjectLine]:
    """`■name（課）【tag】` lines, each followed by description lines."""
    projects: list[ProjectLine] = []
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("■"):
            projects.append(_project_line(stripped[1:].strip()))
        elif stripped and projects:
            d = projects[-1].content
            projects[-1].content = (d + "\n" if d else "") + line.strip("\u3000 ")
        elif stripped:
            projects.append(ProjectLine(name="", content=line.strip("\u3000 ")))
    return projects


def _project_line(line: str) -> ProjectLine:
    tags = [t.strip() for t in re.findall(r"【([^】]+)】", line)]
    rest = re.sub(r"【[^】]+】", "", line).strip()
    department = None
    for m in reversed(list(re.finditer(r"[（(]([^（）()]+)[）)]", rest))):
        if DEPT_SUFFIX.search(m.group(1).strip()):
            department = m.group(1).strip()
            rest = (rest[: m.start()] + rest[m.end():]).strip()
            break
    return ProjectLine(name=rest, department=department, tags=tags)


def department_texts(text: str, key: str = "text") -> list[Text]:
    """Split a text at its `【…課】` / `〔…課〕` headings (department None before the first)."""
    parts: list[Text] = []
    current: Text | None = None
    for line in (text or "").splitlines():
        m = _HEADING.match(line)
        if m and DEPT_SUFFIX.search(m.group(1).strip()):
            current = Text(key, m.group(2).strip(), department=m.group(1).strip())
            parts.append(current)
            continue
        if current is None:
            current = Text(key, "")
            parts.append(current)
        current.text = f"{current.text}\n{line}" if current.text else line
    for p in parts:
        p.text = p.text.strip("\n")
    return [p for p in parts if p.text or p.department]


_CHECKED = "■☑✓✔●◉▣"
_UNCHECKED = "□☐○◯"


def checked_choice(text: str, join: str = "、") -> str:
    """The ticked word of a tick-box list: `□拡充　■現状維持　□改善` → `現状維持` (ticks
    ■ ☑ ✓ ✔ ● ◉ ▣; several ticked: joined with `join`, `、` unless the layout says); a text
    without ticks as typed."""
    t = normalize_text(text or "")
    marks = re.escape(_CHECKED + _UNCHECKED)
    found = re.findall(rf"([{marks}])\s*([^{marks}]+)", t)
    if not found:
        return t.strip()
    picked = [w.strip(" \u3000・、,/／") for m, w in found if m in _CHECKED]
    return join.join(w for w in picked if w)


def is_tick_box(text: str) -> bool:
    """A cell of a tick-box list: it starts with a box, ticked or not (`■現状維持`, `□`)."""
    t = normalize_text(text or "").strip()
    return bool(t) and t[0] in _CHECKED + _UNCHECKED


def is_ticked(text: str) -> bool:
    t = normalize_text(text or "").strip()
    return bool(t) and t[0] in _CHECKED


def checked_cells(text: str, join: str = "、") -> str:
    """`checked_cells`: the option cells of a row already joined (the reader finds them):
    read as `checked_choice` reads one cell."""
    return checked_choice(text, join)


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


_FULL_WIDTH = str.maketrans({chr(0xFF01 + i): chr(0x21 + i) for i in range(94)} | {"\u3000": " "})
_DASHES = "‐‑‒–—―−ー－"
ROMAN = "ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ"
_ASCII_ROMAN = {"I": 1, "V": 5, "X": 10}
_CODE = rf"(?:\(\d+\)|\d+(?:-(?:\d+|\(\d+\)))*|[{ROMAN}]|[IVX]+(?=[\s.、:：]|$))"
_LEVEL = re.compile(rf"^[^\d({ROMAN}]{{0,6}}?({_CODE})[\s.、:：)]*(.*)$", re.S)


def _level_text(text: str) -> str:
    """Full-width ASCII to half-width and dashes between numbers to `-`; Ⅰ Ⅱ … kept."""
    t = (text or "").translate(_FULL_WIDTH).strip()
    return re.sub(rf"(?<=[\d)])\s*[{_DASHES}-]\s*(?=[\d(])", "-", t)


def _roman(code: str) -> int | None:
    if code in ROMAN:
        return ROMAN.index(code) + 1
    total, prev = 0, 0
    for ch in reversed(code):
        v = _ASCII_ROMAN.get(ch)
        if v is None:
            return None
        total, prev = (total - v, prev) if v < prev else (total + v, v)
    return total or None


def level_code(text: str) -> tuple[str | None, int | None, str]:
    """A level's number as written and its name: `1-1 観光` → ("1-1", None, "観光"),
    `（１）観光` → ("(1)", 1, "観光"), `Ⅰ 観光` → ("Ⅰ", 1, "観光"), `基本目標1 観光` →
    ("1", 1, "観光"); a text without one → (None, None, text)."""
    t = _level_text(text)
    m = _LEVEL.match(t)
    if not m:
        return None, None, t
    code, name = m.group(1), m.group(2).strip()
    if code.isdigit():
        no = int(code)
    elif re.fullmatch(r"\(\d+\)", code):
        no = int(code[1:-1])
    elif "-" in code:
        no = None
    else:
        no = _roman(code)
    return code, no, name


def level(text: str) -> Level:
    """`1-1 name` → Level(no None, code "1-1", name) (see `level_code`)."""
    code, no, name = level_code(text)
    return Level(no, name, code=code)


VALUE_PARSERS = {
    "level": level,
    "checked_choice": checked_choice,
    "checked_cells": checked_cells,
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


# Record parsers: each is a kind module of xlsgen.kinds with the same name.
RECORD_PARSERS = ("project_sheets",)

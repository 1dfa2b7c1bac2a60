"""A form's identity as data, and the reader of a returned form.

Every form carries, on a very hidden sheet `_xlsgen`, rows of JSON:

| column A   | the rest of the row (JSON, cut into pieces of at most 30,000 characters) |
|------------|-----------------------------------------------------------------------------|
| `xlsgen-form` | the format version                                                       |
| `identity` | book (layout, title, edition), year asked for, owner, master file name and  |
|            | sha256 as distributed, every owner's form name (the roster), due, contact   |
| `input`    | one per input: form sheet and cell, the assignment, the fingerprint of the  |
|            | master's value (or the department's part of it) as distributed              |
| `locked`   | one per visible sheet: a fingerprint of every locked cell's value            |
| `seal`     | sha256 over all of the above                                                |

The seal is also a custom document property (`xlsgen_seal`), with the owner and the
master's sha256, so a form whose hidden sheet was changed is told apart from a good one.
The reader never trusts a returned file: the safety checks run first, and every problem
is reported with the form's sheet and cell.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from xlsgen.roundtrip.assignment import Assignment, digest, fingerprint

HIDDEN_SHEET = "_xlsgen"
FORMAT = "xlsgen-form"
VERSION = "1"
CHUNK = 30_000
SEAL_PROPERTY = "xlsgen_seal"
OWNER_PROPERTY = "xlsgen_owner"
MASTER_PROPERTY = "xlsgen_master"
COVER_SHEET = "表紙"
NUMBER_SHEET = "数値の入力"
TEXT_SHEET = "文章の入力"
JST = timezone(timedelta(hours=9))


@dataclass
class FormInput:
    """One input cell of a form: where it is in the form, what it is in the master."""

    sheet: str
    cell: str
    assignment: Assignment
    base: str  # fingerprint of the master's value (or part) as distributed

    def to_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "cell": self.cell, "base": self.base,
                "assignment": self.assignment.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FormInput:
        return cls(str(d["sheet"]), str(d["cell"]), Assignment.from_dict(d["assignment"]), str(d["base"]))


def _chunks(text: str) -> list[str]:
    return [text[i: i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def hidden_rows(identity: dict, inputs: list[FormInput], locked: dict[str, dict[str, str]]) -> list[list[str]]:
    """The rows of the hidden sheet, seal last."""
    rows = [[FORMAT, VERSION], ["identity", *_chunks(_json(identity))]]
    rows += [["input", *_chunks(_json(i.to_dict()))] for i in inputs]
    rows += [["locked", *_chunks(_json({"sheet": s, "cells": cells}))] for s, cells in locked.items()]
    rows.append(["seal", seal(identity, inputs, locked)])
    return rows


def seal(identity: dict, inputs: list[FormInput], locked: dict) -> str:
    return digest({"identity": identity, "inputs": [i.to_dict() for i in inputs], "locked": locked})


def cell_fingerprint(value: Any) -> str:
    """The fingerprint of a form cell's value (a locked cell as written or read back)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        value = value.replace("\r\n", "\n")
    return fingerprint(value)[:10]


# --- reading a returned form -----------------------------------------------------------


class NotAForm(Exception):
    """The file is a workbook but not an xlsgen form (or its identity is damaged)."""


@dataclass
class ReturnedForm:
    path: Path
    identity: dict
    inputs: list[FormInput]
    values: dict[tuple[str, str], tuple[Any, str, bool]]  # (sheet, cell) → (value, format, formula)
    edits: list[tuple[str, str, str]] = field(default_factory=list)  # (sheet, cell, what)
    saved: datetime | None = None
    name: str = ""  # the file's name as its sender knows it

    def __post_init__(self):
        self.name = self.name or self.path.name

    @property
    def owner(self) -> str:
        return str(self.identity.get("owner", ""))

    @property
    def saved_text(self) -> str:
        """The time the form was last saved, in Japan time (as its properties say)."""
        return self.saved.astimezone(JST).strftime("%Y-%m-%d %H:%M") if self.saved else ""


def read_form(path: str | Path) -> ReturnedForm:
    """Read a returned form. Raises InputFileError for an unsafe or broken file and
    NotAForm (Japanese message) for a workbook that is not a form or whose identity does
    not hold together."""
    from xlsgen.package import Package, Workbook
    from xlsgen.read.safety import check_workbook_file

    path = Path(path)
    check_workbook_file(path)
    try:
        pkg = Package(path)
        snap = Workbook(pkg).snapshot()
    except NotAForm:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken part is the file's fault
        from xlsgen.errors import InputFileError

        raise InputFileError(f"ブックを読めません（{type(exc).__name__}）", str(path)) from None
    if HIDDEN_SHEET not in snap:
        raise NotAForm("xlsgen の照会様式ではありません（識別情報のシートがありません）")
    rows = _rows(snap[HIDDEN_SHEET])
    if not rows or rows[0][:1] != [FORMAT]:
        raise NotAForm("xlsgen の照会様式ではありません（識別情報が読めません）")
    identity: dict = {}
    inputs: list[FormInput] = []
    locked: dict[str, dict[str, str]] = {}
    sealed = None
    try:
        for row in rows[1:]:
            tag, body = row[0], "".join(row[1:])
            if tag == "identity":
                identity = json.loads(body)
            elif tag == "input":
                inputs.append(FormInput.from_dict(json.loads(body)))
            elif tag == "locked":
                d = json.loads(body)
                locked[str(d["sheet"])] = {str(k): str(v) for k, v in d["cells"].items()}
            elif tag == "seal":
                sealed = row[1] if len(row) > 1 else None
    except (ValueError, KeyError, TypeError):
        raise NotAForm("照会様式の識別情報が壊れています（非表示のシートが書き換えられた可能性があります）") from None
    props = custom_properties(pkg)
    if sealed is None or sealed != seal(identity, inputs, locked) or props.get(SEAL_PROPERTY) != sealed:
        raise NotAForm("照会様式の識別情報が壊れています（非表示のシートか文書のプロパティが書き換えられた"
                       "可能性があります）")
    formulas = {name: formula_cells(pkg.text(part)) for name, part in pkg.sheets.items()
                if name in locked and part in pkg.parts}
    values = {}
    for i in inputs:
        v, fmt = snap.get(i.sheet, {}).get(i.cell, (None, "General"))
        values[(i.sheet, i.cell)] = (v, fmt, i.cell in formulas.get(i.sheet, set()))
    form = ReturnedForm(path, identity, inputs, values, saved=saved_time(pkg))
    form.edits = locked_edits(snap, locked, {(i.sheet, i.cell) for i in inputs}, formulas)
    return form


def _rows(cells: dict[str, tuple[Any, str]]) -> list[list[str]]:
    from xlsgen.package.sheet import split_addr

    by_row: dict[int, dict[int, str]] = {}
    for addr, (v, _) in cells.items():
        if v is None:
            continue
        r, c = split_addr(addr)
        by_row.setdefault(r, {})[c] = v if isinstance(v, str) else str(v)
    return [[by_row[r].get(c, "") for c in range(1, max(by_row[r]) + 1)] for r in sorted(by_row)]


def locked_edits(snap: dict, locked: dict[str, dict[str, str]], inputs: set[tuple[str, str]],
                 formulas: dict[str, set[str]]) -> list[tuple[str, str, str]]:
    """Locked cells whose value is not the one distributed: (sheet, cell, what)."""
    out = []
    for sheet, cells in locked.items():
        got = snap.get(sheet)
        if got is None:
            out.append((sheet, "", "シートがありません"))
            continue
        for addr, fp in cells.items():
            v = got.get(addr, (None, ""))[0]
            if v is None or v == "":
                out.append((sheet, addr, "消されています"))
            elif cell_fingerprint(v) != fp:
                out.append((sheet, addr, "書き換えられています"))
        for addr, (v, _) in got.items():
            if v in (None, "") or addr in cells or (sheet, addr) in inputs or addr in formulas.get(sheet, ()):
                continue
            out.append((sheet, addr, "入力欄ではないセルに書き込まれています"))
    from xlsgen.package.sheet import split_addr

    return sorted(out, key=lambda e: (e[0], split_addr(e[1]) if e[1] else (0, 0)))


_FORMULA_CELL = re.compile(r'<(?:\w+:)?c\b[^>]*?\sr="([A-Z]+[0-9]+)"[^>]*?(?<!/)>(?:(?!</(?:\w+:)?c>).)*?'
                           r'<(?:\w+:)?f\b', re.S)


def formula_cells(xml: str) -> set[str]:
    return set(_FORMULA_CELL.findall(xml))


def custom_properties(pkg) -> dict[str, str]:
    """Custom document properties (docProps/custom.xml) with text values."""
    from xlsgen.package.ooxml import parse

    data = pkg.parts.get("docProps/custom.xml")
    if not data:
        return {}
    try:
        root = parse(data)
    except Exception:  # noqa: BLE001 - damaged properties: no identity
        return {}
    out = {}
    for prop in root:
        name = prop.get("name")
        if name is not None and len(prop):
            out[name] = prop[0].text or ""
    return out


def saved_time(pkg) -> datetime | None:
    """When the form was last saved (docProps/core.xml dcterms:modified), or None."""
    data = pkg.parts.get("docProps/core.xml")
    if not data:
        return None
    m = re.search(rb"<dcterms:modified\b[^>]*>([^<]+)</dcterms:modified>", data)
    if not m:
        return None
    text = m.group(1).decode("ascii", "replace").strip().replace("Z", "+00:00")
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


# --- where each input goes in a form ----------------------------------------------------

# (heading, width) of the two input sheets; the input column is INPUT_COL (zero-based)
NUMBER_COLUMNS = (("№", 5), ("施策", 22), ("指標・項目", 30), ("記入する値", 15), ("単位", 7),
                  ("参考（基準値・前年度・目標）", 26), ("入力", 14), ("入力のしかた", 30))
TEXT_COLUMNS = (("№", 5), ("施策", 20), ("項目", 16), ("参考（前年度など）", 40), ("入力", 62),
                ("文字数", 8))
NUMBER_INPUT_COL = 6
TEXT_INPUT_COL = 4
# the columns that say what a row's input is (施策, 指標・項目, 記入する値, 単位 / 施策, 項目): a
# changed one makes the row's input unusable; other locked cells changed are only reported
LABEL_COLUMNS = {NUMBER_SHEET: ("B", "C", "D", "E"), TEXT_SHEET: ("B", "C")}
FIRST_ROW = 1  # zero-based: row 2, under the heading row


def place(assignments: list[Assignment], bases: dict[str, str]) -> list[FormInput]:
    """The form cell of each assignment: numbers on NUMBER_SHEET, texts and choices on
    TEXT_SHEET, one row each in the order given."""
    from xlsgen.formulas import cell
    from xlsgen.roundtrip.assignment import NUMBER

    out, rows = [], {NUMBER_SHEET: FIRST_ROW, TEXT_SHEET: FIRST_ROW}
    for a in assignments:
        sheet = NUMBER_SHEET if a.value_type == NUMBER else TEXT_SHEET
        col = NUMBER_INPUT_COL if sheet == NUMBER_SHEET else TEXT_INPUT_COL
        out.append(FormInput(sheet, cell(rows[sheet], col), a, bases[a.key]))
        rows[sheet] += 1
    return out

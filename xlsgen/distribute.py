"""Write one input form per department (or per measure) for an edition of a book.

`write_forms(master, out_dir, …)` takes the master the answers will be collected into (the
book itself, or the edition the application layer rolled it forward to) and writes
`<owner>_<book>_<edition>.xlsx` for each owner into `out_dir`. Everything is checked
before the first file is written: a book with nothing to ask writes nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsgen.errors import XlsgenError
from xlsgen.roundtrip import form as F
from xlsgen.roundtrip import segments
from xlsgen.roundtrip.assignment import TEXT, Assignment, Roster, fingerprint
from xlsgen.text import sheet_name
from xlsgen.wareki import FiscalYear

_EDITION_TAIL = re.compile(r"[_\-\s・]*(?:[RHrh]|令和|平成)\s*(?:元|[0-9０-９]{1,2})\s*(?:年度)?\s*(?:版)?$")
_FILE_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


@dataclass
class FormFile:
    owner: str
    kind: str
    path: Path
    inputs: int
    numbers: int
    texts: int
    measures: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"owner": self.owner, "kind": self.kind, "file": str(self.path), "inputs": self.inputs,
                "numbers": self.numbers, "texts": self.texts, "measures": self.measures}


@dataclass
class Distribution:
    master: Path
    edition: int
    fiscal_year: int
    forms: list[FormFile]
    notes: list[str] = field(default_factory=list)
    rolled_from: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"master": str(self.master), "rolled_from": str(self.rolled_from) if self.rolled_from else None,
                "edition": self.edition, "fiscal_year": self.fiscal_year,
                "forms": [f.to_dict() for f in self.forms], "notes": self.notes}


def book_name(path: Path) -> str:
    """The master's file name without its edition (`ojiya_進行管理シート_R3` → `ojiya_進行管理シート`)."""
    stem = _EDITION_TAIL.sub("", path.stem)
    return stem or path.stem


def file_name(owner: str, book: str, edition: int, ext: str = ".xlsx") -> str:
    """`<owner>_<book>_<R4>.xlsx`, legal on Windows and at most 255 bytes."""
    def legal(text: str, limit: int) -> str:
        text = _FILE_FORBIDDEN.sub("_", sheet_name(text, "様式", 200)).strip(" .")
        out = ""
        for ch in text:
            if len((out + ch).encode("utf-8")) > limit:
                break
            out += ch
        return out or "様式"

    return f"{legal(owner, 90)}_{legal(book, 120)}_{FiscalYear(edition).short}{ext}"


def master_value(snap: dict, a: Assignment) -> Any:
    """The master's value behind `a` now: the cell's value, or the department's part of it."""
    raw = snap.get(a.sheet, {}).get(a.cell, (None, ""))[0]
    if a.segment:
        return segments.body(raw if isinstance(raw, str) else None, a.segment)
    return raw


def write_forms(master: str | Path, out_dir: str | Path, roster: Roster, *, due: str | None = None,
                contact: str | None = None, protect_inputs: list[Path] = ()) -> Distribution:
    """Write every owner's form for `roster` (read from `master`) into `out_dir`."""
    from xlsgen.atomic import refuse_overwrite
    from xlsgen.package import Package, Workbook
    from xlsgen.render.form import write_form

    master, out_dir = Path(master), Path(out_dir)
    if not roster.assignments:
        why = "、".join(roster.notes[:3]) or "入力欄にできるセルがありません"
        raise XlsgenError(f"照会する入力欄がないため様式を作りません（{why}）", str(master))
    data = master.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    snap = Workbook(Package(master)).snapshot()
    bases = {}
    for a in roster.assignments:
        now = master_value(snap, a)
        bases[a.key] = fingerprint(now)
        if a.value_type == TEXT:
            a.current = now if now not in (None, "") else None
    name = book_name(master)
    files = {o.name: file_name(o.name, name, roster.edition) for o in roster.owners}
    seen: dict[str, str] = {}
    for owner, f in list(files.items()):  # two owners cut to the same name: number them
        key = f.casefold()
        if key in seen:
            stem = Path(f).stem
            n = 2
            while f"{stem}_{n}.xlsx".casefold() in seen:
                n += 1
            files[owner] = f = f"{stem}_{n}.xlsx"
        seen[f.casefold()] = owner
    for f in files.values():
        refuse_overwrite(out_dir / f, [master, *protect_inputs])
    out = Distribution(master, roster.edition, roster.fiscal_year, [], list(roster.notes))
    for o in roster.owners:
        mine = roster.of(o.name)
        inputs = F.place(mine, bases)
        identity = {
            "format": F.FORMAT, "owner": o.name, "owner_kind": o.kind,
            "book": {"layout": roster.layout, "layout_title": roster.layout_title, "title": roster.title},
            "edition": roster.edition, "fiscal_year": roster.fiscal_year,
            "master": master.name, "master_sha256": sha,
            "due": due or "", "contact": contact or "", "measures": o.measures,
            "form": files[o.name], "roster": files,
        }
        path = out_dir / files[o.name]
        write_form(path, identity, inputs)
        numbers = sum(i.sheet == F.NUMBER_SHEET for i in inputs)
        out.forms.append(FormFile(o.name, o.kind, path, len(inputs), numbers, len(inputs) - numbers,
                                  o.measures))
    return out

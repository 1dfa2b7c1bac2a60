"""Fill returned forms the way a department would, for the round-trip tests.

`fill(form, out, answers, saved)` opens a distributed form with openpyxl (another program
than the one that wrote it, as Excel would be), types the answers into their input cells
(found through the form's own identity, by assignment key), optionally changes locked
cells, saves it, and sets the time it was saved (docProps/core.xml) to `saved`.
"""

from __future__ import annotations

import re
import shutil
import warnings
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import openpyxl

from xlsgen.roundtrip.form import read_form


def inputs(form: Path) -> dict:
    """assignment key → FormInput of a form."""
    return {i.assignment.key: i for i in read_form(form).inputs}


def fill(form: Path, out: Path, answers: dict, saved: datetime, locked: dict | None = None,
         unprotect: bool = False) -> Path:
    """Type `answers` ({assignment key: value}) into `form`; `locked` ({(sheet, cell):
    value}) writes cells outside the inputs (after taking the protection off, as a
    clerk could: it has no password)."""
    where = inputs(form)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(form)
    for key, value in answers.items():
        i = where[key]
        wb[i.sheet][i.cell] = value
    for (sheet, cell), value in (locked or {}).items():
        ws = wb[sheet]
        if unprotect:
            ws.protection.sheet = False
        ws[cell] = value
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    set_saved(out, saved)
    return out


def set_saved(path: Path, when: datetime) -> None:
    """Rewrite the file's last-saved time (dcterms:modified)."""
    stamp = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as w:
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified\b[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp + rb"\g<2>", data)
            w.writestr(info, data)
    shutil.move(tmp, path)


def jst(day: int, hour: int = 9) -> datetime:
    from datetime import timedelta

    return datetime(2022, 5, day, hour, 0, tzinfo=timezone(timedelta(hours=9)))

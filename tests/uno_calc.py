"""Drive LibreOffice Calc through its UNO API, as a clerk at the keyboard would.

Run with a Python that has LibreOffice's `uno` module (Debian: python3-uno, the system
python3): `python3 tests/uno_calc.py JOB.json` prints a JSON result. The job:

    {"file": "form.xlsx",
     "type": [["数値の入力", "C2", "書き換え"], ...],   # typed into the cell like a user (dispatcher):
                                                         # protection applies
     "api": [["数値の入力", "G3", -5], ...],           # set through the API (no protection check)
     "insert_rows": [["01", 1, 2]], "insert_cols": [["01", 0, 1]],   # zero-based index, count
     "move_row": [["02", 17, 16]],                    # row 17 moved above row 16 (one-based)
     "move_sheet": [["33", 0]],                        # tab order
     "show_invalid": ["数値の入力"],                   # Tools > Detective > Mark Invalid Data
     "probe": [["数値の入力", "G2"], ...],             # lock flag, text and validation of cells
     "save_as": "out.xlsx"}                            # store as .xlsx (Calc MS Excel 2007 XML)

A private LibreOffice (own profile, own port) is started and stopped for each job.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import uno  # noqa: F401 - provided by LibreOffice
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(job_path: str) -> None:
    job = json.load(open(job_path, encoding="utf-8"))
    port = free_port()
    profile = tempfile.mkdtemp(prefix="xlsgen-uno-")
    proc = subprocess.Popen(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--invisible",
         "--nologo", f"--accept=socket,host=127.0.0.1,port={port};urp;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        ctx = None
        for _ in range(200):
            try:
                ctx = resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
                break
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.25)
        if ctx is None:
            raise SystemExit("LibreOffice did not start")
        print(json.dumps(run(ctx, job), ensure_ascii=False))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def run(ctx, job: dict) -> dict:
    smgr = ctx.ServiceManager
    desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(job["file"]), "_blank", 0,
                                       (prop("Hidden", True),))
    out: dict = {"sheets": {}, "cells": {}, "typed": {}, "invalid": []}
    try:
        sheets = doc.Sheets
        for i in range(sheets.Count):
            ws = sheets.getByIndex(i)
            out["sheets"][ws.Name] = {"protected": bool(ws.isProtected()), "visible": bool(ws.IsVisible)}
        ctrl = doc.getCurrentController()
        frame = ctrl.getFrame()
        disp = smgr.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)
        for sheet, cell, text in job.get("type", []):
            ws = sheets.getByName(sheet)
            c = ws.getCellRangeByName(cell)
            before = c.getString()
            disp.executeDispatch(frame, ".uno:GoToCell", "", 0, (prop("ToPoint", f"$'{sheet}'.{cell}"),))
            disp.executeDispatch(frame, ".uno:EnterString", "", 0, (prop("StringName", text),))
            out["typed"][f"{sheet}!{cell}"] = {"before": before, "after": c.getString()}
        for sheet, index, count in job.get("insert_rows", []):  # zero-based row index
            sheets.getByName(sheet).Rows.insertByIndex(index, count)
        for sheet, index, count in job.get("insert_cols", []):
            sheets.getByName(sheet).Columns.insertByIndex(index, count)
        for sheet, src, dst in job.get("move_row", []):  # one-based rows: row src goes above row dst
            ws = sheets.getByName(sheet)
            ws.Rows.insertByIndex(dst - 1, 1)
            src = src + 1 if src >= dst else src
            source = ws.getCellRangeByName(f"A{src}:Z{src}").RangeAddress
            ws.moveRange(ws.getCellRangeByName(f"A{dst}").CellAddress, source)
            ws.Rows.removeByIndex(src - 1, 1)
        for name, position in job.get("move_sheet", []):
            sheets.moveByName(name, position)
        for sheet, cell, value in job.get("api", []):
            c = sheets.getByName(sheet).getCellRangeByName(cell)
            if isinstance(value, (int, float)):
                c.setValue(value)
            else:
                c.setString(value)
        for sheet in job.get("show_invalid", []):
            ws = sheets.getByName(sheet)
            ctrl.setActiveSheet(ws)
            disp.executeDispatch(frame, ".uno:ShowInvalid", "", 0, ())
            page = ws.DrawPage
            for i in range(page.Count):
                shape = page.getByIndex(i)
                if shape.ShapeType == "com.sun.star.drawing.EllipseShape":
                    out["invalid"].append(f"{sheet}!{shape.Anchor.AbsoluteName.split('.')[-1].replace('$', '')}")
        for sheet, cell in job.get("probe", []):
            c = sheets.getByName(sheet).getCellRangeByName(cell)
            v = c.Validation
            out["cells"][f"{sheet}!{cell}"] = {
                "locked": bool(c.CellProtection.IsLocked), "string": c.getString(),
                "validation": {"type": v.Type.value, "alert": v.ErrorAlertStyle.value,
                               "operator": v.getOperator().value, "formula1": v.getFormula1(),
                               "formula2": v.getFormula2(), "show_error": bool(v.ShowErrorMessage)}}
        if job.get("save_as"):
            doc.storeToURL(uno.systemPathToFileUrl(job["save_as"]),
                           (prop("FilterName", "Calc MS Excel 2007 XML"),))
    finally:
        try:
            doc.close(True)
        except Exception:  # noqa: BLE001 - LibreOffice 7.4 may crash on close after a refused
            pass           # keystroke; everything asked for was done (and stored) before
    return out


if __name__ == "__main__":
    main(sys.argv[1])

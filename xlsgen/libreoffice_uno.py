"""One LibreOffice kept running for many conversions (run by a Python that has LibreOffice's
`uno` module, such as Debian's system python3 with python3-uno; xlsgen never imports it).

    python3 libreoffice_uno.py PROFILE_DIR

starts `soffice --headless` on the private profile PROFILE_DIR (the one `xlsgen.libreoffice`
writes, which recalculates every workbook on load) and then reads one JSON request a line
on standard input:

    {"src": "in.xlsx", "dst": "out/in.pdf", "filter": "calc_pdf_Export", "options": ""}

loads `src` hidden, stores it to `dst` with the export filter (and its options, as
`--convert-to FORMAT:FILTER:OPTIONS` takes them) and answers one line, {"ok": true} or
{"ok": false, "error": "..."}. End of input stops LibreOffice. `soffice --convert-to` does
the same work but starts LibreOffice for every call (0.8 s of CPU each time here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import uno  # noqa: F401 - provided by LibreOffice
from com.sun.star.beans import PropertyValue


def _prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def _connect(profile: str):
    pipe = f"xlsgen-{os.getpid()}"
    office = subprocess.Popen(
        ["soffice", f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}", "--headless",
         "--invisible", "--norestore", "--nologo", "--nodefault", f"--accept=pipe,name={pipe};urp;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(600):
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return office, ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:  # noqa: BLE001 - not listening yet
            if office.poll() is not None:
                break
            time.sleep(0.05)
    office.kill()
    raise SystemExit("LibreOffice did not start")


def _convert(desktop, req: dict) -> None:
    # read-only: no lock file is left beside the input, and a stale one does not stop the load
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(req["src"])), "_blank", 0,
                                       (_prop("Hidden", True), _prop("ReadOnly", True)))
    if doc is None:
        raise RuntimeError("LibreOffice could not open the file")
    try:
        props = [_prop("FilterName", req["filter"]), _prop("Overwrite", True)]
        if req.get("options"):
            props.append(_prop("FilterOptions", req["options"]))
        doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(req["dst"])), tuple(props))
    finally:
        doc.close(True)


def main(profile: str) -> None:
    office, desktop = _connect(profile)
    try:
        for line in sys.stdin:
            try:
                _convert(desktop, json.loads(line))
                answer = {"ok": True}
            except Exception as exc:  # noqa: BLE001 - reported to the caller, next request
                answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
    finally:
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001 - the bridge goes down with it
            pass
        try:
            office.wait(timeout=30)
        except subprocess.TimeoutExpired:
            office.kill()


if __name__ == "__main__":
    main(sys.argv[1])

"""LibreOffice headless: recalculate a workbook or render it to PDF, with a private profile.

The profile sets OOXMLRecalcMode to 0 (always recalculate on load), so the values read
back are LibreOffice's own results, not the cached values we wrote.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

_PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    """Path of the LibreOffice binary, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


@functools.cache
def _profile() -> Path:
    """A private LibreOffice profile for this process (two runs never share one: a second
    soffice on a profile in use would hand its work to the first), removed at exit."""
    root = Path(tempfile.mkdtemp(prefix="xlsgen-lo-profile-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    user = root / "user"
    user.mkdir(parents=True)
    (user / "registrymodifications.xcu").write_text(_PROFILE_XCU, encoding="utf-8")
    return root


def convert(src: str | Path, outdir: str | Path, fmt: str = "xlsx", timeout: int = 180) -> Path:
    """Convert `src` with LibreOffice into `outdir` (recalculating on load); return the path."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) が見つかりません")
    src, outdir = Path(src), Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [exe, f"-env:UserInstallation=file://{_profile()}", "--headless", "--norestore",
         "--convert-to", fmt, "--outdir", str(outdir), str(src)],
        check=True, capture_output=True, timeout=timeout,
    )
    out = outdir / (src.stem + "." + fmt.split(":")[0])
    if not out.exists():
        raise RuntimeError(f"LibreOffice の変換に失敗しました: {src}")
    return out


def recalculate(src: str | Path, outdir: str | Path) -> Path:
    """A copy of `src` recalculated by LibreOffice (read it with openpyxl data_only=True)."""
    return convert(src, outdir, "xlsx")


def to_pdf(src: str | Path, outdir: str | Path) -> Path:
    """`src` printed to PDF by LibreOffice (A4 page setup of the workbook) in `outdir`."""
    return convert(src, outdir, "pdf")

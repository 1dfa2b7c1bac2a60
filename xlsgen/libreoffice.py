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


# every sheet of a workbook as CSV, one file per sheet named `<file>-<sheet>.csv`
ALL_SHEETS_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def sheet_names_many(srcs, outdir: str | Path) -> list[list[str]]:
    """The sheets LibreOffice sees in each of `srcs` (it opens every workbook and writes each
    sheet as CSV, one process for all: cheaper than saving whole workbooks)."""
    srcs = [Path(s) for s in srcs]
    outdir = Path(outdir)
    _convert(srcs, outdir, ALL_SHEETS_CSV)
    names = []
    for i, src in enumerate(srcs):
        prefix = f"{i:04d}_{src.stem}-"
        names.append(sorted(p.name[len(prefix):-len(".csv")] for p in outdir.glob("*.csv")
                            if p.name.startswith(prefix)))
    return names


def convert_many(srcs, outdir: str | Path, fmt: str = "xlsx", timeout: int = 600) -> list[Path]:
    """Convert every file of `srcs` with one LibreOffice process (starting LibreOffice costs
    more than converting one workbook); returns the outputs in the order of `srcs`. Files
    that share a name are converted under numbered names."""
    srcs = [Path(s) for s in srcs]
    staged = _convert(srcs, outdir, fmt, timeout)
    ext = fmt.split(":")[0]
    outs = []
    for link, src in zip(staged, srcs):
        out = Path(outdir) / (link.stem + "." + ext)
        if not out.exists():
            raise RuntimeError(f"LibreOffice の変換に失敗しました: {src}")
        outs.append(out)
    return outs


def _convert(srcs: list[Path], outdir: str | Path, fmt: str, timeout: int = 600) -> list[Path]:
    """One LibreOffice process converting `srcs` (staged as `0000_<name>`, so names never
    clash) into `outdir`; returns the staged names."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) が見つかりません")
    if not srcs:
        return []
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix="xlsgen-lo-in-", dir=outdir))
    staged = []
    try:
        for i, src in enumerate(srcs):
            link = stage / f"{i:04d}_{src.name}"
            try:
                link.symlink_to(src.resolve())
            except OSError:
                shutil.copy(src, link)
            staged.append(link)
        subprocess.run(
            [exe, f"-env:UserInstallation=file://{_profile()}", "--headless", "--norestore",
             "--convert-to", fmt, "--outdir", str(outdir), *map(str, staged)],
            check=True, capture_output=True, timeout=timeout,
        )
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return staged


def recalculate_many(srcs, outdir: str | Path) -> list[Path]:
    """Copies of `srcs` recalculated by one LibreOffice process (see `convert_many`)."""
    return convert_many(srcs, outdir, "xlsx")


def to_pdf_many(srcs, outdir: str | Path) -> list[Path]:
    """Each of `srcs` printed to PDF by one LibreOffice process (see `convert_many`)."""
    return convert_many(srcs, outdir, "pdf")


def recalculate(src: str | Path, outdir: str | Path) -> Path:
    """A copy of `src` recalculated by LibreOffice (read it with openpyxl data_only=True)."""
    return convert(src, outdir, "xlsx")


def to_pdf(src: str | Path, outdir: str | Path) -> Path:
    """`src` printed to PDF by LibreOffice (A4 page setup of the workbook) in `outdir`."""
    return convert(src, outdir, "pdf")

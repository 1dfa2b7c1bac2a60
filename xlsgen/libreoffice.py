"""LibreOffice headless: recalculate a workbook or render it to PDF, with a private profile.

The profile sets OOXMLRecalcMode to 0 (always recalculate on load), so the values read
back are LibreOffice's own results, not the cached values we wrote.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
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
    """A private LibreOffice profile for this process's `soffice --convert-to` (two runs
    never share one: a second soffice on a profile in use would hand its work to the
    first, which then quits), removed at exit."""
    return _new_profile()


def _new_profile() -> Path:
    root = Path(tempfile.mkdtemp(prefix="xlsgen-lo-profile-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    user = root / "user"
    user.mkdir(parents=True)
    (user / "registrymodifications.xcu").write_text(_PROFILE_XCU, encoding="utf-8")
    return root


# export filters of the formats `--convert-to` is given by extension alone
_FILTERS = {"xlsx": "Calc MS Excel 2007 XML", "pdf": "calc_pdf_Export", "ods": "calc8"}
_UNO_PYTHON = "/usr/bin/python3"


class _Office:
    """One LibreOffice for this process, kept running and driven through UNO by the
    system python3 (`libreoffice_uno.py`), so a conversion does not pay LibreOffice's
    start. Unavailable (no python3 with `uno`, or it failed): `_office()` gives None and
    every conversion starts `soffice --convert-to` as before."""

    def __init__(self):
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            [_UNO_PYTHON, str(Path(__file__).with_name("libreoffice_uno.py")), str(_new_profile())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            encoding="utf-8", start_new_session=True)  # its group: the helper and its soffice
        atexit.register(self.close)

    def convert(self, src: Path, dst: Path, filter_name: str, options: str, timeout: float) -> bool:
        """Store `src` as `dst`; False when the office has gone (the caller falls back)."""
        request = json.dumps({"src": str(src), "dst": str(dst), "filter": filter_name,
                              "options": options}, ensure_ascii=False)
        with self.lock:
            if self.proc.poll() is not None:
                return False
            ready = None
            try:
                self.proc.stdin.write(request + "\n")
                self.proc.stdin.flush()
                ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
                line = self.proc.stdout.readline() if ready else ""
            except (OSError, ValueError):
                line = ""
            if not line:
                self.close(wait=0 if ready == [] else 60)
                return False
        answer = json.loads(line)
        if not answer.get("ok"):
            raise RuntimeError(f"LibreOffice の変換に失敗しました: {src}（{answer.get('error')}）")
        return True

    def close(self, wait: float = 60) -> None:
        """Stop the office: end of input lets the helper close LibreOffice; one that does not
        answer (a conversion stuck past its timeout) is killed with its soffice."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=wait)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    self.proc.kill()
                self.proc.wait()
                _await_group_end(self.proc.pid)


def _group_alive(pgid: int) -> list[int]:
    """Members of process group `pgid` not yet dead (zombies aside), from /proc; empty
    where there is no /proc."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            alive.append(int(stat.parent.name))
    return alive


def _await_group_end(pgid: int, limit: float = 15.0) -> None:
    """SIGKILL is delivered, not awaited: soffice.bin (the helper's grandchild) can still be
    tearing down a large document after the helper is reaped. Wait until no member of the
    group is left, killing again any that is (one forked while the first signal went out)."""
    deadline = time.monotonic() + limit
    while _group_alive(pgid) and time.monotonic() < deadline:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            return
        time.sleep(0.02)


_OFFICE: list = []  # [the office or None when unusable, offices started]
_RESTARTS = 3


def _office() -> _Office | None:
    """This process's running LibreOffice, started on first use and again (a few times)
    after one stopped or was killed; None where the system python3 has no `uno` module
    (or XLSGEN_LO_SERVER=0)."""
    if not _OFFICE:
        usable = (os.environ.get("XLSGEN_LO_SERVER", "1") != "0" and os.path.exists(_UNO_PYTHON)
                  and subprocess.run([_UNO_PYTHON, "-c", "import uno"], capture_output=True).returncode == 0)
        _OFFICE[:] = [_Office() if usable else None, 1]
    office, started = _OFFICE
    if office is not None and office.proc.poll() is not None and started <= _RESTARTS:
        office = _Office()
        _OFFICE[:] = [office, started + 1]
    return office if office is not None and office.proc.poll() is None else None


def _filter(fmt: str) -> tuple[str, str] | None:
    """`--convert-to` FORMAT as (export filter, its options), or None when not known."""
    ext, _, rest = fmt.partition(":")
    if rest:
        name, _, options = rest.partition(":")
        return name, options
    return (_FILTERS[ext], "") if ext in _FILTERS else None


def _convert_in_office(srcs: list[Path], outdir: Path, fmt: str, timeout: float) -> bool:
    """`srcs` converted by the running LibreOffice into `outdir` as `--convert-to` names them
    (`<stem>.<ext>`); False (nothing to trust) when it cannot be used."""
    office, filt = _office(), _filter(fmt)
    if office is None or filt is None or timeout <= 0:
        return False
    ext = fmt.split(":")[0]
    for src in srcs:
        if not office.convert(src, outdir / f"{src.stem}.{ext}", *filt, timeout):
            return False
    return True


def convert(src: str | Path, outdir: str | Path, fmt: str = "xlsx", timeout: int = 180) -> Path:
    """Convert `src` with LibreOffice into `outdir` (recalculating on load); return the path."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) が見つかりません")
    src, outdir = Path(src), Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if not _convert_in_office([src], outdir, fmt, timeout):
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
        if _convert_in_office(staged, outdir, fmt, timeout):
            return staged
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

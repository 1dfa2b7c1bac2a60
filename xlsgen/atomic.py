"""Atomic output: write to a temporary file beside the target, check it, then rename over it.

- The temporary name is `.<short stem>.<pid>_<rand>.xlsgen-tmp`: it never ends in `.xlsx`
  (a clerk cannot open it by mistake), it is never longer than the final name (so a name
  that fits, fits), and `remove_stale_temps` can tell a dead run's leftovers by the pid.
- The file is created with ordinary permissions (0666 minus the umask), not mkstemp's 0600.
- A written .xlsx/.xlsm is checked well-formed (zip + every XML part parses) before the
  rename, so no writer can report success on a workbook Excel cannot open.
- Environment failures (read-only folder, full disk, name too long) become one Japanese
  line naming the requested output; no partial file is left.
- `refuse_overwrite` is the one place that refuses an output that is one of the inputs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from xml.parsers import expat

from xlsgen.errors import OutputError, XlsgenError

TEMP_SUFFIX = ".xlsgen-tmp"
_TEMP_RE = re.compile(r"^\..*\.(?P<pid>[0-9a-f]+)_[0-9a-z]{4}" + re.escape(TEMP_SUFFIX) + "$")
_MIN_TEMP_BYTES = 32  # room for `.x.<pid>_<rand>.xlsgen-tmp` when the final name is short
_XML_PARTS = (".xml", ".rels", ".vml")

_CAUSES = {
    errno.EACCES: "出力先に書き込めません（アクセス権がありません）",
    errno.EPERM: "出力先に書き込めません（アクセス権がありません）",
    errno.EROFS: "出力先に書き込めません（読み取り専用です）",
    errno.ENOSPC: "出力先の空き容量が足りません",
    errno.EDQUOT: "出力先の空き容量が足りません（容量制限）",
    errno.ENAMETOOLONG: "出力ファイルの名前が長すぎます（255 バイトまで）",
    errno.ENOTDIR: "出力先に書き込めません（フォルダの位置にファイルがあります）",
    errno.EEXIST: "出力先に書き込めません（フォルダの位置にファイルがあります）",
    errno.EISDIR: "出力先に書き込めません（同じ名前のフォルダがあります）",
}


def _same_name_key(p: Path) -> tuple[str, str]:
    """(real folder, case-folded NFC name): how a case-insensitive file system sees `p`."""
    parent = os.path.realpath(p.parent if str(p.parent) else ".")
    return os.path.normcase(parent), unicodedata.normalize("NFC", p.name).casefold()


def is_same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when writing `a` would replace `b`: same real path (symlinks and `..`
    resolved), a hard link, or the same name up to case in the same folder."""
    pa, pb = Path(a), Path(b)
    with contextlib.suppress(OSError):
        if os.path.samefile(pa, pb):
            return True
    ra, rb = Path(os.path.realpath(pa)), Path(os.path.realpath(pb))
    return ra == rb or _same_name_key(ra) == _same_name_key(rb) or \
        _same_name_key(pa) == _same_name_key(pb)


def refuse_overwrite(output: str | os.PathLike, inputs: Iterable[str | os.PathLike]) -> None:
    """Raise XlsgenError if `output` is (or would replace) one of `inputs`."""
    for src in inputs:
        if src is not None and is_same_file(output, src):
            raise XlsgenError(
                f"出力先が入力ファイル「{src}」と同じです。入力を上書きしないよう、別の名前を指定してください",
                str(output))


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Ordinary permissions of a new file: 0666 minus the umask."""
    return 0o666 & ~_umask()


def temp_name(target: Path) -> str:
    """`.<stem prefix>.<pid>_<rand>.xlsgen-tmp`, at most as long (in bytes) as the final
    name, or 32 bytes for a short final name."""
    tail = f".{os.getpid():x}_{''.join(secrets.choice('0123456789abcdefghijklmnopqrstuvwxyz') for _ in range(4))}{TEMP_SUFFIX}"
    budget = max(len(target.name.encode("utf-8")), _MIN_TEMP_BYTES) - len(tail.encode()) - 1
    stem = ""
    for ch in target.stem:
        if len((stem + ch).encode("utf-8")) > budget:
            break
        stem += ch
    return f".{stem or 'x'}{tail}"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def remove_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Remove temporaries of our own naming whose process is gone (a killed run)."""
    removed = []
    with contextlib.suppress(OSError):
        for p in Path(folder).iterdir():
            m = _TEMP_RE.match(p.name)
            if m and not _pid_alive(int(m.group("pid"), 16)):
                with contextlib.suppress(OSError):
                    p.unlink()
                    removed.append(p)
    return removed


_NOT_XML = bytes(range(9)) + b"\x0b\x0c" + bytes(range(14, 32))  # bytes XML 1.0 forbids
_XML_BYTES = bytes(b for b in range(256) if b not in _NOT_XML)
LARGE_COPIED_BYTES = 1024 * 1024


def check_well_formed(path: str | os.PathLike, target: str | os.PathLike | None = None,
                      skip: Iterable[str] = (), copied: Iterable[str] = ()) -> None:
    """Raise XlsgenError unless `path` is a zip whose XML parts all parse (expat, no DTDs).

    `skip`: parts the writer copied from an input without opening them (a large sheet a
    roll leaves as it is): not read here either. `copied`: parts copied unchanged from an
    input (the writer did not write them): a large one (over LARGE_COPIED_BYTES, such as the
    shared strings of a pasted data sheet) is scanned for the characters XML forbids (what a
    clerk's paste leaves behind) instead of parsed; a small one is parsed as any other."""
    name = str(target or path)
    skip, copied = set(skip), set(copied)
    try:
        with zipfile.ZipFile(path) as zf:
            parts = zf.namelist()
            if "[Content_Types].xml" not in parts:
                raise OutputError("書き出したブックに必要な部品がありません。出力を中止しました", name)
            for part in parts:
                if not part.endswith(_XML_PARTS) and part != "[Content_Types].xml" or part in skip:
                    continue
                data = zf.read(part)
                if part in copied and len(data) > LARGE_COPIED_BYTES:
                    if data.translate(None, _XML_BYTES) or b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data:
                        err = OutputError(f"書き出したブックの部品 {part} に XML で使えない文字があります。"
                                          "出力を中止しました", name)
                        err.part = part
                        raise err
                    continue
                parser = expat.ParserCreate(namespace_separator=" ")  # undeclared prefixes too
                try:
                    parser.Parse(data, True)
                except expat.ExpatError as exc:
                    err = OutputError(
                        f"書き出したブックの部品 {part} が壊れています（{expat.ErrorString(exc.code)}、"
                        f"{exc.lineno} 行 {exc.offset} 文字目）。出力を中止しました", name)
                    err.part = part
                    err.why = expat.ErrorString(exc.code)
                    raise err from None
    except zipfile.BadZipFile:
        raise OutputError("書き出したブックが zip として読めません。出力を中止しました", name) from None


def os_error_cause(exc: BaseException) -> OSError | None:
    """The OSError behind `exc` (writers wrap it: xlsxwriter's FileCreateError, …)."""
    seen = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in _CAUSES:
            return e
        stack.extend([e.__cause__, e.__context__])
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
    return None


def output_error(target: str | os.PathLike, exc: BaseException) -> OutputError | None:
    """A Japanese OutputError for an environment failure while writing `target`, or None."""
    cause = os_error_cause(exc)
    if cause is None:
        return None
    if cause.filename and cause.errno not in (errno.ENOSPC, errno.EDQUOT):
        folder = os.path.realpath(Path(target).parent)
        named = os.path.realpath(os.fsdecode(cause.filename))
        if os.path.dirname(named) != folder and not (folder + os.sep).startswith(named + os.sep) \
                and named != folder:
            return None  # about another file (an input): not ours to explain
    return OutputError(f"{_CAUSES[cause.errno]}。書き出しを中止しました（途中のファイルは残していません）",
                       str(target))


def exists_error(target: str | os.PathLike) -> XlsgenError:
    return XlsgenError("出力先のファイルが既にあります（記入済みの内容を上書きしないよう、書き出していません）。"
                       "上書きする場合は --force を付けてください", str(target))


def _place(tmp: Path, target: Path) -> None:
    """Put `tmp` at `target` only if nothing is there yet (a hard link cannot replace a
    file); where hard links are not possible, check and rename."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise exists_error(target) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if target.exists():
            raise exists_error(target) from None
        os.replace(tmp, target)
        return
    tmp.unlink()


def _release(exc: BaseException) -> None:
    """Free what a failed writer left open (an unclosed ZipFile in its frames) now and
    quietly: otherwise its finalizer runs at exit, tries to write to the full disk again and
    prints a traceback after the clear message."""
    import gc
    import sys
    import traceback

    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        e, seen = exc, set()
        while e is not None and id(e) not in seen:
            seen.add(id(e))
            if e.__traceback__ is not None:
                traceback.clear_frames(e.__traceback__)
            e = e.__context__
        gc.collect()
    finally:
        sys.unraisablehook = hook


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (),
                replace: bool = True, skip: Iterable[str] = (),
                copied: Iterable[str] = ()) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success check it and rename it
    to `target` (with `replace=False`, only if no file is there: an existing one is never
    overwritten, even one made meanwhile; `skip`, `copied`: see `check_well_formed`).

    `inputs` are refused as the target (see `refuse_overwrite`). On any exception the
    temporary file is removed and the target is left untouched, so a reader never sees a
    half-written workbook and no temporary file is left behind.
    """
    target = Path(target)
    refuse_overwrite(target, inputs)
    tmp_path: Path | None = None
    try:
        if len(target.name.encode("utf-8")) > 255:
            raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), str(target))
        if target.is_dir():
            raise OutputError("出力先はフォルダです。書き出すファイルの名前（例: 報告書.xlsx）を指定してください",
                              str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(20):
            candidate = target.parent / temp_name(target)
            try:
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            os.close(fd)
            tmp_path = candidate
            break
        else:
            raise OSError(errno.EEXIST, "temporary name", str(target))
        yield tmp_path
        if target.suffix.lower() in (".xlsx", ".xlsm"):
            check_well_formed(tmp_path, target, skip, copied)
        os.chmod(tmp_path, file_mode())
        if replace:
            os.replace(tmp_path, target)
        else:
            _place(tmp_path, target)
    except XlsgenError:
        raise
    except BaseException as exc:
        err = output_error(target, exc) if isinstance(exc, Exception) else None
        if err is not None:
            _release(exc)
            raise err from None
        raise
    finally:
        if tmp_path is not None:
            with contextlib.suppress(OSError):
                if tmp_path.exists():
                    tmp_path.unlink()

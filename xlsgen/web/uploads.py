"""What the page checks of an upload before any reader sees it: the real inflated size of
each zip member, measured by inflating it in small chunks (the sizes a zip declares are
never trusted), against a per-upload budget; and a digest to notice the same file twice.
"""

from __future__ import annotations

import copy
import hashlib
import zipfile
from collections.abc import Callable
from pathlib import Path

CHUNK = 64 * 1024
PART_RATIO = 200  # inflated / compressed, for parts over 1 MB (as the read layer)
BOMB = "（zip 爆弾の可能性）"


class UploadRefused(Exception):
    """An upload refused before processing; `str()` is the Japanese reason (no file name)."""


class Cancelled(Exception):
    """The clerk cancelled while the upload was being checked."""


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(block)
    return h.hexdigest()


def inflated_size(path: Path, budget: int, cancelled: Callable[[], bool] = lambda: False) -> int:
    """The bytes `path` inflates to, counted by inflating every member (at most `budget`:
    beyond it UploadRefused). A file that is not a zip is measured as its own size (the
    read layer then says what it is); a damaged member is left to the read layer too."""
    size = Path(path).stat().st_size
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return size
    total = 0
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise UploadRefused(f"部品 {info.filename} が暗号化されています。"
                                    "Excel でパスワードを解除して保存し直してください")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise UploadRefused(f"部品 {info.filename} は Excel が使わない圧縮方式です"
                                    "（壊れているか、Excel 以外で作られたファイルです）")
            part = _member_size(zf, info, budget - total, cancelled)
            total += part
            if total > budget:
                raise UploadRefused(f"展開後のサイズが上限（{round(budget / 1024 / 1024, 2):g} MB）を超えるため"
                                    f"読み込みを中止しました{BOMB}")
            if part > 1024 * 1024 and part > PART_RATIO * max(info.compress_size, 1):
                raise UploadRefused(f"部品 {info.filename} の圧縮率が異常に高いため"
                                    f"読み込みを中止しました{BOMB}")
    return max(total, size)


def _member_size(zf: zipfile.ZipFile, info: zipfile.ZipInfo, left: int,
                 cancelled: Callable[[], bool]) -> int:
    """Inflate one member in CHUNK pieces, ignoring its declared size; stop past `left`."""
    probe = copy.copy(info)
    probe.file_size = 1 << 62  # zipfile stops at the declared size: lift it, count what comes
    count = 0
    try:
        with zf.open(probe) as fh:
            while True:
                block = fh.read(CHUNK)
                if not block:
                    break
                count += len(block)
                if count > left:
                    return count
                if cancelled():
                    raise Cancelled
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
        return max(count, 0)  # damaged: the read layer names the part
    return count

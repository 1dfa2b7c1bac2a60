"""Guards run before any parser sees an input file.

A broken or hostile file gets one clear Japanese message naming it, within seconds:
not a file, empty, truncated or not a zip, a CSV renamed .xlsx, a legacy .xls, a
password-protected workbook (an OLE2 container holding EncryptedPackage), a zip bomb
(uncompressed size or ratio over the limits below), and XML with a DTD or entities
(entity expansion; a real .xlsx never carries one).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from xlsgen.errors import InputFileError

MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024  # all parts together
MAX_PART_RATIO = 200  # uncompressed / compressed, for parts over 1 MB
MAX_FILE_BYTES = 100 * 1024 * 1024
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")


def check_workbook_file(path: str | Path) -> None:
    """Raise InputFileError (Japanese message) unless `path` looks like a safe .xlsx."""
    p = Path(path)
    if not p.exists():
        raise InputFileError("ファイルが見つかりません", str(p))
    if not p.is_file():
        raise InputFileError("ファイルではありません", str(p))
    size = p.stat().st_size
    if size == 0:
        raise InputFileError("ファイルが空です（0 バイト）", str(p))
    if size > MAX_FILE_BYTES:
        raise InputFileError(
            f"ファイルが大きすぎます（{size // 1024 // 1024} MB、上限 {MAX_FILE_BYTES // 1024 // 1024} MB）",
            str(p),
        )
    with p.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(OLE2_MAGIC):
        raise InputFileError(_ole2_message(p), str(p))
    if not head.startswith(b"PK"):
        if p.suffix.lower() == ".xls":
            raise InputFileError("読み取れない .xls ファイルです", str(p))
        raise InputFileError(
            "Excel ブック（.xlsx）ではありません（CSV やテキストの拡張子を変えたものの可能性があります）",
            str(p),
        )
    try:
        with zipfile.ZipFile(p) as zf:
            _check_zip(zf, p)
    except zipfile.BadZipFile:
        raise InputFileError("ファイルが壊れているか、途中で切れています（zip として読めません）", str(p)) from None


def _ole2_message(p: Path) -> str:
    data = p.read_bytes()
    # OLE2 directory entries are UTF-16LE names
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        return "パスワードで保護されています。Excel でパスワードを解除して保存し直してください"
    return "旧形式の .xls ファイルです。Excel で「.xlsx」形式で保存し直してください"


def _check_duplicates(infos: list, p: Path) -> None:
    """Two entries of one name with different contents: which one a reader takes is unknown
    (Excel repairs or refuses the file). Identical repeats are harmless and pass."""
    seen: dict[str, zipfile.ZipInfo] = {}
    for i in infos:
        first = seen.setdefault(i.filename, i)
        if first is not i and (first.CRC != i.CRC or first.file_size != i.file_size):
            raise InputFileError(f"部品 {i.filename} が2つあり内容が違います（壊れたファイルの可能性）。"
                                 "Excel で開いて保存し直してください", str(p))


def _check_zip(zf: zipfile.ZipFile, p: Path) -> None:
    infos = zf.infolist()
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise InputFileError("Excel ブック（.xlsx）ではありません（必要な部品がありません）", str(p))
    _check_duplicates(infos, p)
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise InputFileError(
            f"展開後のサイズが上限（{MAX_UNCOMPRESSED_BYTES // 1024 // 1024} MB）を超えるため読み込みを中止しました"
            "（zip 爆弾の可能性）",
            str(p),
        )
    for i in infos:
        if i.file_size > 1024 * 1024 and i.compress_size and i.file_size / i.compress_size > MAX_PART_RATIO:
            raise InputFileError(
                f"部品 {i.filename} の圧縮率が異常に高いため読み込みを中止しました（zip 爆弾の可能性）", str(p)
            )
    for i in infos:
        if not i.filename.endswith((".xml", ".rels", ".vml")):
            continue
        try:
            with zf.open(i) as fh:
                head = fh.read(4096)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
            raise InputFileError(f"部品 {i.filename} が壊れています", str(p)) from None
        if any(m in head for m in _DTD_MARKERS):
            raise InputFileError(
                f"部品 {i.filename} に DTD／エンティティ宣言があります（XML 攻撃の可能性があるため読み込みません）",
                str(p),
            )
    bad = zf.testzip() if total < 50 * 1024 * 1024 else None
    if bad:
        raise InputFileError(f"部品 {bad} が壊れています（CRC 不一致）", str(p))

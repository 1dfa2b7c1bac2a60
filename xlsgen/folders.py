"""Which files of a folder are input workbooks, and why the others are passed over
(shared by `xlsgen run` and `xlsgen validate`)."""

from __future__ import annotations

import re
from pathlib import Path

from xlsgen.errors import XlsgenError

SUFFIX = "_報告書"
SUMMARY_NAME = "検証結果.xlsx"
ROLLED = re.compile(r"[HRS]\d+")  # suffix of a rolled edition: <stem>_R4.xlsx


def output_name(src: Path) -> str:
    """`<stem>_報告書.xlsx` (also for a .xlsm or .XLSX input)."""
    return f"{src.stem}{SUFFIX}.xlsx"


INPUT_SUFFIXES = (".xlsx", ".xlsm")


def discover(in_dir) -> list[Path]:
    """Input workbooks of a folder (see `discover_all`)."""
    return discover_all(in_dir)[0]


def discover_all(in_dir) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(inputs, skipped with reason) of a folder. Inputs are .xlsx/.xlsm in any case;
    skipped are lock files, hidden files, our own outputs (reports, 検証結果.xlsx, rolled
    editions `<stem of another input>_R4.xlsx`, temporaries), folders and other files."""
    in_dir = Path(in_dir)
    if not in_dir.exists():
        raise XlsgenError("入力フォルダが見つかりません", str(in_dir))
    if not in_dir.is_dir():
        raise XlsgenError("入力はフォルダではありません（1 つのブックには xlsgen build を使ってください）",
                          str(in_dir))
    files, skipped = [], []
    for p in sorted(in_dir.iterdir()):
        reason = _skip_reason(p)
        (skipped.append((p, reason)) if reason else files.append(p))
    stems = {p.stem for p in files}
    inputs = []
    for p in files:
        if any(p.stem.startswith(s + "_") and ROLLED.fullmatch(p.stem[len(s) + 1:])
               for s in stems if s != p.stem):
            skipped.append((p, "xlsgen の出力（繰り越した年度版）"))
        else:
            inputs.append(p)
    skipped.sort(key=lambda t: t[0].name)
    return inputs, skipped


def _skip_reason(p: Path) -> str | None:
    from xlsgen.atomic import TEMP_SUFFIX

    name, suffix = p.name, p.suffix.lower()
    if p.is_dir():
        return "フォルダ（中のファイルは読みません）"
    if name.startswith("~$"):
        return "Excel が開いている間の一時ファイル（ロックファイル）"
    if name.endswith(TEMP_SUFFIX):
        return "xlsgen の書き込み途中の一時ファイル"
    if name.startswith("."):
        return "隠しファイル"
    if name == SUMMARY_NAME:
        return "xlsgen の出力（検証結果）"
    if suffix in INPUT_SUFFIXES and p.stem.endswith(SUFFIX):
        return "xlsgen の出力（報告書）"
    if suffix == ".xls":
        return "旧形式の .xls は読めません（Excel で .xlsx 形式で保存し直してください）"
    if suffix == ".xlsb":
        return "バイナリ形式の .xlsb は読めません（Excel で .xlsx 形式で保存し直してください）"
    if suffix not in INPUT_SUFFIXES:
        return "Excel ブック（.xlsx/.xlsm）ではありません"
    return None

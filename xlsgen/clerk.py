"""Findings and messages as a clerk reads them on the web page: natural order (sheet 2
before sheet 10, H2 before H19 before H20), a notice repeated over many cells as one group
with its count, each finding saying which file its cell is in (the uploaded book, the
report or the next year's edition), and no command-line hints in the text.

Pure functions over finding dicts ({severity, code, file, sheet, cell, message}).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any

PART_LABELS = {"input": "入力", "report": "報告書", "edition": "翌年度版"}
PART_RANK = {"input": 0, "edition": 1, "report": 2}
_DIGITS = re.compile(r"(\d+)")
_CELL = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")
# sentences that only make sense on a terminal, with what the page says instead
_CLI_SENTENCES = (
    # where the layout files were searched (paths of this computer): not for the page
    (re.compile(r"（探した場所: (?:[^（）]|（[^（）]*）)*）"), ""),
    (re.compile(r"xlsgen validate で確認してください"), "Excel で直してから、もう一度送ってください"),
    (re.compile(r"様式ファイル(?:（[^（）]*）)?を(?:用意する|置く)か --layout-file で指定してください"),
     "この様式にはまだ対応していません。情報システムの担当者に様式ファイルの追加を相談してください"),
    (re.compile(r"--layout か --layout-file でどちらかを指定してください"),
     "情報システムの担当者に相談してください"),
    (re.compile(r"計画を延長する場合は --extend-to で新しい目標年度を指定してください"),
     "計画の延長はこの画面ではできません。担当者に相談してください"),
    (re.compile(r"Excel で年度の列を挿入してから --extend-to なしで繰り越してください"),
     "Excel で年度の列を挿入してから、もう一度送ってください"),
    (re.compile(r"配布したときのマスターに、受け取った様式をすべて指定して回収し直してください"),
     "様式を配ったときのマスターを送って新しい照会を始め、受け取った様式をすべて送り直してください"),
)
_CLI_ASIDE = re.compile(r"（[^（）]*(--[a-z][a-z-]*|xlsgen [a-z]+)[^（）]*）")
_CLI_WORD = re.compile(r"\s*(--[a-z][a-z-]*( [^\s、。）]+)?|xlsgen [a-z]+)")


def natural_key(text: Any) -> tuple:
    """Sort key for names with numbers in them: "2" < "10", "施策2" < "施策10"."""
    norm = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in _DIGITS.split(norm) if p)


def cell_key(cell: Any) -> tuple[int, int, int]:
    """Sort key of an A1 reference (or the first cell of a range list): column, then row;
    no cell sorts last."""
    m = _CELL.search(str(cell or ""))
    if not m:
        return (1, 0, 0)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return (0, col, int(m.group(2)))


def finding_sort_key(f: dict) -> tuple:
    """Errors first, then the uploaded book before the edition, then sheet and cell."""
    return (f.get("severity") != "error", PART_RANK.get(f.get("part") or "input", 3),
            natural_key(f.get("sheet")), cell_key(f.get("cell")))


def for_clerk(message: str | None) -> str:
    """A message without command-line hints (options, `xlsgen COMMAND`), for the page."""
    text = str(message or "")
    for pattern, instead in _CLI_SENTENCES:
        text = pattern.sub(instead, text)
    text = _CLI_ASIDE.sub("", text)
    text = _CLI_WORD.sub("", text)
    return re.sub(r"。。+", "。", text).strip()


def edition_label(year: int | None) -> str | None:
    """「令和4年度版」 for fiscal year 2022."""
    if not year:
        return None
    from xlsgen.wareki import FiscalYear

    return f"{FiscalYear(int(year)).kanji}版"


def finding_groups(findings: list[dict], parts: dict[str, str]) -> list[dict]:
    """The findings for the page: the same notice repeated over cells (same severity, code,
    file, and message but for its numbers: 「H35」 and 「H32」 read as a later era alike)
    becomes one group listing its cells; each says which part of the upload its cell is in
    (`parts`: file name → input | report | edition). Single findings come first, repeated
    notices after them (as in 検証結果.xlsx), each in natural sheet/cell order. A group's
    message is its most common one; an item whose message differs carries its own."""
    groups: dict[tuple, dict] = {}
    for f in findings:
        part = parts.get(f.get("file") or "", "input")
        shape = _DIGITS.sub("#", str(f.get("message") or ""))
        key = (f.get("severity"), f.get("code"), shape, part)
        g = groups.get(key)
        if g is None:
            g = groups[key] = {"severity": f.get("severity"), "code": f.get("code"),
                               "file": f.get("file"), "part": part,
                               "part_label": PART_LABELS.get(part, part), "items": []}
        g["items"].append({"sheet": f.get("sheet"), "cell": f.get("cell"),
                           "message": for_clerk(f.get("message"))})
    out = list(groups.values())
    for g in out:
        g["items"].sort(key=lambda i: (natural_key(i["sheet"]), cell_key(i["cell"])))
        common = Counter(i["message"] for i in g["items"]).most_common(1)[0][0]
        for item in g["items"]:
            if item["message"] == common:
                del item["message"]
        g["message"], g["count"] = common, len(g["items"])
        g["sheet"], g["cell"] = g["items"][0]["sheet"], g["items"][0]["cell"]
    out.sort(key=lambda g: (g["severity"] != "error", g["count"] > 1, finding_sort_key(g)))
    return out

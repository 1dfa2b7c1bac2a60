"""Make text from inputs legal for where it goes in a workbook (no xlsgen imports).

Excel stores text in XML, so characters XML 1.0 forbids (C0 controls but tab/LF/CR, lone
surrogates, U+FFFE/U+FFFF) break the file wherever a writer does not escape them, and
Excel reads `_xHHHH_` in any stored text as the character HHHH (a soft line break pasted
from Word arrives as `_x000B_`). Each function takes any text and returns one that is
legal for its place:

| function        | place                 | rule                                                     |
|-----------------|-----------------------|----------------------------------------------------------|
| `cell_text`     | cell values           | no lone surrogates, ≤ 32,767 characters (the writer       |
|                 |                       | escapes controls as `_xHHHH_`)                           |
| `sheet_name`    | sheet tab names       | escapes decoded, controls and `[]:*?/\\` dropped, no edge |
|                 |                       | apostrophes, ≤ 31 UTF-16 units, not `History`, not empty |
| `note_text`     | comments / notes      | controls but tab and line feed dropped                   |
| `header_text`   | page header / footer  | one line, controls dropped, `&` doubled, ≤ limit         |
| `xml_text`      | attributes (links)    | characters XML forbids dropped                           |
| `name_problem`  | defined names         | why Excel would reject the name, or None                 |
"""

from __future__ import annotations

import re

CELL_LIMIT = 32_767
SHEET_LIMIT = 31
NAME_LIMIT = 255
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NOTE_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_A1_NAME = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]+)$")
_R1C1_NAME = re.compile(r"^[Rr](\[?-?[0-9]*\]?)?([Cc](\[?-?[0-9]*\]?)?)?$|^[Cc](\[?-?[0-9]*\]?)?$")
_NAME_START = re.compile(r"^[^\W\d]|^[_\\]", re.UNICODE)
_NAME_BODY = re.compile(r"^[\w.\\?]+$", re.UNICODE)


def decode_escapes(text: str) -> str:
    """`_x000B_` → the character Excel reads there (U+000B)."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def xml_text(text) -> str:
    """Text without characters XML 1.0 forbids (for attributes no writer escapes)."""
    return _XML_ILLEGAL.sub("", "" if text is None else str(text))


def cell_text(text) -> str:
    """Text for a cell: lone surrogates replaced, cut to Excel's 32,767 characters."""
    text = "" if text is None else str(text)
    text = re.sub("[\ud800-\udfff]", "\ufffd", text)
    return text[:CELL_LIMIT]


def note_text(text) -> str:
    """Text for a comment (note): controls other than tab and line feed dropped."""
    text = decode_escapes("" if text is None else str(text)).replace("\r\n", "\n")
    return _NOTE_CONTROLS.sub("", text.replace("\x0b", "\n"))[:CELL_LIMIT]


def header_text(text, limit: int = 255) -> str:
    """Text for a page header or footer: one line, no controls, `&` doubled, cut to
    `limit` without splitting an `&&`."""
    text = decode_escapes("" if text is None else str(text))
    text = _CONTROLS.sub(" ", text.replace("\r\n", " ")).replace("&", "&&")[:limit]
    trailing = len(text) - len(text.rstrip("&"))
    return text[:-1] if trailing % 2 else text


def _utf16_cut(text: str, limit: int) -> str:
    out, n = [], 0
    for ch in text:
        n += 2 if ord(ch) > 0xFFFF else 1
        if n > limit:
            break
        out.append(ch)
    return "".join(out)


def sheet_name(text, fallback: str = "Sheet", limit: int = SHEET_LIMIT) -> str:
    """A legal sheet tab name (uniqueness is the caller's job)."""
    text = decode_escapes("" if text is None else str(text))
    text = _CONTROLS.sub("", text.replace("\x0b", " ").replace("\n", " ").replace("\t", " "))
    text = _SHEET_FORBIDDEN.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip().strip("'").strip()
    text = _utf16_cut(text, limit).rstrip().rstrip("'")
    if not text or text.lower() == "history":
        return fallback
    return text


def name_problem(name: str) -> str | None:
    """Why Excel would reject `name` as a defined name (Japanese), or None if it is legal."""
    if not name:
        return "名前が空です"
    if len(name) > NAME_LIMIT:
        return f"名前が長すぎます（{len(name)}字、上限 {NAME_LIMIT}字）"
    if _CONTROLS.search(name) or re.search(r"\s", name):
        return "名前に空白や制御文字は使えません"
    if not _NAME_START.match(name):
        return "名前の先頭は文字か _ にしてください（数字や記号で始まる名前は Excel が受け付けません）"
    if not _NAME_BODY.match(name):
        return "名前に使えない記号が含まれています（使えるのは文字・数字・_ ・. だけです）"
    m = _A1_NAME.match(name)
    if m and _col_number(m.group(1)) <= 16_384 and 1 <= int(m.group(2)) <= 1_048_576:
        return "セル番地（A1 形式）と同じ形の名前は Excel が受け付けません"
    if _R1C1_NAME.match(name):
        return "セル番地（R1C1 形式）と同じ形の名前は Excel が受け付けません"
    if name.upper() in ("TRUE", "FALSE"):
        return "TRUE／FALSE は名前に使えません"
    return None


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n

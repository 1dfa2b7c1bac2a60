"""One answer checked against its assignment: a number in the KPI's unit, a text within
its length, a value from its list. Never raises on what a department typed: the result
says whether it is accepted and, if not, why (Japanese)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from xlsgen.roundtrip.assignment import AMOUNT, CHOICE, NUMBER, Assignment

EMPTY, OK, REJECTED = "empty", "ok", "rejected"
_NUMBER = re.compile(r"([+\-▲△]?)\s*([0-9]+(?:\.[0-9]+)?)\s*(.*)")
JUMP = 10  # an answer this many times last year's (or a tenth of it) gets a warning


@dataclass
class Answer:
    status: str                  # empty | ok | rejected
    value: Any = None            # number (in the unit shown) or text
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (severity, code, message)

    def warn(self, code: str, message: str) -> Answer:
        self.problems.append(("warning", code, message))
        return self


def _reject(code: str, message: str) -> Answer:
    return Answer(REJECTED, None, [("error", code, message)])


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _number_text(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else f"{n:g}"


def check(a: Assignment, raw: Any, number_format: str = "General", formula: bool = False) -> Answer:
    """Check what was typed in the input cell of `a`."""
    if formula and raw in (None, ""):
        return _reject("formula", "数式が入っていて値が読めません。数式ではなく値を入力してください")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        ans = Answer(EMPTY)
        if a.required:
            ans.warn("empty", "未記入です")
        return ans
    if a.value_type == NUMBER:
        ans = _number(a, raw, number_format)
        if ans.status == OK and isinstance(raw, (int, float)) and is_date_format(number_format):
            ans = _reject("date", "日付として入力されています（数値だけを入力してください）")
    elif a.value_type == CHOICE:
        text = _plain(str(raw))
        ans = Answer(OK, text) if text in a.choices else _reject(
            "not-in-list", f"「{_cut(text)}」は選べる値ではありません（{'・'.join(a.choices)} から選んでください）")
    else:
        text = _number_text(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else str(raw)
        text = text.replace("\r\n", "\n").strip()
        heading = _department_heading(text) if a.segment else None
        if a.max_length and len(text) > a.max_length:
            ans = _reject("too-long", f"文字数が上限（{a.max_length}字）を超えています（{len(text)}字）")
        elif heading:
            ans = _reject("heading", f"文中に課の見出し「{heading}」があります（ほかの課の欄と区別できなくなるため、"
                          "見出しを消してください）")
        else:
            ans = Answer(OK, text)
    if formula and ans.status == OK:
        ans.warn("formula", "数式が入っています。計算結果の値を取り込みました")
    return ans


def _department_heading(text: str) -> str | None:
    """The first line of `text` that reads as a department heading (【…課】), or None."""
    from xlsgen.roundtrip.segments import split

    return next((p.heading for p in split(text) if p.department), None)


_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


def is_date_format(fmt: str | None) -> bool:
    """A number format that shows a date or time (yyyy/m/d, ggge年m月d日, h:mm)."""
    bare = _QUOTED.sub("", fmt or "").lower()
    return bare not in ("", "general") and bool(re.search(r"[ymdhsge]", bare)) and not re.search(r"[0#?]", bare)


def _cut(text: str, n: int = 30) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _number(a: Assignment, raw: Any, number_format: str) -> Answer:
    unit = _plain(a.unit or "")
    if isinstance(raw, bool):
        return _reject("not-a-number", "数値を入力してください（TRUE/FALSE は使えません）")
    if isinstance(raw, (int, float)):
        value = float(raw)
        if "%" in (number_format or ""):  # typed as 17.8%: Excel keeps 0.178
            if unit != "%":
                return _reject("wrong-unit", f"単位が違います（% ではなく {a.unit or '数値'} で入力してください）")
            value = round(value * 100, 10)
        return _range(a, value)
    text = _plain(str(raw)).replace(",", "")
    m = _NUMBER.fullmatch(text)
    if m:
        sign, digits, rest = m.groups()
        value = float(digits) * (-1 if sign in ("-", "▲", "△") else 1)
        rest = rest.strip()
        if rest == "" or rest == unit:
            return _range(a, value)
        if a.free_text:
            return Answer(OK, str(raw).strip())
        return _reject("wrong-unit", f"単位が違います（「{_cut(rest, 10)}」ではなく{a.unit or '単位なし'}で、"
                       "数値だけを入力してください）")
    if text in {_plain(t) for t in a.allowed_texts}:
        return Answer(OK, str(raw).strip()).warn("text-answer", f"数値ではなく「{text}」を取り込みました")
    if a.free_text and a.group != AMOUNT:
        return Answer(OK, str(raw).strip())
    return _reject("not-a-number", f"数値として読めません（「{_cut(str(raw).strip())}」）。数値だけを入力してください")


def _range(a: Assignment, value: float) -> Answer:
    if value.is_integer():
        value = int(value)
    if a.minimum is not None and value < a.minimum:
        return _reject("out-of-range", f"{_number_text(a.minimum)} 以上の数値を入力してください（{_number_text(value)}）")
    if a.maximum is not None and value > a.maximum:
        return _reject("out-of-range", f"{_number_text(a.maximum)} 以下の数値を入力してください（{_number_text(value)}）")
    ans = Answer(OK, value)
    prev = a.previous
    if prev and value and (abs(value) > abs(prev) * JUMP or abs(value) * JUMP < abs(prev)):
        ans.warn("jump", f"前年度（{_number_text(prev)}{a.unit or ''}）と桁が違います（{_number_text(value)}"
                 f"{a.unit or ''}）。単位や桁を確かめてください")
    return ans

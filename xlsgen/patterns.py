"""Regular expressions written by users (`re:` labels in layout files), run with a budget.

Python's `re` backtracks: a label such as `re:^(a+)+$` takes longer than the age of the
universe on a 41-character cell. User patterns are compiled with the `regex` module (a
well-kept drop-in for `re`, which already avoids most catastrophic cases) and every match
runs with a timeout, plus a total budget per pattern, so a hostile or unlucky pattern stops
with a Japanese message naming it instead of hanging the batch or the web page.
"""

from __future__ import annotations

import time

import regex

from xlsgen.errors import XlsgenError

PER_CALL_SECONDS = 0.25
TOTAL_SECONDS = 2.0


class PatternError(XlsgenError):
    """A user pattern that does not compile, or that ran out of time."""


class Pattern:
    """A compiled user pattern: `search`, `match`, `fullmatch`, `sub` as `re`, with time
    limits."""

    __slots__ = ("_p", "pattern", "_spent")

    def __init__(self, pattern: str):
        try:
            self._p = regex.compile(pattern, regex.VERSION0)
        except (regex.error, ValueError, OverflowError) as exc:
            raise PatternError(f"正規表現「{pattern}」が正しくありません（{exc}）") from None
        self.pattern = pattern
        self._spent = 0.0

    def _run(self, method, *args, **kwargs):
        left = TOTAL_SECONDS - self._spent
        if left <= 0:
            raise self._timeout()
        start = time.perf_counter()
        try:
            return method(*args, timeout=min(PER_CALL_SECONDS, left), **kwargs)
        except TimeoutError:
            raise self._timeout() from None
        finally:
            self._spent += time.perf_counter() - start

    def _timeout(self) -> PatternError:
        return PatternError(f"正規表現「{self.pattern}」の照合に時間がかかりすぎるため中止しました"
                            "（(a+)+ のような入れ子の繰り返しを避けて書き直してください）")

    def search(self, text: str, pos: int = 0):
        return self._run(self._p.search, text, pos)

    def match(self, text: str, pos: int = 0):
        return self._run(self._p.match, text, pos)

    def fullmatch(self, text: str, pos: int = 0):
        return self._run(self._p.fullmatch, text, pos)

    def sub(self, repl, text: str, count: int = 0):
        return self._run(self._p.sub, repl, text, count)


_CACHE: dict[str, Pattern] = {}


def compile_user(pattern: str) -> Pattern:
    """A user pattern, compiled once per process; its total budget runs from the last
    `new_budget()` (called once per workbook read)."""
    p = _CACHE.get(pattern)
    if p is None:
        if len(_CACHE) > 4096:
            _CACHE.clear()
        p = _CACHE[pattern] = Pattern(pattern)
    return p


def new_budget() -> None:
    """Give every user pattern its full total budget again (at the start of a read)."""
    for p in list(_CACHE.values()):
        p._spent = 0.0


def search(pattern: str, text: str):
    return compile_user(pattern).search(text)

"""Regular expressions written by users (`re:` labels in layout files), run with a budget.

Python's `re` backtracks: a label such as `re:^(a+)+$` takes longer than the age of the
universe on a 41-character cell, and even `re:.*合計` is quadratic on a long cell. User
patterns are compiled with the `regex` module (a well-kept drop-in for `re`, which already
avoids most catastrophic cases) and a match runs with a timeout, plus a total budget per
pattern, so a hostile or unlucky pattern stops with a Japanese message naming it instead of
hanging the batch or the web page.

A timeout costs about 5 µs a call, ten times a plain search, and labels are tried on every
text cell. So a pattern that cannot blow up (`_simple`: no repeat inside a repeat, no
alternation under a repeat, no back-reference, at most one unbounded repeat) is run without
one on texts of at most `SHORT` characters, where its worst case is a few thousand steps;
everything else gets the timeout.
"""

from __future__ import annotations

import re
import time

import regex

from xlsgen.errors import XlsgenError

PER_CALL_SECONDS = 0.25
TOTAL_SECONDS = 2.0
SHORT = 200  # characters: a simple pattern runs without a timeout on texts this short

try:  # the parser `re` itself uses
    from re import _constants as _C
    from re import _parser as _sre_parse
except ImportError:  # Python < 3.11
    import sre_constants as _C  # noqa: N812
    import sre_parse as _sre_parse


class PatternError(XlsgenError):
    """A user pattern that does not compile, or that ran out of time."""


class Pattern:
    """A compiled user pattern: `search`, `match`, `fullmatch`, `sub` as `re`, with time
    limits."""

    __slots__ = ("_p", "_fast", "pattern", "_spent")

    def __init__(self, pattern: str, simple: bool | None = None):
        try:
            self._p = regex.compile(pattern, regex.VERSION0)
        except (regex.error, ValueError, OverflowError) as exc:
            raise PatternError(f"正規表現「{pattern}」が正しくありません（{exc}）") from None
        self.pattern = pattern
        self._spent = 0.0
        self._fast = None
        if simple if simple is not None else _simple(pattern):
            try:
                self._fast = re.compile(pattern)
            except (re.error, ValueError, OverflowError):
                self._fast = None

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
        if self._fast is not None and len(text) <= SHORT:
            return self._fast.search(text, pos)
        return self._run(self._p.search, text, pos)

    def match(self, text: str, pos: int = 0):
        if self._fast is not None and len(text) <= SHORT:
            return self._fast.match(text, pos)
        return self._run(self._p.match, text, pos)

    def fullmatch(self, text: str, pos: int = 0):
        if self._fast is not None and len(text) <= SHORT:
            return self._fast.fullmatch(text, pos)
        return self._run(self._p.fullmatch, text, pos)

    def sub(self, repl, text: str, count: int = 0):
        if self._fast is not None and len(text) <= SHORT:
            return self._fast.sub(repl, text, count)
        return self._run(self._p.sub, repl, text, count)


_REPEATS = {_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", _C.MAX_REPEAT)}


def _simple(pattern: str) -> bool:
    """A pattern whose backtracking is bounded: no repeat (of more than one) inside another,
    no alternation under a repeat, no back-reference, at most one unbounded repeat."""
    try:
        tree = _sre_parse.parse(pattern)
    except Exception:  # noqa: BLE001 - anything `re` cannot read goes through `regex`
        return False
    unbounded = 0

    def risky(items, in_repeat: bool) -> bool:
        nonlocal unbounded
        for op, av in items:
            if op in _REPEATS:
                lo, hi, sub = av
                many = hi is _C.MAXREPEAT or hi > 1
                if many and in_repeat:
                    return True
                if hi is _C.MAXREPEAT or hi > 100:
                    unbounded += 1
                if risky(sub, in_repeat or many):
                    return True
            elif op is _C.BRANCH:
                if in_repeat or any(risky(alt, in_repeat) for alt in av[1]):
                    return True
            elif op is _C.SUBPATTERN:
                if risky(av[-1], in_repeat):
                    return True
            elif op in (_C.ASSERT, _C.ASSERT_NOT):
                if risky(av[1], in_repeat):
                    return True
            elif op in (_C.GROUPREF, _C.GROUPREF_EXISTS) or op is getattr(_C, "ATOMIC_GROUP", None):
                return True
        return False

    return not risky(tree, False) and unbounded <= 1


_CACHE: dict[tuple[str, bool | None], Pattern] = {}


def compile_user(pattern: str, simple: bool | None = None) -> Pattern:
    """A user pattern, compiled once per process; its total budget runs from the last
    `new_budget()` (called once per workbook read). `simple` overrides the analysis (for a
    pattern joined from user parts and xlsgen's own, known to be safe)."""
    key = (pattern, simple)
    p = _CACHE.get(key)
    if p is None:
        if len(_CACHE) > 4096:
            _CACHE.clear()
        p = _CACHE[key] = Pattern(pattern, simple)
    return p


def new_budget() -> None:
    """Give every user pattern its full total budget again (at the start of a read)."""
    for p in list(_CACHE.values()):
        p._spent = 0.0


def search(pattern, text: str):
    """`pattern.search(text)` for a compiled pattern, else the user pattern's (time-limited)."""
    if hasattr(pattern, "search"):
        return pattern.search(text)
    return compile_user(pattern).search(text)

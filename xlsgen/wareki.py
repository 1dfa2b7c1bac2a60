"""Japanese fiscal years: 和暦 ⇄ 西暦.

A Japanese fiscal year (年度) starts in April and is named by the calendar year it starts
in. 平成31年度 = 令和元年度 = FY2019. Old plans written in Heisei label later years H32–H35:
they mean R2–R5 and are normalised with a warning.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# era letter → (kanji name, Western year of its 元年, last year number used officially)
ERAS = {
    "S": ("昭和", 1926, 64),
    "H": ("平成", 1989, 31),
    "R": ("令和", 2019, None),
}
# Heisei labels up to H40 occur in plans written before the era changed; later ones are errors.
HEISEI_GRACE = 9
_BY_KANJI = {name: letter for letter, (name, _, _) in ERAS.items()}

_ERA_RE = re.compile(
    r"(?<![A-Za-z])(?P<era>平成|令和|昭和|[HhRrSs])\s*(?P<num>元|\d{1,2})\s*(?:年度|年)?"
)
_WESTERN_RE = re.compile(r"(?<!\d)(?P<year>(?:19|20)\d{2})\s*(?:年度|年)?(?!\d)")


_KEEP = frozenset("㎡㎥㎞㎏㎝㎜㍑")


def normalize_text(text: str) -> str:
    """NFKC (full-width digits, letters and brackets to ASCII) except unit signs such as
    ㎡, which NFKC would turn into digits ("m2")."""
    if not any(ch in _KEEP for ch in text):
        return unicodedata.normalize("NFKC", text)
    return "".join(ch if ch in _KEEP else unicodedata.normalize("NFKC", ch) for ch in text)


@dataclass(frozen=True, order=True)
class FiscalYear:
    """A Japanese fiscal year, held as its Western year (FY2019 = 令和元年度)."""

    year: int

    @property
    def era(self) -> str:
        """Era letter: R for 2019 on, H for 1989–2018, S before."""
        if self.year >= 2019:
            return "R"
        if self.year >= 1989:
            return "H"
        return "S"

    @property
    def era_year(self) -> int:
        return self.year - ERAS[self.era][1] + 1

    @property
    def short(self) -> str:
        """`R3`, `H30`."""
        return f"{self.era}{self.era_year}"

    @property
    def kanji(self) -> str:
        """`令和3年度`, `令和元年度`."""
        n = "元" if self.era_year == 1 else str(self.era_year)
        return f"{ERAS[self.era][0]}{n}年度"

    @property
    def label(self) -> str:
        """Header label with both calendars: `R6年度(2024)`."""
        return f"{self.short}年度({self.year})"

    def __add__(self, years: int) -> FiscalYear:
        return FiscalYear(self.year + years)

    def __sub__(self, years: int) -> FiscalYear:
        return FiscalYear(self.year - years)

    def __str__(self) -> str:
        return self.short

    @classmethod
    def parse(cls, text: str | int) -> FiscalYear:
        """Parse `H30`, `平成30年度`, `R2`, `令和元年度`, `2019年度`, `２０２１`, or an int.

        Raises ValueError (with a Japanese message) when no year is found or the era year is
        impossible. Heisei years past 31 are accepted (see `parse_with_warning`).
        """
        fy, _ = parse_with_warning(text)
        return fy


def parse_with_warning(text: str | int) -> tuple[FiscalYear, str | None]:
    """Like `FiscalYear.parse`, also returning a Japanese warning for H32+ style labels."""
    if isinstance(text, int):
        return _check_western(text), None
    s = normalize_text(str(text)).strip()
    m = _ERA_RE.search(s)
    if m:
        era = m.group("era")
        letter = _BY_KANJI.get(era, era.upper())
        num = 1 if m.group("num") == "元" else int(m.group("num"))
        if num < 1:
            raise ValueError(f"年度「{text}」の年数が正しくありません")
        name, base, last = ERAS[letter]
        fy = FiscalYear(base + num - 1)
        if last is not None and num > last:
            if letter == "H" and num <= last + HEISEI_GRACE:
                return fy, (
                    f"「{text}」は平成{last}年度より後の年度です。"
                    f"{fy.kanji}（{fy.year}年度）として読みます"
                )
            raise ValueError(f"年度「{text}」は{name}にはありません")
        return fy, None
    m = _WESTERN_RE.search(s)
    if m:
        return _check_western(int(m.group("year"))), None
    raise ValueError(f"「{text}」から年度を読み取れません")


def _check_western(year: int) -> FiscalYear:
    if not 1900 <= year <= 2200:
        raise ValueError(f"年度 {year} は範囲外です")
    return FiscalYear(year)


def find_years(text: str) -> list[tuple[FiscalYear, str | None]]:
    """Every era or Western fiscal year mentioned in a text, in order, with warnings."""
    s = normalize_text(text)
    found: list[tuple[int, FiscalYear, str | None]] = []
    for m in _ERA_RE.finditer(s):
        try:
            fy, warn = parse_with_warning(m.group(0))
        except ValueError:
            continue
        found.append((m.start(), fy, warn))
    for m in _WESTERN_RE.finditer(s):
        found.append((m.start(), FiscalYear(int(m.group("year"))), None))
    found.sort(key=lambda t: t[0])
    return [(fy, w) for _, fy, w in found]


def without_years(text: str) -> str:
    """The text with every era or Western year removed (normalised): `R2年度(実績値)` →
    `(実績値)`, `計画期間計(R5~R7)` → `計画期間計(~)`."""
    s = normalize_text(text or "")
    return _WESTERN_RE.sub("", _ERA_RE.sub("", s))


def invalid_era_labels(text: str) -> list[str]:
    """Japanese messages for era labels in `text` that cannot exist (`H45年度`, `R0年度`)."""
    out = []
    for m in _ERA_RE.finditer(normalize_text(text or "")):
        try:
            parse_with_warning(m.group(0))
        except ValueError as exc:
            out.append(str(exc))
    return out

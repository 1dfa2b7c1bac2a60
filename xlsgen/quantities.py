"""Cell values and target expressions → model values.

`parse_quantity` reads what a clerk typed (`48件`, `１７．８％`, `▲1,200`, `3日以上`, `-`,
`整備完了`) or a number with a unit number format (`48` shown as 48件, `0.178` shown as
17.8%). `parse_target` reads target expressions (`延べ900人（H31～H35）`).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from xlsgen.model import NONE_MARKS, Quantity, Target, TargetKind
from xlsgen.wareki import find_years, normalize_text

QUALIFIERS = ("以上", "以下", "未満", "超", "程度", "以内")
_NEGATIVE = "▲△-−－"
_NUMBER_RE = re.compile(
    r"^(?P<sign>[▲△\-−－]?)\s*(?P<num>\d[\d,]*(?:\.\d+)?|\.\d+)\s*"
    r"(?P<unit>[^\d]*?)\s*(?P<qual>" + "|".join(QUALIFIERS) + r")?$"
)
_QUOTED = re.compile(r'"([^"]*)"|\\(.)|\[[^\]]*\]')
_DASHES = "~〜～‐-ー−"


def unit_of_format(number_format: str | None) -> str | None:
    """The unit a number format shows after the number: `#,##0\\件` → 件, `0.0%` → %."""
    if not number_format or number_format == "General":
        return None
    section = number_format.split(";")[0]
    parts = []
    for m in _QUOTED.finditer(section):
        if m.group(1) is not None:
            parts.append(m.group(1))
        elif m.group(2) is not None:
            parts.append(m.group(2))
    unit = "".join(parts).strip()
    if "%" in _QUOTED.sub("", section):
        unit = "%" + unit
    return unit or None


def _decimals(number_format: str | None) -> int | None:
    if not number_format or number_format == "General":
        return None
    section = _QUOTED.sub("", number_format.split(";")[0])
    m = re.search(r"\.(0+)", section)
    return len(m.group(1)) if m else 0


def format_number(value: float, decimals: int | None = None, thousands: bool = True) -> str:
    """`1083` → `1,083`; keeps decimals only where the value has them (or as asked)."""
    if decimals is None:
        decimals = 0 if float(value).is_integer() else min(len(repr(float(value)).split(".")[1]), 6)
    text = f"{value:,.{decimals}f}" if thousands else f"{value:.{decimals}f}"
    return text


def parse_quantity(value, number_format: str | None = None, cell: str | None = None,
                   fiscal_year: int | None = None, formula: str | None = None) -> Quantity:
    """A cell's value as the model's Quantity (see module docstring)."""
    q = Quantity(cell=cell, fiscal_year=fiscal_year, formula=formula)
    if value is None:
        return q
    if isinstance(value, bool):
        q.text = "TRUE" if value else "FALSE"
        return q
    if isinstance(value, (datetime, date)):
        q.text = value.isoformat()[:10]
        return q
    if isinstance(value, (int, float)):
        unit = unit_of_format(number_format)
        number = float(value)
        dec = _decimals(number_format)
        if unit and unit.startswith("%"):
            number = round(number * 100, 10)
            dec = dec if dec is not None else None
        q.value = int(number) if number.is_integer() else number
        q.unit = unit
        thousands = bool(number_format and "," in number_format)
        shown = format_number(number, dec, thousands)
        if number < 0 and number_format and "▲" in number_format:
            shown = "▲" + shown.lstrip("-")
        q.text = shown + (unit or "")
        return q
    return _parse_text(str(value), q)


def _parse_text(raw: str, q: Quantity) -> Quantity:
    q.text = raw
    s = normalize_text(raw).strip().replace("\u3000", " ")
    if not s:
        q.text = None
        return q
    if s in NONE_MARKS or raw.strip() in NONE_MARKS:
        return q
    if s in ("%", "％"):
        q.unit = "%"
        return q
    m = _NUMBER_RE.match(s)
    if m and not re.search(r"\d", m.group("unit") or ""):
        number = float(m.group("num").replace(",", ""))
        if m.group("sign") and m.group("sign") in _NEGATIVE:
            number = -number
        q.value = int(number) if number.is_integer() else number
        unit = (m.group("unit") or "").strip()
        q.unit = unit or None
        q.qualifier = m.group("qual")
    return q


def parse_target(text: str | None, cell: str | None = None) -> tuple[Target, list[str]]:
    """A target expression → Target, plus Japanese warnings (e.g. H32+ era labels)."""
    warnings: list[str] = []
    raw = (text or "").strip()
    if not raw or normalize_text(raw) in NONE_MARKS:
        return Target(None, None, TargetKind.NONE, text=text, cell=cell), warnings
    s = normalize_text(raw)
    paren = " ".join(re.findall(r"\(([^()]*)\)?", s))
    main = re.sub(r"\([^()]*\)?", "", s).replace(")", "").strip()
    cumulative_word = main.startswith("延べ")
    main = main.removeprefix("延べ").strip()
    q = _parse_text(main, Quantity())
    years = []
    for fy, warn in find_years(paren):
        years.append(fy.year)
        if warn:
            warnings.append(warn)
    start = end = None
    if years:
        start, end = min(years), max(years)
    if q.value is None:
        kind = TargetKind.QUALITATIVE
        return Target(None, None, kind, start, end, text, None, cell), warnings
    unit = q.unit or None
    per_year = bool(unit and unit.endswith("/年"))
    if per_year:
        unit = unit[: -len("/年")] or None
    until = bool(re.match(r"^\s*[" + _DASHES + "]", paren))
    if "時点" in paren:
        kind, start = TargetKind.AT_YEAR, None
    elif per_year or "毎年" in paren:
        kind = TargetKind.PER_YEAR
    elif "合計" in paren or cumulative_word or (start is not None and start != end):
        kind = TargetKind.CUMULATIVE
    else:
        kind = TargetKind.AT_YEAR
        if until or start == end:
            start = None
    return Target(q.value, unit, kind, start, end, text, q.qualifier, cell), warnings


def parse_series(text: str | None, cell: str | None = None) -> tuple[list[Quantity], list[str]]:
    """`700人(H26)、600人(H27)` → Quantities with fiscal years (the last year of a range)."""
    out: list[Quantity] = []
    warnings: list[str] = []
    for item in re.split(r"[、;；]", text or ""):
        item = item.strip()
        if not item or normalize_text(item) in NONE_MARKS:
            continue
        s = normalize_text(item)
        paren = " ".join(re.findall(r"\(([^()]*)\)?", s))
        main = re.sub(r"\([^()]*\)?", "", s).strip().removeprefix("延べ")
        main = re.sub(r"※.*$", "", main).strip()
        q = _parse_text(main, Quantity(cell=cell))
        q.text = item
        fys = find_years(paren)
        for _, warn in fys:
            if warn:
                warnings.append(warn)
        if fys:
            q.fiscal_year = max(fy.year for fy, _ in fys)
        out.append(q)
    return out, warnings

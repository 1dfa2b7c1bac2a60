"""Compare two books by label through the model, not by cell address.

Measures are matched by number (then by name), KPIs by name within a measure (a second
KPI of the same name by its order), values by fiscal year, texts by block and department.
So inserted rows, moved blocks and reordered sheets are not changes. What changed:
values, texts, targets, baselines and their years, units, KPIs and measures added or
removed. A changed target or baseline is flagged for auditors; a target made easier (lower
when higher is better, higher when lower is better) is called out as 目標の引き下げ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsgen.roundtrip.inputs import Fact
from xlsgen.wareki import FiscalYear

ITEM_JA = {"actual": "実績値", "target": "目標値", "final_target": "最終目標値", "baseline": "基準値",
           "baseline_year": "基準年度", "target_year": "目標年度", "unit": "単位", "cost": "事業費",
           "amount": "金額", "text": "文章", "kpi": "指標", "measure": "施策"}
KIND_JA = {"value": "値", "text": "文章", "target": "目標", "baseline": "基準値", "year": "年度",
           "unit": "単位", "kpi_added": "指標の追加", "kpi_removed": "指標の削除",
           "measure_added": "施策の追加", "measure_removed": "施策の削除"}
FLAG_JA = {"target-lowered": "目標の引き下げ", "target-changed": "目標の変更", "baseline-changed": "基準値の変更"}


@dataclass
class Change:
    kind: str           # value | text | target | baseline | year | unit | kpi_added | kpi_removed | measure_*
    measure: str        # "01 キャリア教育の推進"
    kpi: str | None
    item: str           # Fact.item
    fiscal_year: int | None
    old: Any
    new: Any
    label: str = ""     # text block / amount label
    department: str | None = None
    unit: str | None = None
    old_cell: str | None = None   # "01!F16"
    new_cell: str | None = None
    flag: str | None = None       # target-lowered | target-changed | baseline-changed

    @property
    def what(self) -> str:
        """`R3年度 実績値`, `現状分析（商工振興課）`: the item as a clerk reads it."""
        year = f"{FiscalYear(self.fiscal_year).short}年度 " if self.fiscal_year else ""
        name = self.label or ITEM_JA.get(self.item, self.item)
        dept = f"（{self.department}）" if self.department else ""
        return f"{year}{name}{dept}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "measure": self.measure, "kpi": self.kpi, "item": self.item,
                "what": self.what, "fiscal_year": self.fiscal_year, "old": self.old, "new": self.new,
                "unit": self.unit, "department": self.department, "old_cell": self.old_cell,
                "new_cell": self.new_cell, "flag": self.flag}


@dataclass
class DiffResult:
    old: Path
    new: Path
    old_edition: int | None
    new_edition: int | None
    changes: list[Change] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.changes:
            out[c.kind] = out.get(c.kind, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"old": str(self.old), "new": str(self.new), "old_edition": self.old_edition,
                "new_edition": self.new_edition, "counts": self.counts(),
                "flags": {f: sum(c.flag == f for c in self.changes) for f in FLAG_JA},
                "changes": [c.to_dict() for c in self.changes]}


def _measure_key(f: Fact) -> str:
    return f"{f.measure_no} {f.measure}".strip()


def _match_measures(old: list[Fact], new: list[Fact]) -> dict[str, str]:
    """old measure label → new measure label: by number, then by name."""
    def measures(facts):
        out: dict[str, tuple[str, str]] = {}
        for f in facts:
            out.setdefault(_measure_key(f), (f.measure_no, f.measure))
        return out

    a, b = measures(old), measures(new)
    pairs: dict[str, str] = {}
    used: set[str] = set()
    for key, (no, name) in a.items():  # same number and name, then same number, then same name
        hit = next((k for k, (n2, m2) in b.items() if k not in used and no and n2 == no and m2 == name), None) \
            or next((k for k, (n2, _) in b.items() if k not in used and no and n2 == no), None) \
            or next((k for k, (_, m2) in b.items() if k not in used and m2 == name), None)
        if hit:
            pairs[key] = hit
            used.add(hit)
    return pairs


def _keyed(facts: list[Fact], rename: dict[str, str] | None = None) -> dict[tuple, Fact]:
    out: dict[tuple, Fact] = {}
    seen: dict[tuple, int] = {}
    kpi_nth: dict[tuple, int] = {}
    for f in facts:
        m = _measure_key(f)
        m = rename.get(m, m) if rename is not None else m
        kpi = f.kpi
        if kpi is not None and f.item == "kpi":  # a KPI named twice in a measure: by its order
            n = kpi_nth.get((m, kpi), 0) + 1
            kpi_nth[(m, kpi)] = n
        n = kpi_nth.get((m, kpi), 1) if kpi is not None else 1
        key = (m, kpi, n, f.item, f.fiscal_year, f.label, f.department)
        c = seen.get(key, 0)
        seen[key] = c + 1
        out[key + (c,)] = f
    return out


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    norm = lambda v: None if v in (None, "") else (v.strip() if isinstance(v, str) else v)  # noqa: E731
    return norm(a) == norm(b)


def _where(f: Fact | None) -> str | None:
    return f"{f.sheet}!{f.cell}" if f is not None and f.sheet and f.cell else None


def compare(old_facts: list[Fact], new_facts: list[Fact], old_path, new_path, old_edition=None,
            new_edition=None) -> DiffResult:
    """The changes from `old_facts` to `new_facts` (see the module docstring)."""
    result = DiffResult(Path(old_path), Path(new_path), old_edition, new_edition)
    pairs = _match_measures(old_facts, new_facts)
    a = _keyed(old_facts, pairs)
    b = _keyed(new_facts)
    old_measures = {_measure_key(f) for f in old_facts}
    new_measures = {_measure_key(f) for f in new_facts}
    for m in sorted(old_measures - set(pairs)):
        result.changes.append(Change("measure_removed", m, None, "measure", None, m, None))
    for m in sorted(new_measures - set(pairs.values())):
        result.changes.append(Change("measure_added", m, None, "measure", None, None, m))
    gone_kpis = {(k[0], k[1], k[2]) for k, f in a.items() if f.item == "kpi"} - \
        {(k[0], k[1], k[2]) for k, f in b.items() if f.item == "kpi"}
    new_kpis = {(k[0], k[1], k[2]) for k, f in b.items() if f.item == "kpi"} - \
        {(k[0], k[1], k[2]) for k, f in a.items() if f.item == "kpi"}
    dropped = {m for m in old_measures - set(pairs)}
    added = {m for m in new_measures - set(pairs.values())}
    for key in sorted(set(a) | set(b), key=lambda k: tuple("" if x is None else str(x) for x in k)):
        f, g = a.get(key), b.get(key)
        m, kpi = key[0], key[1]
        if m in dropped or m in added:
            continue
        if kpi is not None and ((m, kpi, key[2]) in gone_kpis or (m, kpi, key[2]) in new_kpis):
            if (f or g).item == "kpi":
                kind = "kpi_removed" if g is None else "kpi_added"
                result.changes.append(Change(kind, m, kpi, "kpi", None, f.value if f else None,
                                             g.value if g else None, old_cell=_where(f), new_cell=_where(g)))
            continue
        if (f or g).item == "kpi":
            continue
        ov, nv = (f.value if f else None), (g.value if g else None)
        if _equal(ov, nv):
            continue
        x = g or f
        change = Change(_kind(x.item), m, kpi, x.item, x.fiscal_year, ov, nv, label=x.label,
                        department=x.department, unit=x.unit, old_cell=_where(f), new_cell=_where(g))
        if x.item in ("target", "final_target"):
            change.flag = "target-lowered" if _easier(ov, nv, x.direction) else "target-changed"
        elif x.item == "baseline":
            change.flag = "baseline-changed"
        result.changes.append(change)
    return result


def _kind(item: str) -> str:
    return {"text": "text", "target": "target", "final_target": "target", "baseline": "baseline",
            "baseline_year": "year", "target_year": "year", "unit": "unit"}.get(item, "value")


def _easier(old: Any, new: Any, direction: str) -> bool:
    if not isinstance(old, (int, float)) or not isinstance(new, (int, float)):
        return False
    return new < old if direction != "down" else new > old


def diff_books(old: str | Path, new: str | Path, layout: str = "auto", layout_file: str | None = None) -> DiffResult:
    """Read both books and compare them."""
    from xlsgen.layout import read_book
    from xlsgen.read.refuse import refuse_failed_read
    from xlsgen.roundtrip.inputs import facts

    a = refuse_failed_read(read_book(old, layout, layout_file), "比較結果")
    b = refuse_failed_read(read_book(new, layout, layout_file), "比較結果")
    if a.layout != b.layout:
        from xlsgen.errors import XlsgenError

        raise XlsgenError(f"様式が違うブックは比べられません（{a.layout_title or a.layout} と "
                          f"{b.layout_title or b.layout}）", str(new))
    return compare(facts(a), facts(b), old, new, a.fiscal_year, b.fiscal_year)


def show(v: Any, unit: str | None = None) -> str:
    if v in (None, ""):
        return "（空欄）"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = str(v).replace("\n", " ")
    if unit and isinstance(v, (int, float)):
        text += unit
    return text if len(text) <= 60 else text[:59] + "…"


def lines(result: DiffResult, limit: int | None = None) -> list[str]:
    """The diff as text, one change a line, grouped by measure."""
    out = [f"{result.old.name} → {result.new.name}: 変更 {len(result.changes)} 件"
           + "".join(f"、{KIND_JA[k]} {n}" for k, n in sorted(result.counts().items()))]
    flagged = [c for c in result.changes if c.flag]
    if flagged:
        out.append(f"監査の注意: 目標・基準値の変更 {len(flagged)} 件（うち目標の引き下げ "
                   f"{sum(c.flag == 'target-lowered' for c in flagged)} 件）")
    current = None
    shown = result.changes if limit is None else result.changes[:limit]
    for c in shown:
        if c.measure != current:
            current = c.measure
            out.append(f"■ {c.measure}")
        mark = f"【{FLAG_JA[c.flag]}】" if c.flag else ""
        where = c.new_cell or c.old_cell or ""
        if c.kind in ("kpi_added", "kpi_removed"):
            out.append(f"  {KIND_JA[c.kind]}: {c.kpi} ({where})")
        elif c.kind in ("measure_added", "measure_removed"):
            out.append(f"  {KIND_JA[c.kind]}")
        else:
            subject = f"{c.kpi} " if c.kpi else ""
            out.append(f"  {mark}{subject}{c.what}: {show(c.old, c.unit)} → {show(c.new, c.unit)} ({where})")
    if limit is not None and len(result.changes) > limit:
        out.append(f"  …ほか {len(result.changes) - limit} 件")
    return out

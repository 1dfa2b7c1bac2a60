"""Anchors and sheet roles: where a layout's required labels are in a workbook."""

from __future__ import annotations

from dataclasses import dataclass, field

from xlsgen.layout.spec import Labels, Spec, compile_labels, plain_label
from xlsgen.read.grid import Grid, squash


@dataclass
class Anchor:
    id: str
    labels: Labels
    sheets: Labels | None
    required: bool = True


@dataclass
class MatchResult:
    """Which anchors of a spec were found (sheet, cell) and which are missing."""

    spec: Spec
    found: dict[str, tuple[str, str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    per_sheet: dict[str, dict[str, str]] = field(default_factory=dict)  # sheet -> anchor -> cell
    heads: set[str] = field(default_factory=set)  # large sheets looked at by their top rows only
    too_general: list[str] = field(default_factory=list)  # "anchor on sheet: n of m cells"
    notes: list[str] = field(default_factory=list)  # local layout files left out (warnings)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.too_general

    def why(self, short: bool = False) -> str:
        """Why the layout does not read the book, as the refusal says it."""
        if self.too_general:
            return (f"の見出しがほとんどどのセルにも当てはまります（{self.too_general[0]}）。様式ファイルの"
                    f"detect にはその様式にしかない見出しを書いてください（{self.spec.path}）")
        return f"は {self.missing_text()} がありません" if short else \
            f"の見出しが見つかりません: {self.missing_text()}"

    def missing_text(self) -> str:
        labels = {a.id: a.labels.source for a in anchors(self.spec)}
        return "、".join(f"「{'／'.join(_plain(x) for x in labels[m][:2])}」" for m in self.missing)


def _plain(label: str) -> str:
    return plain_label(label)


def anchors(spec: Spec) -> list[Anchor]:
    out = []
    for i, a in enumerate(spec.get("detect") or []):
        aid = a.get("id") or f"anchor{i + 1}"
        out.append(Anchor(aid, compile_labels(a.get("labels"), a.get("match", "exact"), f"detect[{i}]"),
                          compile_labels(a["sheets"], "exact") if a.get("sheets") else None,
                          a.get("required", True)))
    return out


def sheet_selected(spec: Spec, name: str) -> bool:
    """True unless the layout's `sheets.read` does not list the sheet or `sheets.skip` does."""
    sheets = spec.get("sheets") or {}
    s = squash(name)
    if sheets.get("read") and not compile_labels(sheets["read"]).match(s):
        return False
    return not (sheets.get("skip") and compile_labels(sheets["skip"]).match(s))


def find_anchor(grid: Grid, anchor: Anchor, memo: dict | None = None) -> tuple[int, int] | None:
    """The first cell whose text is one of the anchor's labels. `memo` (text → bool) carries
    what was told of a text across the sheets of one book, whose sheets repeat their labels."""
    if anchor.sheets is not None and not anchor.sheets.match(squash(grid.name)):
        return None
    if memo is None:
        memo = {}
    for r, c, text in grid.labels():
        hit = memo.get(text)
        if hit is None:
            hit = memo[text] = anchor.labels.match(text)
        if hit:
            return r, c
    return None


GENERAL_SAMPLE = 60  # text cells of a sheet an anchor is tried on once it is found there
GENERAL_SHARE = 0.8  # an anchor matching this share of them is no anchor


def _too_general(grid: Grid, anchor: Anchor) -> str | None:
    """An anchor is a heading found in a few cells; one that matches most of a sheet's
    text cells would make any workbook pass for the layout."""
    sample = [t for _, _, t in grid.labels()[:GENERAL_SAMPLE]]
    if len(sample) < 10:
        return None
    hits = sum(1 for t in sample if anchor.labels.match(t))
    if hits >= GENERAL_SHARE * len(sample):
        return f"{anchor.id}: シート「{grid.name}」の文字のセル {len(sample)} 個のうち {hits} 個"
    return None


def match(spec: Spec, grids: list[Grid]) -> MatchResult:
    """Look for every anchor of `spec` on the selected sheets (each anchor is also checked
    once, on the first sheet it is found on, for matching nearly every cell)."""
    res = MatchResult(spec)
    anchor_list = anchors(spec)
    memos: list[dict[str, bool]] = [{} for _ in anchor_list]  # one per anchor
    for sheet in grids:
        if not sheet_selected(spec, sheet.name):
            continue  # never loaded
        grid = sheet.detection_view()  # a large sheet: its top rows
        if sheet.head_only:
            res.heads.add(sheet.name)
        here = res.per_sheet.setdefault(grid.name, {})
        for a, memo in zip(anchor_list, memos):
            pos = find_anchor(grid, a, memo)
            if pos is not None:
                here[a.id] = grid.addr(*pos)
                if a.id not in res.found:
                    res.found[a.id] = (grid.name, grid.addr(*pos))
                    general = _too_general(grid, a)
                    if general:
                        res.too_general.append(general)
    res.missing = [a.id for a in anchor_list if a.required and a.id not in res.found]
    return res


def sheet_role(spec: Spec, grid: Grid, result: MatchResult) -> dict | None:
    """The first `sheets.roles` entry the sheet fits (name pattern and anchors found on it),
    or None. A layout without roles reads every selected sheet, except a large sheet on
    whose top rows none of its anchors is (a pasted data sheet is not read)."""
    roles = (spec.get("sheets") or {}).get("roles")
    if not roles:
        if grid.name in result.heads and not result.per_sheet.get(grid.name):
            return None
        return {"role": "record"} if sheet_selected(spec, grid.name) else None
    if not sheet_selected(spec, grid.name):
        return None
    here = result.per_sheet.get(grid.name, {})
    for role in roles:
        if role.get("name") and not compile_labels(role["name"]).match(squash(grid.name)):
            continue
        when = role.get("when") or []
        when = [when] if isinstance(when, str) else when
        any_of = role.get("when_any") or []
        any_of = [any_of] if isinstance(any_of, str) else any_of
        if all(w in here for w in when) and (not any_of or any(w in here for w in any_of)):
            return role
    return None

"""How many of a workbook's facts an extract holds (issue 17: "≥ 95 % of all the facts").

Given an extract JSON (any shape) and a fact list (tests/corpus_facts/*.json, see
tests/city_corpus.py), every fact is looked for in the extract:

1. by cell: a node of the extract that names the fact's cell (a dict with `cell`, or a
   `cells` map {field: A1} whose field holds the value) on the fact's sheet (the nearest
   `sheet` above the node, or a cell written `Sheet!A1`) and holds the fact's value or text;
   its year (the node's or the nearest `fiscal_year` above it) must be the fact's, and a KPI
   value must sit under the role it has (a baseline under `baseline`, an actual under
   `actual…`);
2. by row: a node with `row` (a KPI row) and the name, on the fact's sheet and row;
3. by content, for texts: the text (or, for a long text, a text containing it) inside the
   node of its owner (the KPI, project or measure whose name the fact names), else anywhere on
   its sheet. Short texts (a grade 「B」) and numbers are only found by cell.

A fact is found, or missing with a reason: `year` (found without its fiscal year, or with
another), `role` (found under another role: a label row read as baselines), `value` (its
cell was read, to another value), `absent` (not in the extract). Also reported: the edition (the
book's `fiscal_year`) when it differs from the fact list's, nodes read from a cell that holds no fact (a label, a legend, or a cell that is neither a fact nor an input
left blank, read as a value: the reads that make silent wrong values) and none-marks read as
units.

    python tests/fact_coverage.py EXTRACT.json FACTS.json [--json] [--missing]
    python tests/fact_coverage.py --corpus [--next] [--json] [--missing]
        (writes the corpus, extracts each book with tests/layouts/corpus/<layout>.yaml, or
        <layout>.next.yaml with --next, validates it, and reports every book)
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

NONE_MARKS = {"-", "－", "—", "―", "‐", "ー", "–", "−"}
# the key a KPI value sits under (a path segment): the final target is `target`, the per-year
# targets `targets`
ROLES = {"kpi.actual": {"actuals"}, "kpi.target": {"targets"}, "kpi.final_target": {"target"},
         "kpi.baseline": {"baseline"}, "kpi.achievement": {"achievements"}, "kpi.grade": {"grades"},
         "kpi.estimate": {"estimates"},
         # survey results read as indicators of the measure (a second KPI table): their actuals
         "measure.satisfaction": {"actuals"}, "measure.importance": {"actuals"}}
SKIP_KEYS = {"cell", "cells", "sheet", "sheets", "row", "fiscal_year", "path", "layout_file", "layout"}
LONG = 12  # a text this long (normalised) is also found inside a longer text


def norm(v) -> str:
    s = unicodedata.normalize("NFKC", str(v))
    return re.sub(r"\s+", "", s)


@dataclass
class Entry:
    """One value the extract says it read from a cell (or a KPI row)."""

    sheet: str | None
    ref: str | None  # A1, or None for a row entry
    row: int | None
    values: list  # (key, scalar)
    path: str
    year: int | None
    unit: str | None = None


@dataclass
class Scope:
    """A dict of the extract with its sheet and the names it carries (for owner matching)."""

    sheet: str | None
    sheets: tuple
    names: set
    strings: list  # (path, scalar, fiscal year)
    depth: int


@dataclass
class Result:
    book: str
    total: int = 0
    found: Counter = field(default_factory=Counter)  # how: cell / row / content
    missing: Counter = field(default_factory=Counter)  # why
    by_what: dict = field(default_factory=lambda: defaultdict(Counter))
    missing_facts: list = field(default_factory=list)
    stray: list = field(default_factory=list)  # reads from cells that hold no fact
    none_units: list = field(default_factory=list)
    bad_findings: list = field(default_factory=list)
    errors: int = 0
    note: str = ""
    edition: tuple = ()  # (read, expected) fiscal year of the edition

    @property
    def n_found(self) -> int:
        return sum(self.found.values())

    @property
    def ratio(self) -> float:
        return self.n_found / self.total if self.total else 0.0

    def to_dict(self) -> dict:
        return {"book": self.book, "facts": self.total, "found": self.n_found,
                "coverage": round(self.ratio, 4), "found_by": dict(self.found),
                "missing_by": dict(self.missing),
                "by_what": {k: dict(v) for k, v in sorted(self.by_what.items())},
                "missing_facts": self.missing_facts, "stray_reads": self.stray,
                "none_mark_units": self.none_units, "false_findings": self.bad_findings,
                "errors": self.errors, "note": self.note,
                "edition": {"read": self.edition[0], "expected": self.edition[1]} if self.edition else None}


# --- walking the extract -------------------------------------------------------------------

def _scalars(v, key: str = "") -> list[tuple[str, object]]:
    """(key, scalar) pairs a node holds for matching, nested one level: a list of strings, a
    Level {no, name}, a Quantity {value, text}."""
    if v is None:
        return [(key, None)]
    if isinstance(v, (str, int, float, bool)):
        return [(key, v)]
    if isinstance(v, list):
        out = []
        for x in v:
            out.extend(_scalars(x, key) if not isinstance(x, dict) else _dict_scalars(x))
        return out
    if isinstance(v, dict):
        return _dict_scalars(v)
    return []


def _dict_scalars(d: dict) -> list[tuple[str, object]]:
    out = []
    for k, v in d.items():
        if k in SKIP_KEYS:
            continue
        if isinstance(v, (str, int, float)) and not isinstance(v, bool):
            out.append((k, v))
        elif k == "none" and v is True:
            out.append((k, True))
        elif isinstance(v, list) and all(isinstance(x, str) for x in v):
            out.extend((k, x) for x in v)
    return out


def _split_ref(ref: str, sheet: str | None) -> tuple[str | None, str]:
    if "!" in ref:
        s, r = ref.rsplit("!", 1)
        return s.strip("'"), r.replace("$", "")
    return sheet, ref.replace("$", "")


def walk(node, path: str = "", sheet=None, sheets=(), year=None, unit=None, depth=0,
         entries=None, scopes=None):
    """All Entries and Scopes of an extract."""
    entries = [] if entries is None else entries
    scopes = [] if scopes is None else scopes
    if isinstance(node, list):
        for i, x in enumerate(node):
            walk(x, f"{path}[{i}]", sheet, sheets, year, unit, depth + 1, entries, scopes)
        return entries, scopes
    if not isinstance(node, dict):
        return entries, scopes
    if isinstance(node.get("sheet"), str):
        sheet = node["sheet"]
    if isinstance(node.get("sheets"), list) and all(isinstance(s, str) for s in node["sheets"]):
        sheets = tuple(node["sheets"])
    if isinstance(node.get("fiscal_year"), int) and "layout" not in node:  # not the edition
        year = node["fiscal_year"]
    own_unit = node.get("unit") if isinstance(node.get("unit"), str) else None
    unit = own_unit or unit
    if isinstance(node.get("cell"), str) and node["cell"]:
        s, ref = _split_ref(node["cell"], sheet)
        entries.append(Entry(s, ref, None, _dict_scalars(node), path, year, own_unit))
    if isinstance(node.get("cells"), dict):
        for k, ref in node["cells"].items():
            if not isinstance(ref, str) or not re.search(r"[A-Z]+\d+", ref):
                continue
            s, r = _split_ref(ref.split(":")[0], sheet)
            extra = node.get("extra") if isinstance(node.get("extra"), dict) else {}
            here = k not in extra  # a field the layout named: its own value, not a derived one
            entries.append(Entry(s, r, None, _scalars(node.get(k) if here else extra[k], k),
                                 f"{path}.{k}" if here else f"{path}.extra.{k}", year))
    if isinstance(node.get("row"), int) and isinstance(node.get("name"), str):
        entries.append(Entry(sheet, None, node["row"], [("name", node["name"])], f"{path}.name", year))
    names = set()
    for k in ("name", "title"):
        if isinstance(node.get(k), str):
            names.add(norm(node[k]))
    for v in node.values():
        if isinstance(v, dict) and isinstance(v.get("name"), str):
            names.add(norm(v["name"]))
    strings = []
    _collect(node, path, strings, year)
    scopes.append(Scope(sheet, sheets, names, strings, depth))
    for k, v in node.items():
        if isinstance(v, (dict, list)) and k not in ("cells",):
            walk(v, f"{path}.{k}" if path else k, sheet, sheets, year, unit, depth + 1, entries, scopes)
    return entries, scopes


def _collect(node, path, out, year=None) -> None:
    """(path, scalar, fiscal year of its nearest dict) of every scalar under `node`."""
    if isinstance(node, dict):
        if isinstance(node.get("fiscal_year"), int):
            year = node["fiscal_year"]
        for k, v in node.items():
            if k not in SKIP_KEYS:
                _collect(v, f"{path}.{k}", out, year)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _collect(v, f"{path}[{i}]", out, year)
    elif isinstance(node, (str, int, float)) and not isinstance(node, bool):
        out.append((path, node, year))


# --- matching ------------------------------------------------------------------------------

def _accepted(fact: dict) -> tuple[list[float], list[str]]:
    nums, texts = [], []
    if "value" in fact:
        nums.append(float(fact["value"]))
        if fact.get("percent"):
            nums.append(float(fact["value"]) * 100)
    if "text" in fact:
        texts.append(norm(fact["text"]))
        if "value" not in fact and re.fullmatch(r"-?\d+(\.\d+)?", texts[-1]):
            nums.append(float(texts[-1]))  # a code typed 「２」 read as the number 2
    for a in fact.get("also", []):
        if isinstance(a, (int, float)):
            nums.append(float(a))
        else:
            texts.append(norm(a))
    return nums, texts


def _same(fact: dict, v, contains: bool = False) -> bool:
    nums, texts = _accepted(fact)
    if v is True:  # "none": true
        return bool(fact.get("none"))
    if isinstance(v, (int, float)):
        return any(abs(float(v) - n) <= 1e-6 * max(1.0, abs(n)) for n in nums)
    if isinstance(v, str):
        t = norm(v)
        if t in texts:
            return True
        if fact.get("none") and t in {norm(m) for m in NONE_MARKS}:
            return True
        if contains and any(len(x) >= LONG and x in t for x in texts):
            return True
        if "value" in fact and not fact.get("percent"):
            try:
                return float(t.replace(",", "")) in nums
            except ValueError:
                return False
    return False


VALUE_SEGMENTS = {"baseline", "actuals", "target", "targets", "estimates", "achievements", "grades"}


def _segments(path: str) -> set[str]:
    return {re.sub(r"\[\d+\]", "", p) for p in path.split(".")}


def _role_ok(fact: dict, path: str) -> bool:
    """A KPI value under its own role; any other fact (a text, a note, a year) not under a
    KPI value's role (a text column read as actuals is a misread, not a read)."""
    words = ROLES.get(fact["what"])
    if words:
        return bool(_segments(path) & words)
    return not (_segments(path) & VALUE_SEGMENTS)


def _key_ok(fact: dict, key: str) -> bool:
    """A level's number is not its name, and its name not its number (「Ⅰ」 read as the name
    「I」 is not the number read)."""
    if fact["what"] == "level.code":
        return key != "name"
    if fact["what"] == "level.name":
        return key not in ("no", "code")
    return True


def _on_sheet(fact: dict, sheet, sheets=()) -> bool:
    return sheet == fact["sheet"] or fact["sheet"] in sheets


def check(extract: dict, facts: dict) -> Result:
    """Every fact of `facts` looked for in `extract`."""
    entries, scopes = walk(extract)
    res = Result(facts.get("book", "?"), total=len(facts["facts"]))
    by_cell = defaultdict(list)
    by_row = defaultdict(list)
    for e in entries:
        if e.ref:
            by_cell[(e.sheet, e.ref)].append(e)
        elif e.row:
            by_row[(e.sheet, e.row)].append(e)
    sheets_of = defaultdict(list)
    for sc in scopes:
        sheets_of[sc.sheet].append(sc)
    for fact in facts["facts"]:
        how, why = _find(fact, by_cell, by_row, scopes)
        res.by_what[fact["what"]]["facts"] += 1
        if how:
            res.found[how] += 1
            res.by_what[fact["what"]]["found"] += 1
        else:
            res.missing[why] += 1
            res.by_what[fact["what"]][why] += 1
            res.missing_facts.append({**{k: fact[k] for k in ("sheet", "cell", "what") if k in fact},
                                      "text": fact.get("text"), "why": why,
                                      **({"fiscal_year": fact["fiscal_year"]} if "fiscal_year" in fact else {})})
    fact_cells = {(f["sheet"], f["cell"]) for f in facts["facts"]}
    other_cells = {(f["sheet"], f["cell"]) for f in facts.get("not_facts", [])}
    blank_cells = {(f["sheet"], f["cell"]) for f in facts.get("blanks", [])}
    for e in entries:
        if not e.ref or (e.sheet, e.ref) in fact_cells | blank_cells:
            continue
        vals = [v for _, v in e.values if v not in (None, "", True, False)]
        as_value = bool(_segments(e.path) & VALUE_SEGMENTS) and (e.sheet, e.ref) not in other_cells
        if vals or as_value:
            res.stray.append({"sheet": e.sheet, "cell": e.ref, "path": e.path,
                              "read": (vals[0] if len(vals) == 1 else vals[:3]) if vals else None,
                              "holds": "a cell that is not a fact" if (e.sheet, e.ref) in other_cells
                              else "a label, or no value"})
        if e.unit and e.unit.strip() in NONE_MARKS:
            res.none_units.append({"sheet": e.sheet, "cell": e.ref, "path": e.path, "unit": e.unit})
    for e in entries:
        if e.ref and (e.sheet, e.ref) in fact_cells and e.unit and e.unit.strip() in NONE_MARKS:
            res.none_units.append({"sheet": e.sheet, "cell": e.ref, "path": e.path, "unit": e.unit})
    if "fiscal_year" in facts and isinstance(extract, dict) and "fiscal_year" in extract:
        res.edition = (extract["fiscal_year"], facts["fiscal_year"])
    due = set(facts.get("findings_due", []))
    for f in extract.get("findings", []) if isinstance(extract, dict) else []:
        if f.get("code") not in due:
            res.bad_findings.append(f)
    return res


RANK = {"absent": 0, "value": 1, "role": 2, "year": 3}  # the closest miss is reported


def _find(fact, by_cell, by_row, scopes) -> tuple[str | None, str]:
    why = "absent"

    def miss(reason):
        return reason if RANK[reason] > RANK[why] else why

    for e in by_cell.get((fact["sheet"], fact["cell"]), []):
        nothing = fact.get("none") and all(v is None for _, v in e.values)
        if not nothing and not any(_same(fact, v, contains=True) and _key_ok(fact, k)
                                   for k, v in e.values):
            why = miss("value")
            continue
        if not _role_ok(fact, e.path):
            why = miss("role")
            continue
        if "fiscal_year" in fact and e.year != fact["fiscal_year"]:
            why = miss("year")
            continue
        return "cell", ""
    if why == "absent" and fact["what"].endswith(".name"):
        row = int(re.sub(r"\D", "", fact["cell"]))
        for e in by_row.get((fact["sheet"], row), []):
            if any(_same(fact, v) for _, v in e.values):
                return "row", ""
    texts = _accepted(fact)[1]
    content = "value" not in fact and any(len(t) >= 4 for t in texts) and not fact.get("none")
    short = fact["what"].startswith(("kpi.", "project.")) and bool(fact.get("owner"))
    if fact.get("what", "").endswith(("_year", ".unit", ".direction")) and fact.get("owner"):
        content = True  # an attribute of its KPI: found by its value inside the KPI
    if why in ("absent", "year") and (content or short):
        owner = norm(fact["owner"]) if fact.get("owner") else None
        pool = [sc for sc in scopes if _on_sheet(fact, sc.sheet, sc.sheets)]
        owned = [sc for sc in pool if owner and any(owner in n for n in sc.names)]
        if owned:
            depth = max(sc.depth for sc in owned)
            pool = [sc for sc in owned if sc.depth == depth]
        elif not content:
            return None, why  # a short text: only inside its owner
        for sc in pool:
            for path, v, year in sc.strings:
                if fact.get("fiscal_year") and year != fact["fiscal_year"]:
                    why = miss("year") if _same(fact, v, contains=True) else why
                    continue
                numeric = "value" in fact or isinstance(v, (int, float))
                if _same(fact, v, contains=True) and (not numeric or
                                                      path.endswith(fact["what"].split(".")[-1])):
                    if not _role_ok(fact, path):
                        why = miss("role")
                        continue
                    return "content", ""
    return None, why


# --- reports -------------------------------------------------------------------------------

def report(res: Result, missing: bool = False) -> str:
    lines = [f"{res.book}: {res.n_found}/{res.total} facts read ({res.ratio:.1%})"
             + (f"  [{res.note}]" if res.note else "")]
    if res.edition and res.edition[0] != res.edition[1]:
        lines.append(f"  edition read as {res.edition[0]}, the book is {res.edition[1]}'s")
    if res.found:
        lines.append("  found by " + ", ".join(f"{k} {v}" for k, v in res.found.most_common()))
    if res.missing:
        lines.append("  missing: " + ", ".join(f"{k} {v}" for k, v in res.missing.most_common()))
    lines.append(f"  {'what':28} {'read':>9}  missing (why)")
    for what, c in sorted(res.by_what.items()):
        whys = ", ".join(f"{k} {v}" for k, v in c.items() if k not in ("facts", "found"))
        lines.append(f"  {what:28} {c['found']:>4}/{c['facts']:<4}  {whys}")
    if res.stray:
        lines.append(f"  read from cells that hold no fact: {len(res.stray)}")
        for s in res.stray[:8]:
            lines.append(f"    {s['sheet']}!{s['cell']} → {s['path']} = {s['read']!r} ({s['holds']})")
    if res.none_units:
        lines.append(f"  none-marks read as units: {len(res.none_units)} (e.g. "
                     f"{res.none_units[0]['sheet']}!{res.none_units[0]['cell']} {res.none_units[0]['path']})")
    if res.bad_findings:
        codes = Counter(f.get("code") for f in res.bad_findings)
        lines.append("  false findings on this valid book: " + ", ".join(f"{c} ×{n}" for c, n in codes.items()))
        seen = set()
        for f in res.bad_findings:
            if f.get("code") not in seen:
                seen.add(f.get("code"))
                lines.append(f"    {f.get('code')} {f.get('sheet')}!{f.get('cell')}: {f.get('message', '')[:90]}")
    if missing:
        for m in res.missing_facts:
            lines.append(f"    ✗ {m['sheet']}!{m['cell']} {m['what']} {m.get('text')!r} ({m['why']})")
    return "\n".join(lines)


def run_corpus(next_syntax: bool = False, out: Path | None = None) -> list[Result]:
    """Write the corpus, extract and validate each book with its layout, check its facts."""
    import tempfile

    from click.testing import CliRunner

    here = Path(__file__).resolve().parent
    for p in (str(here), str(here.parent)):
        if p not in sys.path:
            sys.path.insert(0, p)
    from city_corpus import LAYOUTS_DIR, write_corpus

    from xlsgen.cli import cli

    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory()
        out = Path(tmp.name)
    results = []
    runner = CliRunner()
    for name, facts in write_corpus(out).items():
        layout = LAYOUTS_DIR / (facts["layout"] + (".next.yaml" if next_syntax else ".yaml"))
        r = runner.invoke(cli, ["extract", str(out / name), "--layout-file", str(layout)])
        try:
            extract = json.loads(r.output)
        except json.JSONDecodeError:
            res = Result(name, total=len(facts["facts"]))
            res.note = "extract failed: " + r.output.strip().splitlines()[-1][:120] if r.output.strip() else "extract failed"
            for f in facts["facts"]:
                res.missing["absent"] += 1
                res.by_what[f["what"]]["facts"] += 1
                res.by_what[f["what"]]["absent"] += 1
            results.append(res)
            continue
        res = check(extract, facts)
        v = runner.invoke(cli, ["validate", str(out / name), "--layout-file", str(layout), "--format", "json"])
        try:
            findings = [f for file in json.loads(v.output)["files"] for f in file["findings"]]
        except (json.JSONDecodeError, KeyError):
            findings = []
        res.errors = sum(1 for f in findings if f.get("severity") == "error")
        due = set(facts.get("findings_due", []))
        res.bad_findings = [f for f in findings if f.get("code") not in due]
        if res.errors:
            codes = Counter(f["code"] for f in findings if f.get("severity") == "error")
            res.note = "validate errors: " + ", ".join(f"{c} ×{n}" for c, n in codes.items())
        results.append(res)
    if tmp:
        tmp.cleanup()
    return results


def main(argv: list[str]) -> int:
    as_json = "--json" in argv
    missing = "--missing" in argv
    args = [a for a in argv if not a.startswith("--")]
    if "--corpus" in argv:
        results = run_corpus("--next" in argv, Path(args[0]) if args else None)
    elif len(args) == 2:
        extract = json.loads(Path(args[0]).read_text(encoding="utf-8"))
        facts = json.loads(Path(args[1]).read_text(encoding="utf-8"))
        results = [check(extract, facts)]
    else:
        print(__doc__)
        return 2
    if as_json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=1))
    else:
        for r in results:
            print(report(r, missing))
            print()
        total = sum(r.total for r in results)
        found = sum(r.n_found for r in results)
        if len(results) > 1:
            print(f"all: {found}/{total} facts read ({found / total:.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The city corpus of issue 17 (tests/city_corpus.py) and its fact-coverage checker
(tests/fact_coverage.py).

The workbooks give the pinned facts; every fact is in its cell; every cached formula result
is what LibreOffice computes; book f is written as Excel writes an empty cell before a
formula whose result is "". The checker finds facts by cell, row and content, and says why a
fact is missing (year, role, value, absent). The phase-two bar ("≥ 95 % of all facts, no
false finding" with tests/layouts/corpus/*.next.yaml) is an expected failure until the
schema additions of docs/schema-additions-draft.md are implemented.
"""

import json
import re
import zipfile
from collections import Counter, defaultdict

import pytest
from city_corpus import BOOKS, LAYOUTS_DIR, cell_problems, dump, facts_file, write_corpus
from fact_coverage import check, run_corpus

from xlsgen.layout import load_spec


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("city_corpus")
    return d, write_corpus(d)


def test_the_generator_gives_the_pinned_facts(corpus):
    _, facts = corpus
    assert sorted(facts) == sorted(BOOKS)
    for name, f in facts.items():
        assert dump(f) == facts_file(name).read_text(encoding="utf-8"), \
            f"{name}: facts changed; run `python tests/city_corpus.py --pin` if meant"


def test_every_fact_is_in_its_cell(corpus):
    d, facts = corpus
    for name, f in facts.items():
        assert cell_problems(d / name, f) == [], name


def test_the_corpus_holds_every_kind_of_fact_the_issue_names(corpus):
    _, facts = corpus
    whats = Counter(f["what"] for book in facts.values() for f in book["facts"])
    assert sum(whats.values()) >= 1000
    for what in ("project.amount", "project.department", "project.content", "cost.project_cost",
                 "cost.national", "cost.general", "cost.staff", "cost.personnel", "cost.total",
                 "cost.unit_cost", "kpi.text", "kpi.note", "kpi.department", "evaluation",
                 "measure.policy", "level.code", "kpi.achievement", "kpi.grade"):
        assert whats[what] >= 3, what
    # 千円 and 円 cost blocks, qualitative KPIs, none-marks in unit cells, 和暦 forms
    units = {f.get("unit") for b in facts.values() for f in b["facts"] if f["what"].startswith("cost.")}
    assert {"千円", "円"} <= units
    texts = {f.get("text") for b in facts.values() for f in b["facts"]}
    assert {"完了", "未着手", "Ⅰ", "1-(1)", "（１）"} <= texts
    assert any(f["what"] == "kpi.unit" and f.get("none") for b in facts.values() for f in b["facts"])


def test_cached_formula_results_are_what_libreoffice_computes(corpus, recalc):
    d, facts = corpus
    formulas = 0
    for name, f in facts.items():
        formulas += sum(1 for x in f["facts"] if "formula" in x)
        assert cell_problems(d / name, f, values_only_from=recalc(d / name)) == [], name
    assert formulas >= 100


def test_book_f_has_empty_cells_before_formulas_cached_as_empty_strings(corpus):
    d, _ = corpus
    with zipfile.ZipFile(d / "f_施策進捗状況調書_R4.xlsx") as zf:
        xml = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    for r in range(18, 23):
        assert re.search(rf'<c r="C{r}" s="\d+"/><c r="D{r}" s="\d+" t="str"><f>IF\(C{r}="",'
                         rf'"",[^<]*\)</f><v></v></c>', xml), r


def test_todays_layout_files_load_and_the_next_ones_are_yaml():
    for name in {f["layout"] for f in map(lambda b: json.loads(facts_file(b).read_text("utf-8")), BOOKS)}:
        assert load_spec(LAYOUTS_DIR / f"{name}.yaml").name == name
        import yaml

        assert yaml.safe_load((LAYOUTS_DIR / f"{name}.next.yaml").read_text("utf-8"))["name"] == name


# --- the checker --------------------------------------------------------------------------

FACTS = {"book": "t.xlsx", "facts": [
    {"sheet": "S", "cell": "A5", "what": "kpi.name", "text": "利用者数", "owner": "利用者数"},
    {"sheet": "S", "cell": "B5", "what": "kpi.baseline", "value": 0.5, "percent": True, "text": "50.0%",
     "fiscal_year": 2018, "owner": "利用者数"},
    {"sheet": "S", "cell": "C5", "what": "kpi.actual", "value": 12, "text": "12", "fiscal_year": 2020,
     "owner": "利用者数"},
    {"sheet": "S", "cell": "D5", "what": "kpi.actual", "value": 15, "text": "15", "fiscal_year": 2021,
     "owner": "利用者数"},
    {"sheet": "S", "cell": "E5", "what": "kpi.text", "text": "コロナ禍で利用者が減少した。", "fiscal_year": 2021,
     "owner": "利用者数"},
    {"sheet": "S", "cell": "F5", "what": "kpi.unit", "text": "人", "owner": "利用者数"},
    {"sheet": "S", "cell": "A9", "what": "text", "text": "窓口をオンライン化した。", "department": "企画課",
     "part_of": "【企画課】\n窓口をオンライン化した。"},
    {"sheet": "S", "cell": "G5", "what": "kpi.final_target", "value": 20, "text": "20", "fiscal_year": 2024,
     "owner": "利用者数"},
], "not_facts": [], "blanks": [{"sheet": "S", "cell": "H5"}], "findings_due": []}


def _extract(**change):
    kpi = {"name": "利用者数", "row": 5, "unit": "人",
           "baseline": {"value": 50, "unit": "%", "text": "50.0%", "cell": "B5", "fiscal_year": 2018},
           "actuals": [{"fiscal_year": 2020, "value": 12, "text": "12", "cell": "C5"},
                       {"fiscal_year": None, "value": 15, "text": "15", "cell": "D5"},
                       {"fiscal_year": 2021, "value": None, "text": "コロナ禍で利用者が減少した。", "cell": "E5"},
                       {"fiscal_year": 2022, "value": None, "text": None, "cell": "H5"}],
           "target": {"fiscal_year": 2024, "value": 20, "text": "20", "cell": "G5"}}
    kpi.update(change)
    return {"layout": "t", "fiscal_year": 2022, "findings": [],
            "sheets": [{"sheet": "S", "kpis": [kpi],
                        "check_analysis": [{"department": "企画課", "text": "窓口をオンライン化した。"}]}]}


def test_checker_finds_by_cell_row_and_content_and_says_why_a_fact_is_missing():
    res = check(_extract(), FACTS)
    assert res.total == 8
    # by cell: baseline (a percent read as points), the 2020 actual, the final target; by row:
    # the name; by content: the unit inside its KPI, the department text without a cell
    assert res.found == Counter({"cell": 3, "row": 1, "content": 2})
    # the 2021 actual lost its year; the text was read as an actual (a misread, not a read)
    assert res.missing == Counter({"year": 1, "role": 1})
    assert {(m["cell"], m["why"]) for m in res.missing_facts} == {("D5", "year"), ("E5", "role")}
    assert res.stray == []  # H5 is an input left blank: reading it is no wrong value


def test_checker_reports_labels_read_as_values_none_mark_units_and_false_findings():
    ex = _extract(target={"fiscal_year": 2024, "value": 20, "text": "20", "cell": "G5"},
                  grades=[{"fiscal_year": 2020, "text": "評価基準", "cell": "A15"}],
                  baseline={"value": None, "text": None, "cell": "H13", "fiscal_year": 2020, "unit": "－"})
    ex["findings"] = [{"code": "cumulative-falls", "severity": "warning", "sheet": "S", "cell": "C5"}]
    res = check(ex, FACTS)
    assert {(s["cell"], s["path"].split(".")[-1]) for s in res.stray} == {("A15", "grades[0]"),
                                                                         ("H13", "baseline")}
    assert [u["cell"] for u in res.none_units] == ["H13"]
    assert [f["code"] for f in res.bad_findings] == ["cumulative-falls"]
    assert ("B5", "absent") in {(m["cell"], m["why"]) for m in res.missing_facts}


def test_checker_requires_the_final_target_apart_from_per_year_targets():
    ex = _extract(target={"fiscal_year": None, "value": None, "cell": None},
                  targets=[{"fiscal_year": 2024, "value": 20, "text": "20", "cell": "G5"}])
    res = check(ex, FACTS)
    assert ("G5", "role") in {(m["cell"], m["why"]) for m in res.missing_facts}


def model_extract(facts: dict) -> dict:
    """The JSON a reader that reads every fact would write, in the one model's shape
    (DESIGN.md: measures with levels, texts, evaluations, projects with amounts, a cost
    block with lines, KPIs with cells, per-year texts and notes)."""
    measures: dict = {}
    for f in facts["facts"]:
        m = measures.setdefault(f["sheet"], {"sheet": f["sheet"], "sheets": [f["sheet"]], "cells": {},
                                             "levels": [], "texts": [], "evaluations": [],
                                             "projects": {}, "kpis": {}, "cost": None})
        what, cell = f["what"], f["cell"]
        q = {"value": f.get("value"), "text": f.get("text"), "cell": cell,
             "fiscal_year": f.get("fiscal_year"), **({"none": True} if f.get("none") else {})}
        part = what.split(".")[-1]
        if what.startswith("kpi."):
            k = m["kpis"].setdefault(f["owner"], {"name": f["owner"], "cells": {}, "baseline": None,
                                                  "target": None, "actuals": [], "targets": [],
                                                  "achievements": [], "grades": [], "texts": []})
            lists = {"actual": "actuals", "target": "targets", "achievement": "achievements",
                     "grade": "grades"}
            if part in lists:
                k[lists[part]].append(q)
            elif part in ("baseline", "final_target"):
                k["baseline" if part == "baseline" else "target"] = q
            elif part == "text":
                k["texts"].append({"key": f.get("key"), "role": f.get("role"), **q})
            else:
                k[part] = f["text"] if "text" in f else f["value"]
                k["cells"][part] = cell
        elif what.startswith("level."):
            lv = next((x for x in m["levels"] if x["key"] == f["key"] and part not in x), None)
            if lv is None:
                lv = {"key": f["key"], "cells": {}}
                m["levels"].append(lv)
            lv[part] = f["text"]
            lv["cells"][part] = cell
        elif what.startswith("project."):
            if part == "unit":
                m["cells"]["project_unit"], m["project_unit"] = cell, f["text"]
                continue
            p = m["projects"].setdefault(f["owner"], {"cells": {}, "amounts": []})
            if part == "amount":
                p["amounts"].append({"fiscal_year": f["fiscal_year"], "kind": f["kind"],
                                     "value": {**q, "unit": f["unit"]}})
            else:
                p[part] = f["text"]
                p["cells"][part] = cell
        elif what.startswith("cost."):
            c = m["cost"] = m["cost"] or {"unit": None, "cells": {}, "lines": {}}
            if part == "unit":
                c["unit"], c["cells"]["unit"] = f["text"], cell
            else:
                c["lines"].setdefault(part, {"key": part, "values": []})["values"].append(
                    {**q, "unit": f.get("unit")})
        elif what in ("evaluation", "evaluation.reason"):
            (m["evaluations"] if what == "evaluation" else m["texts"]).append(
                {"key": f.get("key"), **({"value": f["text"]} if what == "evaluation" else {"text": f["text"]}),
                 "cell": cell})
        elif what == "text":
            m["texts"].append({"key": f.get("key"), "role": f.get("role"), "department": f.get("department"),
                               **q})
        else:  # measure fields, title, edition; a field found in two cells is two fields
            value = f["text"] if "text" in f else f["value"]
            key = part
            while m["cells"].get(key, cell) != cell:
                key += "_"
            old = m.get(key)
            m[key] = value if old is None else ([*old, value] if isinstance(old, list) else [old, value])
            m["cells"][key] = cell
    for m in measures.values():
        m["kpis"] = list(m["kpis"].values())
        m["projects"] = list(m["projects"].values())
        if m["cost"]:
            m["cost"]["lines"] = list(m["cost"]["lines"].values())
    return {"schema_version": "2.0", "layout": facts["layout"], "fiscal_year": facts["fiscal_year"],
            "measures": list(measures.values()), "findings": []}


def test_an_extract_in_the_one_models_shape_that_holds_every_fact_scores_100_percent(corpus):
    """The bar is reachable: the checker understands the one model's shape (levels with
    codes, cost lines, project amounts, per-year texts, notes, cells maps)."""
    _, facts = corpus
    for name, f in facts.items():
        res = check(model_extract(f), f)
        assert res.missing_facts == [] and res.n_found == res.total, name
        assert res.stray == [], name


# --- the phase-two bar ("Done when" of issue 17) -------------------------------------------

def test_phase_two_reads_95_percent_of_every_book_with_no_false_finding():
    results = run_corpus(next_syntax=True)
    assert sum(r.n_found for r in results) / sum(r.total for r in results) >= 0.95
    for r in results:
        assert r.ratio >= 0.95, (r.book, r.ratio, r.note)
        assert r.bad_findings == [], (r.book, Counter(f["code"] for f in r.bad_findings))
        assert r.none_units == [], r.book
        assert r.edition[0] == r.edition[1], r.book


def test_phase_two_reads_95_percent_of_every_book_but_for_the_cell_scanner():
    """The bar above, without what only the one package cell scanner fixes (book f's false
    uncalculated-formula, the test below): every book ≥ 95 %, no other false finding."""
    results = run_corpus(next_syntax=True)
    assert sum(r.n_found for r in results) / sum(r.total for r in results) >= 0.95
    for r in results:
        assert r.ratio >= 0.95, (r.book, r.ratio, r.note)
        others = [f for f in r.bad_findings if f["code"] != "uncalculated-formula"]
        assert others == [], (r.book, Counter(f["code"] for f in others))
        assert r.none_units == [], r.book
        assert r.edition[0] == r.edition[1], r.book


def test_validate_gives_no_false_finding_on_book_f_with_todays_layout():
    results = {r.book: r for r in run_corpus(next_syntax=False)}
    f = results["f_施策進捗状況調書_R4.xlsx"]
    assert f.errors == 0 and f.bad_findings == []


def test_todays_coverage_is_measured_for_every_book():
    """Today's layout files (docs/layouts.md alone) read every book without a crash and the
    checker accounts for every fact, found or missing with a reason."""
    results = run_corpus(next_syntax=False)
    assert len(results) == len(BOOKS)
    by_why = defaultdict(int)
    for r in results:
        assert r.n_found + sum(r.missing.values()) == r.total > 0
        assert not r.note.startswith("extract failed"), (r.book, r.note)
        for why, n in r.missing.items():
            by_why[why] += n
    assert set(by_why) <= {"absent", "value", "role", "year"}


def test_every_corpus_book_is_refused_by_every_layout_not_its_own(corpus):
    """The wrong-layout matrix over the corpus, today's corpus layouts and the shipped ones:
    a layout reads only its own book, and the shipped books are refused by the corpus layouts."""
    from click.testing import CliRunner
    from conftest import JOSO, NISHITOKYO, OJIYA

    from xlsgen.cli import cli
    from xlsgen.layout import builtin_dir

    d, facts = corpus
    own = {d / name: f["layout"] for name, f in facts.items()}
    own.update({OJIYA: "ojiya", JOSO: "joso", NISHITOKYO: "nishitokyo"})
    specs = sorted(p for p in LAYOUTS_DIR.glob("*.yaml") if not p.name.endswith(".next.yaml"))
    specs += sorted(builtin_dir().glob("*.yaml"))
    runner = CliRunner()
    for book, name in own.items():
        for spec in specs:
            if load_spec(spec).name == name:
                continue
            if spec.parent != LAYOUTS_DIR and book.parent != d:
                continue  # shipped books × shipped layouts: test_layout_variants
            r = runner.invoke(cli, ["extract", str(book), "--layout-file", str(spec)])
            assert r.exit_code == 1, (book.name, spec.name, r.output[:200])
            assert "Traceback" not in r.output
